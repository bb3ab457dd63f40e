//! The relay: publishes outbox rows to an event bus, in order per (topic, key), one leader per
//! topic.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openedx_events::event_bus::{EventBusProducer, ProduceError};
use sqlx::postgres::PgConnection;
use sqlx::{Connection as _, PgPool};

use crate::OutboxError;
use crate::row::{PendingRow, PreparedRow};
use crate::status::{publish_metrics, status};

/// How a [`Relay`] works; see each setter of [`RelayBuilder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RelaySettings {
    /// Rows read (and produced in one batch) at most per round.
    pub batch_size: usize,
    /// The pause when there is nothing to relay.
    pub poll_interval: Duration,
    /// Failures of a row the bus rejected (not retryable) before it is parked.
    pub max_attempts: u32,
    /// The pause before a failed row is tried again; it doubles with each attempt.
    pub backoff: Duration,
    /// The longest pause between two attempts.
    pub max_backoff: Duration,
    /// How long published rows are kept; `None` deletes them once the bus has them.
    pub retention: Option<Duration>,
    /// The topics to relay; empty for every topic in the table.
    pub topics: Vec<String>,
    /// How often the relay looks for topics without a leader, refreshes the metrics and purges
    /// rows past their retention.
    pub housekeeping_interval: Duration,
    /// How long to wait for the producer to flush a batch.
    pub flush_timeout: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            batch_size: 1000,
            poll_interval: Duration::from_millis(50),
            max_attempts: 5,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            retention: None,
            topics: Vec::new(),
            housekeeping_interval: Duration::from_secs(1),
            flush_timeout: Duration::from_secs(30),
        }
    }
}

/// Builds a [`Relay`].
#[must_use = "a builder does nothing until `build`"]
pub struct RelayBuilder {
    pool: PgPool,
    producer: Arc<dyn EventBusProducer>,
    settings: RelaySettings,
}

impl std::fmt::Debug for RelayBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayBuilder").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl RelayBuilder {
    /// Rows per round, 1000 by default.
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.settings.batch_size = rows.max(1);
        self
    }

    /// The pause when there is nothing to relay, 50 ms by default.
    pub fn poll_interval(mut self, pause: Duration) -> Self {
        self.settings.poll_interval = pause;
        self
    }

    /// Attempts of a rejected row before it is parked, 5 by default. A row that fails because the
    /// bus is unreachable is retried until the bus is back, never parked.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.settings.max_attempts = attempts.max(1);
        self
    }

    /// The first pause before a failed row is tried again (200 ms by default) and the longest
    /// (5 s by default).
    pub fn backoff(mut self, first: Duration, max: Duration) -> Self {
        self.settings.backoff = first;
        self.settings.max_backoff = max.max(first);
        self
    }

    /// Keeps published rows for this long (marked `published_at`) before purging them; by
    /// default they are deleted once the bus has them.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.settings.retention = Some(retention);
        self
    }

    /// Relays only these topics (by default every topic in the table).
    pub fn topics<S: Into<String>>(mut self, topics: impl IntoIterator<Item = S>) -> Self {
        self.settings.topics = topics.into_iter().map(Into::into).collect();
        self
    }

    /// How often leadership, metrics and retention are seen to; 1 s by default.
    pub fn housekeeping_interval(mut self, interval: Duration) -> Self {
        self.settings.housekeeping_interval = interval;
        self
    }

    /// The relay.
    pub fn build(self) -> Relay {
        Relay {
            pool: self.pool,
            producer: self.producer,
            settings: self.settings,
            locks: None,
            led: Vec::new(),
            last_housekeeping: None,
        }
    }
}

/// What one [`Relay::run_once`] round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoundOutcome {
    /// Rows the bus acknowledged (and that were deleted or marked published).
    pub relayed: usize,
    /// Rows that failed this round (to be retried, or parked).
    pub failed: usize,
    /// Rows parked this round.
    pub parked: usize,
    /// Topics this relay leads.
    pub leading: usize,
}

