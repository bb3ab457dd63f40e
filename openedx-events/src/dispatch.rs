//! The dispatch loop and its outcomes: every receiver of an event runs, its error or panic is
//! caught and reported in its own [`ReceiverResponse`], so one receiver never stops the others
//! (unless the sender asked failures to reach it).

use std::any::Any;
use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use futures::FutureExt as _;

use crate::metadata::EventsMetadata;
use crate::receiver::{AsyncFn, DynHandler, DynamicReceivers, Handler, ReceiverFuture, TypedReceiver};

/// The error type a receiver's `Result` is turned into.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// What one receiver did with one event.
#[derive(Debug)]
pub struct ReceiverResponse {
    /// The receiver: the path of its function (`my_crate::handlers::congratulate`) or the name
    /// given to [`connect`](crate::OpenEdxPublicSignal::connect).
    pub receiver: Cow<'static, str>,
    /// `Ok` if it returned normally, the error or the panic otherwise.
    pub result: Result<(), ReceiverError>,
}

impl ReceiverResponse {
    /// Whether the receiver succeeded.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }
}

/// How a receiver failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReceiverError {
    /// It returned `Err`.
    Failed(BoxError),
    /// It panicked; holds the panic message.
    Panicked(String),
    /// It did not run: an `async` receiver reached by the synchronous `send_event` on a thread of
    /// an async runtime, which must not block; holds why and what to do instead.
    NotRun(&'static str),
}

impl ReceiverError {
    /// Whether the receiver panicked (rather than returned an error).
    pub fn is_panic(&self) -> bool {
        matches!(self, ReceiverError::Panicked(_))
    }
}

impl fmt::Display for ReceiverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiverError::Failed(error) => write!(f, "receiver returned an error: {error}"),
            ReceiverError::Panicked(message) => write!(f, "receiver panicked: {message}"),
            ReceiverError::NotRun(why) => write!(f, "receiver did not run: {why}"),
        }
    }
}

impl Error for ReceiverError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReceiverError::Failed(error) => Some(&**error),
            ReceiverError::Panicked(_) | ReceiverError::NotRun(_) => None,
        }
    }
}

/// A receiver failed while failures were to reach the caller
/// ([`try_send`](crate::OutgoingEvent::try_send)); the receivers after it did not run.
#[derive(Debug, thiserror::Error)]
#[error("receiver `{receiver}` of `{event_type}` failed: {error}")]
pub struct SendEventError {
    /// The event type that was being sent.
    pub event_type: &'static str,
    /// The receiver that failed.
    pub receiver: Cow<'static, str>,
    /// How it failed.
    #[source]
    pub error: ReceiverError,
    /// The responses of the receivers that ran before it, all successful.
    pub completed: Vec<ReceiverResponse>,
}

/// Runs one receiver, turning an error or a panic into a [`ReceiverError`].
#[inline]
pub(crate) fn call_guarded(call: impl FnOnce() -> Result<(), BoxError>) -> Result<(), ReceiverError> {
    // The receiver gets only shared references to data it cannot observe half-updated after a
    // panic, and we never touch its state again, so asserting unwind safety is sound.
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(ReceiverError::Failed(error)),
        Err(payload) => Err(ReceiverError::Panicked(panic_message(payload.as_ref()))),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "the panic carried no message".to_owned()
    }
}

