//! The bus commands (`produce`, `consume`, `dead-letters`) run as a user runs them, against the
//! real Redis (`REDIS_URL`, default `redis://127.0.0.1:6379`): each test uses a topic prefix of
//! its own and deletes its streams after.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openedx_events::EventsMetadata;
use openedx_events::event_bus::{FIELD_NAMES, parse_message_fields};
// Links the catalog, so that the tests can look its events up as the binary does.
use openedx_events_catalog as _;
use openedx_events_test_support::{RedisScratch, redis_url};
use serde_json::{Value, json};

mod common;
use common::{enrollment_json, failure, stderr, success};

const BIN: &str = env!("CARGO_BIN_EXE_openedx-events");
const ENROLLMENT_CREATED: &str = "org.openedx.learning.course.enrollment.created.v1";
const LOGIN_COMPLETED: &str = "org.openedx.learning.auth.session.login.completed.v1";
/// The longest a command may run before the test fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// The variables the commands read besides the Redis settings'; all are cleared so that the
/// machine's own do not leak in.
const SERVICE_VARIABLES: [&str; 2] = ["EVENTS_SERVICE_NAME", "SERVICE_VARIANT"];

/// A stream entry's fields, in order.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// One test's corner of Redis: a topic prefix of its own, and a connection to look at the
/// streams; every stream under the prefix is deleted on drop.
struct Bus {
    prefix: String,
    redis: RedisScratch,
}

impl Bus {
    fn new(test: &str) -> Bus {
        let redis = RedisScratch::new(&format!("cli-{test}"));
        Bus { prefix: redis.prefix().to_owned(), redis }
    }

    /// The binary with `args`, the URL and this test's prefix in the environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = bare_command(args);
        command
            .env("EVENT_BUS_REDIS_CONNECTION_URL", redis_url())
            .env("EVENT_BUS_TOPIC_PREFIX", &self.prefix)
            .env("EVENTS_SERVICE_NAME", "cli-bus-test");
        command
    }

    fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        run(self.command(args), stdin)
    }

    /// The stream a topic lives in.
    fn stream(&self, topic: &str) -> String {
        format!("{}-{topic}", self.prefix)
    }

    fn entries(&mut self, stream: &str) -> Vec<(String, Fields)> {
        redis::cmd("XRANGE").arg(stream).arg("-").arg("+").query(self.redis.connection()).unwrap()
    }

    fn len(&mut self, stream: &str) -> usize {
        redis::cmd("XLEN").arg(stream).query(self.redis.connection()).unwrap()
    }

    /// Produces the enrollment with the command; returns the stream entry id it printed.
    fn produce_enrollment(&self, topic: &str) -> String {
        let output = self.run(&["produce", ENROLLMENT_CREATED, "--topic", topic], &enrollment_bytes());
        let id = success(&output);
        assert!(id.ends_with('\n') && id.lines().count() == 1, "{id:?}");
        id.trim_end().to_owned()
    }
}

/// The binary with `args` and none of the bus variables.
fn bare_command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for variable in openedx_events_redis::ENV_VARS.into_iter().chain(SERVICE_VARIABLES) {
        command.env_remove(variable);
    }
    command
}

/// Runs the command to its end with `stdin` on its input; fails the test if it takes longer than
/// [`COMMAND_TIMEOUT`].
fn run(mut command: Command, stdin: &[u8]) -> Output {
    let mut child = command.spawn().expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    // A command that does not read its input may exit before we write it.
    let _ = input.write_all(stdin);
    drop(input);
    let watchdog = Watchdog::start(&child);
    let output = child.wait_with_output().expect("the binary runs");
    watchdog.finish(&output);
    output
}

/// Kills a command that runs for longer than [`COMMAND_TIMEOUT`], so that a consumer that does
/// not stop fails its test instead of hanging it.
struct Watchdog {
    done: Arc<AtomicBool>,
    fired: Arc<AtomicBool>,
}

impl Watchdog {
    fn start(child: &Child) -> Watchdog {
        let (done, fired) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let (pid, done_, fired_) = (child.id().to_string(), Arc::clone(&done), Arc::clone(&fired));
        std::thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < COMMAND_TIMEOUT {
                if done_.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !done_.load(Ordering::SeqCst) {
                fired_.store(true, Ordering::SeqCst);
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        });
        Watchdog { done, fired }
    }

