//! The outbox's errors: each says what went wrong in words an operator can act on, and whether
//! trying again can help.

/// Why the outbox could not write, read or relay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The outbox table does not exist in the connection's schema: the migrations were not run.
    #[error(
        "the outbox table `openedx_events_outbox` does not exist (run `openedx_events_outbox::migrate(&pool)` or the `MIGRATOR`): {0}"
    )]
    MissingTable(#[source] sqlx::Error),
    /// PostgreSQL could not be reached (refused, timed out, the pool is closed or exhausted).
    #[error("cannot reach PostgreSQL: {0}")]
    Unreachable(#[source] sqlx::Error),
    /// Another database error.
    #[error("outbox database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The migrations failed.
    #[error("cannot migrate the outbox: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A receiver of the event failed and the send was asked to fail with it; nothing was
    /// written.
    #[error("a receiver failed, nothing was written to the outbox: {0}")]
    Receiver(#[from] openedx_events::SendEventError),
}

impl OutboxError {
    /// Whether trying again later may succeed (the database was unreachable).
    pub fn is_retryable(&self) -> bool {
        matches!(self, OutboxError::Unreachable(_))
    }
}

impl From<sqlx::Error> for OutboxError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01") => OutboxError::MissingTable(error),
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => OutboxError::Unreachable(error),
            _ => OutboxError::Database(error),
        }
    }
}
