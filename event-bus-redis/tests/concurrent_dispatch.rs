//! The blocking consumer with `concurrency(n)` against a real Redis: messages of different keys
//! are dispatched at once (up to the limit), each key's in stream order, a failing one is
//! dead-lettered without holding up the others, and the batch is acknowledged only after all of
//! it was handled.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use openedx_events::event_bus::{EventBusConsumer, message_event_key, message_fields};
use openedx_events::{EventsMetadata, openedx_event, receiver};
use openedx_events_redis::{RedisConsumer, RedisProducer, StartFrom, dead_letters};
use openedx_events_test_support::RedisScratch;

/// A step of some course, keyed by the course.
#[openedx_event(
    name = LANE_STEPPED,
    event_type = "org.openedx.learning.concurrent_dispatch.stepped.v1",
    key_field = "course"
)]
#[derive(Clone, Debug)]
pub struct Stepped {
    /// The key.
    pub course: String,
    /// Its place in the course's order.
    pub n: i64,
    /// Which test sent it.
    pub test: String,
}

static SEEN: Mutex<Vec<(String, String, i64)>> = Mutex::new(Vec::new());
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static MOST: AtomicUsize = AtomicUsize::new(0);

#[receiver(LANE_STEPPED)]
fn step(data: &Stepped, metadata: &EventsMetadata) -> Result<(), String> {
    if !metadata.from_event_bus() {
        return Ok(());
    }
    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    MOST.fetch_max(now, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(30));
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    if data.n < 0 {
        return Err(format!("step {} is poison", data.n));
    }
    SEEN.lock().unwrap().push((data.test.clone(), data.course.clone(), data.n));
    Ok(())
}

#[test]
fn keys_run_concurrently_each_in_order_and_the_batch_is_acknowledged_after() {
    let test = "keys_run_concurrently";
    let mut scratch = RedisScratch::new("concurrent-dispatch");
    let settings = scratch.settings();
    let producer = RedisProducer::new(settings.clone()).unwrap();
    let stream = scratch.stream("steps");
    // Four courses, five steps each, interleaved; one poison step in course c2.
    for n in 0..5 {
        for course in ["c0", "c1", "c2", "c3"] {
            let n = if course == "c2" && n == 2 { -1 } else { n };
            let data = Stepped { course: course.into(), n, test: test.into() };
            let metadata = LANE_STEPPED.generate_signal_metadata(None);
            producer.send_to_stream(&stream, &metadata, &LANE_STEPPED.encode_avro(&data).unwrap()).unwrap();
        }
    }
    let mut consumer = RedisConsumer::builder(settings.clone())
        .topic("steps")
        .group("g")
        .consumer_name("one")
        .start(StartFrom::Beginning)
        .concurrency(3)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(consumer.poll().unwrap(), 20);
    let took = started.elapsed();

    let seen: Vec<(String, i64)> =
        SEEN.lock().unwrap().iter().filter(|(t, _, _)| t == test).map(|(_, c, n)| (c.clone(), *n)).collect();
    let mut by_course: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (course, n) in seen {
        by_course.entry(course).or_default().push(n);
    }
    assert_eq!(by_course["c0"], vec![0, 1, 2, 3, 4]);
    assert_eq!(by_course["c1"], vec![0, 1, 2, 3, 4]);
    assert_eq!(by_course["c2"], vec![0, 1, 3, 4], "the poison step is dead-lettered, the rest go on in order");
    assert_eq!(by_course["c3"], vec![0, 1, 2, 3, 4]);
    let most = MOST.load(Ordering::SeqCst);
    assert!((2..=3).contains(&most), "at most 3 keys at once, and more than one: {most}");
    // 20 messages of 30 ms (the poison one three times) one at a time would take 660 ms; these take about 300.
    assert!(took < Duration::from_millis(600), "{took:?}");

    let letters = dead_letters(&settings, "steps").unwrap();
    assert_eq!(letters.len(), 1);
    assert!(letters[0].error.contains("step -1 is poison"), "{}", letters[0].error);
    let pending: redis::Value = redis::cmd("XPENDING").arg(&stream).arg("g").query(scratch.connection()).unwrap();
    let redis::Value::Array(summary) = pending else { panic!("{pending:?}") };
    assert_eq!(summary[0], redis::Value::Int(0), "everything acknowledged");
    assert_eq!(consumer.stats().delivered, 19);
    assert_eq!(consumer.stats().dead_lettered, 1);
    drop(consumer.shutdown_handle());
}

#[test]
fn a_message_key_is_read_from_its_data() {
    let data = Stepped { course: "course-v1:edX+D+1".into(), n: 1, test: "key".into() };
    let metadata = LANE_STEPPED.generate_signal_metadata(None);
    let event_data = LANE_STEPPED.encode_avro(&data).unwrap();
    let fields = message_fields(&metadata, &event_data);
    let key = message_event_key(&fields).map(|key| key.to_string());
    assert_eq!(key.as_deref(), Some("course-v1:edX+D+1"));
    let junk: Vec<(Vec<u8>, Vec<u8>)> = vec![(b"type".to_vec(), b"nope".to_vec())];
    assert_eq!(message_event_key(&junk), None);
}
