//! The console's Kafka view against the test broker and schema registry (`KAFKA_BOOTSTRAP_SERVERS`,
//! `SCHEMA_REGISTRY_URL`, started by `.ci/setup`): the overview's topic, its length and consumer
//! group with its lag, the dead letter a real consumer wrote, the events decoded through the
//! catalog, and a re-drive that puts the dead letter back on the topic byte for byte.
#![cfg(feature = "kafka")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use openedx_events::event_bus::{EventBusProducer, OutgoingMessage, RetryPolicy, dead_letter_topic};
use openedx_events::{AnySignal, EventsMetadata, receiver};
use openedx_events_catalog::learning::signals::{COURSE_ENROLLMENT_CREATED, CourseEnrollmentCreated};
use openedx_events_kafka::{KafkaConsumer, KafkaProducer, KafkaSettings, StartFrom, create_topic, dead_letters};
use openedx_events_test_support::unique_name;
use serde_json::Value;

mod common;
mod console_support;
use common::enrollment_json;
use console_support::{ConsoleProcess, encode};

const TOKEN: &str = "kafka-console-token-0123456789abcdef";
/// The user whose enrollments the receiver below refuses.
const REFUSED_USER: i64 = 666;

static REFUSED: AtomicUsize = AtomicUsize::new(0);

#[receiver(COURSE_ENROLLMENT_CREATED)]
fn refuse_one_user(data: &CourseEnrollmentCreated, metadata: &EventsMetadata) -> Result<(), String> {
    if metadata.from_event_bus() && data.enrollment.user.id == REFUSED_USER {
        REFUSED.fetch_add(1, Ordering::SeqCst);
        return Err(format!("user {REFUSED_USER} is not allowed here"));
    }
    Ok(())
}

