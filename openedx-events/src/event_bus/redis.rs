//! The Redis Streams backend, wire-compatible with `edx-event-bus-redis`, and more careful than
//! it: nothing is acknowledged before it is dispatched, receivers' failures are retried, and
//! what cannot be dispatched is moved to `{stream}-dead-letter`, never dropped.
//!
//! A topic is a stream. The producer adds each event with `XADD {topic} MAXLEN ~ {max_len} *`
//! and upstream's fields. A consumer reads as a member of a consumer group:
//!
//! 1. On start, and whenever [`claim_idle_time`](EventBusSettings::claim_idle_time) has passed,
//!    it first takes back what is pending: its own unacknowledged messages (it crashed) and those
//!    of group members idle for longer than that time (they crashed), with `XCLAIM` /
//!    `XAUTOCLAIM`. A message already delivered more than `max_attempts` times is dead-lettered
//!    without another try, so a message that crashes its consumer cannot loop forever.
//! 2. Then it reads new messages in batches with `XREADGROUP ... >`.
//! 3. Each message is dispatched, retried while receivers fail, and acknowledged only after it
//!    was delivered or dead-lettered.
//!
//! A new group starts at the end of the stream, at its beginning or at a given id
//! ([`StartFrom`]); an existing group resumes where it left off, so what was produced while its
//! consumers were down is processed when they come back.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::{Client, Connection, ConnectionLike as _, ErrorKind, RedisError, RedisResult, Value};

use super::delivery::{Delivery, deliver_with_retries};
use super::message::{FIELD_NAMES, message_fields};
use super::{
    ConsumeError, EventBusConsumer, EventBusProducer, EventBusSettings, ProduceError, ShutdownHandle,
    dead_letter_stream,
};
use crate::metadata::EventsMetadata;
use crate::signal::AnySignal;

/// How long connecting and ordinary commands may take before they count as a failure.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a blocking read waits, so that a shutdown is noticed promptly.
const MAX_BLOCK: Duration = Duration::from_secs(1);
/// The longest pause between reconnection attempts.
const MAX_FAILURE_SLEEP: Duration = Duration::from_secs(30);
/// How many `XAUTOCLAIM` calls one recovery makes at most while they find nothing to claim.
const MAX_AUTOCLAIM_SCANS: usize = 10;

fn client(settings: &EventBusSettings) -> Result<Client, String> {
    let url = settings.redis_url.as_deref().ok_or("no Redis URL (set EVENT_BUS_REDIS_CONNECTION_URL)")?;
    Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))
}

fn connect(client: &Client, read_timeout: Duration) -> RedisResult<Connection> {
    let connection = client.get_connection_with_timeout(COMMAND_TIMEOUT)?;
    connection.set_read_timeout(Some(read_timeout))?;
    connection.set_write_timeout(Some(COMMAND_TIMEOUT))?;
    Ok(connection)
}

/// Produces events to Redis streams.
pub struct RedisProducer {
    client: Client,
    connection: Mutex<Option<Connection>>,
    settings: EventBusSettings,
}

