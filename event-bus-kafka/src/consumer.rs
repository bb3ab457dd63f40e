//! [`KafkaConsumer`]: one topic consumed as a member of a consumer group, each message's offset
//! stored for commit only after the message was dispatched or dead-lettered.
//!
//! librdkafka runs with `enable.auto.offset.store=false`: the offset of a message is stored
//! (`store_offset`) once it is done with, and only stored offsets are committed, every second,
//! before partitions are revoked in a rebalance, and when the consumer stops. A consumer that dies
//! leaves its unfinished messages uncommitted, so the group's next owner of the partition
//! dispatches them again: at least once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use openedx_events::event_bus::{
    ConsumeError, Delivery, EventBusConsumer, MetadataHeader, ReceivedEvent, RetryPolicy, ShutdownHandle,
    UnusableMessage, dead_letter_topic, deliver_with_retries, metadata_from_headers,
};
use openedx_events::{AnySignal, get_signal_by_type};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};
use rdkafka::producer::ThreadedProducer;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

use crate::admin::create_topic;
use crate::close::Closing;
use crate::decode::{DecodeFailure, LastPlan, Plans};
use crate::framing::unframe;
use crate::producer::{DeliveryContext, raw_producer, send_and_wait};
use crate::registry::SchemaRegistry;
use crate::settings::KafkaSettings;
use crate::wire::{DEAD_LETTER_ATTEMPTS_HEADER, DEAD_LETTER_ERROR_HEADER, DEAD_LETTER_ORIGIN_HEADER, header_name};

/// How long metadata and commit requests may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a new consumer group starts reading. An existing group always resumes from its
/// committed offsets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StartFrom {
    /// After the last message now in the topic: only what is produced from now on (librdkafka's
    /// default, as upstream).
    #[default]
    End,
    /// At the first message still in the topic.
    Beginning,
    /// At the first message produced at or after this time (upstream's `offset_time`).
    Timestamp(DateTime<Utc>),
}

/// Counts of what a consumer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Messages dispatched with every receiver succeeding.
    pub delivered: u64,
    /// Messages moved to the dead-letter topic.
    pub dead_lettered: u64,
    /// Times a message was put back to be read again (the registry or the dead-letter topic
    /// could not be reached).
    pub rewound: u64,
}

/// The consumer's librdkafka context: commits what is stored before partitions are revoked, so
/// the next owner starts after what this consumer finished.
pub(crate) struct CommitOnRevoke;

impl ClientContext for CommitOnRevoke {}

impl ConsumerContext for CommitOnRevoke {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(_) = rebalance {
            commit_stored::<Self, _>(consumer, "before a rebalance");
        }
    }
}

/// Commits the stored offsets, synchronously; nothing stored is not a failure.
pub(crate) fn commit_stored<C: ConsumerContext, K: Consumer<C>>(consumer: &K, when: &str) {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(error) => tracing::warn!("cannot commit Kafka offsets {when}: {error}"),
    }
}

/// Builds a [`KafkaConsumer`]: the topic and the group are required; the rest has defaults.
#[must_use = "a builder does nothing until `build`"]
#[derive(Debug)]
pub struct KafkaConsumerBuilder {
    pub(crate) settings: KafkaSettings,
    pub(crate) topic: Option<String>,
    pub(crate) group_id: Option<String>,
    pub(crate) start: StartFrom,
}

impl KafkaConsumerBuilder {
    /// The topic, without the prefix.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    /// The consumer group.
    pub fn group_id(mut self, group_id: impl Into<String>) -> Self {
        self.group_id = Some(group_id.into());
        self
    }

    /// Where a new group starts; [`StartFrom::End`] by default.
    pub fn start(mut self, start: StartFrom) -> Self {
        self.start = start;
        self
    }

