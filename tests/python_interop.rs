//! Interop with upstream's own Python packages over the real Redis (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`): events that `edx-event-bus-redis`'s producer writes are dispatched
//! by our `RedisConsumer` with exactly the data and metadata Python sent, and events our
//! `RedisProducer` writes are consumed by upstream's `RedisEventConsumer` with exactly ours.
//!
//! The Python side is in `python_interop/` (see its `README.md`). The interpreter is
//! `OPENEDX_EVENTS_PYTHON`, by default the repository's virtual environment `target/venv`, which
//! `bash .ci/setup` makes with the pinned packages. Without it, its packages or Redis, these
//! tests fail and say how to set them up.
//!
//! Here too: the contract that the catalog's tests read (`catalog/upstream/catalog.json`) is what
//! the installed upstream package gives.
#![allow(missing_docs, reason = "test helpers need no docs")]

use std::any::Any;
use std::collections::BTreeMap;

use std::path::PathBuf;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use openedx_events::event_bus::{FIELD_NAMES, ProducerConfig, message_fields, parse_message_fields, start_producing};
use openedx_events::keys::{CourseKey, UsageKey};
use openedx_events::{AnySignal, EventData, EventField, EventsMetadata, OpenEdxPublicSignal, ReceiverId};
use openedx_events_catalog::content_authoring::data::{CourseCatalogData, CourseScheduleData, XBlockData};
use openedx_events_catalog::content_authoring::signals::{
    COURSE_CATALOG_INFO_CHANGED, CourseCatalogInfoChanged, XBLOCK_PUBLISHED, XblockPublished,
};
use openedx_events_catalog::learning::data::{
    CourseData, CourseDiscussionConfigurationData, CourseEnrollmentData, CourseNotificationData, DiscussionThreadData,
    DiscussionTopicContext, PersistentCourseGradeData, UserData, UserPersonalData,
};
use openedx_events_catalog::learning::signals::{
    COURSE_DISCUSSIONS_CHANGED, COURSE_ENROLLMENT_CREATED, COURSE_NOTIFICATION_REQUESTED, CourseDiscussionsChanged,
    CourseEnrollmentCreated, CourseNotificationRequested, FORUM_THREAD_CREATED, ForumThreadCreated,
    PERSISTENT_GRADE_SUMMARY_CHANGED, PersistentGradeSummaryChanged,
};
use openedx_events_redis::{RedisConsumer, RedisProducer, RedisSettings, StartFrom, dead_letters};
use openedx_events_test_support::python::python;
use openedx_events_test_support::{RedisScratch, redis_url};
use serde_json::{Value, json};
use uuid::Uuid;

/// The scripts of this suite.
fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python_interop")
}

/// Runs a script of `python_interop/` and returns the JSON lines it printed.
fn run(script: &str, args: &[&str]) -> Vec<Value> {
    let python = python();
    python.require(&["walrus", "edx-event-bus-redis"]);
    python.run_json_lines(&scripts_dir().join(script), &scripts_dir(), args)
}

/// Settings for a test's own corner of Redis.
fn settings(scratch: &RedisScratch) -> RedisSettings {
    let mut settings = RedisSettings::default().with_url(redis_url()).with_topic_prefix(scratch.prefix());
    settings.poll_timeout = Duration::from_millis(200);
    settings.retry.backoff = Duration::from_millis(1);
    settings
}

/// An event a receiver of this process got.
struct Received {
    metadata: EventsMetadata,
    data: Value,
    payload: Arc<dyn Any + Send + Sync>,
}

/// Receivers on catalog signals that keep what they get: only events from the bus, or only
/// events sent here (the two tests run at once, in one process, on the same signals).
struct Capture {
    from_event_bus: bool,
    events: Arc<Mutex<Vec<Received>>>,
    connections: Vec<(&'static dyn AnySignal, ReceiverId)>,
}

impl Capture {
    fn new(from_event_bus: bool) -> Capture {
        Capture { from_event_bus, events: Arc::default(), connections: Vec::new() }
    }

