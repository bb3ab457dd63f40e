//! What the Kafka consumer must not lose, against the real broker: poison messages are
//! dead-lettered while later ones flow, a killed consumer's unfinished messages are dispatched
//! after a restart, two consumers of a group share a topic, and other producers' schema versions
//! are resolved.
#![allow(missing_docs, reason = "test payloads need no docs")]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use openedx_events::EventsMetadata;
use openedx_events::event_bus::{EventBusConsumer, EventKey, RetryPolicy};
use openedx_events_kafka::{KafkaConsumer, SchemaRegistry, StartFrom, frame, unframe};
use rdkafka::Message;
use rdkafka::message::Headers;

const FAST_RETRY: RetryPolicy = RetryPolicy { max_attempts: 3, backoff: Duration::from_millis(10) };

#[test]
fn poison_is_dead_lettered_and_later_messages_flow() {
    let scratch = Scratch::new("poison");
    let full = scratch.topic("poison", 1);
    let seen = record(&KAFKA_PUBLISHED, "poison-recorder");
    KAFKA_PUBLISHED.connect("poison-refuser", |data: &Published, _: &EventsMetadata| {
        if data.course.key == "course-v1:poison+x+y" && data.n < 0 {
            Err(format!("refused n={}", data.n))
        } else {
            Ok(())
        }
    });
    let producer = scratch.producer();
    let course = || Course { key: "course-v1:poison+x+y".into() };
    let key = || Some(EventKey::String("course-v1:poison+x+y".into()));
    let first = produce(&producer, &KAFKA_PUBLISHED, "poison", &Published { course: course(), n: 1 }, key());
    let failing = produce(&producer, &KAFKA_PUBLISHED, "poison", &Published { course: course(), n: -1 }, key());
    // Unusable: no ce_type; an unknown type; bytes that are not framed; an unknown schema id.
    let mut headers = headers_of(&first);
    headers.retain(|(name, _)| *name != "ce_type");
    let borrowed =
        |headers: &[(&'static str, Vec<u8>)]| headers.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let as_refs = |h: &[(&'static str, Vec<u8>)]| -> Vec<(&'static str, Vec<u8>)> { borrowed(h) };
    let send = |headers: Vec<(&'static str, Vec<u8>)>, value: &[u8]| {
        let refs: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        produce_raw(&scratch.settings, &full, None, value, &refs);
    };
    send(as_refs(&headers), &[0, 0, 0, 0, 1, 2]);
    let mut unknown = headers_of(&first);
    for (name, value) in &mut unknown {
        if *name == "ce_type" {
            *value = b"org.openedx.nobody.nothing.v1".to_vec();
        }
    }
    send(unknown, &[0, 0, 0, 0, 1, 2]);
    send(headers_of(&first), b"not framed");
    send(headers_of(&first), &frame(999_999, &[2, 14]));
    let last = produce(&producer, &KAFKA_PUBLISHED, "poison", &Published { course: course(), n: 2 }, key());

    let mut consumer = KafkaConsumer::builder(scratch.settings.clone())
        .topic("poison")
        .group_id(scratch.group("poison"))
        .start(StartFrom::Beginning)
        .retry(FAST_RETRY)
        .property("session.timeout.ms", "6000")
        .build()
        .expect("a consumer");
    consumer.consume_until(within(60), |stats| stats.delivered + stats.dead_lettered >= 7).expect("consumed");
    let stats = consumer.stats();
    assert_eq!((stats.delivered, stats.dead_lettered), (2, 5), "{stats:?}");
    let delivered: Vec<_> = seen_with_ids(&seen, &[first.id, last.id]);
    assert_eq!(delivered.len(), 2, "the message after the poison flowed");

    let dead = read_raw(&scratch.settings, &format!("{full}-dead-letter"), 5);
    let header = |message: &rdkafka::message::OwnedMessage, name: &str| {
        message.headers().and_then(|h| {
            h.iter().find(|h| h.key == name).and_then(|h| h.value.map(|v| String::from_utf8_lossy(v).into_owned()))
        })
    };
    // The receivers' failure: after three attempts, the original bytes and key, and why.
    assert_eq!(header(&dead[0], "ce_id").as_deref(), Some(failing.id.to_string().as_str()));
    assert_eq!(header(&dead[0], "dead_letter_attempts").as_deref(), Some("3"));
    assert!(
        header(&dead[0], "dead_letter_error").is_some_and(|e| e.contains("refused n=-1")),
        "{:?}",
        header(&dead[0], "dead_letter_error")
    );
    assert!(header(&dead[0], "dead_letter_origin").is_some_and(|o| o.starts_with(&format!("{full}:0:"))));
    let original = read_raw(&scratch.settings, &full, 7);
    assert_eq!(dead[0].payload(), original[1].payload());
    assert_eq!(dead[0].key(), original[1].key());
    // The unusable ones, at once, each saying why.
    let reasons: Vec<String> = dead[1..].iter().map(|m| header(m, "dead_letter_error").unwrap_or_default()).collect();
    assert!(reasons[0].contains("Missing ce_type header"), "{reasons:?}");
    assert!(reasons[1].contains("Unrecognized type org.openedx.nobody.nothing.v1"), "{reasons:?}");
    assert!(reasons[2].contains("framing"), "{reasons:?}");
    assert!(reasons[3].contains("999999"), "{reasons:?}");
    for message in &dead[1..] {
        assert_eq!(header(message, "dead_letter_attempts").as_deref(), Some("0"));
    }
}

/// Set in the child process of `a_killed_consumer_loses_nothing`: the prefix of the topic it
/// consumes.
const CHILD_PREFIX: &str = "KAFKA_TEST_CHILD_PREFIX";

/// What `a_killed_consumer_loses_nothing` runs as its child process, which it kills: consumes the
/// topic named by the environment, printing each event's id as it is dispatched.
fn child_consumer(prefix: String) {
    let mut scratch = Scratch::new("child");
    scratch.settings = scratch.settings.with_topic_prefix(prefix);
    let settings = scratch.settings.clone();
    KAFKA_PUBLISHED.connect("child-printer", |_: &Published, metadata: &EventsMetadata| {
        println!("dispatched {}", metadata.id);
        std::thread::sleep(Duration::from_millis(100));
        Ok::<(), String>(())
    });
    let mut consumer = KafkaConsumer::builder(settings)
        .topic("killed")
        .group_id(scratch.group("killed"))
        .start(StartFrom::Beginning)
        .property("session.timeout.ms", "6000")
        .build()
        .expect("a consumer");
    consumer.consume_indefinitely().expect("consumed");
}

/// The id in a line the child printed (the test harness may have written to the line first).
fn dispatched_id(line: &str) -> Option<&str> {
    line.find("dispatched ").map(|at| line[at + "dispatched ".len()..].trim())
}

#[test]
fn a_killed_consumer_loses_nothing() {
    // Run again by itself as the child process it kills.
    if let Ok(prefix) = std::env::var(CHILD_PREFIX) {
        return child_consumer(prefix);
    }
    let scratch = Scratch::new("killed");
    scratch.topic("killed", 2);
    let producer = scratch.producer();
    let mut ids = Vec::new();
    for n in 0..30 {
        let data = Published { course: Course { key: format!("course-v1:killed+{n}+x") }, n };
        ids.push(
            produce(&producer, &KAFKA_PUBLISHED, "killed", &data, Some(EventKey::String(data.course.key.clone()))).id,
        );
    }
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", "a_killed_consumer_loses_nothing", "--nocapture", "--test-threads=1"])
        .env(CHILD_PREFIX, scratch.settings.topic_prefix.clone().unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the child starts");
    let mut dispatched = HashSet::new();
    let mut lines = BufReader::new(child.stdout.take().expect("its output")).lines();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        if let Some(id) = dispatched_id(&line) {
            dispatched.insert(id.to_owned());
            if dispatched.len() >= 12 {
                break;
            }
        }
    }
    child.kill().expect("killed");
    child.wait().expect("reaped");
    // What it printed before it died (still in the pipe) was dispatched too.
    for line in lines.map_while(Result::ok) {
        if let Some(id) = dispatched_id(&line) {
            dispatched.insert(id.to_owned());
        }
    }
    assert!(dispatched.len() >= 12, "the child dispatched {}", dispatched.len());

    let seen = record(&KAFKA_PUBLISHED, "killed-recorder");
    let mut consumer = scratch.consumer("killed", "killed", StartFrom::Beginning);
    let all: HashSet<String> = ids.iter().map(ToString::to_string).collect();
    let remaining = |seen: &Seen<Published>| {
        let got: HashSet<String> = seen_with_ids(seen, &ids).iter().map(|(_, m)| m.id.to_string()).collect();
        all.iter().filter(|id| !dispatched.contains(*id) && !got.contains(*id)).count()
    };
    consumer.consume_until(within(90), |_| remaining(&seen) == 0).expect("consumed");
    assert_eq!(remaining(&seen), 0, "events lost after the kill; the child dispatched {}", dispatched.len());
    // The restarted consumer resumed from what the child committed, not from the start.
    assert!(consumer.stats().delivered < 30 || dispatched.len() < 30, "{:?}", consumer.stats());
}

#[test]
fn two_consumers_of_a_group_share_a_topic_and_lose_nothing() {
    let scratch = Scratch::new("shared");
    scratch.topic("shared", 4);
    let seen = record(&KAFKA_PUBLISHED, "shared-recorder");
    let total = Arc::new(AtomicU64::new(0));
    let counts = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let mut consumer = scratch.consumer("shared", "shared", StartFrom::Beginning);
            let total = Arc::clone(&total);
            let counts = Arc::clone(&counts);
            std::thread::spawn(move || {
                let mut last = 0;
                consumer
                    .consume_until(within(60), |stats| {
                        total.fetch_add(stats.delivered - last, Ordering::SeqCst);
                        last = stats.delivered;
                        total.load(Ordering::SeqCst) >= 40
                    })
                    .expect("consumed");
                counts.lock().expect("counts").push(consumer.stats().delivered);
            })
        })
        .collect();
    // Let both join before producing.
    std::thread::sleep(Duration::from_secs(3));
    let producer = scratch.producer();
    let mut ids = Vec::new();
    for n in 0..40 {
        let data = Published { course: Course { key: format!("course-v1:shared+{n}+x") }, n };
        ids.push(
            produce(&producer, &KAFKA_PUBLISHED, "shared", &data, Some(EventKey::String(data.course.key.clone()))).id,
        );
    }
    for handle in handles {
        handle.join().expect("the consumer thread");
    }
    let got: HashSet<_> = seen_with_ids(&seen, &ids).iter().map(|(_, m)| m.id).collect();
    assert_eq!(got.len(), 40, "every event was dispatched");
    let counts = counts.lock().expect("counts").clone();
    assert_eq!(counts.iter().sum::<u64>(), 40, "{counts:?}");
    assert!(counts.iter().all(|n| *n > 0), "both consumers had partitions: {counts:?}");
}

