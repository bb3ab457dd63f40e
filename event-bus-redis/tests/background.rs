//! The background producer in front of Redis: `send_event` never waits on the network; while
//! Redis is down events wait in the queue and all reach the stream, in order, once it is back; a
//! full queue is reported to the sender; a flush waits for what is queued.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openedx_events::event_bus::{
    BackgroundProducer, PRODUCER_RECEIVER_NAME, ProduceError, ProducerConfig, start_producing,
};
use openedx_events::{ReceiverError, openedx_event};
use openedx_events_redis::{RedisProducer, RedisSettings};
use openedx_events_test_support::OwnRedis;
use serde_json::json;

/// Something counted, by the first test.
#[openedx_event(name = BG_COUNTED, event_type = "org.openedx.learning.background_producer.counted.v1")]
#[derive(Clone, Debug)]
pub struct Counted {
    /// Which one.
    pub n: i64,
}

/// Something counted, by the second test (each test has a signal, since producing connects to
/// the signal for the whole process).
#[openedx_event(name = BG_OVERFLOWED, event_type = "org.openedx.learning.background_producer.overflowed.v1")]
#[derive(Clone, Debug)]
pub struct Overflowed {
    /// Which one.
    pub n: i64,
}

fn config(event_type: &str) -> ProducerConfig {
    ProducerConfig::from_value(&json!({event_type: {"counts": {"event_key_field": "n", "enabled": true}}})).unwrap()
}

fn settings(server: &OwnRedis) -> RedisSettings {
    RedisSettings::default().with_url(server.url()).with_topic_prefix("bg")
}

/// A stream entry's fields.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// The `n` of every event in the stream, in stream order.
fn stream_ns(server: &OwnRedis) -> Vec<i64> {
    let mut connection = redis::Client::open(server.url()).unwrap().get_connection().unwrap();
    let entries: Vec<(String, Fields)> =
        redis::cmd("XRANGE").arg("bg-counts").arg("-").arg("+").query(&mut connection).unwrap();
    entries
        .into_iter()
        .map(|(_, fields)| {
            let (_, data) = openedx_events::event_bus::parse_message_fields(&fields).unwrap();
            if metadata_is(&fields, "org.openedx.learning.background_producer.counted.v1") {
                BG_COUNTED.decode_avro(data).unwrap().n
            } else {
                BG_OVERFLOWED.decode_avro(data).unwrap().n
            }
        })
        .collect()
}

fn metadata_is(fields: &[(Vec<u8>, Vec<u8>)], event_type: &str) -> bool {
    fields.iter().any(|(name, value)| name == b"type" && value == event_type.as_bytes())
}

fn send(n: i64) -> Result<(), String> {
    producing_outcome(BG_COUNTED.send_event(Counted { n }))
}

fn overflow(n: i64) -> Result<(), String> {
    producing_outcome(BG_OVERFLOWED.send_event(Overflowed { n }))
}

fn producing_outcome(responses: Vec<openedx_events::ReceiverResponse>) -> Result<(), String> {
    let producing =
        responses.iter().find(|r| r.receiver == PRODUCER_RECEIVER_NAME).expect("the producing receiver ran");
    producing.result.as_ref().map(|_| ()).map_err(ToString::to_string)
}

#[test]
fn events_sent_while_redis_is_down_reach_it_in_order_once_it_is_back() {
    let mut server = OwnRedis::start(false);
    let redis = Arc::new(RedisProducer::new(settings(&server)).unwrap());
    let background = Arc::new(BackgroundProducer::builder(redis).retry_pause(Duration::from_millis(50)).start());
    let _producing =
        start_producing(&config("org.openedx.learning.background_producer.counted.v1"), background.clone());

    for n in 0..50 {
        send(n).unwrap();
    }
    assert!(background.flush(Duration::from_secs(10)), "the first 50 reached Redis");
    assert_eq!(stream_ns(&server), (0..50).collect::<Vec<_>>());

    server.kill();
    let started = Instant::now();
    for n in 50..100 {
        send(n).expect("queued while Redis is down");
    }
    // Sending only queues: a send that waited on the dead Redis would take its connect timeout.
    assert!(started.elapsed() < Duration::from_secs(2), "sending waited on the network: {:?}", started.elapsed());
    std::thread::sleep(Duration::from_secs(3));
    assert!(!background.flush(Duration::from_millis(200)), "nothing can be flushed while Redis is down");

    server.launch();
    assert!(background.flush(Duration::from_secs(20)), "the queue emptied once Redis was back");
    // A restart without persistence lost the first 50; the 50 sent while it was down all came, in order.
    assert_eq!(stream_ns(&server), (50..100).collect::<Vec<_>>());
    let stats = background.stats();
    assert_eq!((stats.produced, stats.lost, stats.rejected), (100, 0, 0));
    assert!(stats.retries > 0);
    assert!(background.shutdown(Duration::from_secs(5)));
}

#[test]
fn a_full_queue_is_reported_to_the_sender_and_nothing_is_lost_silently() {
    let mut server = OwnRedis::start(false);
    server.kill();
    let redis = Arc::new(RedisProducer::new(settings(&server)).unwrap());
    let background =
        Arc::new(BackgroundProducer::builder(redis).capacity(5).retry_pause(Duration::from_millis(50)).start());
    let _producing =
        start_producing(&config("org.openedx.learning.background_producer.overflowed.v1"), background.clone());

    let outcomes: Vec<Result<(), String>> = (0..20).map(overflow).collect();
    let refused: Vec<&String> = outcomes.iter().filter_map(|outcome| outcome.as_ref().err()).collect();
    assert!(!refused.is_empty(), "with Redis down, a queue of 5 cannot take 20 events");
    assert!(refused.iter().all(|error| error.contains("queue is full (5 messages")), "{refused:?}");
    let queued = outcomes.iter().filter(|outcome| outcome.is_ok()).count() as u64;
    assert_eq!(background.stats().rejected, 20 - queued);
    let error = ProduceError::QueueFull { capacity: 5 };
    assert!(error.is_retryable());
    let _ = ReceiverError::Failed(Box::new(error));

    server.launch();
    assert!(background.flush(Duration::from_secs(20)));
    assert_eq!(stream_ns(&server).len() as u64, queued, "every event that was queued was produced");
    // What is refused is gone from the bus's point of view, but was told to its sender and
    // logged with its JSON: nothing vanished in silence.
    assert_eq!(background.stats().produced, queued);
}
