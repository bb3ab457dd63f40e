//! Faults: the relay killed with SIGKILL in the middle of a batch, and the bus stopped for ten
//! seconds while events are sent. Each asserts exactly what reached the bus: every event, in
//! order per key (a duplicate, which at-least-once allows, counts by its first arrival).
#![allow(missing_docs, reason = "tests")]

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use openedx_events::event_bus::{EventBusProducer, OutgoingMessage, ProduceError};
use openedx_events_outbox::Relay;
use openedx_events_redis::{RedisProducer, RedisSettings};
use openedx_events_test_support::{OwnRedis, RedisScratch};

/// A producer that takes its time over each batch, so that a kill lands in the middle of one.
struct Slow(RedisProducer);

impl EventBusProducer for Slow {
    fn send(&self, message: &OutgoingMessage<'_>) -> Result<(), ProduceError> {
        self.0.send(message)
    }

    fn send_batch(&self, messages: &[OutgoingMessage<'_>]) -> Vec<Result<(), ProduceError>> {
        let results = self.0.send_batch(messages);
        // After the bus has the batch and before the rows are deleted: the worst moment to die.
        std::thread::sleep(Duration::from_millis(30));
        results
    }
}

/// The relay as a child process: this test binary again, running only
/// `a_relay_killed_mid_batch_loses_nothing`, which in the child runs the relay.
fn spawn_relay(db: &Scratch, redis: &RedisScratch) -> std::process::Child {
    Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", "a_relay_killed_mid_batch_loses_nothing", "--nocapture"])
        .env("OUTBOX_CHILD_DATABASE_URL", db.url())
        .env("OUTBOX_CHILD_REDIS_PREFIX", redis.prefix())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the relay child starts")
}

/// The child process's relay, until it is killed.
async fn relay_child(url: String) {
    let prefix = std::env::var("OUTBOX_CHILD_REDIS_PREFIX").expect("the Redis prefix");
    let pool = sqlx::PgPool::connect(&url).await.expect("the test schema");
    let settings =
        RedisSettings::default().with_url(openedx_events_test_support::redis_url()).with_topic_prefix(prefix);
    let producer = Arc::new(Slow(RedisProducer::new(settings).expect("a producer")));
    let relay = Relay::builder(pool, producer).batch_size(100).topics(["orders"]).build();
    relay.run(std::future::pending()).await.expect("the relay runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_mid_batch_loses_nothing() {
    // Run again by itself as the relay child it kills.
    if let Ok(url) = std::env::var("OUTBOX_CHILD_DATABASE_URL") {
        return relay_child(url).await;
    }
    produce_in_outbox_mode();
    let db = Scratch::new("sigkill").await;
    let mut redis = RedisScratch::new("outbox-sigkill");
    let mut expected = Vec::new();
    for seq in 0..2000 {
        let key = format!("key-{}", seq % 7);
        send_committed(&db.pool, &key, seq).await;
        expected.push((key, seq));
    }
    let mut child = spawn_relay(&db, &redis);
    let stream = redis.stream("orders");
    let deadline = Instant::now() + Duration::from_secs(30);
    while redis.stream_len(&stream) < 500 {
        assert!(Instant::now() < deadline, "the relay child relayed nothing");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SIGKILL: no chance to finish the batch, delete its rows or release its lock politely.
    child.kill().expect("SIGKILL");
    child.wait().expect("the child ends");
    let at_kill = redis.stream_len(&stream);
    assert!(at_kill < 2000, "the child was killed before it finished");

    let mut child = spawn_relay(&db, &redis);
    let arrived =
        tokio::task::block_in_place(|| wait_for_stream(redis.connection(), &stream, 2000, Duration::from_secs(60)));
    let deadline = Instant::now() + Duration::from_secs(30);
    let left = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM openedx_events_outbox WHERE topic = 'orders'")
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    while left().await > 0 {
        assert!(Instant::now() < deadline, "rows left in the outbox");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("the child ends");
    let arrived = if arrived.len() < 2000 { arrived } else { read_topic(&mut redis, "orders") };
    assert_complete_and_ordered(&arrived, &expected);
    // At most one batch (100 rows) is produced twice: the one the kill interrupted.
    assert!(arrived.len() <= 2100, "{} entries for 2000 events", arrived.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bus_stopped_for_ten_seconds_loses_nothing_and_keeps_order() {
    produce_in_outbox_mode();
    let db = Scratch::new("bus_down").await;
    let mut bus = OwnRedis::start(true);
    let prefix = openedx_events_test_support::unique_name("oe-test-bus-down");
    let settings = RedisSettings::default().with_url(bus.url()).with_topic_prefix(&prefix);
    let producer = Arc::new(RedisProducer::new(settings).expect("a producer"));
    let relay = Relay::builder(db.pool.clone(), producer)
        .topics(["orders"])
        .backoff(Duration::from_millis(50), Duration::from_millis(500))
        .build();
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let relay = tokio::spawn(relay.run(async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    }));

    let pool = db.pool.clone();
    let writer = tokio::spawn(async move {
        let mut sent = Vec::new();
        let start = Instant::now();
        let mut seq = 0;
        while start.elapsed() < Duration::from_secs(12) {
            let key = format!("key-{}", seq % 5);
            send_committed(&pool, &key, seq).await;
            sent.push((key, seq));
            seq += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sent
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    bus.kill();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM openedx_events_outbox WHERE topic = 'orders'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(pending > 100, "events waited in the outbox while the bus was down ({pending})");
    bus.launch();
    let expected = writer.await.expect("the writer");

    let client = redis::Client::open(bus.url()).unwrap();
    let mut connection = client.get_connection().unwrap();
    let stream = format!("{prefix}-orders");
    let arrived = tokio::task::block_in_place(|| {
        wait_for_stream(&mut connection, &stream, expected.len(), Duration::from_secs(30))
    });
    stop.send(true).unwrap();
    relay.await.unwrap().unwrap();
    assert_complete_and_ordered(&arrived, &expected);
}
