//! [`AsyncRedisConsumer`]: the async driver (on tokio) of the protocol in [`crate::protocol`],
//! with every guarantee of the blocking [`RedisConsumer`](crate::RedisConsumer): acknowledged only
//! after dispatch, retries with back-off, dead letters, reclaim of pending messages,
//! reconnection and the consecutive-error limit. It dispatches to synchronous and async
//! receivers, and never blocks a runtime thread.

use std::future::Future;
use std::pin::{Pin, pin};

use futures::FutureExt as _;
use futures::future::Fuse;
use openedx_events::event_bus::{ConsumeError, deliver_fields_async, deliver_with_retries_async};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, ErrorKind, RedisError, RedisResult, Value};

use crate::COMMAND_TIMEOUT;
use crate::consumer::{BeforeAcknowledge, ConsumerStats};
use crate::fast::{AsyncFastConnection, Owed, Owing, Target};
use crate::protocol::{MAX_AUTOCLAIM_SCANS, MAX_BLOCK, OnError, Plan, Protocol, Settle};
use crate::reply::checked;
use crate::resp::{EntryRef, read_entries};

/// Consumes one topic as a member of a consumer group, on an async connection; built with
/// [`RedisConsumerBuilder::build_async`](crate::RedisConsumerBuilder::build_async).
///
/// ```no_run
/// use openedx_events_redis::{RedisConsumer, RedisSettings, StartFrom};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let mut consumer = RedisConsumer::builder(RedisSettings::from_env()?)
///     .topic("course-enrollment")
///     .group("my-service")
///     .consumer_name("my-service-1")
///     .start(StartFrom::End)
///     .build_async()?;
/// // Stops on Ctrl-C, once the message in hand is done.
/// consumer.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// # Ok(())
/// # }
/// ```
pub struct AsyncRedisConsumer {
    client: Client,
    connection: Option<MultiplexedConnection>,
    /// Where the fast connection goes; `None` for URLs it does not speak.
    fast_target: Option<Target>,
    fast: Option<AsyncFastConnection>,
    protocol: Protocol,
    before_acknowledge: Option<BeforeAcknowledge>,
    /// Inside [`run`](AsyncRedisConsumer::run): acknowledgements go out with the next read, and
    /// full batches are followed by a read ahead, as the blocking consumer does when it
    /// consumes indefinitely.
    consuming: bool,
    /// An acknowledgement to send with the next read.
    deferred_ack: Option<Cmd>,
    /// The replies the fast connection still owes, in order (reads sent ahead, and the
    /// acknowledgements sent with them).
    owed: Owing,
}

impl std::fmt::Debug for AsyncRedisConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncRedisConsumer")
            .field("stream", &self.protocol.full_topic)
            .field("group", &self.protocol.group)
            .field("consumer", &self.protocol.consumer)
            .field("stats", &self.protocol.stats)
            .finish_non_exhaustive()
    }
}

/// The shutdown future, polled where a consumer may stop, and whether it has resolved.
struct Stop<'a, S: Future<Output = ()>> {
    signal: Pin<&'a mut Fuse<S>>,
    asked: bool,
}

impl<S: Future<Output = ()>> Stop<'_, S> {
    /// Whether a shutdown was asked for, checked without waiting.
    fn asked(&mut self) -> bool {
        if !self.asked {
            self.asked = self.signal.as_mut().now_or_never().is_some();
        }
        self.asked
    }
}

