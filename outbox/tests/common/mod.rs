//! What the outbox's tests share: a PostgreSQL schema of each test's own (dropped after), the
//! test events produced in outbox mode, and reading back what reached a Redis stream.
#![allow(dead_code, reason = "each test binary uses part of it")]
#![allow(missing_docs, unreachable_pub, reason = "test fixtures")]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use openedx_events::event_bus::{EventBusProducer, ProducerConfig, ProducerMode, ProducingGuard, start_producing};
use openedx_events::openedx_event;
use openedx_events_test_support::SETUP_HINT;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

#[openedx_event(name = ORDER_PLACED, event_type = "org.openedx.test.outbox.order.placed.v1", key_field = "order_id")]
#[derive(Clone, Debug, PartialEq)]
pub struct OrderPlaced {
    pub order_id: String,
    pub seq: i64,
}

/// The topics `ORDER_PLACED` goes to.
pub const TOPICS: [&str; 2] = ["orders", "order-audit"];

/// The database the tests use: `DATABASE_URL`, by default `postgres://postgres@127.0.0.1:5432/test`.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Produces `ORDER_PLACED` in outbox mode to both topics, once per test binary (producing
/// receivers are global; with outbox mode they never call the producer inside a transaction).
pub fn produce_in_outbox_mode() {
    static GUARD: OnceLock<ProducingGuard> = OnceLock::new();
    GUARD.get_or_init(|| {
        let config = ProducerConfig::from_json(
            r#"{"org.openedx.test.outbox.order.placed.v1": {
                "mode": "outbox",
                "orders": {"event_key_field": "order_id", "enabled": true},
                "order-audit": {"event_key_field": "order_id", "enabled": true}
            }}"#,
        )
        .expect("the test configuration is valid");
        assert_eq!(config.mode(ORDER_PLACED.event_type()), ProducerMode::Outbox);
        start_producing(&config, Arc::new(NoProducer))
    });
}

/// A producer the outbox-mode receiver is never expected to call.
struct NoProducer;

impl EventBusProducer for NoProducer {
    fn send(
        &self,
        _: &openedx_events::event_bus::OutgoingMessage<'_>,
    ) -> Result<(), openedx_events::event_bus::ProduceError> {
        panic!("an outbox-mode event was produced immediately")
    }
}

/// One test's schema, with the outbox migrated into it; dropped with [`Scratch::drop_schema`] or
/// on drop.
pub struct Scratch {
    pub schema: String,
    pub pool: PgPool,
}

impl Scratch {
    pub async fn new(test: &str) -> Scratch {
        let schema = format!("oe_outbox_{test}_{}", uuid::Uuid::new_v4().simple());
        let options: PgConnectOptions = database_url().parse().expect("DATABASE_URL is a PostgreSQL URL");
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await
            .unwrap_or_else(|e| {
                panic!("these tests need PostgreSQL at {} (DATABASE_URL): {e}; {SETUP_HINT}", database_url())
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .expect("CREATE SCHEMA");
        admin.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options.options([("search_path", schema.as_str())]))
            .await
            .expect("a pool on the test schema");
        openedx_events_outbox::migrate(&pool).await.expect("the outbox migrates");
        Scratch { schema, pool }
    }

    /// `DATABASE_URL` with the schema as the connections' search path (for child processes).
    pub fn url(&self) -> String {
        let url = database_url();
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-csearch_path%3D{}", self.schema)
    }

    pub async fn count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM openedx_events_outbox").fetch_one(&self.pool).await.expect("count")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let schema = self.schema.clone();
        // A thread of its own with its own runtime: drop cannot await.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database_url()).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// One event as it reached a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrived {
    pub event_id: String,
    pub data: OrderPlaced,
    pub fields: Vec<(String, Vec<u8>)>,
}

/// Everything in a stream, in stream order.
pub fn read_stream(connection: &mut redis::Connection, stream: &str) -> Vec<Arrived> {
    type Entry = (String, Vec<(String, Vec<u8>)>);
    let entries: Vec<Entry> = redis::cmd("XRANGE").arg(stream).arg("-").arg("+").query(connection).unwrap_or_default();
    entries
        .into_iter()
        .map(|(_, fields)| {
            let get = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
            let event_id = String::from_utf8(get("id")).expect("the id is text");
            let data = ORDER_PLACED.decode_avro(&get("event_data")).expect("the data decodes");
            Arrived { event_id, data, fields }
        })
        .collect()
}

/// Everything in a topic's stream of this test's corner of Redis.
pub fn read_topic(redis: &mut openedx_events_test_support::RedisScratch, topic: &str) -> Vec<Arrived> {
    let stream = redis.stream(topic);
    read_stream(redis.connection(), &stream)
}

/// Waits (up to `timeout`) until a stream holds at least `n` distinct events; returns its entries.
pub fn wait_for_stream(connection: &mut redis::Connection, stream: &str, n: usize, timeout: Duration) -> Vec<Arrived> {
    let deadline = Instant::now() + timeout;
    loop {
        let arrived = read_stream(connection, stream);
        // Distinct events: a duplicate (at least once) must not stand in for one still to come.
        let distinct: std::collections::BTreeSet<(&str, i64)> =
            arrived.iter().map(|event| (event.data.order_id.as_str(), event.data.seq)).collect();
        if distinct.len() >= n || Instant::now() > deadline {
            return arrived;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asserts that each key's events arrived in `seq` order (duplicates, allowed by at-least-once,
/// count by their first arrival) and that exactly the `expected` (order id, seq) pairs arrived.
pub fn assert_complete_and_ordered(arrived: &[Arrived], expected: &[(String, i64)]) {
    use std::collections::{BTreeMap, BTreeSet};
    let mut seen = BTreeSet::new();
    let mut last: BTreeMap<&str, i64> = BTreeMap::new();
    for event in arrived {
        let pair = (event.data.order_id.clone(), event.data.seq);
        if !seen.insert(pair) {
            continue;
        }
        if let Some(previous) = last.insert(&event.data.order_id, event.data.seq) {
            assert!(
                previous < event.data.seq,
                "key {} out of order: {} arrived after {}",
                event.data.order_id,
                event.data.seq,
                previous
            );
        }
    }
    let expected: BTreeSet<(String, i64)> = expected.iter().cloned().collect();
    let missing: Vec<_> = expected.difference(&seen).collect();
    let extra: Vec<_> = seen.difference(&expected).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}, unexpected {extra:?}");
}

/// Sends one order inside its own committed transaction.
pub async fn send_committed(pool: &PgPool, order_id: &str, seq: i64) {
    use openedx_events_outbox::OutboxExt as _;
    let mut tx = pool.begin().await.expect("begin");
    ORDER_PLACED
        .event(OrderPlaced { order_id: order_id.to_owned(), seq })
        .in_transaction(&mut tx)
        .send_async()
        .await
        .expect("the outbox write");
    tx.commit().await.expect("commit");
}
