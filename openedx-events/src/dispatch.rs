//! The dispatch loop and its outcomes: every receiver of an event runs, its error or panic is
//! caught and reported in its own [`ReceiverResponse`], so one receiver never stops the others
//! (unless the sender asked failures to reach it).

use std::any::Any;
use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::metadata::EventsMetadata;
use crate::receiver::{DynamicReceivers, TypedReceiver};

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
        }
    }
}

impl Error for ReceiverError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReceiverError::Failed(error) => Some(&**error),
            ReceiverError::Panicked(_) => None,
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

/// Runs the receivers of one event: first the `#[receiver]` functions, then those connected at
/// run time. With `stop_at_failure`, the first failure ends the loop and is returned.
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
        let result = call_guarded(|| (receiver.handler())(data, metadata));
        settle(event_type, &mut responses, Cow::Borrowed(receiver.name()), result, metadata, stop_at_failure)?;
    }
    for (name, handler) in dynamic {
        let result = call_guarded(|| handler(data, metadata));
        settle(event_type, &mut responses, name, result, metadata, stop_at_failure)?;
    }
    Ok(responses)
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
