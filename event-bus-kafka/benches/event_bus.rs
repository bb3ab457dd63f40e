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
/// How long a consumer is left, untimed, to fetch the rest of a batch after its first message.
const SETTLE: Duration = Duration::from_millis(5);

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

/// The librdkafka properties of `KafkaConsumer` (see `KafkaConsumerBuilder::parts`), so that
/// both sides fetch and prefetch alike (librdkafka's defaults for `fetch.*` and
/// `queued.min.messages` on both).
fn consumer_properties(settings: &KafkaSettings, group: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", settings.bootstrap_servers.as_deref().unwrap_or_default())
        .set("group.id", group)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000");
    config
}

fn raw_consumer(settings: &KafkaSettings, group: &str, topic: &str) -> BaseConsumer {
    let consumer: BaseConsumer = consumer_properties(settings, group).create().expect("a raw consumer");
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
    let raw_send = |topic: &str, count: usize| {
        for _ in 0..count {
            let mut owned = OwnedHeaders::new_with_capacity(headers.len());
            for (k, v) in &headers {
                owned = owned.insert(Header { key: k, value: Some(v) });
            }
            let mut record = BaseRecord::<[u8], [u8]>::to(topic).key(&key_bytes).payload(&value_bytes).headers(owned);
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
    group.bench_function("raw rdkafka, same bytes, acknowledged", |b| b.iter(|| raw_send(&full, BATCH)));
    group.bench_function("KafkaProducer::send_batch", |b| {
        b.iter(|| assert!(producer.send_batch(&batch).iter().all(Result::is_ok)))
    });
    group.finish();

    // Each side consumes its own topic, batch by batch: BATCH + 1 messages are produced
    // (untimed), the first is awaited (untimed: that is the broker's fetch latency), then the
    // clock runs while the other BATCH, fetched in the same response and queued locally, are
    // polled (and, for ours, decoded, dispatched) and their offsets stored. Both sides read the
    // same number of messages of the same bytes, with the same consumer properties.
    let raw_topic = settings.full_topic("bench-consume-raw");
    let ours_topic = "bench-consume-ours";
    create_topic(&settings, &raw_topic, 1, 1).expect("the raw topic");
    create_topic(&settings, &settings.full_topic(ours_topic), 1, 1).expect("our topic");
    let mut group = c.benchmark_group("consume");
    group.throughput(Throughput::Elements(BATCH as u64));
    // Criterion counts only the timed part, about 0.2-1.5 ms a batch, while producing a batch
    // takes about 10 ms: short times here (they override the command line's) keep a run to a
    // minute or two.
    group.sample_size(10).warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_millis(500));
    let raw_consumer = raw_consumer(&settings, &format!("bench-raw-{}", std::process::id()), &raw_topic);
    // The floor stores by the message's topic handle (`store_offset_from_message`), as ours does.
    // With `headers`, it also reads every header as ours must (the event type is one): that is
    // librdkafka parsing them, a cost no consumer of this wire format avoids.
    let raw_poll = |wait: Duration, headers: bool| loop {
        if let Some(Ok(m)) = raw_consumer.poll(wait) {
            if headers {
                use rdkafka::message::Headers;
                let read =
                    m.headers().map_or(0, |h| h.iter().map(|h| h.key.len() + h.value.map_or(0, <[u8]>::len)).sum());
                std::hint::black_box(read);
            }
            raw_consumer.store_offset_from_message(&m).expect("stored");
            break;
        }
    };
    for (name, headers) in [("raw rdkafka, poll and store", false), ("raw rdkafka, poll, read headers and store", true)]
    {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    raw_send(&raw_topic, BATCH + 1);
                    raw_poll(Duration::from_millis(100), headers);
                    // The rest of the batch fetched and queued locally before the clock starts.
                    std::thread::sleep(SETTLE);
                    let start = Instant::now();
                    for _ in 0..BATCH {
                        raw_poll(Duration::from_millis(100), headers);
                    }
                    elapsed += start.elapsed();
                }
                elapsed
            })
        });
    }
    let mut consumer = KafkaConsumer::builder(settings.clone())
        .topic(ours_topic)
        .group_id(format!("bench-ours-{}", std::process::id()))
        .start(StartFrom::Beginning)
        .property("session.timeout.ms", "6000")
        .build()
        .expect("a consumer");
    let ours_full = consumer.full_topic().to_owned();
    group.bench_function("KafkaConsumer, decode and dispatch", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                raw_send(&ours_full, BATCH + 1);
                let first = consumer.stats().delivered + 1;
                while consumer.stats().delivered < first {
                    consumer.consume_one().expect("consumed");
                }
                std::thread::sleep(SETTLE);
                let start = Instant::now();
                while consumer.stats().delivered < first + BATCH as u64 {
                    consumer.consume_one().expect("consumed");
                }
                elapsed += start.elapsed();
            }
            elapsed
        })
    });
    group.finish();
    drop(consumer);

    if std::env::var_os("KAFKA_BENCH_SKIP_PYTHON").is_none() {
        python_for_scale(&settings);
    }
}

