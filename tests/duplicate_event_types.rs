//! Two signals declaring one event type are reported, never silently overwritten.
#![allow(missing_docs, reason = "test payloads need no docs")]

mod one {
    use openedx_events::openedx_event;

    #[openedx_event(name = CLASH, event_type = "org.openedx.testing.duplicate.clash.v1")]
    pub(crate) struct Clash {
        pub(crate) a: i64,
    }
}

mod two {
    use openedx_events::openedx_event;

    #[openedx_event(name = CLASH, event_type = "org.openedx.testing.duplicate.clash.v1")]
    pub(crate) struct Clash {
        pub(crate) b: String,
    }
}

use openedx_events::openedx_event;

#[openedx_event(name = FINE, event_type = "org.openedx.testing.duplicate.fine.v1")]
pub struct Fine {
    pub c: bool,
}

#[test]
fn duplicates_are_reported_and_not_looked_up() {
    let duplicates = openedx_events::check_registry().unwrap_err();
    assert_eq!(duplicates.0.len(), 1);
    assert_eq!(duplicates.0[0].event_type, "org.openedx.testing.duplicate.clash.v1");
    assert_eq!(duplicates.0[0].definitions, ["duplicate_event_types::one::CLASH", "duplicate_event_types::two::CLASH"]);
    assert_eq!(
        duplicates.0[0].to_string(),
        "event type `org.openedx.testing.duplicate.clash.v1` is defined by more than one signal: \
         duplicate_event_types::one::CLASH, duplicate_event_types::two::CLASH"
    );

    assert!(openedx_events::get_signal_by_type("org.openedx.testing.duplicate.clash.v1").is_none());
    let error = openedx_events::try_get_signal_by_type("org.openedx.testing.duplicate.clash.v1").unwrap_err();
    assert!(matches!(error, openedx_events::LookupError::Duplicate(_)));

    // Both stay in the list of all events, and each still sends.
    assert_eq!(openedx_events::all_events().len(), 3);
    let (first, second) = (one::Clash { a: 1 }, two::Clash { b: "x".into() });
    assert_eq!((first.a, second.b.as_str()), (1, "x"));
    assert!(one::CLASH.send_event(first).is_empty());
    assert!(two::CLASH.send_event(second).is_empty());
    assert!(openedx_events::get_signal_by_type("org.openedx.testing.duplicate.fine.v1").is_some());
    assert!(FINE.send_event(Fine { c: true }).is_empty());
}
