//! The async Redis consumer against a real Redis: it dispatches to synchronous and async
//! receivers, acknowledges only after dispatch, retries then dead-letters, takes back what a
//! crashed consumer left pending, survives Redis restarting, gives up after the consecutive-error
//! limit, stops promptly on shutdown, and several run in one process.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use openedx_events::event_bus::ConsumeError;
use openedx_events::{EventsMetadata, openedx_event, receiver};
use openedx_events_redis::{AsyncRedisConsumer, RedisConsumer, RedisProducer, RedisSettings, StartFrom, dead_letters};
use openedx_events_test_support::{OwnRedis, RedisScratch};
use uuid::Uuid;

/// A tick, numbered.
#[openedx_event(name = ASYNC_TICKED, event_type = "org.openedx.learning.async_consumer.ticked.v1")]
#[derive(Clone, Debug)]
pub struct Ticked {
    /// Which one; negative ones make the async receiver fail.
    pub n: i64,
    /// Which test sent it (tests share the signal and its receivers).
    pub test: String,
}

/// What the receivers saw, per test.
static SEEN_ASYNC: Mutex<Vec<(String, i64, Uuid)>> = Mutex::new(Vec::new());
static SEEN_SYNC: AtomicUsize = AtomicUsize::new(0);

#[receiver(ASYNC_TICKED)]
async fn record_async(data: &Ticked, metadata: &EventsMetadata) -> Result<(), String> {
    tokio::task::yield_now().await;
    if data.n < 0 {
        return Err(format!("tick {} is poison", data.n));
    }
    SEEN_ASYNC.lock().unwrap_or_else(PoisonError::into_inner).push((data.test.clone(), data.n, metadata.id));
    Ok(())
}

#[receiver(ASYNC_TICKED)]
fn count_sync(_data: &Ticked, _metadata: &EventsMetadata) {
    SEEN_SYNC.fetch_add(1, Ordering::SeqCst);
}

fn seen(test: &str) -> Vec<i64> {
    let seen = SEEN_ASYNC.lock().unwrap_or_else(PoisonError::into_inner);
    seen.iter().filter(|(t, _, _)| t == test).map(|(_, n, _)| *n).collect()
}

fn produce(settings: &RedisSettings, test: &str, ns: impl IntoIterator<Item = i64>) {
    let producer = RedisProducer::new(settings.clone()).unwrap();
    let events: Vec<(EventsMetadata, Vec<u8>)> = ns
        .into_iter()
        .map(|n| {
            let data = Ticked { n, test: test.to_owned() };
            (ASYNC_TICKED.generate_signal_metadata(None), ASYNC_TICKED.encode_avro(&data).unwrap())
        })
        .collect();
    let batch: Vec<(&str, &EventsMetadata, &[u8])> =
        events.iter().map(|(metadata, data)| ("ticks", metadata, data.as_slice())).collect();
    producer.send_entries(&batch).unwrap();
}

fn consumer(settings: RedisSettings, name: &str) -> AsyncRedisConsumer {
    RedisConsumer::builder(settings)
        .topic("ticks")
        .group("group")
        .consumer_name(name)
        .start(StartFrom::Beginning)
        .build_async()
        .unwrap()
}

/// Runs the consumer until `test` has seen `count` distinct events, then shuts it down.
async fn consume_until(consumer: &mut AsyncRedisConsumer, test: &str, count: usize) {
    let test = test.to_owned();
    let enough = async move {
        while seen(&test).into_iter().collect::<BTreeSet<_>>().len() < count {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), consumer.run(enough)).await.expect("consumed in time").unwrap();
}

fn pending(scratch: &mut RedisScratch, stream: &str) -> i64 {
    let reply: redis::Value = redis::cmd("XPENDING").arg(stream).arg("group").query(scratch.connection()).unwrap();
    match reply {
        redis::Value::Array(parts) => match parts.first() {
            Some(redis::Value::Int(count)) => *count,
            other => panic!("unexpected XPENDING reply: {other:?}"),
        },
        other => panic!("unexpected XPENDING reply: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_sync_and_async_receivers_and_are_acknowledged() {
    let mut scratch = RedisScratch::new("async-roundtrip");
    let settings = scratch.settings();
    let sync_before = SEEN_SYNC.load(Ordering::SeqCst);
    produce(&settings, "roundtrip", 0..200);
    let mut consumer = consumer(settings, "c");
    consume_until(&mut consumer, "roundtrip", 200).await;
    assert_eq!(seen("roundtrip"), (0..200).collect::<Vec<_>>(), "in order, each once");
    assert!(SEEN_SYNC.load(Ordering::SeqCst) - sync_before >= 200);
    assert_eq!(consumer.stats().delivered, 200);
    let stream = scratch.stream("ticks");
    assert_eq!(pending(&mut scratch, &stream), 0);
}

#[tokio::test]
async fn a_poison_message_is_retried_then_dead_lettered_while_the_others_flow() {
    let scratch = RedisScratch::new("async-poison");
    let mut settings = scratch.settings();
    settings.retry.backoff = Duration::from_millis(5);
    produce(&settings, "poison", [1, -2, 3]);
    let mut consumer = consumer(settings.clone(), "c");
    consume_until(&mut consumer, "poison", 2).await;
    assert_eq!(seen("poison"), [1, 3]);
    let letters = dead_letters(&settings, "ticks").unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].attempts, 3);
    assert!(letters[0].error.contains("tick -2 is poison"), "{}", letters[0].error);
}

