//! A topic's dead letters (`{full_topic}-dead-letter`): listing them, re-driving them to the
//! topic with their original bytes and headers, and deleting them.
//!
//! A dead letter is a copy of the message as it arrived (key, value and headers), with three
//! headers more: `dead_letter_error` (why), `dead_letter_attempts` (how often it was dispatched;
//! 0 when it was unusable) and `dead_letter_origin` (`topic:partition:offset`). Kafka deletes
//! only whole prefixes of a partition, so [`delete_dead_letters`] deletes everything before an
//! offset.

use std::time::{Duration, Instant};

use openedx_events::event_bus::dead_letter_topic;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::producer::{raw_producer, send_and_wait};
use crate::settings::KafkaSettings;
use crate::wire::{DEAD_LETTER_ATTEMPTS_HEADER, DEAD_LETTER_ERROR_HEADER, DEAD_LETTER_ORIGIN_HEADER, header_name};

/// How long metadata and reads may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why dead letters could not be read, re-driven or deleted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeadLetterError {
    /// The settings name no brokers.
    #[error("{0}")]
    NotConfigured(String),
    /// The brokers failed.
    #[error("the dead letters of `{topic}`: {source}")]
    Kafka {
        /// The dead-letter topic.
        topic: String,
        /// What librdkafka said.
        #[source]
        source: KafkaError,
    },
}

/// One dead letter: where it is, the original message, and why it is there.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadLetter {
    /// Its partition in the dead-letter topic.
    pub partition: i32,
    /// Its offset there.
    pub offset: i64,
    /// The original key, if any.
    pub key: Option<Vec<u8>>,
    /// The original value (framed Avro), if any.
    pub value: Option<Vec<u8>>,
    /// The original headers, in order, without the dead-letter ones.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Why it was dead-lettered.
    pub error: String,
    /// How often it was dispatched before (0: it was unusable).
    pub attempts: u32,
    /// Where it came from: `topic:partition:offset`.
    pub origin: String,
}

impl DeadLetter {
    /// Its event type (`ce_type`), if it had one.
    pub fn event_type(&self) -> Option<&str> {
        self.header(header_name(openedx_events::event_bus::MetadataHeader::Type))
    }

    /// Its event id (`ce_id`), if it had one.
    pub fn event_id(&self) -> Option<&str> {
        self.header(header_name(openedx_events::event_bus::MetadataHeader::Id))
    }

    /// The text of the first original header of this name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| value.as_deref())
            .and_then(|value| std::str::from_utf8(value).ok())
    }

    /// Its id in the dead-letter topic, `partition:offset`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.partition, self.offset)
    }
}

fn config(settings: &KafkaSettings) -> Result<ClientConfig, DeadLetterError> {
    let mut config = ClientConfig::new();
    for (name, value) in settings.common_properties().map_err(DeadLetterError::NotConfigured)? {
        config.set(name, value);
    }
    Ok(config)
}

/// Up to `limit` dead letters of `topic` (without the prefix), oldest first per partition, read
/// outside any consumer group.
pub fn dead_letters(settings: &KafkaSettings, topic: &str, limit: usize) -> Result<Vec<DeadLetter>, DeadLetterError> {
    let dead = dead_letter_topic(&settings.full_topic(topic));
    let kafka = |source| DeadLetterError::Kafka { topic: dead.clone(), source };
    let consumer: BaseConsumer = config(settings)?
        .set("group.id", format!("openedx-events-dead-letters-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .create()
        .map_err(kafka)?;
    let metadata = consumer.fetch_metadata(Some(&dead), TIMEOUT).map_err(kafka)?;
    let mut assignment = TopicPartitionList::new();
    let mut remaining = 0i64;
    for partition in metadata.topics().iter().filter(|t| t.name() == dead).flat_map(|t| t.partitions()) {
        let (low, high) = consumer.fetch_watermarks(&dead, partition.id(), TIMEOUT).map_err(kafka)?;
        if high > low {
            remaining += high - low;
            assignment.add_partition_offset(&dead, partition.id(), Offset::Offset(low)).map_err(kafka)?;
        }
    }
    let mut letters = Vec::new();
    if remaining == 0 {
        return Ok(letters);
    }
    consumer.assign(&assignment).map_err(kafka)?;
    let wanted = usize::try_from(remaining).unwrap_or(usize::MAX).min(limit);
    let deadline = Instant::now() + TIMEOUT;
    while letters.len() < wanted && Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(200)) else { continue };
        letters.push(to_dead_letter(&message.map_err(kafka)?));
    }
    letters.sort_by_key(|letter| (letter.partition, letter.offset));
    Ok(letters)
}

fn to_dead_letter(message: &impl Message) -> DeadLetter {
    let mut letter = DeadLetter {
        partition: message.partition(),
        offset: message.offset(),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        headers: Vec::new(),
        error: String::new(),
        attempts: 0,
        origin: String::new(),
    };
    if let Some(headers) = message.headers() {
        for header in headers.iter() {
            let text = || header.value.map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
            match header.key {
                DEAD_LETTER_ERROR_HEADER => letter.error = text(),
                DEAD_LETTER_ATTEMPTS_HEADER => letter.attempts = text().parse().unwrap_or(0),
                DEAD_LETTER_ORIGIN_HEADER => letter.origin = text(),
                key => letter.headers.push((key.to_owned(), header.value.map(<[u8]>::to_vec))),
            }
        }
    }
    letter
}

/// Produces these dead letters to `topic` again, each with its original key, value and headers,
/// so the topic's consumers dispatch them again; returns how many went. They stay in the
/// dead-letter topic (see [`delete_dead_letters`]).
pub fn redrive(settings: &KafkaSettings, topic: &str, letters: &[DeadLetter]) -> Result<usize, DeadLetterError> {
    let full = settings.full_topic(topic);
    let kafka = |source| DeadLetterError::Kafka { topic: full.clone(), source };
    let producer = raw_producer(settings).map_err(DeadLetterError::NotConfigured)?;
    for letter in letters {
        let mut headers = OwnedHeaders::new_with_capacity(letter.headers.len());
        for (key, value) in &letter.headers {
            headers = headers.insert(Header { key, value: value.as_deref() });
        }
        send_and_wait(
            &producer,
            &full,
            letter.key.as_deref(),
            letter.value.as_deref(),
            headers,
            settings.delivery_timeout,
        )
        .map_err(kafka)?;
    }
    Ok(letters.len())
}

/// Deletes every dead letter of `topic` before the given offset of each listed partition (all
/// of them up to a letter: pass its offset + 1), with Kafka's `DeleteRecords`.
pub fn delete_dead_letters(
    settings: &KafkaSettings,
    topic: &str,
    before: &[(i32, i64)],
) -> Result<(), DeadLetterError> {
    let dead = dead_letter_topic(&settings.full_topic(topic));
    let kafka = |source| DeadLetterError::Kafka { topic: dead.clone(), source };
    let admin: AdminClient<DefaultClientContext> = config(settings)?.create().map_err(kafka)?;
    let mut offsets = TopicPartitionList::new();
    for (partition, offset) in before {
        offsets.add_partition_offset(&dead, *partition, Offset::Offset(*offset)).map_err(kafka)?;
    }
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    let result = futures::executor::block_on(admin.delete_records(&offsets, &options)).map_err(kafka)?;
    for element in result.elements() {
        if let Err(error) = element.error() {
            return Err(kafka(error));
        }
    }
    Ok(())
}