    fn finish(self, output: &Output) {
        self.done.store(true, Ordering::SeqCst);
        assert!(
            !self.fired.load(Ordering::SeqCst),
            "the command ran over {COMMAND_TIMEOUT:?}; stderr: {}",
            stderr(output)
        );
    }
}

/// Sends a signal (`TERM`, `INT`) to a running command.
fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -{name} failed");
}

/// Waits for `condition`, for up to [`COMMAND_TIMEOUT`].
fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < COMMAND_TIMEOUT, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn enrollment_bytes() -> Vec<u8> {
    serde_json::to_vec(&enrollment_json()).unwrap()
}

/// The metadata in a stream entry's fields, in upstream's JSON form.
fn metadata_json(fields: &[(Vec<u8>, Vec<u8>)]) -> Value {
    let (metadata, _) = parse_message_fields(fields).unwrap();
    serde_json::from_str(&metadata.to_json()).unwrap()
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

#[test]
fn produce_writes_upstreams_eight_fields_in_order() {
    let mut bus = Bus::new("produce");
    let output = bus.run(
        &["produce", "COURSE_ENROLLMENT_CREATED", "--topic", "enrollments", "--key-field", "enrollment.user.id"],
        &enrollment_bytes(),
    );
    let entry_id = success(&output).trim_end().to_owned();

    let entries = bus.entries(&bus.stream("enrollments"));
    assert_eq!(entries.len(), 1);
    let (id, fields) = &entries[0];
    assert_eq!(*id, entry_id, "stdout is the stream entry id");
    let names: Vec<&str> = fields.iter().map(|(name, _)| text(name)).collect();
    assert_eq!(names, FIELD_NAMES);

    let value = |name: &str| &fields.iter().find(|(key, _)| key == name.as_bytes()).unwrap().1;
    let here = EventsMetadata::new(ENROLLMENT_CREATED);
    assert_eq!(text(value("type")), ENROLLMENT_CREATED);
    assert_eq!(text(value("source")), "openedx/cli-bus-test/web");
    assert_eq!(text(value("minorversion")), "0");
    assert_eq!(text(value("sourcehost")), here.sourcehost);
    let sourcelib: Vec<String> = here.sourcelib.iter().map(ToString::to_string).collect();
    assert_eq!(text(value("sourcelib")), sourcelib.join("."));
    let signal = openedx_events::get_signal_by_type(ENROLLMENT_CREATED).unwrap();
    assert_eq!(*value("event_data"), signal.json_to_avro(&enrollment_json()).unwrap(), "the data as Avro");

    let (metadata, _) = parse_message_fields(fields).unwrap();
    assert_eq!(metadata.id.get_version_num(), 1, "a UUID v1, as upstream makes them");
    assert!((here.time - metadata.time).num_seconds().abs() < 60, "the time is now: {}", text(value("time")));
    assert!(text(value("time")).ends_with("+00:00"), "Python's isoformat: {}", text(value("time")));
    let notes = stderr(&output);
    assert!(notes.contains(&format!("with id {} to `{}`", metadata.id, bus.stream("enrollments"))), "{notes}");
}

#[test]
fn options_take_precedence_over_the_environment() {
    let mut bus = Bus::new("options");
    let prefix = format!("{}-option", bus.prefix);
    let mut command = bus.command(&[
        "produce",
        LOGIN_COMPLETED,
        "--topic",
        "logins",
        "--redis-url",
        &redis_url(),
        "--topic-prefix",
        &prefix,
    ]);
    command.env("EVENT_BUS_REDIS_CONNECTION_URL", "redis://127.0.0.1:1");
    let login =
        json!({"user": {"id": 7, "is_active": true, "pii": {"username": "b", "email": "b@x.org", "name": "B"}}});
    success(&run(command, &serde_json::to_vec(&login).unwrap()));
    assert_eq!(bus.len(&format!("{prefix}-logins")), 1, "the option's prefix");
    assert_eq!(bus.len(&bus.stream("logins")), 0, "not the environment's");

    // An empty prefix is none.
    let topic = format!("{}-bare", bus.prefix);
    let command = bus.command(&["produce", LOGIN_COMPLETED, "--topic", &topic, "--topic-prefix", ""]);
    success(&run(command, &serde_json::to_vec(&login).unwrap()));
    assert_eq!(bus.len(&topic), 1);
}

#[test]
fn consume_prints_each_event_as_a_json_line() {
    let mut bus = Bus::new("consume");
    bus.produce_enrollment("enrollments");
    let output = bus.run(
        &["consume", "--topic", "enrollments", "--group-id", "printer", "--from-beginning", "--max-events", "1"],
        b"",
    );
    let printed = success(&output);
    assert!(printed.ends_with('\n') && printed.lines().count() == 1, "one line: {printed:?}");
    let event: Value = serde_json::from_str(&printed).unwrap();
    let keys: Vec<&String> = event.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["metadata", "data"]);
    assert_eq!(event["data"], enrollment_json());
    let entries = bus.entries(&bus.stream("enrollments"));
    assert_eq!(event["metadata"], metadata_json(&entries[0].1), "the producer's metadata");
    let metadata_keys: Vec<&String> = event["metadata"].as_object().unwrap().keys().collect();
    assert_eq!(metadata_keys, ["event_type", "id", "minorversion", "source", "sourcehost", "time", "sourcelib"]);
    let notes = stderr(&output);
    assert!(notes.contains(&format!("consuming `{}` as `", bus.stream("enrollments"))), "{notes}");
    assert!(notes.contains("stopped: 1 delivered, 0 dead-lettered, 0 reclaimed"), "{notes}");
}