#[tokio::test]
async fn a_crashed_consumers_pending_message_is_taken_back() {
    let mut scratch = RedisScratch::new("async-reclaim");
    let mut settings = scratch.settings();
    settings.claim_idle_time = Duration::from_millis(200);
    let stream = scratch.stream("ticks");
    redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("group")
        .arg("0")
        .arg("MKSTREAM")
        .query::<()>(scratch.connection())
        .unwrap();
    produce(&settings, "reclaim", [7]);
    // A consumer reads it and dies without acknowledging it.
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("group")
        .arg("crashed")
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query(scratch.connection())
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut consumer = consumer(settings, "live");
    consume_until(&mut consumer, "reclaim", 1).await;
    assert_eq!(seen("reclaim"), [7]);
    assert_eq!(consumer.stats().reclaimed, 1);
    assert_eq!(pending(&mut scratch, &stream), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_in_one_process_share_a_group_without_losing_anything() {
    let mut scratch = RedisScratch::new("async-shared");
    let mut settings = scratch.settings();
    settings.batch_size = 10;
    produce(&settings, "shared", 0..300);
    let done = Arc::new(tokio::sync::Notify::new());
    let runs: Vec<_> = ["one", "two"]
        .into_iter()
        .map(|name| {
            let mut consumer = consumer(settings.clone(), name);
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                consumer.run(async move { done.notified().await }).await.unwrap();
                consumer.stats().delivered
            })
        })
        .collect();
    tokio::time::timeout(Duration::from_secs(30), async {
        while seen("shared").len() < 300 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("all consumed in time");
    done.notify_waiters();
    let mut delivered = 0;
    for run in runs {
        delivered += tokio::time::timeout(Duration::from_secs(5), run).await.expect("stopped").unwrap();
    }
    assert_eq!(delivered, 300);
    let distinct: BTreeSet<i64> = seen("shared").into_iter().collect();
    assert_eq!(distinct.len(), 300);
    let stream = scratch.stream("ticks");
    assert_eq!(pending(&mut scratch, &stream), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarting_mid_stream_loses_nothing() {
    let mut server = OwnRedis::start(true);
    let mut settings = RedisSettings::default().with_url(server.url()).with_topic_prefix("restart");
    settings.poll_timeout = Duration::from_millis(200);
    settings.poll_failure_sleep = Duration::from_millis(100);
    settings.batch_size = 10;
    produce(&settings, "restart", 0..100);
    let mut consumer = consumer(settings.clone(), "c");
    let running = tokio::spawn(async move {
        consume_until(&mut consumer, "restart", 100).await;
        consumer.stats()
    });
    while seen("restart").len() < 30 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill();
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.launch();
    let stats = running.await.unwrap();
    let distinct: BTreeSet<i64> = seen("restart").into_iter().collect();
    assert_eq!(distinct, (0..100).collect::<BTreeSet<_>>(), "every event dispatched at least once");
    assert!(stats.delivered >= 100 - 10, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_read_ahead_and_ending_in_a_short_batch_is_acknowledged_whole() {
    // Batches of 10: two full ones (the second read ahead, carrying the first's acknowledgement)
    // and a short one; every acknowledgement goes out while the consumer waits for more.
    let mut scratch = RedisScratch::new("async-read-ahead-tail");
    let mut settings = scratch.settings();
    settings.batch_size = 10;
    produce(&settings, "tail", 0..25);
    let stream = scratch.stream("ticks");
    let mut watcher = RedisScratch::new("async-read-ahead-tail-watch");
    let mut consumer = consumer(settings, "c");
    let all_acknowledged = async {
        while seen("tail").len() < 25 || pending(&mut watcher, &stream) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), consumer.run(all_acknowledged))
        .await
        .expect("every batch acknowledged while the consumer was running")
        .unwrap();
    assert_eq!(seen("tail"), (0..25).collect::<Vec<_>>());
    assert_eq!(pending(&mut scratch, &stream), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_stopped_while_reading_ahead_loses_nothing_and_repeats_nothing() {
    let mut scratch = RedisScratch::new("async-read-ahead-stop");
    let mut settings = scratch.settings();
    settings.batch_size = 10;
    produce(&settings, "stop", 0..300);
    let mut first = consumer(settings.clone(), "c");
    // Resolves as soon as 45 are in: the consumer looks after each message, in the middle of
    // its fifth batch, with the sixth read ahead.
    let at_45 = futures::future::poll_fn(|_| {
        if seen("stop").len() >= 45 { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    });
    tokio::time::timeout(Duration::from_secs(10), first.run(at_45)).await.expect("stopped").unwrap();
    let delivered = first.stats().delivered;
    assert!((45..300).contains(&delivered), "it stopped in the middle: {delivered}");
    let stream = scratch.stream("ticks");
    assert!(pending(&mut scratch, &stream) > 0, "the batch read ahead stays pending to the consumer");
    drop(first);
    let mut second = consumer(settings, "c");
    consume_until(&mut second, "stop", 300).await;
    assert_eq!(seen("stop"), (0..300).collect::<Vec<_>>(), "each once, in order: what was done was acknowledged");
    assert_eq!(pending(&mut scratch, &stream), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_dropped_while_it_waits_leaves_the_consumer_usable_and_loses_nothing() {
    let mut scratch = RedisScratch::new("async-dropped-run");
    let mut settings = scratch.settings();
    settings.poll_timeout = Duration::from_secs(5);
    let mut consumer = consumer(settings.clone(), "c");
    // The caller gives up on `run` while its read waits on the empty stream...
    let dropped = tokio::time::timeout(Duration::from_millis(300), consumer.run(futures::future::pending())).await;
    assert!(dropped.is_err(), "run was still waiting");
    // ...and events arrive, which Redis hands to that read, cut off on the client's side.
    produce(&settings, "dropped", 0..5);
    tokio::time::sleep(Duration::from_millis(100)).await;
    consume_until(&mut consumer, "dropped", 5).await;
    assert_eq!(seen("dropped"), (0..5).collect::<Vec<_>>());
    let stream = scratch.stream("ticks");
    assert_eq!(pending(&mut scratch, &stream), 0);
}

#[tokio::test]
async fn it_gives_up_after_the_consecutive_errors_limit() {
    let port = openedx_events_test_support::free_port();
    let mut settings = RedisSettings::default().with_url(format!("redis://127.0.0.1:{port}")).with_topic_prefix("gone");
    settings.consecutive_errors_limit = Some(3);
    settings.poll_failure_sleep = Duration::from_millis(10);
    let mut consumer = consumer(settings, "c");
    let error = tokio::time::timeout(Duration::from_secs(20), consumer.run(futures::future::pending()))
        .await
        .expect("gave up in time")
        .unwrap_err();
    assert!(matches!(error, ConsumeError::TooManyErrors { count: 3, .. }), "{error}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_shutdown_ends_the_wait_for_new_messages_at_once() {
    let scratch = RedisScratch::new("async-shutdown");
    let mut settings = scratch.settings();
    settings.poll_timeout = Duration::from_secs(60);
    let mut consumer = consumer(settings, "c");
    let started = std::time::Instant::now();
    consumer.run(tokio::time::sleep(Duration::from_millis(300))).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "stopped after {:?}", started.elapsed());
}

/// A `redis-server` on a Unix socket only, killed on drop: a URL the fast connection does not
/// speak, so both consumers read through redis-rs.
struct UnixRedis {
    server: std::process::Child,
    dir: std::path::PathBuf,
}

impl UnixRedis {
    fn start() -> UnixRedis {
        let dir = std::env::temp_dir().join(format!("oe-unix-redis-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let server = std::process::Command::new("redis-server")
            .args(["--port", "0", "--save", "", "--appendonly", "no", "--unixsocket"])
            .arg(dir.join("redis.sock"))
            .arg("--dir")
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("these tests need `redis-server`; run `bash .ci/setup`");
        let redis = UnixRedis { server, dir };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !redis.dir.join("redis.sock").exists() {
            assert!(std::time::Instant::now() < deadline, "redis-server did not open its socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    fn url(&self) -> String {
        format!("redis+unix://{}", self.dir.join("redis.sock").display())
    }
}

impl Drop for UnixRedis {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_read_through_redis_rs_where_the_fast_path_cannot_go() {
    let server = UnixRedis::start();
    let mut settings = RedisSettings::default().with_url(server.url()).with_topic_prefix("unix");
    settings.poll_timeout = Duration::from_millis(200);
    produce(&settings, "unix-async", 0..20);
    let mut consumer = consumer(settings.clone(), "async");
    consume_until(&mut consumer, "unix-async", 20).await;
    assert_eq!(seen("unix-async"), (0..20).collect::<Vec<_>>());

    produce(&settings, "unix-blocking", 0..20);
    let blocking = tokio::task::spawn_blocking(move || {
        let mut consumer = RedisConsumer::builder(settings)
            .topic("ticks")
            .group("blocking")
            .consumer_name("b")
            .start(StartFrom::Beginning)
            .build()
            .unwrap();
        let mut handled = 0;
        while handled < 40 {
            handled += consumer.poll().unwrap();
        }
        consumer.stats()
    });
    let stats = tokio::time::timeout(Duration::from_secs(20), blocking).await.unwrap().unwrap();
    assert_eq!(stats.delivered, 40, "the blocking consumer read both tests' events: {stats:?}");
}
