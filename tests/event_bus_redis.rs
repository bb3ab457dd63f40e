//! The Redis Streams backend against the real Redis (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`): each test uses its own stream names and deletes them after.
#![allow(missing_docs, reason = "test payloads need no docs")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use openedx_events::event_bus::redis::{RedisConsumer, RedisProducer, StartFrom, dead_letters, redrive};
use openedx_events::event_bus::{EventBusConsumer, EventBusSettings, ProducerConfig, start_producing};
use openedx_events::{EventData, EventsMetadata, openedx_event, receiver};
use serde_json::json;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Settings with a prefix unique to this test run, and the streams to delete afterwards.
struct Scratch {
    settings: EventBusSettings,
    connection: redis::Connection,
}

impl Scratch {
    fn new(test: &str) -> Scratch {
        let prefix = format!("oe-test-{test}-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let settings = EventBusSettings {
            redis_url: Some(redis_url()),
            topic_prefix: Some(prefix),
            poll_timeout: Duration::from_millis(200),
            retry_backoff: Duration::from_millis(1),
            claim_idle_time: Duration::from_millis(500),
            ..Default::default()
        };
        let client = redis::Client::open(redis_url()).expect("REDIS_URL is a Redis URL");
        let connection = client
            .get_connection_with_timeout(Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("these tests need Redis at {} (set REDIS_URL): {e}", redis_url()));
        Scratch { settings, connection }
    }

    fn stream_len(&mut self, stream: &str) -> usize {
        redis::cmd("XLEN").arg(stream).query(&mut self.connection).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let pattern = format!("{}-*", self.settings.topic_prefix.as_deref().unwrap_or_default());
        let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query(&mut self.connection).unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<(), _> = redis::cmd("DEL").arg(&keys).query(&mut self.connection);
        }
    }
}

#[derive(EventData, Clone, Debug, PartialEq)]
pub struct Course {
    pub key: String,
}

#[openedx_event(name = REDIS_PUBLISHED, event_type = "org.openedx.content_authoring.redis_bus.published.v1", key_field = "course.key")]
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    pub course: Course,
    pub n: i64,
}

static PUBLISHED_FROM_BUS: AtomicUsize = AtomicUsize::new(0);

#[receiver(REDIS_PUBLISHED)]
fn on_published(data: &Published, metadata: &EventsMetadata) -> Result<(), String> {
    // Counts only the round-trip test's events: the tests run in parallel in one process.
    if metadata.from_event_bus() && data.course.key == "course-v1:a+b+c" {
        if data.n < 0 {
            return Err(format!("negative n: {}", data.n));
        }
        PUBLISHED_FROM_BUS.fetch_add(1, Ordering::SeqCst);
    }
    Ok(())
}

#[test]
fn produced_events_are_consumed_acked_and_poison_is_dead_lettered() {
    let mut scratch = Scratch::new("roundtrip");
    let producer = Arc::new(RedisProducer::new(scratch.settings.clone()).unwrap());
    let config = ProducerConfig::from_value(&json!({
        "org.openedx.content_authoring.redis_bus.published.v1": {"courses": {"event_key_field": "course.key", "enabled": true}}
    }))
    .unwrap();
    let mut consumer =
        RedisConsumer::new(scratch.settings.clone(), "courses", "group-a", "consumer-1", StartFrom::End).unwrap();
    // Creates the group at the end of the (empty) stream before anything is produced.
    consumer.poll().unwrap();

    let guard = start_producing(&config, producer);
    for n in [1, 2, -3, 4] {
        let responses = REDIS_PUBLISHED.send_event(Published { course: Course { key: "course-v1:a+b+c".into() }, n });
        assert!(responses.iter().all(|r| r.result.is_ok()), "{responses:?}");
    }
    drop(guard);
    let stream = scratch.settings.full_topic("courses");
    assert_eq!(scratch.stream_len(&stream), 4);

    let before = PUBLISHED_FROM_BUS.load(Ordering::SeqCst);
    let mut handled = 0;
    for _ in 0..20 {
        handled += consumer.poll().unwrap();
        if handled >= 4 {
            break;
        }
    }
    assert_eq!(handled, 4);
    assert_eq!(PUBLISHED_FROM_BUS.load(Ordering::SeqCst) - before, 3);
    let stats = consumer.stats();
    assert_eq!((stats.delivered, stats.dead_lettered), (3, 1));

    // Nothing is left pending: everything was acknowledged.
    let pending: redis::Value =
        redis::cmd("XPENDING").arg(&stream).arg("group-a").query(&mut scratch.connection).unwrap();
    assert!(
        matches!(&pending, redis::Value::Array(parts) if parts.first() == Some(&redis::Value::Int(0))),
        "{pending:?}"
    );

    let letters = dead_letters(&scratch.settings, "courses").unwrap();
    assert_eq!(letters.len(), 1);
    assert!(letters[0].error.contains("negative n: -3"), "{}", letters[0].error);
    assert_eq!(letters[0].attempts, 3);
    assert_eq!(letters[0].fields.len(), 8);

    // Re-driving puts it back on the stream, where it fails again and returns to the dead letters.
    assert_eq!(redrive(&scratch.settings, "courses", None).unwrap(), 1);
    assert!(dead_letters(&scratch.settings, "courses").unwrap().is_empty());
    let mut handled = 0;
    for _ in 0..20 {
        handled += consumer.poll().unwrap();
        if handled >= 1 {
            break;
        }
    }
    assert_eq!(dead_letters(&scratch.settings, "courses").unwrap().len(), 1);
}

#[test]
fn a_consumer_stops_on_shutdown_and_resumes_where_its_group_left_off() {
    let scratch = Scratch::new("resume");
    let producer = RedisProducer::new(scratch.settings.clone()).unwrap();
    let mut consumer =
        RedisConsumer::new(scratch.settings.clone(), "resume", "group-r", "consumer-1", StartFrom::End).unwrap();
    consumer.poll().unwrap();
    let shutdown = consumer.shutdown_handle();
    let running = std::thread::spawn(move || {
        let result = consumer.consume_indefinitely();
        (result.is_ok(), consumer.stats())
    });
    let stream = scratch.settings.full_topic("resume");
    let metadata = |n| {
        let mut metadata = REDIS_PUBLISHED.generate_signal_metadata(None);
        metadata.minorversion = n;
        metadata
    };
    let data = REDIS_PUBLISHED.encode_avro(&Published { course: Course { key: "k".into() }, n: 1 }).unwrap();
    producer.send_to_stream(&stream, &metadata(0), &data).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    shutdown.shutdown();
    let (ok, stats) = running.join().unwrap();
    assert!(ok);
    assert_eq!(stats.delivered, 1);

    // Produced while no consumer runs: a restarted member of the group processes it.
    producer.send_to_stream(&stream, &metadata(1), &data).unwrap();
    producer.send_to_stream(&stream, &metadata(2), &data).unwrap();
    let mut restarted =
        RedisConsumer::new(scratch.settings.clone(), "resume", "group-r", "consumer-1", StartFrom::End).unwrap();
    let mut handled = 0;
    for _ in 0..20 {
        handled += restarted.poll().unwrap();
        if handled >= 2 {
            break;
        }
    }
    assert_eq!(handled, 2);

    // A new group starting at the beginning sees all three.
    let mut fresh =
        RedisConsumer::new(scratch.settings.clone(), "resume", "group-new", "c", StartFrom::Beginning).unwrap();
    let mut handled = 0;
    for _ in 0..20 {
        handled += fresh.poll().unwrap();
        if handled >= 3 {
            break;
        }
    }
    assert_eq!(handled, 3);
}
