//! A message received from the bus, dispatched as a consumer does: its signal found once, its
//! metadata marked as from the bus and lent to the receivers on every attempt, unchanged; the
//! metadata read off the wire equal to what was written, whatever of it is kept once.
#![allow(missing_docs, reason = "test payloads need no docs")]

use std::borrow::Cow;
use std::sync::Mutex;

use openedx_events::event_bus::{
    Delivery, ReceivedEvent, RetryPolicy, deliver_with_retries, message_fields, parse_message_fields,
};
use openedx_events::testing::capture;
use openedx_events::{EventsMetadata, openedx_event, receiver};

#[openedx_event(name = RECEIVED_SEEN, event_type = "org.openedx.learning.received_event.seen.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub what: String,
}

#[openedx_event(name = RECEIVED_OTHER, event_type = "org.openedx.learning.received_event.other.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct Other {
    pub what: String,
}

static SEEN: Mutex<Vec<(String, EventsMetadata)>> = Mutex::new(Vec::new());

/// Fails on its first look at `flaky` events, to make the consumer retry.
#[receiver(RECEIVED_SEEN)]
fn remember(data: &Seen, metadata: &EventsMetadata) -> Result<(), String> {
    let mut seen = SEEN.lock().unwrap();
    let earlier = seen.iter().filter(|(what, _)| *what == data.what).count();
    seen.push((data.what.clone(), metadata.clone()));
    if data.what.starts_with("flaky") && earlier == 0 { Err("not yet".into()) } else { Ok(()) }
}

fn seen(what: &str) -> Vec<EventsMetadata> {
    SEEN.lock().unwrap().iter().filter(|(seen, _)| seen == what).map(|(_, metadata)| metadata.clone()).collect()
}

/// The metadata and Avro bytes a consumer reads from a message another service wrote.
fn received(what: &str) -> (EventsMetadata, Vec<u8>) {
    let mut sent = RECEIVED_SEEN.generate_signal_metadata(None);
    sent.source = Cow::Borrowed("openedx/lms/web");
    sent.sourcehost = Cow::Borrowed("edx.devstack.lms");
    sent.sourcelib = Cow::Owned(vec![9, 4, 1]);
    let avro = RECEIVED_SEEN.encode_avro(&Seen { what: what.into() }).unwrap();
    let fields: Vec<(&str, Vec<u8>)> =
        message_fields(&sent, &avro).iter().map(|(name, value)| (*name, value.to_vec())).collect();
    let (metadata, event_data) = parse_message_fields(&fields).unwrap();
    assert_eq!(metadata, sent, "read back as written");
    (metadata, event_data.to_vec())
}

#[test]
fn every_attempt_sees_the_same_metadata_marked_as_from_the_bus() {
    let (metadata, avro) = received("flaky-1");
    let event = ReceivedEvent::new(metadata.clone()).unwrap();
    assert_eq!(event.signal().event_type(), "org.openedx.learning.received_event.seen.v1");
    let policy = RetryPolicy { max_attempts: 3, backoff: std::time::Duration::from_millis(1) };
    let (outcome, attempts) = deliver_with_retries(|| event.deliver(&avro), &policy, &|| false);
    assert_eq!((outcome, attempts), (Delivery::Delivered(1), 2));
    let seen = seen("flaky-1");
    assert_eq!(seen.len(), 2);
    for one in &seen {
        assert_eq!(*one, metadata);
        assert!(one.from_event_bus(), "receivers can tell the event came from the bus");
    }
    assert!(event.metadata().from_event_bus());
}

#[test]
fn a_capture_records_what_was_dispatched_with_lent_metadata() {
    let (metadata, avro) = received("captured");
    let captured = capture(&RECEIVED_SEEN);
    let event = ReceivedEvent::new(metadata.clone()).unwrap();
    assert_eq!(event.deliver(&avro), Delivery::Delivered(1));
    let events = captured.take();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data, Seen { what: "captured".into() });
    assert_eq!(events[0].metadata, metadata);
    assert!(events[0].metadata.from_event_bus());
}

#[test]
fn async_receivers_and_retries_see_it_too() {
    let (metadata, avro) = received("flaky-async");
    let event = ReceivedEvent::new(metadata.clone()).unwrap();
    assert_eq!(
        futures::executor::block_on(event.deliver_async(&avro)),
        Delivery::ReceiversFailed(
            "1 of 1 receivers failed: received_event::remember: receiver returned an error: not yet".into()
        )
    );
    assert_eq!(futures::executor::block_on(event.deliver_async(&avro)), Delivery::Delivered(1));
    assert!(seen("flaky-async").iter().all(|one| *one == metadata && one.from_event_bus()));
}

#[test]
fn a_message_for_another_signal_or_none_is_unusable() {
    let (metadata, avro) = received("misrouted");
    let error = ReceivedEvent::for_signal(&RECEIVED_OTHER, metadata.clone()).unwrap_err();
    assert_eq!(
        error.0,
        "the message's type `org.openedx.learning.received_event.seen.v1` is not \
         `org.openedx.learning.received_event.other.v1`, the type of the signal it was read for"
    );
    assert!(
        ReceivedEvent::for_signal(&RECEIVED_SEEN, metadata.clone()).unwrap().deliver(&avro) == Delivery::Delivered(1)
    );

    let mut unknown = metadata;
    unknown.event_type = Cow::Borrowed("org.openedx.learning.received_event.seen.v2");
    let error = ReceivedEvent::new(unknown).unwrap_err();
    assert!(error.0.starts_with("no signal of type `org.openedx.learning.received_event.seen.v2`"), "{error}");
    assert!(error.0.contains("similar: org.openedx.learning.received_event.seen.v1"), "{error}");
}

#[test]
fn metadata_read_again_and_again_is_the_same() {
    let (first, _) = received("again");
    for _ in 0..3 {
        let (next, _) = received("again");
        assert_eq!(next.event_type, first.event_type);
        assert_eq!(
            (&next.source, &next.sourcehost, &next.sourcelib),
            (&first.source, &first.sourcehost, &first.sourcelib)
        );
        assert!(matches!(next.event_type, Cow::Borrowed(_)), "the type is the signal's own");
    }
    // Values never seen before, and a version longer than any kept, read as written.
    let mut odd = RECEIVED_SEEN.generate_signal_metadata(None);
    odd.source = Cow::Owned("openedx/".repeat(100));
    odd.sourcelib = Cow::Owned((1..=12).collect());
    let fields: Vec<(&str, Vec<u8>)> = message_fields(&odd, b"").iter().map(|(n, v)| (*n, v.to_vec())).collect();
    assert_eq!(parse_message_fields(&fields).unwrap().0, odd);
}