#[test]
fn another_producers_schema_version_is_resolved() {
    let scratch = Scratch::new("evolution");
    let full = scratch.topic("evolution", 1);
    let seen = record(&KAFKA_PINGED, "evolution-recorder");
    // A newer producer's schema: ours with a field added at the end.
    let mut schema: serde_json::Value =
        serde_json::from_str(KAFKA_PINGED.avro_schema().expect("schema")).expect("JSON");
    schema["fields"]
        .as_array_mut()
        .expect("fields")
        .push(serde_json::json!({"name": "added", "type": "string", "default": ""}));
    let registry = SchemaRegistry::new(registry_url(), None, None);
    let subject = format!("{full}-org.openedx.learning.kafka_bus.pinged.v1.CloudEvent");
    let writer_id = registry.register(&subject, &schema.to_string()).expect("registered");
    let data = Pinged { note: Some("evolved".into()), ratio: 2.5 };
    let mut avro = KAFKA_PINGED.encode_avro(&data).expect("encodable");
    avro.extend_from_slice(&[2 * 5]);
    avro.extend_from_slice(b"hello");
    let metadata = KAFKA_PINGED.generate_signal_metadata(None);
    let headers = headers_of(&metadata);
    let refs: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    produce_raw(&scratch.settings, &full, None, &frame(writer_id, &avro), &refs);
    assert_eq!(unframe(&frame(writer_id, &avro)).expect("framed").0, writer_id);

    let mut consumer = scratch.consumer("evolution", "evolution", StartFrom::Beginning);
    consumer.consume_until(within(60), |stats| stats.delivered + stats.dead_lettered >= 1).expect("consumed");
    assert_eq!(consumer.stats().delivered, 1, "{:?}", consumer.stats());
    let got = seen_with_ids(&seen, &[metadata.id]);
    assert_eq!(got[0].0, data);
    assert_eq!(got[0].1.to_json(), metadata.to_json());
}