impl std::fmt::Debug for RedisProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisProducer").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl RedisProducer {
    /// A producer for these settings; it connects on first use and again after a failure.
    pub fn new(settings: EventBusSettings) -> Result<Self, ProduceError> {
        let client = client(&settings).map_err(ProduceError::NotConfigured)?;
        Ok(RedisProducer { client, connection: Mutex::new(None), settings })
    }

    /// The settings.
    pub fn settings(&self) -> &EventBusSettings {
        &self.settings
    }

    fn xadd(&self, full_topic: &str, metadata: &EventsMetadata, event_data: &[u8]) -> redis::Cmd {
        let fields = message_fields(metadata, event_data);
        // Sized beforehand: growing the command's buffers argument by argument was over a quarter
        // of producing a batch. (`XADD`, `MAXLEN`, `~`, the number and `*` take at most 32 bytes.)
        let size = full_topic.len() + 32 + fields.iter().map(|(name, value)| name.len() + value.len()).sum::<usize>();
        let mut command = redis::Cmd::with_capacity(6 + 2 * fields.len(), size);
        command.arg("XADD").arg(full_topic).arg("MAXLEN").arg("~").arg(self.settings.stream_max_len).arg("*");
        for (name, value) in fields {
            command.arg(name).arg(value.as_ref());
        }
        command
    }

    /// Runs commands on the connection, connecting first if needed; a failed connection is
    /// dropped so the next call starts afresh.
    ///
    /// A connection kept from an earlier call may have been closed since (Redis restarted, or
    /// closed it for idleness), which shows only when it is used: then the commands are run once
    /// more on a new connection, so that the first event after a restart is not lost. (Should
    /// Redis have run them before the connection dropped, they run twice: the bus delivers at
    /// least once.) A timeout is not retried: Redis is there but slow.
    fn with_connection<T>(&self, run: impl Fn(&mut Connection) -> RedisResult<T>) -> RedisResult<T> {
        let mut slot = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let reused = slot.is_some();
        match self.run_on(&mut slot, &run) {
            Err(e) if reused && e.is_connection_dropped() && !e.is_timeout() => self.run_on(&mut slot, &run),
            result => result,
        }
    }

    fn run_on<T>(
        &self,
        slot: &mut Option<Connection>,
        run: &impl Fn(&mut Connection) -> RedisResult<T>,
    ) -> RedisResult<T> {
        if slot.is_none() {
            *slot = Some(connect(&self.client, COMMAND_TIMEOUT)?);
        }
        let Some(connection) = slot.as_mut() else {
            return Err(RedisError::from((ErrorKind::Client, "no connection")));
        };
        let result = run(connection);
        if result.as_ref().is_err_and(|e| e.is_io_error() || e.is_connection_dropped() || e.is_timeout()) {
            *slot = None;
        }
        result
    }

    /// Adds one event to a full (already prefixed) topic; returns the stream entry's id.
    pub fn send_to_stream(
        &self,
        full_topic: &str,
        metadata: &EventsMetadata,
        event_data: &[u8],
    ) -> Result<String, ProduceError> {
        let command = self.xadd(full_topic, metadata, event_data);
        self.with_connection(|connection| command.query::<String>(connection)).map_err(|e| ProduceError::Backend {
            event_type: metadata.event_type.to_string(),
            topic: full_topic.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Adds many events in one round trip (a pipeline); each is `(topic without prefix,
    /// metadata, Avro bytes)`. Returns the entries' ids.
    pub fn send_batch(&self, events: &[(&str, &EventsMetadata, &[u8])]) -> Result<Vec<String>, ProduceError> {
        let mut pipeline = redis::Pipeline::with_capacity(events.len());
        // Events of a batch mostly go to one topic: its full name is made once.
        let mut full_topic: Option<(&str, String)> = None;
        for (topic, metadata, event_data) in events {
            if full_topic.as_ref().is_none_or(|(last, _)| last != topic) {
                full_topic = Some((topic, self.settings.full_topic(topic)));
            }
            let full = full_topic.as_ref().map_or("", |(_, full)| full.as_str());
            pipeline.add_command(self.xadd(full, metadata, event_data));
        }
        self.with_connection(|connection| pipeline.query::<Vec<String>>(connection)).map_err(|e| {
            ProduceError::Backend {
                event_type: format!("{} events", events.len()),
                topic: events.first().map(|(topic, _, _)| self.settings.full_topic(topic)).unwrap_or_default(),
                reason: e.to_string(),
            }
        })
    }
}

impl EventBusProducer for RedisProducer {
    fn send(
        &self,
        _signal: &'static dyn AnySignal,
        topic: &str,
        _event_key_field: Option<&str>,
        event_data: &[u8],
        metadata: &EventsMetadata,
    ) -> Result<(), ProduceError> {
        self.send_to_stream(&self.settings.full_topic(topic), metadata, event_data).map(drop)
    }
}

/// Where a new consumer group starts reading (upstream's `check_backlog` and
/// `last_read_msg_id`). An existing group always resumes where it left off, except that
/// [`StartFrom::Id`] moves it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StartFrom {
    /// After the last message now in the stream: only what is produced from now on.
    #[default]
    End,
    /// At the first message in the stream.
    Beginning,
    /// After this stream id.
    Id(String),
}

/// Counts of what a consumer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Messages dispatched with every receiver succeeding.
    pub delivered: u64,
    /// Messages moved to the dead-letter stream.
    pub dead_lettered: u64,
    /// Pending messages taken back from a crashed consumer (this one or another).
    pub reclaimed: u64,
}

