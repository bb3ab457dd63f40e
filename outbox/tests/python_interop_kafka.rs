//! Upstream's Python consumer (`edx-event-bus-kafka`) reads what the relay produced to Kafka
//! from the outbox: the same metadata, byte for byte, and the same data. The scripts are the
//! Kafka backend's (`event-bus-kafka/tests/python_interop/`).
#![allow(missing_docs, reason = "tests")]

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use openedx_events::EventField as _;
use openedx_events::event_bus::{ProducerConfig, ProducerMode, start_producing};
use openedx_events_catalog::learning::data::{CourseData, PersistentCourseGradeData};
use openedx_events_catalog::learning::signals::{PERSISTENT_GRADE_SUMMARY_CHANGED, PersistentGradeSummaryChanged};
use openedx_events_kafka::KafkaProducer;
use openedx_events_outbox::{OutboxExt as _, Relay};
use openedx_events_test_support::python::python;
use serde_json::Value;

#[path = "common/mod.rs"]
mod common;
#[path = "common/kafka.rs"]
mod kafka;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kafka_python_consumer_reads_relayed_events_with_identical_metadata_and_data() {
    let config = ProducerConfig::from_json(
        r#"{"org.openedx.learning.course.persistent_grade_summary.changed.v1": {
            "learning": {"event_key_field": "grade.user_id", "enabled": true}}}"#,
    )
    .unwrap()
    .with_default_mode(ProducerMode::Outbox);
    let bus = kafka::Scratch::new("outbox-python");
    bus.topic("learning", 1);
    let producer = Arc::new(KafkaProducer::new(bus.settings.clone()).expect("a Kafka producer"));
    let _producing = start_producing(&config, producer.clone());
    let db = common::Scratch::new("python_kafka").await;

    let mut sent = Vec::new();
    for user_id in [7, 8] {
        let grade = PersistentGradeSummaryChanged {
            grade: PersistentCourseGradeData {
                user_id,
                course: CourseData::new("course-v1:edX+OutboxKafka+2026_T1".parse().unwrap()),
                course_edited_timestamp: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
                course_version: "65a1b2c3d4e5f60718293a4b".into(),
                grading_policy_hash: "dGhlIGhhc2g=".into(),
                percent_grade: 0.75,
                letter_grade: "B".into(),
                passed_timestamp: Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap(),
            },
        };
        let mut tx = db.pool.begin().await.unwrap();
        PERSISTENT_GRADE_SUMMARY_CHANGED.event(grade.clone()).in_transaction(&mut tx).send_async().await.unwrap();
        let headers: String =
            sqlx::query_scalar("SELECT headers::text FROM openedx_events_outbox ORDER BY id DESC LIMIT 1")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        tx.commit().await.unwrap();
        sent.push((grade, headers));
    }
    let mut relay = Relay::builder(db.pool.clone(), producer).build();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut relayed = 0;
    while relayed < 2 {
        assert!(std::time::Instant::now() < deadline, "the relay relayed {relayed} of 2");
        relayed += relay.run_once().await.unwrap().relayed;
    }

    let scripts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../event-bus-kafka/tests/python_interop");
    let python = python();
    python.require(&["edx-event-bus-kafka", "confluent-kafka"]);
    let servers = kafka::bootstrap_servers();
    let registry = kafka::registry_url();
    let group = format!("{}-python", bus.prefix());
    let received = python.run_json_lines(
        &scripts.join("kafka_consumer.py"),
        &scripts,
        &[
            "--bootstrap-servers",
            &servers,
            "--registry-url",
            &registry,
            "--topic-prefix",
            bus.prefix(),
            "--group",
            &group,
            "--expect",
            "learning=2",
        ],
    );
    bus.delete_topics(&["learning"]).await;
    assert_eq!(received.len(), 2, "{received:#?}");
    for ((grade, headers), got) in sent.iter().zip(&received) {
        assert!(got.get("error").is_none(), "{got:#?}");
        assert_eq!(got["from_event_bus"], Value::Bool(true));
        let headers: Value = serde_json::from_str(headers).unwrap();
        let metadata = openedx_events::EventsMetadata::from_json(got["metadata_json"].as_str().unwrap()).unwrap();
        assert_eq!(metadata.id.to_string(), headers["id"].as_str().unwrap(), "the event id survives the outbox");
        // Python's `EventsMetadata.to_json()` of what it decoded is byte for byte what ours gives.
        assert_eq!(got["metadata_json"].as_str().unwrap(), metadata.to_json());
        assert_eq!(got["event_type"], PERSISTENT_GRADE_SUMMARY_CHANGED.event_type());
        assert_eq!(got["data"], grade.to_json(), "the data as Python decoded it");
    }
}
