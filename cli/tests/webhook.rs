//! `consume --webhook` end to end, against the real Redis and a real HTTP server on loopback:
//! a webhook that is down for a while loses nothing and gets each course's events in order
//! (acknowledged only once delivered), a `410 Gone` stops the consumer, and private targets
//! are refused without `--allow-private-targets`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// Links the catalog, so that the tests can look its events up as the binary does.
use openedx_events_catalog as _;
use openedx_events_test_support::{RedisScratch, redis_url};
use openedx_events_webhooks::{Verifier, WebhookSecret};
use serde_json::Value;

mod common;
use common::{enrollment_json, failure, stderr, success};

const BIN: &str = env!("CARGO_BIN_EXE_openedx-events");
const ENROLLMENT_CREATED: &str = "org.openedx.learning.course.enrollment.created.v1";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request: its headers (names in lower case) and body.
#[derive(Debug, Clone)]
struct Request {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A server answering every request with `status` (one request a connection).
fn serve(listener: TcpListener, status: u16) -> Arc<Mutex<Vec<Request>>> {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some(request) = answer(stream, status) {
                kept.lock().unwrap().push(request);
            }
        }
    });
    requests
}

fn answer(mut stream: TcpStream, status: u16) -> Option<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let response = format!("HTTP/1.1 {status} Scripted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(response.as_bytes()).ok()?;
    Some(Request { headers, body })
}

fn command(redis: &RedisScratch, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("EVENT_BUS_REDIS_CONNECTION_URL", redis_url())
        .env("EVENT_BUS_TOPIC_PREFIX", redis.prefix())
        .env_remove("OPENEDX_EVENTS_WEBHOOK_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Produces an enrollment in `course`, numbered `n` (its user id).
fn produce(redis: &RedisScratch, course: &str, n: i64) {
    let mut data = enrollment_json();
    data["enrollment"]["course"]["course_key"] = Value::String(format!("course-v1:edX+{course}+2026"));
    data["enrollment"]["user"]["id"] = Value::from(n);
    let mut child = command(redis, &["produce", ENROLLMENT_CREATED, "--topic", "enrollments"]).spawn().unwrap();
    child.stdin.take().unwrap().write_all(data.to_string().as_bytes()).unwrap();
    success(&child.wait_with_output().unwrap());
}

/// How many messages the group holds delivered but unacknowledged (0 before it exists).
fn pending(redis: &mut RedisScratch, stream: &str) -> i64 {
    let summary: redis::RedisResult<redis::Value> =
        redis::cmd("XPENDING").arg(stream).arg("hooks").query(redis.connection());
    let Ok(summary) = summary else { return 0 };
    match summary {
        redis::Value::Array(parts) => match parts.first() {
            Some(redis::Value::Int(count)) => *count,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_webhook_down_for_a_while_loses_nothing_and_gets_each_course_in_order() {
    let mut redis = RedisScratch::new("cli-webhook-down");
    let stream = redis.stream("enrollments");
    for n in 0..12 {
        produce(&redis, ["A", "B", "C"][usize::try_from(n % 3).unwrap()], n);
    }
    // A port nothing listens on until the server starts there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let consumer = command(
        &redis,
        &[
            "consume",
            "--topic",
            "enrollments",
            "--group-id",
            "hooks",
            "--from-beginning",
            "--max-events",
            "12",
            "--webhook",
            &url,
            "--allow-private-targets",
            "--webhook-secret",
            SECRET,
            "--webhook-concurrency",
            "3",
        ],
    )
    .spawn()
    .unwrap();

    wait_for("the batch to be read", Duration::from_secs(20), || pending(&mut redis, &stream) == 12);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(pending(&mut redis, &stream), 12, "nothing is acknowledged while the webhook is down");
    assert_eq!(redis.stream_len(&format!("{stream}-dead-letter")), 0);

    let requests = serve(TcpListener::bind(("127.0.0.1", port)).unwrap(), 200);
    let output = consumer.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("stopped: 12 delivered, 0 dead-lettered"), "{}", stderr(&output));
    assert_eq!(pending(&mut redis, &stream), 0, "all acknowledged once delivered");

    let requests = requests.lock().unwrap().clone();
    let verifier = Verifier::new(vec![WebhookSecret::parse(SECRET).unwrap()]);
    let mut by_course: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    let mut ids = std::collections::BTreeSet::new();
    for request in &requests {
        let verified = verifier.verify(
            request.header("webhook-id"),
            request.header("webhook-timestamp"),
            request.header("webhook-signature"),
            &request.body,
        );
        assert_eq!(verified, Ok(()));
        assert_eq!(request.header("ce-type"), Some(ENROLLMENT_CREATED));
        assert_eq!(request.header("ce-id"), request.header("webhook-id"));
        assert_eq!(request.header("content-type"), Some("application/json"));
        ids.insert(request.header("ce-id").unwrap().to_owned());
        let data: Value = serde_json::from_slice(&request.body).unwrap();
        let course = data["enrollment"]["course"]["course_key"].as_str().unwrap().to_owned();
        by_course.entry(course).or_default().push(data["enrollment"]["user"]["id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), 12, "every event arrived");
    assert_eq!(requests.len(), 12, "once each, after the server was back");
    assert_eq!(by_course["course-v1:edX+A+2026"], vec![0, 3, 6, 9]);
    assert_eq!(by_course["course-v1:edX+B+2026"], vec![1, 4, 7, 10]);
    assert_eq!(by_course["course-v1:edX+C+2026"], vec![2, 5, 8, 11]);
}

#[test]
fn a_410_dead_letters_the_event_and_stops_the_consumer() {
    let mut redis = RedisScratch::new("cli-webhook-gone");
    let stream = redis.stream("enrollments");
    for n in 0..3 {
        produce(&redis, "A", n);
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
    let requests = serve(listener, 410);
    let args = [
        "consume",
        "--topic",
        "enrollments",
        "--group-id",
        "hooks",
        "--from-beginning",
        "--webhook",
        &url,
        "--allow-private-targets",
    ];
    let output = command(&redis, &args).output().unwrap();
    let message = failure(&output, 1, "answered 410 Gone; the consumer stopped");
    assert!(message.contains("stopped: 0 delivered, 1 dead-lettered"), "{message}");
    assert_eq!(requests.lock().unwrap().len(), 1, "nothing more went to the gone webhook");
    assert_eq!(redis.stream_len(&format!("{stream}-dead-letter")), 1);
    assert_eq!(pending(&mut redis, &stream), 2, "the other two stay, for when the webhook is fixed");
}

#[test]
fn private_targets_are_refused_without_the_flag() {
    let redis = RedisScratch::new("cli-webhook-private");
    for url in ["http://127.0.0.1:9/hook", "http://localhost:9/hook?token=s3cret", "http://169.254.169.254/"] {
        let args = ["consume", "--topic", "enrollments", "--group-id", "hooks", "--webhook", url];
        let message = failure(&command(&redis, &args).output().unwrap(), 2, "invalid webhook URL");
        assert!(message.contains("--allow-private-targets"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }
}
