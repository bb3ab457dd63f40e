//! The bus commands with `--bus kafka`, against the broker and registry `.ci/setup-kafka` starts
//! (`KAFKA_BOOTSTRAP_SERVERS`, `SCHEMA_REGISTRY_URL`): `produce` then `consume
//! --from-beginning` prints the event as a JSON line, and the note says whether it had a key.

mod common;

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use common::{enrollment_json, success};
use openedx_events_catalog as _;
use openedx_events_kafka::{KafkaSettings, create_topic};
use openedx_events_test_support::unique_name;

const BIN: &str = env!("CARGO_BIN_EXE_openedx-events");

fn servers() -> String {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS").ok().filter(|v| !v.is_empty()).unwrap_or_else(|| "127.0.0.1:9092".into())
}

fn registry() -> String {
    std::env::var("SCHEMA_REGISTRY_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:8081".into())
}

fn run(prefix: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .args(["--bus", "kafka", "--bootstrap-servers", &servers(), "--schema-registry-url", &registry()])
        .args(["--topic-prefix", prefix])
        .env_remove("EVENT_BUS_TOPIC_PREFIX")
        .env("EVENTS_SERVICE_NAME", "cli-kafka-test")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("the binary runs")
}

#[test]
fn produce_then_consume_prints_the_event_and_says_how_it_is_keyed() {
    let prefix = unique_name("cli-kafka");
    let settings = KafkaSettings::default().with_bootstrap_servers(servers()).with_topic_prefix(&prefix);
    create_topic(&settings, &settings.full_topic("enrollments"), 1, 1)
        .unwrap_or_else(|e| panic!("no Kafka broker ({e}): run `bash .ci/setup`"));
    let data = enrollment_json();
    let produced = run(
        &prefix,
        &["produce", "--topic", "enrollments", "org.openedx.learning.course.enrollment.created.v1"],
        data.to_string().as_bytes(),
    );
    let id = success(&produced).trim().to_owned();
    let notes = String::from_utf8_lossy(&produced.stderr).into_owned();
    assert!(notes.contains("key `course-v1:edX+DemoX+Demo_Course`"), "{notes}");

    let group = unique_name("cli-group");
    let consumed = run(
        &prefix,
        &["consume", "--topic", "enrollments", "--group-id", &group, "--from-beginning", "--max-events", "1"],
        b"",
    );
    let line: serde_json::Value = serde_json::from_str(success(&consumed).trim()).expect("a JSON line");
    assert_eq!(line["metadata"]["id"], serde_json::json!(id));
    assert_eq!(line["metadata"]["source"], serde_json::json!("openedx/cli-kafka-test/web"));
    assert_eq!(line["data"], data);
    let notes = String::from_utf8_lossy(&consumed.stderr).into_owned();
    assert!(notes.contains("have no key"), "{notes}");
    assert!(notes.contains("1 delivered"), "{notes}");
}
