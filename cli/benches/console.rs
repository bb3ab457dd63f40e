//! How fast the console answers with a big bus: a stream of 1,000,000 entries (filled with
//! pipelined `XADD`s of a real enrollment) read by 10 consumer groups, each with a consumer
//! holding pending messages, and 50 dead letters. The console runs as its release binary against
//! the local Redis (`REDIS_URL`); each iteration is one HTTP request on a kept-alive connection,
//! as a browser sends it. Everything is under a prefix of the run's own, deleted at the end.
//!
//! ```sh
//! cargo bench -p openedx-events-cli --bench console -- --warm-up-time 1 --measurement-time 5
//! ```

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::Criterion;
use openedx_events::event_bus::message_fields;
// Links the catalog, to encode the events the stream is filled with.
use openedx_events_catalog as _;
use openedx_events_test_support::{RedisScratch, redis_url};
use serde_json::json;

const ENTRIES: usize = 1_000_000;
const GROUPS: usize = 10;
const DEAD_LETTERS: usize = 50;
/// `XADD`s per pipeline while filling.
const PIPELINE: usize = 5_000;

/// The console's release binary, running; killed on drop.
struct Console {
    child: Child,
    base: String,
}

impl Console {
    fn start(prefix: &str) -> Console {
        let mut child = Command::new(env!("CARGO_BIN_EXE_openedx-events"))
            .args(["console", "--listen", "127.0.0.1:0"])
            .env("EVENT_BUS_REDIS_CONNECTION_URL", redis_url())
            .env("EVENT_BUS_TOPIC_PREFIX", prefix)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the console starts");
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let base = loop {
            let line = lines.next().expect("the console says where it listens").expect("stderr reads");
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split('/').take(3).collect::<Vec<_>>().join("/");
            }
        };
        // Keep reading stderr, so that the console never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Console { child, base }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fills the stream, makes the groups and the dead letters; returns an entry id in the middle.
fn fill(redis: &mut RedisScratch, stream: &str) -> String {
    let signal = openedx_events::get_signal_by_type("org.openedx.learning.course.enrollment.created.v1").unwrap();
    let data = json!({"enrollment": {
        "user": {"id": 42, "is_active": true, "pii": {"username": "ada", "email": "ada@example.org", "name": "Ada Lovelace"}},
        "course": {"course_key": "course-v1:edX+DemoX+Demo_Course", "display_name": "Demonstration Course",
                   "start": "2024-01-15T09:00:00+00:00", "end": null},
        "mode": "verified", "is_active": true, "creation_date": "2024-05-01T12:30:45.123456+00:00", "created_by": null,
    }});
    let bytes = signal.json_to_avro(&data).unwrap();
    let metadata = signal.generate_signal_metadata(None);
    let fields: Vec<(&str, Vec<u8>)> =
        message_fields(&metadata, &bytes).iter().map(|(name, value)| (*name, value.to_vec())).collect();
    let started = Instant::now();
    let mut middle = String::new();
    for round in 0..ENTRIES / PIPELINE {
        let mut pipe = redis::pipe();
        for _ in 0..PIPELINE {
            pipe.cmd("XADD").arg(stream).arg("*").arg(&fields);
        }
        let ids: Vec<String> = pipe.query(redis.connection()).unwrap();
        if round == ENTRIES / PIPELINE / 2 {
            middle = ids[0].clone();
        }
    }
    eprintln!("filled {ENTRIES} entries in {:.1} s", started.elapsed().as_secs_f64());
    for group in 0..GROUPS {
        // Half the groups start at the beginning (a lag of about a million), half at the middle.
        let start = if group % 2 == 0 { "0" } else { middle.as_str() };
        let name = format!("group-{group}");
        let _: () =
            redis::cmd("XGROUP").arg("CREATE").arg(stream).arg(&name).arg(start).query(redis.connection()).unwrap();
        for consumer in 0..3 {
            let _: redis::Value = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(&name)
                .arg(format!("{name}-consumer-{consumer}"))
                .arg("COUNT")
                .arg(20)
                .arg("STREAMS")
                .arg(stream)
                .arg(">")
                .query(redis.connection())
                .unwrap();
        }
    }
    let dead_letter_stream = format!("{stream}-dead-letter");
    for n in 0..DEAD_LETTERS {
        let mut command = redis::cmd("XADD");
        command.arg(&dead_letter_stream).arg("*").arg(&fields);
        command.arg("error").arg("1 of 1 receivers failed: crm::sync: receiver returned an error: 503");
        command.arg("attempts").arg(3).arg("original_id").arg(format!("{n}-0")).arg("group").arg("group-0");
        let _: String = command.arg("consumer").arg("group-0-consumer-0").query(redis.connection()).unwrap();
    }
    middle
}

/// A stream name percent-encoded for a query string.
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn console_pages(c: &mut Criterion) {
    let mut redis = RedisScratch::new("console-bench");
    let stream = redis.stream("enrollments");
    let middle = fill(&mut redis, &stream);
    // A small topic beside it, to compare: a page must not cost more on the big one.
    let small = redis.stream("small");
    let one: Vec<(String, Vec<u8>)> = redis::cmd("XRANGE")
        .arg(&stream)
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(1)
        .query::<Vec<(String, Vec<(String, Vec<u8>)>)>>(redis.connection())
        .unwrap()
        .remove(0)
        .1;
    for _ in 0..100 {
        let _: String = redis::cmd("XADD").arg(&small).arg("*").arg(&one).query(redis.connection()).unwrap();
    }
    let console = Console::start(redis.prefix());
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).build().into();
    let get = |path: &str| {
        let mut reply = agent.get(format!("{}{path}", console.base)).call().expect("the page answers 200");
        let body = reply.body_mut().with_config().limit(64 << 20).read_to_string().expect("a body");
        assert!(body.len() > 100, "{path}: {body}");
        body
    };
    let stream_param = encode(&stream);
    let overview = get("/");
    assert!(overview.contains("group-9") && overview.contains(&ENTRIES.to_string()), "the overview shows the stream");
    let topic = format!("/topic?stream={stream_param}");
    assert!(get(&topic).contains("50 events, newest first; looked at 51 entries"));

    let mut group = c.benchmark_group("console");
    group.bench_function("overview (1M entries, 10 groups)", |b| b.iter(|| get("/")));
    group.bench_function("api/overview", |b| b.iter(|| get("/api/overview")));
    group.bench_function("topic page (newest 50 of 1M)", |b| b.iter(|| get(&topic)));
    let small_topic = format!("/topic?stream={}", encode(&small));
    group.bench_function("topic page (newest 50 of 100)", |b| b.iter(|| get(&small_topic)));
    let older = format!("{topic}&before={middle}");
    group.bench_function("topic page (50 before the middle)", |b| b.iter(|| get(&older)));
    let event = format!("/event?stream={stream_param}&id={middle}");
    group.bench_function("event page", |b| b.iter(|| get(&event)));
    let dead_letters = format!("/dead-letters?stream={stream_param}");
    group.bench_function("dead-letter page (50)", |b| b.iter(|| get(&dead_letters)));
    group.finish();
    drop(console);
    // Deleting a million entries takes Redis a moment: UNLINK frees them in the background.
    let _: redis::Value = redis::cmd("UNLINK").arg(&stream).query(redis.connection()).unwrap();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    console_pages(&mut c);
    c.final_summary();
}