impl AsyncRedisConsumer {
    pub(crate) fn new(client: Client, protocol: Protocol, before_acknowledge: Option<BeforeAcknowledge>) -> Self {
        let fast_target = Target::of(client.get_connection_info());
        AsyncRedisConsumer {
            client,
            connection: None,
            fast_target,
            fast: None,
            protocol,
            before_acknowledge,
            consuming: false,
            deferred_ack: None,
            owed: Owing::default(),
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

    /// Consumes until `shutdown` resolves (then it finishes the message in hand, acknowledges
    /// what is done, and returns), or until it gives up after `consecutive_errors_limit` errors
    /// in a row. A Redis error drops the connection and pauses (doubling from
    /// `poll_failure_sleep` up to 30 s) before reconnecting.
    pub async fn run(&mut self, shutdown: impl Future<Output = ()> + Send) -> Result<(), ConsumeError> {
        let signal = pin!(shutdown.fuse());
        let mut stop = Stop { signal, asked: false };
        let protocol = &self.protocol;
        tracing::info!(stream = %protocol.full_topic, group = %protocol.group, consumer = %protocol.consumer, "consuming");
        self.consuming = self.fast_target.is_some();
        while !stop.asked() {
            match self.round(&mut stop).await {
                Ok(_) => self.protocol.succeeded(),
                Err(error) => {
                    self.disconnect();
                    match self.protocol.failed(&error) {
                        OnError::Resume => {}
                        OnError::Reconnect(pause) => {
                            tokio::select! {
                                biased;
                                () = stop.signal.as_mut() => stop.asked = true,
                                () = tokio::time::sleep(pause) => {}
                            }
                        }
                        OnError::GiveUp(count) => {
                            self.consuming = false;
                            return Err(ConsumeError::TooManyErrors { count, last: Box::new(error) });
                        }
                    }
                }
            }
        }
        self.consuming = false;
        if let Err(error) = self.finish_read_ahead().await {
            // What it covered stays pending, and is taken back by whoever consumes next.
            tracing::warn!(stream = %self.protocol.full_topic, "the last acknowledgement failed: {error}");
        }
        tracing::info!(stream = %self.protocol.full_topic, stats = ?self.protocol.stats, "consumer stopped");
        Ok(())
    }

    /// One round, as the blocking consumer's `poll`; returns how many messages it handled.
    pub async fn poll(&mut self) -> RedisResult<usize> {
        let signal = pin!(futures::future::pending::<()>().fuse());
        self.round(&mut Stop { signal, asked: false }).await
    }

    /// Drops both connections, after an error or a cancelled read: the next round starts
    /// afresh. A read sent ahead and a deferred acknowledgement are lost with them: their
    /// messages stay pending to this consumer, which takes them back first (at least once).
    fn disconnect(&mut self) {
        self.connection = None;
        self.fast = None;
        self.owed.clear();
        self.deferred_ack = None;
        self.protocol.recover_soon();
    }

    /// When the consumer stops: reads the replies of a read sent ahead (what it read stays
    /// pending to this consumer: it takes it back first thing when it starts again, others once
    /// it has been idle for `claim_idle_time`), then sends the deferred acknowledgement.
    async fn finish_read_ahead(&mut self) -> RedisResult<()> {
        if let Some(fast) = self.fast.as_mut() {
            let mut left = 0;
            while let Some(owed) = self.owed.next() {
                let reply = fast.receive().await?;
                if owed == Owed::Read {
                    left += read_entries(&reply.tokens, &reply.bytes).len();
                }
            }
            if left > 0 {
                tracing::debug!(stream = %self.protocol.full_topic, left, "messages read ahead stay pending to this consumer");
            }
        }
        self.owed.clear();
        self.flush_ack().await
    }

    /// Keeps [`Protocol::READS_AHEAD`] reads sent ahead, the deferred acknowledgement going
    /// out with them.
    async fn send_reads_ahead(&mut self) -> RedisResult<()> {
        let Some(fast) = self.fast.as_mut() else { return Ok(()) };
        if let Some(top_up) = self.owed.top_up(|| self.protocol.read_ahead(), &mut self.deferred_ack) {
            fast.send(&top_up.commands()).await?;
        }
        Ok(())
    }

    /// Sends a deferred acknowledgement now.
    async fn flush_ack(&mut self) -> RedisResult<()> {
        if let Some(acknowledge) = self.deferred_ack.take() {
            self.batch_command(&acknowledge).await?;
        }
        Ok(())
    }

    /// Whether to ask for the next batch before dispatching one of `entries` messages: only
    /// inside `run`, on the fast connection, with the stream busy.
    fn reads_ahead<S: Future<Output = ()> + Send>(&self, entries: usize, stop: &mut Stop<'_, S>) -> bool {
        self.consuming && self.fast.is_some() && !stop.asked() && self.protocol.worth_reading_ahead(entries)
    }

    async fn connection(&mut self) -> RedisResult<&mut MultiplexedConnection> {
        if self.connection.is_none() {
            let block = self.protocol.settings.poll_timeout.min(MAX_BLOCK);
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(COMMAND_TIMEOUT))
                .set_response_timeout(Some(block + COMMAND_TIMEOUT));
            self.connection = Some(self.client.get_multiplexed_async_connection_with_config(&config).await?);
        }
        self.connection.as_mut().ok_or_else(|| RedisError::from((ErrorKind::Client, "no connection")))
    }

    async fn run_command(&mut self, command: &Cmd) -> RedisResult<Value> {
        checked(self.connection().await?.send_packed_command(command).await?)
    }

    /// The fast connection, connected if need be; `None` when the URL is not plain TCP.
    async fn fast(&mut self) -> RedisResult<Option<&mut AsyncFastConnection>> {
        let Some(target) = &self.fast_target else { return Ok(None) };
        if self.fast.is_none() {
            let block = self.protocol.settings.poll_timeout.min(MAX_BLOCK);
            self.fast = Some(AsyncFastConnection::connect(target, COMMAND_TIMEOUT, block + COMMAND_TIMEOUT).await?);
        }
        Ok(self.fast.as_mut())
    }

    /// Sends a per-batch command (a read, an acknowledgement): on the fast connection when there
    /// is one. The reply is the fast connection's, or redis-rs's turned into its entries.
    async fn batch_command(&mut self, command: &Cmd) -> RedisResult<BatchReply> {
        match self.fast().await? {
            Some(fast) => Ok(BatchReply::Fast(fast.request(command).await?)),
            None => Ok(BatchReply::Slow(self.run_command(command).await?)),
        }
    }

    async fn round<S: Future<Output = ()> + Send>(&mut self, stop: &mut Stop<'_, S>) -> RedisResult<usize> {
        if self.fast.as_ref().is_some_and(|fast| fast.unread() != self.owed.len()) {
            // A future of this consumer's was dropped while it waited for a reply: what that
            // read delivered is pending to this consumer, and taken back first.
            self.disconnect();
        }
        if !self.owed.is_empty() {
            return self.read_ahead_round(stop).await;
        }
        if self.protocol.group_setup().is_some() || self.protocol.recovery_due() {
            self.flush_ack().await?;
        }
        if let Some((create, move_to)) = self.protocol.group_setup() {
            match self.run_command(&create).await {
                Ok(_) => {}
                Err(error) if Protocol::group_exists(&error) => {
                    if let Some(set_id) = move_to {
                        self.run_command(&set_id).await?;
                    }
                }
                Err(error) => return Err(error),
            }
            self.protocol.group_is_ready();
        }
        if self.protocol.recovery_due() {
            let recovered = self.recover(stop).await?;
            if recovered > 0 {
                return Ok(recovered);
            }
            self.protocol.recovery_done();
        }
        let read = self.protocol.read();
        // The blocking read is where a consumer waits: a shutdown ends the wait at once (the
        // read, cancelled, delivered nothing, or what it delivered is pending and taken back;
        // the acknowledgement sent with it is sent again when the consumer stops).
        let acknowledge = self.deferred_ack.take();
        let reply = tokio::select! {
            biased;
            () = stop.signal.as_mut() => None,
            reply = self.read_batch(acknowledge.as_ref(), &read) => Some(reply?),
        };
        let Some(reply) = reply else {
            stop.asked = true;
            self.disconnect();
            self.deferred_ack = acknowledge;
            return Ok(0);
        };
        let owned;
        let entries: Vec<EntryRef<'_>> = match &reply {
            BatchReply::Fast(reply) => read_entries(&reply.tokens, &reply.bytes),
            BatchReply::Slow(value) => {
                owned = Protocol::read_entries(value.clone());
                owned.iter().map(EntryRef::of).collect()
            }
        };
        let handled = entries.len();
        if self.reads_ahead(handled, stop) {
            self.send_reads_ahead().await?;
        }
        self.handle(entries.into_iter().map(|entry| (entry, 0)).collect(), stop).await?;
        Ok(handled)
    }