    fn on<E: EventData + Clone + Send + Sync>(mut self, signal: &'static OpenEdxPublicSignal<E>) -> Capture {
        let (events, from_event_bus) = (Arc::clone(&self.events), self.from_event_bus);
        let id = signal.connect("python_interop::capture", move |data: &E, metadata: &EventsMetadata| {
            if metadata.from_event_bus() == from_event_bus {
                let received =
                    Received { metadata: metadata.clone(), data: data.to_json(), payload: Arc::new(data.clone()) };
                events.lock().unwrap_or_else(PoisonError::into_inner).push(received);
            }
        });
        self.connections.push((signal, id));
        self
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        for (signal, id) in self.connections.drain(..) {
            signal.disconnect(id);
        }
    }
}

fn text<'a>(line: &'a Value, key: &str) -> &'a str {
    line[key].as_str().unwrap_or_else(|| panic!("no string `{key}` in {line}"))
}

fn assert_json_eq(got: &Value, expected: &Value, what: &str) {
    // Objects compare without regard to key order: Python sorts keys, we keep field order.
    assert!(
        got == expected,
        "{what} differs\n--- got\n{}\n--- expected\n{}",
        serde_json::to_string_pretty(got).unwrap_or_default(),
        serde_json::to_string_pretty(expected).unwrap_or_default()
    );
}

/// The topics of the lines, in order of first appearance, with how many lines each has.
fn topics(lines: &[Value]) -> Vec<(String, usize)> {
    let mut topics: Vec<(String, usize)> = Vec::new();
    for line in lines {
        let topic = text(line, "topic");
        match topics.iter_mut().find(|(t, _)| t == topic) {
            Some((_, count)) => *count += 1,
            None => topics.push((topic.to_owned(), 1)),
        }
    }
    topics
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap() + chrono::Duration::microseconds(i64::from(micros))
}

