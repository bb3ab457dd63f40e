//! The durable local spool: a SQLite file that takes the events the bus cannot take now, and
//! gives them to it, in order, when it is back.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use openedx_events::event_bus::{EventBusProducer, EventKey, OutgoingMessage, ProduceError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection as _, Row as _, SqliteConnection};

use crate::row::PendingRow;
use crate::send::headers_json;

/// Why the spool could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpoolError {
    /// The SQLite file could not be opened, read or written.
    #[error("the spool {path} failed: {source}")]
    Sqlite {
        /// The spool's file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: sqlx::Error,
    },
    /// The spool's thread is gone (it was shut down).
    #[error("the spool is shut down")]
    Closed,
}

/// What a [`SpoolingProducer`] has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpoolStats {
    /// Messages written to the spool.
    pub spooled: u64,
    /// Spooled messages the bus took since.
    pub drained: u64,
    /// Messages waiting in the spool now.
    pub waiting: u64,
}

/// One message as the spool keeps it.
struct SpoolRow {
    topic: String,
    event_type: String,
    event_key_field: Option<String>,
    event_key: Option<String>,
    event_key_type: Option<&'static str>,
    headers: String,
    event_data: Vec<u8>,
}

impl SpoolRow {
    fn of(message: &OutgoingMessage<'_>) -> Self {
        SpoolRow {
            topic: message.topic.to_owned(),
            event_type: message.metadata.event_type.to_string(),
            event_key_field: message.event_key_field.map(str::to_owned),
            event_key: message.event_key.map(EventKey::to_string),
            event_key_type: message.event_key.map(EventKey::avro_type),
            headers: headers_json(message.metadata),
            event_data: message.event_data.to_vec(),
        }
    }
}

enum Request {
    Append(Vec<SpoolRow>, SyncSender<Result<(), sqlx::Error>>),
    Read(i64, SyncSender<Result<Vec<PendingRow>, sqlx::Error>>),
    Delete(Vec<i64>, SyncSender<Result<u64, sqlx::Error>>),
}