    /// The read of a round, with the last round's acknowledgement before it when there is one.
    async fn read_batch(&mut self, acknowledge: Option<&Cmd>, read: &Cmd) -> RedisResult<BatchReply> {
        match (acknowledge, self.fast().await?) {
            (Some(acknowledge), Some(fast)) => Ok(BatchReply::Fast(fast.request_two(acknowledge, read).await?.1)),
            (Some(acknowledge), None) => {
                self.run_command(acknowledge).await?;
                self.batch_command(read).await
            }
            (None, _) => self.batch_command(read).await,
        }
    }

    /// A round whose read went out ahead, during an earlier one: the replies owed before it
    /// (acknowledgements) and its own are read, and the reads ahead are topped up, the last
    /// round's acknowledgement with them. Reads ahead do not block, so their replies come at
    /// once and a shutdown need not interrupt them.
    async fn read_ahead_round<S: Future<Output = ()> + Send>(&mut self, stop: &mut Stop<'_, S>) -> RedisResult<usize> {
        let Some(fast) = self.fast.as_mut() else {
            return Err(RedisError::from((ErrorKind::Client, "no connection for the read ahead")));
        };
        loop {
            match self.owed.next() {
                Some(Owed::Acknowledgement) => drop(fast.receive().await?),
                Some(Owed::Read) => break,
                None => return Ok(0),
            }
        }
        let reply = fast.receive().await?;
        let entries = read_entries(&reply.tokens, &reply.bytes);
        let handled = entries.len();
        if self.reads_ahead(handled, stop) {
            self.send_reads_ahead().await?;
        }
        self.handle(entries.into_iter().map(|entry| (entry, 0)).collect(), stop).await?;
        Ok(handled)
    }

