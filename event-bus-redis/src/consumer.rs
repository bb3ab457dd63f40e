//! [`RedisConsumer`]: one topic consumed as a member of a consumer group, with every message
//! acknowledged only after it was dispatched or dead-lettered; the blocking driver of the
//! protocol in [`crate::protocol`].

use std::time::{Duration, Instant};

use openedx_events::event_bus::{
    ConsumeError, EventBusConsumer, ShutdownHandle, deliver_fields, deliver_with_retries, message_event_key,
};
use redis::{Client, Connection, ErrorKind, RedisError, RedisResult, Value};

use crate::fast::{FastConnection, Owed, Owing, Target};
use crate::lanes::{lanes, run_lanes};
use crate::protocol::{MAX_AUTOCLAIM_SCANS, MAX_BLOCK, OnError, Plan, Protocol, Settle};
use crate::reply::query_value;
use crate::resp::{EntryRef, read_entries};
use crate::settings::RedisSettings;
use crate::{COMMAND_TIMEOUT, client, connect};

/// A hook run before each acknowledgement.
pub(crate) type BeforeAcknowledge = Box<dyn FnMut() + Send>;

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

/// Consumes one topic as a member of a consumer group, on a blocking connection.
pub struct RedisConsumer {
    client: Client,
    connection: Option<Connection>,
    /// Where the fast connection goes; `None` for URLs it does not speak.
    fast_target: Option<Target>,
    fast: Option<FastConnection>,
    /// An acknowledgement that goes out with the next read, in one round trip (only while
    /// consuming indefinitely, on the fast connection).
    deferred_ack: Option<redis::Cmd>,
    defer_acks: bool,
    /// The replies the fast connection still owes, in order: reads of the next batches sent
    /// while this one is dispatched, and acknowledgements sent with them (only while consuming
    /// indefinitely).
    owed: Owing,
    protocol: Protocol,
    shutdown: ShutdownHandle,
    before_acknowledge: Option<BeforeAcknowledge>,
    /// How many keys are dispatched at once (1: one message at a time).
    concurrency: usize,
}

