//! The decisions of a Redis consumer, without any I/O: which commands to send, what their
//! replies mean, what to do with each message, when to acknowledge, to dead-letter, to reconnect
//! or to give up. The blocking [`RedisConsumer`](crate::RedisConsumer) and the async
//! [`AsyncRedisConsumer`](crate::AsyncRedisConsumer) are loops that send these commands on their
//! kind of connection and hand the replies back; the protocol exists once.

use std::time::{Duration, Instant};

use openedx_events::event_bus::{Delivery, dead_letter_topic};
use redis::{Cmd, RedisError, Value};

use crate::consumer::{ConsumerStats, StartFrom};
use crate::reply::{StreamEntry, as_string, as_u64, entries_of, pending_ids, read_reply_entries};
use crate::resp::EntryRef;
use crate::settings::RedisSettings;

/// The longest a blocking read waits, so that a shutdown is noticed promptly.
pub(crate) const MAX_BLOCK: Duration = Duration::from_secs(1);
/// The longest pause between reconnection attempts.
const MAX_FAILURE_SLEEP: Duration = Duration::from_secs(30);
/// How many `XAUTOCLAIM` calls one recovery makes at most while they find nothing to claim.
pub(crate) const MAX_AUTOCLAIM_SCANS: usize = 10;

/// What to do with one message read or claimed.
pub(crate) enum Plan {
    /// Trimmed from the stream while pending: nothing to dispatch; acknowledge it.
    Acknowledge,
    /// Delivered too often without an acknowledgement (it crashed its consumers): dead-letter it
    /// without another try.
    DeadLetter { error: String, attempts: u64 },
    /// Dispatch it; `earlier` deliveries went unacknowledged.
    Dispatch { earlier: u64 },
}

/// What to do after a message was dispatched.
pub(crate) enum Settle {
    /// Acknowledge it.
    Acknowledge,
    /// Move it to the dead-letter stream, then acknowledge it.
    DeadLetter { error: String, attempts: u64 },
    /// Leave it pending (stopped between retries: it has tries left, for whoever takes it back).
    LeavePending,
}

/// What to do after a command failed.
pub(crate) enum OnError {
    /// Drop the connection, pause this long, and start again (the group is checked again, and
    /// pending messages are taken back first).
    Reconnect(Duration),
    /// A signal interrupted a read: start a new connection at once, without counting an error.
    Resume,
    /// Too many errors in a row: stop with this count.
    GiveUp(u32),
}

/// A consumer's state and decisions.
pub(crate) struct Protocol {
    pub(crate) settings: RedisSettings,
    pub(crate) full_topic: String,
    pub(crate) group: String,
    pub(crate) consumer: String,
    start: StartFrom,
    group_ready: bool,
    /// Whether the group was set up once, so that `start` has been applied.
    started: bool,
    recover_pending: bool,
    /// Where the next `XAUTOCLAIM` continues its scan of the group's pending entries.
    autoclaim_cursor: String,
    last_recovery: Instant,
    errors: u32,
    pause: Duration,
    pub(crate) stats: ConsumerStats,
}

impl Protocol {
    pub(crate) fn new(
        settings: RedisSettings,
        full_topic: String,
        group: String,
        consumer: String,
        start: StartFrom,
    ) -> Self {
        let pause = settings.poll_failure_sleep;
        Protocol {
            settings,
            full_topic,
            group,
            consumer,
            start,
            group_ready: false,
            started: false,
            recover_pending: true,
            autoclaim_cursor: "0-0".to_owned(),
            last_recovery: Instant::now(),
            errors: 0,
            pause,
            stats: ConsumerStats::default(),
        }
    }

    // --- The group ------------------------------------------------------------------------

