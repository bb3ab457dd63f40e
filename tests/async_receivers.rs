//! `async fn` receivers and `send_event_async`: every receiver runs, synchronous and async;
//! errors and panics (also inside a future) are captured per receiver; async receivers run
//! concurrently; the synchronous `send_event` runs them outside a runtime and never blocks a
//! runtime's thread; isolation and capture follow the test across `.await`.
#![allow(missing_docs, reason = "test payloads need no docs")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use openedx_events::{EventData, EventsMetadata, ReceiverError, openedx_event, receiver, testing};

#[openedx_event(name = ASYNC_TESTED, event_type = "org.openedx.learning.async_receivers.tested.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct Tested {
    pub case: String,
}

static SYNC_CALLS: AtomicUsize = AtomicUsize::new(0);
static ASYNC_CALLS: AtomicUsize = AtomicUsize::new(0);

#[receiver(ASYNC_TESTED)]
fn count_sync(_data: &Tested, _metadata: &EventsMetadata) {
    SYNC_CALLS.fetch_add(1, Ordering::SeqCst);
}

#[receiver(ASYNC_TESTED)]
async fn count_async(data: &Tested, _metadata: &EventsMetadata) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    ASYNC_CALLS.fetch_add(1, Ordering::SeqCst);
    match data.case.as_str() {
        "fail" => Err("asked to fail".to_owned()),
        "panic" => panic!("asked to panic after an await"),
        _ => Ok(()),
    }
}

fn outcome(responses: &[openedx_events::ReceiverResponse], suffix: &str) -> String {
    let response = responses.iter().find(|r| r.receiver.ends_with(suffix)).expect("the receiver ran");
    match &response.result {
        Ok(()) => "ok".to_owned(),
        Err(error) => error.to_string(),
    }
}

fn tested(case: &str) -> Tested {
    Tested { case: case.into() }
}

#[tokio::test]
async fn send_event_async_runs_sync_and_async_receivers_and_captures_their_failures() {
    let _isolation = testing::isolate_events(["org.openedx.learning.async_receivers.tested.v1"]).unwrap();
    let responses = ASYNC_TESTED.send_event_async(tested("fine")).await;
    assert_eq!(responses.len(), 2);
    assert_eq!(outcome(&responses, "::count_sync"), "ok");
    assert_eq!(outcome(&responses, "::count_async"), "ok");

    let responses = ASYNC_TESTED.send_event_async(tested("fail")).await;
    assert_eq!(outcome(&responses, "::count_async"), "receiver returned an error: asked to fail");
    assert_eq!(outcome(&responses, "::count_sync"), "ok", "the others still ran");

    let responses = ASYNC_TESTED.send_event_async(tested("panic")).await;
    let panicked = responses.iter().find(|r| r.receiver.ends_with("::count_async")).unwrap();
    assert!(matches!(&panicked.result, Err(ReceiverError::Panicked(m)) if m == "asked to panic after an await"));

    // `try_send_async` stops at the failure and returns it.
    let error = ASYNC_TESTED.event(tested("fail")).try_send_async().await.unwrap_err();
    assert!(error.receiver.ends_with("::count_async"), "{error}");
    assert_eq!(error.completed.len(), 1, "the synchronous receiver ran first");
}

/// Two receivers that each wait for the other: they finish only if they run concurrently.
#[openedx_event(name = RENDEZVOUS, event_type = "org.openedx.learning.async_receivers.rendezvous.v1")]
#[derive(Clone, Debug)]
pub struct Rendezvous {
    pub n: i64,
}

static BARRIER: std::sync::OnceLock<tokio::sync::Barrier> = std::sync::OnceLock::new();

#[receiver(RENDEZVOUS)]
async fn meet_a(_data: &Rendezvous, _metadata: &EventsMetadata) {
    BARRIER.get_or_init(|| tokio::sync::Barrier::new(2)).wait().await;
}

#[receiver(RENDEZVOUS)]
async fn meet_b(_data: &Rendezvous, _metadata: &EventsMetadata) {
    BARRIER.get_or_init(|| tokio::sync::Barrier::new(2)).wait().await;
}

#[tokio::test]
async fn async_receivers_run_concurrently_on_the_sending_task() {
    let responses = tokio::time::timeout(Duration::from_secs(5), RENDEZVOUS.send_event_async(Rendezvous { n: 1 }))
        .await
        .expect("the two receivers met, so they ran at the same time");
    assert_eq!(responses.len(), 2);
    assert!(responses.iter().all(|r| r.is_ok()));
}

#[test]
fn the_synchronous_send_event_runs_async_receivers_outside_a_runtime() {
    let _isolation = testing::isolate_events(["org.openedx.learning.async_receivers.tested.v1"]).unwrap();
    let before = ASYNC_CALLS.load(Ordering::SeqCst);
    // `count_async` sleeps on tokio's timer: it needs a tokio runtime, which `send_event` provides.
    let responses = ASYNC_TESTED.send_event(tested("fine"));
    assert_eq!(outcome(&responses, "::count_async"), "ok");
    assert!(ASYNC_CALLS.load(Ordering::SeqCst) > before);
}

