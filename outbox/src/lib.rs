//! Nothing lost on the way out: a transactional outbox in PostgreSQL for openedx-events, and its
//! relay to any event bus.
//!
//! - [`OutboxExt::in_transaction`] sends an event inside a sqlx transaction: receivers run as
//!   `send_event` runs them, and the event's bus messages are written into the outbox table in
//!   that same transaction. Rolled back: nothing is ever produced. Committed: the relay
//!   produces it to every configured topic.
//! - [`Relay`] publishes the rows to any [`EventBusProducer`](openedx_events::event_bus::EventBusProducer)
//!   (Redis, Kafka), in order per (topic, key), with one leader per topic.
//! - [`status`], [`parked`] and [`redrive`] are for operators; the relay also reports through the
//!   `metrics` facade.
//! - [`SpoolingProducer`] is the embedded choice for services without PostgreSQL: what the bus
//!   cannot take now goes to a local SQLite file, and from there to the bus, in order, later.
//! - [`MIGRATOR`] (or [`migrate`]) creates the table; its layout is in the guide.
//!
//! ```no_run
//! use openedx_events::event_bus::{ProducerConfig, ProducerMode, start_producing};
//! use openedx_events::{EventData, openedx_event};
//! use openedx_events_outbox::OutboxExt;
//! # use std::sync::Arc;
//!
//! #[openedx_event(name = ORDER_PLACED, event_type = "org.openedx.example.order.placed.v1", key_field = "order_id")]
//! #[derive(Clone, Debug)]
//! pub struct OrderPlaced {
//!     pub order_id: String,
//! }
//!
//! # async fn run(producer: Arc<dyn openedx_events::event_bus::EventBusProducer>) -> Result<(), Box<dyn std::error::Error>> {
//! let pool = sqlx::PgPool::connect("postgres://postgres@127.0.0.1/test").await?;
//! openedx_events_outbox::migrate(&pool).await?;
//! let config = ProducerConfig::from_json(
//!     r#"{"org.openedx.example.order.placed.v1": {"orders": {"event_key_field": "order_id", "enabled": true}}}"#,
//! )?
//! .with_default_mode(ProducerMode::Outbox);
//! let _producing = start_producing(&config, producer);
//!
//! let mut tx = pool.begin().await?;
//! sqlx::query("INSERT INTO orders (id) VALUES ($1)").bind("o-1").execute(&mut *tx).await?;
//! ORDER_PLACED.event(OrderPlaced { order_id: "o-1".into() }).in_transaction(&mut tx).send_async().await?;
//! tx.commit().await?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod error;
mod relay;
mod row;
mod send;
mod spool;
mod status;

pub use crate::error::OutboxError;
pub use crate::relay::{Relay, RelayBuilder, RelaySettings, RoundOutcome};
pub use crate::send::{InTransaction, OutboxExt, write_messages};
pub use crate::spool::{SpoolError, SpoolStats, SpoolingProducer, SpoolingProducerBuilder};
pub use crate::status::{OutboxStatus, ParkedRow, TopicStatus, parked, publish_metrics, redrive, status};

/// The outbox's migrations (the table `openedx_events_outbox` and its indexes), for
/// `MIGRATOR.run(&pool)` or to combine with a service's own.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Runs the outbox's migrations on the pool's database (in the connections' `search_path`).
pub async fn migrate(pool: &sqlx::PgPool) -> Result<(), OutboxError> {
    MIGRATOR.run(pool).await.map_err(|error| match error {
        sqlx::migrate::MigrateError::Execute(inner) => OutboxError::from(inner),
        other => OutboxError::Migrate(other),
    })
}
