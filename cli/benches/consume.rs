//! How fast `openedx-events consume` prints events as JSON lines: a stream of 10,000
//! enrollments (`COURSE_ENROLLMENT_CREATED` of the catalog) read by the release binary in a new
//! group from the beginning, `--max-events 10000`, its standard output read and thrown away by
//! the bench. Side by side, the floor: the same entries read with plain `XREADGROUP` + `XACK`
//! through redis-rs, with nothing decoded or printed.
//!
//! ```sh
//! cargo bench -p openedx-events-cli --bench consume -- --warm-up-time 1 --measurement-time 10
//! ```

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use openedx_events::event_bus::message_fields;
use openedx_events_catalog as _;
use openedx_events_test_support::{RedisScratch, redis_url};
use serde_json::json;

const EVENTS: usize = 10_000;

fn fill(scratch: &mut RedisScratch, stream: &str) {
    let signal = openedx_events::get_signal_by_type("org.openedx.learning.course.enrollment.created.v1")
        .expect("the catalog is linked");
    let data = json!({"enrollment": {
        "user": {"id": 7, "is_active": true, "pii": {"username": "ada", "email": "ada@example.com", "name": "Ada"}},
        "course": {"course_key": "course-v1:edX+DemoX+2024", "display_name": "Demo", "start": null, "end": null},
        "mode": "audit", "is_active": true, "creation_date": "2024-05-01T12:00:00+00:00", "created_by": null,
    }});
    let avro = signal.json_to_avro(&data).expect("the enrollment encodes");
    let mut pipeline = redis::pipe();
    for _ in 0..EVENTS {
        let metadata = signal.generate_signal_metadata(None);
        let mut command = redis::cmd("XADD");
        command.arg(stream).arg("*");
        for (name, value) in message_fields(&metadata, &avro) {
            command.arg(name).arg(value.as_ref());
        }
        pipeline.add_command(command);
    }
    pipeline.query::<Vec<String>>(scratch.connection()).expect("filled");
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut scratch = RedisScratch::new("cli-consume-bench");
    let stream = scratch.stream("enrollments");
    fill(&mut scratch, &stream);
    let groups = AtomicUsize::new(0);
    let mut bench = c.benchmark_group("consume");
    bench.sampling_mode(SamplingMode::Flat).sample_size(10).throughput(Throughput::Elements(EVENTS as u64));
    bench.bench_function("cli/json_lines", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let group = format!("cli-{}", groups.fetch_add(1, Ordering::Relaxed));
                let start = Instant::now();
                let mut child = Command::new(env!("CARGO_BIN_EXE_openedx-events"))
                    .args(["consume", "--topic", "enrollments", "--group-id", &group, "--from-beginning"])
                    .args(["--max-events", &EVENTS.to_string()])
                    .env("EVENT_BUS_REDIS_CONNECTION_URL", redis_url())
                    .env("EVENT_BUS_TOPIC_PREFIX", scratch.prefix())
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("the binary runs");
                let mut output = Vec::new();
                child.stdout.take().expect("piped").read_to_end(&mut output).expect("read");
                let status = child.wait().expect("waited");
                total += start.elapsed();
                assert!(status.success(), "consume failed");
                assert_eq!(output.iter().filter(|&&b| b == b'\n').count(), EVENTS, "one line an event");
            }
            total
        });
    });
    bench.bench_function("floor/raw_xreadgroup+xack/500", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let group = format!("raw-{}", groups.fetch_add(1, Ordering::Relaxed));
                let connection = scratch.connection();
                redis::cmd("XGROUP").arg("CREATE").arg(&stream).arg(&group).arg("0").query::<()>(connection).unwrap();
                let start = Instant::now();
                let mut handled = 0;
                while handled < EVENTS {
                    let reply: redis::Value = redis::cmd("XREADGROUP")
                        .arg("GROUP")
                        .arg(&group)
                        .arg("c")
                        .arg("COUNT")
                        .arg(500)
                        .arg("STREAMS")
                        .arg(&stream)
                        .arg(">")
                        .query(connection)
                        .unwrap();
                    let ids = ids_of(reply);
                    handled += ids.len();
                    redis::cmd("XACK").arg(&stream).arg(&group).arg(&ids).query::<()>(connection).unwrap();
                }
                total += start.elapsed();
            }
            total
        });
    });
    bench.finish();
    drop(scratch);
    c.final_summary();
}

fn ids_of(reply: redis::Value) -> Vec<Vec<u8>> {
    use redis::Value;
    let Value::Array(streams) = reply else { return Vec::new() };
    streams
        .into_iter()
        .filter_map(|stream| match stream {
            Value::Array(mut parts) => parts.pop(),
            _ => None,
        })
        .flat_map(|entries| match entries {
            Value::Array(entries) => entries,
            _ => Vec::new(),
        })
        .filter_map(|entry| match entry {
            Value::Array(mut parts) if !parts.is_empty() => match parts.swap_remove(0) {
                Value::BulkString(id) => Some(id),
                _ => None,
            },
            _ => None,
        })
        .collect()
}
