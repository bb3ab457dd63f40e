//! The registry: every signal linked into the program, found by type, type-erased.
#![allow(missing_docs, reason = "test payloads need no docs")]

use openedx_events::{EventData, EventsMetadata, FieldType, LookupError, openedx_event, receiver};

/// A course, as the registry test describes it.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CourseInfo {
    /// The course's id.
    pub id: String,
    pub tags: Vec<String>,
}

/// Emitted when the registry test wants it.
#[openedx_event(
    name = COURSE_NOTED,
    event_type = "org.openedx.testing.registry.course.noted.v1",
    key_field = "course.id",
    minor_version = 3
)]
pub struct CourseNoted {
    /// The course.
    pub course: CourseInfo,
    pub note: Option<String>,
}

#[openedx_event(name = ROLE_GRANTED, event_type = "org.openedx.authz.testing.role.granted", allow_unversioned)]
pub struct RoleGranted {
    pub role: String,
}

#[receiver(COURSE_NOTED)]
fn note_it(_data: &CourseNoted, _metadata: &EventsMetadata) {}

#[test]
fn all_events_lists_every_signal_sorted_by_type() {
    let types: Vec<&str> = openedx_events::all_events().map(|s| s.event_type()).collect();
    assert_eq!(types, ["org.openedx.authz.testing.role.granted", "org.openedx.testing.registry.course.noted.v1"]);
    assert!(openedx_events::check_registry().is_ok());
}

#[test]
fn a_signal_found_by_type_describes_itself() {
    let signal = openedx_events::get_signal_by_type("org.openedx.testing.registry.course.noted.v1").unwrap();
    assert_eq!(signal.minor_version(), 3);
    assert_eq!(signal.event_key_field(), Some("course.id"));
    assert_eq!(signal.definition(), "registry::COURSE_NOTED");
    assert_eq!(signal.receivers(), ["registry::note_it"]);

    let data = signal.data();
    assert_eq!(data.name, "CourseNoted");
    assert_eq!(data.doc, "Emitted when the registry test wants it.");
    assert_eq!(data.fields.len(), 2);
    assert_eq!(data.fields[0].name, "course");
    assert_eq!(data.fields[0].doc, "The course.");
    let FieldType::Record(course) = data.fields[0].ty else { panic!("course is a record") };
    assert_eq!(course.name, "CourseInfo");
    assert_eq!(*course.fields[1].ty, FieldType::List(&FieldType::String));
    assert!(data.fields[1].is_optional());
    assert_eq!(data.fields[1].ty.to_string(), "Option<String>");

    let typed = signal.downcast::<CourseNoted>().expect("the payload type is CourseNoted");
    assert!(std::ptr::eq(typed, &COURSE_NOTED));
    assert!(signal.downcast::<RoleGranted>().is_none());
}

#[test]
fn the_erased_signal_switches_the_typed_one() {
    let signal = openedx_events::get_signal_by_type("org.openedx.authz.testing.role.granted").unwrap();
    signal.disable();
    assert!(!ROLE_GRANTED.is_enabled());
    signal.enable();
    assert!(ROLE_GRANTED.is_enabled());
}

#[test]
fn unknown_types_are_reported_with_the_known_ones() {
    assert!(openedx_events::get_signal_by_type("org.openedx.testing.registry.nothing.v1").is_none());
    let Err(LookupError::Unknown(error)) = openedx_events::try_get_signal_by_type("org.openedx.testing.nothing.v1")
    else {
        panic!("expected an unknown event type")
    };
    assert_eq!(error.known.len(), 2);
    assert!(error.to_string().contains("known event types: org.openedx.authz.testing.role.granted, "), "{error}");
}
