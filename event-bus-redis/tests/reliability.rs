//! The Redis backend when things go wrong, against real Redis servers: a consumer process killed
//! in the middle of a stream, poison messages, Redis restarted or gone, two consumers sharing a
//! group, a producer that cannot reach Redis. Tests on the shared Redis (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`) use their own stream names and delete them after; tests that stop
//! Redis start their own `redis-server` on a free port and kill it at the end.
#![allow(missing_docs, reason = "test payloads need no docs")]

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::time::{Duration, Instant};

use openedx_events::event_bus::{
    ConsumeError, EventBusConsumer, PRODUCER_RECEIVER_NAME, ProducerConfig, RetryPolicy, start_producing,
};
use openedx_events::{EventsMetadata, openedx_event, receiver};
use openedx_events_redis::{ConsumerStats, RedisConsumer, RedisProducer, RedisSettings, StartFrom, dead_letters};
use openedx_events_test_support::{OwnRedis, RedisScratch, free_port, redis_url, unique_name};
use serde_json::json;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// The event, and a receiver that records what each consumer thread dispatches.

#[openedx_event(name = TICKED, event_type = "org.openedx.learning.bus_reliability.ticked.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct Ticked {
    /// A tick with a negative number always fails its receiver.
    pub n: i64,
}

/// What the receiver does on the thread that installed it. Every consumer runs on its own thread
/// and dispatches there, so tests running side by side in this process see only their own events.
#[derive(Default)]
struct Recorder {
    /// The id of every event dispatched, in order; an id seen twice was dispatched twice.
    ids: Arc<Mutex<Vec<Uuid>>>,
    /// Failed dispatches of the always-failing ticks.
    failures: Arc<AtomicUsize>,
    /// Also appends each id to this Redis list, so that a parent process can read what a child
    /// dispatched before it was killed.
    list: Option<(redis::Connection, String)>,
    /// How long each event takes.
    delay: Duration,
    /// After this many events, stops in the receiver (until the process is killed).
    hang_after: Option<usize>,
    /// At this many events, waits twice on the barrier: the test acts between the two waits.
    pause_at: Option<(usize, Arc<Barrier>)>,
    seen: usize,
}

impl Recorder {
    fn record(&mut self, id: Uuid) -> Result<(), String> {
        self.ids.lock().unwrap_or_else(PoisonError::into_inner).push(id);
        if let Some((connection, key)) = &mut self.list {
            redis::cmd("RPUSH")
                .arg(&*key)
                .arg(id.to_string())
                .query::<()>(connection)
                .map_err(|e| format!("cannot record {id}: {e}"))?;
        }
        std::thread::sleep(self.delay);
        self.seen += 1;
        if let Some((at, barrier)) = &self.pause_at
            && *at == self.seen
        {
            barrier.wait();
            barrier.wait();
        }
        if self.hang_after == Some(self.seen) {
            // In the middle of a batch: everything read with this event stays pending.
            std::thread::sleep(Duration::from_secs(120));
        }
        Ok(())
    }
}

thread_local! {
    static RECORDER: RefCell<Option<Recorder>> = const { RefCell::new(None) };
}

fn install(recorder: Recorder) {
    RECORDER.set(Some(recorder));
}

#[receiver(TICKED)]
fn record_tick(data: &Ticked, metadata: &EventsMetadata) -> Result<(), String> {
    if !metadata.from_event_bus() {
        return Ok(());
    }
    RECORDER.with_borrow_mut(|recorder| {
        let recorder = recorder.as_mut().ok_or("no recorder on this consumer's thread")?;
        if data.n < 0 {
            recorder.failures.fetch_add(1, Ordering::SeqCst);
            return Err(format!("tick {} always fails", data.n));
        }
        recorder.record(metadata.id)
    })
}

// ---------------------------------------------------------------------------------------------
// Redis helpers.

/// Settings for these tests: short waits, a prefix of their own.
fn settings(url: &str, prefix: &str) -> RedisSettings {
    let mut settings = RedisSettings::default().with_url(url).with_topic_prefix(prefix);
    settings.poll_timeout = Duration::from_millis(200);
    settings.poll_failure_sleep = Duration::from_millis(50);
    settings.retry.backoff = Duration::from_millis(1);
    settings.claim_idle_time = Duration::from_secs(10);
    settings.batch_size = 10;
    settings
}

fn connect(url: &str) -> redis::Connection {
    let client = redis::Client::open(url).expect("a Redis URL");
    client
        .get_connection_with_timeout(Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("these tests need Redis at {url} (set REDIS_URL): {e}"))
}

/// The settings, changed by `change`.
fn with(mut settings: RedisSettings, change: impl FnOnce(&mut RedisSettings)) -> RedisSettings {
    change(&mut settings);
    settings
}

/// A consumer of `topic` in `group`, named `name`.
fn new_consumer(settings: RedisSettings, topic: &str, group: &str, name: &str, start: StartFrom) -> RedisConsumer {
    RedisConsumer::builder(settings).topic(topic).group(group).consumer_name(name).start(start).build().unwrap()
}

