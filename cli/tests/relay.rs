//! `openedx-events relay` run as an operator runs it, against PostgreSQL (`DATABASE_URL`, a
//! schema of the test's own, dropped after) and Redis: `--migrate`, `--status`, relaying what a
//! service wrote into the outbox, and the error for a missing table.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use openedx_events::event_bus::{
    EventBusProducer, OutgoingMessage, ProduceError, ProducerConfig, ProducerMode, start_producing,
};
use openedx_events_catalog::learning::data::{CourseData, PersistentCourseGradeData};
use openedx_events_catalog::learning::signals::{PERSISTENT_GRADE_SUMMARY_CHANGED, PersistentGradeSummaryChanged};
use openedx_events_outbox::OutboxExt as _;
use openedx_events_test_support::{RedisScratch, redis_url};
use serde_json::Value;

mod common;
mod console_support;
use common::{failure, success};
use console_support::ConsoleProcess;

const BIN: &str = env!("CARGO_BIN_EXE_openedx-events");

fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A producer the outbox-mode receiver never calls inside a transaction.
struct Unused;

impl EventBusProducer for Unused {
    fn send(&self, _: &OutgoingMessage<'_>) -> Result<(), ProduceError> {
        Err(ProduceError::NotConfigured("the test produces only through the outbox".into()))
    }
}

fn relay(url: &str, bus: &RedisScratch, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("relay")
        .args(args)
        .env("DATABASE_URL", url)
        .env("EVENT_BUS_REDIS_CONNECTION_URL", redis_url())
        .env("EVENT_BUS_TOPIC_PREFIX", bus.prefix());
    command
}

fn status(url: &str, bus: &RedisScratch) -> Value {
    let output = relay(url, bus, &["--status", "--json"]).output().expect("the command runs");
    serde_json::from_str(&success(&output)).expect("--json prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_migrates_reports_and_relays_what_a_service_wrote() {
    let schema = format!("oe_cli_relay_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&database_url()).await.expect("these tests need PostgreSQL (DATABASE_URL)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await.unwrap();
    let url = format!("{}?options=-csearch_path%3D{schema}", database_url());
    let mut bus = RedisScratch::new("cli-relay");

    // Before the migrations: a clear error.
    let output = relay(&url, &bus, &["--status"]).output().unwrap();
    failure(&output, 1, "does not exist (run `openedx_events_outbox::migrate");

    let output = relay(&url, &bus, &["--migrate", "--status", "--json"]).output().unwrap();
    let empty: Value = serde_json::from_str(&success(&output)).unwrap();
    assert_eq!(empty["pending"], 0, "{empty}");

    // A service writes three events into the outbox.
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
                course: CourseData::new("course-v1:edX+Relay+2026".parse().unwrap()),
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
    let waiting = status(&url, &bus);
    assert_eq!(
        (waiting["pending"].as_u64(), waiting["topics"][0]["topic"].as_str()),
        (Some(3), Some("learning")),
        "{waiting}"
    );

    // The console shows them waiting on its overview, with the oldest one's age.
    let console = ConsoleProcess::start(
        &["--outbox"],
        &[
            ("DATABASE_URL", url.as_str()),
            ("EVENT_BUS_REDIS_CONNECTION_URL", redis_url().as_str()),
            ("EVENT_BUS_TOPIC_PREFIX", bus.prefix()),
        ],
    );
    assert!(console.stderr().contains("with the depth of the outbox in postgresql at"), "{}", console.stderr());
    let overview: Value = serde_json::from_str(&console.get("/api/overview").expect(200).body).unwrap();
    let outbox = &overview["outbox"];
    assert_eq!((outbox["pending"].as_u64(), outbox["parked"].as_u64()), (Some(3), Some(0)), "{outbox}");
    assert_eq!(outbox["topics"][0]["topic"], "learning", "{outbox}");
    assert!(outbox["oldest_pending_ms"].is_u64(), "{outbox}");
    let page = console.get("/").expect(200).body;
    assert!(page.contains("3 rows waiting to be relayed"), "the overview page shows the outbox's depth");

    // The relay produces them to the prefixed stream.
    let mut child = relay(&url, &bus, &[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let stream = bus.stream("learning");
    let deadline = Instant::now() + Duration::from_secs(20);
    while bus.stream_len(&stream) < 3 || status(&url, &bus)["pending"] != 0 {
        assert!(Instant::now() < deadline, "the relay did not relay: {}", status(&url, &bus));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(bus.stream_len(&stream), 3);
    let overview: Value = serde_json::from_str(&console.get("/api/overview").expect(200).body).unwrap();
    assert_eq!(overview["outbox"]["pending"], 0, "relayed: {}", overview["outbox"]);
    drop(console);

    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&admin).await.unwrap();
}
