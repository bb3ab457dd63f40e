//! [`OutboxView`]: the transactional outbox's depth on the console's overview, read with the
//! outbox crate's `status` (one grouped query), on a small runtime of the view's own: the console's
//! server threads are not async.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::view::{OutboxSource, OutboxSummary, OutboxTopic, ViewError, ViewResult};

/// The outbox table of one PostgreSQL database.
pub(crate) struct OutboxView {
    runtime: tokio::runtime::Runtime,
    pool: PgPool,
    /// Where, without the password: `PostgreSQL at host:5432/db`.
    shown: String,
}

impl OutboxView {
    /// A view of the outbox at `url`; connects on first use. An error when the URL is not a
    /// PostgreSQL URL (said without the URL, which may hold a password).
    pub(crate) fn new(url: &str) -> Result<OutboxView, String> {
        let options: PgConnectOptions =
            url.parse().map_err(|_| "the outbox's database URL is not a PostgreSQL URL".to_owned())?;
        let shown = format!(
            "PostgreSQL at {}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start the async runtime: {error}"))?;
        let pool = {
            let _entered = runtime.enter();
            PgPoolOptions::new().max_connections(2).acquire_timeout(Duration::from_secs(5)).connect_lazy_with(options)
        };
        Ok(OutboxView { runtime, pool, shown })
    }
}

impl OutboxSource for OutboxView {
    fn describe(&self) -> String {
        format!("Outbox in {}", self.shown)
    }

    fn status(&self) -> ViewResult<OutboxSummary> {
        let status = self.runtime.block_on(openedx_events_outbox::status(&self.pool)).map_err(|error| {
            ViewError::Backend { bus: "PostgreSQL", url: self.shown.clone(), message: error.to_string() }
        })?;
        let ms = |age: Option<Duration>| age.map(|age| u64::try_from(age.as_millis()).unwrap_or(u64::MAX));
        Ok(OutboxSummary {
            pending: status.pending,
            parked: status.parked,
            oldest_pending_ms: ms(status.oldest_pending_age),
            topics: status
                .topics
                .iter()
                .map(|topic| OutboxTopic {
                    topic: topic.topic.clone(),
                    pending: topic.pending,
                    parked: topic.parked,
                    oldest_pending_ms: ms(topic.oldest_pending_age),
                })
                .collect(),
        })
    }
}
