//! What a consumer does with one message: find its signal, decode it, dispatch it, and judge
//! the outcome. Shared by every backend.

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::RetryPolicy;
use super::message::{UnusableMessage, parse_message_fields};
use crate::avro::DecodeError;
use crate::dispatch::{ReceiverError, ReceiverResponse};
use crate::event_key::EventKey;
use crate::metadata::EventsMetadata;
use crate::registry::{get_signal_by_type, similar_event_types};
use crate::signal::AnySignal;

/// The outcome of dispatching one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Every receiver succeeded; holds how many ran.
    Delivered(usize),
    /// At least one receiver failed; worth retrying. Holds which and why.
    ReceiversFailed(String),
    /// The message can never be dispatched: dead-letter it at once.
    Unusable(UnusableMessage),
    /// A receiver refused the message with a [`NotRetryable`] error: dead-letter it at once.
    /// Holds which receivers and why.
    Refused(String),
}

/// A receiver's error that retrying the same message cannot cure (a webhook answered
/// `400 Bad Request`, say): the consumer dead-letters the message at once instead of retrying
/// it. Return it from a receiver as `Err(NotRetryable::new(error).into())`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotRetryable(#[source] pub crate::BoxError);

impl NotRetryable {
    /// Marks `error` as one retrying cannot cure.
    pub fn new(error: impl Into<crate::BoxError>) -> Self {
        NotRetryable(error.into())
    }

    /// Whether a receiver's error is (or wraps, through its sources) a [`NotRetryable`].
    pub fn is_in(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(error);
        while let Some(error) = next {
            if error.is::<NotRetryable>() {
                return true;
            }
            next = error.source();
        }
        false
    }
}

/// Dispatches the message in these stream fields (see [`parse_message_fields`]) as [`deliver`]
/// does.
pub fn deliver_fields<K: AsRef<[u8]>, V: AsRef<[u8]>>(fields: &[(K, V)]) -> Delivery {
    match parse_message_fields(fields) {
        Ok((metadata, event_data)) => deliver(metadata, event_data),
        Err(unusable) => Delivery::Unusable(unusable),
    }
}

/// The key of a received message (stream fields, see [`parse_message_fields`]): the value at
/// its signal's key field (`#[openedx_event(key_field = ...)]`), read from its data. `None` when
/// the signal has no key field, the message is unusable, or the value is missing. For consumers
/// that keep the messages of one key in order while others run concurrently; it decodes the
/// data once more, so it is only worth calling then.
pub fn message_event_key<K: AsRef<[u8]>, V: AsRef<[u8]>>(fields: &[(K, V)]) -> Option<EventKey> {
    let (metadata, event_data) = parse_message_fields(fields).ok()?;
    let signal = get_signal_by_type(&metadata.event_type)?;
    let key_field = signal.event_key_field()?;
    let data = signal.avro_to_json(event_data).ok()?;
    match key_field.split('.').try_fold(&data, |value, name| value.get(name))? {
        serde_json::Value::String(text) => Some(EventKey::String(text.clone())),
        serde_json::Value::Bool(flag) => Some(EventKey::Boolean(*flag)),
        serde_json::Value::Number(number) => {
            number.as_i64().map(EventKey::Long).or_else(|| number.as_f64().map(EventKey::Double))
        }
        _ => None,
    }
}

/// Dispatches a received message to the local receivers of its signal, with the producer's
/// metadata (so receivers see it came from the bus). Async receivers run as the synchronous
/// `send_event` runs them; an async consumer uses [`deliver_async`]. A consumer that retries
/// keeps a [`ReceivedEvent`] instead, and delivers that as often as it needs.
pub fn deliver(metadata: EventsMetadata, event_data: &[u8]) -> Delivery {
    match ReceivedEvent::new(metadata) {
        Ok(event) => event.deliver(event_data),
        Err(unusable) => Delivery::Unusable(unusable),
    }
}

/// [`deliver`], awaiting async receivers (see `send_event_async`).
pub async fn deliver_async(metadata: EventsMetadata, event_data: &[u8]) -> Delivery {
    match ReceivedEvent::new(metadata) {
        Ok(event) => event.deliver_async(event_data).await,
        Err(unusable) => Delivery::Unusable(unusable),
    }
}