/// One entry read from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The stream id (`1700000000000-0`).
    pub id: String,
    /// The fields, in order.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Consumes one topic as a member of a consumer group.
pub struct RedisConsumer {
    client: Client,
    connection: Option<Connection>,
    settings: EventBusSettings,
    full_topic: String,
    group: String,
    consumer: String,
    start: StartFrom,
    shutdown: ShutdownHandle,
    group_ready: bool,
    /// Whether the group was set up once, so that `start` has been applied.
    started: bool,
    recover_pending: bool,
    /// Where the next `XAUTOCLAIM` continues its scan of the group's pending entries.
    autoclaim_cursor: String,
    last_recovery: Instant,
    stats: ConsumerStats,
}

impl std::fmt::Debug for RedisConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConsumer")
            .field("stream", &self.full_topic)
            .field("group", &self.group)
            .field("consumer", &self.consumer)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl RedisConsumer {
    /// A consumer of `topic` (without the prefix) in `group`, named `consumer` (a name unique in
    /// the group and stable across restarts lets a restarted consumer take back its own pending
    /// messages at once). It connects on first use.
    pub fn new(
        settings: EventBusSettings,
        topic: &str,
        group: &str,
        consumer: &str,
        start: StartFrom,
    ) -> Result<Self, ConsumeError> {
        let client = client(&settings).map_err(ConsumeError::NotConfigured)?;
        Ok(RedisConsumer {
            client,
            connection: None,
            full_topic: settings.full_topic(topic),
            settings,
            group: group.to_owned(),
            consumer: consumer.to_owned(),
            start,
            shutdown: ShutdownHandle::default(),
            group_ready: false,
            started: false,
            recover_pending: true,
            autoclaim_cursor: "0-0".to_owned(),
            last_recovery: Instant::now(),
            stats: ConsumerStats::default(),
        })
    }

    /// A handle that stops [`consume_indefinitely`](EventBusConsumer::consume_indefinitely) from
    /// another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// What the consumer did so far.
    pub fn stats(&self) -> ConsumerStats {
        self.stats
    }

    /// The stream this consumer reads.
    pub fn stream(&self) -> &str {
        &self.full_topic
    }

    fn connection(&mut self) -> RedisResult<&mut Connection> {
        if self.connection.is_none() {
            let block = self.settings.poll_timeout.min(MAX_BLOCK);
            self.connection = Some(connect(&self.client, block + COMMAND_TIMEOUT)?);
        }
        self.connection.as_mut().ok_or_else(|| RedisError::from((ErrorKind::Client, "no connection")))
    }

    fn ensure_group(&mut self) -> RedisResult<()> {
        if self.group_ready {
            return Ok(());
        }
        // `start` applies when the consumer starts, not each time it reconnects. A group that is
        // gone after a reconnection was lost with Redis's data (a restart without persistence):
        // whatever the stream holds now came after the loss and nobody in the group read it, so
        // the group is made again at the stream's beginning, not at its end (which would skip
        // what was produced before this consumer got back).
        let start = match &self.start {
            _ if self.started => "0".to_owned(),
            StartFrom::End => "$".to_owned(),
            StartFrom::Beginning => "0".to_owned(),
            StartFrom::Id(id) => id.clone(),
        };
        let (stream, group) = (self.full_topic.clone(), self.group.clone());
        let move_to = match &self.start {
            // Moving the group again after a reconnection would read again, or skip, what the
            // group did since.
            StartFrom::Id(id) if !self.started => Some(id.clone()),
            _ => None,
        };
        let connection = self.connection()?;
        let created = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream)
            .arg(&group)
            .arg(&start)
            .arg("MKSTREAM")
            .query::<()>(connection);
        match created {
            Ok(()) => {}
            Err(e) if e.code() == Some("BUSYGROUP") => {
                // The group exists: resume where it left off, unless told where to go.
                if let Some(id) = move_to {
                    redis::cmd("XGROUP").arg("SETID").arg(&stream).arg(&group).arg(id).query::<()>(connection)?;
                }
            }
            Err(e) => return Err(e),
        }
        self.group_ready = true;
        self.started = true;
        Ok(())
    }

    /// One round: takes back pending messages if it is time, else reads a batch of new ones
    /// (waiting up to a second); dispatches, dead-letters and acknowledges them. Returns how many
    /// messages it handled.
    pub fn poll(&mut self) -> RedisResult<usize> {
        self.ensure_group()?;
        if self.last_recovery.elapsed() >= self.settings.claim_idle_time {
            self.recover_pending = true;
        }
        if self.recover_pending {
            let recovered = self.recover()?;
            if recovered > 0 {
                return Ok(recovered);
            }
            self.recover_pending = false;
            self.last_recovery = Instant::now();
        }
        let block = self.settings.poll_timeout.min(MAX_BLOCK);
        let (stream, group, consumer, count) =
            (self.full_topic.clone(), self.group.clone(), self.consumer.clone(), self.settings.batch_size.max(1));
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(&group)
            .arg(&consumer)
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(u64::try_from(block.as_millis()).unwrap_or(1000))
            .arg("STREAMS")
            .arg(&stream)
            .arg(">");
        let reply = query_value(&command, self.connection()?)?;
        let entries = read_reply_entries(reply);
        let handled = entries.len();
        self.handle(entries.into_iter().map(|entry| (entry, 0)).collect())?;
        Ok(handled)
    }

    /// Takes back this consumer's own pending messages and those idle too long elsewhere;
    /// returns how many it handled.
    fn recover(&mut self) -> RedisResult<usize> {
        let (stream, group, consumer) = (self.full_topic.clone(), self.group.clone(), self.consumer.clone());
        let count = self.settings.batch_size.max(1);
        let idle = u64::try_from(self.settings.claim_idle_time.as_millis()).unwrap_or(u64::MAX);
        let connection = self.connection()?;
        // Our own pending messages: claiming them again counts one more delivery.
        let pending: Value = redis::cmd("XPENDING")
            .arg(&stream)
            .arg(&group)
            .arg("-")
            .arg("+")
            .arg(count)
            .arg(&consumer)
            .query(connection)?;
        let own: Vec<String> = pending_ids(&pending);
        let mut claimed = if own.is_empty() {
            Vec::new()
        } else {
            let reply: Value =
                redis::cmd("XCLAIM").arg(&stream).arg(&group).arg(&consumer).arg(0).arg(&own).query(connection)?;
            entries_of(reply)
        };
        // Others' idle messages. One `XAUTOCLAIM` looks at no more than ten times `COUNT` pending
        // entries and says where to go on: follow its cursor, so that messages of a crashed
        // consumer behind many that live consumers hold are found now, not once those are done.
        // (Kept in `self` only once a scan succeeded: an error leaves the last good cursor.)
        let mut cursor = self.autoclaim_cursor.clone();
        let mut scans = 0;
        while claimed.is_empty() && scans < MAX_AUTOCLAIM_SCANS {
            scans += 1;
            let reply: Value = redis::cmd("XAUTOCLAIM")
                .arg(&stream)
                .arg(&group)
                .arg(&consumer)
                .arg(idle)
                .arg(&cursor)
                .arg("COUNT")
                .arg(count)
                .query(self.connection()?)?;
            let Value::Array(mut parts) = reply else { break };
            if parts.len() < 2 {
                break;
            }
            claimed = entries_of(parts.swap_remove(1));
            cursor = as_string(&parts[0]).unwrap_or_else(|| "0-0".to_owned());
            if cursor == "0-0" {
                break;
            }
        }
        self.autoclaim_cursor = cursor;
        if claimed.is_empty() {
            return Ok(0);
        }
        let mut with_counts = Vec::with_capacity(claimed.len());
        for entry in claimed {
            let deliveries = self.delivery_count(&entry.id)?;
            with_counts.push((entry, deliveries));
        }
        self.stats.reclaimed += with_counts.len() as u64;
        let handled = with_counts.len();
        self.handle(with_counts)?;
        Ok(handled)
    }

    fn delivery_count(&mut self, id: &str) -> RedisResult<u64> {
        let (stream, group) = (self.full_topic.clone(), self.group.clone());
        let reply: Value =
            redis::cmd("XPENDING").arg(&stream).arg(&group).arg(id).arg(id).arg(1).query(self.connection()?)?;
        Ok(match reply {
            Value::Array(rows) => rows
                .into_iter()
                .find_map(|row| match row {
                    Value::Array(cells) => cells.get(3).and_then(as_u64),
                    _ => None,
                })
                .unwrap_or(1),
            _ => 1,
        })
    }

    /// Dispatches each entry (with the number of times Redis delivered it, 0 when new), moves
    /// the undeliverable ones aside, and acknowledges them all.
    fn handle(&mut self, entries: Vec<(StreamEntry, u64)>) -> RedisResult<()> {
        let mut done = Vec::with_capacity(entries.len());
        let max_attempts = self.settings.max_attempts.max(1);
        for (entry, deliveries) in entries {
            if entry.fields.is_empty() {
                // Trimmed from the stream while pending: there is nothing left to dispatch.
                done.push(entry.id);
                continue;
            }
            // Earlier deliveries that never got acknowledged crashed their consumer.
            let earlier = deliveries.saturating_sub(1);
            let outcome = if earlier >= u64::from(max_attempts) {
                (Delivery::ReceiversFailed(format!("delivered {earlier} times without being acknowledged")), 0)
            } else {
                let shutdown = self.shutdown.clone();
                deliver_with_retries(&entry.fields, max_attempts, self.settings.retry_backoff, &|| {
                    shutdown.is_shutdown()
                })
            };
            if let (Delivery::ReceiversFailed(_), attempts @ 1..) = &outcome
                && *attempts < max_attempts
                && self.shutdown.is_shutdown()
            {
                // Stopped between retries: the message has tries left, so it is neither
                // dead-lettered nor acknowledged. It stays pending, and this consumer, restarted
                // under its name, or another one takes it back.
                break;
            }
            match outcome {
                (Delivery::Delivered(_), _) => self.stats.delivered += 1,
                (Delivery::ReceiversFailed(error), attempts) => {
                    self.dead_letter(&entry, &error, u64::from(attempts) + earlier)?;
                }
                (Delivery::Unusable(unusable), attempts) => {
                    self.dead_letter(&entry, &unusable.to_string(), u64::from(attempts) + earlier)?;
                }
            }
            done.push(entry.id);
            if self.shutdown.is_shutdown() {
                break;
            }
        }
        if !done.is_empty() {
            let (stream, group) = (self.full_topic.clone(), self.group.clone());
            redis::cmd("XACK").arg(&stream).arg(&group).arg(&done).query::<()>(self.connection()?)?;
        }
        Ok(())
    }

    fn dead_letter(&mut self, entry: &StreamEntry, error: &str, attempts: u64) -> RedisResult<()> {
        tracing::error!(
            stream = %self.full_topic,
            id = %entry.id,
            attempts,
            "moving an event bus message to the dead-letter stream: {error}"
        );
        let mut command = redis::cmd("XADD");
        command.arg(dead_letter_stream(&self.full_topic)).arg("*");
        for (name, value) in &entry.fields {
            command.arg(name.as_slice()).arg(value.as_slice());
        }
        command
            .arg("error")
            .arg(error)
            .arg("attempts")
            .arg(attempts)
            .arg("original_id")
            .arg(&entry.id)
            .arg("group")
            .arg(&self.group)
            .arg("consumer")
            .arg(&self.consumer);
        command.query::<String>(self.connection()?)?;
        self.stats.dead_lettered += 1;
        Ok(())
    }
}