impl std::fmt::Debug for RedisConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConsumer")
            .field("stream", &self.protocol.full_topic)
            .field("group", &self.protocol.group)
            .field("consumer", &self.protocol.consumer)
            .field("stats", &self.protocol.stats)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RedisConsumer`]: the topic and the group are required; the rest has defaults.
#[must_use = "a builder does nothing until `build`"]
pub struct RedisConsumerBuilder {
    settings: RedisSettings,
    topic: Option<String>,
    group: Option<String>,
    consumer_name: Option<String>,
    start: StartFrom,
    before_acknowledge: Option<BeforeAcknowledge>,
    concurrency: usize,
}

impl std::fmt::Debug for RedisConsumerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConsumerBuilder")
            .field("settings", &self.settings)
            .field("topic", &self.topic)
            .field("group", &self.group)
            .field("consumer_name", &self.consumer_name)
            .field("start", &self.start)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
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

    /// Runs before each acknowledgement, after the messages it covers were dispatched: for
    /// receivers that buffer what they do (say, lines on standard output) and must make it
    /// durable before the bus forgets the messages.
    pub fn before_acknowledge(mut self, hook: impl FnMut() + Send + 'static) -> Self {
        self.before_acknowledge = Some(Box::new(hook));
        self
    }

    /// Dispatches the messages of up to `keys` distinct event keys at once (the blocking consumer
    /// only), each on a thread of its own: the messages of one key (the value at the signal's
    /// key field) are dispatched one after the other, in stream order, and messages without a
    /// key each on their own. A batch is acknowledged once all of it was dispatched or
    /// dead-lettered. 1 (the default) dispatches one message at a time.
    pub fn concurrency(mut self, keys: usize) -> Self {
        self.concurrency = keys.max(1);
        self
    }

    /// Checks what is required and makes the protocol both drivers share.
    fn protocol(self) -> Result<(redis::Client, Protocol, Option<BeforeAcknowledge>), ConsumeError> {
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
        let full_topic = self.settings.full_topic(self.topic.as_deref().unwrap_or_default());
        let protocol = Protocol::new(self.settings, full_topic, self.group.unwrap_or_default(), consumer, self.start);
        Ok((client, protocol, self.before_acknowledge))
    }

    /// The blocking consumer; it connects on first use. An error when the settings have no
    /// usable URL, or the topic or the group is missing.
    pub fn build(self) -> Result<RedisConsumer, ConsumeError> {
        let concurrency = self.concurrency;
        let (client, protocol, before_acknowledge) = self.protocol()?;
        let fast_target = Target::of(client.get_connection_info());
        Ok(RedisConsumer {
            client,
            connection: None,
            fast_target,
            fast: None,
            deferred_ack: None,
            defer_acks: false,
            owed: Owing::default(),
            protocol,
            shutdown: ShutdownHandle::default(),
            before_acknowledge,
            concurrency,
        })
    }

    /// The async consumer (on tokio), with the same guarantees; see [`AsyncRedisConsumer`].
    #[cfg(feature = "tokio")]
    pub fn build_async(self) -> Result<crate::AsyncRedisConsumer, ConsumeError> {
        let (client, protocol, before_acknowledge) = self.protocol()?;
        Ok(crate::AsyncRedisConsumer::new(client, protocol, before_acknowledge))
    }
}

impl RedisConsumer {
    /// Starts building a consumer with these settings.
    pub fn builder(settings: RedisSettings) -> RedisConsumerBuilder {
        RedisConsumerBuilder {
            settings,
            topic: None,
            group: None,
            consumer_name: None,
            start: StartFrom::default(),
            before_acknowledge: None,
            concurrency: 1,
        }
    }

    /// What the consumer did so far.
    pub fn stats(&self) -> ConsumerStats {
        self.protocol.stats
    }

    /// The stream this consumer reads.
    pub fn stream(&self) -> &str {
        &self.protocol.full_topic
    }

    /// Its group.
    pub fn group(&self) -> &str {
        &self.protocol.group
    }

    /// Its name in the group.
    pub fn consumer_name(&self) -> &str {
        &self.protocol.consumer
    }

    fn connection(&mut self) -> RedisResult<&mut Connection> {
        if self.connection.is_none() {
            let block = self.protocol.settings.poll_timeout.min(MAX_BLOCK);
            self.connection = Some(connect(&self.client, block + COMMAND_TIMEOUT)?);
        }
        self.connection.as_mut().ok_or_else(|| RedisError::from((ErrorKind::Client, "no connection")))
    }

    fn run(&mut self, command: &redis::Cmd) -> RedisResult<Value> {
        query_value(command, self.connection()?)
    }

    /// The fast connection, connected if need be; `None` when the URL is not plain TCP.
    fn fast(&mut self) -> RedisResult<Option<&mut FastConnection>> {
        let Some(target) = &self.fast_target else { return Ok(None) };
        if self.fast.is_none() {
            let block = self.protocol.settings.poll_timeout.min(MAX_BLOCK);
            self.fast = Some(FastConnection::connect(target, COMMAND_TIMEOUT, block + COMMAND_TIMEOUT)?);
        }
        Ok(self.fast.as_mut())
    }

    /// Drops both connections, after an error: the next round starts afresh. A deferred
    /// acknowledgement is lost with them; its messages stay pending to this consumer, which
    /// takes them back first (at least once).
    fn disconnect(&mut self) {
        self.connection = None;
        self.fast = None;
        self.deferred_ack = None;
        self.owed.clear();
    }

    /// Reads the replies still owed, when no more batches are wanted (shutting down). What the
    /// reads ahead read stays pending to this consumer: a consumer of the same name takes it back
    /// first thing when it starts, others once it has been idle for `claim_idle_time`.
    fn finish_read_ahead(&mut self) -> RedisResult<()> {
        let Some(fast) = self.fast.as_mut() else {
            self.owed.clear();
            return Ok(());
        };
        let mut left = 0;
        while let Some(owed) = self.owed.next() {
            let reply = fast.receive()?;
            if owed == Owed::Read {
                left += read_entries(&reply.tokens, &reply.bytes).len();
            }
        }
        if left > 0 {
            tracing::debug!(stream = %self.protocol.full_topic, left, "messages read ahead stay pending to this consumer");
        }
        Ok(())
    }

    /// Keeps [`Protocol::READS_AHEAD`] reads sent ahead, the deferred acknowledgement going
    /// out with them.
    fn send_reads_ahead(&mut self) -> RedisResult<()> {
        let Some(fast) = self.fast.as_mut() else { return Ok(()) };
        if let Some(top_up) = self.owed.top_up(|| self.protocol.read_ahead(), &mut self.deferred_ack) {
            fast.send(&top_up.commands())?;
        }
        Ok(())
    }

    /// Sends a deferred acknowledgement now.
    fn flush_ack(&mut self) -> RedisResult<()> {
        if let Some(acknowledge) = self.deferred_ack.take()
            && let Some(fast) = self.fast()?
        {
            fast.request(&acknowledge)?;
        }
        Ok(())
    }

    /// One round: sets the group up if needed, takes back pending messages if it is time, else
    /// reads a batch of new ones (waiting up to a second); dispatches, dead-letters and
    /// acknowledges them. Returns how many messages it handled.
    pub fn poll(&mut self) -> RedisResult<usize> {
        let handled = self.round()?;
        self.flush_ack()?;
        Ok(handled)
    }

    /// [`poll`](Self::poll), leaving the acknowledgement to go out with the next read when
    /// consuming indefinitely.
    fn round(&mut self) -> RedisResult<usize> {
        if !self.owed.is_empty() {
            return self.read_ahead_round();
        }
        if self.protocol.group_setup().is_some() || self.protocol.recovery_due() {
            self.flush_ack()?;
        }
        if let Some((create, move_to)) = self.protocol.group_setup() {
            match self.run(&create) {
                Ok(_) => {}
                Err(error) if Protocol::group_exists(&error) => {
                    if let Some(set_id) = move_to {
                        self.run(&set_id)?;
                    }
                }
                Err(error) => return Err(error),
            }
            self.protocol.group_is_ready();
        }
        if self.protocol.recovery_due() {
            let recovered = self.recover()?;
            if recovered > 0 {
                return Ok(recovered);
            }
            self.protocol.recovery_done();
        }
        let read = self.protocol.read();
        let deferred = self.deferred_ack.take();
        match self.fast()? {
            Some(fast) => {
                let reply = match deferred {
                    Some(acknowledge) => fast.request_two(&acknowledge, &read)?.1,
                    None => fast.request(&read)?,
                };
                let entries = read_entries(&reply.tokens, &reply.bytes);
                let handled = entries.len();
                if self.reads_ahead(handled) {
                    self.send_reads_ahead()?;
                }
                self.handle(entries.into_iter().map(|entry| (entry, 0)).collect())?;
                Ok(handled)
            }
            None => {
                let owned = Protocol::read_entries(self.run(&read)?);
                let handled = owned.len();
                self.handle(owned.iter().map(|entry| (EntryRef::of(entry), 0)).collect())?;
                Ok(handled)
            }
        }
    }

    /// Whether to ask for the next batch before dispatching one of `entries` messages: only
    /// while consuming indefinitely, on the fast connection, with the stream busy. Redis then
    /// reads the next batch (about half of consuming's cost) on its own core meanwhile.
    fn reads_ahead(&self, entries: usize) -> bool {
        self.defer_acks && !self.shutdown.is_shutdown() && self.protocol.worth_reading_ahead(entries)
    }

    /// A round whose read went out ahead, during an earlier one: the replies owed before it
    /// (acknowledgements) and its own are read, and the reads ahead are topped up, the last
    /// round's acknowledgement with them (or it goes with the next waiting read, when the
    /// stream has run dry).
    fn read_ahead_round(&mut self) -> RedisResult<usize> {
        let Some(fast) = self.fast.as_mut() else {
            return Err(RedisError::from((ErrorKind::Client, "no connection for the read ahead")));
        };
        loop {
            match self.owed.next() {
                Some(Owed::Acknowledgement) => drop(fast.receive()?),
                Some(Owed::Read) => break,
                None => return Ok(0),
            }
        }
        let reply = fast.receive()?;
        let entries = read_entries(&reply.tokens, &reply.bytes);
        let handled = entries.len();
        if self.reads_ahead(handled) {
            self.send_reads_ahead()?;
        }
        self.handle(entries.into_iter().map(|entry| (entry, 0)).collect())?;
        Ok(handled)
    }

    /// Takes back this consumer's own pending messages and those idle too long elsewhere;
    /// returns how many it handled.
    fn recover(&mut self) -> RedisResult<usize> {
        let pending = self.run(&self.protocol.own_pending())?;
        let mut claimed = match self.protocol.claim_own(&pending) {
            Some(claim) => Protocol::claimed(self.run(&claim)?),
            None => Vec::new(),
        };
        let mut cursor = Some(self.protocol.autoclaim_cursor());
        let mut scans = 0;
        while claimed.is_empty() && scans < MAX_AUTOCLAIM_SCANS {
            let Some(from) = cursor.take() else { break };
            scans += 1;
            let (entries, next) = Protocol::autoclaimed(self.run(&self.protocol.autoclaim(&from))?);
            claimed = entries;
            cursor = next;
        }
        self.protocol.scanned_to(cursor);
        if claimed.is_empty() {
            return Ok(0);
        }
        let mut with_counts = Vec::with_capacity(claimed.len());
        for entry in &claimed {
            let deliveries = Protocol::deliveries(self.run(&self.protocol.delivery_count(&entry.id))?);
            with_counts.push((EntryRef::of(entry), deliveries));
        }
        self.protocol.reclaimed(with_counts.len());
        let handled = with_counts.len();
        self.handle(with_counts)?;
        Ok(handled)
    }

    /// Dispatches each entry (with the number of times Redis delivered it, 0 when new), moves
    /// the undeliverable ones aside, and acknowledges them all.
    fn handle(&mut self, entries: Vec<(EntryRef<'_>, u64)>) -> RedisResult<()> {
        if self.concurrency > 1 && entries.len() > 1 {
            return self.handle_concurrently(entries);
        }
        let mut done = Vec::with_capacity(entries.len());
        for (entry, deliveries) in entries {
            let settle = match self.protocol.plan(&entry, deliveries) {
                Plan::Acknowledge => Settle::Acknowledge,
                Plan::DeadLetter { error, attempts } => Settle::DeadLetter { error, attempts },
                Plan::Dispatch { earlier } => {
                    let shutdown = self.shutdown.clone();
                    let (outcome, attempts) =
                        deliver_with_retries(|| deliver_fields(&entry.fields), &self.protocol.settings.retry, &|| {
                            shutdown.is_shutdown()
                        });
                    self.protocol.settle(outcome, attempts, earlier, self.shutdown.is_shutdown())
                }
            };
            match settle {
                Settle::Acknowledge => {}
                Settle::DeadLetter { error, attempts } => {
                    let command = self.protocol.dead_letter(&entry, &error, attempts);
                    self.run(&command)?;
                    self.protocol.dead_lettered();
                }
                Settle::LeavePending => break,
            }
            done.push(entry.id);
            if self.shutdown.is_shutdown() {
                break;
            }
        }
        self.acknowledge(&done)
    }

    /// [`handle`](Self::handle) with up to `concurrency` keys dispatched at once (see
    /// [`RedisConsumerBuilder::concurrency`]); what was not dispatched because of a shutdown
    /// stays pending.
    fn handle_concurrently(&mut self, entries: Vec<(EntryRef<'_>, u64)>) -> RedisResult<()> {
        let plans: Vec<Plan> =
            entries.iter().map(|(entry, deliveries)| self.protocol.plan(entry, *deliveries)).collect();
        let keyed = entries
            .iter()
            .zip(&plans)
            .enumerate()
            .filter(|(_, (_, plan))| matches!(plan, Plan::Dispatch { .. }))
            .map(|(index, ((entry, _), _))| (index, message_event_key(&entry.fields).map(|key| key.to_string())));
        let (shutdown, retry) = (self.shutdown.clone(), self.protocol.settings.retry);
        let mut outcomes = run_lanes(lanes(keyed), entries.len(), self.concurrency, |index| {
            let stop = || shutdown.is_shutdown();
            let outcome = deliver_with_retries(|| deliver_fields(&entries[index].0.fields), &retry, &stop);
            (outcome, !stop())
        });
        let mut done = Vec::with_capacity(entries.len());
        for (index, ((entry, _), plan)) in entries.iter().zip(plans).enumerate() {
            let settle = match plan {
                Plan::Acknowledge => Settle::Acknowledge,
                Plan::DeadLetter { error, attempts } => Settle::DeadLetter { error, attempts },
                Plan::Dispatch { earlier } => match outcomes[index].take() {
                    Some((outcome, attempts)) => {
                        self.protocol.settle(outcome, attempts, earlier, self.shutdown.is_shutdown())
                    }
                    None => Settle::LeavePending,
                },
            };
            match settle {
                Settle::Acknowledge => {}
                Settle::DeadLetter { error, attempts } => {
                    let command = self.protocol.dead_letter(entry, &error, attempts);
                    self.run(&command)?;
                    self.protocol.dead_lettered();
                }
                Settle::LeavePending => continue,
            }
            done.push(entry.id);
        }
        self.acknowledge(&done)
    }

    /// Acknowledges the handled ids (after the hook), now or with the next read.
    fn acknowledge(&mut self, done: &[&str]) -> RedisResult<()> {
        if let Some(acknowledge) = self.protocol.acknowledge(done) {
            if let Some(hook) = &mut self.before_acknowledge {
                hook();
            }
            if self.defer_acks && self.fast_target.is_some() {
                // One acknowledgement waits at a time. An earlier one still waiting (a short
                // batch read ahead sends no read of its own to carry it) goes out now.
                if let Some(earlier) = self.deferred_ack.replace(acknowledge) {
                    // With replies owed, its reply comes after theirs.
                    let owing = !self.owed.is_empty();
                    if let Some(fast) = self.fast()? {
                        if owing {
                            fast.send(&[&earlier])?;
                            self.owed.acknowledgement();
                        } else {
                            fast.request(&earlier)?;
                        }
                    }
                }
            } else {
                match self.fast()? {
                    Some(fast) => drop(fast.request(&acknowledge)?),
                    None => drop(self.run(&acknowledge)?),
                }
            }
        }
        Ok(())
    }
}

impl EventBusConsumer for RedisConsumer {
    /// Polls until shut down. A Redis error drops the connection and pauses (doubling from
    /// `poll_failure_sleep` up to 30 s) before reconnecting; after
    /// `consecutive_errors_limit` errors in a row it gives up.
    fn consume_indefinitely(&mut self) -> Result<(), ConsumeError> {
        let protocol = &self.protocol;
        tracing::info!(stream = %protocol.full_topic, group = %protocol.group, consumer = %protocol.consumer, "consuming");
        self.defer_acks = true;
        while !self.shutdown.is_shutdown() {
            match self.round() {
                Ok(_) => self.protocol.succeeded(),
                Err(error) => {
                    self.disconnect();
                    match self.protocol.failed(&error) {
                        OnError::Resume => {}
                        OnError::Reconnect(pause) => sleep_unless_shutdown(pause, &self.shutdown),
                        OnError::GiveUp(count) => {
                            return Err(ConsumeError::TooManyErrors { count, last: Box::new(error) });
                        }
                    }
                }
            }
        }
        self.defer_acks = false;
        if let Err(error) = self.finish_read_ahead().and_then(|()| self.flush_ack()) {
            // What it covered stays pending, and is taken back by whoever consumes next.
            tracing::warn!(stream = %self.protocol.full_topic, "the last acknowledgement failed: {error}");
        }
        tracing::info!(stream = %self.protocol.full_topic, stats = ?self.protocol.stats, "consumer stopped");
        Ok(())
    }

    fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }
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
