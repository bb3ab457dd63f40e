//! [`BackgroundProducer`]: producing that never blocks the sender. Messages go into a bounded
//! queue and a thread of the producer's own sends them, in order, in batches; a bus that is
//! unreachable is waited for, and what cannot be produced is reported, never dropped in silence.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{EventBusProducer, EventKey, OutgoingMessage, ProduceError};
use crate::metadata::EventsMetadata;
use crate::signal::AnySignal;

/// The longest pause between two tries while the bus stays unreachable.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(5);

/// A message as the queue keeps it: everything the backend needs, owned.
struct QueuedMessage {
    signal: &'static dyn AnySignal,
    topic: String,
    event_key_field: Option<String>,
    event_key: Option<EventKey>,
    event_data: Vec<u8>,
    metadata: EventsMetadata,
}

impl QueuedMessage {
    fn of(message: &OutgoingMessage<'_>) -> Self {
        QueuedMessage {
            signal: message.signal,
            topic: message.topic.to_owned(),
            event_key_field: message.event_key_field.map(str::to_owned),
            event_key: message.event_key.cloned(),
            event_data: message.event_data.to_vec(),
            metadata: message.metadata.clone(),
        }
    }

    fn as_outgoing(&self) -> OutgoingMessage<'_> {
        OutgoingMessage::new(
            self.signal,
            &self.topic,
            self.event_key_field.as_deref(),
            &self.event_data,
            &self.metadata,
        )
        .with_key(self.event_key.as_ref())
    }

    /// Logs the message with its metadata and data as JSON, so that it can be produced again by
    /// hand: the last resort for what the bus refused for good or never got.
    fn log_lost(&self, why: &dyn std::fmt::Display) {
        let data = self.signal.avro_to_json(&self.event_data).map(|json| json.to_string()).unwrap_or_default();
        tracing::error!(
            event_type = self.signal.event_type(),
            topic = %self.topic,
            metadata = %self.metadata.to_json(),
            data = %data,
            "an event was not produced to the event bus: {why}"
        );
    }
}

enum Command {
    Message(Box<QueuedMessage>),
    /// Answered once everything queued before it has been produced or given up on.
    Flush(Box<dyn FnOnce() + Send>),
}

/// What a [`BackgroundProducer`] has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackgroundStats {
    /// Messages the bus accepted.
    pub produced: u64,
    /// Messages refused because the queue was full (each reported to its sender and logged).
    pub rejected: u64,
    /// Messages the bus refused for good, or that were still queued at shutdown (each logged).
    pub lost: u64,
    /// Failed tries that were retried because the bus was unreachable or busy.
    pub retries: u64,
}

#[derive(Default)]
struct Counters {
    produced: AtomicU64,
    rejected: AtomicU64,
    lost: AtomicU64,
    retries: AtomicU64,
}

struct Shared {
    counters: Counters,
    stopping: AtomicBool,
}

/// Builds a [`BackgroundProducer`].
#[must_use = "a builder does nothing until `start`"]
pub struct BackgroundProducerBuilder {
    inner: Arc<dyn EventBusProducer>,
    capacity: usize,
    batch_size: usize,
    retry_pause: Duration,
}

impl BackgroundProducerBuilder {
    /// How many messages the queue holds; 10,000 by default. When it is full (the bus has been
    /// unreachable for a while), new messages are refused.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How many queued messages one send to the backend takes at most; 500 by default.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The first pause before sending again after the bus was unreachable; it doubles up to 5 s.
    /// 100 ms by default.
    pub fn retry_pause(mut self, pause: Duration) -> Self {
        self.retry_pause = pause;
        self
    }

    /// Starts the producer's thread.
    pub fn start(self) -> BackgroundProducer {
        let (sender, commands) = std::sync::mpsc::sync_channel(self.capacity);
        let shared = Arc::new(Shared { counters: Counters::default(), stopping: AtomicBool::new(false) });
        let worker = Worker {
            inner: self.inner,
            commands,
            shared: Arc::clone(&shared),
            batch_size: self.batch_size,
            retry_pause: self.retry_pause,
        };
        let thread =
            std::thread::Builder::new().name("openedx-events-producer".to_owned()).spawn(move || worker.run()).ok();
        BackgroundProducer {
            sender: Mutex::new(Some(sender)),
            shared,
            thread: Mutex::new(thread),
            capacity: self.capacity,
        }
    }
}

