//! The relay to Kafka, against real PostgreSQL and the Kafka broker and schema registry
//! (`KAFKA_BOOTSTRAP_SERVERS`, `SCHEMA_REGISTRY_URL`; `bash .ci/setup` starts them): events sent
//! in committed transactions reach every configured topic, in order per key, keyed and with
//! headers as the Kafka backend writes them; a rolled-back one never appears. What reached Kafka
//! is read back with a plain consumer, outside any group.
#![allow(missing_docs, reason = "tests")]

mod common;
#[path = "common/kafka.rs"]
mod kafka;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use openedx_events::EventsMetadata;
use openedx_events::event_bus::{EventKey, MetadataHeader, metadata_from_headers};
use openedx_events_kafka::{KafkaProducer, header_name, unframe};
use openedx_events_outbox::{OutboxExt as _, Relay};
use rdkafka::Message as _;
use rdkafka::message::Headers as _;

/// The metadata of every row in the outbox, by event id.
async fn metadata_of_rows(db: &Scratch) -> BTreeMap<String, EventsMetadata> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT headers::text FROM openedx_events_outbox").fetch_all(&db.pool).await.unwrap();
    rows.iter()
        .map(|headers| {
            let headers: serde_json::Map<String, serde_json::Value> = serde_json::from_str(headers).unwrap();
            let metadata = metadata_from_headers(
                |h| headers.get(h.entry_name()).and_then(|v| v.as_str()).map(str::as_bytes),
                MetadataHeader::entry_name,
            )
            .expect("the row's metadata");
            (metadata.id.to_string(), metadata)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_events_reach_every_kafka_topic_in_order_per_key_and_a_rolled_back_one_never() {
    produce_in_outbox_mode();
    let db = Scratch::new("kafka").await;
    let bus = kafka::Scratch::new("outbox-kafka");
    for topic in TOPICS {
        bus.topic(topic, 3);
    }

    // Six keys over three partitions, 60 events, each in a transaction of its own; a rolled-back
    // transaction between them.
    let mut expected = Vec::new();
    for seq in 0..60 {
        let order_id = format!("order-{}", seq % 6);
        if seq == 30 {
            let mut tx = db.pool.begin().await.unwrap();
            ORDER_PLACED
                .event(OrderPlaced { order_id: "rolled-back".into(), seq })
                .in_transaction(&mut tx)
                .send_async()
                .await
                .unwrap();
            tx.rollback().await.unwrap();
        }
        send_committed(&db.pool, &order_id, seq).await;
        expected.push((order_id, seq));
    }
    let sent = metadata_of_rows(&db).await;
    assert_eq!(sent.len(), 60, "one event id per event, its two rows sharing it");

    let producer = Arc::new(KafkaProducer::new(bus.settings.clone()).expect("a Kafka producer"));
    let mut relay = Relay::builder(db.pool.clone(), producer).batch_size(25).build();
    assert_eq!(drain(&mut relay, 120).await, 120);
    assert_eq!(db.count().await, 0, "acknowledged rows are deleted");

    for topic in TOPICS {
        let messages = bus.read_all(topic, 60);
        assert_eq!(messages.len(), 60, "{topic}: the 60 committed events and nothing else");
        let mut arrived = Vec::new();
        let mut partition_of: BTreeMap<String, i32> = BTreeMap::new();
        for message in &messages {
            let (_, value) = unframe(message.payload().expect("a value")).expect("framed");
            let data = ORDER_PLACED.decode_avro(value).expect("the value decodes");
            // The key: the key field's value, framed Avro, as upstream keys it.
            let (_, key) = unframe(message.key().expect("a key")).expect("a framed key");
            assert_eq!(key, EventKey::String(data.order_id.clone()).to_avro().as_slice(), "{topic}: key of {data:?}");
            let partition = *partition_of.entry(data.order_id.clone()).or_insert(message.partition());
            assert_eq!(partition, message.partition(), "{topic}: one partition per key");
            // The headers carry the metadata the transaction wrote, byte for byte.
            let headers = message.headers().expect("headers");
            let header =
                |which: MetadataHeader| headers.iter().find(|h| h.key == header_name(which)).and_then(|h| h.value);
            let metadata = metadata_from_headers(header, header_name).expect("the headers are metadata");
            let written = sent.get(&metadata.id.to_string()).expect("an event the outbox held");
            assert_eq!(metadata.to_json(), written.to_json(), "{topic}: metadata of {data:?}");
            for (which, value) in openedx_events::event_bus::header_values(written) {
                assert_eq!(header(which), Some(&*value), "{topic}: header {}", header_name(which));
            }
            assert_eq!(header(MetadataHeader::Type), Some(ORDER_PLACED.event_type().as_bytes()));
            arrived.push(Arrived { event_id: metadata.id.to_string(), data, fields: Vec::new() });
        }
        // `messages` is in (partition, offset) order, and each key is in one partition: the
        // keys' order is checked on it.
        assert_complete_and_ordered(&arrived, &expected);
        let mut per_key: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for event in &arrived {
            per_key.entry(&event.data.order_id).or_default().push(event.data.seq);
        }
        for (key, seqs) in per_key {
            assert!(seqs.is_sorted() && seqs.len() == 10, "{topic}: {key} arrived as {seqs:?}");
        }
    }
    bus.delete_topics(&TOPICS).await;
}

/// Runs relay rounds until `expected` rows were relayed (30 s at most), then one more, which
/// must relay nothing; returns how many were relayed.
async fn drain(relay: &mut Relay, expected: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut total = 0;
    while total < expected && std::time::Instant::now() < deadline {
        let outcome = relay.run_once().await.expect("a relay round");
        assert_eq!(outcome.failed, 0, "{outcome:?}");
        total += outcome.relayed;
        if outcome.relayed == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    total += relay.run_once().await.expect("a relay round").relayed;
    total
}