impl EventBusConsumer for RedisConsumer {
    /// Polls until shut down. A Redis error drops the connection and pauses (doubling from
    /// `poll_failure_sleep` up to 30 s) before reconnecting; after
    /// `consecutive_errors_limit` errors in a row it gives up.
    fn consume_indefinitely(&mut self) -> Result<(), ConsumeError> {
        tracing::info!(stream = %self.full_topic, group = %self.group, consumer = %self.consumer, "consuming");
        let mut errors = 0u32;
        let mut pause = self.settings.poll_failure_sleep;
        while !self.shutdown.is_shutdown() {
            match self.poll() {
                Ok(_) => {
                    errors = 0;
                    pause = self.settings.poll_failure_sleep;
                }
                Err(error) if is_interrupted(&error) => {
                    // A signal (such as the one that will ask for shutdown) interrupted a read.
                    // The reply may be half read, so start a new connection; messages the lost
                    // reply delivered are pending to us and taken back first.
                    self.connection = None;
                    self.recover_pending = true;
                }
                Err(error) => {
                    errors += 1;
                    tracing::warn!(stream = %self.full_topic, errors, "event bus consumer error: {error}");
                    self.connection = None;
                    self.group_ready = false;
                    self.recover_pending = true;
                    if self.settings.consecutive_errors_limit.is_some_and(|limit| errors >= limit) {
                        return Err(ConsumeError::TooManyErrors { count: errors, last: error.to_string() });
                    }
                    sleep_unless_shutdown(pause, &self.shutdown);
                    pause = (pause * 2).min(MAX_FAILURE_SLEEP);
                }
            }
        }
        tracing::info!(stream = %self.full_topic, stats = ?self.stats, "consumer stopped");
        Ok(())
    }
}