/// A test's corner of the shared Redis, with these tests' settings for it.
struct Scratch {
    settings: RedisSettings,
    redis: RedisScratch,
}

impl Scratch {
    fn new(test: &str) -> Scratch {
        let redis = RedisScratch::new(test);
        Scratch { settings: settings(&redis_url(), redis.prefix()), redis }
    }

    /// A key of this test's own (deleted with its streams).
    fn key(&self, name: &str) -> String {
        self.redis.stream(name)
    }
}

/// Produces `Ticked { n }` for each `n` to `topic` in one round trip; returns each event's
/// stream id and event id, in order.
fn produce(producer: &RedisProducer, topic: &str, ns: impl IntoIterator<Item = i64>) -> Vec<(String, Uuid)> {
    let events: Vec<(EventsMetadata, Vec<u8>)> = ns
        .into_iter()
        .map(|n| (TICKED.generate_signal_metadata(None), TICKED.encode_avro(&Ticked { n }).expect("encodable")))
        .collect();
    let batch: Vec<(&str, &EventsMetadata, &[u8])> =
        events.iter().map(|(metadata, data)| (topic, metadata, data.as_slice())).collect();
    let stream_ids = producer.send_entries(&batch).expect("producing to Redis");
    stream_ids.into_iter().zip(events.iter().map(|(metadata, _)| metadata.id)).collect()
}

fn event_ids(produced: &[(String, Uuid)]) -> BTreeSet<Uuid> {
    produced.iter().map(|(_, id)| *id).collect()
}

/// How many messages the group has read but not acknowledged.
fn pending_count(connection: &mut redis::Connection, stream: &str, group: &str) -> i64 {
    let reply: redis::Value = redis::cmd("XPENDING").arg(stream).arg(group).query(connection).expect("XPENDING");
    match reply {
        redis::Value::Array(parts) => match parts.first() {
            Some(redis::Value::Int(count)) => *count,
            other => panic!("unexpected XPENDING reply: {other:?}"),
        },
        other => panic!("unexpected XPENDING reply: {other:?}"),
    }
}

/// The group's pending entries: stream id, consumer, delivery count.
fn pending_entries(connection: &mut redis::Connection, stream: &str, group: &str) -> Vec<(String, String, u64)> {
    let rows: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg(stream)
        .arg(group)
        .arg("-")
        .arg("+")
        .arg(10_000)
        .query(connection)
        .expect("XPENDING");
    rows.into_iter().map(|(id, consumer, _idle, deliveries)| (id, consumer, deliveries)).collect()
}

/// Waits until `done` holds, or fails the test naming what it waited for.
fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn snapshot(ids: &Mutex<Vec<Uuid>>) -> Vec<Uuid> {
    ids.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Polls until the group has nothing left to read or pending (the stream was filled first).
fn poll_until_drained(consumer: &mut RedisConsumer, connection: &mut redis::Connection, group: &str) {
    let stream = consumer.stream().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let handled = consumer.poll().expect("polling Redis");
        if handled == 0 && pending_count(connection, &stream, group) == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{consumer:?} did not drain `{stream}` in 30 s");
    }
}

/// Runs a consumer on a thread of its own, with this recorder, until shut down.
fn spawn_consumer(
    mut consumer: RedisConsumer,
    recorder: Recorder,
) -> std::thread::JoinHandle<(Result<(), ConsumeError>, ConsumerStats)> {
    std::thread::spawn(move || {
        install(recorder);
        let result = consumer.consume_indefinitely();
        (result, consumer.stats())
    })
}

// ---------------------------------------------------------------------------------------------
// 1. A consumer process killed in the middle of a stream.

/// Set in a child process: what `a_consumer_process_records_what_it_dispatches` consumes.
const CHILD_ENV: &str = "OE_BUS_RELIABILITY_CHILD";
const CHILD_TEST: &str = "a_consumer_process_records_what_it_dispatches";

/// Consumes `topic` as `consumer` of `group` until the group has nothing left, recording each
/// event's id in the Redis list `list`; 2 ms an event.
fn run_recording_consumer(
    settings: RedisSettings,
    topic: &str,
    group: &str,
    consumer: &str,
    list: &str,
    hang_after: Option<usize>,
) -> ConsumerStats {
    let url = settings.url.as_ref().expect("a Redis URL").expose().to_owned();
    install(Recorder {
        list: Some((connect(&url), list.to_owned())),
        delay: Duration::from_millis(2),
        hang_after,
        ..Recorder::default()
    });
    let mut consumer = new_consumer(settings, topic, group, consumer, StartFrom::Beginning);
    poll_until_drained(&mut consumer, &mut connect(&url), group);
    consumer.stats()
}

