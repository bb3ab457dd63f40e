//! The event key: the value at a key field, read from a payload through every nested record, as
//! a bus that partitions by key sends it; and key fields that name no usable value are refused
//! when the producer configuration is validated.

use chrono::{TimeZone, Utc};
use openedx_events::AnySignal;
use openedx_events::event_bus::{ConfigError, EventKey, ProducerConfig};
use openedx_events::keys::CourseKey;
use openedx_events_catalog::learning::data::{CourseData, CourseEnrollmentData, UserData, UserPersonalData};
use openedx_events_catalog::learning::signals::{COURSE_ENROLLMENT_CREATED, CourseEnrollmentCreated};
use serde_json::json;

fn enrollment() -> CourseEnrollmentCreated {
    let course_key: CourseKey = "course-v1:edX+DemoX+2024".parse().unwrap();
    CourseEnrollmentCreated {
        enrollment: CourseEnrollmentData::new(
            UserData {
                id: 42,
                is_active: true,
                pii: UserPersonalData { username: "ada".into(), email: "ada@example.com".into(), name: "Ada".into() },
            },
            CourseData::new(course_key),
            "audit".into(),
            true,
            Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap(),
        ),
    }
}

#[test]
fn keys_are_read_through_nested_records() {
    let signal: &dyn AnySignal = &COURSE_ENROLLMENT_CREATED;
    let data = enrollment();
    let key = |path: &str| signal.event_key(&data, path);
    assert_eq!(key("enrollment.course.course_key"), Some(EventKey::String("course-v1:edX+DemoX+2024".into())));
    assert_eq!(key("enrollment.user.id"), Some(EventKey::Long(42)));
    assert_eq!(key("enrollment.user.is_active"), Some(EventKey::Boolean(true)));
    assert_eq!(key("enrollment.user.pii.username"), Some(EventKey::String("ada".into())));
    assert_eq!(key("enrollment.user.pii.username").unwrap().to_avro(), b"\x06ada");
    // Paths to nothing, to a record, past a leaf, or to a value of another type: no key.
    assert_eq!(key("enrollment.course.nope"), None);
    assert_eq!(key("enrollment.course"), None);
    assert_eq!(key("enrollment.mode.name"), None);
    assert_eq!(key(""), None);
    assert_eq!(signal.event_key(&"not the payload", "enrollment.mode"), None);
}

#[test]
fn key_fields_that_cannot_key_an_event_are_refused_at_start_up() {
    let errors = ProducerConfig::from_value(&json!({
        "org.openedx.learning.course.enrollment.created.v1": {
            "record": {"event_key_field": "enrollment.course", "enabled": true},
            "optional": {"event_key_field": "enrollment.created_by", "enabled": true},
            "fine": {"event_key_field": "enrollment.course.course_key", "enabled": true},
        },
    }))
    .unwrap_err();
    let refused: Vec<(String, String)> = errors
        .iter()
        .map(|error| match error {
            ConfigError::UnkeyableKeyField { topic, ty, .. } => (topic.clone(), ty.clone()),
            other => panic!("unexpected problem: {other}"),
        })
        .collect();
    assert_eq!(refused, [("record".into(), "CourseData".into()), ("optional".into(), "Option<UserData>".into())]);
    assert!(errors.to_string().contains("names a `Option<UserData>`, which cannot key an event"), "{errors}");
}

/// A producer that keeps the key of every message it is handed.
#[derive(Default)]
struct KeyRecorder(std::sync::Mutex<Vec<(String, Option<EventKey>)>>);

impl openedx_events::event_bus::EventBusProducer for KeyRecorder {
    fn send(
        &self,
        message: &openedx_events::event_bus::OutgoingMessage<'_>,
    ) -> Result<(), openedx_events::event_bus::ProduceError> {
        self.0.lock().unwrap().push((message.topic.to_owned(), message.event_key.cloned()));
        Ok(())
    }
}

#[test]
fn producing_hands_each_topic_the_key_at_its_own_key_field() {
    let config = ProducerConfig::from_value(&json!({
        "org.openedx.learning.course.enrollment.created.v1": {
            "by-course": {"event_key_field": "enrollment.course.course_key", "enabled": true},
            "by-learner": {"event_key_field": "enrollment.user.pii.username", "enabled": true},
        },
    }))
    .unwrap();
    let recorder = std::sync::Arc::new(KeyRecorder::default());
    let _producing = openedx_events::event_bus::start_producing(&config, recorder.clone());
    COURSE_ENROLLMENT_CREATED.send_event(enrollment());
    let mut keys = recorder.0.lock().unwrap().clone();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        keys,
        [
            ("by-course".to_owned(), Some(EventKey::String("course-v1:edX+DemoX+2024".into()))),
            ("by-learner".to_owned(), Some(EventKey::String("ada".into()))),
        ]
    );
}