/// [`deliver_fields`], awaiting async receivers.
pub async fn deliver_fields_async<K: AsRef<[u8]>, V: AsRef<[u8]>>(fields: &[(K, V)]) -> Delivery {
    match parse_message_fields(fields) {
        Ok((metadata, event_data)) => deliver_async(metadata, event_data).await,
        Err(unusable) => Delivery::Unusable(unusable),
    }
}

/// A received message's metadata with the signal of its type, found once, and marked as
/// delivered from the bus: what a consumer dispatches as many times as its retries need,
/// lending the metadata to the receivers instead of copying it for each attempt.
#[derive(Debug, Clone)]
pub struct ReceivedEvent {
    signal: &'static dyn AnySignal,
    metadata: EventsMetadata,
}

impl ReceivedEvent {
    /// Finds the signal of the metadata's event type; the message is unusable when this program
    /// has none (the error names similar types).
    pub fn new(metadata: EventsMetadata) -> Result<Self, UnusableMessage> {
        let signal = find_signal(&metadata)?;
        Ok(Self::marked(signal, metadata))
    }

    /// For a consumer that found the signal itself (from a header it reads first, say); the
    /// message is unusable when the metadata's type is not the signal's.
    pub fn for_signal(signal: &'static dyn AnySignal, metadata: EventsMetadata) -> Result<Self, UnusableMessage> {
        if signal.event_type() != metadata.event_type {
            return Err(UnusableMessage(format!(
                "the message's type `{}` is not `{}`, the type of the signal it was read for",
                metadata.event_type,
                signal.event_type()
            )));
        }
        Ok(Self::marked(signal, metadata))
    }

    fn marked(signal: &'static dyn AnySignal, mut metadata: EventsMetadata) -> Self {
        metadata.mark_from_event_bus();
        ReceivedEvent { signal, metadata }
    }

    /// The signal the message is for.
    pub fn signal(&self) -> &'static dyn AnySignal {
        self.signal
    }

    /// The metadata the receivers see.
    pub fn metadata(&self) -> &EventsMetadata {
        &self.metadata
    }

    /// Decodes the Avro bytes and dispatches them with this metadata; see [`deliver`].
    pub fn deliver(&self, event_data: &[u8]) -> Delivery {
        // A signal that lets failures through (`allow_send_event_failure`) panics on them; that
        // is a failed delivery here, not a dead consumer.
        let sent = catch_unwind(AssertUnwindSafe(|| self.signal.send_avro_received(&self.metadata, event_data)));
        judge(sent)
    }

    /// [`deliver`](Self::deliver), awaiting async receivers.
    pub async fn deliver_async(&self, event_data: &[u8]) -> Delivery {
        use futures::FutureExt as _;
        let sent = catch_unwind(AssertUnwindSafe(|| self.signal.send_avro_received_async(&self.metadata, event_data)));
        let sent = match sent {
            Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
            Err(panic) => Err(panic),
        };
        judge(sent)
    }
}

fn find_signal(metadata: &EventsMetadata) -> Result<&'static dyn AnySignal, UnusableMessage> {
    get_signal_by_type(&metadata.event_type).ok_or_else(|| {
        let mut reason = format!("no signal of type `{}` in this program", metadata.event_type);
        let similar = similar_event_types(&metadata.event_type);
        if !similar.is_empty() {
            let _ = write!(reason, " (similar: {})", similar.join(", "));
        }
        UnusableMessage(reason)
    })
}

/// The outcome of a dispatch: every receiver's response, or why the message is unusable, or a
/// failure that propagated as a panic.
fn judge(sent: Result<Result<Vec<ReceiverResponse>, DecodeError>, Box<dyn std::any::Any + Send>>) -> Delivery {
    let responses = match sent {
        Ok(Ok(responses)) => responses,
        Ok(Err(error)) => return Delivery::Unusable(UnusableMessage(error.to_string())),
        Err(_) => return Delivery::ReceiversFailed("a receiver failure propagated as a panic".to_owned()),
    };
    let failures: Vec<String> = responses
        .iter()
        .filter_map(|response| response.result.as_ref().err().map(|error| format!("{}: {error}", response.receiver)))
        .collect();
    let refused: Vec<String> = responses
        .iter()
        .filter_map(|response| match &response.result {
            Err(ReceiverError::Failed(error)) if NotRetryable::is_in(&**error) => {
                Some(format!("{}: {error}", response.receiver))
            }
            _ => None,
        })
        .collect();
    if failures.is_empty() {
        Delivery::Delivered(responses.len())
    } else if !refused.is_empty() {
        Delivery::Refused(format!(
            "{} of {} receivers refused the message, retrying cannot help: {}",
            refused.len(),
            responses.len(),
            refused.join("; ")
        ))
    } else {
        Delivery::ReceiversFailed(format!(
            "{} of {} receivers failed: {}",
            failures.len(),
            responses.len(),
            failures.join("; ")
        ))
    }
}

