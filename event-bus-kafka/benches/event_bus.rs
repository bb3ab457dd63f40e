//! Throughput of the Kafka backend against raw rdkafka moving the same bytes, in one run:
//! producing (each message acknowledged) and consuming with dispatch to a receiver (each offset
//! stored). Needs the broker and registry of `.ci/setup-kafka`. Numbers: `benches/README.md`.
#![allow(missing_docs, reason = "bench payloads need no docs")]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use openedx_events::event_bus::{EventBusProducer, EventKey, OutgoingMessage};
use openedx_events::{EventData, EventsMetadata, openedx_event};
use openedx_events_kafka::{KafkaConsumer, KafkaProducer, KafkaSettings, StartFrom, create_topic};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer};
use rdkafka::{ClientConfig, Message};

const BATCH: usize = 500;

#[derive(EventData, Clone, Debug, PartialEq)]
pub struct Course {
    pub key: String,
}

#[openedx_event(name = BENCH_PUBLISHED, event_type = "org.openedx.content_authoring.kafka_bench.published.v1", key_field = "course.key")]
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    pub course: Course,
    pub title: String,
    pub n: i64,
}

static DISPATCHED: AtomicU64 = AtomicU64::new(0);

fn settings() -> KafkaSettings {
    let servers = std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|_| "127.0.0.1:9092".into());
    let registry = std::env::var("SCHEMA_REGISTRY_URL").unwrap_or_else(|_| "http://127.0.0.1:8081".into());
    KafkaSettings::default()
        .with_bootstrap_servers(servers)
        .with_schema_registry_url(registry)
        .with_topic_prefix(format!("bench-{}", std::process::id()))
}

fn raw_producer(settings: &KafkaSettings) -> BaseProducer<DefaultProducerContext> {
    ClientConfig::new()
        .set("bootstrap.servers", settings.bootstrap_servers.as_deref().unwrap_or_default())
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .expect("a raw producer")
}

fn raw_consumer(settings: &KafkaSettings, group: &str, topic: &str) -> BaseConsumer {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", settings.bootstrap_servers.as_deref().unwrap_or_default())
        .set("group.id", group)
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .expect("a raw consumer");
    consumer.subscribe(&[topic]).expect("subscribed");
    consumer
}

fn bench(c: &mut Criterion) {
    let settings = settings();
    let full = settings.full_topic("bench");
    create_topic(&settings, &full, 1, 1).expect("the topic");
    BENCH_PUBLISHED.connect("bench-counter", |_: &Published, _: &EventsMetadata| {
        DISPATCHED.fetch_add(1, Ordering::Relaxed);
        Ok::<(), String>(())
    });
    let producer = KafkaProducer::new(settings.clone()).expect("a producer");
    let data = Published {
        course: Course { key: "course-v1:edX+Bench+2024".into() },
        title: "A title of some length".repeat(4),
        n: 7,
    };
    let bytes = BENCH_PUBLISHED.encode_avro(&data).expect("encodable");
    let metadata = BENCH_PUBLISHED.generate_signal_metadata(None);
    let key = EventKey::String(data.course.key.clone());
    let message =
        OutgoingMessage::new(&BENCH_PUBLISHED, "bench", Some("course.key"), &bytes, &metadata).with_key(Some(&key));
    let batch: Vec<OutgoingMessage<'_>> = vec![message; BATCH];
    // One message through the backend, to register the schemas and copy its exact bytes.
    producer.send(&message).expect("produced");
    let raw = raw_producer(&settings);
    let sample = {
        let consumer = raw_consumer(&settings, "bench-sample", &full);
        loop {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
                break m.detach();
            }
        }
    };
    let (key_bytes, value_bytes) = (sample.key().expect("a key").to_vec(), sample.payload().expect("a value").to_vec());
    let headers: Vec<(String, Vec<u8>)> = {
        use rdkafka::message::Headers;
        sample
            .headers()
            .expect("headers")
            .iter()
            .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
            .collect()
    };
    let raw_send = |count: usize| {
        for _ in 0..count {
            let mut owned = OwnedHeaders::new_with_capacity(headers.len());
            for (k, v) in &headers {
                owned = owned.insert(Header { key: k, value: Some(v) });
            }
            let mut record = BaseRecord::<[u8], [u8]>::to(&full).key(&key_bytes).payload(&value_bytes).headers(owned);
            loop {
                match raw.send(record) {
                    Ok(()) => break,
                    Err((_, back)) => {
                        record = back;
                        raw.poll(Duration::from_millis(1));
                    }
                }
            }
            raw.poll(Duration::ZERO);
        }
        // Every delivery report in, as `send_batch` waits for them (`flush` would wait in steps
        // of 100 ms).
        while raw.in_flight_count() > 0 {
            raw.poll(Duration::from_millis(1));
        }
    };

    let mut group = c.benchmark_group("produce");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("raw rdkafka, same bytes, acknowledged", |b| b.iter(|| raw_send(BATCH)));
    group.bench_function("KafkaProducer::send_batch", |b| {
        b.iter(|| assert!(producer.send_batch(&batch).iter().all(Result::is_ok)))
    });
    group.finish();

    let mut group = c.benchmark_group("consume");
    group.throughput(Throughput::Elements(BATCH as u64));
    let raw_consumer = raw_consumer(&settings, &format!("bench-raw-{}", std::process::id()), &full);
    group.bench_function("raw rdkafka, poll and store", |b| {
        b.iter_custom(|iters| {
            let wanted = iters as usize * BATCH;
            raw_send(wanted);
            let start = Instant::now();
            let mut got = 0;
            while got < wanted {
                if let Some(Ok(m)) = raw_consumer.poll(Duration::from_millis(100)) {
                    raw_consumer.store_offset(m.topic(), m.partition(), m.offset()).expect("stored");
                    got += 1;
                }
            }
            start.elapsed()
        })
    });
    let mut consumer = KafkaConsumer::builder(settings.clone())
        .topic("bench")
        .group_id(format!("bench-ours-{}", std::process::id()))
        .start(StartFrom::Beginning)
        .property("session.timeout.ms", "6000")
        .build()
        .expect("a consumer");
    group.bench_function("KafkaConsumer, decode and dispatch", |b| {
        b.iter_custom(|iters| {
            let wanted = iters * BATCH as u64;
            raw_send(wanted as usize);
            let before = consumer.stats().delivered;
            let start = Instant::now();
            while consumer.stats().delivered - before < wanted {
                consumer.consume_one().expect("consumed");
            }
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