    /// How receivers' failures are retried (else the settings').
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.settings.retry = retry;
        self
    }

    /// A librdkafka property for this consumer (`session.timeout.ms`, ...).
    pub fn property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.extra.push((name.into(), value.into()));
        self
    }

    /// The parts every consumer needs: the librdkafka consumer (not yet subscribed), its
    /// dead-letter producer, the registry; the dead-letter topic is created when missing.
    pub(crate) fn parts<C: ConsumerContext>(
        self,
        context: C,
    ) -> Result<(Parts, rdkafka::config::ClientConfig, C), ConsumeError> {
        let topic = self.topic.ok_or_else(|| ConsumeError::NotConfigured("no topic given".to_owned()))?;
        let group_id = self.group_id.ok_or_else(|| ConsumeError::NotConfigured("no group id given".to_owned()))?;
        let registry =
            SchemaRegistry::from_settings(&self.settings).map_err(|e| ConsumeError::NotConfigured(e.to_string()))?;
        let full_topic = self.settings.full_topic(&topic);
        let mut config = ClientConfig::new();
        config
            .set("group.id", &group_id)
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", if self.start == StartFrom::Beginning { "earliest" } else { "latest" });
        for (name, value) in self.settings.common_properties().map_err(ConsumeError::NotConfigured)? {
            config.set(name, value);
        }
        let dead_letters = Arc::new(raw_producer(&self.settings).map_err(ConsumeError::NotConfigured)?);
        let parts = Parts {
            full_topic,
            group_id,
            start: self.start,
            registry,
            plans: Plans::default(),
            last_plan: LastPlan::default(),
            signals: SignalCache::default(),
            dead_letters,
            settings: self.settings,
            stats: ConsumerStats::default(),
            shutdown: ShutdownHandle::default(),
        };
        Ok((parts, config, context))
    }

    /// The consumer: it joins the group on its first poll. The dead-letter topic is created
    /// when missing (with the topic's partitions and replicas); with [`StartFrom::Timestamp`]
    /// and a group that has committed nothing yet, the group's offsets are set to that time.
    pub fn build(self) -> Result<KafkaConsumer, ConsumeError> {
        let (parts, config, context) = self.parts(CommitOnRevoke)?;
        let consumer: BaseConsumer<CommitOnRevoke> = config
            .create_with_context(context)
            .map_err(|e| ConsumeError::NotConfigured(format!("the Kafka consumer cannot be created: {e}")))?;
        parts.prepare(&consumer)?;
        consumer.subscribe(&[&parts.full_topic]).map_err(|e| ConsumeError::backend(true, e))?;
        let consumer = Closing::new(consumer, &parts.full_topic);
        Ok(KafkaConsumer { consumer, parts })
    }
}

/// What a consumer needs besides its librdkafka consumer.
pub(crate) struct Parts {
    pub(crate) full_topic: String,
    pub(crate) group_id: String,
    pub(crate) start: StartFrom,
    pub(crate) registry: SchemaRegistry,
    pub(crate) plans: Plans,
    /// The plan of the last message, looked up without the shared map's lock.
    pub(crate) last_plan: LastPlan,
    /// The signal of the last message's event type.
    pub(crate) signals: SignalCache,
    pub(crate) dead_letters: Arc<ThreadedProducer<DeliveryContext>>,
    pub(crate) settings: KafkaSettings,
    pub(crate) stats: ConsumerStats,
    pub(crate) shutdown: ShutdownHandle,
}

/// A received message, as the handling needs it.
pub(crate) struct Incoming<'a> {
    pub(crate) topic: &'a str,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    pub(crate) headers: Vec<(&'a str, Option<&'a [u8]>)>,
}

impl<'a> Incoming<'a> {
    pub(crate) fn of(message: &'a BorrowedMessage<'a>) -> Self {
        // Sized once: the header iterator gives no size hint, so collecting would grow it twice.
        let headers = message
            .headers()
            .map(|headers| {
                let mut all = Vec::with_capacity(headers.count());
                all.extend(headers.iter().map(|header| (header.key, header.value)));
                all
            })
            .unwrap_or_default();
        Incoming {
            topic: message.topic(),
            partition: message.partition(),
            offset: message.offset(),
            key: message.key(),
            value: message.payload(),
            headers,
        }
    }
}

