//! An event bus inside one process: topics are lists in memory. For tests, and for programs
//! whose producers and consumers share a process.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::delivery::{Delivery, deliver_with_retries};
use super::message::message_fields;
use super::{
    ConsumeError, EventBusConsumer, EventBusProducer, EventBusSettings, ProduceError, ShutdownHandle,
    dead_letter_stream,
};
use crate::metadata::EventsMetadata;
use crate::signal::AnySignal;

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

/// An event bus in memory: a producer, and a source of consumers. Clones share the same topics.
#[derive(Clone, Default)]
pub struct InMemoryEventBus {
    topics: Arc<Topics>,
    settings: Arc<EventBusSettings>,
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

    /// An empty bus with these settings (topic prefix, retries).
    pub fn with_settings(settings: EventBusSettings) -> Self {
        InMemoryEventBus { topics: Arc::default(), settings: Arc::new(settings) }
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
            full_topic: self.settings.full_topic(topic),
            next: 0,
            shutdown: ShutdownHandle::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<StoredMessage>>> {
        self.topics.messages.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl EventBusProducer for InMemoryEventBus {
    fn send(
        &self,
        _signal: &'static dyn AnySignal,
        topic: &str,
        _event_key_field: Option<&str>,
        event_data: &[u8],
        metadata: &EventsMetadata,
    ) -> Result<(), ProduceError> {
        let fields = message_fields(metadata, event_data)
            .into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.into_owned()))
            .collect();
        self.append(&self.settings.full_topic(topic), fields);
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
    /// A handle that stops [`consume_indefinitely`](EventBusConsumer::consume_indefinitely).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

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
        let settings = &self.bus.settings;
        let stop = || self.shutdown.is_shutdown();
        let (outcome, attempts) =
            deliver_with_retries(&message.fields, settings.max_attempts, settings.retry_backoff, &stop);
        let error = match outcome {
            Delivery::Delivered(_) => return,
            Delivery::ReceiversFailed(reason) => reason,
            Delivery::Unusable(unusable) => unusable.to_string(),
        };
        tracing::error!(topic = %self.full_topic, "dead-lettering an event bus message: {error}");
        let mut fields = message.fields.clone();
        fields.push((b"error".to_vec(), error.into_bytes()));
        fields.push((b"attempts".to_vec(), attempts.to_string().into_bytes()));
        fields.push((b"original_id".to_vec(), message.id.to_string().into_bytes()));
        self.bus.append(&dead_letter_stream(&self.full_topic), fields);
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
}