/// Producing that never blocks the sender: an [`EventBusProducer`] whose `send` only queues the
/// message, for a thread of its own to produce with the backend it wraps.
///
/// Give it to [`start_producing`](super::start_producing) in place of the backend. Then:
///
/// - `send_event` returns at once; the producing receiver's response is `Ok` once the message is
///   queued.
/// - **A full queue** (the bus has been down for a while): the message is refused; the producing
///   receiver's response holds [`ProduceError::QueueFull`], and the event's metadata and data are
///   logged as JSON so that it can be produced again.
/// - **An unreachable or busy bus** (a retryable error): the thread keeps the message and tries
///   again, with a pause doubling up to 5 s, and the messages after it wait behind it, so order is
///   kept; once the bus is back, everything queued meanwhile reaches it.
/// - **A refusal for good** (not retryable): the message is logged with its JSON and counted as
///   lost; the others go on.
/// - [`flush`](Self::flush) (or [`flush_async`](Self::flush_async)) waits for what is queued;
///   [`shutdown`](Self::shutdown) flushes, then stops the thread, logging what is left.
pub struct BackgroundProducer {
    sender: Mutex<Option<SyncSender<Command>>>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    capacity: usize,
}

impl BackgroundProducer {
    /// A builder for a producer in front of `inner` (a Redis or Kafka producer).
    pub fn builder(inner: Arc<dyn EventBusProducer>) -> BackgroundProducerBuilder {
        BackgroundProducerBuilder { inner, capacity: 10_000, batch_size: 500, retry_pause: Duration::from_millis(100) }
    }

    /// A producer in front of `inner` with the default queue (10,000 messages) and batches (500).
    pub fn start(inner: Arc<dyn EventBusProducer>) -> BackgroundProducer {
        Self::builder(inner).start()
    }

    /// What it has done so far.
    pub fn stats(&self) -> BackgroundStats {
        let counters = &self.shared.counters;
        BackgroundStats {
            produced: counters.produced.load(Ordering::Relaxed),
            rejected: counters.rejected.load(Ordering::Relaxed),
            lost: counters.lost.load(Ordering::Relaxed),
            retries: counters.retries.load(Ordering::Relaxed),
        }
    }

    fn sender(&self) -> Option<SyncSender<Command>> {
        self.sender.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits until everything queued before this call was produced or given up on, for at most
    /// `timeout`; false if time ran out. It blocks the calling thread: from async code use
    /// [`flush_async`](Self::flush_async).
    pub fn flush(&self, timeout: Duration) -> bool {
        let (done, wait) = std::sync::mpsc::channel();
        if !self.enqueue_flush(
            Box::new(move || {
                let _ = done.send(());
            }),
            timeout,
        ) {
            return false;
        }
        wait.recv_timeout(timeout).is_ok()
    }

    /// [`flush`](Self::flush) without blocking: resolves once everything queued before the call
    /// was produced or given up on (at once if the producer has stopped).
    pub async fn flush_async(&self) {
        let (done, wait) = futures::channel::oneshot::channel();
        let Some(sender) = self.sender() else { return };
        let command = Command::Flush(Box::new(move || {
            let _ = done.send(());
        }));
        // A full queue: wait for room off the runtime's threads, on a helper thread.
        match sender.try_send(command) {
            Ok(()) => {}
            Err(TrySendError::Full(command)) => {
                std::thread::spawn(move || drop(sender.send(command)));
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
        let _ = wait.await;
    }

    fn enqueue_flush(&self, answer: Box<dyn FnOnce() + Send>, timeout: Duration) -> bool {
        let Some(sender) = self.sender() else { return false };
        let deadline = Instant::now() + timeout;
        let mut command = Command::Flush(answer);
        loop {
            match sender.try_send(command) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    command = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TrySendError::Full(_)) => return false,
            }
        }
    }

    /// Flushes for at most `timeout`, then stops the thread; what is still queued is logged with
    /// its JSON and counted as lost. Later sends are refused. Returns whether everything was
    /// produced.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        let flushed = self.flush(timeout);
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Dropping the last sender ends the thread's loop once it has emptied the queue.
        self.sender.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = thread.join();
        }
        flushed && self.stats().lost == 0
    }
}

impl EventBusProducer for BackgroundProducer {
    /// Queues the message; an error, at once, only when the queue is full or the producer has
    /// stopped.
    fn send(&self, message: &OutgoingMessage<'_>) -> Result<(), ProduceError> {
        let refused = |error: ProduceError, queued: &QueuedMessage| {
            self.shared.counters.rejected.fetch_add(1, Ordering::Relaxed);
            queued.log_lost(&error);
            Err(error)
        };
        let queued = QueuedMessage::of(message);
        let Some(sender) = self.sender() else {
            return refused(ProduceError::NotConfigured("the background producer has shut down".to_owned()), &queued);
        };
        match sender.try_send(Command::Message(Box::new(queued))) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(Command::Message(queued))) => {
                refused(ProduceError::QueueFull { capacity: self.capacity }, &queued)
            }
            Err(TrySendError::Disconnected(Command::Message(queued))) => {
                refused(ProduceError::NotConfigured("the background producer has shut down".to_owned()), &queued)
            }
            Err(_) => Ok(()),
        }
    }

    fn flush(&self, timeout: Duration) -> Result<(), ProduceError> {
        if BackgroundProducer::flush(self, timeout) {
            Ok(())
        } else {
            Err(ProduceError::NotConfigured(format!("the background producer did not empty its queue in {timeout:?}")))
        }
    }
}