/// Run normally, consumes a stream of its own in this process. Run as a child process by
/// `a_killed_consumer_process_loses_nothing`, consumes the stream the parent names, and is
/// killed or drains it.
#[test]
fn a_consumer_process_records_what_it_dispatches() {
    if let Ok(job) = std::env::var(CHILD_ENV) {
        let job: serde_json::Value = serde_json::from_str(&job).expect("the parent's job is JSON");
        let text = |name: &str| job[name].as_str().unwrap_or_else(|| panic!("no `{name}` in {job}")).to_owned();
        let mut settings = settings(&text("redis_url"), &text("prefix"));
        settings.claim_idle_time = Duration::from_millis(job["claim_idle_ms"].as_u64().expect("claim_idle_ms"));
        let hang_after = job["hang_after"].as_u64().map(|n| usize::try_from(n).expect("a small number"));
        let stats =
            run_recording_consumer(settings, &text("topic"), "group", &text("consumer"), &text("list"), hang_after);
        println!(
            "stats: reclaimed={} delivered={} dead_lettered={}",
            stats.reclaimed, stats.delivered, stats.dead_lettered
        );
        return;
    }
    let mut scratch = Scratch::new("recording");
    let producer = RedisProducer::new(scratch.settings.clone()).unwrap();
    let produced = produce(&producer, "ticks", 0..30);
    let list = scratch.key("record");
    let stats = run_recording_consumer(scratch.settings.clone(), "ticks", "group", "solo", &list, None);
    let recorded: Vec<String> =
        redis::cmd("LRANGE").arg(&list).arg(0).arg(-1).query(scratch.redis.connection()).unwrap();
    let expected: Vec<String> = produced.iter().map(|(_, id)| id.to_string()).collect();
    assert_eq!(recorded, expected, "each event dispatched once, in order");
    assert_eq!((stats.delivered, stats.reclaimed, stats.dead_lettered), (30, 0, 0));
    assert_eq!(pending_count(scratch.redis.connection(), &scratch.settings.full_topic("ticks"), "group"), 0);
}

/// A child process running `a_consumer_process_records_what_it_dispatches`; killed if dropped.
struct ConsumerProcess(Option<Child>);

impl ConsumerProcess {
    fn spawn(scratch: &Scratch, consumer: &str, claim_idle: Duration, hang_after: Option<usize>) -> Self {
        let job = json!({
            "redis_url": scratch.settings.url.as_ref().map(|url| url.expose()),
            "prefix": scratch.settings.topic_prefix,
            "topic": "ticks",
            "consumer": consumer,
            "list": scratch.key("record"),
            "claim_idle_ms": u64::try_from(claim_idle.as_millis()).unwrap(),
            "hang_after": hang_after,
        });
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, job.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running this test binary again");
        ConsumerProcess(Some(child))
    }

    fn kill(mut self) {
        if let Some(mut child) = self.0.take() {
            child.kill().expect("killing the consumer process");
            let _ = child.wait();
        }
    }

    fn finish(mut self) -> Output {
        self.0.take().expect("a running child").wait_with_output().expect("waiting for the consumer process")
    }
}

impl Drop for ConsumerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_killed_consumer_process_loses_nothing() {
    let mut scratch = Scratch::new("kill");
    let producer = RedisProducer::new(scratch.settings.clone()).unwrap();
    let produced = produce(&producer, "ticks", 0..200);
    let event_of: HashMap<&str, Uuid> = produced.iter().map(|(stream_id, id)| (stream_id.as_str(), *id)).collect();
    let (stream, list) = (scratch.settings.full_topic("ticks"), scratch.key("record"));
    let recorded = |connection: &mut redis::Connection| -> Vec<Uuid> {
        let ids: Vec<String> = redis::cmd("LRANGE").arg(&list).arg(0).arg(-1).query(connection).unwrap();
        ids.iter().map(|id| id.parse().expect("a recorded uuid")).collect()
    };
    let long = Duration::from_secs(60);

    // The first consumer process dies in the middle of a batch, after 50 events.
    let process = ConsumerProcess::spawn(&scratch, "consumer-1", long, Some(50));
    wait_for("50 events dispatched by the first process", Duration::from_secs(20), || {
        recorded(scratch.redis.connection()).len() >= 50
    });
    process.kill();
    let first_run = recorded(scratch.redis.connection());
    assert!(first_run.len() < produced.len(), "killed midway");
    let pending_1 = pending_entries(scratch.redis.connection(), &stream, "group");
    assert!(!pending_1.is_empty(), "the batch in hand stays pending");
    assert!(pending_1.iter().all(|(_, consumer, _)| consumer == "consumer-1"), "{pending_1:?}");

    // Restarted under the same name, it takes its own pending messages back first (`XCLAIM`), and
    // dies again 50 events later.
    let process = ConsumerProcess::spawn(&scratch, "consumer-1", long, Some(50));
    wait_for("50 events dispatched by the restarted process", Duration::from_secs(20), || {
        recorded(scratch.redis.connection()).len() >= first_run.len() + 50
    });
    process.kill();
    let second_run = recorded(scratch.redis.connection())[first_run.len()..].to_vec();
    for (stream_id, _, _) in &pending_1 {
        assert!(second_run.contains(&event_of[stream_id.as_str()]), "{stream_id} was not taken back on restart");
    }
    let pending_2 = pending_entries(scratch.redis.connection(), &stream, "group");
    assert!(!pending_2.is_empty(), "the batch in hand stays pending");
    assert!(pending_2.iter().all(|(id, consumer, deliveries)| consumer == "consumer-1"
        && *deliveries == 1
        && !pending_1.iter().any(|(old, _, _)| old == id)));