/// Delivers a message (each call of `attempt` is one delivery), retrying with doubling pauses
/// while receivers fail, up to the policy's attempts in all. Returns the last outcome and how
/// many attempts were made. `stop` is checked before each retry so that a shutdown is not held
/// up by back-off.
pub fn deliver_with_retries(
    mut attempt: impl FnMut() -> Delivery,
    policy: &RetryPolicy,
    stop: &dyn Fn() -> bool,
) -> (Delivery, u32) {
    let mut attempts = 0;
    let mut pause = policy.backoff;
    loop {
        attempts += 1;
        let outcome = attempt();
        match outcome {
            Delivery::ReceiversFailed(ref reason) if attempts < policy.max_attempts.max(1) && !stop() => {
                tracing::warn!(attempt = attempts, "retrying an event bus message: {reason}");
                std::thread::sleep(pause);
                pause = pause.saturating_mul(2);
            }
            outcome => return (outcome, attempts),
        }
    }
}

/// [`deliver_with_retries`] for async consumers: the pauses are tokio timers, not a blocked
/// thread, and `stop` is asked before each retry.
#[cfg(feature = "tokio")]
pub async fn deliver_with_retries_async<F, Fut>(
    mut attempt: F,
    policy: &RetryPolicy,
    stop: &mut (dyn FnMut() -> bool + Send),
) -> (Delivery, u32)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Delivery>,
{
    let mut attempts = 0;
    let mut pause = policy.backoff;
    loop {
        attempts += 1;
        let outcome = attempt().await;
        match outcome {
            Delivery::ReceiversFailed(ref reason) if attempts < policy.max_attempts.max(1) && !stop() => {
                tracing::warn!(attempt = attempts, "retrying an event bus message: {reason}");
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
            }
            outcome => return (outcome, attempts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(receiver: &'static str, result: Result<(), ReceiverError>) -> ReceiverResponse {
        ReceiverResponse { receiver: receiver.into(), result }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("HTTP 422: bad field")]
    struct Refused;

    #[derive(Debug, thiserror::Error)]
    #[error("the webhook failed")]
    struct Wrapping(#[source] NotRetryable);

    #[test]
    fn a_not_retryable_error_refuses_the_message() {
        let refused = ReceiverError::Failed(NotRetryable::new(Refused).into());
        let outcome = judge(Ok(Ok(vec![response("ok", Ok(())), response("webhook", Err(refused))])));
        let Delivery::Refused(reason) = outcome else { panic!("{outcome:?}") };
        assert_eq!(reason, "1 of 2 receivers refused the message, retrying cannot help: webhook: HTTP 422: bad field");

        let wrapped = ReceiverError::Failed(Box::new(Wrapping(NotRetryable::new(Refused))));
        assert!(
            matches!(judge(Ok(Ok(vec![response("webhook", Err(wrapped))]))), Delivery::Refused(_)),
            "through sources"
        );
    }

    #[test]
    fn other_failures_stay_retryable() {
        let busy = ReceiverError::Failed("busy".into());
        let outcome = judge(Ok(Ok(vec![response("webhook", Err(busy))])));
        assert_eq!(
            outcome,
            Delivery::ReceiversFailed("1 of 1 receivers failed: webhook: receiver returned an error: busy".into())
        );
        let panicked = ReceiverError::Panicked("boom".into());
        assert!(matches!(judge(Ok(Ok(vec![response("r", Err(panicked))]))), Delivery::ReceiversFailed(_)));
    }
}
