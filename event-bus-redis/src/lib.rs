//! The Redis Streams backend, wire-compatible with `edx-event-bus-redis`, and more careful than
//! it: nothing is acknowledged before it is dispatched, receivers' failures are retried, and
//! what cannot be dispatched is moved to `{stream}-dead-letter`, never dropped.
//!
//! A topic is a stream. The producer adds each event with `XADD {topic} MAXLEN ~ {max_len} *`
//! and upstream's fields. A consumer reads as a member of a consumer group:
//!
//! 1. On start, and whenever [`claim_idle_time`](RedisSettings::claim_idle_time) has passed,
//!    it first takes back what is pending: its own unacknowledged messages (it crashed) and those
//!    of group members idle for longer than that time (they crashed), with `XCLAIM` /
//!    `XAUTOCLAIM`. A message already delivered more than `max_attempts` times is dead-lettered
//!    without another try, so a message that crashes its consumer cannot loop forever.
//! 2. Then it reads new messages in batches with `XREADGROUP ... >`. Consuming indefinitely, it
//!    asks for the next batch while it dispatches a full one, so that Redis reads on its core
//!    while this process dispatches on another. A consumer stopped meanwhile leaves that batch
//!    pending to its name: a consumer of the same name takes it back first thing when it starts,
//!    others after `claim_idle_time`.
//! 3. Each message is dispatched, retried while receivers fail, and acknowledged only after it
//!    was delivered or dead-lettered.
//!
//! A new group starts at the end of the stream, at its beginning or at a given id
//! ([`StartFrom`]); an existing group resumes where it left off, so what was produced while its
//! consumers were down is processed when they come back.

//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use openedx_events::event_bus::{EventBusConsumer, ProducerConfig, start_producing};
//! use openedx_events_redis::{RedisConsumer, RedisProducer, RedisSettings, StartFrom};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // EVENT_BUS_REDIS_CONNECTION_URL, EVENT_BUS_TOPIC_PREFIX, ... as upstream names them.
//! let settings = RedisSettings::from_env()?;
//!
//! // Producing: configured events that `send_event` sends also go to their streams.
//! if let Some(config) = ProducerConfig::from_env()? {
//!     let _producing = start_producing(&config, Arc::new(RedisProducer::new(settings.clone())?));
//! }
//!
//! // Consuming: dispatches each event of the stream to this process's receivers.
//! let mut consumer = RedisConsumer::builder(settings)
//!     .topic("course-enrollment")
//!     .group("my-service")
//!     .consumer_name("my-service-1")
//!     .start(StartFrom::End)
//!     .build()?;
//! consumer.consume_indefinitely()?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

#[cfg(feature = "tokio")]
mod async_consumer;
mod consumer;
mod dead_letters;
mod fast;
mod lanes;
mod producer;
mod protocol;
mod reply;
mod resp;
mod settings;

use std::time::Duration;

use redis::{Client, Connection, ErrorKind, RedisError, RedisResult, RetryMethod};

#[cfg(feature = "tokio")]
pub use crate::async_consumer::AsyncRedisConsumer;
pub use crate::consumer::{ConsumerStats, RedisConsumer, RedisConsumerBuilder, StartFrom};
pub use crate::dead_letters::{
    DeadLetter, dead_letters, dead_letters_by_id, delete_dead_letters, redrive, redrive_ids,
};
pub use crate::producer::RedisProducer;
pub use crate::reply::StreamEntry;
pub use crate::settings::{ENV_VARS, RedisSettings, RedisUrl, redact_url};

/// How long connecting and ordinary commands may take before they count as a failure.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for the settings' URL; the error says what is missing or wrong, without the password.
fn client(settings: &RedisSettings) -> Result<Client, String> {
    let url = settings.url.as_ref().ok_or("no Redis URL (set EVENT_BUS_REDIS_CONNECTION_URL)")?;
    // Only the category: redis-rs's message may quote the URL.
    Client::open(url.expose()).map_err(|e| format!("invalid Redis URL {url}: {}", e.category()))
}

fn connect(client: &Client, read_timeout: Duration) -> RedisResult<Connection> {
    let connection = client.get_connection_with_timeout(COMMAND_TIMEOUT)?;
    connection.set_read_timeout(Some(read_timeout))?;
    connection.set_write_timeout(Some(COMMAND_TIMEOUT))?;
    Ok(connection)
}

/// Whether the same command may succeed if tried again later: the server was unreachable, the
/// connection dropped or timed out, or the server said to try again (it is loading, or a
/// cluster is moving slots); not when the credentials or the configuration are wrong, or the
/// command was refused.
fn is_retryable(error: &RedisError) -> bool {
    match error.kind() {
        ErrorKind::AuthenticationFailed | ErrorKind::InvalidClientConfig => false,
        _ => error.is_timeout() || !matches!(error.retry_method(), RetryMethod::NoRetry),
    }
}