    // Another consumer, with a short claim idle time, takes the dead one's messages (`XAUTOCLAIM`)
    // and finishes the stream.
    let output = ConsumerProcess::spawn(&scratch, "consumer-2", Duration::from_millis(300), None).finish();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the last consumer process failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reclaimed: u64 = stdout
        .split("stats: reclaimed=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no stats from the last consumer process: {stdout}"));
    assert!(reclaimed >= pending_2.len() as u64, "reclaimed {reclaimed} of {}", pending_2.len());
    let all_runs = recorded(scratch.redis.connection());
    let third_run = &all_runs[first_run.len() + second_run.len()..];
    for (stream_id, _, _) in &pending_2 {
        assert!(
            third_run.contains(&event_of[stream_id.as_str()]),
            "{stream_id} was not claimed from the dead consumer"
        );
    }

    // Every event was dispatched at least once, nothing is pending, nothing was dead-lettered.
    assert_eq!(all_runs.iter().copied().collect::<BTreeSet<_>>(), event_ids(&produced));
    assert_eq!(pending_count(scratch.redis.connection(), &stream, "group"), 0);
    assert_eq!(dead_letters(&scratch.settings, "ticks").unwrap(), vec![]);
}

// ---------------------------------------------------------------------------------------------
// 2. Poison messages.

fn xadd_raw(connection: &mut redis::Connection, stream: &str, fields: &[(&str, &[u8])]) -> String {
    let mut command = redis::cmd("XADD");
    command.arg(stream).arg("*");
    for (name, value) in fields {
        command.arg(*name).arg(*value);
    }
    command.query(connection).expect("XADD")
}

#[test]
fn poison_messages_are_dead_lettered_and_the_ones_after_them_delivered() {
    let mut scratch = Scratch::new("poison");
    let stream = scratch.settings.full_topic("ticks");
    let producer = RedisProducer::new(scratch.settings.clone()).unwrap();
    let before = produce(&producer, "ticks", 1..=3);
    let id = Uuid::new_v4().to_string();
    let unknown = xadd_raw(
        scratch.redis.connection(),
        &stream,
        &[
            ("type", b"org.openedx.learning.bus_reliability.unheard_of.v1"),
            ("id", id.as_bytes()),
            ("event_data", b"\x02"),
        ],
    );
    let undecodable = xadd_raw(
        scratch.redis.connection(),
        &stream,
        &[("type", TICKED.event_type().as_bytes()), ("id", id.as_bytes()), ("event_data", b"\xff\xff")],
    );
    let typeless = xadd_raw(scratch.redis.connection(), &stream, &[("id", id.as_bytes()), ("event_data", b"\x02")]);
    let failing = produce(&producer, "ticks", [-1]);
    let after = produce(&producer, "ticks", 4..=6);

    let recorder = Recorder::default();
    let (ids, failures) = (Arc::clone(&recorder.ids), Arc::clone(&recorder.failures));
    install(recorder);
    let mut consumer = new_consumer(scratch.settings.clone(), "ticks", "group", "c", StartFrom::Beginning);
    poll_until_drained(&mut consumer, scratch.redis.connection(), "group");

    let good: Vec<Uuid> = before.iter().chain(&after).map(|(_, id)| *id).collect();
    assert_eq!(snapshot(&ids), good, "the good events, each once, in order");
    assert_eq!(failures.load(Ordering::SeqCst), 3, "the failing one was tried max_attempts times");
    let stats = consumer.stats();
    assert_eq!((stats.delivered, stats.dead_lettered), (6, 4));
    assert_eq!(pending_count(scratch.redis.connection(), &stream, "group"), 0);

    let letters = dead_letters(&scratch.settings, "ticks").unwrap();
    let letter = |original: &str| {
        letters.iter().find(|l| l.original_id == original).unwrap_or_else(|| panic!("{original} not in {letters:?}"))
    };
    let expect = [
        (&unknown, "no signal of type `org.openedx.learning.bus_reliability.unheard_of.v1`", 1),
        (&undecodable, "unusable message", 1),
        (&typeless, "no `type` header", 1),
        (&failing[0].0, "tick -1 always fails", 3),
    ];
    for (original, error, attempts) in expect {
        let letter = letter(original);
        assert!(letter.error.contains(error), "{original}: {:?} should say {error:?}", letter.error);
        assert_eq!(letter.attempts, attempts, "{original}: {letter:?}");
    }
    assert_eq!(letters.len(), 4);
    assert_eq!(letter(&failing[0].0).fields.len(), 8, "the original fields are kept");
}