/// Runs the receivers of one event for the synchronous `send_event`: first the `#[receiver]`
/// functions, then those connected at run time; async receivers as [`run_blocking`] can. With
/// `stop_at_failure`, the first failure ends the loop and is returned.
pub(crate) fn run_receivers<E>(
    event_type: &'static str,
    statics: &[&'static TypedReceiver<E>],
    dynamic: &DynamicReceivers<E>,
    data: &E,
    metadata: &EventsMetadata,
    stop_at_failure: bool,
) -> Result<Vec<ReceiverResponse>, SendEventError> {
    let dynamic = dynamic.snapshot();
    let mut responses = Vec::with_capacity(statics.len() + dynamic.len());
    for receiver in statics {
        let result = match receiver.handler() {
            Handler::Sync(handler) => call_guarded(|| handler(data, metadata)),
            Handler::Async(handler) => run_blocking(|| handler(data, metadata)),
        };
        settle(event_type, &mut responses, Cow::Borrowed(receiver.name()), result, metadata, stop_at_failure)?;
    }
    for (name, handler) in dynamic {
        let result = match &handler {
            DynHandler::Sync(handler) => call_guarded(|| handler(data, metadata)),
            DynHandler::Async(handler) => run_blocking(|| handler(data, metadata)),
        };
        settle(event_type, &mut responses, name, result, metadata, stop_at_failure)?;
    }
    Ok(responses)
}

/// Why the synchronous `send_event` does not run async receivers on a current-thread runtime.
#[cfg(feature = "tokio")]
const IN_RUNTIME: &str = "it is `async`, and the synchronous `send_event` was called on a current-thread tokio \
    runtime, whose one thread it must not block; send with `send_event_async(..).await` there";

/// Runs an async receiver to completion for the synchronous `send_event`, on the calling thread.
///
/// With the `tokio` feature: on a multi-threaded tokio runtime it runs under
/// `tokio::task::block_in_place` (the runtime moves this thread's other tasks elsewhere, so
/// nothing stalls); on a current-thread runtime nothing may block, so it is not run and says so;
/// outside any runtime it runs on a current-thread runtime kept for the thread, so that receivers
/// using tokio's I/O work. Without the feature it runs on `futures`' executor.
fn run_blocking<'a>(start: impl FnOnce() -> ReceiverFuture<'a>) -> Result<(), ReceiverError> {
    #[cfg(feature = "tokio")]
    {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
                return Err(ReceiverError::NotRun(IN_RUNTIME));
            }
            return tokio::task::block_in_place(|| handle.block_on(guard_future(start)));
        }
        thread_local! {
            static RUNTIME: Option<tokio::runtime::Runtime> =
                tokio::runtime::Builder::new_current_thread().enable_all().build().ok();
        }
        // `Runtime::block_on`, not a handle's: only it drives a current-thread runtime's I/O.
        // A thread whose runtime could not be built (or is being torn down) uses `futures`'.
        let mut future = Some(guard_future(start));
        let ran = RUNTIME.try_with(|runtime| match (runtime, future.take()) {
            (Some(runtime), Some(future)) => Some(runtime.block_on(future)),
            (None, taken) => {
                future = taken;
                None
            }
            (_, None) => None,
        });
        match (ran, future) {
            (Ok(Some(result)), _) => result,
            (_, Some(future)) => futures::executor::block_on(future),
            (_, None) => Err(ReceiverError::NotRun("the thread's async runtime is gone")),
        }
    }
    #[cfg(not(feature = "tokio"))]
    {
        futures::executor::block_on(guard_future(start))
    }
}

/// Starts an async receiver and awaits it, turning an error or a panic (in starting it or in
/// any poll) into a [`ReceiverError`].
async fn guard_future<'a>(start: impl FnOnce() -> ReceiverFuture<'a>) -> Result<(), ReceiverError> {
    // As in `call_guarded`: the receiver only has shared references that a panic cannot leave
    // half-updated, and is never touched again.
    let future = match catch_unwind(AssertUnwindSafe(start)) {
        Ok(future) => future,
        Err(payload) => return Err(ReceiverError::Panicked(panic_message(payload.as_ref()))),
    };
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(ReceiverError::Failed(error)),
        Err(payload) => Err(ReceiverError::Panicked(panic_message(payload.as_ref()))),
    }
}

