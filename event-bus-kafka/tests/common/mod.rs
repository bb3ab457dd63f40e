//! What the Kafka tests share: settings for the broker and registry `.ci/setup-kafka` starts,
//! a prefix per test, topics created per test, test events and a producer of them.
#![allow(dead_code, reason = "each test binary uses part of it")]
#![allow(missing_docs, unreachable_pub, reason = "test payloads need no docs; shared by test binaries")]

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use openedx_events::event_bus::{EventBusProducer, EventKey, OutgoingMessage};
use openedx_events::{EventData, EventsMetadata, OpenEdxPublicSignal, openedx_event};
use openedx_events_kafka::{KafkaConsumer, KafkaProducer, KafkaSettings, StartFrom, create_topic};
use openedx_events_test_support::{SETUP_HINT, unique_name};

/// `KAFKA_BOOTSTRAP_SERVERS`, by default `127.0.0.1:9092`.
pub fn bootstrap_servers() -> String {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS").ok().filter(|v| !v.is_empty()).unwrap_or_else(|| "127.0.0.1:9092".into())
}

/// `SCHEMA_REGISTRY_URL`, by default `http://127.0.0.1:8081`.
pub fn registry_url() -> String {
    std::env::var("SCHEMA_REGISTRY_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:8081".into())
}

/// Panics, saying how to start them, when the broker or the registry does not answer.
pub fn require_services() {
    for (what, address) in [
        ("a Kafka broker (KAFKA_BOOTSTRAP_SERVERS)", bootstrap_servers()),
        ("a schema registry (SCHEMA_REGISTRY_URL)", registry_url().trim_start_matches("http://").to_owned()),
    ] {
        let address = address.split(',').next().unwrap_or_default().trim_end_matches('/').to_owned();
        let addr: std::net::SocketAddr = address.parse().unwrap_or_else(|e| panic!("{address}: {e}"));
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("no {what} answers on {address} ({e}): {SETUP_HINT}"));
    }
}

/// A test's settings: the shared services, a prefix of its own.
pub struct Scratch {
    pub settings: KafkaSettings,
}

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        require_services();
        let settings = KafkaSettings::default()
            .with_bootstrap_servers(bootstrap_servers())
            .with_schema_registry_url(registry_url())
            .with_topic_prefix(unique_name(test))
            .with_client_id("kafka-tests");
        Scratch { settings }
    }

    /// Creates the topic (the broker does not create topics on first use); returns its full name.
    pub fn topic(&self, topic: &str, partitions: i32) -> String {
        let full = self.settings.full_topic(topic);
        create_topic(&self.settings, &full, partitions, 1).expect("the topic can be created");
        full
    }

    pub fn producer(&self) -> KafkaProducer {
        KafkaProducer::new(self.settings.clone()).expect("a producer")
    }

    /// The test's name for a group: groups are the broker's, shared by every run, so each
    /// test run has its own.
    pub fn group(&self, group: &str) -> String {
        format!("{}-{group}", self.settings.topic_prefix.as_deref().unwrap_or_default())
    }

    /// A consumer of the test's topic; a group's first join is quick with a short session.
    pub fn consumer(&self, topic: &str, group: &str, start: StartFrom) -> KafkaConsumer {
        KafkaConsumer::builder(self.settings.clone())
            .topic(topic)
            .group_id(self.group(group))
            .start(start)
            .property("session.timeout.ms", "6000")
            .property("heartbeat.interval.ms", "500")
            .build()
            .expect("a consumer")
    }
}

#[derive(EventData, Clone, Debug, PartialEq)]
pub struct Course {
    pub key: String,
}

#[openedx_event(name = KAFKA_PUBLISHED, event_type = "org.openedx.content_authoring.kafka_bus.published.v1", key_field = "course.key")]
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    pub course: Course,
    pub n: i64,
}

#[derive(EventData, Clone, Debug, PartialEq)]
pub struct User {
    pub id: i64,
    pub name: String,
}

#[openedx_event(name = KAFKA_LOGGED_IN, event_type = "org.openedx.learning.kafka_bus.logged_in.v1", key_field = "user.id")]
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedIn {
    pub user: User,
    pub tags: Vec<String>,
}

#[openedx_event(name = KAFKA_PINGED, event_type = "org.openedx.learning.kafka_bus.pinged.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct Pinged {
    pub note: Option<String>,
    pub ratio: f64,
}