#[test]
fn a_message_that_keeps_killing_its_consumers_is_dead_lettered_without_another_try() {
    let mut scratch = Scratch::new("crashing");
    let stream = scratch.settings.full_topic("ticks");
    let connection = scratch.redis.connection();
    redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("group")
        .arg("0")
        .arg("MKSTREAM")
        .query::<()>(connection)
        .unwrap();
    let producer = RedisProducer::new(scratch.settings.clone()).unwrap();
    let crashing = produce(&producer, "ticks", [1, 2]);
    // Each was delivered three times to a consumer that died with it: one to a consumer that
    // is gone (claimed with `XAUTOCLAIM`), one to the live consumer's own name (`XCLAIM`).
    for (owner, (stream_id, _)) in ["gone", "live"].into_iter().zip(&crashing) {
        let _: redis::Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("group")
            .arg(owner)
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(&stream)
            .arg(">")
            .query(connection)
            .unwrap();
        let _: redis::Value = redis::cmd("XCLAIM")
            .arg(&stream)
            .arg("group")
            .arg(owner)
            .arg(0)
            .arg(stream_id)
            .arg("IDLE")
            .arg(60_000)
            .arg("RETRYCOUNT")
            .arg(3)
            .arg("JUSTID")
            .query(connection)
            .unwrap();
    }
    let deliveries: Vec<(String, u64)> =
        pending_entries(connection, &stream, "group").into_iter().map(|(_, owner, n)| (owner, n)).collect();
    assert_eq!(deliveries, [("gone".to_owned(), 3), ("live".to_owned(), 3)]);
    let good = produce(&producer, "ticks", 3..=5);

    let recorder = Recorder::default();
    let ids = Arc::clone(&recorder.ids);
    install(recorder);
    let mut settings = scratch.settings.clone();
    settings.claim_idle_time = Duration::from_secs(1);
    let mut consumer = new_consumer(settings, "ticks", "group", "live", StartFrom::Beginning);
    poll_until_drained(&mut consumer, scratch.redis.connection(), "group");

    assert_eq!(snapshot(&ids), good.iter().map(|(_, id)| *id).collect::<Vec<_>>(), "the crashing ones never ran");
    let stats = consumer.stats();
    assert_eq!((stats.reclaimed, stats.dead_lettered, stats.delivered), (2, 2, 3));
    let letters = dead_letters(&scratch.settings, "ticks").unwrap();
    assert_eq!(letters.len(), 2);
    for (stream_id, _) in &crashing {
        let letter = letters.iter().find(|l| &l.original_id == stream_id).expect("dead-lettered");
        assert_eq!(letter.error, "delivered 3 times without being acknowledged");
        assert_eq!(letter.attempts, 3);
    }
    assert_eq!(pending_count(scratch.redis.connection(), &stream, "group"), 0);
}

#[test]
fn a_crashed_consumers_messages_are_found_behind_many_that_live_consumers_hold() {
    let mut scratch = Scratch::new("behind");
    let stream = scratch.settings.full_topic("ticks");
    let connection = scratch.redis.connection();
    redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("group")
        .arg("0")
        .arg("MKSTREAM")
        .query::<()>(connection)
        .unwrap();
    let producer = RedisProducer::new(scratch.settings.clone()).unwrap();
    // Thirty messages that live consumers are working on, then one that a dead consumer held.
    let busy = produce(&producer, "ticks", 0..30);
    let orphan = produce(&producer, "ticks", [30]);
    for (n, _) in busy.iter().enumerate() {
        let _: redis::Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("group")
            .arg(format!("busy-{}", n % 3))
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(&stream)
            .arg(">")
            .query(connection)
            .unwrap();
    }
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("group")
        .arg("dead")
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query(connection)
        .unwrap();
    let _: redis::Value = redis::cmd("XCLAIM")
        .arg(&stream)
        .arg("group")
        .arg("dead")
        .arg(0)
        .arg(&orphan[0].0)
        .arg("IDLE")
        .arg(60_000)
        .arg("JUSTID")
        .query(connection)
        .unwrap();

    // Taking one message at a time, `XAUTOCLAIM` looks at ten pending entries per call.
    let recorder = Recorder::default();
    let ids = Arc::clone(&recorder.ids);
    install(recorder);
    let mut settings = scratch.settings.clone();
    settings.batch_size = 1;
    let mut consumer = new_consumer(settings, "ticks", "group", "live", StartFrom::Beginning);
    assert_eq!(consumer.poll().unwrap(), 1);
    assert_eq!(consumer.stats().reclaimed, 1, "the first poll takes the dead consumer's message");
    assert_eq!(snapshot(&ids), [orphan[0].1]);
    let left = pending_entries(scratch.redis.connection(), &stream, "group");
    assert_eq!(left.len(), 30);
    assert!(left.iter().all(|(_, owner, _)| owner.starts_with("busy-")), "{left:?}");
}

