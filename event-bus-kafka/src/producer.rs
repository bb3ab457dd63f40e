//! [`KafkaProducer`]: each event produced to its topic as `edx-event-bus-kafka` produces it, with
//! the value and the key framed for the schema registry, upstream's headers, idempotence, and
//! every delivery report checked.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use openedx_events::AnySignal;
use openedx_events::event_bus::{EventBusProducer, EventKey, OutgoingMessage, ProduceError, header_values};
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Message};
use serde_json::Value;

use crate::framing::frame_into;
use crate::registry::{RegistryError, SchemaRegistry};
use crate::settings::KafkaSettings;
use crate::wire::{
    AVRO_CONTENT_TYPE, CONTENT_TYPE_HEADER, DATA_CONTENT_TYPE_HEADER, SPEC_VERSION_HEADER, header_name,
    key_field_definition, key_subject, python_sorted_json, value_subject,
};

/// Where a message landed: partition and offset.
type Delivered = Result<(i32, i64), KafkaError>;

/// The producer's librdkafka context: hands each delivery report to the sender waiting for it.
pub(crate) struct DeliveryContext;

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<SyncSender<Delivered>>;

    fn delivery(&self, result: &DeliveryResult<'_>, waiting: Self::DeliveryOpaque) {
        let outcome = match result {
            Ok(message) => Ok((message.partition(), message.offset())),
            Err((error, _)) => Err(error.clone()),
        };
        // The sender may have stopped waiting (it timed out); the report is then only logged.
        if let Err(outcome) = waiting.try_send(outcome) {
            tracing::warn!("a Kafka delivery report arrived after its sender stopped waiting: {outcome:?}");
        }
    }
}

/// What schema ids are cached by: event type, full topic, key field.
type IdsKey = (&'static str, String, Option<String>);

/// The registry ids of one event type on one topic.
#[derive(Debug, Clone, Copy)]
struct SchemaIds {
    value: u32,
    /// The key's schema id; `None` when the message has no key field.
    key: Option<u32>,
}

/// Why a message could not be prepared: the registry failed, or the key field is not in the
/// schema.
#[derive(Debug, thiserror::Error)]
enum PrepareError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{0}")]
    Schema(String),
}

/// Produces events to Kafka topics, as `edx-event-bus-kafka` does.
///
/// Sending blocks until the brokers acknowledged the message (or refused it): use it through the
/// [`BackgroundProducer`](openedx_events::event_bus::BackgroundProducer), as
/// [`start_producing`](openedx_events::event_bus::start_producing) does, so `send_event` never
/// waits for Kafka.
pub struct KafkaProducer {
    producer: ThreadedProducer<DeliveryContext>,
    registry: SchemaRegistry,
    settings: KafkaSettings,
    /// (event type, full topic, key field) → schema ids.
    ids: Mutex<HashMap<IdsKey, SchemaIds>>,
    /// Parsed record schemas, by event type.
    schemas: Mutex<HashMap<&'static str, Arc<Value>>>,
}

impl std::fmt::Debug for KafkaProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProducer")
            .field("settings", &self.settings)
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

