//! The Redis Streams backend against the real Redis (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`): each test uses its own stream names and deletes them after.
#![allow(missing_docs, reason = "test payloads need no docs")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use openedx_events::event_bus::{EventBusConsumer, ProducerConfig, start_producing};
use openedx_events::{EventData, EventsMetadata, openedx_event, receiver};
use openedx_events_redis::{RedisConsumer, RedisProducer, RedisSettings, StartFrom, dead_letters, redrive};
use openedx_events_test_support::RedisScratch;
use serde_json::json;

/// A stream entry's fields, in order.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// A test's corner of the shared Redis and its settings: claims after 500 ms.
struct Scratch {
    settings: RedisSettings,
    redis: RedisScratch,
}

impl Scratch {
    fn new(test: &str) -> Scratch {
        let redis = RedisScratch::new(test);
        let mut settings = redis.settings();
        settings.claim_idle_time = Duration::from_millis(500);
        Scratch { settings, redis }
    }
}

/// A consumer of `topic` in `group`, named `name`.
fn new_consumer(settings: RedisSettings, topic: &str, group: &str, name: &str, start: StartFrom) -> RedisConsumer {
    RedisConsumer::builder(settings).topic(topic).group(group).consumer_name(name).start(start).build().unwrap()
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
    let mut consumer = new_consumer(scratch.settings.clone(), "courses", "group-a", "consumer-1", StartFrom::End);
    // Creates the group at the end of the (empty) stream before anything is produced.
    consumer.poll().unwrap();

    let guard = start_producing(&config, producer);
    for n in [1, 2, -3, 4] {
        let responses = REDIS_PUBLISHED.send_event(Published { course: Course { key: "course-v1:a+b+c".into() }, n });
        assert!(responses.iter().all(|r| r.result.is_ok()), "{responses:?}");
    }
    drop(guard);
    let stream = scratch.settings.full_topic("courses");
    assert_eq!(scratch.redis.stream_len(&stream), 4);

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
        redis::cmd("XPENDING").arg(&stream).arg("group-a").query(scratch.redis.connection()).unwrap();
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
    let mut consumer = new_consumer(scratch.settings.clone(), "resume", "group-r", "consumer-1", StartFrom::End);
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
    let mut restarted = new_consumer(scratch.settings.clone(), "resume", "group-r", "consumer-1", StartFrom::End);
    let mut handled = 0;
    for _ in 0..20 {
        handled += restarted.poll().unwrap();
        if handled >= 2 {
            break;
        }
    }
    assert_eq!(handled, 2);

    // A new group starting at the beginning sees all three.
    let mut fresh = new_consumer(scratch.settings.clone(), "resume", "group-new", "c", StartFrom::Beginning);
    let mut handled = 0;
    for _ in 0..20 {
        handled += fresh.poll().unwrap();
        if handled >= 3 {
            break;
        }
    }
    assert_eq!(handled, 3);
}