// ---------------------------------------------------------------------------------------------
// 3. Redis restarted, or gone.

#[test]
fn a_consumer_reconnects_after_redis_restarts_and_loses_nothing() {
    let mut server = OwnRedis::start(true);
    let settings = with(settings(&server.url(), "restart"), |s| s.poll_failure_sleep = Duration::from_millis(100));
    let producer = RedisProducer::new(settings.clone()).unwrap();
    let mut produced = produce(&producer, "ticks", 0..100);
    let barrier = Arc::new(Barrier::new(2));
    let recorder =
        Recorder { delay: Duration::from_millis(1), pause_at: Some((35, Arc::clone(&barrier))), ..Recorder::default() };
    let ids = Arc::clone(&recorder.ids);
    let consumer = new_consumer(settings.clone(), "ticks", "group", "c", StartFrom::Beginning);
    let shutdown = consumer.shutdown_handle();
    let running = spawn_consumer(consumer, recorder);

    // Redis dies while the consumer is in the middle of a batch, and comes back a second later
    // with what it had written to its append-only file.
    barrier.wait();
    server.kill();
    barrier.wait();
    std::thread::sleep(Duration::from_secs(1));
    server.launch();
    // The producer's connection died with Redis: its next send reconnects and succeeds.
    produced.extend(produce(&producer, "ticks", 100..200));

    let mut connection = connect(&server.url());
    let stream = settings.full_topic("ticks");
    wait_for("every event dispatched after the restart", Duration::from_secs(20), || {
        snapshot(&ids).into_iter().collect::<BTreeSet<_>>() == event_ids(&produced)
            && pending_count(&mut connection, &stream, "group") == 0
    });
    shutdown.shutdown();
    let (result, stats) = running.join().expect("the consumer thread");
    result.expect("a graceful shutdown");
    assert!(stats.reclaimed >= 1, "the batch in hand when Redis died is taken back: {stats:?}");
    assert!(stats.delivered >= 200, "{stats:?}");
    assert_eq!(dead_letters(&settings, "ticks").unwrap(), vec![]);
}

#[test]
fn a_group_lost_with_redis_data_is_made_again_without_skipping_new_events() {
    // No persistence: a restart loses the stream and the group.
    let mut server = OwnRedis::start(false);
    let settings = with(settings(&server.url(), "lost"), |s| s.poll_failure_sleep = Duration::from_millis(600));
    let producer = RedisProducer::new(settings.clone()).unwrap();
    let recorder = Recorder::default();
    let ids = Arc::clone(&recorder.ids);
    let mut consumer = new_consumer(settings.clone(), "ticks", "group", "c", StartFrom::End);
    consumer.poll().unwrap();
    let shutdown = consumer.shutdown_handle();
    let running = spawn_consumer(consumer, recorder);
    let before = produce(&producer, "ticks", 0..10);
    wait_for("the first events", Duration::from_secs(10), || snapshot(&ids).len() == before.len());

    // Events produced after the restart, before the consumer is back (it retries 0.6 s, then
    // 1.8 s after Redis went away), are not skipped when it makes the group again.
    server.kill();
    std::thread::sleep(Duration::from_secs(1));
    server.launch();
    let after = produce(&producer, "ticks", 10..20);
    wait_for("the events produced after the restart", Duration::from_secs(15), || {
        snapshot(&ids).into_iter().collect::<BTreeSet<_>>()
            == event_ids(&before).union(&event_ids(&after)).copied().collect()
    });
    shutdown.shutdown();
    let (result, _) = running.join().expect("the consumer thread");
    result.expect("a graceful shutdown");
}

#[test]
fn a_consumer_gives_up_after_the_consecutive_errors_limit() {
    let mut server = OwnRedis::start(false);
    let settings = with(settings(&server.url(), "limit"), |s| {
        s.consecutive_errors_limit = Some(3);
        s.poll_failure_sleep = Duration::from_millis(20);
    });
    let recorder = Recorder::default();
    let ids = Arc::clone(&recorder.ids);
    let consumer = new_consumer(settings.clone(), "ticks", "group", "c", StartFrom::Beginning);
    let shutdown = consumer.shutdown_handle();
    let running = spawn_consumer(consumer, recorder);
    let produced = produce(&RedisProducer::new(settings).unwrap(), "ticks", 0..5);
    wait_for("the events", Duration::from_secs(10), || snapshot(&ids).len() == produced.len());

    // Redis goes away for good: the consumer stops by itself.
    server.kill();
    let stopped = Instant::now();
    let (result, stats) = running.join().expect("the consumer thread");
    shutdown.shutdown();
    match result {
        Err(ConsumeError::TooManyErrors { count, last }) => {
            assert_eq!(count, 3);
            assert!(!last.to_string().is_empty());
        }
        other => panic!("expected TooManyErrors, got {other:?}"),
    }
    assert!(stopped.elapsed() < Duration::from_secs(5), "gave up in {:?}", stopped.elapsed());
    assert_eq!(stats.delivered, 5);
}