/// A message read into what dispatching needs: its signal with its metadata, writer schema id
/// and Avro bytes; or why it is unusable.
pub(crate) struct Parsed<'a> {
    pub(crate) event: ReceivedEvent,
    pub(crate) schema_id: u32,
    pub(crate) avro: &'a [u8],
}

/// The last event type a consumer read and its signal: consecutive messages mostly carry the
/// same type, and the signal registry never changes once built, so the lookup is skipped while
/// the type repeats.
#[derive(Default)]
pub(crate) struct SignalCache(Option<&'static dyn AnySignal>);

impl SignalCache {
    fn signal(&mut self, event_type: &str) -> Option<&'static dyn AnySignal> {
        match self.0 {
            Some(signal) if signal.event_type() == event_type => Some(signal),
            _ => {
                let signal = get_signal_by_type(event_type)?;
                self.0 = Some(signal);
                Some(signal)
            }
        }
    }
}

/// The index of a metadata header in [`MetadataHeader::ALL`].
fn slot(header: MetadataHeader) -> usize {
    MetadataHeader::ALL.iter().position(|h| *h == header).unwrap_or(0)
}

/// Reads the signal from the single `ce_type` header and the metadata from the headers, as
/// upstream does: `ce_id` is required, a missing optional header takes its default, a repeated
/// one makes the message unusable. The headers are read in one pass, each metadata header's
/// first value and count kept in a fixed array.
pub(crate) fn parse<'a>(incoming: &Incoming<'a>, signals: &mut SignalCache) -> Result<Parsed<'a>, UnusableMessage> {
    let mut values: [Option<&'a [u8]>; MetadataHeader::ALL.len()] = [None; MetadataHeader::ALL.len()];
    let mut counts = [0u32; MetadataHeader::ALL.len()];
    for (key, value) in &incoming.headers {
        if let Some(i) = MetadataHeader::ALL.iter().position(|h| header_name(*h) == *key) {
            counts[i] += 1;
            if values[i].is_none() {
                values[i] = Some(value.unwrap_or_default());
            }
        }
    }
    let type_slot = slot(MetadataHeader::Type);
    let event_type = match (counts[type_slot], values[type_slot]) {
        (1, Some(one)) => {
            std::str::from_utf8(one).map_err(|_| UnusableMessage("header `ce_type` is not UTF-8".to_owned()))?
        }
        (0, _) => return Err(UnusableMessage("Missing ce_type header on message, cannot determine signal".to_owned())),
        _ => {
            return Err(UnusableMessage(
                "Multiple ce_type headers found on message, cannot determine signal".to_owned(),
            ));
        }
    };
    let signal = signals.signal(event_type).ok_or_else(|| {
        UnusableMessage(format!("Unrecognized type {event_type} found on message, cannot determine signal"))
    })?;
    for (i, header) in MetadataHeader::ALL.into_iter().enumerate() {
        let name = header_name(header);
        match counts[i] {
            0 if header == MetadataHeader::Id => {
                return Err(UnusableMessage(format!("Missing \"{name}\" header on message, cannot continue")));
            }
            0 => tracing::warn!("Missing \"{name}\" header on message, will use EventsMetadata default"),
            1 => {}
            _ => {
                return Err(UnusableMessage(format!(
                    "Multiple \"{name}\" headers on message. Cannot determine correct metadata."
                )));
            }
        }
    }
    let metadata = metadata_from_headers(|header| values[slot(header)], header_name)
        .map_err(|e| UnusableMessage(format!("Error determining metadata from message headers: {}", e.0)))?;
    let value = incoming.value.ok_or_else(|| UnusableMessage("the message has no value".to_owned()))?;
    let (schema_id, avro) = unframe(value).map_err(|e| UnusableMessage(e.to_string()))?;
    Ok(Parsed { event: ReceivedEvent::for_signal(signal, metadata)?, schema_id, avro })
}

/// What became of one message.
pub(crate) enum Outcome {
    /// Dispatched or dead-lettered: store its offset.
    Done,
    /// Not finished (a shutdown came during retries): leave it uncommitted.
    Left,
    /// Not finished because something outside failed: read it again later.
    Rewind(String),
}