/// Whether a command failed only because a signal interrupted the system call (EINTR), which
/// socket reads with a timeout do not restart by themselves.
fn is_interrupted(error: &RedisError) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::Interrupted)
}

fn sleep_unless_shutdown(duration: Duration, shutdown: &ShutdownHandle) {
    let until = Instant::now() + duration;
    while !shutdown.is_shutdown() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// A message kept in a dead-letter stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its id in the dead-letter stream.
    pub id: String,
    /// The original message's fields (upstream's eight).
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
    /// Why it was moved aside.
    pub error: String,
    /// How many times it was tried.
    pub attempts: u64,
    /// Its id in the original stream.
    pub original_id: String,
}

/// The dead letters of `topic` (without the prefix), oldest first.
pub fn dead_letters(settings: &EventBusSettings, topic: &str) -> Result<Vec<DeadLetter>, ConsumeError> {
    let client = client(settings).map_err(ConsumeError::NotConfigured)?;
    let mut connection = connect(&client, COMMAND_TIMEOUT).map_err(backend)?;
    let stream = dead_letter_stream(&settings.full_topic(topic));
    let reply: Value = redis::cmd("XRANGE").arg(&stream).arg("-").arg("+").query(&mut connection).map_err(backend)?;
    Ok(entries_of(reply).into_iter().map(into_dead_letter).collect())
}