#[test]
fn a_shutdown_between_retries_leaves_the_message_pending() {
    let mut scratch = Scratch::new("retrying");
    let stream = scratch.settings.full_topic("ticks");
    let settings = with(scratch.settings.clone(), |s| {
        s.retry = RetryPolicy { max_attempts: 5, backoff: Duration::from_millis(300) }
    });
    let producer = RedisProducer::new(settings.clone()).unwrap();
    let failing = produce(&producer, "ticks", [-7]);
    let recorder = Recorder::default();
    let failures = Arc::clone(&recorder.failures);
    let consumer = new_consumer(settings.clone(), "ticks", "group", "c", StartFrom::Beginning);
    let shutdown = consumer.shutdown_handle();
    let running = spawn_consumer(consumer, recorder);
    wait_for("a first failed try", Duration::from_secs(10), || failures.load(Ordering::SeqCst) >= 1);
    shutdown.shutdown();
    let (result, stats) = running.join().expect("the consumer thread");
    result.expect("a graceful shutdown");
    let tries = failures.load(Ordering::SeqCst);
    assert!(tries < 5, "stopped before its last try ({tries})");
    assert_eq!(stats.dead_lettered, 0);
    assert_eq!(dead_letters(&settings, "ticks").unwrap(), vec![]);
    let pending = pending_entries(scratch.redis.connection(), &stream, "group");
    assert_eq!(
        pending.iter().map(|(id, owner, _)| (id.as_str(), owner.as_str())).collect::<Vec<_>>(),
        [(failing[0].0.as_str(), "c")]
    );

    // Restarted, the consumer takes it back and gives it its tries.
    let recorder = Recorder::default();
    let failures = Arc::clone(&recorder.failures);
    install(recorder);
    let settings = with(settings, |s| s.retry.backoff = Duration::from_millis(1));
    let mut consumer = new_consumer(settings.clone(), "ticks", "group", "c", StartFrom::Beginning);
    poll_until_drained(&mut consumer, scratch.redis.connection(), "group");
    assert_eq!(failures.load(Ordering::SeqCst), 5);
    let letters = dead_letters(&settings, "ticks").unwrap();
    assert_eq!(letters.len(), 1);
    assert!(letters[0].error.contains("tick -7 always fails"), "{letters:?}");
}

// ---------------------------------------------------------------------------------------------
// 4. Two consumers in one group.

#[test]
fn two_consumers_of_a_group_share_the_work_without_loss_or_double_delivery() {
    let mut scratch = Scratch::new("shared");
    let stream = scratch.settings.full_topic("ticks");
    let producer = RedisProducer::new(scratch.settings.clone()).unwrap();
    let produced = produce(&producer, "ticks", 0..500);
    let mut consumers = Vec::new();
    for name in ["one", "two"] {
        let recorder = Recorder { delay: Duration::from_micros(500), ..Recorder::default() };
        let ids = Arc::clone(&recorder.ids);
        let consumer = new_consumer(scratch.settings.clone(), "ticks", "group", name, StartFrom::Beginning);
        let shutdown = consumer.shutdown_handle();
        consumers.push((name, ids, shutdown, spawn_consumer(consumer, recorder)));
    }
    wait_for("all 500 events", Duration::from_secs(20), || {
        consumers.iter().map(|(_, ids, _, _)| snapshot(ids).len()).sum::<usize>() >= produced.len()
            && pending_count(scratch.redis.connection(), &stream, "group") == 0
    });
    let mut delivered = Vec::new();
    for (name, ids, shutdown, running) in consumers {
        shutdown.shutdown();
        let (result, stats) = running.join().expect("a consumer thread");
        result.expect("a graceful shutdown");
        let ids = snapshot(&ids);
        let unique: BTreeSet<Uuid> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{name} dispatched an event twice");
        assert!(!ids.is_empty(), "{name} got no work");
        assert_eq!(stats.delivered, ids.len() as u64, "{name} acknowledged what it dispatched");
        delivered.push(unique);
    }
    assert!(delivered[0].is_disjoint(&delivered[1]), "an event went to both consumers");
    assert_eq!(delivered[0].union(&delivered[1]).copied().collect::<BTreeSet<_>>(), event_ids(&produced));
    assert_eq!(pending_count(scratch.redis.connection(), &stream, "group"), 0);
}

