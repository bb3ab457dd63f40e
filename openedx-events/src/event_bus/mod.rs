//! The event bus: events produced to topics and consumed in other processes, as upstream's
//! `openedx_events.event_bus` and its Redis backend (`edx-event-bus-redis`) do, byte for byte.
//!
//! - [`EventBusProducer`] and [`EventBusConsumer`] are the backends' interfaces.
//! - [`ProducerConfig`] is `EVENT_BUS_PRODUCER_CONFIG`; [`start_producing`] makes `send_event`
//!   produce configured events.
//! - [`InMemoryEventBus`] is a bus inside one process, for tests and single-process use.
//! - With the `redis` feature, the `redis` module is the Redis Streams backend,
//!   which loses nothing: a message is acknowledged only after dispatch, failures are retried,
//!   and what cannot be dispatched goes to a dead-letter stream.

mod config;
mod delivery;
mod memory;
mod message;
mod producing;
#[cfg(feature = "redis")]
pub mod redis;
mod settings;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use config::{ConfigError, ProducerConfig, TopicConfig, merge_producer_configs, resolve_key_field, toml_to_json};
pub use delivery::{Delivery, deliver, deliver_with_retries};
pub use memory::{InMemoryConsumer, InMemoryEventBus, StoredMessage};
pub use message::{FIELD_NAMES, UnusableMessage, message_fields, parse_message_fields};
pub use producing::{PRODUCER_RECEIVER_NAME, ProducingGuard, start_producing};
pub use settings::EventBusSettings;

use crate::metadata::EventsMetadata;
use crate::signal::AnySignal;

/// Sends events to the bus (upstream's `EventBusProducer`).
pub trait EventBusProducer: Send + Sync {
    /// Sends one event to `topic` (without the environment prefix, which the producer adds).
    /// `event_data` is the payload already encoded as schemaless Avro (so that an event produced
    /// to several topics is encoded once); `event_key_field` is the dotted path of the value that
    /// keys it, which backends that partition by key use.
    fn send(
        &self,
        signal: &'static dyn AnySignal,
        topic: &str,
        event_key_field: Option<&str>,
        event_data: &[u8],
        metadata: &EventsMetadata,
    ) -> Result<(), ProduceError>;
}

/// Takes events off the bus and dispatches them to this process's receivers (upstream's
/// `EventBusConsumer`).
pub trait EventBusConsumer {
    /// Consumes until shut down (through its [`ShutdownHandle`]) or until it gives up after too
    /// many consecutive errors.
    fn consume_indefinitely(&mut self) -> Result<(), ConsumeError>;
}

/// Why an event could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProduceError {
    /// The backend failed (Redis down, say).
    #[error("cannot produce `{event_type}` to `{topic}`: {reason}")]
    Backend {
        /// The event type.
        event_type: String,
        /// The full topic.
        topic: String,
        /// What the backend said.
        reason: String,
    },
    /// The backend is not configured (no Redis URL, say).
    #[error("the event bus is not configured: {0}")]
    NotConfigured(String),
    /// Several topics failed.
    #[error("{} topics failed: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<ProduceError>),
}

/// Why a consumer stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumeError {
    /// The consumer is not configured (no Redis URL, say).
    #[error("the event bus consumer is not configured: {0}")]
    NotConfigured(String),
    /// Too many errors in a row (`EVENT_BUS_REDIS_CONSUMER_CONSECUTIVE_ERRORS_LIMIT`).
    #[error("the consumer gave up after {count} consecutive errors; the last: {last}")]
    TooManyErrors {
        /// How many.
        count: u32,
        /// The last one.
        last: String,
    },
    /// The backend failed in a way retrying cannot fix.
    #[error("the event bus backend failed: {0}")]
    Backend(String),
}

/// Stops a running consumer from another thread: it finishes the message in hand and
/// acknowledges it if it was delivered (a message still being retried is left pending for the
/// next consumer), then returns.
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

/// The stream where messages that cannot be dispatched are kept: `{stream}-dead-letter`.
pub fn dead_letter_stream(full_topic: &str) -> String {
    format!("{full_topic}-dead-letter")
}