/// Produces dead letters of `topic` again to their original stream (all of them, or those with
/// these ids), with their original fields, and removes them from the dead-letter stream. Returns
/// how many were re-driven.
pub fn redrive(settings: &EventBusSettings, topic: &str, ids: Option<&[String]>) -> Result<usize, ConsumeError> {
    let client = client(settings).map_err(ConsumeError::NotConfigured)?;
    let mut connection = connect(&client, COMMAND_TIMEOUT).map_err(backend)?;
    let stream = settings.full_topic(topic);
    let letters = dead_letters(settings, topic)?;
    let mut count = 0;
    for letter in letters.into_iter().filter(|l| ids.is_none_or(|ids| ids.contains(&l.id))) {
        let mut command = redis::cmd("XADD");
        command.arg(&stream).arg("MAXLEN").arg("~").arg(settings.stream_max_len).arg("*");
        for (name, value) in &letter.fields {
            command.arg(name.as_slice()).arg(value.as_slice());
        }
        command.query::<String>(&mut connection).map_err(backend)?;
        redis::cmd("XDEL")
            .arg(dead_letter_stream(&stream))
            .arg(&letter.id)
            .query::<()>(&mut connection)
            .map_err(backend)?;
        count += 1;
    }
    Ok(count)
}

fn backend(error: RedisError) -> ConsumeError {
    ConsumeError::Backend(error.to_string())
}

