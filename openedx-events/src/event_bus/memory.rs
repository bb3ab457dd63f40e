//! An event bus inside one process: topics are lists in memory. For tests, and for programs
//! whose producers and consumers share a process.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::delivery::{Delivery, deliver_fields, deliver_with_retries};
use super::message::message_fields;
use super::{
    ConsumeError, EventBusConsumer, EventBusProducer, OutgoingMessage, ProduceError, RetryPolicy, ShutdownHandle,
    dead_letter_topic, full_topic,
};

/// One message kept by an [`InMemoryEventBus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Its position in its topic, from 0.
    pub id: u64,
    /// Its fields, as a stream entry holds them.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

#[derive(Default)]
struct Topics {
    messages: Mutex<BTreeMap<String, Vec<StoredMessage>>>,
    arrived: Condvar,
}

#[derive(Debug, Default)]
struct Settings {
    topic_prefix: Option<String>,
    retry: RetryPolicy,
}

/// An event bus in memory: a producer, and a source of consumers. Clones share the same topics.
#[derive(Clone, Default)]
pub struct InMemoryEventBus {
    topics: Arc<Topics>,
    settings: Arc<Settings>,
}

impl std::fmt::Debug for InMemoryEventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryEventBus").finish_non_exhaustive()
    }
}

impl InMemoryEventBus {
    /// An empty bus with default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty bus whose topics take this prefix (`{prefix}-{topic}`), as
    /// `EVENT_BUS_TOPIC_PREFIX` does on a real bus.
    pub fn with_topic_prefix(self, prefix: impl Into<String>) -> Self {
        let retry = self.settings.retry;
        InMemoryEventBus {
            topics: Arc::default(),
            settings: Arc::new(Settings { topic_prefix: Some(prefix.into()), retry }),
        }
    }

    /// An empty bus whose consumers retry failing receivers by this policy.
    pub fn with_retry_policy(self, retry: RetryPolicy) -> Self {
        let topic_prefix = self.settings.topic_prefix.clone();
        InMemoryEventBus { topics: Arc::default(), settings: Arc::new(Settings { topic_prefix, retry }) }
    }

    /// The topic with this bus's prefix, as its consumers and [`messages`](Self::messages) name it.
    pub fn full_topic(&self, topic: &str) -> String {
        full_topic(self.settings.topic_prefix.as_deref(), topic)
    }

    /// The messages in a full topic (prefixed, as the consumer sees it).
    pub fn messages(&self, full_topic: &str) -> Vec<StoredMessage> {
        self.lock().get(full_topic).cloned().unwrap_or_default()
    }

    /// Appends fields to a full topic, as a producer does.
    pub fn append(&self, full_topic: &str, fields: Vec<(Vec<u8>, Vec<u8>)>) -> u64 {
        let mut topics = self.lock();
        let messages = topics.entry(full_topic.to_owned()).or_default();
        let id = messages.len() as u64;
        messages.push(StoredMessage { id, fields });
        self.topics.arrived.notify_all();
        id
    }

    /// A consumer of `topic` (without the prefix) that starts at its first message.
    pub fn consumer(&self, topic: &str) -> InMemoryConsumer {
        InMemoryConsumer {
            bus: self.clone(),
            full_topic: self.full_topic(topic),
            next: 0,
            shutdown: ShutdownHandle::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<StoredMessage>>> {
        self.topics.messages.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl EventBusProducer for InMemoryEventBus {
    fn send(&self, message: &OutgoingMessage<'_>) -> Result<(), ProduceError> {
        let fields = message_fields(message.metadata, message.event_data)
            .into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.into_owned()))
            .collect();
        self.append(&self.full_topic(message.topic), fields);
        Ok(())
    }
}

/// Consumes one topic of an [`InMemoryEventBus`], with the same retries and dead letters as the
/// Redis consumer.
#[derive(Debug)]
pub struct InMemoryConsumer {
    bus: InMemoryEventBus,
    full_topic: String,
    next: usize,
    shutdown: ShutdownHandle,
}

impl InMemoryConsumer {
    /// Dispatches every message that has arrived and not been consumed; returns how many.
    pub fn consume_available(&mut self) -> usize {
        let pending: Vec<StoredMessage> =
            self.bus.lock().get(&self.full_topic).map(|m| m[self.next.min(m.len())..].to_vec()).unwrap_or_default();
        for message in &pending {
            self.consume_one(message);
            self.next += 1;
        }
        pending.len()
    }

    fn consume_one(&self, message: &StoredMessage) {
        let stop = || self.shutdown.is_shutdown();
        let (outcome, attempts) =
            deliver_with_retries(|| deliver_fields(&message.fields), &self.bus.settings.retry, &stop);
        let error = match outcome {
            Delivery::Delivered(_) => return,
            Delivery::ReceiversFailed(reason) => reason,
            Delivery::Unusable(unusable) => unusable.to_string(),
            Delivery::Refused(reason) => reason,
        };
        tracing::error!(topic = %self.full_topic, "dead-lettering an event bus message: {error}");
        let mut fields = message.fields.clone();
        fields.push((b"error".to_vec(), error.into_bytes()));
        fields.push((b"attempts".to_vec(), attempts.to_string().into_bytes()));
        fields.push((b"original_id".to_vec(), message.id.to_string().into_bytes()));
        self.bus.append(&dead_letter_topic(&self.full_topic), fields);
    }
}

impl EventBusConsumer for InMemoryConsumer {
    fn consume_indefinitely(&mut self) -> Result<(), ConsumeError> {
        while !self.shutdown.is_shutdown() {
            if self.consume_available() == 0 {
                let topics = self.bus.lock();
                let waiting = topics.get(&self.full_topic).is_none_or(|m| m.len() <= self.next);
                if waiting {
                    // Wake up now and then to notice a shutdown.
                    let _ = self.bus.topics.arrived.wait_timeout(topics, Duration::from_millis(100));
                }
            }
        }
        Ok(())
    }

    fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }
}