/// The SQLite file, served by a thread of its own (sqlx is async; the producer's callers are
/// not), one request at a time.
struct Spool {
    path: PathBuf,
    requests: Mutex<Option<Sender<Request>>>,
    waiting: AtomicU64,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Spool {
    fn open(path: &Path) -> Result<Spool, SpoolError> {
        let sqlite = |source| SpoolError::Sqlite { path: path.to_owned(), source };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| sqlite(sqlx::Error::Io(e)))?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Every accepted message is on disk before `send` returns.
            .synchronous(SqliteSynchronous::Full);
        let (connection, waiting) = runtime
            .block_on(async {
                let mut connection = SqliteConnection::connect_with(&options).await?;
                sqlx::query(SCHEMA).execute(&mut connection).await?;
                let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM spool").fetch_one(&mut connection).await?;
                Ok::<_, sqlx::Error>((connection, waiting))
            })
            .map_err(sqlite)?;
        let (sender, requests) = std::sync::mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("openedx-events-spool".to_owned())
            .spawn(move || serve(runtime, connection, &requests))
            .map_err(|e| sqlite(sqlx::Error::Io(e)))?;
        Ok(Spool {
            path: path.to_owned(),
            requests: Mutex::new(Some(sender)),
            waiting: AtomicU64::new(u64::try_from(waiting).unwrap_or(0)),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn ask<T>(&self, make: impl FnOnce(SyncSender<Result<T, sqlx::Error>>) -> Request) -> Result<T, SpoolError> {
        let (reply, answer) = sync_channel(1);
        let sender = self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone();
        sender.ok_or(SpoolError::Closed)?.send(make(reply)).map_err(|_| SpoolError::Closed)?;
        answer
            .recv()
            .map_err(|_| SpoolError::Closed)?
            .map_err(|source| SpoolError::Sqlite { path: self.path.clone(), source })
    }

    fn append(&self, rows: Vec<SpoolRow>) -> Result<(), SpoolError> {
        let n = rows.len() as u64;
        self.ask(|reply| Request::Append(rows, reply))?;
        self.waiting.fetch_add(n, Ordering::SeqCst);
        Ok(())
    }

    fn close(&self) {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = thread.join();
        }
    }
}

fn serve(runtime: tokio::runtime::Runtime, mut connection: SqliteConnection, requests: &Receiver<Request>) {
    let connection_ref = &mut connection;
    serve_requests(&runtime, connection_ref, requests);
    let _ = runtime.block_on(connection.close());
}

fn serve_requests(runtime: &tokio::runtime::Runtime, connection: &mut SqliteConnection, requests: &Receiver<Request>) {
    while let Ok(request) = requests.recv() {
        match request {
            Request::Append(rows, reply) => {
                let _ = reply.send(runtime.block_on(append(connection, &rows)));
            }
            Request::Read(limit, reply) => {
                let _ = reply.send(runtime.block_on(read(connection, limit)));
            }
            Request::Delete(ids, reply) => {
                let _ = reply.send(runtime.block_on(delete(connection, &ids)));
            }
        }
    }
}

async fn append(connection: &mut SqliteConnection, rows: &[SpoolRow]) -> Result<(), sqlx::Error> {
    let mut tx = connection.begin().await?;
    for row in rows {
        sqlx::query(
            "INSERT INTO spool (topic, event_type, event_key_field, event_key, event_key_type, headers, event_data) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.topic)
        .bind(&row.event_type)
        .bind(&row.event_key_field)
        .bind(&row.event_key)
        .bind(row.event_key_type)
        .bind(&row.headers)
        .bind(&row.event_data)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

async fn read(connection: &mut SqliteConnection, limit: i64) -> Result<Vec<PendingRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, topic, event_type, event_key_field, event_key, event_key_type, headers, event_data, attempts \
         FROM spool ORDER BY id LIMIT ?",
    )
    .bind(limit)
    .fetch_all(&mut *connection)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PendingRow {
                id: row.try_get("id")?,
                topic: row.try_get("topic")?,
                event_type: row.try_get("event_type")?,
                event_key_field: row.try_get("event_key_field")?,
                event_key: row.try_get("event_key")?,
                event_key_type: row.try_get("event_key_type")?,
                headers: row.try_get("headers")?,
                event_data: row.try_get("event_data")?,
                attempts: row.try_get("attempts")?,
            })
        })
        .collect()
}

async fn delete(connection: &mut SqliteConnection, ids: &[i64]) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let ids = serde_json::Value::from(ids.to_vec()).to_string();
    let done = sqlx::query("DELETE FROM spool WHERE id IN (SELECT value FROM json_each(?))")
        .bind(ids)
        .execute(connection)
        .await?;
    Ok(done.rows_affected())
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spool (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    topic           TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    event_key_field TEXT,
    event_key       TEXT,
    event_key_type  TEXT,
    headers         TEXT    NOT NULL,
    event_data      BLOB    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)";

/// Builds a [`SpoolingProducer`].
#[must_use = "a builder does nothing until `open`"]
pub struct SpoolingProducerBuilder {
    path: PathBuf,
    inner: Arc<dyn EventBusProducer>,
    batch_size: usize,
    retry_pause: Duration,
}

impl std::fmt::Debug for SpoolingProducerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpoolingProducerBuilder").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SpoolingProducerBuilder {
    /// Spooled messages produced per batch when draining; 500 by default.
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows.max(1);
        self
    }

    /// The first pause before draining again after the bus failed; it doubles up to 5 s. 100 ms
    /// by default.
    pub fn retry_pause(mut self, pause: Duration) -> Self {
        self.retry_pause = pause;
        self
    }

    /// Opens (or creates) the spool file and starts draining what it holds.
    pub fn open(self) -> Result<SpoolingProducer, SpoolError> {
        let spool = Arc::new(Spool::open(&self.path)?);
        let shared = Arc::new(Shared {
            stopping: AtomicBool::new(false),
            spooled: AtomicU64::new(0),
            drained: AtomicU64::new(0),
        });
        let drainer = Drainer {
            spool: Arc::clone(&spool),
            inner: Arc::clone(&self.inner),
            shared: Arc::clone(&shared),
            batch_size: self.batch_size,
            retry_pause: self.retry_pause,
        };
        let thread = std::thread::Builder::new()
            .name("openedx-events-spool-drain".to_owned())
            .spawn(move || drainer.run())
            .map_err(|e| SpoolError::Sqlite { path: self.path.clone(), source: sqlx::Error::Io(e) })?;
        Ok(SpoolingProducer { inner: self.inner, spool, shared, drainer: Mutex::new(Some(thread)) })
    }
}