/// Produces one event to `topic`, keyed as its signal says; returns its metadata.
pub fn produce<E: EventData + Send + Sync + 'static>(
    producer: &KafkaProducer,
    signal: &'static OpenEdxPublicSignal<E>,
    topic: &str,
    data: &E,
    key: Option<EventKey>,
) -> EventsMetadata {
    let metadata = signal.generate_signal_metadata(None);
    let bytes = signal.encode_avro(data).expect("encodable");
    let message =
        OutgoingMessage::new(signal, topic, signal.event_key_field(), &bytes, &metadata).with_key(key.as_ref());
    producer.send(&message).expect("produced");
    metadata
}

/// What a receiver saw: data and metadata, for the events of one test (by id).
pub type Seen<E> = Arc<Mutex<Vec<(E, EventsMetadata)>>>;

/// Records every event from the bus of `signal` into the returned list.
pub fn record<E: EventData + Clone + Send + Sync + 'static>(
    signal: &'static OpenEdxPublicSignal<E>,
    name: &'static str,
) -> Seen<E> {
    let seen: Seen<E> = Arc::default();
    let sink = Arc::clone(&seen);
    signal.connect(name, move |data: &E, metadata: &EventsMetadata| {
        if metadata.from_event_bus() {
            sink.lock().unwrap_or_else(PoisonError::into_inner).push((data.clone(), metadata.clone()));
        }
        Ok::<(), String>(())
    });
    seen
}

/// The recorded events with these ids, in the order of the ids.
pub fn seen_with_ids<E: Clone>(seen: &Seen<E>, ids: &[uuid::Uuid]) -> Vec<(E, EventsMetadata)> {
    let seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
    ids.iter().filter_map(|id| seen.iter().find(|(_, m)| m.id == *id).cloned()).collect()
}

/// A deadline `secs` from now.
pub fn within(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

/// Reads `count` messages of a (full) topic from its beginning, outside any group: the bytes
/// as they are on the broker.
pub fn read_raw(settings: &KafkaSettings, full_topic: &str, count: usize) -> Vec<rdkafka::message::OwnedMessage> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{Message, Offset, TopicPartitionList};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", settings.bootstrap_servers.as_deref().unwrap_or_default())
        .set("group.id", unique_name("raw-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("a raw consumer");
    let metadata = consumer.fetch_metadata(Some(full_topic), Duration::from_secs(10)).expect("metadata");
    let mut assignment = TopicPartitionList::new();
    for topic in metadata.topics() {
        for partition in topic.partitions() {
            assignment.add_partition_offset(full_topic, partition.id(), Offset::Beginning).expect("an offset");
        }
    }
    consumer.assign(&assignment).expect("assigned");
    let deadline = within(20);
    let mut messages = Vec::new();
    while messages.len() < count && Instant::now() < deadline {
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            messages.push(message.expect("a message").detach());
        }
    }
    assert_eq!(messages.len(), count, "messages of {full_topic}");
    messages.sort_by_key(|m| (m.partition(), m.offset()));
    messages
}

/// Produces a message as given, bytes and headers, outside the backend (for poison and
/// other producers' messages); waits until the broker has it.
pub fn produce_raw(
    settings: &KafkaSettings,
    full_topic: &str,
    key: Option<&[u8]>,
    value: &[u8],
    headers: &[(&str, &[u8])],
) {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let producer: ThreadedProducer<DefaultProducerContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", settings.bootstrap_servers.as_deref().unwrap_or_default())
        .create()
        .expect("a raw producer");
    let mut owned = OwnedHeaders::new();
    for (name, value) in headers {
        owned = owned.insert(Header { key: name, value: Some(*value) });
    }
    let mut record = BaseRecord::<[u8], [u8]>::to(full_topic).payload(value).headers(owned);
    if let Some(key) = key {
        record = record.key(key);
    }
    producer.send(record).map_err(|(e, _)| e).expect("queued");
    producer.flush(Duration::from_secs(10)).expect("flushed");
}

/// The headers the backend writes for `metadata`, as name and bytes.
pub fn headers_of(metadata: &EventsMetadata) -> Vec<(&'static str, Vec<u8>)> {
    let mut headers: Vec<(&'static str, Vec<u8>)> = vec![
        ("ce_specversion", b"1.0".to_vec()),
        ("content-type", b"application/avro".to_vec()),
        ("ce_datacontenttype", b"application/avro".to_vec()),
    ];
    for (header, value) in openedx_events::event_bus::header_values(metadata) {
        headers.push((openedx_events_kafka::header_name(header), value.to_vec()));
    }
    headers
}