impl Parts {
    /// Creates the dead-letter topic when missing and sets a new group's start time.
    pub(crate) fn prepare<C: ConsumerContext, K: Consumer<C>>(&self, consumer: &K) -> Result<(), ConsumeError> {
        let metadata = consumer
            .fetch_metadata(Some(&self.full_topic), REQUEST_TIMEOUT)
            .map_err(|e| ConsumeError::backend(true, e))?;
        let partitions: Vec<(i32, i32)> = metadata
            .topics()
            .iter()
            .filter(|topic| topic.name() == self.full_topic && topic.error().is_none())
            .flat_map(|topic| {
                topic.partitions().iter().map(|p| (p.id(), i32::try_from(p.replicas().len()).unwrap_or(1)))
            })
            .collect();
        let count = i32::try_from(partitions.len()).unwrap_or(1).max(1);
        let replication = partitions.first().map_or(1, |(_, replicas)| (*replicas).max(1));
        create_topic(&self.settings, &dead_letter_topic(&self.full_topic), count, replication)
            .map_err(|e| ConsumeError::backend(true, e))?;
        if let StartFrom::Timestamp(time) = &self.start {
            self.seed_offsets(consumer, &partitions, *time)?;
        }
        Ok(())
    }

    /// For a group with no committed offsets on the topic, commits the offsets of the first
    /// messages at or after `time`.
    fn seed_offsets<C: ConsumerContext, K: Consumer<C>>(
        &self,
        consumer: &K,
        partitions: &[(i32, i32)],
        time: DateTime<Utc>,
    ) -> Result<(), ConsumeError> {
        let backend = |e: KafkaError| ConsumeError::backend(true, e);
        let mut all = TopicPartitionList::new();
        for (partition, _) in partitions {
            all.add_partition(&self.full_topic, *partition);
        }
        let committed = consumer.committed_offsets(all.clone(), REQUEST_TIMEOUT).map_err(backend)?;
        if committed.elements().iter().any(|e| matches!(e.offset(), Offset::Offset(_))) {
            return Ok(());
        }
        let mut wanted = TopicPartitionList::new();
        for (partition, _) in partitions {
            wanted
                .add_partition_offset(&self.full_topic, *partition, Offset::Offset(time.timestamp_millis()))
                .map_err(backend)?;
        }
        let found = consumer.offsets_for_times(wanted, REQUEST_TIMEOUT).map_err(backend)?;
        let mut seeds = TopicPartitionList::new();
        for element in found.elements() {
            let offset = match element.offset() {
                Offset::Offset(offset) => offset,
                // No message at or after the time: start after the last one.
                _ => {
                    consumer
                        .fetch_watermarks(&self.full_topic, element.partition(), REQUEST_TIMEOUT)
                        .map_err(backend)?
                        .1
                }
            };
            seeds
                .add_partition_offset(&self.full_topic, element.partition(), Offset::Offset(offset))
                .map_err(backend)?;
        }
        consumer.commit(&seeds, CommitMode::Sync).map_err(backend)
    }

    /// Handles one message: dispatches it with retries, or dead-letters it.
    pub(crate) fn handle(&mut self, incoming: &Incoming<'_>) -> Outcome {
        let parsed = match parse(incoming, &mut self.signals) {
            Ok(parsed) => parsed,
            Err(unusable) => return self.dead_letter(incoming, &unusable.to_string(), 0),
        };
        let avro = match self.plans.local_bytes(
            &mut self.last_plan,
            &self.registry,
            parsed.schema_id,
            parsed.event.signal(),
            parsed.avro,
        ) {
            Ok(avro) => avro,
            Err(DecodeFailure::Unusable(unusable)) => return self.dead_letter(incoming, &unusable.to_string(), 0),
            Err(DecodeFailure::Registry(error)) => return Outcome::Rewind(error.to_string()),
        };
        let shutdown = self.shutdown.clone();
        let (delivery, attempts) =
            deliver_with_retries(|| parsed.event.deliver(&avro), &self.settings.retry, &|| shutdown.is_shutdown());
        self.settle(incoming, delivery, attempts)
    }