    /// The commands that set the group up, when it is not yet: `XGROUP CREATE`, and the
    /// `XGROUP SETID` to run if the group already exists.
    pub(crate) fn group_setup(&self) -> Option<(Cmd, Option<Cmd>)> {
        if self.group_ready {
            return None;
        }
        // `start` applies when the consumer starts, not each time it reconnects. A group that is
        // gone after a reconnection was lost with Redis's data (a restart without persistence):
        // whatever the stream holds now came after the loss and nobody in the group read it, so
        // the group is made again at the stream's beginning, not at its end (which would skip
        // what was produced before this consumer got back).
        let start = match &self.start {
            _ if self.started => "0",
            StartFrom::End => "$",
            StartFrom::Beginning => "0",
            StartFrom::Id(id) => id.as_str(),
        };
        let mut create = redis::cmd("XGROUP");
        create.arg("CREATE").arg(&self.full_topic).arg(&self.group).arg(start).arg("MKSTREAM");
        // Moving the group again after a reconnection would read again, or skip, what the group
        // did since.
        let move_to = match &self.start {
            StartFrom::Id(id) if !self.started => {
                let mut set_id = redis::cmd("XGROUP");
                set_id.arg("SETID").arg(&self.full_topic).arg(&self.group).arg(id);
                Some(set_id)
            }
            _ => None,
        };
        Some((create, move_to))
    }

    /// Whether `XGROUP CREATE` failed only because the group exists (then it resumes where it
    /// left off, or moves to the start id).
    pub(crate) fn group_exists(error: &RedisError) -> bool {
        error.code() == Some("BUSYGROUP")
    }

    pub(crate) fn group_is_ready(&mut self) {
        self.group_ready = true;
        self.started = true;
    }

    // --- Taking back what crashed consumers left pending -----------------------------------

    /// Whether this round first takes back pending messages: on start, after an error, and
    /// whenever `claim_idle_time` has passed.
    pub(crate) fn recovery_due(&mut self) -> bool {
        if self.last_recovery.elapsed() >= self.settings.claim_idle_time {
            self.recover_pending = true;
        }
        self.recover_pending
    }

    /// Recovery found nothing: read new messages until it is due again.
    /// Messages may be pending to this consumer that it no longer holds (a read was cut off):
    /// the next round takes them back first.
    #[cfg(feature = "tokio")]
    pub(crate) fn recover_soon(&mut self) {
        self.recover_pending = true;
    }

    pub(crate) fn recovery_done(&mut self) {
        self.recover_pending = false;
        self.last_recovery = Instant::now();
    }

    fn count(&self) -> usize {
        self.settings.batch_size.max(1)
    }

    /// This consumer's own pending messages (it crashed, or a reply was lost).
    pub(crate) fn own_pending(&self) -> Cmd {
        let mut command = redis::cmd("XPENDING");
        command.arg(&self.full_topic).arg(&self.group).arg("-").arg("+").arg(self.count()).arg(&self.consumer);
        command
    }

    /// `XCLAIM` of the ids in an `XPENDING` reply, if any: claiming them again counts one more
    /// delivery.
    pub(crate) fn claim_own(&self, pending: &Value) -> Option<Cmd> {
        let ids = pending_ids(pending);
        if ids.is_empty() {
            return None;
        }
        let mut command = redis::cmd("XCLAIM");
        command.arg(&self.full_topic).arg(&self.group).arg(&self.consumer).arg(0).arg(&ids);
        Some(command)
    }

    /// The entries of an `XCLAIM` reply.
    pub(crate) fn claimed(reply: Value) -> Vec<StreamEntry> {
        entries_of(reply)
    }

    /// The next `XAUTOCLAIM` of others' messages idle longer than `claim_idle_time`, from the
    /// cursor where the last scan stopped. One looks at no more than ten times `COUNT` pending
    /// entries and says where to go on: following its cursor finds a crashed consumer's messages
    /// behind many that live consumers hold now, not once those are done.
    pub(crate) fn autoclaim(&self, cursor: &str) -> Cmd {
        let idle = u64::try_from(self.settings.claim_idle_time.as_millis()).unwrap_or(u64::MAX);
        let mut command = redis::cmd("XAUTOCLAIM");
        command
            .arg(&self.full_topic)
            .arg(&self.group)
            .arg(&self.consumer)
            .arg(idle)
            .arg(cursor)
            .arg("COUNT")
            .arg(self.count());
        command
    }