struct Shared {
    stopping: AtomicBool,
    spooled: AtomicU64,
    drained: AtomicU64,
}

/// A producer that never reports an event lost because the bus is away: what the producer it
/// wraps cannot take now (the bus is unreachable, or a [`BackgroundProducer`]'s queue is full:
/// any retryable error) is written to a local SQLite file, and produced from there, in order,
/// once the bus takes messages again.
///
/// - `send` returns `Ok` once the bus has the message or the spool has it on disk (SQLite in WAL
///   mode with `synchronous = FULL`), so a crash while the bus is down loses nothing it
///   accepted; the next `open` of the same file produces what was left.
/// - While the spool holds messages, new ones join it behind them, so order is kept.
/// - A refusal for good (not retryable) is returned, as the wrapped producer would.
/// - Wrapping a [`BackgroundProducer`] keeps senders from waiting on the bus, but what its
///   in-memory queue holds is not on disk; wrap the backend itself where a crash must lose
///   nothing.
///
/// [`BackgroundProducer`]: openedx_events::event_bus::BackgroundProducer
pub struct SpoolingProducer {
    inner: Arc<dyn EventBusProducer>,
    spool: Arc<Spool>,
    shared: Arc<Shared>,
    drainer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SpoolingProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpoolingProducer")
            .field("path", &self.spool.path)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl SpoolingProducer {
    /// A builder for a spool at `path` in front of `inner`.
    pub fn builder(path: impl Into<PathBuf>, inner: Arc<dyn EventBusProducer>) -> SpoolingProducerBuilder {
        SpoolingProducerBuilder { path: path.into(), inner, batch_size: 500, retry_pause: Duration::from_millis(100) }
    }

    /// A spool at `path` in front of `inner`, with the default settings.
    pub fn open(path: impl Into<PathBuf>, inner: Arc<dyn EventBusProducer>) -> Result<Self, SpoolError> {
        Self::builder(path, inner).open()
    }

    /// What it has done so far.
    pub fn stats(&self) -> SpoolStats {
        SpoolStats {
            spooled: self.shared.spooled.load(Ordering::Relaxed),
            drained: self.shared.drained.load(Ordering::Relaxed),
            waiting: self.spool.waiting.load(Ordering::SeqCst),
        }
    }

    /// Stops draining and closes the file; what it holds stays there for the next `open`.
    pub fn shutdown(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        if let Some(thread) = self.drainer.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = thread.join();
        }
        self.spool.close();
    }

