//! The event bus layer every backend shares: events produced to topics and consumed in other
//! processes, as upstream's `openedx_events.event_bus` does.
//!
//! - [`EventBusProducer`] and [`EventBusConsumer`] are what a backend implements; an
//!   [`OutgoingMessage`] is what a producer is handed. The backends are crates of their own
//!   (`openedx-events-redis`), so that this crate knows none of them.
//! - [`ProducerConfig`] is `EVENT_BUS_PRODUCER_CONFIG`; [`start_producing`] makes `send_event`
//!   produce configured events, when their [`ProducerMode`] says (`EVENT_BUS_PRODUCER_MODE`).
//! - The message's metadata travels as [header values](MetadataHeader), the same on every
//!   backend; [`deliver`] dispatches a received message and judges the outcome, and
//!   [`deliver_with_retries`] retries it by a [`RetryPolicy`]; what cannot be dispatched goes to
//!   the topic's [dead-letter topic](dead_letter_topic).
//! - [`InMemoryEventBus`] is a bus inside one process, for tests and single-process use.

mod background;
mod config;
mod delivery;
mod error;
mod memory;
mod message;
mod mode;
mod producing;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use crate::event_key::{EventKey, KeyValue};
pub use background::{BackgroundProducer, BackgroundProducerBuilder, BackgroundStats};
#[cfg(feature = "toml")]
pub use config::toml_to_json;
pub use config::{
    ConfigError, ConfigErrors, KeyFieldError, ProducerConfig, TopicConfig, can_key, merge_producer_configs,
    resolve_key_field,
};
#[cfg(feature = "tokio")]
pub use delivery::deliver_with_retries_async;
pub use delivery::{
    Delivery, NotRetryable, ReceivedEvent, deliver, deliver_async, deliver_fields, deliver_fields_async,
    deliver_with_retries, message_event_key,
};
pub use error::{ConsumeError, ProduceError};
pub use memory::{InMemoryConsumer, InMemoryEventBus, StoredMessage};
pub use message::{
    FIELD_NAMES, MetadataHeader, UnusableMessage, header_values, message_fields, metadata_from_headers,
    parse_message_fields,
};
pub use mode::{CaptureOutgoing, CapturedMessage, ProducerMode, UnknownMode, capture_outgoing};
pub use producing::{PRODUCER_RECEIVER_NAME, ProducingGuard, start_producing};

use crate::metadata::EventsMetadata;
use crate::signal::AnySignal;

/// One event on its way to one topic, as a producer is handed it.
///
/// The payload is already encoded as schemaless Avro, so that an event produced to several
/// topics is encoded once.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct OutgoingMessage<'a> {
    /// The event's signal: its type, schema and key field.
    pub signal: &'static dyn AnySignal,
    /// The topic, without the environment prefix (which the producer adds).
    pub topic: &'a str,
    /// The dotted path of the value that keys the event on this topic.
    pub event_key_field: Option<&'a str>,
    /// The value at that path, which backends that partition by key (Kafka) send as the
    /// message's key; `None` without a key field.
    pub event_key: Option<&'a EventKey>,
    /// The payload as schemaless Avro.
    pub event_data: &'a [u8],
    /// The event's metadata.
    pub metadata: &'a EventsMetadata,
}

impl<'a> OutgoingMessage<'a> {
    /// A message of `signal`'s event for `topic`, without a key; see
    /// [`with_key`](Self::with_key).
    pub fn new(
        signal: &'static dyn AnySignal,
        topic: &'a str,
        event_key_field: Option<&'a str>,
        event_data: &'a [u8],
        metadata: &'a EventsMetadata,
    ) -> Self {
        OutgoingMessage { signal, topic, event_key_field, event_key: None, event_data, metadata }
    }

    /// The message with this key (the value at its key field).
    pub fn with_key(mut self, event_key: Option<&'a EventKey>) -> Self {
        self.event_key = event_key;
        self
    }
}

/// Sends events to the bus (upstream's `EventBusProducer`).
pub trait EventBusProducer: Send + Sync {
    /// Sends one event to its topic, returning once the bus has it (or has refused it). It may
    /// block the calling thread on the network: the background producer calls it from a thread
    /// of its own, never from the thread that sent the event.
    fn send(&self, message: &OutgoingMessage<'_>) -> Result<(), ProduceError>;

    /// Sends several events, in order, with as few round trips as the backend allows; one
    /// outcome per message, in the same order. By default, one [`send`](Self::send) after the
    /// other.
    fn send_batch(&self, messages: &[OutgoingMessage<'_>]) -> Vec<Result<(), ProduceError>> {
        messages.iter().map(|message| self.send(message)).collect()
    }

    /// Waits, up to `timeout`, until everything sent so far has reached the bus. Producers that
    /// send before `send` returns have nothing to wait for.
    fn flush(&self, timeout: Duration) -> Result<(), ProduceError> {
        let _ = timeout;
        Ok(())
    }
}

/// Takes events off the bus and dispatches them to this process's receivers (upstream's
/// `EventBusConsumer`).
pub trait EventBusConsumer {
    /// Consumes until shut down (through its [`shutdown_handle`](Self::shutdown_handle)) or
    /// until it gives up after too many consecutive errors.
    fn consume_indefinitely(&mut self) -> Result<(), ConsumeError>;

    /// A handle that stops [`consume_indefinitely`](Self::consume_indefinitely) from another
    /// thread.
    fn shutdown_handle(&self) -> ShutdownHandle;
}

/// Stops a running consumer from another thread: it finishes the message in hand and
/// acknowledges it if it was delivered (a message still being retried is left for the next
/// consumer), then returns.
#[derive(Debug, Clone, Default)]
pub struct ShutdownHandle(Arc<AtomicBool>);

impl ShutdownHandle {
    /// Asks the consumer to stop.
    pub fn shutdown(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_shutdown(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How a consumer retries a message whose receivers fail, before it dead-letters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How often a message is dispatched in all before it is dead-lettered; 3 by default.
    pub max_attempts: u32,
    /// The pause before the first retry; it doubles for each retry after. 100 ms by default.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 3, backoff: Duration::from_millis(100) }
    }
}

/// The topic as the bus names it: `{prefix}-{topic}` when the environment has a prefix
/// (upstream's `EVENT_BUS_TOPIC_PREFIX`).
pub fn full_topic(prefix: Option<&str>, topic: &str) -> String {
    match prefix {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}-{topic}"),
        _ => topic.to_owned(),
    }
}

/// Where the messages of a (full) topic that cannot be dispatched are kept:
/// `{full_topic}-dead-letter`.
pub fn dead_letter_topic(full_topic: &str) -> String {
    format!("{full_topic}-dead-letter")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_take_the_prefix_with_a_hyphen() {
        assert_eq!(full_topic(None, "user-login"), "user-login");
        assert_eq!(full_topic(Some(""), "user-login"), "user-login");
        assert_eq!(full_topic(Some("stage"), "user-login"), "stage-user-login");
        assert_eq!(dead_letter_topic("stage-user-login"), "stage-user-login-dead-letter");
    }
}