fn bootstrap_servers() -> String {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

fn registry_url() -> String {
    std::env::var("SCHEMA_REGISTRY_URL").unwrap_or_else(|_| "http://127.0.0.1:8081".to_owned())
}

fn enrollment(user: i64) -> Value {
    let mut data = enrollment_json();
    data["enrollment"]["user"]["id"] = user.into();
    data
}

fn overview(console: &ConsoleProcess) -> Value {
    serde_json::from_str(&console.get("/api/overview").expect(200).body).expect("JSON")
}

#[test]
fn the_console_shows_kafka_topics_groups_events_and_dead_letters() {
    let prefix = unique_name("console-kafka");
    let mut settings = KafkaSettings::default()
        .with_bootstrap_servers(bootstrap_servers())
        .with_schema_registry_url(registry_url())
        .with_topic_prefix(&prefix)
        .with_retry(RetryPolicy { max_attempts: 2, backoff: Duration::from_millis(1) });
    settings.poll_timeout = Duration::from_millis(200);
    let full = settings.full_topic("enrollments");
    // The broker does not create topics on first use.
    create_topic(&settings, &full, 2, 1)
        .unwrap_or_else(|e| panic!("these tests need Kafka at {} (run .ci/setup): {e}", bootstrap_servers()));
    create_topic(&settings, &dead_letter_topic(&full), 1, 1).expect("the dead-letter topic");

    // Five events, the fourth one refused by this process's receiver.
    let producer = KafkaProducer::new(settings.clone()).expect("a producer");
    let signal: &'static dyn AnySignal = &COURSE_ENROLLMENT_CREATED;
    let users = [1, 2, 3, REFUSED_USER, 5];
    let mut ids = Vec::new();
    for user in users {
        let metadata = signal.generate_signal_metadata(None);
        let data = signal.json_to_avro(&enrollment(user)).expect("the enrollment encodes");
        producer.send(&OutgoingMessage::new(signal, "enrollments", None, &data, &metadata)).expect("produced");
        ids.push(metadata.id.to_string());
    }
    producer.flush(Duration::from_secs(10)).expect("flushed");

    // A real consumer dispatches them, dead-letters the refused one, and commits.
    let group = format!("{prefix}-audit");
    let mut consumer = KafkaConsumer::builder(settings.clone())
        .topic("enrollments")
        .group_id(&group)
        .start(StartFrom::Beginning)
        .property("session.timeout.ms", "6000")
        .property("heartbeat.interval.ms", "500")
        .build()
        .expect("a consumer");
    consumer
        .consume_until(Instant::now() + Duration::from_secs(60), |stats| stats.delivered + stats.dead_lettered >= 5)
        .expect("consumed");
    assert_eq!((consumer.stats().delivered, consumer.stats().dead_lettered), (4, 1));
    drop(consumer);

    let console = ConsoleProcess::start(
        &["--allow-changes"],
        &[
            ("EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS", bootstrap_servers().as_str()),
            ("EVENT_BUS_TOPIC_PREFIX", prefix.as_str()),
            ("OPENEDX_EVENTS_CONSOLE_TOKEN", TOKEN),
        ],
    );
    assert!(console.stderr().contains("console for Kafka at"), "{}", console.stderr());

    // The overview: the topic with its length, its group with no lag, one dead letter.
    let buses = overview(&console);
    let kafka = buses["buses"].as_array().unwrap().iter().find(|bus| bus["bus"] == "kafka").expect("a Kafka bus");
    let topics = kafka["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 1, "only this test's topic, not its dead-letter topic: {topics:?}");
    let topic = &topics[0];
    assert_eq!(topic["stream"], full.as_str());
    assert_eq!(topic["length"], 5);
    assert_eq!(topic["dead_letters"], 1);
    assert!(topic["newest_time"].is_string(), "{topic}");
    let groups = topic["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["name"], group.as_str());
    assert_eq!(groups[0]["lag"], 0, "everything was committed");
    // The page itself lists them too.
    let page = console.get("/").expect(200).body;
    assert!(page.contains(&full) && page.contains(&group), "the overview page names the topic and group");

    // The topic page: every event, decoded through the catalog.
    let page = console.get(&format!("/topic?bus=kafka&stream={}&count=10", encode(&full))).expect(200).body;
    for id in &ids {
        assert!(page.contains(id.as_str()), "event {id} is on the topic page");
    }
    assert!(page.contains("org.openedx.learning.course.enrollment.created.v1"));
    assert!(page.contains("course-v1:edX+DemoX+Demo_Course"), "the data is decoded");
    let page = console.get(&format!("/topic?bus=kafka&stream={}&count=2", encode(&full))).expect(200).body;
    assert_eq!(ids.iter().filter(|id| page.contains(id.as_str())).count(), 2, "a page of two");

    // The dead letter, with its error, and re-driven with the token.
    let page = console.get(&format!("/dead-letters?bus=kafka&stream={}", encode(&full))).expect(200).body;
    assert!(page.contains(&format!("user {REFUSED_USER} is not allowed here")), "the dead letter's error");
    let letters = dead_letters(&settings, "enrollments", 10).expect("the dead letters");
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.event_id(), Some(ids[3].as_str()));
    let base = format!("bus=kafka&stream={}&token={TOKEN}&id={}", encode(&full), encode(&letter.id()));
    console
        .post_form(
            "/dead-letters",
            &format!("stream={}&bus=kafka&id={}&action=redrive", encode(&full), encode(&letter.id())),
        )
        .expect(403);
    let done = console.post_form("/dead-letters", &format!("{base}&action=redrive")).expect(200).body;
    assert!(done.contains("Moved") || done.contains("moved") || done.contains("re-driven"), "{done}");
    let wait = Instant::now() + Duration::from_secs(10);
    loop {
        let buses = overview(&console);
        let topic = &buses["buses"].as_array().unwrap().iter().find(|b| b["bus"] == "kafka").unwrap()["topics"][0];
        if topic["length"] == 6 {
            assert_eq!(topic["groups"][0]["lag"], 1, "the re-driven message waits for the group");
            break;
        }
        assert!(Instant::now() < wait, "the re-driven message did not reach the topic: {topic}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