impl Drop for BackgroundProducer {
    /// Stops taking messages without waiting (a drop must not block, on a runtime's thread
    /// least of all): the thread produces what is queued if the bus is there, and logs it if not.
    /// Call [`shutdown`](Self::shutdown) to wait for it.
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.sender.lock().unwrap_or_else(PoisonError::into_inner).take();
    }
}

impl std::fmt::Debug for BackgroundProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackgroundProducer")
            .field("capacity", &self.capacity)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

struct Worker {
    inner: Arc<dyn EventBusProducer>,
    commands: Receiver<Command>,
    shared: Arc<Shared>,
    batch_size: usize,
    retry_pause: Duration,
}

impl Worker {
    fn run(self) {
        // Messages taken off the channel and not yet produced, oldest first; flushes wait behind
        // the messages queued before them.
        let mut pending: VecDeque<Command> = VecDeque::new();
        let mut pause = self.retry_pause;
        let mut connected = true;
        loop {
            if pending.is_empty() {
                match self.commands.recv() {
                    Ok(command) => pending.push_back(command),
                    Err(_) => return,
                }
            }
            while pending.len() < self.batch_size {
                match self.commands.try_recv() {
                    Ok(command) => pending.push_back(command),
                    Err(_) => break,
                }
            }
            // Answer the flushes at the front: nothing is queued before them.
            while let Some(Command::Flush(_)) = pending.front() {
                if let Some(Command::Flush(answer)) = pending.pop_front() {
                    answer();
                }
            }
            let batch: Vec<&QueuedMessage> = pending
                .iter()
                .take_while(|command| matches!(command, Command::Message(_)))
                .filter_map(|command| match command {
                    Command::Message(message) => Some(&**message),
                    Command::Flush(_) => None,
                })
                .collect();
            if batch.is_empty() {
                continue;
            }
            if self.shared.stopping.load(Ordering::SeqCst) && !connected {
                // Shutting down while the bus is away: what is left is logged, not waited for.
                for command in pending.drain(..) {
                    match command {
                        Command::Message(message) => {
                            self.lose(&message, &"the producer shut down before the bus was back")
                        }
                        Command::Flush(answer) => answer(),
                    }
                }
                continue;
            }
            let messages: Vec<OutgoingMessage<'_>> = batch.iter().map(|message| message.as_outgoing()).collect();
            let outcomes = self.inner.send_batch(&messages);
            drop(messages);
            // Everything up to the first retryable failure is done (produced or lost for good);
            // that one and those after it wait for the next try, so order is kept.
            let mut done = 0;
            let mut retry = false;
            for (message, outcome) in batch.iter().zip(outcomes.iter().map(Some).chain(std::iter::repeat(None))) {
                match outcome {
                    Some(Ok(())) => {
                        self.shared.counters.produced.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Err(error)) if error.is_retryable() => {
                        tracing::warn!(
                            event_type = message.signal.event_type(),
                            topic = %message.topic,
                            "the event bus is unreachable; trying again in {pause:?}: {error}"
                        );
                        retry = true;
                        break;
                    }
                    Some(Err(error)) => self.lose(message, error),
                    None => self.lose(message, &"the backend gave no outcome for it"),
                }
                done += 1;
            }
            pending.drain(..done);
            if retry {
                connected = false;
                self.shared.counters.retries.fetch_add(1, Ordering::Relaxed);
                self.wait(pause);
                pause = (pause * 2).min(MAX_RETRY_PAUSE);
            } else {
                connected = true;
                pause = self.retry_pause;
            }
        }
    }

    fn lose(&self, message: &QueuedMessage, why: &dyn std::fmt::Display) {
        self.shared.counters.lost.fetch_add(1, Ordering::Relaxed);
        message.log_lost(why);
    }

    /// Pauses before a retry, waking early for a shutdown.
    fn wait(&self, pause: Duration) {
        let until = Instant::now() + pause;
        while !self.shared.stopping.load(Ordering::SeqCst) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }
}