/// Upstream's producer and consumer on `XBLOCK_PUBLISHED` (`benches/python_speed.py`, through the
/// repository's virtual environment), then ours consuming the very bytes upstream's producer
/// wrote, timed the same way (from the first event handled to the last). Printed, not part of
/// criterion's statistics: upstream's consumer is too slow for criterion's samples.
fn python_for_scale(settings: &KafkaSettings) {
    use openedx_events_catalog::content_authoring::signals::{XBLOCK_PUBLISHED, XblockPublished};
    const COUNT: usize = 3000;
    let python = openedx_events_test_support::python::python();
    python.require(&["edx-event-bus-kafka", "confluent-kafka"]);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/python_speed.py");
    let prefix = format!("bench-python-{}", std::process::id());
    let output = std::process::Command::new(python.executable())
        .arg(&script)
        .args(["--bootstrap-servers", settings.bootstrap_servers.as_deref().unwrap_or_default()])
        .args(["--registry-url", settings.schema_registry_url.as_deref().unwrap_or_default()])
        .args(["--topic-prefix", &prefix, "--count", &COUNT.to_string()])
        .output()
        .expect("python_speed.py runs");
    assert!(output.status.success(), "python_speed.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let line = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    let (python_produce, python_consume) =
        (report["produce_per_s"].as_f64().expect("a rate"), report["consume_per_s"].as_f64().expect("a rate"));

    static SEEN: AtomicU64 = AtomicU64::new(0);
    XBLOCK_PUBLISHED.connect("bench-python-counter", |_: &XblockPublished, _: &EventsMetadata| {
        SEEN.fetch_add(1, Ordering::Relaxed);
        Ok::<(), String>(())
    });
    let mut consumer = KafkaConsumer::builder(settings.clone().with_topic_prefix(prefix))
        .topic("python-speed")
        .group_id(format!("bench-python-ours-{}", std::process::id()))
        .start(StartFrom::Beginning)
        .property("session.timeout.ms", "6000")
        .build()
        .expect("a consumer");
    while consumer.stats().delivered < 1 {
        consumer.consume_one().expect("consumed");
    }
    let start = Instant::now();
    while consumer.stats().delivered < COUNT as u64 {
        consumer.consume_one().expect("consumed");
    }
    let ours_consume = (COUNT - 1) as f64 / start.elapsed().as_secs_f64();
    assert_eq!(consumer.stats().dead_lettered, 0, "upstream's events are all dispatched");
    println!(
        "python, {COUNT} XBLOCK_PUBLISHED events: upstream's producer {python_produce:.0} events/s; \
         upstream's KafkaEventConsumer {python_consume:.0} events/s; KafkaConsumer on the same bytes \
         {ours_consume:.0} events/s ({:.0}x upstream's consumer)",
        ours_consume / python_consume
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