    async fn recover<S: Future<Output = ()> + Send>(&mut self, stop: &mut Stop<'_, S>) -> RedisResult<usize> {
        let pending = self.run_command(&self.protocol.own_pending()).await?;
        let mut claimed = match self.protocol.claim_own(&pending) {
            Some(claim) => Protocol::claimed(self.run_command(&claim).await?),
            None => Vec::new(),
        };
        let mut cursor = Some(self.protocol.autoclaim_cursor());
        let mut scans = 0;
        while claimed.is_empty() && scans < MAX_AUTOCLAIM_SCANS {
            let Some(from) = cursor.take() else { break };
            scans += 1;
            let (entries, next) = Protocol::autoclaimed(self.run_command(&self.protocol.autoclaim(&from)).await?);
            claimed = entries;
            cursor = next;
        }
        self.protocol.scanned_to(cursor);
        if claimed.is_empty() {
            return Ok(0);
        }
        let mut with_counts = Vec::with_capacity(claimed.len());
        for entry in &claimed {
            let deliveries = Protocol::deliveries(self.run_command(&self.protocol.delivery_count(&entry.id)).await?);
            with_counts.push((EntryRef::of(entry), deliveries));
        }
        self.protocol.reclaimed(with_counts.len());
        let handled = with_counts.len();
        self.handle(with_counts, stop).await?;
        Ok(handled)
    }

    async fn handle<S: Future<Output = ()> + Send>(
        &mut self,
        entries: Vec<(EntryRef<'_>, u64)>,
        stop: &mut Stop<'_, S>,
    ) -> RedisResult<()> {
        let mut done = Vec::with_capacity(entries.len());
        for (entry, deliveries) in entries {
            let settle = match self.protocol.plan(&entry, deliveries) {
                Plan::Acknowledge => Settle::Acknowledge,
                Plan::DeadLetter { error, attempts } => Settle::DeadLetter { error, attempts },
                Plan::Dispatch { earlier } => {
                    let retry = self.protocol.settings.retry;
                    let (outcome, attempts) =
                        deliver_with_retries_async(|| deliver_fields_async(&entry.fields), &retry, &mut || {
                            stop.asked()
                        })
                        .await;
                    self.protocol.settle(outcome, attempts, earlier, stop.asked())
                }
            };
            match settle {
                Settle::Acknowledge => {}
                Settle::DeadLetter { error, attempts } => {
                    let command = self.protocol.dead_letter(&entry, &error, attempts);
                    self.run_command(&command).await?;
                    self.protocol.dead_lettered();
                }
                Settle::LeavePending => break,
            }
            done.push(entry.id);
            if stop.asked() {
                break;
            }
        }
        if let Some(acknowledge) = self.protocol.acknowledge(&done) {
            if let Some(hook) = &mut self.before_acknowledge {
                hook();
            }
            if self.consuming {
                // One acknowledgement waits at a time: an earlier one still waiting (a short
                // batch read ahead sends no read of its own to carry it) goes out now.
                if let Some(earlier) = self.deferred_ack.replace(acknowledge) {
                    if self.owed.is_empty() {
                        self.batch_command(&earlier).await?;
                    } else if let Some(fast) = self.fast.as_mut() {
                        // Its reply comes after those already owed.
                        fast.send(&[&earlier]).await?;
                        self.owed.acknowledgement();
                    }
                }
            } else {
                self.batch_command(&acknowledge).await?;
            }
        }
        Ok(())
    }
}

/// The reply to a per-batch command.
enum BatchReply {
    /// Read in place by the fast connection.
    Fast(crate::fast::Reply),
    /// Read by redis-rs (a URL the fast connection does not speak).
    Slow(Value),
}