impl KafkaProducer {
    /// A producer for these settings: idempotent (`enable.idempotence`), acknowledged by all
    /// in-sync replicas, with the settings' client id and credentials. The brokers are reached on
    /// first use.
    pub fn new(settings: KafkaSettings) -> Result<Self, ProduceError> {
        let registry =
            SchemaRegistry::from_settings(&settings).map_err(|e| ProduceError::NotConfigured(e.to_string()))?;
        let mut config = ClientConfig::new();
        config.set("enable.idempotence", "true");
        config.set("message.timeout.ms", settings.delivery_timeout.as_millis().to_string());
        config.set("linger.ms", "5");
        for (name, value) in settings.common_properties().map_err(ProduceError::NotConfigured)? {
            config.set(name, value);
        }
        let producer = config
            .create_with_context(DeliveryContext)
            .map_err(|e| ProduceError::NotConfigured(format!("the Kafka producer cannot be created: {e}")))?;
        Ok(KafkaProducer {
            producer,
            registry,
            settings,
            ids: Mutex::new(HashMap::new()),
            schemas: Mutex::new(HashMap::new()),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &KafkaSettings {
        &self.settings
    }

    /// The schema registry client.
    pub fn registry(&self) -> &SchemaRegistry {
        &self.registry
    }

    /// The record schema of a signal, parsed once.
    fn schema(&self, signal: &'static dyn AnySignal) -> Result<Arc<Value>, PrepareError> {
        let event_type = signal.event_type();
        if let Some(schema) = self.schemas.lock().unwrap_or_else(PoisonError::into_inner).get(event_type) {
            return Ok(Arc::clone(schema));
        }
        let text = signal.avro_schema().map_err(|e| PrepareError::Schema(e.to_string()))?;
        let schema: Arc<Value> = Arc::new(
            serde_json::from_str(text).map_err(|e| PrepareError::Schema(format!("the schema is not JSON: {e}")))?,
        );
        self.schemas.lock().unwrap_or_else(PoisonError::into_inner).insert(event_type, Arc::clone(&schema));
        Ok(schema)
    }

    /// The value's and the key's schema ids, registered on first use (as confluent-kafka's
    /// serializers do with `auto.register.schemas`).
    fn schema_ids(&self, message: &OutgoingMessage<'_>, full_topic: &str) -> Result<SchemaIds, PrepareError> {
        let signal = message.signal;
        let cache_key = (signal.event_type(), full_topic.to_owned(), message.event_key_field.map(str::to_owned));
        if let Some(ids) = self.ids.lock().unwrap_or_else(PoisonError::into_inner).get(&cache_key) {
            return Ok(*ids);
        }
        let schema = self.schema(signal)?;
        let text = signal.avro_schema().map_err(|e| PrepareError::Schema(e.to_string()))?;
        let value = self.registry.register(&value_subject(full_topic, &schema, signal.event_type()), text)?;
        let key = match message.event_key_field {
            None => None,
            Some(key_field) => {
                let definition =
                    key_field_definition(&schema, key_field).map_err(|e| PrepareError::Schema(e.to_string()))?;
                Some(self.registry.register(&key_subject(full_topic, definition), &python_sorted_json(definition))?)
            }
        };
        let ids = SchemaIds { value, key };
        self.ids.lock().unwrap_or_else(PoisonError::into_inner).insert(cache_key, ids);
        Ok(ids)
    }

    /// Hands one message to librdkafka; the receiver gets its delivery report.
    fn enqueue(&self, message: &OutgoingMessage<'_>) -> Result<Receiver<Delivered>, ProduceError> {
        let full_topic = self.settings.full_topic(message.topic);
        let event_type = message.signal.event_type();
        let ids = self.schema_ids(message, &full_topic).map_err(|error| {
            let retryable = matches!(&error, PrepareError::Registry(e) if e.is_retryable());
            self.log_failure(message, &full_topic, &error);
            ProduceError::backend(event_type, &full_topic, retryable, error)
        })?;
        let mut value = Vec::with_capacity(5 + message.event_data.len());
        frame_into(ids.value, message.event_data, &mut value);
        let key = match (ids.key, message.event_key) {
            (Some(id), Some(key)) => Some(key_bytes(id, key)),
            (Some(_), None) => {
                let error = PrepareError::Schema(format!(
                    "the message names the key field `{}` but carries no key",
                    message.event_key_field.unwrap_or_default()
                ));
                self.log_failure(message, &full_topic, &error);
                return Err(ProduceError::backend(event_type, &full_topic, false, error));
            }
            (None, _) => None,
        };
        let headers = message_headers(message);
        let (report, waiting) = sync_channel(1);
        let mut record = BaseRecord::with_opaque_to(&full_topic, Box::new(report)).payload(&value).headers(headers);
        if let Some(key) = &key {
            record = record.key(key);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(waiting),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // librdkafka's queue is full: let the background thread deliver some first.
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((error, _)) => {
                    self.log_failure(message, &full_topic, &error);
                    return Err(ProduceError::backend(event_type, &full_topic, is_retryable(&error), error));
                }
            }
        }
    }

    /// Waits for a message's delivery report.
    fn wait(&self, message: &OutgoingMessage<'_>, waiting: &Receiver<Delivered>) -> Result<(), ProduceError> {
        let full_topic = self.settings.full_topic(message.topic);
        let event_type = message.signal.event_type();
        // librdkafka reports every message within `message.timeout.ms`; the margin covers the
        // report's way back.
        let outcome = waiting
            .recv_timeout(self.settings.delivery_timeout + Duration::from_secs(5))
            .unwrap_or(Err(KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut)));
        match outcome {
            Ok((partition, offset)) => {
                tracing::info!(
                    "Message delivered to Kafka event bus: topic={full_topic}, partition={partition}, offset={offset}, message_id={}, key={}",
                    message.metadata.id,
                    message.event_key.map_or_else(|| "None".to_owned(), ToString::to_string),
                );
                Ok(())
            }
            Err(error) => {
                self.log_failure(message, &full_topic, &error);
                Err(ProduceError::backend(event_type, &full_topic, is_retryable(&error), error))
            }
        }
    }

    /// Logs a failure with what a person needs to send the event again: its data and metadata as
    /// JSON, as upstream's `record_producing_error` does.
    fn log_failure(&self, message: &OutgoingMessage<'_>, full_topic: &str, error: &dyn std::fmt::Display) {
        let data = message
            .signal
            .avro_to_json(message.event_data)
            .map_or_else(|e| format!("(undecodable: {e})"), |json| json.to_string());
        tracing::error!(
            "Error delivering message to Kafka event bus. error={error} full_topic={full_topic} event_key_field={:?} event_data_as_json={data} event_metadata_as_json={}",
            message.event_key_field,
            message.metadata.to_json(),
        );
    }
}

/// A plain producer for copies (dead letters, re-drive), with the settings' connection
/// properties and idempotence.
pub(crate) fn raw_producer(settings: &KafkaSettings) -> Result<ThreadedProducer<DeliveryContext>, String> {
    let mut config = ClientConfig::new();
    config.set("enable.idempotence", "true");
    config.set("message.timeout.ms", settings.delivery_timeout.as_millis().to_string());
    for (name, value) in settings.common_properties()? {
        config.set(name, value);
    }
    config.create_with_context(DeliveryContext).map_err(|e| format!("the Kafka producer cannot be created: {e}"))
}

/// Produces one message and waits for its delivery report: where it landed.
pub(crate) fn send_and_wait(
    producer: &ThreadedProducer<DeliveryContext>,
    topic: &str,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
    headers: OwnedHeaders,
    timeout: Duration,
) -> Result<(i32, i64), KafkaError> {
    let (report, waiting) = sync_channel(1);
    let mut record = BaseRecord::with_opaque_to(topic, Box::new(report)).headers(headers);
    if let Some(key) = key {
        record = record.key(key);
    }
    if let Some(payload) = payload {
        record = record.payload(payload);
    }
    loop {
        match producer.send(record) {
            Ok(()) => break,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((error, _)) => return Err(error),
        }
    }
    waiting
        .recv_timeout(timeout + Duration::from_secs(5))
        .unwrap_or(Err(KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut)))
}