/// Publishes outbox rows to an event bus ([`EventBusProducer`]: Redis, Kafka, or any other).
///
/// - **Commit-visibility fence**: it reads only rows written by transactions below the oldest
///   one still running (`xact_id < pg_snapshot_xmin(pg_current_snapshot())`), ordered by
///   transaction id then row id. Every transaction below that bound has ended, so no row can
///   appear later behind the relay's position: none is skipped and none overtakes another,
///   whatever order transactions commit in. (A long-running transaction holds the relay back
///   until it ends.)
/// - **One leader per topic**: a topic is relayed only by the relay holding its session-level
///   advisory lock (`pg_try_advisory_lock`), on a connection of its own; several relays can run
///   for availability, and one takes over a topic within a housekeeping interval after its
///   leader dies. Rows are never locked, so no lock is held across the call to the bus.
/// - **Failures**: a failed row is tried again with a doubling pause; until it succeeds, the
///   later rows of its (topic, key) wait, and other keys flow. A row the bus rejects (an error
///   that is not retryable) is parked after `max_attempts`, kept with its error and attempts,
///   and can be [re-driven](crate::redrive); one that fails because the bus is unreachable
///   waits for the bus, and is never parked.
/// - **Acknowledged rows** are deleted, or marked published and purged after the retention.
/// - **Metrics**, through the `metrics` facade: see [`crate::status`].
pub struct Relay {
    pool: PgPool,
    producer: Arc<dyn EventBusProducer>,
    settings: RelaySettings,
    /// The connection holding this relay's advisory locks; dropping it releases them.
    locks: Option<PgConnection>,
    led: Vec<String>,
    last_housekeeping: Option<Instant>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").field("settings", &self.settings).field("leading", &self.led).finish_non_exhaustive()
    }
}

impl Relay {
    /// A builder for a relay reading the outbox through `pool` and producing with `producer`.
    pub fn builder(pool: PgPool, producer: Arc<dyn EventBusProducer>) -> RelayBuilder {
        RelayBuilder { pool, producer, settings: RelaySettings::default() }
    }

    /// Its settings.
    pub fn settings(&self) -> &RelaySettings {
        &self.settings
    }

    /// The topics it leads now.
    pub fn leading(&self) -> &[String] {
        &self.led
    }

