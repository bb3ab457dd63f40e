//! Criterion benchmarks of the Redis Streams event bus against a real Redis (`REDIS_URL`,
//! default `redis://127.0.0.1:6379`):
//!
//! - `raw/…`: the floor — the same eight fields added with a plain, prebuilt `XADD` on one
//!   connection (one round trip per event, and 100 pipelined); and `consume/raw_…`, a plain
//!   `XREADGROUP` + `XACK` loop that only takes the ids out of the reply (the redis crate still
//!   parses all of it);
//! - `produce/…`: `RedisProducer::send_to_stream` one at a time (with the Avro bytes and the
//!   metadata made beforehand, and with both made for each event), `send_event` through
//!   `start_producing`, and `send_batch` of 100 and 1000;
//! - `consume/…`: a stream filled with 10,000 events beforehand, read by a new consumer group
//!   with `RedisConsumer::poll` until all are dispatched and acknowledged (batch sizes 100 and
//!   500);
//! - `cpu/…`: the parts that need no Redis — building a message's fields, and dispatching one
//!   message read from the bus (`deliver`: parse the headers, decode the Avro, call the receiver).
//!
//! Each run uses streams under its own prefix and deletes them at the end. Run with
//! `cargo bench -p openedx-events-redis --bench event_bus -- --warm-up-time 1
//! --measurement-time 3`; results are in `benches/README.md`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use openedx_events::event_bus::{
    BackgroundProducer, Delivery, EventBusConsumer, ProducerConfig, deliver_fields, message_fields, start_producing,
};
use openedx_events::{EventData, EventsMetadata, openedx_event, receiver};
use openedx_events_redis::{RedisConsumer, RedisProducer, RedisSettings, StartFrom};
use openedx_events_test_support::{RedisScratch, redis_url};
use redis::ConnectionLike as _;

/// The learner of a [`BenchEnrollment`].
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct BenchUser {
    /// The account id.
    pub id: i64,
    /// Whether the account is active.
    pub is_active: bool,
    /// The login name.
    pub username: String,
    /// The email address.
    pub email: String,
    /// The full name.
    pub name: String,
}

/// An enrollment, about the size of `CourseEnrollmentData`: a few strings, an integer, booleans,
/// a time and an optional value.
#[openedx_event(name = BENCH_ENROLLED, event_type = "org.openedx.bench.event_bus.enrollment.created.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct BenchEnrollment {
    /// The learner.
    pub user: BenchUser,
    /// The course run.
    pub course_key: String,
    /// The course's title.
    pub display_name: String,
    /// The enrollment track.
    pub mode: String,
    /// Whether the enrollment is active.
    pub is_active: bool,
    /// When the enrollment was made.
    pub creation_date: DateTime<Utc>,
    /// Who made it, when known.
    pub created_by: Option<String>,
}

/// How many events the receiver saw.
static RECEIVED: AtomicU64 = AtomicU64::new(0);

/// The one receiver: trivial work, so that what is measured is the bus.
#[receiver(BENCH_ENROLLED)]
fn on_enrolled(data: &BenchEnrollment, metadata: &EventsMetadata) {
    black_box((data, metadata));
    RECEIVED.fetch_add(1, Ordering::Relaxed);
}

fn enrollment() -> BenchEnrollment {
    BenchEnrollment {
        user: BenchUser {
            id: 1_234_567,
            is_active: true,
            username: "edx_learner_42".to_owned(),
            email: "edx_learner_42@example.com".to_owned(),
            name: "Ada Lovelace".to_owned(),
        },
        course_key: "course-v1:edX+DemoX+Demo_Course".to_owned(),
        display_name: "Demonstration Course".to_owned(),
        mode: "verified".to_owned(),
        is_active: true,
        creation_date: Utc.with_ymd_and_hms(2024, 5, 1, 12, 30, 0).single().expect("a valid time"),
        created_by: Some("staff_member".to_owned()),
    }
}

/// How many events the consume benchmarks read per iteration.
const CONSUME_EVENTS: usize = 10_000;

/// The run's settings (a prefix of its own, whose streams are deleted at the end).
struct Scratch {
    settings: RedisSettings,
    _redis: RedisScratch,
}