    /// What to do after dispatching.
    pub(crate) fn settle(&mut self, incoming: &Incoming<'_>, delivery: Delivery, attempts: u32) -> Outcome {
        match delivery {
            Delivery::Delivered(_) => {
                self.stats.delivered += 1;
                Outcome::Done
            }
            Delivery::ReceiversFailed(_)
                if self.shutdown.is_shutdown() && attempts < self.settings.retry.max_attempts =>
            {
                Outcome::Left
            }
            Delivery::ReceiversFailed(reason) => self.dead_letter(incoming, &reason, attempts),
            Delivery::Unusable(unusable) => self.dead_letter(incoming, &unusable.to_string(), attempts),
            Delivery::Refused(reason) => self.dead_letter(incoming, &reason, attempts),
        }
    }

    /// Copies the message, with its key, value and headers, to the dead-letter topic, adding why
    /// and after how many attempts.
    fn dead_letter(&mut self, incoming: &Incoming<'_>, reason: &str, attempts: u32) -> Outcome {
        let letter = self.letter(incoming, reason, attempts);
        let sent = send_and_wait(
            &self.dead_letters,
            &letter.topic,
            incoming.key,
            incoming.value,
            letter.headers,
            self.settings.delivery_timeout,
        );
        self.dead_lettered(&letter.topic, sent)
    }

    /// The dead letter's topic and headers; logs why.
    pub(crate) fn letter(&self, incoming: &Incoming<'_>, reason: &str, attempts: u32) -> Letter {
        let topic = dead_letter_topic(&self.full_topic);
        tracing::error!(
            "Error consuming event from Kafka: {reason} in context full_topic={}, consumer_group={}, partition={}, offset={} -- moved to {topic}",
            self.full_topic,
            self.group_id,
            incoming.partition,
            incoming.offset,
        );
        let origin = format!("{}:{}:{}", incoming.topic, incoming.partition, incoming.offset);
        let headers = dead_letter_headers(&incoming.headers, reason, &attempts.to_string(), &origin);
        Letter { topic, headers }
    }

    /// The outcome of sending a dead letter.
    pub(crate) fn dead_lettered(&mut self, topic: &str, sent: Result<(i32, i64), KafkaError>) -> Outcome {
        match sent {
            Ok(_) => {
                self.stats.dead_lettered += 1;
                Outcome::Done
            }
            Err(error) => Outcome::Rewind(format!("cannot dead-letter to `{topic}`: {error}")),
        }
    }
}

/// A dead letter about to be sent.
pub(crate) struct Letter {
    pub(crate) topic: String,
    pub(crate) headers: OwnedHeaders,
}

/// The original headers (minus earlier dead-letter ones), then why, how often and from where.
pub(crate) fn dead_letter_headers(
    original: &[(&str, Option<&[u8]>)],
    reason: &str,
    attempts: &str,
    origin: &str,
) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new_with_capacity(original.len() + 3);
    for (key, value) in original {
        if !key.starts_with("dead_letter_") {
            headers = headers.insert(Header { key, value: *value });
        }
    }
    headers
        .insert(Header { key: DEAD_LETTER_ERROR_HEADER, value: Some(reason) })
        .insert(Header { key: DEAD_LETTER_ATTEMPTS_HEADER, value: Some(attempts) })
        .insert(Header { key: DEAD_LETTER_ORIGIN_HEADER, value: Some(origin) })
}

/// Consumes one topic as a member of a consumer group, on a blocking librdkafka consumer.
pub struct KafkaConsumer {
    consumer: Closing<BaseConsumer<CommitOnRevoke>>,
    parts: Parts,
}

impl std::fmt::Debug for KafkaConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConsumer")
            .field("topic", &self.parts.full_topic)
            .field("group_id", &self.parts.group_id)
            .field("stats", &self.parts.stats)
            .finish_non_exhaustive()
    }
}