    /// Relays until `shutdown` resolves; the batch in hand is finished first. Database errors
    /// are logged and retried with a pause (leadership is given up and taken again), so the
    /// relay outlives a database restart.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<(), OutboxError> {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut pause = self.settings.poll_interval;
        loop {
            let idle = match self.run_once().await {
                Ok(outcome) => {
                    pause = self.settings.poll_interval;
                    outcome.relayed == 0 && outcome.failed == 0
                }
                Err(OutboxError::MissingTable(error)) => return Err(OutboxError::MissingTable(error)),
                Err(error) => {
                    tracing::warn!("the outbox relay failed a round, trying again in {pause:?}: {error}");
                    self.locks = None;
                    self.led.clear();
                    pause = (pause * 2).clamp(self.settings.poll_interval, Duration::from_secs(5));
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    () = tokio::time::sleep(pause) => {}
                }
            } else if futures_ready(&mut shutdown) {
                return Ok(());
            }
        }
    }

    /// One round: sees to leadership (and metrics and retention) when due, reads a batch of
    /// visible rows of the topics it leads, produces them, and records the outcome.
    pub async fn run_once(&mut self) -> Result<RoundOutcome, OutboxError> {
        let due = self.last_housekeeping.is_none_or(|at| at.elapsed() >= self.settings.housekeeping_interval);
        if due {
            self.housekeeping().await?;
            self.last_housekeeping = Some(Instant::now());
        }
        let mut outcome = RoundOutcome { leading: self.led.len(), ..RoundOutcome::default() };
        if self.led.is_empty() {
            return Ok(outcome);
        }
        // One query per topic, each an ordered scan of the pending index that stops at its
        // limit (with several topics in one `ANY`, PostgreSQL would sort every pending row).
        let per_topic = (self.settings.batch_size / self.led.len()).max(1);
        let mut rows = Vec::new();
        for topic in &self.led {
            let mut more = sqlx::query(FETCH)
                .bind(topic)
                .bind(i64::try_from(per_topic).unwrap_or(i64::MAX))
                .fetch_all(&self.pool)
                .await?;
            rows.append(&mut more);
        }
        if rows.is_empty() {
            return Ok(outcome);
        }
        let mut failures: Vec<Failure> = Vec::new();
        let mut blocked: HashSet<(String, Option<String>)> = HashSet::new();
        let mut ready: Vec<PreparedRow> = Vec::with_capacity(rows.len());
        for row in &rows {
            let row = PendingRow::from_row(row)?;
            let key = (row.topic.clone(), row.event_key.clone());
            if blocked.contains(&key) {
                continue;
            }
            match row.prepare() {
                Ok(prepared) => ready.push(prepared),
                Err((id, attempts, why)) => {
                    blocked.insert(key);
                    failures.push(Failure { id, attempts, error: why, retryable: false });
                }
            }
        }
        let producer = Arc::clone(&self.producer);
        let flush_timeout = self.settings.flush_timeout;
        let (ready, results) = tokio::task::spawn_blocking(move || {
            let messages: Vec<_> = ready.iter().map(PreparedRow::as_outgoing).collect();
            let mut results = producer.send_batch(&messages);
            if results.iter().any(Result::is_ok)
                && let Err(error) = producer.flush(flush_timeout)
            {
                // Nothing is known to have arrived: every row is tried again.
                let reason = error.to_string();
                let retryable = error.is_retryable();
                results = messages
                    .iter()
                    .map(|m| {
                        Err(ProduceError::backend(
                            m.metadata.event_type.to_string(),
                            m.topic,
                            retryable,
                            reason.clone(),
                        ))
                    })
                    .collect();
            }
            drop(messages);
            (ready, results)
        })
        .await
        .map_err(|error| OutboxError::Database(sqlx::Error::Protocol(format!("the producing task failed: {error}"))))?;
        let mut acknowledged = Vec::with_capacity(ready.len());
        for (prepared, result) in ready.iter().zip(results) {
            let row = &prepared.row;
            match result {
                Ok(()) => acknowledged.push(row.id),
                Err(error) => {
                    // Only the first failure of a key is recorded; the later rows of the key
                    // wait behind it.
                    if blocked.insert((row.topic.clone(), row.event_key.clone())) {
                        failures.push(Failure {
                            id: row.id,
                            attempts: row.attempts,
                            error: error.to_string(),
                            retryable: error.is_retryable(),
                        });
                    }
                }
            }
        }
        outcome.relayed = acknowledged.len();
        outcome.failed = failures.len();
        if !acknowledged.is_empty() {
            let statement = if self.settings.retention.is_some() { MARK_PUBLISHED } else { DELETE };
            sqlx::query(statement).bind(&acknowledged).execute(&self.pool).await?;
            metrics::counter!("openedx_events_outbox_relayed_total").increment(acknowledged.len() as u64);
        }
        if !failures.is_empty() {
            outcome.parked = self.record_failures(&failures).await?;
            metrics::counter!("openedx_events_outbox_failures_total").increment(failures.len() as u64);
            metrics::counter!("openedx_events_outbox_parked_total").increment(outcome.parked as u64);
        }
        Ok(outcome)
    }

    async fn record_failures(&self, failures: &[Failure]) -> Result<usize, OutboxError> {
        let mut parked = 0;
        let mut ids = Vec::with_capacity(failures.len());
        let mut errors = Vec::with_capacity(failures.len());
        let mut parks = Vec::with_capacity(failures.len());
        let mut delays = Vec::with_capacity(failures.len());
        for failure in failures {
            let attempts = u32::try_from(failure.attempts).unwrap_or(0).saturating_add(1);
            let park = !failure.retryable && attempts >= self.settings.max_attempts;
            let delay = self
                .settings
                .backoff
                .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1).min(20)))
                .min(self.settings.max_backoff);
            if park {
                parked += 1;
                tracing::error!(row = failure.id, attempts, "parked an outbox row: {}", failure.error);
            } else {
                tracing::warn!(
                    row = failure.id,
                    attempts,
                    "an outbox row failed, retrying in {delay:?}: {}",
                    failure.error
                );
            }
            ids.push(failure.id);
            errors.push(failure.error.as_str());
            parks.push(park);
            delays.push(delay.as_secs_f64());
        }
        sqlx::query(RECORD_FAILURES).bind(ids).bind(errors).bind(parks).bind(delays).execute(&self.pool).await?;
        Ok(parked)
    }

    /// Takes the topics without a leader, checks the locks are still held, publishes the
    /// metrics and purges rows past their retention.
    async fn housekeeping(&mut self) -> Result<(), OutboxError> {
        let alive = match self.locks.as_mut() {
            Some(locks) => locks.ping().await.is_ok(),
            None => false,
        };
        if !alive {
            self.led.clear();
            self.locks = Some(PgConnection::connect_with(&self.pool.connect_options()).await?);
        }
        let topics: Vec<String> = if self.settings.topics.is_empty() {
            sqlx::query_scalar(TOPICS).fetch_all(&self.pool).await?
        } else {
            self.settings.topics.clone()
        };
        let Some(locks) = self.locks.as_mut() else { return Ok(()) };
        for topic in topics {
            if self.led.contains(&topic) {
                continue;
            }
            let taken: bool = sqlx::query_scalar(TRY_LOCK).bind(&topic).fetch_one(&mut *locks).await?;
            if taken {
                tracing::info!(topic = %topic, "this relay now leads the topic");
                self.led.push(topic);
            }
        }
        if let Some(retention) = self.settings.retention {
            sqlx::query(PURGE).bind(retention.as_secs_f64()).execute(&self.pool).await?;
        }
        publish_metrics(&status(&self.pool).await?);
        Ok(())
    }
}