#[tokio::test(flavor = "current_thread")]
async fn the_synchronous_send_event_never_blocks_a_current_thread_runtime_and_says_what_it_skipped() {
    let _isolation = testing::isolate_events(["org.openedx.learning.async_receivers.tested.v1"]).unwrap();
    // Called on the runtime's only thread, where blocking would stall everything.
    let responses = ASYNC_TESTED.send_event(tested("fine"));
    assert_eq!(outcome(&responses, "::count_sync"), "ok");
    let skipped = responses.iter().find(|r| r.receiver.ends_with("::count_async")).unwrap();
    assert!(matches!(skipped.result, Err(ReceiverError::NotRun(_))));
    assert!(outcome(&responses, "::count_async").contains("send_event_async"), "{responses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_threaded_runtime_the_synchronous_send_event_runs_async_receivers_in_place() {
    let _isolation = testing::isolate_events(["org.openedx.learning.async_receivers.tested.v1"]).unwrap();
    // From a task on a worker thread: `block_in_place` hands the worker's other tasks on, and a
    // timer on the runtime still fires while this one waits.
    let ticker = tokio::spawn(async { tokio::time::sleep(Duration::from_millis(1)).await });
    let responses = tokio::spawn(testing::bind(async { ASYNC_TESTED.send_event(tested("fine")) })).await.unwrap();
    assert_eq!(outcome(&responses, "::count_sync"), "ok");
    assert_eq!(outcome(&responses, "::count_async"), "ok");
    // And from a thread of the blocking pool, as a blocking consumer spawned there would.
    let responses = tokio::task::spawn_blocking(|| ASYNC_TESTED.send_event(tested("fine"))).await.unwrap();
    assert_eq!(outcome(&responses, "::count_async"), "ok");
    ticker.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolation_and_capture_follow_the_test_across_await_and_into_bound_tasks() {
    let _isolation = testing::isolate_events(["org.openedx.learning.async_receivers.tested.v1"]).unwrap();
    let sent = testing::capture(&ASYNC_TESTED);
    let rendezvous = testing::capture(&RENDEZVOUS);
    ASYNC_TESTED.send_event_async(tested("before")).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    // A task on another thread, bound to this test: its events are isolated and captured here.
    let in_task = tokio::spawn(testing::bind(async {
        tokio::task::yield_now().await;
        let responses = ASYNC_TESTED.send_event_async(tested("in a task")).await;
        // Isolated away: no receiver of this event type runs.
        let isolated = RENDEZVOUS.send_event_async(Rendezvous { n: 2 }).await;
        (responses.len(), isolated.len())
    }));
    assert_eq!(in_task.await.unwrap(), (2, 0));
    let cases: Vec<String> = sent.take().into_iter().map(|event| event.data.case).collect();
    assert_eq!(cases, ["before", "in a task"]);
    assert_eq!(rendezvous.take().len(), 1, "captured even though isolated away");
}

#[tokio::test]
async fn async_receivers_connect_at_run_time() {
    let _isolation = testing::isolate_events(["org.openedx.learning.async_receivers.tested.v1"]).unwrap();
    let id = ASYNC_TESTED.connect_async("connected", |data: Tested, metadata: EventsMetadata| async move {
        tokio::task::yield_now().await;
        if metadata.event_type != "org.openedx.learning.async_receivers.tested.v1" {
            return Err("wrong event".to_owned());
        }
        if data.case == "connected-fail" { Err("the connected one failed".to_owned()) } else { Ok(()) }
    });
    let responses = ASYNC_TESTED.send_event_async(tested("connected-ok")).await;
    assert_eq!(outcome(&responses, "connected"), "ok");
    let responses = ASYNC_TESTED.send_event_async(tested("connected-fail")).await;
    assert_eq!(outcome(&responses, "connected"), "receiver returned an error: the connected one failed");
    assert!(ASYNC_TESTED.disconnect(id));
    let responses = ASYNC_TESTED.send_event_async(tested("fine")).await;
    assert!(responses.iter().all(|r| r.receiver != "connected"));
}

#[derive(EventData, Clone, Debug, PartialEq)]
pub struct Nested {
    pub value: i64,
}

#[openedx_event(name = ASYNC_FAILING, event_type = "org.openedx.learning.async_receivers.failing.v1")]
#[derive(Clone, Debug)]
pub struct Failing {
    pub nested: Nested,
}

#[receiver(ASYNC_FAILING)]
async fn always_fails(_data: &Failing, _metadata: &EventsMetadata) -> Result<(), &'static str> {
    Err("always")
}

#[tokio::test]
#[should_panic(expected = "always")]
async fn allowing_send_event_failure_makes_send_async_panic_with_it() {
    ASYNC_FAILING.allow_send_event_failure();
    ASYNC_FAILING.send_event_async(Failing { nested: Nested { value: 1 } }).await;
}