impl Scratch {
    fn new() -> Scratch {
        let redis = RedisScratch::new("bench");
        let mut settings = RedisSettings::default().with_url(redis_url()).with_topic_prefix(redis.prefix());
        settings.poll_timeout = Duration::from_millis(100);
        Scratch { settings, _redis: redis }
    }

    fn connection(&self) -> redis::Connection {
        openedx_events_test_support::redis_connection()
    }
}

/// A plain `XADD` of the producer's fields, with the producer's `MAXLEN ~`.
fn raw_xadd(stream: &str, max_len: u64, fields: &[(&'static str, Vec<u8>)]) -> redis::Cmd {
    let mut command = redis::cmd("XADD");
    command.arg(stream).arg("MAXLEN").arg("~").arg(max_len).arg("*");
    for (name, value) in fields {
        command.arg(*name).arg(value.as_slice());
    }
    command
}

fn produce(c: &mut Criterion, scratch: &Scratch) {
    let settings = &scratch.settings;
    let producer = Arc::new(RedisProducer::new(settings.clone()).expect("settings with a URL"));
    let data = enrollment();
    let metadata = BENCH_ENROLLED.generate_signal_metadata(None);
    let avro = BENCH_ENROLLED.encode_avro(&data).expect("serializable");
    let fields: Vec<(&'static str, Vec<u8>)> =
        message_fields(&metadata, &avro).iter().map(|(name, value)| (*name, value.to_vec())).collect();
    let message_bytes: usize = fields.iter().map(|(name, value)| name.len() + value.len()).sum();
    eprintln!("event: {} bytes of Avro, {message_bytes} bytes of field names and values", avro.len());

    let mut connection = scratch.connection();
    let raw_stream = settings.full_topic("raw");
    let one = raw_xadd(&raw_stream, settings.stream_max_len, &fields);
    let mut hundred = redis::pipe();
    for _ in 0..100 {
        hundred.add_command(raw_xadd(&raw_stream, settings.stream_max_len, &fields));
    }

    let mut group = c.benchmark_group("raw");
    group.throughput(Throughput::Elements(1));
    group.bench_function("xadd", |b| b.iter(|| one.query::<String>(&mut connection).expect("XADD")));
    group.throughput(Throughput::Elements(100));
    group.bench_function("xadd_pipelined/100", |b| {
        b.iter(|| hundred.query::<Vec<String>>(&mut connection).expect("XADD"));
    });
    group.finish();

    let full_topic = settings.full_topic("produce");
    let mut group = c.benchmark_group("produce");
    group.throughput(Throughput::Elements(1));
    group.bench_function("send_to_stream/pre-encoded", |b| {
        b.iter(|| producer.send_to_stream(&full_topic, &metadata, black_box(&avro)).expect("produced"));
    });
    group.bench_function("send_to_stream/metadata+encode", |b| {
        b.iter(|| {
            let metadata = BENCH_ENROLLED.generate_signal_metadata(None);
            let avro = BENCH_ENROLLED.encode_avro(black_box(&data)).expect("serializable");
            producer.send_to_stream(&full_topic, &metadata, &avro).expect("produced")
        });
    });
    let config = ProducerConfig::from_value(&serde_json::json!({
        "org.openedx.bench.event_bus.enrollment.created.v1": {
            "send_event": {"event_key_field": "course_key", "enabled": true}
        }
    }))
    .expect("a valid configuration");
    let guard = start_producing(&config, Arc::clone(&producer) as Arc<_>);
    group.bench_function("send_event/producing", |b| {
        b.iter(|| {
            let responses = BENCH_ENROLLED.send_event(black_box(data.clone()));
            debug_assert!(responses.iter().all(|r| r.is_ok()));
            responses
        });
    });
    drop(guard);
    for size in [100, 1000] {
        let batch: Vec<(&str, &EventsMetadata, &[u8])> = vec![("batch", &metadata, avro.as_slice()); size];
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("send_batch", size), &batch, |b, batch| {
            b.iter(|| producer.send_entries(black_box(batch)).expect("produced"));
        });
    }
    // `send_event` through the background producer: 10,000 events queued, then a flush; the
    // thread produces them in pipelined batches of 500.
    let background = Arc::new(BackgroundProducer::builder(Arc::clone(&producer) as Arc<_>).capacity(20_000).start());
    let config = ProducerConfig::from_value(&serde_json::json!({
        "org.openedx.bench.event_bus.enrollment.created.v1": {
            "background": {"event_key_field": "course_key", "enabled": true}
        }
    }))
    .expect("a valid configuration");
    let guard = start_producing(&config, Arc::clone(&background) as Arc<_>);
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(10);
    group.bench_function("background/send_event+flush/10000", |b| {
        b.iter(|| {
            for _ in 0..10_000 {
                BENCH_ENROLLED.send_event(black_box(data.clone()));
            }
            assert!(background.flush(Duration::from_secs(30)), "flushed");
        });
    });
    drop(guard);
    assert_eq!(background.stats().lost + background.stats().rejected, 0);
    group.finish();
}

/// Fills the consume stream with [`CONSUME_EVENTS`] events, each with metadata of its own.
fn fill(producer: &RedisProducer, topic: &str) {
    let data = enrollment();
    let avro = BENCH_ENROLLED.encode_avro(&data).expect("serializable");
    let metadata: Vec<EventsMetadata> =
        (0..CONSUME_EVENTS).map(|_| BENCH_ENROLLED.generate_signal_metadata(None)).collect();
    for chunk in metadata.chunks(1000) {
        let batch: Vec<(&str, &EventsMetadata, &[u8])> = chunk.iter().map(|m| (topic, m, avro.as_slice())).collect();
        producer.send_entries(&batch).expect("produced");
    }
}

/// The ids of an `XREADGROUP` reply (`[[stream, [[id, fields], ...]]]`), taken as cheaply as can
/// be: the floor reads nothing else.
fn entry_ids(reply: redis::Value) -> Vec<Vec<u8>> {
    use redis::Value;
    let Value::Array(streams) = reply else { panic!("an XREADGROUP reply: {reply:?}") };
    let mut ids = Vec::new();
    for stream in streams {
        let Value::Array(mut parts) = stream else { continue };
        let Some(Value::Array(entries)) = parts.pop() else { continue };
        ids.extend(entries.into_iter().filter_map(|entry| match entry {
            Value::Array(mut parts) if !parts.is_empty() => match parts.swap_remove(0) {
                Value::BulkString(id) => Some(id),
                _ => None,
            },
            _ => None,
        }));
    }
    ids
}

fn consume(c: &mut Criterion, scratch: &Scratch) {
    let topic = "consume";
    let mut settings = scratch.settings.clone();
    // Keeps all the events the stream is filled with.
    settings.stream_max_len = CONSUME_EVENTS as u64 * 2;
    let stream = settings.full_topic(topic);
    let producer = RedisProducer::new(settings.clone()).expect("settings with a URL");
    fill(&producer, topic);
    let mut connection = scratch.connection();
    let length: usize = redis::cmd("XLEN").arg(&stream).query(&mut connection).expect("XLEN");
    assert_eq!(length, CONSUME_EVENTS);
    let groups = AtomicU64::new(0);
    let mut destroy = |group: &str| {
        redis::cmd("XGROUP").arg("DESTROY").arg(&stream).arg(group).query::<()>(&mut connection).expect("XGROUP");
    };

    let mut bench = c.benchmark_group("consume");
    bench.sampling_mode(SamplingMode::Flat).sample_size(10).throughput(Throughput::Elements(CONSUME_EVENTS as u64));
    for batch_size in [100, 500] {
        let mut settings = settings.clone();
        settings.batch_size = batch_size;
        bench.bench_function(BenchmarkId::new("poll", batch_size), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let group = format!("group-{}", groups.fetch_add(1, Ordering::Relaxed));
                    let mut consumer = RedisConsumer::builder(settings.clone())
                        .topic(topic)
                        .group(&group)
                        .consumer_name("consumer-1")
                        .start(StartFrom::Beginning)
                        .build()
                        .expect("settings with a URL");
                    let received = RECEIVED.load(Ordering::Relaxed);
                    let start = Instant::now();
                    let mut handled = 0;
                    while handled < CONSUME_EVENTS {
                        handled += consumer.poll().expect("polled");
                    }
                    total += start.elapsed();
                    assert_eq!(consumer.stats().delivered, CONSUME_EVENTS as u64);
                    assert_eq!(RECEIVED.load(Ordering::Relaxed) - received, CONSUME_EVENTS as u64);
                    drop(consumer);
                    destroy(&group);
                }
                total
            });
        });
    }
    // The blocking consumer as a service runs it: `consume_indefinitely`, which sends each
    // acknowledgement with the next read and reads the next batch ahead while it dispatches
    // one; stopped from a watching thread once everything arrived.
    for batch_size in [100, 500] {
        let mut settings = settings.clone();
        settings.batch_size = batch_size;
        bench.bench_function(BenchmarkId::new("consume_indefinitely", batch_size), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let group = format!("group-{}", groups.fetch_add(1, Ordering::Relaxed));
                    let mut consumer = RedisConsumer::builder(settings.clone())
                        .topic(topic)
                        .group(&group)
                        .consumer_name("consumer-1")
                        .start(StartFrom::Beginning)
                        .build()
                        .expect("settings with a URL");
                    let shutdown = consumer.shutdown_handle();
                    let received = RECEIVED.load(Ordering::Relaxed);
                    let watcher = std::thread::spawn(move || {
                        while RECEIVED.load(Ordering::Relaxed) - received < CONSUME_EVENTS as u64 {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        shutdown.shutdown();
                        Instant::now()
                    });
                    let start = Instant::now();
                    consumer.consume_indefinitely().expect("consumed");
                    // Up to the last dispatch, not the end of the read that waits on the drained
                    // stream when the shutdown comes.
                    total += watcher.join().expect("the watcher") - start;
                    assert_eq!(consumer.stats().delivered, CONSUME_EVENTS as u64);
                    drop(consumer);
                    destroy(&group);
                }
                total
            });
        });
    }
    // The async consumer, on a tokio runtime.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    for batch_size in [100, 500] {
        let mut settings = settings.clone();
        settings.batch_size = batch_size;
        bench.bench_function(BenchmarkId::new("async_run", batch_size), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let group = format!("group-{}", groups.fetch_add(1, Ordering::Relaxed));
                    let mut consumer = RedisConsumer::builder(settings.clone())
                        .topic(topic)
                        .group(&group)
                        .consumer_name("consumer-1")
                        .start(StartFrom::Beginning)
                        .build_async()
                        .expect("settings with a URL");
                    let received = RECEIVED.load(Ordering::Relaxed);
                    let start = Instant::now();
                    runtime.block_on(async {
                        let done = async {
                            // Checked every millisecond: yielding in a loop instead would keep a
                            // worker busy, taking a core from Redis on a 2-core machine.
                            while RECEIVED.load(Ordering::Relaxed) - received < CONSUME_EVENTS as u64 {
                                tokio::time::sleep(Duration::from_millis(1)).await;
                            }
                        };
                        consumer.run(done).await.expect("consumed");
                    });
                    total += start.elapsed();
                    assert_eq!(consumer.stats().delivered, CONSUME_EVENTS as u64);
                    drop(consumer);
                    destroy(&group);
                }
                total
            });
        });
    }
    // The floor: read and acknowledge in batches with plain commands, no parsing or dispatch.
    for batch_size in [100, 500] {
        bench.bench_function(BenchmarkId::new("raw_xreadgroup+xack", batch_size), |b| {
            b.iter_custom(|iters| {
                let mut reader = scratch.connection();
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let group = format!("group-{}", groups.fetch_add(1, Ordering::Relaxed));
                    redis::cmd("XGROUP")
                        .arg("CREATE")
                        .arg(&stream)
                        .arg(&group)
                        .arg("0")
                        .query::<()>(&mut reader)
                        .expect("XGROUP");
                    let start = Instant::now();
                    let mut handled = 0;
                    while handled < CONSUME_EVENTS {
                        let mut command = redis::cmd("XREADGROUP");
                        command
                            .arg("GROUP")
                            .arg(&group)
                            .arg("consumer-1")
                            .arg("COUNT")
                            .arg(batch_size)
                            .arg("STREAMS")
                            .arg(&stream)
                            .arg(">");
                        let reply = reader.req_command(&command).expect("XREADGROUP");
                        let ids = entry_ids(reply);
                        handled += ids.len();
                        redis::cmd("XACK").arg(&stream).arg(&group).arg(&ids).query::<()>(&mut reader).expect("XACK");
                    }
                    total += start.elapsed();
                    redis::cmd("XGROUP")
                        .arg("DESTROY")
                        .arg(&stream)
                        .arg(&group)
                        .query::<()>(&mut reader)
                        .expect("XGROUP");
                }
                total
            });
        });
    }
    bench.finish();
}