    /// Where the scan starts: the cursor of the last scan that succeeded.
    pub(crate) fn autoclaim_cursor(&self) -> String {
        self.autoclaim_cursor.clone()
    }

    /// An `XAUTOCLAIM` reply: the entries it claimed, and the cursor to go on from, `None` when
    /// the scan is complete.
    pub(crate) fn autoclaimed(reply: Value) -> (Vec<StreamEntry>, Option<String>) {
        let Value::Array(mut parts) = reply else { return (Vec::new(), None) };
        if parts.len() < 2 {
            return (Vec::new(), None);
        }
        let entries = entries_of(parts.swap_remove(1));
        let cursor = as_string(&parts[0]).filter(|cursor| cursor != "0-0");
        (entries, cursor)
    }

    /// Keeps where the scan got to (only once a scan succeeded: an error leaves the last good
    /// cursor).
    pub(crate) fn scanned_to(&mut self, cursor: Option<String>) {
        self.autoclaim_cursor = cursor.unwrap_or_else(|| "0-0".to_owned());
    }

    /// How many times Redis delivered the entry, from `XPENDING` for its id.
    pub(crate) fn delivery_count(&self, id: &str) -> Cmd {
        let mut command = redis::cmd("XPENDING");
        command.arg(&self.full_topic).arg(&self.group).arg(id).arg(id).arg(1);
        command
    }

    /// The delivery count in an `XPENDING` reply for one id (1 when Redis does not say).
    pub(crate) fn deliveries(reply: Value) -> u64 {
        match reply {
            Value::Array(rows) => rows
                .into_iter()
                .find_map(|row| match row {
                    Value::Array(cells) => cells.get(3).and_then(as_u64),
                    _ => None,
                })
                .unwrap_or(1),
            _ => 1,
        }
    }

    pub(crate) fn reclaimed(&mut self, count: usize) {
        self.stats.reclaimed += count as u64;
    }

    // --- Reading new messages -------------------------------------------------------------

    /// `XREADGROUP` of a batch of new messages, waiting up to a second.
    pub(crate) fn read(&self) -> Cmd {
        let block = self.settings.poll_timeout.min(MAX_BLOCK);
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(self.count())
            .arg("BLOCK")
            .arg(u64::try_from(block.as_millis()).unwrap_or(1000))
            .arg("STREAMS")
            .arg(&self.full_topic)
            .arg(">");
        command
    }

    /// The next batch, asked for while this one is dispatched: without `BLOCK`, so that an
    /// acknowledgement sent behind it on the same connection is never held up by a wait.
    pub(crate) fn read_ahead(&self) -> Cmd {
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(self.count())
            .arg("STREAMS")
            .arg(&self.full_topic)
            .arg(">");
        command
    }

    /// Whether a read that returned `entries` suggests more are waiting: the batch was full,
    /// so the stream is busy and reading ahead keeps Redis working while this process
    /// dispatches. A short batch means the stream is drained, and the next read should wait.
    /// How many reads a consumer keeps sent ahead while the stream holds full batches: with two,
    /// Redis has the next read queued when it finishes one, and never waits for the consumer
    /// to take a reply in and ask again.
    pub(crate) const READS_AHEAD: usize = 2;

    pub(crate) fn worth_reading_ahead(&self, entries: usize) -> bool {
        entries >= self.count()
    }

    /// The entries of an `XREADGROUP` reply.
    pub(crate) fn read_entries(reply: Value) -> Vec<StreamEntry> {
        read_reply_entries(reply)
    }

    // --- Each message ---------------------------------------------------------------------

    /// What to do with an entry that Redis delivered `deliveries` times (0 for a new one).
    pub(crate) fn plan(&self, entry: &EntryRef<'_>, deliveries: u64) -> Plan {
        if entry.fields.is_empty() {
            return Plan::Acknowledge;
        }
        // Earlier deliveries that never got acknowledged crashed their consumer.
        let earlier = deliveries.saturating_sub(1);
        if earlier >= u64::from(self.max_attempts()) {
            return Plan::DeadLetter {
                error: format!("delivered {earlier} times without being acknowledged"),
                attempts: earlier,
            };
        }
        Plan::Dispatch { earlier }
    }