#[test]
fn a_new_group_can_start_at_a_time() {
    let scratch = Scratch::new("timestamp");
    scratch.topic("timestamp", 1);
    let seen = record(&KAFKA_PUBLISHED, "timestamp-recorder");
    let producer = scratch.producer();
    let event = |n| Published { course: Course { key: format!("course-v1:ts+{n}+x") }, n };
    let old = produce(&producer, &KAFKA_PUBLISHED, "timestamp", &event(0), Some(EventKey::String("k".into())));
    std::thread::sleep(Duration::from_millis(1500));
    let from = chrono::Utc::now();
    std::thread::sleep(Duration::from_millis(500));
    let new = produce(&producer, &KAFKA_PUBLISHED, "timestamp", &event(1), Some(EventKey::String("k".into())));
    let mut consumer = scratch.consumer("timestamp", "timestamp", StartFrom::Timestamp(from));
    consumer.consume_until(within(60), |stats| stats.delivered >= 1).expect("consumed");
    assert_eq!(seen_with_ids(&seen, &[new.id]).len(), 1);
    assert!(seen_with_ids(&seen, &[old.id]).is_empty(), "the event before the time was skipped");
}

#[test]
fn dead_letters_are_listed_and_redriven_with_their_bytes() {
    let scratch = Scratch::new("redrive");
    let full = scratch.topic("redrive", 1);
    let seen = record(&KAFKA_PUBLISHED, "redrive-recorder");
    static REFUSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);
    KAFKA_PUBLISHED.connect("redrive-refuser", |data: &Published, _: &EventsMetadata| {
        if data.course.key == "course-v1:redrive+x+y" && REFUSE.load(Ordering::SeqCst) { Err("down") } else { Ok(()) }
    });
    let producer = scratch.producer();
    let data = Published { course: Course { key: "course-v1:redrive+x+y".into() }, n: 5 };
    let metadata =
        produce(&producer, &KAFKA_PUBLISHED, "redrive", &data, Some(EventKey::String(data.course.key.clone())));
    let build = || {
        KafkaConsumer::builder(scratch.settings.clone())
            .topic("redrive")
            .group_id(scratch.group("redrive"))
            .start(StartFrom::Beginning)
            .retry(FAST_RETRY)
            .property("session.timeout.ms", "6000")
            .build()
            .expect("a consumer")
    };
    let mut consumer = build();
    consumer.consume_until(within(60), |stats| stats.dead_lettered >= 1).expect("consumed");
    assert_eq!(consumer.stats().dead_lettered, 1);

    let letters = openedx_events_kafka::dead_letters(&scratch.settings, "redrive", 10).expect("listed");
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.event_id(), Some(metadata.id.to_string().as_str()));
    assert_eq!(letter.event_type(), Some("org.openedx.content_authoring.kafka_bus.published.v1"));
    assert_eq!(letter.attempts, 3);
    assert!(letter.error.contains("down"), "{}", letter.error);
    assert_eq!(letter.origin, format!("{full}:0:0"));

    REFUSE.store(false, Ordering::SeqCst);
    assert_eq!(openedx_events_kafka::redrive(&scratch.settings, "redrive", &letters).expect("redriven"), 1);
    consumer.consume_until(within(60), |stats| stats.delivered >= 1).expect("consumed");
    let got = seen_with_ids(&seen, &[metadata.id]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, data);
    assert_eq!(got[0].1.to_json(), metadata.to_json());
    // The re-driven message is the original, byte for byte.
    let messages = read_raw(&scratch.settings, &full, 2);
    assert_eq!(messages[0].payload(), messages[1].payload());
    assert_eq!(messages[0].key(), messages[1].key());
    let names = |m: &rdkafka::message::OwnedMessage| {
        m.headers().map(|h| h.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec))).collect::<Vec<_>>())
    };
    assert_eq!(names(&messages[0]), names(&messages[1]));
    // `delete_dead_letters` is Kafka's DeleteRecords, which tansu 0.6 does not implement (it
    // answers with a panic in the broker), so it is not exercised here.
}
