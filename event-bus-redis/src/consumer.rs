//! [`RedisConsumer`]: one topic consumed as a member of a consumer group, with every message
//! acknowledged only after it was dispatched or dead-lettered.

use std::time::{Duration, Instant};

use openedx_events::event_bus::{
    ConsumeError, Delivery, EventBusConsumer, ShutdownHandle, dead_letter_topic, deliver_fields, deliver_with_retries,
};
use redis::{Client, Connection, ErrorKind, RedisError, RedisResult, Value};

use crate::reply::{StreamEntry, as_string, as_u64, entries_of, pending_ids, query_value, read_reply_entries};
use crate::settings::RedisSettings;
use crate::{COMMAND_TIMEOUT, client, connect};

/// The longest a blocking read waits, so that a shutdown is noticed promptly.
const MAX_BLOCK: Duration = Duration::from_secs(1);
/// The longest pause between reconnection attempts.
const MAX_FAILURE_SLEEP: Duration = Duration::from_secs(30);
/// How many `XAUTOCLAIM` calls one recovery makes at most while they find nothing to claim.
const MAX_AUTOCLAIM_SCANS: usize = 10;

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

/// Consumes one topic as a member of a consumer group.
pub struct RedisConsumer {
    client: Client,
    connection: Option<Connection>,
    settings: RedisSettings,
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

/// Builds a [`RedisConsumer`]: the topic and the group are required; the rest has defaults.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build`"]
pub struct RedisConsumerBuilder {
    settings: RedisSettings,
    topic: Option<String>,
    group: Option<String>,
    consumer_name: Option<String>,
    start: StartFrom,
}

impl RedisConsumerBuilder {
    /// The topic to consume, without the environment prefix (the stream is `{prefix}-{topic}`).
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    /// The consumer group: consumers of one group share the stream's messages, each delivered to
    /// one of them.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// The consumer's name in its group. A name unique in the group and stable across restarts
    /// lets a restarted consumer take back its own pending messages at once; by default, the
    /// host name and the process id.
    pub fn consumer_name(mut self, name: impl Into<String>) -> Self {
        self.consumer_name = Some(name.into());
        self
    }

    /// Where a new group starts reading; by default at the end. An existing group resumes where
    /// it left off (unless this is [`StartFrom::Id`]).
    pub fn start(mut self, start: StartFrom) -> Self {
        self.start = start;
        self
    }

    /// The consumer; it connects on first use. An error when the settings have no usable URL,
    /// or the topic or the group is missing.
    pub fn build(self) -> Result<RedisConsumer, ConsumeError> {
        let missing: Vec<&str> = [("topic", self.topic.is_none()), ("group", self.group.is_none())]
            .into_iter()
            .filter_map(|(what, missing)| missing.then_some(what))
            .collect();
        if !missing.is_empty() {
            return Err(ConsumeError::NotConfigured(format!("the Redis consumer needs a {}", missing.join(" and a "))));
        }
        let client = client(&self.settings).map_err(ConsumeError::NotConfigured)?;
        let consumer = self
            .consumer_name
            .unwrap_or_else(|| format!("{}-{}", gethostname::gethostname().to_string_lossy(), std::process::id()));
        Ok(RedisConsumer {
            client,
            connection: None,
            full_topic: self.settings.full_topic(self.topic.as_deref().unwrap_or_default()),
            settings: self.settings,
            group: self.group.unwrap_or_default(),
            consumer,
            start: self.start,
            shutdown: ShutdownHandle::default(),
            group_ready: false,
            started: false,
            recover_pending: true,
            autoclaim_cursor: "0-0".to_owned(),
            last_recovery: Instant::now(),
            stats: ConsumerStats::default(),
        })
    }
}

impl RedisConsumer {
    /// Starts building a consumer with these settings.
    pub fn builder(settings: RedisSettings) -> RedisConsumerBuilder {
        RedisConsumerBuilder { settings, topic: None, group: None, consumer_name: None, start: StartFrom::default() }
    }

    /// What the consumer did so far.
    pub fn stats(&self) -> ConsumerStats {
        self.stats
    }

    /// The stream this consumer reads.
    pub fn stream(&self) -> &str {
        &self.full_topic
    }

    /// Its group.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Its name in the group.
    pub fn consumer_name(&self) -> &str {
        &self.consumer
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
        let max_attempts = self.settings.retry.max_attempts.max(1);
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
                deliver_with_retries(|| deliver_fields(&entry.fields), &self.settings.retry, &|| shutdown.is_shutdown())
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
        command.arg(dead_letter_topic(&self.full_topic)).arg("*");
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
                        return Err(ConsumeError::TooManyErrors { count: errors, last: Box::new(error) });
                    }
                    sleep_unless_shutdown(pause, &self.shutdown);
                    pause = (pause * 2).min(MAX_FAILURE_SLEEP);
                }
            }
        }
        tracing::info!(stream = %self.full_topic, stats = ?self.stats, "consumer stopped");
        Ok(())
    }

    fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
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