    fn max_attempts(&self) -> u32 {
        self.settings.retry.max_attempts.max(1)
    }

    /// What to do after dispatching: `outcome` after `attempts` tries, `earlier` unacknowledged
    /// deliveries before, and whether a shutdown was asked for meanwhile.
    pub(crate) fn settle(&mut self, outcome: Delivery, attempts: u32, earlier: u64, stopping: bool) -> Settle {
        let total = u64::from(attempts) + earlier;
        match outcome {
            Delivery::Delivered(_) => {
                self.stats.delivered += 1;
                Settle::Acknowledge
            }
            // Stopped between retries: the message has tries left, so it is neither
            // dead-lettered nor acknowledged. It stays pending, and this consumer, restarted
            // under its name, or another one takes it back.
            Delivery::ReceiversFailed(_) if attempts >= 1 && attempts < self.max_attempts() && stopping => {
                Settle::LeavePending
            }
            Delivery::ReceiversFailed(error) => Settle::DeadLetter { error, attempts: total },
            Delivery::Unusable(unusable) => Settle::DeadLetter { error: unusable.to_string(), attempts: total },
            Delivery::Refused(error) => Settle::DeadLetter { error, attempts: total },
        }
    }

    /// `XADD` of the entry to the dead-letter stream, with its original fields and why.
    pub(crate) fn dead_letter(&mut self, entry: &EntryRef<'_>, error: &str, attempts: u64) -> Cmd {
        tracing::error!(
            stream = %self.full_topic,
            id = %entry.id,
            attempts,
            "moving an event bus message to the dead-letter stream: {error}"
        );
        let mut command = redis::cmd("XADD");
        command.arg(dead_letter_topic(&self.full_topic)).arg("*");
        for (name, value) in &entry.fields {
            command.arg(*name).arg(*value);
        }
        command
            .arg("error")
            .arg(error)
            .arg("attempts")
            .arg(attempts)
            .arg("original_id")
            .arg(entry.id)
            .arg("group")
            .arg(&self.group)
            .arg("consumer")
            .arg(&self.consumer);
        command
    }

    pub(crate) fn dead_lettered(&mut self) {
        self.stats.dead_lettered += 1;
    }

    /// `XACK` of the handled ids, if any.
    pub(crate) fn acknowledge(&self, ids: &[&str]) -> Option<Cmd> {
        if ids.is_empty() {
            return None;
        }
        let mut command = redis::cmd("XACK");
        command.arg(&self.full_topic).arg(&self.group).arg(ids);
        Some(command)
    }

    // --- Errors ---------------------------------------------------------------------------

    /// A round went through: the error count and the pause start again.
    pub(crate) fn succeeded(&mut self) {
        self.errors = 0;
        self.pause = self.settings.poll_failure_sleep;
    }

    /// A command failed: what to do. The connection is to be dropped in every case, and the
    /// next round takes back what a lost reply may have delivered.
    pub(crate) fn failed(&mut self, error: &RedisError) -> OnError {
        self.recover_pending = true;
        if is_interrupted(error) {
            // A signal (such as the one that will ask for shutdown) interrupted a read. The reply
            // may be half read, so a new connection is needed, but Redis is fine.
            return OnError::Resume;
        }
        self.errors += 1;
        self.group_ready = false;
        tracing::warn!(stream = %self.full_topic, errors = self.errors, "event bus consumer error: {error}");
        if self.settings.consecutive_errors_limit.is_some_and(|limit| self.errors >= limit) {
            return OnError::GiveUp(self.errors);
        }
        let pause = self.pause;
        self.pause = (self.pause * 2).min(MAX_FAILURE_SLEEP);
        OnError::Reconnect(pause)
    }
}

/// Whether a command failed only because a signal interrupted the system call (EINTR), which
/// socket reads with a timeout do not restart by themselves.
fn is_interrupted(error: &RedisError) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::Interrupted)
}