#[test]
fn events_from_the_python_producer_are_dispatched_by_our_consumer() {
    let mut scratch = RedisScratch::new("py-to-rust");
    let settings = settings(&scratch);
    let capture = Capture::new(true)
        .on(&COURSE_ENROLLMENT_CREATED)
        .on(&COURSE_DISCUSSIONS_CHANGED)
        .on(&PERSISTENT_GRADE_SUMMARY_CHANGED)
        .on(&COURSE_NOTIFICATION_REQUESTED)
        .on(&FORUM_THREAD_CREATED)
        .on(&XBLOCK_PUBLISHED)
        .on(&COURSE_CATALOG_INFO_CHANGED);

    let sent = run("python_producer.py", &["--redis-url", &redis_url(), "--topic-prefix", scratch.prefix()]);
    let event_types: std::collections::BTreeSet<&str> = sent.iter().map(|line| text(line, "event_type")).collect();
    assert!(sent.len() >= 8 && event_types.len() >= 6, "the producer sent too little: {sent:?}");

    for (topic, count) in topics(&sent) {
        // On the wire: upstream's eight fields in our order, and our writer reproduces each
        // entry byte for byte from what our reader made of it.
        let entries: Vec<(String, Vec<Vec<u8>>)> =
            redis::cmd("XRANGE").arg(scratch.stream(&topic)).arg("-").arg("+").query(scratch.connection()).unwrap();
        assert_eq!(entries.len(), count, "{topic}");
        for (id, flat) in entries {
            let fields: Vec<(Vec<u8>, Vec<u8>)> =
                flat.chunks_exact(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect();
            let names: Vec<String> =
                fields.iter().map(|(name, _)| String::from_utf8_lossy(name).into_owned()).collect();
            assert_eq!(names, FIELD_NAMES, "fields of entry {id}");
            let (metadata, event_data) = parse_message_fields(&fields).unwrap();
            let written: Vec<(Vec<u8>, Vec<u8>)> = message_fields(&metadata, event_data)
                .iter()
                .map(|(name, value)| (name.as_bytes().to_vec(), value.to_vec()))
                .collect();
            assert_eq!(written, fields, "entry {id} as we would write it");
        }

        let mut consumer = RedisConsumer::builder(settings.clone())
            .topic(&topic)
            .group("rust-interop")
            .consumer_name("rust-1")
            .start(StartFrom::Beginning)
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut handled = 0;
        while handled < count {
            assert!(Instant::now() < deadline, "{topic}: handled {handled} of {count} messages");
            handled += consumer.poll().unwrap();
        }
        let letters = dead_letters(&settings, &topic).unwrap();
        let errors: Vec<&str> = letters.iter().map(|letter| letter.error.as_str()).collect();
        assert!(errors.is_empty(), "{topic}: messages were dead-lettered: {errors:#?}");
        assert_eq!(consumer.stats().delivered, count as u64, "{topic}");
    }

    let received = capture.take();
    assert_eq!(received.len(), sent.len(), "the receivers got {} of {} events", received.len(), sent.len());
    let mut by_id: BTreeMap<Uuid, Received> = received.into_iter().map(|r| (r.metadata.id, r)).collect();
    let mut payloads = Vec::new();
    for line in &sent {
        let metadata_json = text(line, "metadata_json");
        let expected = EventsMetadata::from_json(metadata_json).unwrap();
        let event_type = text(line, "event_type");
        let got = by_id.remove(&expected.id).unwrap_or_else(|| panic!("no {event_type} with id {}", expected.id));
        assert_eq!(got.metadata.event_type, event_type);
        // Byte for byte what Python's `EventsMetadata.to_json()` wrote.
        assert_eq!(got.metadata.to_json(), metadata_json, "metadata of {event_type}");
        assert_eq!(got.metadata, expected);
        assert!(got.metadata.from_event_bus(), "{event_type} was not marked as coming from the bus");
        assert_eq!(got.metadata.source, "openedx/python-lms/web");
        assert_eq!(&*got.metadata.sourcelib, python().openedx_events_version());
        assert_json_eq(&got.data, &line["data"], &format!("data of {event_type} {}", expected.id));
        payloads.push(got.payload);
    }

    // The typed payloads themselves, beyond their JSON forms.
    let enrollment = payloads
        .iter()
        .filter_map(|payload| payload.downcast_ref::<CourseEnrollmentCreated>())
        .find(|event| event.enrollment.created_by.is_some())
        .expect("an enrollment with `created_by`");
    let enrollment = &enrollment.enrollment;
    assert_eq!(enrollment.creation_date, utc(2024, 2, 1, 8, 0, 0, 123_456));
    assert_eq!(enrollment.course.end, Some(utc(2024, 6, 30, 23, 59, 59, 999_999)));
    assert_eq!(enrollment.course.course_key, course_key());
    assert_eq!(enrollment.user.pii.name, "Zoë Çelik 日本");
    assert_eq!(enrollment.created_by.as_ref().map(|user| user.id), Some(9_007_199_254_740_993));
    let grade = payloads
        .iter()
        .find_map(|payload| payload.downcast_ref::<PersistentGradeSummaryChanged>())
        .expect("a grade event");
    assert_eq!(grade.grade.percent_grade.to_bits(), (1.0f64 / 3.0).to_bits());
}

fn learner() -> UserData {
    UserData {
        id: 42,
        is_active: true,
        pii: UserPersonalData {
            username: "zoë".into(),
            email: "zoe@example.com".into(),
            name: "Zoë \"Z\" Çelik 日本".into(),
        },
    }
}

fn course_key() -> CourseKey {
    "course-v1:edX+Interop+2024_T1".parse().unwrap()
}

fn usage_key(block: &str) -> UsageKey {
    format!("block-v1:edX+Interop+2024_T1+type@{block}").parse().unwrap()
}

/// An event we produced, as Python should see it.
struct Expected {
    topic: &'static str,
    metadata: EventsMetadata,
    data: Value,
}

#[test]
fn events_from_our_producer_are_consumed_by_the_python_consumer() {
    let scratch = RedisScratch::new("rust-to-py");
    let settings = settings(&scratch);
    let producer = Arc::new(RedisProducer::new(settings.clone()).unwrap());
    let topic_of = |event_type: &str| if event_type.contains(".content_authoring.") { "authoring" } else { "learning" };
    let routes = [
        (COURSE_ENROLLMENT_CREATED.event_type(), "enrollment.course.course_key"),
        (COURSE_DISCUSSIONS_CHANGED.event_type(), "configuration.course_key"),
        (COURSE_NOTIFICATION_REQUESTED.event_type(), "course_notification_data.course_key"),
        (XBLOCK_PUBLISHED.event_type(), "xblock_info.usage_key"),
        (COURSE_CATALOG_INFO_CHANGED.event_type(), "catalog_info.course_key"),
    ];
    let config = ProducerConfig::from_value(&Value::Object(
        routes
            .iter()
            .map(|(event_type, key)| {
                ((*event_type).to_owned(), json!({ topic_of(event_type): {"event_key_field": key, "enabled": true} }))
            })
            .collect(),
    ))
    .unwrap();

    // Through `send_event`, with the metadata it generates: a receiver records what was sent.
    let capture = Capture::new(false)
        .on(&COURSE_ENROLLMENT_CREATED)
        .on(&COURSE_DISCUSSIONS_CHANGED)
        .on(&COURSE_NOTIFICATION_REQUESTED)
        .on(&XBLOCK_PUBLISHED)
        .on(&COURSE_CATALOG_INFO_CHANGED);
    {
        let _producing = start_producing(&config, producer.clone());
        let check = |responses: Vec<openedx_events::ReceiverResponse>| {
            assert!(responses.iter().all(|r| r.result.is_ok()), "{responses:?}");
        };
        let start = utc(2024, 1, 15, 9, 30, 0, 0);
        let mut course = CourseData::new(course_key());
        course.display_name = "Interop 101".into();
        course.start = Some(start);
        course.end = Some(utc(2024, 6, 30, 23, 59, 59, 999_999));
        let mut enrollment =
            CourseEnrollmentData::new(learner(), course, "verified".into(), true, utc(2024, 2, 1, 8, 0, 0, 123_456));
        enrollment.created_by = Some(UserData {
            id: 9_007_199_254_740_993,
            is_active: false,
            pii: UserPersonalData::new("staff".into(), "staff@example.com".into()),
        });
        check(COURSE_ENROLLMENT_CREATED.send_event(CourseEnrollmentCreated { enrollment }));
        check(COURSE_ENROLLMENT_CREATED.send_event(CourseEnrollmentCreated {
            enrollment: CourseEnrollmentData::new(
                learner(),
                CourseData::new(course_key()),
                "audit".into(),
                false,
                start,
            ),
        }));

        let mut configuration = CourseDiscussionConfigurationData::new(course_key(), "openedx".into());
        configuration.enabled = false;
        configuration.plugin_configuration = BTreeMap::from([("allow_anonymous".to_owned(), true)]);
        let mut week_1 = DiscussionTopicContext::new("Week 1".into());
        week_1.usage_key = Some(usage_key("problem+block@p1"));
        week_1.group_id = Some(-7);
        week_1.external_id = Some("topic-1".into());
        week_1.ordering = Some(0);
        week_1.context = BTreeMap::from([("section".to_owned(), "Intro".to_owned())]);
        configuration.contexts = vec![week_1, DiscussionTopicContext::new("General".into())];
        check(COURSE_DISCUSSIONS_CHANGED.send_event(CourseDiscussionsChanged { configuration }));

        let mut notification = CourseNotificationData::new(
            course_key(),
            "discussion".into(),
            "new_discussion_post".into(),
            "https://lms.example.com/courses/x/discussion".into(),
        );
        notification.content_context = BTreeMap::from([("post_title".to_owned(), "Hello \"world\" ✓".to_owned())]);
        notification.audience_filters = BTreeMap::from([
            ("enrollment".to_owned(), vec!["verified".to_owned(), "audit".to_owned()]),
            ("role".to_owned(), Vec::new()),
        ]);
        check(
            COURSE_NOTIFICATION_REQUESTED
                .send_event(CourseNotificationRequested { course_notification_data: notification }),
        );

        let mut xblock = XBlockData::new(usage_key("vertical+block@unit_1"), "vertical".into());
        xblock.version = Some(
            "block-v1:edX+Interop+2024_T1+branch@published-branch+version@65a1b2c3d4e5f60718293a4b+type@vertical+block@unit_1"
                .parse()
                .unwrap(),
        );
        check(XBLOCK_PUBLISHED.send_event(XblockPublished { xblock_info: xblock }));

        let mut schedule = CourseScheduleData::new(start, "self".into());
        schedule.end = Some(utc(2024, 6, 30, 0, 0, 0, 1));
        let mut catalog_info = CourseCatalogData::new(course_key(), "Interop 101".into(), schedule);
        catalog_info.hidden = true;
        check(COURSE_CATALOG_INFO_CHANGED.send_event(CourseCatalogInfoChanged { catalog_info }));
    }
    let mut expected: Vec<Expected> = capture
        .take()
        .into_iter()
        .map(|r| Expected { topic: topic_of(&r.metadata.event_type), metadata: r.metadata, data: r.data })
        .collect();
    assert_eq!(expected.len(), 6);

    // Upstream's deserializer keeps a field's default when the value on the wire is falsy (`if
    // sub_data or attribute.default is attr.NOTHING` in openedx_events/event_bus/avro/deserializer.py),
    // so a Python receiver sees `enabled` (default true) as true and `ordering: 0` as None. What
    // we wrote is right; this is what upstream 11.2.0 makes of it.
    let discussions = expected
        .iter_mut()
        .find(|e| e.metadata.event_type == COURSE_DISCUSSIONS_CHANGED.event_type())
        .expect("a discussions event");
    assert_eq!(discussions.data["configuration"]["enabled"], json!(false));
    discussions.data["configuration"]["enabled"] = json!(true);
    assert_eq!(discussions.data["configuration"]["contexts"][0]["ordering"], json!(0));
    discussions.data["configuration"]["contexts"][0]["ordering"] = Value::Null;

    // Through `send_to_stream`, with metadata of our own choosing: another service and host, a
    // minor version, a time with nanoseconds (Python keeps the microseconds) and one on the second.
    let mut grade_metadata = PERSISTENT_GRADE_SUMMARY_CHANGED.generate_signal_metadata(None);
    grade_metadata.id = Uuid::new_v4();
    grade_metadata.source = "openedx/rust-worker/web".into();
    grade_metadata.sourcehost = "rust-host.example".into();
    grade_metadata.minorversion = 1;
    grade_metadata.time =
        Utc.with_ymd_and_hms(2024, 3, 4, 5, 6, 7).unwrap() + chrono::Duration::nanoseconds(123_456_789);
    let grade = PersistentGradeSummaryChanged {
        grade: PersistentCourseGradeData {
            user_id: -1,
            course: CourseData::new(course_key()),
            course_edited_timestamp: utc(2024, 3, 1, 0, 0, 0, 500_000),
            course_version: "65a1b2c3d4e5f60718293a4b".into(),
            grading_policy_hash: "dGhlIGhhc2g=".into(),
            percent_grade: 0.1 + 0.2,
            letter_grade: String::new(),
            passed_timestamp: utc(2024, 3, 2, 0, 0, 0, 0),
        },
    };
    let mut thread_metadata = FORUM_THREAD_CREATED.generate_signal_metadata(Some(utc(2024, 3, 4, 5, 6, 8, 0)));
    thread_metadata.source = "openedx/rust-worker/web".into();
    let mut thread = DiscussionThreadData::new(
        "First post\nwith two lines".into(),
        "topic-1".into(),
        "65a1b2c3".into(),
        true,
        "https://lms.example.com/t/65a1b2c3".into(),
        learner(),
        course_key(),
    );
    thread.thread_type = Some("question".into());
    thread.anonymous = Some(true);
    thread.title = Some("A question".into());
    thread.team_id = Some(i64::MAX);
    thread.discussion = Some(BTreeMap::from([("id".to_owned(), "d1".to_owned())]));
    thread.user_course_roles = vec!["student".into()];
    thread.user_forums_roles = vec!["Student".into(), "Community TA".into()];
    thread.options = BTreeMap::from([("followed".to_owned(), true)]);
    let thread = ForumThreadCreated { thread };
    let stream = settings.full_topic("learning");
    producer
        .send_to_stream(&stream, &grade_metadata, &PERSISTENT_GRADE_SUMMARY_CHANGED.encode_avro(&grade).unwrap())
        .unwrap();
    producer.send_to_stream(&stream, &thread_metadata, &FORUM_THREAD_CREATED.encode_avro(&thread).unwrap()).unwrap();
    expected.push(Expected { topic: "learning", metadata: grade_metadata, data: grade.to_json() });
    expected.push(Expected { topic: "learning", metadata: thread_metadata, data: thread.to_json() });

    let learning = expected.iter().filter(|e| e.topic == "learning").count();
    let authoring = expected.len() - learning;
    let received = run(
        "python_consumer.py",
        &[
            "--redis-url",
            &redis_url(),
            "--topic-prefix",
            scratch.prefix(),
            "--group",
            "python-interop",
            "--expect",
            &format!("learning={learning}"),
            "--expect",
            &format!("authoring={authoring}"),
        ],
    );
    let errors: Vec<&Value> = received.iter().filter(|line| line.get("error").is_some()).collect();
    assert!(errors.is_empty(), "upstream's consumer could not consume our messages: {errors:#?}");
    assert_eq!(received.len(), expected.len(), "{received:#?}");
    for event in &expected {
        let id = event.metadata.id;
        let event_type = &*event.metadata.event_type;
        let got = received
            .iter()
            .find(|line| EventsMetadata::from_json(text(line, "metadata_json")).is_ok_and(|m| m.id == id))
            .unwrap_or_else(|| panic!("Python did not receive {event_type} {id}: {received:#?}"));
        assert_eq!(text(got, "event_type"), event_type);
        assert_eq!(text(got, "topic"), event.topic);
        assert_eq!(got["from_event_bus"], json!(true), "{event_type}");
        // Python's `EventsMetadata.to_json()` of what it decoded is byte for byte ours.
        assert_eq!(text(got, "metadata_json"), event.metadata.to_json(), "metadata of {event_type}");
        assert_json_eq(&got["data"], &event.data, &format!("data of {event_type} {id} as Python decoded it"));
    }
}

/// The committed contract, `catalog/upstream/catalog.json`, is what `catalog/upstream/generate.py`
/// reads from the installed upstream package now; when upstream's pin moves, this says what changed.
#[test]
fn the_committed_contract_is_what_upstream_gives() {
    let catalog_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../catalog/upstream");
    let committed_path = catalog_dir.join("catalog.json");
    let committed = std::fs::read_to_string(&committed_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", committed_path.display()));
    let generated = python().run(&catalog_dir.join("generate.py"), &catalog_dir, &["--stdout"]);
    if generated == committed {
        return;
    }
    let parse = |text: &str, what: &str| -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("the {what} catalog is not JSON: {e}"))
    };
    let mut differences = Vec::new();
    json_differences("", &parse(&committed, "committed"), &parse(&generated, "generated"), &mut differences);
    if differences.is_empty() {
        differences.push("the same JSON, written differently (indentation or key order)".to_owned());
    }
    let shown: Vec<&str> = differences.iter().take(40).map(String::as_str).collect();
    panic!(
        "catalog/upstream/catalog.json is stale: the installed upstream package gives something else in {} places \
         (committed → installed):\n  {}{}\nRegenerate it with `target/venv/bin/python catalog/upstream/generate.py` \
         and review what changed.",
        differences.len(),
        shown.join("\n  "),
        if differences.len() > shown.len() { "\n  …" } else { "" }
    );
}

