//! What happens to each receiver when an event is sent: failures and panics are caught and
//! reported per receiver, so one receiver never stops the others.

use std::any::Any;
use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

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

/// What a receiver may return: `()` or `Result<(), E>` with `E` convertible into a boxed error.
#[diagnostic::on_unimplemented(
    message = "a receiver must return `()` or `Result<(), E>`, not `{Self}`",
    label = "this return type is not allowed for a receiver",
    note = "`E` may be any type that converts into `Box<dyn std::error::Error + Send + Sync>`, such as `String`, `&'static str` or an error type"
)]
pub trait ReceiverReturn {
    /// The receiver's outcome as a `Result`.
    fn into_receiver_result(self) -> Result<(), BoxError>;
}

impl ReceiverReturn for () {
    fn into_receiver_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

// Not recommended, so that `Result<(), i32>` is reported with `ReceiverReturn`'s message rather
// than as a missing `From<i32>` for `Box<dyn Error>`.
#[diagnostic::do_not_recommend]
impl<E: Into<BoxError>> ReceiverReturn for Result<(), E> {
    fn into_receiver_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
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