impl KafkaConsumer {
    /// A builder for a consumer of these settings.
    pub fn builder(settings: KafkaSettings) -> KafkaConsumerBuilder {
        KafkaConsumerBuilder { settings, topic: None, group_id: None, start: StartFrom::End }
    }

    /// What this consumer did so far.
    pub fn stats(&self) -> ConsumerStats {
        self.parts.stats
    }

    /// The full topic.
    pub fn full_topic(&self) -> &str {
        &self.parts.full_topic
    }

    /// Polls once (up to the poll timeout) and handles what arrived; returns whether a message
    /// was handled. Errors are the poll's.
    pub fn consume_one(&mut self) -> Result<bool, KafkaError> {
        let Some(result) = self.consumer.poll(self.parts.settings.poll_timeout) else {
            return Ok(false);
        };
        let message = result?;
        let incoming = Incoming::of(&message);
        match self.parts.handle(&incoming) {
            Outcome::Done => {
                // librdkafka stores `offset + 1`, the next one to read. By the message's own topic
                // handle: storing by name makes and destroys a topic handle each time.
                self.consumer.store_offset_from_message(&message)?;
            }
            Outcome::Left => {}
            Outcome::Rewind(reason) => {
                self.parts.stats.rewound += 1;
                tracing::warn!(
                    "cannot finish the message at {}:{}:{}, reading it again: {reason}",
                    incoming.topic,
                    incoming.partition,
                    incoming.offset
                );
                if let Err(error) = self.consumer.seek(
                    incoming.topic,
                    incoming.partition,
                    Offset::Offset(incoming.offset),
                    REQUEST_TIMEOUT,
                ) {
                    // Reading on would skip the message: stop instead, leaving it uncommitted
                    // for the next consumer.
                    tracing::error!("cannot rewind to the unfinished message, stopping: {error}");
                    return Err(KafkaError::MessageConsumptionFatal(RDKafkaErrorCode::Fail));
                }
                std::thread::sleep(self.parts.settings.poll_failure_sleep);
                return Err(KafkaError::Seek(reason));
            }
        }
        Ok(true)
    }

    /// Consumes until `until` says stop, or shut down; for tests and tools. Stored offsets are
    /// committed before it returns.
    pub fn consume_until(
        &mut self,
        deadline: Instant,
        mut until: impl FnMut(&ConsumerStats) -> bool,
    ) -> Result<(), ConsumeError> {
        let result = self.run(|stats| until(stats) || Instant::now() >= deadline);
        commit_stored(&*self.consumer, "when stopping");
        result
    }

    fn run(&mut self, mut stop: impl FnMut(&ConsumerStats) -> bool) -> Result<(), ConsumeError> {
        let mut errors = 0u32;
        while !self.parts.shutdown.is_shutdown() && !stop(&self.parts.stats) {
            match self.consume_one() {
                Ok(_) => errors = 0,
                Err(error) => {
                    if matches!(error, KafkaError::MessageConsumptionFatal(_)) {
                        return Err(ConsumeError::backend(false, error));
                    }
                    errors += 1;
                    tracing::error!(
                        "Error consuming event from Kafka: {error} in context full_topic={}, consumer_group={}",
                        self.parts.full_topic,
                        self.parts.group_id
                    );
                    if let Some(limit) = self.parts.settings.consecutive_errors_limit
                        && errors >= limit
                    {
                        return Err(ConsumeError::TooManyErrors { count: errors, last: Box::new(error) });
                    }
                    if !matches!(error, KafkaError::Seek(_)) {
                        std::thread::sleep(self.parts.settings.poll_failure_sleep);
                    }
                }
            }
        }
        Ok(())
    }
}

impl EventBusConsumer for KafkaConsumer {
    fn consume_indefinitely(&mut self) -> Result<(), ConsumeError> {
        let result = self.run(|_| false);
        commit_stored(&*self.consumer, "when stopping");
        result
    }

    fn shutdown_handle(&self) -> ShutdownHandle {
        self.parts.shutdown.clone()
    }
}

impl Drop for KafkaConsumer {
    fn drop(&mut self) {
        commit_stored(&*self.consumer, "when dropped");
    }
}
