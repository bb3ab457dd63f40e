//! `EventsMetadata` in upstream's JSON form: what we write, Python reads, and the reverse.

use chrono::{TimeZone, Utc};
use openedx_events::{EventsMetadata, MetadataError};
use uuid::Uuid;

fn fixed() -> EventsMetadata {
    let mut metadata = EventsMetadata::new("org.openedx.learning.course.enrollment.created.v1");
    metadata.id = Uuid::parse_str("b7e5a7f2-0a1e-11ef-9a3e-0242ac120002").unwrap();
    metadata.minorversion = 1;
    metadata.source = "openedx/lms/web".into();
    metadata.sourcehost = "lms.example.com".into();
    metadata.time = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap() + chrono::Duration::microseconds(123_456);
    metadata.sourcelib = vec![11, 2, 0].into();
    metadata
}

#[test]
fn to_json_writes_exactly_what_python_json_dumps_writes() {
    assert_eq!(
        fixed().to_json(),
        r#"{"event_type": "org.openedx.learning.course.enrollment.created.v1", "id": "b7e5a7f2-0a1e-11ef-9a3e-0242ac120002", "minorversion": 1, "source": "openedx/lms/web", "sourcehost": "lms.example.com", "time": "2024-05-01T12:00:00.123456+00:00", "sourcelib": [11, 2, 0]}"#
    );
}

#[test]
fn whole_seconds_have_no_fraction_and_non_ascii_is_escaped_like_python() {
    let mut metadata = fixed();
    metadata.time = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    metadata.sourcehost = "hôte-ü".into();
    let json = metadata.to_json();
    assert!(json.contains(r#""time": "2024-05-01T12:00:00+00:00""#), "{json}");
    assert!(json.contains(r#""sourcehost": "h\u00f4te-\u00fc""#), "{json}");
    assert_eq!(EventsMetadata::from_json(&json).unwrap(), metadata);
}

/// Written by Python's `EventsMetadata(...).to_json()` (openedx-events 11.2.0).
const FROM_PYTHON: &str = r#"{"event_type": "org.openedx.learning.course.enrollment.created.v1", "id": "b7e5a7f2-0a1e-11ef-9a3e-0242ac120002", "minorversion": 1, "source": "openedx/lms/web", "sourcehost": "lms.example.com", "time": "2024-05-01T12:00:00.123456+00:00", "sourcelib": [11, 2, 0]}"#;

#[test]
fn from_json_reads_what_python_writes() {
    assert_eq!(EventsMetadata::from_json(FROM_PYTHON).unwrap(), fixed());
}

#[test]
fn generated_metadata_survives_a_round_trip() {
    let metadata = EventsMetadata::new("org.openedx.learning.course.enrollment.created.v1");
    let back = EventsMetadata::from_json(&metadata.to_json()).unwrap();
    assert_eq!(back, metadata);
    assert_eq!(back.sourcelib.len(), 3);
    assert!(!back.from_event_bus());
}

#[test]
fn other_time_forms_python_reads_are_read_too() {
    for (time, expected) in [
        ("2024-05-01T14:00:00.123456+02:00", "2024-05-01T12:00:00.123456+00:00"),
        ("2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00.123456+00:00"),
        ("2024-05-01 12:00:00.123456", "2024-05-01T12:00:00.123456+00:00"),
    ] {
        let json = FROM_PYTHON.replace("2024-05-01T12:00:00.123456+00:00", time);
        let metadata = EventsMetadata::from_json(&json).unwrap();
        assert!(metadata.to_json().contains(expected), "{time}");
    }
}

#[test]
fn minorversion_may_be_absent() {
    let json = FROM_PYTHON.replace(r#""minorversion": 1, "#, "");
    assert_eq!(EventsMetadata::from_json(&json).unwrap().minorversion, 0);
}

#[test]
fn malformed_json_is_a_typed_error_that_says_what_is_wrong() {
    let cases: [(String, &str); 8] = [
        ("{not json".to_owned(), "not valid JSON"),
        ("[1, 2]".to_owned(), "must be a JSON object"),
        (FROM_PYTHON.replace(r#""id": "b7e5a7f2-0a1e-11ef-9a3e-0242ac120002", "#, ""), "has no `id`"),
        (FROM_PYTHON.replace("b7e5a7f2-0a1e", "zzz"), "invalid `id`"),
        (FROM_PYTHON.replace("2024-05-01T12", "yesterday at 12"), "invalid `time`"),
        (FROM_PYTHON.replace("[11, 2, 0]", r#""11.2.0""#), "invalid `sourcelib`"),
        (FROM_PYTHON.replace(r#""minorversion": 1"#, r#""minorversion": -1"#), "invalid `minorversion`"),
        (FROM_PYTHON.replace(r#""source": "openedx/lms/web""#, r#""source": 3"#), "invalid `source`"),
    ];
    for (json, expected) in cases {
        let error = EventsMetadata::from_json(&json).unwrap_err();
        assert!(error.to_string().contains(expected), "{json}: {error}");
    }
    assert!(matches!(EventsMetadata::from_json("{").unwrap_err(), MetadataError::Json(_)));
}