    fn spool_messages(&self, messages: &[OutgoingMessage<'_>], why: &ProduceError) -> Result<(), ProduceError> {
        self.spool.append(messages.iter().map(SpoolRow::of).collect()).map_err(|error| {
            ProduceError::backend(
                messages.first().map(|m| m.metadata.event_type.to_string()).unwrap_or_default(),
                messages.first().map(|m| m.topic.to_owned()).unwrap_or_default(),
                true,
                format!("{why}; and the spool failed too: {error}"),
            )
        })?;
        self.shared.spooled.fetch_add(messages.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for SpoolingProducer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl EventBusProducer for SpoolingProducer {
    fn send(&self, message: &OutgoingMessage<'_>) -> Result<(), ProduceError> {
        self.send_batch(std::slice::from_ref(message)).pop().unwrap_or(Ok(()))
    }

    fn send_batch(&self, messages: &[OutgoingMessage<'_>]) -> Vec<Result<(), ProduceError>> {
        if self.spool.waiting.load(Ordering::SeqCst) > 0 {
            // Behind what waits already.
            let why = ProduceError::NotConfigured("messages are waiting in the spool".to_owned());
            return match self.spool_messages(messages, &why) {
                Ok(()) => messages.iter().map(|_| Ok(())).collect(),
                Err(error) => {
                    let reason = error.to_string();
                    messages
                        .iter()
                        .map(|m| {
                            Err(ProduceError::backend(m.metadata.event_type.to_string(), m.topic, true, reason.clone()))
                        })
                        .collect()
                }
            };
        }
        let mut results = self.inner.send_batch(messages);
        // From the first retryable failure on, everything not produced goes to the spool.
        let Some(first) = results.iter().position(|r| r.as_ref().is_err_and(ProduceError::is_retryable)) else {
            return results;
        };
        let failed: Vec<usize> =
            (first..messages.len()).filter(|&i| results[i].as_ref().is_err_and(ProduceError::is_retryable)).collect();
        let to_spool: Vec<OutgoingMessage<'_>> = failed.iter().map(|&i| messages[i]).collect();
        let why = match &results[first] {
            Err(error) => error.to_string(),
            Ok(()) => String::new(),
        };
        tracing::warn!(count = to_spool.len(), "the event bus cannot take messages now; spooling them: {why}");
        if let Err(error) = self.spool_messages(&to_spool, &ProduceError::NotConfigured(why)) {
            let reason = error.to_string();
            for &i in &failed {
                results[i] = Err(ProduceError::backend(
                    messages[i].metadata.event_type.to_string(),
                    messages[i].topic,
                    true,
                    reason.clone(),
                ));
            }
            return results;
        }
        for &i in &failed {
            results[i] = Ok(());
        }
        results
    }

    fn flush(&self, timeout: Duration) -> Result<(), ProduceError> {
        self.inner.flush(timeout)
    }
}

struct Drainer {
    spool: Arc<Spool>,
    inner: Arc<dyn EventBusProducer>,
    shared: Arc<Shared>,
    batch_size: usize,
    retry_pause: Duration,
}

impl Drainer {
    /// Sleeps for `pause`, waking early when the producer shuts down.
    fn nap(&self, pause: Duration) {
        let until = std::time::Instant::now() + pause;
        while !self.shared.stopping.load(Ordering::SeqCst) {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    fn run(self) {
        let mut pause = self.retry_pause;
        while !self.shared.stopping.load(Ordering::SeqCst) {
            if self.spool.waiting.load(Ordering::SeqCst) == 0 {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            match self.drain_batch() {
                Ok(true) => pause = self.retry_pause,
                Ok(false) => {
                    self.nap(pause);
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                Err(error) => {
                    tracing::error!("cannot drain the spool: {error}");
                    self.nap(pause);
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Produces the oldest batch; whether all of it went.
    fn drain_batch(&self) -> Result<bool, SpoolError> {
        let limit = i64::try_from(self.batch_size).unwrap_or(i64::MAX);
        let rows = self.spool.ask(|reply| Request::Read(limit, reply))?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut prepared = Vec::with_capacity(rows.len());
        let mut lost = Vec::new();
        for row in rows {
            match row.prepare() {
                Ok(row) => prepared.push(row),
                Err((id, _, why)) => {
                    // It can never be produced by this program: report it, do not block the rest.
                    tracing::error!(row = id, "a spooled event cannot be produced and is dropped: {why}");
                    lost.push(id);
                }
            }
        }
        let messages: Vec<OutgoingMessage<'_>> = prepared.iter().map(|row| row.as_outgoing()).collect();
        let results = self.inner.send_batch(&messages);
        let mut all = true;
        for (row, result) in prepared.iter().zip(results) {
            match result {
                Ok(()) => ids.push(row.row.id),
                Err(error) if error.is_retryable() => {
                    all = false;
                    break;
                }
                Err(error) => {
                    tracing::error!(row = row.row.id, "the event bus refused a spooled event for good: {error}");
                    ids.push(row.row.id);
                }
            }
        }
        let produced = ids.len() as u64;
        ids.extend(lost);
        let deleted = self.spool.ask(|reply| Request::Delete(ids, reply))?;
        let _ =
            self.spool.waiting.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| Some(n.saturating_sub(deleted)));
        self.shared.drained.fetch_add(produced, Ordering::Relaxed);
        Ok(all)
    }
}
