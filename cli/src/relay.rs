//! `openedx-events relay`: publishes the transactional outbox's rows to the event bus (Redis, or
//! Kafka with `--bus kafka`), or with `--status` says what waits in the outbox; `--redrive` puts
//! parked rows back in line.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use openedx_events::event_bus::EventBusProducer;
use openedx_events_outbox::{OutboxStatus, Relay};
use openedx_events_redis::RedisProducer;
use serde_json::json;

use crate::bus::Connection;
use crate::error::CliError;

/// Which bus the relay produces to, and where it is.
#[derive(Debug)]
pub(crate) enum RelayBus {
    /// Redis Streams (the default).
    Redis(Connection),
    /// Kafka and its schema registry (`--bus kafka`).
    #[cfg(feature = "kafka")]
    Kafka(crate::kafka::KafkaConnection),
}

impl RelayBus {
    /// The producer, and the bus's name for the notes.
    fn producer(&self) -> Result<(Arc<dyn EventBusProducer>, &'static str), CliError> {
        match self {
            RelayBus::Redis(connection) => {
                let producer = RedisProducer::new(connection.settings()?).map_err(outbox_error)?;
                Ok((Arc::new(producer), "Redis"))
            }
            #[cfg(feature = "kafka")]
            RelayBus::Kafka(connection) => {
                let producer =
                    openedx_events_kafka::KafkaProducer::new(connection.settings()?).map_err(outbox_error)?;
                Ok((Arc::new(producer), "Kafka"))
            }
        }
    }
}

/// What `relay` was asked to do.
#[derive(Debug)]
pub(crate) struct RelayOptions {
    /// `--database-url`, over `DATABASE_URL`.
    pub(crate) database_url: Option<String>,
    /// `--topic`: the topics to relay; none for all.
    pub(crate) topics: Vec<String>,
    /// `--batch-size`.
    pub(crate) batch_size: usize,
    /// `--max-attempts`.
    pub(crate) max_attempts: u32,
    /// `--retention`, in seconds.
    pub(crate) retention: Option<u64>,
    /// `--status`: print the outbox's state and exit.
    pub(crate) status: bool,
    /// `--json`, with `--status`.
    pub(crate) json: bool,
    /// `--redrive`: put every parked row back in line and exit.
    pub(crate) redrive: bool,
    /// `--migrate`: create (or update) the outbox table first.
    pub(crate) migrate: bool,
}

fn outbox_error(error: impl std::fmt::Display) -> CliError {
    CliError::Outbox(error.to_string())
}

/// Runs the command.
pub(crate) fn relay(
    bus: &RelayBus,
    options: &RelayOptions,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<(), CliError> {
    let url = options
        .database_url
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .filter(|url| !url.is_empty())
        .ok_or_else(|| {
            CliError::BusSettings("no PostgreSQL URL; pass `--database-url` or set `DATABASE_URL`".into())
        })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| CliError::Outbox(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy(&url)
            .map_err(|error| CliError::BusSettings(format!("invalid PostgreSQL URL: {error}")))?;
        if options.migrate {
            openedx_events_outbox::migrate(&pool).await.map_err(outbox_error)?;
        }
        if options.status {
            let status = openedx_events_outbox::status(&pool).await.map_err(outbox_error)?;
            return print_status(&status, options.json, out);
        }
        if options.redrive {
            let n = openedx_events_outbox::redrive(&pool, None).await.map_err(outbox_error)?;
            writeln!(out, "re-drove {n} parked rows").map_err(CliError::Output)?;
            return Ok(());
        }
        let (producer, bus_name) = bus.producer()?;
        let mut builder = Relay::builder(pool, producer)
            .batch_size(options.batch_size)
            .max_attempts(options.max_attempts)
            .topics(options.topics.iter().cloned());
        if let Some(seconds) = options.retention {
            builder = builder.retention(Duration::from_secs(seconds));
        }
        let _ = writeln!(notes, "relaying the outbox to {bus_name}; Ctrl-C stops");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        builder.build().run(shutdown).await.map_err(outbox_error)
    })
}

fn print_status(status: &OutboxStatus, as_json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let age = |age: Option<Duration>| age.map(|a| a.as_secs_f64());
    if as_json {
        let topics: Vec<_> = status
            .topics
            .iter()
            .map(|t| {
                json!({"topic": t.topic, "pending": t.pending, "parked": t.parked, "published": t.published,
                       "oldest_pending_seconds": age(t.oldest_pending_age)})
            })
            .collect();
        let value = json!({"pending": status.pending, "parked": status.parked, "published": status.published,
                           "oldest_pending_seconds": age(status.oldest_pending_age), "topics": topics});
        writeln!(out, "{value}").map_err(CliError::Output)?;
        return Ok(());
    }
    let seconds = |age: Option<Duration>| age.map_or_else(|| "-".to_owned(), |a| format!("{:.1}s", a.as_secs_f64()));
    writeln!(out, "{:<40} {:>10} {:>8} {:>10} {:>10}", "TOPIC", "PENDING", "PARKED", "PUBLISHED", "OLDEST")
        .map_err(CliError::Output)?;
    for t in &status.topics {
        writeln!(
            out,
            "{:<40} {:>10} {:>8} {:>10} {:>10}",
            t.topic,
            t.pending,
            t.parked,
            t.published,
            seconds(t.oldest_pending_age)
        )
        .map_err(CliError::Output)?;
    }
    writeln!(
        out,
        "{:<40} {:>10} {:>8} {:>10} {:>10}",
        "(all)",
        status.pending,
        status.parked,
        status.published,
        seconds(status.oldest_pending_age)
    )
    .map_err(CliError::Output)
}