/// The key's bytes: the key as Avro of its type, framed with the key schema's id.
pub(crate) fn key_bytes(schema_id: u32, key: &EventKey) -> Vec<u8> {
    let avro = key.to_avro();
    let mut out = Vec::with_capacity(5 + avro.len());
    frame_into(schema_id, &avro, &mut out);
    out
}

/// Upstream's headers, in its order: `ce_specversion`, `content-type`, `ce_datacontenttype`,
/// then the metadata (`ce_type`, `ce_id`, `ce_source`, `ce_time`, `ce_minorversion`,
/// `sourcehost`, `sourcelib`).
pub(crate) fn message_headers(message: &OutgoingMessage<'_>) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new_with_capacity(10)
        .insert(Header { key: SPEC_VERSION_HEADER, value: Some("1.0") })
        .insert(Header { key: CONTENT_TYPE_HEADER, value: Some(AVRO_CONTENT_TYPE) })
        .insert(Header { key: DATA_CONTENT_TYPE_HEADER, value: Some(AVRO_CONTENT_TYPE) });
    for (header, value) in header_values(message.metadata) {
        headers = headers.insert(Header { key: header_name(header), value: Some(value.as_ref()) });
    }
    headers
}

/// Whether the same message may go through later: the brokers were unreachable, slow or busy.
pub(crate) fn is_retryable(error: &KafkaError) -> bool {
    !matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::Authentication
                | RDKafkaErrorCode::InvalidArgument,
        )
    )
}

impl EventBusProducer for KafkaProducer {
    fn send(&self, message: &OutgoingMessage<'_>) -> Result<(), ProduceError> {
        let waiting = self.enqueue(message)?;
        self.wait(message, &waiting)
    }

    /// Hands every message to librdkafka first, then waits for their reports: one round of
    /// acknowledgements for the batch.
    fn send_batch(&self, messages: &[OutgoingMessage<'_>]) -> Vec<Result<(), ProduceError>> {
        let enqueued: Vec<_> = messages.iter().map(|message| self.enqueue(message)).collect();
        messages
            .iter()
            .zip(enqueued)
            .map(|(message, enqueued)| enqueued.and_then(|waiting| self.wait(message, &waiting)))
            .collect()
    }

    fn flush(&self, timeout: Duration) -> Result<(), ProduceError> {
        self.producer
            .flush(timeout)
            .map_err(|error| ProduceError::backend("(flush)", "(all topics)", is_retryable(&error), error))
    }
}

impl Drop for KafkaProducer {
    /// Flushes what is still queued (upstream's `prepare_for_shutdown`), for up to the delivery
    /// timeout.
    fn drop(&mut self) {
        if let Err(error) = self.producer.flush(self.settings.delivery_timeout) {
            tracing::error!("the Kafka producer could not flush everything on shutdown: {error}");
        }
    }
}