#[test]
fn consume_stops_at_max_events_and_the_group_resumes_after() {
    let bus = Bus::new("resume");
    let ids: Vec<String> = (0..3).map(|_| bus.produce_enrollment("enrollments")).collect();
    let consume = |max: &str| {
        let args = ["consume", "--topic", "enrollments", "--group-id", "g", "--consumer-name", "c1"];
        success(&bus.run(&[&args[..], &["--from-beginning", "--max-events", max]].concat(), b""))
    };
    let first = consume("2");
    assert_eq!(first.lines().count(), 2, "{first}");
    // The group resumes where it left off: the third event, not the first again.
    let second = consume("1");
    assert_eq!(second.lines().count(), 1, "{second}");
    let seen: Vec<Value> =
        first.lines().chain(second.lines()).map(|line| serde_json::from_str(line).unwrap()).collect();
    let event_ids: Vec<&str> = seen.iter().map(|event| event["metadata"]["id"].as_str().unwrap()).collect();
    assert_eq!(event_ids.len(), ids.len());
    let unique: std::collections::BTreeSet<&&str> = event_ids.iter().collect();
    assert_eq!(unique.len(), 3, "three different events: {event_ids:?}");
}

#[test]
fn consume_stops_cleanly_on_sigint_and_sigterm() {
    let bus = Bus::new("signals");
    for signal_name in ["INT", "TERM"] {
        let topic = format!("t-{signal_name}");
        bus.produce_enrollment(&topic);
        let mut child = bus
            .command(&["consume", "--topic", &topic, "--group-id", "g", "--from-beginning"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let watchdog = Watchdog::start(&child);
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&line).unwrap()["data"], enrollment_json());
        signal(&child, signal_name);
        let output = child.wait_with_output().unwrap();
        watchdog.finish(&output);
        assert!(output.status.success(), "SIG{signal_name}: {:?}: {}", output.status, stderr(&output));
        assert!(stderr(&output).contains("stopped: 1 delivered, 0 dead-lettered"), "{}", stderr(&output));
    }
}

/// One request the test server received.
#[derive(Debug, Clone)]
struct Request {
    request_line: String,
    content_type: String,
    body: Vec<u8>,
}

/// A tiny HTTP server on 127.0.0.1: answers each request with the next status of `statuses`,
/// then with `then` forever, and keeps what it received.
struct WebhookServer {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl WebhookServer {
    fn start(statuses: &[u16], then: u16) -> WebhookServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (kept, statuses) = (Arc::clone(&requests), statuses.to_vec());
        // The thread ends with the test process.
        std::thread::spawn(move || {
            let mut statuses = statuses.into_iter();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let status = statuses.next().unwrap_or(then);
                if let Some(request) = answer(stream, status) {
                    kept.lock().unwrap().push(request);
                }
            }
        });
        WebhookServer { url, requests }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads one request (headers, then `Content-Length` bytes of body) and answers `status`.
fn answer(mut stream: TcpStream, status: u16) -> Option<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let (mut content_length, mut content_type) = (0, String::new());
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => content_length = value.trim().parse().ok()?,
            "content-type" => content_type = value.trim().to_owned(),
            _ => {}
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body).ok()?;
    let reason = if status == 200 { "OK" } else { "Internal Server Error" };
    let response = format!("HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(response.as_bytes()).ok()?;
    Some(Request { request_line: request_line.trim_end().to_owned(), content_type, body })
}

