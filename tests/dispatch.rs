//! Sending events: every receiver runs, failures and panics are captured per receiver, and the
//! ways to make failures reach the caller.
#![allow(missing_docs, reason = "test payloads need no docs")]

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{TimeZone, Utc};
use openedx_events::{EventsMetadata, ReceiverError, openedx_event, receiver};

#[openedx_event(name = ROBUST, event_type = "org.openedx.testing.dispatch.robust.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct Robust {
    pub value: i64,
}

#[receiver(ROBUST)]
fn a_succeeds(_data: &Robust, _metadata: &EventsMetadata) {}

#[receiver(ROBUST)]
fn b_fails(data: &Robust, _metadata: &EventsMetadata) -> Result<(), String> {
    Err(format!("cannot handle {}", data.value))
}

#[receiver(ROBUST)]
fn c_panics(_data: &Robust, _metadata: &EventsMetadata) {
    panic!("receiver bug");
}

#[receiver(ROBUST)]
fn d_succeeds_after_the_panic(_data: &Robust, _metadata: &EventsMetadata) -> Result<(), std::io::Error> {
    Ok(())
}

#[test]
fn every_receiver_runs_and_each_outcome_is_reported() {
    let responses = ROBUST.send_event(Robust { value: 3 });
    let names: Vec<&str> = responses.iter().map(|r| r.receiver.as_ref()).collect();
    assert_eq!(
        names,
        ["dispatch::a_succeeds", "dispatch::b_fails", "dispatch::c_panics", "dispatch::d_succeeds_after_the_panic"]
    );
    assert!(responses[0].is_ok());
    let failed = responses[1].result.as_ref().unwrap_err();
    assert!(!failed.is_panic());
    assert_eq!(failed.to_string(), "receiver returned an error: cannot handle 3");
    let panicked = responses[2].result.as_ref().unwrap_err();
    assert!(panicked.is_panic());
    assert_eq!(panicked.to_string(), "receiver panicked: receiver bug");
    assert!(responses[3].is_ok());
}

#[test]
fn try_send_stops_at_the_first_failure() {
    let error = ROBUST.event(Robust { value: 5 }).try_send().unwrap_err();
    assert_eq!(error.receiver, "dispatch::b_fails");
    assert_eq!(error.event_type, "org.openedx.testing.dispatch.robust.v1");
    assert!(matches!(error.error, ReceiverError::Failed(_)));
    assert_eq!(error.completed.len(), 1);
    assert_eq!(error.completed[0].receiver, "dispatch::a_succeeds");
    assert!(error.to_string().contains("cannot handle 5"), "{error}");
}

#[openedx_event(name = STRICT, event_type = "org.openedx.testing.dispatch.strict.v1")]
pub struct Strict {
    pub fail: bool,
}

#[receiver(STRICT)]
fn strict_receiver(data: &Strict, _metadata: &EventsMetadata) -> Result<(), &'static str> {
    if data.fail { Err("strict failure") } else { Ok(()) }
}

#[test]
fn allow_send_event_failure_makes_send_event_panic_with_the_failure() {
    STRICT.allow_send_event_failure();
    assert_eq!(STRICT.send_event(Strict { fail: false }).len(), 1);
    let panic = std::panic::catch_unwind(|| STRICT.send_event(Strict { fail: true })).unwrap_err();
    let message = panic.downcast_ref::<String>().expect("a formatted panic message");
    assert!(message.contains("strict_receiver"), "{message}");
    assert!(message.contains("strict failure"), "{message}");
}

#[openedx_event(name = TIMED, event_type = "org.openedx.testing.dispatch.timed.v1", minor_version = 2)]
pub struct Timed {
    pub id: i64,
}

#[test]
fn metadata_is_generated_with_the_signal_identity_and_the_given_time() {
    let seen = Arc::new(Mutex::new(Vec::<EventsMetadata>::new()));
    let sink = Arc::clone(&seen);
    let id = TIMED.connect("recorder", move |_: &Timed, metadata: &EventsMetadata| {
        sink.lock().unwrap().push(metadata.clone());
    });
    let when = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    TIMED.event(Timed { id: 1 }).time(when).send();
    TIMED.send_event(Timed { id: 2 });
    TIMED.disconnect(id);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].event_type, "org.openedx.testing.dispatch.timed.v1");
    assert_eq!(seen[0].minorversion, 2);
    assert_eq!(seen[0].time, when);
    assert_eq!(seen[0].id.get_version_num(), 1);
    assert!(!seen[0].from_event_bus());
    assert!((Utc::now() - seen[1].time).num_seconds() < 60);
    assert_ne!(seen[0].id, seen[1].id);
}

