//! The outbox's costs, side by side: what an outbox write adds to a transaction that inserts one
//! business row (the same transaction without it is the floor), the relay's throughput to Redis
//! and to Kafka, and the spool's write and drain rates. Needs PostgreSQL (`DATABASE_URL`), Redis
//! (`REDIS_URL`) and Kafka with its registry (`KAFKA_BOOTSTRAP_SERVERS`, `SCHEMA_REGISTRY_URL`),
//! as the tests do.
#![allow(missing_docs, reason = "benchmarks")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use openedx_events::EventsMetadata;
use openedx_events::event_bus::{EventBusProducer, EventKey, OutgoingMessage};
use openedx_events_kafka::KafkaProducer;
use openedx_events_outbox::{OutboxExt as _, Relay, SpoolingProducer};
use openedx_events_redis::{RedisProducer, RedisSettings};
use openedx_events_test_support::{OwnRedis, RedisScratch, free_port, unique_name};

#[path = "../tests/common/mod.rs"]
mod common;
use common::{ORDER_PLACED, OrderPlaced, Scratch, produce_in_outbox_mode};
#[path = "../tests/common/kafka.rs"]
mod kafka;

const RELAY_ROWS: i64 = 20_000;
const SPOOL_MESSAGES: i64 = 1_000;

fn transaction_cost(c: &mut Criterion) {
    produce_in_outbox_mode();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(Scratch::new("bench_tx"));
    runtime
        .block_on(
            sqlx::query("CREATE TABLE orders (id bigserial PRIMARY KEY, order_id text NOT NULL)").execute(&db.pool),
        )
        .unwrap();
    let mut group = c.benchmark_group("transaction");
    group.throughput(Throughput::Elements(1));
    group.bench_function("business_row_only", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut tx = db.pool.begin().await.unwrap();
                sqlx::query("INSERT INTO orders (order_id) VALUES ($1)").bind("o-1").execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            })
        })
    });
    group.bench_function("business_row_and_outbox_event", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut tx = db.pool.begin().await.unwrap();
                sqlx::query("INSERT INTO orders (order_id) VALUES ($1)").bind("o-1").execute(&mut *tx).await.unwrap();
                ORDER_PLACED
                    .event(OrderPlaced { order_id: "o-1".into(), seq: 1 })
                    .in_transaction(&mut tx)
                    .send_async()
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            })
        })
    });
    group.finish();
    drop(db);
}

fn relay_throughput(c: &mut Criterion) {
    produce_in_outbox_mode();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(Scratch::new("bench_relay"));
    let redis = RedisScratch::new("outbox-bench-relay");
    // One real row, copied: the relay's work per row does not depend on how it was written.
    runtime.block_on(common::send_committed(&db.pool, "template", 0));
    // The template is kept in a table of its own; the outbox starts empty.
    runtime
        .block_on(
            sqlx::query("CREATE TABLE template AS SELECT * FROM openedx_events_outbox WHERE topic = 'orders'")
                .execute(&db.pool),
        )
        .unwrap();
    runtime.block_on(sqlx::query("DELETE FROM openedx_events_outbox").execute(&db.pool)).unwrap();
    let kafka = kafka::Scratch::new("outbox-bench-relay");
    kafka.topic("orders", 3);
    let to_redis = Relay::builder(db.pool.clone(), Arc::new(RedisProducer::new(redis.settings()).unwrap()));
    let to_kafka = Relay::builder(db.pool.clone(), Arc::new(KafkaProducer::new(kafka.settings.clone()).unwrap()));
    let mut group = c.benchmark_group("relay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RELAY_ROWS as u64));
    for (name, builder) in [("to_redis", to_redis), ("to_kafka", to_kafka)] {
        let mut relay = builder.batch_size(2000).build();
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    runtime.block_on(async {
                        sqlx::query(
                            "INSERT INTO openedx_events_outbox (topic, event_type, event_id, event_key_field, \
                             event_key, event_key_type, headers, event_data) \
                             SELECT topic, event_type, gen_random_uuid(), event_key_field, 'key-' || (n % 100), \
                             event_key_type, headers, event_data FROM template, generate_series(1, $1) AS n",
                        )
                        .bind(RELAY_ROWS)
                        .execute(&db.pool)
                        .await
                        .unwrap();
                        let start = Instant::now();
                        let mut relayed = 0;
                        while relayed < RELAY_ROWS as usize {
                            assert!(start.elapsed() < Duration::from_secs(60), "the relay is stuck at {relayed} rows");
                            relayed += relay.run_once().await.unwrap().relayed;
                        }
                        total += start.elapsed();
                    });
                }
                total
            })
        });
    }
    group.finish();
    runtime.block_on(kafka.delete_topics(&["orders"]));
    drop(db);
}

fn spool_rates(c: &mut Criterion) {
    let data = OrderPlaced { order_id: "key-1".into(), seq: 1 };
    let bytes = ORDER_PLACED.encode_avro(&data).unwrap();
    let metadata = EventsMetadata::new(ORDER_PLACED.event_type());
    let key = EventKey::String("key-1".into());
    let message =
        OutgoingMessage::new(&ORDER_PLACED, "orders", Some("order_id"), &bytes, &metadata).with_key(Some(&key));
    let mut group = c.benchmark_group("spool");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SPOOL_MESSAGES as u64));
    // Writing while the bus is down, then draining once it is back, each timed on its own.
    let mut drain_times = Vec::new();
    group.bench_function("write_while_the_bus_is_down", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let port = free_port();
                let path = std::env::temp_dir().join(format!("{}.sqlite", unique_name("oe-spool-bench")));
                let prefix = unique_name("oe-bench-spool");
                let settings =
                    RedisSettings::default().with_url(format!("redis://127.0.0.1:{port}")).with_topic_prefix(&prefix);
                let spool = SpoolingProducer::open(&path, Arc::new(RedisProducer::new(settings).unwrap())).unwrap();
                let start = Instant::now();
                for _ in 0..SPOOL_MESSAGES {
                    spool.send(&message).unwrap();
                }
                total += start.elapsed();
                let bus = OwnRedis::start_on(port, false);
                // Timed from the first message drained, so the drainer's back-off wake-up (it
                // naps up to 5 s between tries while the bus is down) is not counted.
                while spool.stats().drained == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
                let start = Instant::now();
                let first = spool.stats().drained;
                while spool.stats().waiting > 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
                drain_times.push((start.elapsed(), SPOOL_MESSAGES as u64 - first));
                spool.shutdown();
                drop(bus);
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            total
        })
    });
    group.finish();
    let mut rates: Vec<f64> = drain_times
        .iter()
        .filter(|(time, n)| *n > 0 && !time.is_zero())
        .map(|(time, n)| *n as f64 / time.as_secs_f64())
        .collect();
    rates.sort_by(f64::total_cmp);
    if let Some(median) = rates.get(rates.len() / 2) {
        println!(
            "spool/drain_once_the_bus_is_back: median {median:.0} messages/s ({} runs of {SPOOL_MESSAGES} messages, timed from the first drained)",
            rates.len()
        );
    }
}

criterion_group!(benches, transaction_cost, relay_throughput, spool_rates);
criterion_main!(benches);