#[test]
fn consume_posts_to_a_webhook_and_retries_a_failure() {
    let mut bus = Bus::new("webhook");
    bus.produce_enrollment("enrollments");
    let server = WebhookServer::start(&[500], 200);
    let output = bus.run(
        &[
            "consume",
            "--topic",
            "enrollments",
            "--group-id",
            "hooks",
            "--from-beginning",
            "--max-events",
            "1",
            "--webhook",
            &server.url,
            "--webhook-format",
            "json",
            "--allow-private-targets",
        ],
        b"",
    );
    assert!(success(&output).is_empty(), "events go to the webhook, not stdout");
    assert!(stderr(&output).contains("stopped: 1 delivered, 0 dead-lettered"), "{}", stderr(&output));

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "a 500, then a retry: {requests:?}");
    let entries = bus.entries(&bus.stream("enrollments"));
    for request in &requests {
        assert_eq!(request.request_line, "POST /hook HTTP/1.1");
        assert_eq!(request.content_type, "application/json");
        let event: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(event, json!({"metadata": metadata_json(&entries[0].1), "data": enrollment_json()}));
    }
    assert_eq!(requests[0].body, requests[1].body, "the same event twice");
}

#[test]
fn a_webhook_that_keeps_failing_dead_letters_the_event() {
    let mut bus = Bus::new("webhook-down");
    let entry_id = bus.produce_enrollment("enrollments");
    let server = WebhookServer::start(&[], 500);
    let child = bus
        .command(&["consume", "--topic", "enrollments", "--group-id", "hooks", "--from-beginning", "--webhook"])
        .arg(&server.url)
        .args(["--allow-private-targets", "--webhook-max-attempts", "3"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let watchdog = Watchdog::start(&child);
    let dead_letters = format!("{}-dead-letter", bus.stream("enrollments"));
    wait_for("the dead letter", || bus.len(&dead_letters) == 1);
    signal(&child, "TERM");
    let output = child.wait_with_output().unwrap();
    watchdog.finish(&output);
    assert!(output.status.success(), "{:?}: {}", output.status, stderr(&output));
    assert!(stderr(&output).contains("stopped: 0 delivered, 1 dead-lettered"), "{}", stderr(&output));
    // Three POSTs, then the receiver says retrying cannot help: the consumer does not retry.
    assert_eq!(server.requests().len(), 3);

    let listed: Value =
        serde_json::from_str(&success(&bus.run(&["dead-letters", "--topic", "enrollments", "--json"], b""))).unwrap();
    assert_eq!(listed[0]["original_id"], entry_id.as_str());
    assert_eq!(listed[0]["attempts"], 1);
    let error = listed[0]["error"].as_str().unwrap();
    assert!(error.contains("openedx-events consume (webhook): the webhook http://127.0.0.1:"), "{error}");
    assert!(error.contains("/hook failed 3 times; the last: HTTP 500"), "{error}");
}

#[test]
fn dead_letters_are_listed_and_redriven() {
    let mut bus = Bus::new("dead-letters");
    let stream = bus.stream("enrollments");
    // An entry whose data is not the event's Avro, as a broken producer might write it.
    let metadata = EventsMetadata::new(ENROLLMENT_CREATED);
    let raw: Vec<(&str, Vec<u8>)> = openedx_events::event_bus::message_fields(&metadata, b"\xff")
        .iter()
        .map(|(name, value)| (*name, value.to_vec()))
        .collect();
    let raw_id: String = redis::cmd("XADD").arg(&stream).arg("*").arg(&raw).query(bus.redis.connection()).unwrap();
    bus.produce_enrollment("enrollments");

    let output = bus
        .run(&["consume", "--topic", "enrollments", "--group-id", "g", "--from-beginning", "--max-events", "1"], b"");
    let printed: Value = serde_json::from_str(&success(&output)).unwrap();
    assert_eq!(printed["data"], enrollment_json(), "the good event after the bad one");
    assert!(stderr(&output).contains("stopped: 1 delivered, 1 dead-lettered, 0 reclaimed"), "{}", stderr(&output));

    let table = success(&bus.run(&["dead-letters", "--topic", "enrollments"], b""));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    let header: Vec<&str> = lines[0].split("  ").filter(|cell| !cell.is_empty()).map(str::trim).collect();
    assert_eq!(header, ["ID", "ORIGINAL ID", "EVENT TYPE", "ATTEMPTS", "ERROR"]);
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    let dead_id = row[0].to_owned();
    assert_eq!(row[1..4], [raw_id.as_str(), ENROLLMENT_CREATED, "1"]);
    assert!(lines[1].contains("invalid Avro data"), "{table}");

    let listed: Value =
        serde_json::from_str(&success(&bus.run(&["dead-letters", "--topic", "enrollments", "--json"], b""))).unwrap();
    let keys: Vec<&String> = listed[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "original_id", "event_type", "attempts", "error"]);
    assert_eq!(listed[0]["id"], dead_id.as_str());
    assert_eq!(listed[0]["original_id"], raw_id.as_str());
    assert_eq!(listed[0]["event_type"], ENROLLMENT_CREATED);
    assert_eq!(listed[0]["attempts"], 1);

    let unknown = bus.run(&["dead-letters", "--topic", "enrollments", "--redrive", "--id", "0-1"], b"");
    failure(&unknown, 2, &format!("no dead letter with id `0-1` in `{stream}-dead-letter`"));
    assert_eq!(bus.len(&format!("{stream}-dead-letter")), 1, "nothing re-driven");

    let redriven = success(&bus.run(&["dead-letters", "--topic", "enrollments", "--redrive", "--id", &dead_id], b""));
    assert_eq!(redriven, format!("re-drove 1 dead letter to `{stream}`\n"));
    let after = bus.run(&["dead-letters", "--topic", "enrollments"], b"");
    assert!(success(&after).is_empty());
    assert!(stderr(&after).contains(&format!("no dead letters in `{stream}-dead-letter`")), "{}", stderr(&after));
    assert_eq!(success(&bus.run(&["dead-letters", "--topic", "enrollments", "--json"], b"")), "[]\n");

    // Back on the stream, with its original fields.
    let entries = bus.entries(&stream);
    assert_eq!(entries.len(), 3);
    let fields: Vec<(&str, &[u8])> = entries[2].1.iter().map(|(name, value)| (text(name), value.as_slice())).collect();
    let expected: Vec<(&str, &[u8])> = raw.iter().map(|(name, value)| (*name, value.as_slice())).collect();
    assert_eq!(fields, expected);

    // Re-driving all of none is fine.
    let none = success(&bus.run(&["dead-letters", "--topic", "enrollments", "--redrive"], b""));
    assert_eq!(none, format!("re-drove 0 dead letters to `{stream}`\n"));
}

#[test]
fn every_bus_command_needs_a_redis_url() {
    for args in [
        &["produce", ENROLLMENT_CREATED, "--topic", "t"][..],
        &["consume", "--topic", "t", "--group-id", "g"],
        &["dead-letters", "--topic", "t"],
    ] {
        let output = run(bare_command(args), &enrollment_bytes());
        failure(&output, 2, "no Redis URL; pass `--redis-url` or set `EVENT_BUS_REDIS_CONNECTION_URL`");
    }
    let mut invalid = bare_command(&["dead-letters", "--topic", "t", "--redis-url", "redis://127.0.0.1:6379"]);
    invalid.env("EVENT_BUS_REDIS_STREAM_MAX_LEN", "lots");
    failure(&run(invalid, b""), 2, "invalid event bus setting: setting `EVENT_BUS_REDIS_STREAM_MAX_LEN`");
    let not_redis = bare_command(&["dead-letters", "--topic", "t", "--redis-url", "http://example.org"]);
    failure(&run(not_redis, b""), 2, "invalid event bus setting: invalid Redis URL");
}

#[test]
fn unreachable_redis_is_named_without_its_password() {
    let url = "redis://user:hunter2@127.0.0.1:1";
    for (args, expected) in [
        (&["produce", ENROLLMENT_CREATED, "--topic", "t"][..], "cannot produce"),
        (&["consume", "--topic", "t", "--group-id", "g"], "cannot consume `t`"),
        (&["dead-letters", "--topic", "t"], "the event bus backend failed"),
    ] {
        let output = run(bare_command(&[args, &["--redis-url", url]].concat()), &enrollment_bytes());
        let message = failure(&output, 1, "Redis at `redis://user:***@127.0.0.1:1`: ");
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[test]
fn produce_rejects_what_does_not_fit_before_writing_anything() {
    let mut bus = Bus::new("produce-errors");
    let produce = |args: &[&str], stdin: &[u8]| bus.run(&[&["produce"][..], args, &["--topic", "t"]].concat(), stdin);

    let typo = failure(&produce(&["COURSE_ENROLMENT_CREATED"], b"{}"), 2, "unknown event `COURSE_ENROLMENT_CREATED`");
    assert!(typo.contains("did you mean `COURSE_ENROLLMENT_CREATED`?"), "{typo}");

    failure(&produce(&[ENROLLMENT_CREATED], b"{\"enrollment\": "), 1, "standard input is not valid JSON: EOF");

    let mut wrong = enrollment_json();
    wrong["enrollment"]["user"]["id"] = json!("42");
    let message = failure(&produce(&[ENROLLMENT_CREATED], &serde_json::to_vec(&wrong).unwrap()), 1, "cannot encode");
    assert!(message.contains("at `enrollment.user.id`: expected a 64-bit integer, found a string"), "{message}");

    let message = failure(
        &produce(&[ENROLLMENT_CREATED, "--key-field", "enrollment.course.key"], &enrollment_bytes()),
        2,
        &format!("key field `enrollment.course.key` does not resolve through the data of `{ENROLLMENT_CREATED}`"),
    );
    assert!(message.contains("`CourseData` has no field `key` (its fields: `course_key`, "), "{message}");
    failure(
        &produce(&[ENROLLMENT_CREATED, "--key-field", "enrollment.mode.name"], &enrollment_bytes()),
        2,
        "`mode` is a `String`, which has no fields",
    );

    failure(&produce(&["COURSE_CERTIFICATE_CONFIG_DELETED"], b"{}"), 1, "cannot be serialized to Avro");
    assert_eq!(bus.len(&bus.stream("t")), 0, "nothing was produced");
}

#[test]
fn consume_and_dead_letters_reject_bad_options() {
    let bus = Bus::new("options-errors");
    let consume = |extra: &[&str]| bus.run(&[&["consume", "--topic", "t", "--group-id", "g"][..], extra].concat(), b"");
    failure(&consume(&["--webhook", "ftp://example.org/x"]), 2, "invalid webhook URL `ftp://example.org/x`: expected");
    let both = consume(&["--from-beginning", "--from-id", "0-0"]);
    assert_eq!(both.status.code(), Some(2));
    assert!(stderr(&both).contains("cannot be used with"), "{}", stderr(&both));
    let zero = consume(&["--max-events", "0"]);
    assert_eq!(zero.status.code(), Some(2), "{}", stderr(&zero));

    let id_alone = bus.run(&["dead-letters", "--topic", "t", "--id", "0-1"], b"");
    assert_eq!(id_alone.status.code(), Some(2));
    assert!(stderr(&id_alone).contains("--redrive"), "{}", stderr(&id_alone));
    let json_redrive = bus.run(&["dead-letters", "--topic", "t", "--json", "--redrive"], b"");
    assert_eq!(json_redrive.status.code(), Some(2), "{}", stderr(&json_redrive));
}

#[test]
fn help_lists_the_bus_commands() {
    let help = success(&run(bare_command(&["--help"]), b""));
    for command in ["produce", "consume", "dead-letters"] {
        assert!(help.contains(&format!("\n  {command} ")), "{command} in:\n{help}");
    }
    let consume = success(&run(bare_command(&["consume", "--help"]), b""));
    for option in ["--redis-url <URL>", "--topic-prefix <PREFIX>", "--from-beginning", "--webhook <URL>"] {
        assert!(consume.contains(option), "{option} in:\n{consume}");
    }
}