/// Runs the receivers of one event for `send_event_async`: the synchronous ones first, one
/// after the other, then the async ones concurrently on this task (polled together, so one that
/// waits does not hold up the others). With `stop_at_failure` (`try_send_async`) the async ones
/// run one after the other, and the first failure ends the sending.
pub(crate) async fn run_receivers_async<E: Sync>(
    event_type: &'static str,
    statics: &[&'static TypedReceiver<E>],
    dynamic: &DynamicReceivers<E>,
    data: &E,
    metadata: &EventsMetadata,
    stop_at_failure: bool,
) -> Result<Vec<ReceiverResponse>, SendEventError> {
    let dynamic = dynamic.snapshot();
    let mut responses = Vec::with_capacity(statics.len() + dynamic.len());
    // First the synchronous receivers; the async ones are counted, and started after, without
    // collecting them unless several must be polled together.
    let mut asynchronous = 0;
    for receiver in statics {
        match receiver.handler() {
            Handler::Sync(handler) => {
                let result = call_guarded(|| handler(data, metadata));
                settle(event_type, &mut responses, Cow::Borrowed(receiver.name()), result, metadata, stop_at_failure)?;
            }
            Handler::Async(_) => asynchronous += 1,
        }
    }
    for (name, handler) in &dynamic {
        match handler {
            DynHandler::Sync(handler) => {
                let result = call_guarded(|| handler(data, metadata));
                settle(event_type, &mut responses, name.clone(), result, metadata, stop_at_failure)?;
            }
            DynHandler::Async(_) => asynchronous += 1,
        }
    }
    if asynchronous == 0 {
        return Ok(responses);
    }
    let starts = statics
        .iter()
        .filter_map(|receiver| match receiver.handler() {
            Handler::Async(handler) => Some((Cow::Borrowed(receiver.name()), AsyncStart::Static(handler))),
            Handler::Sync(_) => None,
        })
        .chain(dynamic.iter().filter_map(|(name, handler)| match handler {
            DynHandler::Async(handler) => Some((name.clone(), AsyncStart::Dynamic(handler.as_ref()))),
            DynHandler::Sync(_) => None,
        }));
    if stop_at_failure || asynchronous == 1 {
        for (name, start) in starts {
            let result = guard_future(|| start.start(data, metadata)).await;
            settle(event_type, &mut responses, name, result, metadata, stop_at_failure)?;
        }
    } else {
        let (names, starts): (Vec<_>, Vec<_>) = starts.unzip();
        let results = futures::future::join_all(
            starts.into_iter().map(|start| guard_future(move || start.start(data, metadata))),
        )
        .await;
        for (name, result) in names.into_iter().zip(results) {
            settle(event_type, &mut responses, name, result, metadata, false)?;
        }
    }
    Ok(responses)
}

/// An async receiver not yet started.
enum AsyncStart<'h, E: 'static> {
    Static(for<'a> fn(&'a E, &'a EventsMetadata) -> ReceiverFuture<'a>),
    Dynamic(&'h AsyncFn<E>),
}

impl<'h, E> AsyncStart<'h, E> {
    fn start<'a>(self, data: &'a E, metadata: &'a EventsMetadata) -> ReceiverFuture<'a>
    where
        'h: 'a,
    {
        match self {
            AsyncStart::Static(handler) => handler(data, metadata),
            AsyncStart::Dynamic(handler) => handler(data, metadata),
        }
    }
}

/// Adds what a receiver did to the responses; a failure is logged, and ends the sending if
/// `stop_at_failure`.
#[inline]
fn settle(
    event_type: &'static str,
    responses: &mut Vec<ReceiverResponse>,
    receiver: Cow<'static, str>,
    result: Result<(), ReceiverError>,
    metadata: &EventsMetadata,
    stop_at_failure: bool,
) -> Result<(), SendEventError> {
    match result {
        Ok(()) => {
            responses.push(ReceiverResponse { receiver, result: Ok(()) });
            Ok(())
        }
        Err(error) => failed(event_type, responses, receiver, error, metadata, stop_at_failure),
    }
}

/// The failure path of [`settle`], kept out of the way of the successes.
#[cold]
#[inline(never)]
fn failed(
    event_type: &'static str,
    responses: &mut Vec<ReceiverResponse>,
    receiver: Cow<'static, str>,
    error: ReceiverError,
    metadata: &EventsMetadata,
    stop_at_failure: bool,
) -> Result<(), SendEventError> {
    tracing::error!(
        event_type,
        event_id = %metadata.id,
        receiver = %receiver,
        "receiver of an Open edX event failed: {error}"
    );
    if stop_at_failure {
        let completed = std::mem::take(responses);
        return Err(SendEventError { event_type, receiver, error, completed });
    }
    responses.push(ReceiverResponse { receiver, result: Err(error) });
    Ok(())
}
