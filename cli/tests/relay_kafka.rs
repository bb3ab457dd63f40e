//! `openedx-events relay --bus kafka` run as an operator runs it, against PostgreSQL
//! (`DATABASE_URL`, a schema of the test's own, dropped after) and the Kafka broker and registry
//! (`KAFKA_BOOTSTRAP_SERVERS`, `SCHEMA_REGISTRY_URL`; the command takes them from
//! `EVENT_BUS_KAFKA_*` as a service does): what a service wrote into the outbox reaches the
//! prefixed topic, in order, and `consume --bus kafka` reads it; without brokers, a clear error.
//! The topic is created, and deleted after.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use openedx_events::event_bus::{
    EventBusProducer, OutgoingMessage, ProduceError, ProducerConfig, ProducerMode, start_producing,
};
use openedx_events_catalog::learning::data::{CourseData, PersistentCourseGradeData};
use openedx_events_catalog::learning::signals::{PERSISTENT_GRADE_SUMMARY_CHANGED, PersistentGradeSummaryChanged};
use openedx_events_kafka::{KafkaSettings, create_topic};
use openedx_events_outbox::OutboxExt as _;
use openedx_events_test_support::unique_name;
use serde_json::Value;

mod common;
use common::{failure, success};

const BIN: &str = env!("CARGO_BIN_EXE_openedx-events");

fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn servers() -> String {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS").ok().filter(|v| !v.is_empty()).unwrap_or_else(|| "127.0.0.1:9092".into())
}

fn registry() -> String {
    std::env::var("SCHEMA_REGISTRY_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:8081".into())
}

/// A producer the outbox-mode receiver never calls inside a transaction.
struct Unused;

impl EventBusProducer for Unused {
    fn send(&self, _: &OutgoingMessage<'_>) -> Result<(), ProduceError> {
        Err(ProduceError::NotConfigured("the test produces only through the outbox".into()))
    }
}

/// `openedx-events ARGS`, with the Kafka settings in the environment as a service has them.
fn command(database_url: &str, prefix: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS", servers())
        .env("EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL", registry())
        .env("EVENT_BUS_TOPIC_PREFIX", prefix);
    command
}

fn pending(url: &str, prefix: &str) -> Value {
    let output = command(url, prefix, &["relay", "--status", "--json"]).output().expect("the command runs");
    serde_json::from_str::<Value>(&success(&output)).expect("--status --json prints JSON")["pending"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_to_kafka_produces_what_a_service_wrote() {
    let schema = format!("oe_cli_relay_kafka_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&database_url()).await.expect("these tests need PostgreSQL (DATABASE_URL)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await.unwrap();
    let url = format!("{}?options=-csearch_path%3D{schema}", database_url());
    let prefix = unique_name("cli-relay-kafka");
    let settings = KafkaSettings::default().with_bootstrap_servers(servers()).with_topic_prefix(&prefix);
    create_topic(&settings, &settings.full_topic("learning"), 1, 1).expect("the topic can be created");

    // No brokers at all: a clear error, before anything is relayed.
    let output = command(&url, &prefix, &["relay", "--bus", "kafka"])
        .env_remove("EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS")
        .output()
        .unwrap();
    failure(&output, 2, "no Kafka brokers");

    // A service writes three events into the outbox, one user each.
    let output = command(&url, &prefix, &["relay", "--migrate", "--status", "--json"]).output().unwrap();
    success(&output);
    let config = ProducerConfig::from_json(
        r#"{"org.openedx.learning.course.persistent_grade_summary.changed.v1": {
            "learning": {"event_key_field": "grade.user_id", "enabled": true}}}"#,
    )
    .unwrap()
    .with_default_mode(ProducerMode::Outbox);
    let _producing = start_producing(&config, Arc::new(Unused));
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    for user_id in 1..=3 {
        let grade = PersistentGradeSummaryChanged {
            grade: PersistentCourseGradeData {
                user_id,
                course: CourseData::new("course-v1:edX+RelayKafka+2026".parse().unwrap()),
                course_edited_timestamp: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                course_version: "v".into(),
                grading_policy_hash: "h".into(),
                percent_grade: 0.5,
                letter_grade: "C".into(),
                passed_timestamp: Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap(),
            },
        };
        PERSISTENT_GRADE_SUMMARY_CHANGED.event(grade).in_transaction(&mut tx).send_async().await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(pending(&url, &prefix), 3);

    // The relay produces them to the prefixed topic; the rows go once Kafka has them.
    let mut child = command(&url, &prefix, &["relay", "--bus", "kafka"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while pending(&url, &prefix) != 0 {
        assert!(Instant::now() < deadline, "the relay did not relay");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    let relay = child.wait_with_output().unwrap();
    let notes = String::from_utf8_lossy(&relay.stderr);
    assert!(notes.contains("relaying the outbox to Kafka"), "{notes}");

    // `consume --bus kafka` reads them, in the order they were written.
    let group = unique_name("cli-relay-kafka");
    let output = command(&url, &prefix, &["consume", "--bus", "kafka", "--topic", "learning", "--group-id", &group])
        .args(["--from-beginning", "--max-events", "3"])
        .output()
        .unwrap();
    let lines: Vec<Value> = success(&output).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let users: Vec<_> = lines.iter().map(|line| line["data"]["grade"]["user_id"].as_i64()).collect();
    assert_eq!(users, [Some(1), Some(2), Some(3)], "{lines:#?}");
    assert!(lines.iter().all(|l| l["metadata"]["event_type"] == PERSISTENT_GRADE_SUMMARY_CHANGED.event_type()));

    delete_topic(&settings.full_topic("learning")).await;
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&admin).await.unwrap();
}

async fn delete_topic(topic: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> =
        rdkafka::ClientConfig::new().set("bootstrap.servers", servers()).create().expect("an admin client");
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.delete_topics(&[topic], &options).await.expect("the topic deleted") {
        result.unwrap_or_else(|(topic, error)| panic!("{topic} not deleted: {error}"));
    }
}
