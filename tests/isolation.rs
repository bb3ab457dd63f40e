//! Test helpers: isolation and capture are per thread, so tests running in parallel never see
//! each other's, and they are undone when their guard drops, even when the test fails.
#![allow(missing_docs, reason = "test payloads need no docs")]

use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};

use openedx_events::{EventsMetadata, openedx_event, receiver, testing};

#[openedx_event(name = FIRST, event_type = "org.openedx.testing.isolation.first.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct First {
    pub n: i64,
}

#[openedx_event(name = SECOND, event_type = "org.openedx.testing.isolation.second.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct Second {
    pub n: i64,
}

static FIRST_CALLS: AtomicUsize = AtomicUsize::new(0);

#[receiver(FIRST)]
fn on_first(_data: &First, _metadata: &EventsMetadata) {
    FIRST_CALLS.fetch_add(1, Ordering::SeqCst);
}

#[receiver(SECOND)]
fn on_second(_data: &Second, _metadata: &EventsMetadata) {}

#[test]
fn only_the_enabled_events_reach_receivers_on_this_thread() {
    let isolation = testing::isolate_events(["org.openedx.testing.isolation.second.v1"]).unwrap();
    assert!(FIRST.send_event(First { n: 1 }).is_empty());
    assert_eq!(SECOND.send_event(Second { n: 1 }).len(), 1);

    // Another thread is not isolated.
    let elsewhere = std::thread::spawn(|| FIRST.send_event(First { n: 2 }).len()).join().unwrap();
    assert_eq!(elsewhere, 1);

    drop(isolation);
    assert_eq!(FIRST.send_event(First { n: 3 }).len(), 1);
}

#[test]
fn isolating_everything_and_nesting() {
    let outer = testing::isolate_events(Vec::<String>::new()).unwrap();
    assert!(SECOND.send_event(Second { n: 1 }).is_empty());
    {
        let _inner = testing::isolate_events(["org.openedx.testing.isolation.second.v1"]).unwrap();
        assert_eq!(SECOND.send_event(Second { n: 1 }).len(), 1);
    }
    assert!(SECOND.send_event(Second { n: 1 }).is_empty());
    drop(outer);
    assert_eq!(SECOND.send_event(Second { n: 1 }).len(), 1);
}

#[test]
fn an_unknown_event_type_is_an_error_listing_the_known_ones_sorted() {
    let error = testing::isolate_events(["org.openedx.testing.isolation.thrid.v1"]).unwrap_err();
    assert_eq!(error.event_type, "org.openedx.testing.isolation.thrid.v1");
    assert_eq!(error.known, ["org.openedx.testing.isolation.first.v1", "org.openedx.testing.isolation.second.v1"]);
    assert!(error.to_string().contains("unknown event type `org.openedx.testing.isolation.thrid.v1`"), "{error}");
    // Nothing was isolated.
    assert_eq!(SECOND.send_event(Second { n: 1 }).len(), 1);
}

#[test]
fn isolation_is_undone_when_a_test_panics() {
    let result = std::panic::catch_unwind(|| {
        let _isolation = testing::isolate_events(Vec::<&str>::new()).unwrap();
        assert!(SECOND.send_event(Second { n: 1 }).is_empty());
        panic!("the test failed");
    });
    assert!(result.is_err());
    assert_eq!(SECOND.send_event(Second { n: 1 }).len(), 1);
}

#[test]
fn concurrent_tests_do_not_see_each_others_isolation() {
    let barrier = Barrier::new(2);
    std::thread::scope(|scope| {
        let a = scope.spawn(|| {
            let _only_first = testing::isolate_events(["org.openedx.testing.isolation.first.v1"]).unwrap();
            barrier.wait();
            let seen = (FIRST.send_event(First { n: 1 }).len(), SECOND.send_event(Second { n: 1 }).len());
            barrier.wait();
            seen
        });
        let b = scope.spawn(|| {
            let _only_second = testing::isolate_events(["org.openedx.testing.isolation.second.v1"]).unwrap();
            barrier.wait();
            let seen = (FIRST.send_event(First { n: 1 }).len(), SECOND.send_event(Second { n: 1 }).len());
            barrier.wait();
            seen
        });
        assert_eq!(a.join().unwrap(), (1, 0));
        assert_eq!(b.join().unwrap(), (0, 1));
    });
}

#[test]
fn capture_records_what_this_thread_sent() {
    let captured = testing::capture(&FIRST);
    assert!(captured.is_empty());
    FIRST.send_event(First { n: 10 });
    std::thread::spawn(|| FIRST.send_event(First { n: 99 })).join().unwrap();
    let events = captured.take();
    assert_eq!(events.iter().map(|e| e.data.n).collect::<Vec<_>>(), [10]);
    assert_eq!(events[0].metadata.event_type, "org.openedx.testing.isolation.first.v1");
    assert!(captured.is_empty());
}

#[test]
fn capture_records_events_even_when_isolated_away() {
    let _isolation = testing::isolate_events(Vec::<&str>::new()).unwrap();
    let captured = testing::capture(&SECOND);
    assert!(SECOND.send_event(Second { n: 5 }).is_empty());
    assert_eq!(captured.events().len(), 1);
    assert_eq!(captured.events()[0].data, Second { n: 5 });
    drop(captured);
    SECOND.send_event(Second { n: 6 });
}
