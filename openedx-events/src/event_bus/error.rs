//! The errors of producing and consuming, whatever the backend: each keeps its cause and says
//! whether trying again can help.

use crate::dispatch::BoxError;
use crate::signal::CodecError;

/// Why an event could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProduceError {
    /// The backend failed: the bus refused the connection, timed out, or rejected the message.
    #[error("cannot produce `{event_type}` to `{topic}`: {source}")]
    Backend {
        /// The event type (or a count, for a batch).
        event_type: String,
        /// The full topic.
        topic: String,
        /// Whether the same message may go through if sent again later (the bus was unreachable
        /// or busy), rather than never (it was rejected).
        retryable: bool,
        /// What the backend said.
        #[source]
        source: BoxError,
    },
    /// The backend is not configured (no Redis URL, say); retrying cannot help.
    #[error("the event bus is not configured: {0}")]
    NotConfigured(String),
    /// The event could not be encoded for the bus.
    #[error("cannot encode the event for the bus: {0}")]
    Codec(#[from] CodecError),
    /// The background producer's queue is full: the bus has been unreachable or slow for a
    /// while. The event is not queued (it was logged); trying again later may succeed.
    #[error("the background producer's queue is full ({capacity} messages waiting for the event bus)")]
    QueueFull {
        /// How many messages the queue holds.
        capacity: usize,
    },
    /// The event's mode is `outbox`, but it was sent outside a transaction (not through the
    /// outbox), so there is no outbox row to write; it was logged, and not produced.
    #[error("`{event_type}` is produced through the outbox, but was sent outside a transaction")]
    OutsideTransaction {
        /// The event type.
        event_type: String,
    },
    /// Several topics failed.
    #[error("{} topics failed: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<ProduceError>),
}

impl ProduceError {
    /// A failure of the backend for one message.
    pub fn backend(
        event_type: impl Into<String>,
        topic: impl Into<String>,
        retryable: bool,
        source: impl Into<BoxError>,
    ) -> Self {
        ProduceError::Backend { event_type: event_type.into(), topic: topic.into(), retryable, source: source.into() }
    }

    /// Whether sending the same message again later may succeed: true for a bus that was
    /// unreachable or busy; false for a message that can never be produced (not configured, not
    /// encodable, rejected). Several failures are retryable if any is.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProduceError::Backend { retryable, .. } => *retryable,
            ProduceError::QueueFull { .. } => true,
            ProduceError::NotConfigured(_) | ProduceError::Codec(_) | ProduceError::OutsideTransaction { .. } => false,
            ProduceError::Several(all) => all.iter().any(ProduceError::is_retryable),
        }
    }
}

/// Why a consumer stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumeError {
    /// The consumer is not configured (no Redis URL, say); retrying cannot help.
    #[error("the event bus consumer is not configured: {0}")]
    NotConfigured(String),
    /// Too many errors in a row (upstream's `..._CONSUMER_CONSECUTIVE_ERRORS_LIMIT`).
    #[error("the consumer gave up after {count} consecutive errors; the last: {last}")]
    TooManyErrors {
        /// How many.
        count: u32,
        /// The last one.
        #[source]
        last: BoxError,
    },
    /// The backend failed.
    #[error("the event bus backend failed: {source}")]
    Backend {
        /// Whether the same call may succeed later (the bus was unreachable), rather than never.
        retryable: bool,
        /// What the backend said.
        #[source]
        source: BoxError,
    },
}

impl ConsumeError {
    /// A failure of the backend.
    pub fn backend(retryable: bool, source: impl Into<BoxError>) -> Self {
        ConsumeError::Backend { retryable, source: source.into() }
    }

    /// Whether starting the consumer again later may succeed: true when the bus was unreachable
    /// (also after too many errors in a row), false when it is not configured or refused for
    /// good.
    pub fn is_retryable(&self) -> bool {
        match self {
            ConsumeError::NotConfigured(_) => false,
            ConsumeError::TooManyErrors { .. } => true,
            ConsumeError::Backend { retryable, .. } => *retryable,
        }
    }
}