fn futures_ready(shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>) -> bool {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    shutdown.as_mut().poll(&mut cx).is_ready()
}

struct Failure {
    id: i64,
    attempts: i32,
    error: String,
    retryable: bool,
}

/// The visible rows of a topic, in commit-fence order, skipping keys that wait for a retry.
const FETCH: &str = "SELECT id, topic, event_type, event_key_field, event_key, event_key_type, \
     headers::text AS headers, event_data, attempts \
     FROM openedx_events_outbox o \
     WHERE topic = $1 AND NOT parked AND published_at IS NULL \
       AND xact_id < pg_snapshot_xmin(pg_current_snapshot()) \
       AND (topic, coalesce(event_key, '')) NOT IN ( \
         SELECT topic, coalesce(event_key, '') FROM openedx_events_outbox \
         WHERE topic = $1 AND next_attempt_at IS NOT NULL AND next_attempt_at > now() AND NOT parked AND published_at IS NULL) \
     ORDER BY xact_id, id LIMIT $2";

const TOPICS: &str =
    "SELECT DISTINCT topic FROM openedx_events_outbox WHERE NOT parked AND published_at IS NULL ORDER BY topic";

/// A topic's lock: the table's oid (so outboxes in other schemas do not share leaders) and the
/// topic's hash.
const TRY_LOCK: &str = "SELECT pg_try_advisory_lock( \
     ((('openedx_events_outbox'::regclass)::oid::int8 % 2147483647)::int4), hashtext($1))";

const DELETE: &str = "DELETE FROM openedx_events_outbox WHERE id = ANY($1)";

const MARK_PUBLISHED: &str = "UPDATE openedx_events_outbox SET published_at = now() WHERE id = ANY($1)";

const PURGE: &str = "DELETE FROM openedx_events_outbox WHERE published_at < now() - make_interval(secs => $1::float8)";

const RECORD_FAILURES: &str = "UPDATE openedx_events_outbox o SET attempts = o.attempts + 1, last_error = u.error, \
     parked = u.park, next_attempt_at = CASE WHEN u.park THEN NULL ELSE now() + make_interval(secs => u.delay) END \
     FROM UNNEST($1::bigint[], $2::text[], $3::bool[], $4::float8[]) AS u(id, error, park, delay) WHERE o.id = u.id";
