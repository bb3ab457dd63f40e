//! The outbox against real PostgreSQL and Redis: what reaches the bus after a rollback, a commit,
//! transactions committing out of id order, a poisoned row, and two relays at once.
#![allow(missing_docs, reason = "tests")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use openedx_events::event_bus::{ProducerConfig, ProducerMode};
use openedx_events_outbox::{OutboxError, OutboxExt as _, Relay};
use openedx_events_redis::RedisProducer;
use openedx_events_test_support::RedisScratch;

fn redis_producer(scratch: &RedisScratch) -> Arc<RedisProducer> {
    Arc::new(RedisProducer::new(scratch.settings()).expect("a Redis producer"))
}

/// Runs relay rounds until `expected` rows were relayed (10 s at most), then one more round,
/// which must relay nothing; returns how many were relayed. Tests run in parallel, and another
/// test's open transaction holds every relay of the database back for a moment (the fence is
/// database-wide), so an empty round does not mean done.
async fn drain(relay: &mut Relay, expected: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut total = 0;
    while total < expected && std::time::Instant::now() < deadline {
        let outcome = relay.run_once().await.expect("a relay round");
        total += outcome.relayed;
        if outcome.relayed == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    total += relay.run_once().await.expect("a relay round").relayed;
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_transaction_produces_nothing_and_a_committed_one_reaches_every_topic() {
    produce_in_outbox_mode();
    let db = Scratch::new("rollback").await;
    let mut redis = RedisScratch::new("outbox-rollback");

    let mut tx = db.pool.begin().await.unwrap();
    let responses = ORDER_PLACED
        .event(OrderPlaced { order_id: "rolled-back".into(), seq: 1 })
        .in_transaction(&mut tx)
        .send_async()
        .await
        .unwrap();
    assert!(responses.iter().all(|r| r.is_ok()), "{responses:?}");
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM openedx_events_outbox").fetch_one(&mut *tx).await.unwrap(),
        2,
        "one row per topic, inside the transaction"
    );
    tx.rollback().await.unwrap();
    send_committed(&db.pool, "committed", 2).await;

    let mut relay = Relay::builder(db.pool.clone(), redis_producer(&redis)).build();
    assert_eq!(drain(&mut relay, 2).await, 2);
    for topic in TOPICS {
        let arrived = read_topic(&mut redis, topic);
        assert_eq!(arrived.len(), 1, "{topic}: {arrived:?}");
        assert_eq!(arrived[0].data, OrderPlaced { order_id: "committed".into(), seq: 2 });
    }
    assert_eq!(db.count().await, 0, "acknowledged rows are deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_committing_out_of_id_order_skip_no_row() {
    produce_in_outbox_mode();
    let db = Scratch::new("out_of_order").await;
    let mut redis = RedisScratch::new("outbox-out-of-order");
    let mut relay = Relay::builder(db.pool.clone(), redis_producer(&redis)).topics(["orders"]).build();

    // The first transaction takes the lower ids and commits last.
    let mut first = db.pool.begin().await.unwrap();
    ORDER_PLACED
        .event(OrderPlaced { order_id: "a".into(), seq: 1 })
        .in_transaction(&mut first)
        .send_async()
        .await
        .unwrap();
    send_committed(&db.pool, "b", 2).await;
    // The relay sees the committed row, but must not pass it while the first may still commit
    // rows with lower ids (a checkpointing relay would now move past them).
    let outcome = relay.run_once().await.unwrap();
    assert_eq!(outcome.relayed, 0, "nothing relayed while an earlier transaction is open");
    first.commit().await.unwrap();
    send_committed(&db.pool, "c", 3).await;
    assert_eq!(drain(&mut relay, 3).await, 3);

    let arrived = read_topic(&mut redis, "orders");
    let seqs: Vec<i64> = arrived.iter().map(|a| a.data.seq).collect();
    assert_eq!(seqs, [1, 2, 3], "every row, in transaction order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisoned_row_is_parked_while_other_keys_flow_and_can_be_redriven() {
    produce_in_outbox_mode();
    let db = Scratch::new("poison").await;
    let mut redis = RedisScratch::new("outbox-poison");
    send_committed(&db.pool, "k1", 1).await;
    send_committed(&db.pool, "k2", 2).await;
    send_committed(&db.pool, "k2", 3).await;
    send_committed(&db.pool, "k1", 4).await;
    // Poison k2's first row on `orders`: its headers no longer say when the event happened.
    sqlx::query(
        "UPDATE openedx_events_outbox SET headers = headers || '{\"time\": \"not a time\"}' \
         WHERE id = (SELECT min(id) FROM openedx_events_outbox WHERE topic = 'orders' AND event_key = 'k2')",
    )
    .execute(&db.pool)
    .await
    .unwrap();

    let mut relay = Relay::builder(db.pool.clone(), redis_producer(&redis))
        .topics(["orders"])
        .max_attempts(3)
        .backoff(Duration::from_millis(10), Duration::from_millis(20))
        .build();
    let of_key = |redis: &mut RedisScratch, key: &str| -> Vec<i64> {
        read_topic(redis, "orders").iter().filter(|a| a.data.order_id == key).map(|a| a.data.seq).collect()
    };
    // Until the poisoned row is parked, k1 flows and k2 waits behind it; it is tried
    // `max_attempts` times, with back-off.
    let (mut failed, mut parked) = (0, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while parked == 0 {
        assert!(std::time::Instant::now() < deadline, "the poisoned row was never parked");
        let outcome = relay.run_once().await.unwrap();
        failed += outcome.failed;
        parked += outcome.parked;
        if parked == 0 {
            assert_eq!(of_key(&mut redis, "k2"), Vec::<i64>::new(), "k2's later row waits");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!((failed, parked), (3, 1));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while of_key(&mut redis, "k1").len() < 2 || of_key(&mut redis, "k2").is_empty() {
        assert!(std::time::Instant::now() < deadline, "k1 and k2 did not flow");
        relay.run_once().await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(of_key(&mut redis, "k1"), [1, 4]);
    assert_eq!(of_key(&mut redis, "k2"), [3], "after parking, the key's later row flows");
    let seqs =
        |redis: &mut RedisScratch| -> Vec<i64> { read_topic(redis, "orders").iter().map(|a| a.data.seq).collect() };

    let rows = openedx_events_outbox::parked(&db.pool).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].attempts, rows[0].event_key.as_deref()), (3, Some("k2")));
    assert!(rows[0].last_error.as_deref().is_some_and(|e| e.contains("time")), "{rows:?}");
    let status = openedx_events_outbox::status(&db.pool).await.unwrap();
    let orders = status.topics.iter().find(|t| t.topic == "orders").expect("the orders topic");
    assert_eq!((orders.pending, orders.parked), (0, 1), "{status:?}");
    assert_eq!((status.pending, status.parked), (4, 1), "order-audit is not relayed here: {status:?}");

    // Repaired and re-driven, it is produced.
    sqlx::query("UPDATE openedx_events_outbox SET headers = headers - 'time' WHERE parked")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(openedx_events_outbox::redrive(&db.pool, None).await.unwrap(), 1);
    assert_eq!(drain(&mut relay, 1).await, 1);
    assert_eq!(of_key(&mut redis, "k2"), [3, 2], "re-driven");
    assert_eq!(seqs(&mut redis).len(), 4);
    assert_eq!(db.count().await, 4, "only order-audit's rows are left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_at_once_keep_each_keys_order() {
    produce_in_outbox_mode();
    let db = Scratch::new("two_relays").await;
    let mut redis = RedisScratch::new("outbox-two-relays");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut relays = Vec::new();
    for _ in 0..2 {
        let relay = Relay::builder(db.pool.clone(), redis_producer(&redis))
            .batch_size(50)
            .housekeeping_interval(Duration::from_millis(100))
            .build();
        let mut stopped = stopped.clone();
        relays.push(tokio::spawn(relay.run(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        })));
    }
    let mut expected = Vec::new();
    let mut writers = Vec::new();
    for writer in 0..4 {
        let pool = db.pool.clone();
        writers.push(tokio::spawn(async move {
            for seq in 0..100 {
                send_committed(&pool, &format!("key-{}", seq % 5 + writer * 5), seq).await;
            }
        }));
        for seq in 0..100 {
            expected.push((format!("key-{}", seq % 5 + writer * 5), seq));
        }
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let stream = redis.stream("orders");
    let arrived =
        tokio::task::block_in_place(|| wait_for_stream(redis.connection(), &stream, 400, Duration::from_secs(30)));
    stop.send(true).unwrap();
    for relay in relays {
        relay.await.unwrap().unwrap();
    }
    assert_complete_and_ordered(&arrived, &expected);
    assert_eq!(arrived.len(), 400, "one leader for the topic, so no duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_the_table_is_missing_or_the_database_unreachable() {
    produce_in_outbox_mode();
    let db = Scratch::new("missing").await;
    sqlx::query("DROP TABLE openedx_events_outbox").execute(&db.pool).await.unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    let error = ORDER_PLACED
        .event(OrderPlaced { order_id: "x".into(), seq: 1 })
        .in_transaction(&mut tx)
        .send_async()
        .await
        .unwrap_err();
    assert!(matches!(error, OutboxError::MissingTable(_)), "{error:?}");
    assert!(error.to_string().contains("migrate"), "{error}");
    drop(tx);

    let port = openedx_events_test_support::free_port();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/test"))
        .unwrap();
    let error = openedx_events_outbox::status(&pool).await.unwrap_err();
    assert!(matches!(error, OutboxError::Unreachable(_)) && error.is_retryable(), "{error:?}");
}

#[test]
fn modes_are_validated_and_an_outbox_event_outside_a_transaction_is_refused() {
    produce_in_outbox_mode();
    let errors = ProducerConfig::from_json(
        r#"{"org.openedx.test.outbox.order.placed.v1": {"mode": "later", "orders": {"event_key_field": "order_id", "enabled": true}}}"#,
    )
    .unwrap_err();
    assert!(errors.to_string().contains("\"later\" is not a producer mode"), "{errors}");
    let config = ProducerConfig::from_json(
        r#"{"org.openedx.test.outbox.order.placed.v1": {"orders": {"event_key_field": "order_id", "enabled": true}}}"#,
    )
    .unwrap();
    assert_eq!(config.mode(ORDER_PLACED.event_type()), ProducerMode::OnCommit);
    assert_eq!(
        config.with_default_mode(ProducerMode::Immediate).mode(ORDER_PLACED.event_type()),
        ProducerMode::Immediate
    );

    let responses = ORDER_PLACED.send_event(OrderPlaced { order_id: "outside".into(), seq: 1 });
    let producing = responses
        .iter()
        .find(|r| r.receiver == openedx_events::event_bus::PRODUCER_RECEIVER_NAME)
        .expect("the producing receiver ran");
    let error = producing.result.as_ref().expect_err("it refused");
    assert!(error.to_string().contains("outside a transaction"), "{error}");
}

/// A `metrics` recorder keeping each gauge's last value, by name and labels.
#[derive(Default)]
struct Gauges(std::sync::Mutex<std::collections::BTreeMap<String, f64>>);

struct GaugeHandle(Arc<Gauges>, String);

impl metrics::GaugeFn for GaugeHandle {
    fn increment(&self, value: f64) {
        *self.0.0.lock().unwrap().entry(self.1.clone()).or_default() += value;
    }
    fn decrement(&self, value: f64) {
        *self.0.0.lock().unwrap().entry(self.1.clone()).or_default() -= value;
    }
    fn set(&self, value: f64) {
        self.0.0.lock().unwrap().insert(self.1.clone(), value);
    }
}

struct Recorder(Arc<Gauges>);

impl metrics::Recorder for Recorder {
    fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::noop()
    }
    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        let labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        let name =
            if labels.is_empty() { key.name().to_owned() } else { format!("{}{{{}}}", key.name(), labels.join(",")) };
        metrics::Gauge::from_arc(Arc::new(GaugeHandle(Arc::clone(&self.0), name)))
    }
    fn register_histogram(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_and_the_oldest_rows_age_reach_the_metrics_facade() {
    produce_in_outbox_mode();
    let db = Scratch::new("metrics").await;
    send_committed(&db.pool, "m1", 1).await;
    send_committed(&db.pool, "m2", 2).await;
    sqlx::query("UPDATE openedx_events_outbox SET created_at = now() - interval '90 seconds' WHERE topic = 'orders'")
        .execute(&db.pool)
        .await
        .unwrap();
    let status = openedx_events_outbox::status(&db.pool).await.unwrap();
    let gauges = Arc::new(Gauges::default());
    let recorder = Recorder(Arc::clone(&gauges));
    metrics::with_local_recorder(&recorder, || openedx_events_outbox::publish_metrics(&status));
    let gauges = gauges.0.lock().unwrap();
    assert_eq!(gauges["openedx_events_outbox_pending"], 4.0, "{gauges:?}");
    assert_eq!(gauges["openedx_events_outbox_pending{topic=orders}"], 2.0, "{gauges:?}");
    assert_eq!(gauges["openedx_events_outbox_parked"], 0.0, "{gauges:?}");
    let age = gauges["openedx_events_outbox_oldest_pending_seconds{topic=orders}"];
    assert!((90.0..120.0).contains(&age), "{gauges:?}");
    assert!(gauges["openedx_events_outbox_oldest_pending_seconds{topic=order-audit}"] < 30.0, "{gauges:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_retention_published_rows_are_kept_then_purged() {
    produce_in_outbox_mode();
    let db = Scratch::new("retention").await;
    let mut redis = RedisScratch::new("outbox-retention");
    send_committed(&db.pool, "r1", 1).await;
    let mut relay = Relay::builder(db.pool.clone(), redis_producer(&redis))
        .topics(["orders"])
        .retention(Duration::from_millis(300))
        .housekeeping_interval(Duration::from_millis(50))
        .build();
    assert_eq!(drain(&mut relay, 1).await, 1);
    assert_eq!(read_topic(&mut redis, "orders").len(), 1);
    let status = openedx_events_outbox::status(&db.pool).await.unwrap();
    let orders = status.topics.iter().find(|t| t.topic == "orders").unwrap();
    assert_eq!((orders.pending, orders.published), (0, 1), "kept, marked published: {status:?}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    relay.run_once().await.unwrap();
    let status = openedx_events_outbox::status(&db.pool).await.unwrap();
    assert!(status.topics.iter().all(|t| t.topic != "orders"), "purged after the retention: {status:?}");
    assert_eq!(read_topic(&mut redis, "orders").len(), 1, "and not produced again");
}