/// Where two JSON values differ, as `path: committed → installed` lines. Lists of objects that
/// have an `event_type` (events) or a `name` (fields) are compared by it, so that a new or moved
/// event or field reads as one.
fn json_differences(path: &str, committed: &Value, installed: &Value, out: &mut Vec<String>) {
    let keyed = |items: &[Value]| -> Option<BTreeMap<String, Value>> {
        items
            .iter()
            .map(|item| {
                let key = item.get("event_type").or_else(|| item.get("name"))?.as_str()?;
                Some((key.to_owned(), item.clone()))
            })
            .collect()
    };
    match (committed, installed) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                match b.get(key) {
                    Some(other) => json_differences(&format!("{path}.{key}"), value, other, out),
                    None => out.push(format!("{path}.{key}: removed (was {})", short(value))),
                }
            }
            for (key, value) in b.iter().filter(|(key, _)| !a.contains_key(*key)) {
                out.push(format!("{path}.{key}: added ({})", short(value)));
            }
        }
        (Value::Array(a), Value::Array(b)) => match (keyed(a), keyed(b)) {
            (Some(a), Some(b)) => {
                json_differences(
                    path,
                    &Value::Object(a.into_iter().collect()),
                    &Value::Object(b.into_iter().collect()),
                    out,
                );
            }
            _ if a.len() == b.len() => {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    json_differences(&format!("{path}[{i}]"), x, y, out);
                }
            }
            _ => out.push(format!("{path}: {} → {}", short(committed), short(installed))),
        },
        _ if committed != installed => out.push(format!("{path}: {} → {}", short(committed), short(installed))),
        _ => {}
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}