#[test]
fn selected_dead_letters_are_read_redriven_byte_for_byte_and_deleted() {
    let mut scratch = Scratch::new("dead-letters-by-id");
    let stream = scratch.redis.stream("courses");
    let dead_letter_stream = format!("{stream}-dead-letter");
    // Two dead letters as a consumer writes them: the original fields (one not UTF-8), then the
    // consumer's own.
    let mut ids = Vec::new();
    for n in 0..2u8 {
        let id: String = redis::cmd("XADD")
            .arg(&dead_letter_stream)
            .arg("*")
            .arg("type")
            .arg("org.openedx.content_authoring.redis_bus.published.v1")
            .arg("event_data")
            .arg(&[0xff, n][..])
            .arg("error")
            .arg("1 of 1 receivers failed: r: boom")
            .arg("attempts")
            .arg(3)
            .arg("original_id")
            .arg(format!("{n}-1"))
            .arg("group")
            .arg("g")
            .arg("consumer")
            .arg("c")
            .query(scratch.redis.connection())
            .unwrap();
        ids.push(id);
    }
    let wanted = vec![ids[1].clone(), "1-1".to_owned()];

    let found = openedx_events_redis::dead_letters_by_id(&scratch.settings, "courses", &wanted).unwrap();
    assert_eq!(found.len(), 2);
    let letter = found[0].1.as_ref().expect("the first is there");
    assert_eq!((letter.id.as_str(), letter.original_id.as_str(), letter.attempts), (ids[1].as_str(), "1-1", 3));
    assert_eq!((letter.group.as_str(), letter.consumer.as_str()), ("g", "c"));
    assert_eq!(letter.fields.len(), 2, "only the original fields");
    assert_eq!(found[1], ("1-1".to_owned(), None), "no such dead letter");

    let moved = openedx_events_redis::redrive_ids(&scratch.settings, "courses", &wanted).unwrap();
    let new_id = moved[0].1.clone().expect("moved");
    assert_eq!(moved[1], ("1-1".to_owned(), None));
    let entries: Vec<(String, Fields)> =
        redis::cmd("XRANGE").arg(&stream).arg("-").arg("+").query(scratch.redis.connection()).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, new_id);
    assert_eq!(
        entries[0].1,
        [
            (b"type".to_vec(), b"org.openedx.content_authoring.redis_bus.published.v1".to_vec()),
            (b"event_data".to_vec(), vec![0xff, 1])
        ],
        "the original fields, byte for byte, without the consumer's"
    );
    assert_eq!(scratch.redis.stream_len(&dead_letter_stream), 1);
    // Re-driving it again finds nothing: it cannot be copied twice.
    assert_eq!(openedx_events_redis::redrive_ids(&scratch.settings, "courses", &ids[1..]).unwrap()[0].1, None);
    assert_eq!(scratch.redis.stream_len(&stream), 1);

    let deleted = openedx_events_redis::delete_dead_letters(&scratch.settings, "courses", &ids).unwrap();
    assert_eq!(deleted, [(ids[0].clone(), true), (ids[1].clone(), false)]);
    assert_eq!(scratch.redis.stream_len(&dead_letter_stream), 0);
}

/// A batch goes out in several writes and its replies are read after: a command Redis refuses
/// in the middle fails the batch, names the error, and leaves the connection usable, the
/// events around it added.
#[test]
fn a_refused_command_in_a_batch_fails_it_and_the_connection_stays_in_step() {
    let mut scratch = Scratch::new("refused-batch");
    let producer = RedisProducer::new(scratch.settings.clone()).unwrap();
    let not_a_stream = scratch.settings.full_topic("not-a-stream");
    redis::cmd("SET").arg(&not_a_stream).arg("a string").query::<()>(scratch.redis.connection()).unwrap();
    let metadata = REDIS_PUBLISHED.generate_signal_metadata(None);
    let data = REDIS_PUBLISHED
        .encode_avro(&Published { course: Course { key: "course-v1:a+b+c".into() }, n: 1 })
        .expect("encodable");
    // More than one write's worth before and after the refused command.
    let mut batch: Vec<(&str, &EventsMetadata, &[u8])> = vec![("good", &metadata, data.as_slice()); 100];
    batch.push(("not-a-stream", &metadata, data.as_slice()));
    batch.extend(vec![("good", &metadata, data.as_slice()); 100]);
    let error = producer.send_entries(&batch).expect_err("XADD on a string is refused").to_string();
    assert!(error.contains("WRONGTYPE"), "{error}");
    let length: usize =
        redis::cmd("XLEN").arg(scratch.settings.full_topic("good")).query(scratch.redis.connection()).unwrap();
    assert_eq!(length, 200, "the others were added");
    let id = producer.send_to_stream(&scratch.settings.full_topic("good"), &metadata, &data).expect("still usable");
    assert!(id.contains('-'), "a stream id: {id}");
}