fn into_dead_letter(entry: StreamEntry) -> DeadLetter {
    let text = |name: &str| {
        entry.fields.iter().find(|(k, _)| k == name.as_bytes()).map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    DeadLetter {
        error: text("error").unwrap_or_default(),
        attempts: text("attempts").and_then(|a| a.parse().ok()).unwrap_or(0),
        original_id: text("original_id").unwrap_or_default(),
        fields: entry
            .fields
            .iter()
            .filter(|(k, _)| FIELD_NAMES.iter().any(|n| n.as_bytes() == k.as_slice()))
            .cloned()
            .collect(),
        id: entry.id,
    }
}

/// The entries of an `XREADGROUP` reply (`[[stream, [entry, ...]], ...]`, or a map in RESP3).
fn read_reply_entries(reply: Value) -> Vec<StreamEntry> {
    match reply {
        Value::Array(streams) => streams
            .into_iter()
            .flat_map(|stream| match stream {
                Value::Array(mut parts) if parts.len() == 2 => entries_of(parts.swap_remove(1)),
                _ => Vec::new(),
            })
            .collect(),
        Value::Map(streams) => streams.into_iter().flat_map(|(_, entries)| entries_of(entries)).collect(),
        _ => Vec::new(),
    }
}

/// Stream entries (`[[id, [field, value, ...]], ...]`); a deleted entry has no fields.
///
/// The reply's strings are moved into the entries, not copied.
fn entries_of(reply: Value) -> Vec<StreamEntry> {
    let Value::Array(entries) = reply else { return Vec::new() };
    entries
        .into_iter()
        .filter_map(|entry| {
            let Value::Array(parts) = entry else { return None };
            let mut parts = parts.into_iter();
            let id = into_string(parts.next()?)?;
            let fields = match parts.next() {
                Some(Value::Array(items)) => {
                    let mut fields = Vec::with_capacity(items.len() / 2);
                    let mut items = items.into_iter();
                    // Pairs; an odd last item is left out.
                    while let (Some(name), Some(value)) = (items.next(), items.next()) {
                        if let (Some(name), Some(value)) = (into_bytes(name), into_bytes(value)) {
                            fields.push((name, value));
                        }
                    }
                    fields
                }
                Some(Value::Map(pairs)) => {
                    pairs.into_iter().filter_map(|(k, v)| Some((into_bytes(k)?, into_bytes(v)?))).collect()
                }
                _ => Vec::new(),
            };
            Some(StreamEntry { id, fields })
        })
        .collect()
}

/// Runs a command as `query::<Value>` does, returning the first server error anywhere in the
/// reply as the error, but without rebuilding the whole reply to find it (which cost an eighth
/// of consuming a batch).
fn query_value(command: &redis::Cmd, connection: &mut Connection) -> RedisResult<Value> {
    let reply = connection.req_command(command)?;
    match first_server_error(&reply) {
        Some(error) => Err(error.clone().into()),
        None => Ok(reply),
    }
}

/// The first server error in a reply, in the order `Value::extract_error` looks.
fn first_server_error(value: &Value) -> Option<&redis::ServerError> {
    fn in_pairs(pairs: &[(Value, Value)]) -> Option<&redis::ServerError> {
        pairs.iter().find_map(|(key, value)| first_server_error(key).or_else(|| first_server_error(value)))
    }
    match value {
        Value::ServerError(error) => Some(error),
        Value::Array(items) | Value::Set(items) | Value::Push { data: items, .. } => {
            items.iter().find_map(first_server_error)
        }
        Value::Map(pairs) => in_pairs(pairs),
        Value::Attribute { data, attributes } => first_server_error(data).or_else(|| in_pairs(attributes)),
        _ => None,
    }
}

fn pending_ids(reply: &Value) -> Vec<String> {
    match reply {
        Value::Array(rows) => rows
            .iter()
            .filter_map(|row| match row {
                Value::Array(cells) => cells.first().and_then(as_string),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn as_bytes(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes.clone()),
        Value::SimpleString(text) => Some(text.clone().into_bytes()),
        _ => None,
    }
}

fn as_string(value: &Value) -> Option<String> {
    as_bytes(value).and_then(|bytes| String::from_utf8(bytes).ok())
}

fn into_bytes(value: Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.into_bytes()),
        _ => None,
    }
}

fn into_string(value: Value) -> Option<String> {
    into_bytes(value).and_then(|bytes| String::from_utf8(bytes).ok())
}

fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Int(n) => u64::try_from(*n).ok(),
        other => as_string(other).and_then(|s| s.parse().ok()),
    }
}