fn cpu(c: &mut Criterion) {
    let data = enrollment();
    let metadata = BENCH_ENROLLED.generate_signal_metadata(None);
    let avro = BENCH_ENROLLED.encode_avro(&data).expect("serializable");
    let read: Vec<(Vec<u8>, Vec<u8>)> = message_fields(&metadata, &avro)
        .iter()
        .map(|(name, value)| (name.as_bytes().to_vec(), value.to_vec()))
        .collect();
    assert!(matches!(deliver_fields(&read), Delivery::Delivered(1)));

    let mut group = c.benchmark_group("cpu");
    group.throughput(Throughput::Elements(1));
    group.bench_function("metadata+encode+message_fields", |b| {
        b.iter(|| {
            let metadata = BENCH_ENROLLED.generate_signal_metadata(None);
            let avro = BENCH_ENROLLED.encode_avro(black_box(&data)).expect("serializable");
            black_box(message_fields(&metadata, &avro));
        });
    });
    group.bench_function("deliver", |b| b.iter(|| deliver_fields(black_box(&read))));
    group.finish();
}

/// End-to-end latency, produce to receiver, on loopback at 10,000 events/s for 3 s: events are
/// sent through the background producer on one thread while an async consumer dispatches them;
/// each event's latency is from its metadata time (taken when it was sent) to its receiver.
/// Printed as p50, p99 and the maximum. Run with the filter `latency`.
fn latency(scratch: &Scratch) {
    const RATE: u64 = 10_000;
    const SECONDS: u64 = 3;
    let topic = "latency";
    let settings = scratch.settings.clone();
    let producer = Arc::new(RedisProducer::new(settings.clone()).expect("settings with a URL"));
    let background = Arc::new(BackgroundProducer::start(producer));
    let config = ProducerConfig::from_value(&serde_json::json!({
        "org.openedx.bench.event_bus.latency.measured.v1": {topic: {"event_key_field": "n", "enabled": true}}
    }))
    .expect("a valid configuration");
    let guard = start_producing(&config, Arc::clone(&background) as Arc<_>);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let mut consumer = RedisConsumer::builder(settings)
        .topic(topic)
        .group("latency")
        .consumer_name("c")
        .start(StartFrom::End)
        .build_async()
        .expect("settings with a URL");
    let total = RATE * SECONDS;
    let consuming = runtime.spawn(async move {
        let done = async {
            while LATENCIES.lock().map(|l| l.len() as u64).unwrap_or(total) < total {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        consumer.run(done).await.expect("consumed");
    });
    // Let the consumer make its group before anything is sent.
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    for n in 0..total {
        let due = start + Duration::from_nanos(n * 1_000_000_000 / RATE);
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        LATENCY_MEASURED.send_event(Measured { n: n as i64 });
    }
    runtime.block_on(consuming).expect("the consumer ran");
    drop(guard);
    let mut latencies = std::mem::take(&mut *LATENCIES.lock().expect("latencies"));
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    eprintln!(
        "latency/produce_to_receiver/10000_per_s: {} events, p50 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        at(0.50),
        at(0.99),
        latencies[latencies.len() - 1]
    );
}

/// An event whose receiver records how long it took to arrive.
#[openedx_event(name = LATENCY_MEASURED, event_type = "org.openedx.bench.event_bus.latency.measured.v1")]
#[derive(Clone, Debug)]
pub struct Measured {
    /// Which one.
    pub n: i64,
}

/// The latency of each event the receiver saw.
static LATENCIES: std::sync::Mutex<Vec<Duration>> = std::sync::Mutex::new(Vec::new());

#[receiver(LATENCY_MEASURED)]
async fn on_measured(_data: &Measured, metadata: &EventsMetadata) {
    if !metadata.from_event_bus() {
        return;
    }
    let latency = (Utc::now() - metadata.time).to_std().unwrap_or_default();
    if let Ok(mut latencies) = LATENCIES.lock() {
        latencies.push(latency);
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let scratch = Scratch::new();
    if std::env::args().any(|arg| arg == "latency") {
        latency(&scratch);
        return;
    }
    cpu(&mut c);
    produce(&mut c, &scratch);
    consume(&mut c, &scratch);
    drop(scratch);
    c.final_summary();
}