/// Consuming indefinitely, a consumer asks for the next batch while it dispatches a full one.
/// Stopped in the middle, it leaves the rest of its batch and the batch it read ahead pending to
/// its name; the next consumer of that name takes them back first, and nothing is lost.
#[test]
fn a_consumer_stopped_while_reading_ahead_leaves_nothing_behind() {
    let mut scratch = Scratch::new("read-ahead");
    let stream = scratch.settings.full_topic("ticks");
    let producer = RedisProducer::new(scratch.settings.clone()).unwrap();
    let produced = produce(&producer, "ticks", 0..300);
    let barrier = Arc::new(Barrier::new(2));
    let recorder = Recorder { pause_at: Some((45, Arc::clone(&barrier))), ..Recorder::default() };
    let first_ids = Arc::clone(&recorder.ids);
    let consumer = new_consumer(scratch.settings.clone(), "ticks", "group", "one", StartFrom::Beginning);
    let shutdown = consumer.shutdown_handle();
    let running = spawn_consumer(consumer, recorder);
    barrier.wait();
    // The 45th event is in hand (batches of 10), and the sixth and seventh batches were read
    // ahead.
    shutdown.shutdown();
    barrier.wait();
    let (result, stats) = running.join().expect("the consumer thread");
    result.expect("a graceful shutdown");
    assert_eq!(stats.delivered, 45, "it finished the event in hand and stopped");
    let left = pending_entries(scratch.redis.connection(), &stream, "group");
    assert_eq!(left.len(), 5 + 20, "the rest of its batch and the two batches read ahead: {left:?}");
    assert!(left.iter().all(|(_, consumer, _)| consumer == "one"), "{left:?}");

    let mut second = new_consumer(scratch.settings.clone(), "ticks", "group", "one", StartFrom::Beginning);
    let recorder = Recorder::default();
    let second_ids = Arc::clone(&recorder.ids);
    install(recorder);
    poll_until_drained(&mut second, &mut connect(&redis_url()), "group");
    let mut all: Vec<Uuid> = snapshot(&first_ids);
    all.extend(snapshot(&second_ids));
    let unique: BTreeSet<Uuid> = all.iter().copied().collect();
    assert_eq!(unique, event_ids(&produced), "every event dispatched");
    assert_eq!(all.len(), produced.len(), "none twice: the shutdown acknowledged what was done");
    assert_eq!(pending_count(scratch.redis.connection(), &stream, "group"), 0);
}

#[test]
fn a_burst_read_ahead_and_ending_in_a_short_batch_is_acknowledged_whole() {
    // Batches of 10: two full ones (the second read ahead, carrying the first's acknowledgement)
    // and a short one, whose round sends no read ahead; the second batch's acknowledgement must
    // still go out, not be replaced by the third's.
    let mut scratch = Scratch::new("read-ahead-tail");
    let stream = scratch.settings.full_topic("ticks");
    let producer = RedisProducer::new(scratch.settings.clone()).unwrap();
    let produced = produce(&producer, "ticks", 0..25);
    let recorder = Recorder::default();
    let ids = Arc::clone(&recorder.ids);
    let consumer = new_consumer(scratch.settings.clone(), "ticks", "group", "one", StartFrom::Beginning);
    let shutdown = consumer.shutdown_handle();
    let running = spawn_consumer(consumer, recorder);
    wait_for("25 events dispatched", Duration::from_secs(10), || snapshot(&ids).len() == produced.len());
    let mut connection = connect(&redis_url());
    wait_for("every batch acknowledged while the consumer waits for more", Duration::from_secs(5), || {
        pending_count(&mut connection, &stream, "group") == 0
    });
    shutdown.shutdown();
    let (result, stats) = running.join().expect("the consumer thread");
    result.expect("a graceful shutdown");
    assert_eq!(stats.delivered, 25);
    assert_eq!(pending_count(scratch.redis.connection(), &stream, "group"), 0);
}

// ---------------------------------------------------------------------------------------------
// 5. A producer that cannot reach Redis.

#[openedx_event(name = UNSENT, event_type = "org.openedx.learning.bus_reliability.unsent.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct Unsent {
    pub n: i64,
}

#[test]
fn a_producer_failure_is_returned_to_the_caller() {
    let port = free_port();
    let settings = settings(&format!("redis://127.0.0.1:{port}"), &unique_name("unsent"));
    let config = ProducerConfig::from_value(&json!({
        "org.openedx.learning.bus_reliability.unsent.v1": {"unsent": {"event_key_field": "n", "enabled": true}}
    }))
    .unwrap();
    let guard = start_producing(&config, Arc::new(RedisProducer::new(settings.clone()).unwrap()));

    // Redis is down: the producing receiver's response says so, naming the topic.
    let responses = UNSENT.send_event(Unsent { n: 1 });
    let produced = responses.iter().find(|r| r.receiver == PRODUCER_RECEIVER_NAME).expect("the producer's response");
    let error = produced.result.as_ref().expect_err("Redis is down").to_string();
    let topic = settings.full_topic("unsent");
    assert!(error.contains(&format!("`{topic}`")), "{error:?} should name {topic}");
    assert!(error.contains("org.openedx.learning.bus_reliability.unsent.v1"), "{error:?}");

    // Once Redis is there, the same producer works.
    let server = OwnRedis::start_on(port, false);
    let responses = UNSENT.send_event(Unsent { n: 2 });
    assert!(responses.iter().all(|r| r.result.is_ok()), "{responses:?}");
    let length: usize = redis::cmd("XLEN").arg(&topic).query(&mut connect(&server.url())).unwrap();
    assert_eq!(length, 1);
    drop(guard);
}
