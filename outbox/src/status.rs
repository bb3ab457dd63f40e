//! What is waiting in the outbox: depth, parked rows and the age of the oldest pending row,
//! per topic; the same through the `metrics` facade, and the parked rows and their re-drive.

use std::time::Duration;

use sqlx::{PgPool, Row as _};

use crate::OutboxError;

/// The state of the outbox ([`status`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct OutboxStatus {
    /// Rows waiting to be relayed (not parked).
    pub pending: u64,
    /// Parked rows, waiting for a re-drive.
    pub parked: u64,
    /// Published rows kept for the retention.
    pub published: u64,
    /// How long the oldest pending row has waited.
    pub oldest_pending_age: Option<Duration>,
    /// The same per topic, by topic name.
    pub topics: Vec<TopicStatus>,
}

/// One topic's part of [`OutboxStatus`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TopicStatus {
    /// The topic, without the environment prefix.
    pub topic: String,
    /// Rows waiting to be relayed.
    pub pending: u64,
    /// Parked rows.
    pub parked: u64,
    /// Published rows kept.
    pub published: u64,
    /// How long its oldest pending row has waited.
    pub oldest_pending_age: Option<Duration>,
}

/// Counts the outbox's rows (one scan of the table).
pub async fn status(pool: &PgPool) -> Result<OutboxStatus, OutboxError> {
    let rows = sqlx::query(
        "SELECT topic, \
           count(*) FILTER (WHERE NOT parked AND published_at IS NULL) AS pending, \
           count(*) FILTER (WHERE parked) AS parked, \
           count(*) FILTER (WHERE published_at IS NOT NULL) AS published, \
           extract(epoch FROM now() - min(created_at) FILTER (WHERE NOT parked AND published_at IS NULL))::float8 AS age \
         FROM openedx_events_outbox GROUP BY topic ORDER BY topic",
    )
    .fetch_all(pool)
    .await?;
    let mut status = OutboxStatus::default();
    for row in rows {
        let count = |name: &str| row.try_get::<i64, _>(name).map(|n| u64::try_from(n).unwrap_or(0));
        let age: Option<f64> = row.try_get("age")?;
        let topic = TopicStatus {
            topic: row.try_get("topic")?,
            pending: count("pending")?,
            parked: count("parked")?,
            published: count("published")?,
            oldest_pending_age: age.map(|secs| Duration::from_secs_f64(secs.max(0.0))),
        };
        status.pending += topic.pending;
        status.parked += topic.parked;
        status.published += topic.published;
        status.oldest_pending_age = status.oldest_pending_age.max(topic.oldest_pending_age);
        status.topics.push(topic);
    }
    Ok(status)
}

/// Sets the gauges `openedx_events_outbox_pending`, `openedx_events_outbox_parked` and
/// `openedx_events_outbox_oldest_pending_seconds` (each also per `topic` label). The relay calls
/// it each housekeeping round; its counters are `openedx_events_outbox_relayed_total`,
/// `openedx_events_outbox_failures_total` and `openedx_events_outbox_parked_total`.
pub fn publish_metrics(status: &OutboxStatus) {
    metrics::gauge!("openedx_events_outbox_pending").set(status.pending as f64);
    metrics::gauge!("openedx_events_outbox_parked").set(status.parked as f64);
    metrics::gauge!("openedx_events_outbox_oldest_pending_seconds")
        .set(status.oldest_pending_age.unwrap_or_default().as_secs_f64());
    for topic in &status.topics {
        let label = topic.topic.clone();
        metrics::gauge!("openedx_events_outbox_pending", "topic" => label.clone()).set(topic.pending as f64);
        metrics::gauge!("openedx_events_outbox_parked", "topic" => label.clone()).set(topic.parked as f64);
        metrics::gauge!("openedx_events_outbox_oldest_pending_seconds", "topic" => label)
            .set(topic.oldest_pending_age.unwrap_or_default().as_secs_f64());
    }
}

/// A parked row: what it is and why it was parked.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParkedRow {
    /// The row id.
    pub id: i64,
    /// Its topic.
    pub topic: String,
    /// Its event type.
    pub event_type: String,
    /// Its event id.
    pub event_id: uuid::Uuid,
    /// Its key, as text.
    pub event_key: Option<String>,
    /// How often it was tried.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
}

/// The parked rows, oldest first.
pub async fn parked(pool: &PgPool) -> Result<Vec<ParkedRow>, OutboxError> {
    let rows = sqlx::query(
        "SELECT id, topic, event_type, event_id, event_key, attempts, last_error FROM openedx_events_outbox \
         WHERE parked ORDER BY xact_id, id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ParkedRow {
                id: row.try_get("id")?,
                topic: row.try_get("topic")?,
                event_type: row.try_get("event_type")?,
                event_id: row.try_get("event_id")?,
                event_key: row.try_get("event_key")?,
                attempts: row.try_get("attempts")?,
                last_error: row.try_get("last_error")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OutboxError::from)
}

/// Puts parked rows back in line (all of them with `None`), with their attempts reset; returns
/// how many. A re-driven row keeps its place in the order of its transaction.
pub async fn redrive(pool: &PgPool, ids: Option<&[i64]>) -> Result<u64, OutboxError> {
    let done = sqlx::query(
        "UPDATE openedx_events_outbox SET parked = false, attempts = 0, next_attempt_at = NULL \
         WHERE parked AND ($1::bigint[] IS NULL OR id = ANY($1))",
    )
    .bind(ids.map(<[i64]>::to_vec))
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