#[openedx_event(name = FROM_BUS, event_type = "org.openedx.testing.dispatch.from_bus.v1")]
pub struct FromBus {
    pub id: i64,
}

#[test]
fn custom_metadata_is_passed_untouched_and_marked_as_from_the_event_bus() {
    let seen = Arc::new(Mutex::new(None::<EventsMetadata>));
    let sink = Arc::clone(&seen);
    let id = FROM_BUS.connect("recorder", move |_: &FromBus, metadata: &EventsMetadata| {
        *sink.lock().unwrap() = Some(metadata.clone());
    });
    let mut metadata = EventsMetadata::new("org.openedx.testing.dispatch.from_bus.v1");
    metadata.source = "openedx/lms/web".into();
    metadata.sourcehost = "lms.example.com".into();
    metadata.time = Utc.with_ymd_and_hms(2023, 1, 2, 3, 4, 5).unwrap();
    metadata.minorversion = 7;
    let responses = FROM_BUS.send_event_with_custom_metadata(metadata.clone(), FromBus { id: 1 });
    FROM_BUS.disconnect(id);

    assert_eq!(responses.len(), 1);
    let received = seen.lock().unwrap().clone().unwrap();
    assert!(received.from_event_bus());
    assert_eq!(received, metadata);
    assert_eq!(received.to_json(), metadata.to_json());
}

#[openedx_event(name = DYNAMIC, event_type = "org.openedx.testing.dispatch.dynamic.v1")]
pub struct Dynamic {
    pub n: i64,
}

#[test]
fn closures_connect_and_disconnect_at_run_time() {
    let total = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&total);
    let first = DYNAMIC.connect("adder", move |data: &Dynamic, _: &EventsMetadata| {
        counter.fetch_add(usize::try_from(data.n).unwrap(), Ordering::SeqCst);
    });
    let second = DYNAMIC.connect("refuser", |_: &Dynamic, _: &EventsMetadata| Err::<(), _>("refused"));
    assert_eq!(DYNAMIC.receivers(), ["adder", "refuser"]);

    let responses = DYNAMIC.send_event(Dynamic { n: 4 });
    assert_eq!(responses.len(), 2);
    assert!(responses[0].is_ok());
    assert_eq!(responses[1].receiver, "refuser");
    assert!(responses[1].result.as_ref().is_err_and(|e| e.to_string().contains("refused")));

    assert!(DYNAMIC.disconnect(second));
    assert!(!DYNAMIC.disconnect(second));
    assert_eq!(DYNAMIC.send_event(Dynamic { n: 1 }).len(), 1);
    assert!(DYNAMIC.disconnect(first));
    assert!(DYNAMIC.send_event(Dynamic { n: 1 }).is_empty());
    assert_eq!(total.load(Ordering::SeqCst), 5);
}

#[openedx_event(name = SWITCHED, event_type = "org.openedx.testing.dispatch.switched.v1")]
pub struct Switched {
    pub n: i64,
}

#[receiver(SWITCHED)]
fn switched_receiver(_data: &Switched, _metadata: &EventsMetadata) {}

#[test]
fn a_disabled_signal_runs_no_receiver_until_enabled() {
    assert!(SWITCHED.is_enabled());
    SWITCHED.disable();
    assert!(SWITCHED.send_event(Switched { n: 1 }).is_empty());
    assert!(SWITCHED.event(Switched { n: 1 }).try_send().unwrap().is_empty());
    SWITCHED.enable();
    assert_eq!(SWITCHED.send_event(Switched { n: 1 }).len(), 1);
}

mod elsewhere {
    use super::{CONCURRENT, Concurrent};
    use openedx_events::{EventsMetadata, receiver};
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub(super) static CALLS: AtomicUsize = AtomicUsize::new(0);

    #[receiver(CONCURRENT)]
    pub(super) fn count(_data: &Concurrent, _metadata: &EventsMetadata) {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }
}

#[openedx_event(name = CONCURRENT, event_type = "org.openedx.testing.dispatch.concurrent.v1")]
pub struct Concurrent {
    pub thread: i64,
}

#[test]
fn sending_from_many_threads_reaches_receivers_in_other_modules() {
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            std::thread::spawn(move || {
                for _ in 0..100 {
                    let responses = CONCURRENT.send_event(Concurrent { thread });
                    assert_eq!(responses.len(), 1);
                    assert_eq!(responses[0].receiver, "dispatch::elsewhere::count");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(elsewhere::CALLS.load(Ordering::SeqCst), 800);
}
