//! The Kafka backend, wire-compatible with `edx-event-bus-kafka`, and more careful than it:
//! nothing is committed before it is dispatched, receivers' failures are retried, and what cannot
//! be dispatched is moved to `{topic}-dead-letter`, never dropped.
//!
//! - [`KafkaSettings`]: upstream's `EVENT_BUS_KAFKA_*` settings, secrets redacted.
//! - [`KafkaProducer`]: an [`EventBusProducer`](openedx_events::event_bus::EventBusProducer)
//!   writing upstream's headers, the value and key framed for the schema registry.
//! - [`KafkaConsumer`] (and, with the `tokio` feature, `AsyncKafkaConsumer`): consumer groups,
//!   offsets committed only after dispatch or dead-lettering, schema resolution.
//! - [`dead_letters`], [`redrive`], [`delete_dead_letters`]; [`SchemaRegistry`], the registry
//!   client; [`frame`] / [`unframe`], the framing.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use openedx_events::event_bus::{EventBusConsumer, ProducerConfig, start_producing};
//! use openedx_events_kafka::{KafkaConsumer, KafkaProducer, KafkaSettings, StartFrom};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = KafkaSettings::from_env()?;
//! if let Some(config) = ProducerConfig::from_env()? {
//!     let _producing = start_producing(&config, Arc::new(KafkaProducer::new(settings.clone())?));
//! }
//! let mut consumer = KafkaConsumer::builder(settings)
//!     .topic("course-enrollment")
//!     .group_id("my-service")
//!     .start(StartFrom::End)
//!     .build()?;
//! consumer.consume_indefinitely()?;
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/how-to/use-kafka.md` and `docs/reference/kafka-settings.md`.
#![forbid(unsafe_code)]

mod admin;
#[cfg(feature = "tokio")]
mod async_consumer;
mod close;
mod consumer;
mod dead_letters;
mod decode;
mod framing;
mod producer;
mod registry;
mod settings;
mod wire;

pub use crate::admin::{TopicError, create_topic};
#[cfg(feature = "tokio")]
pub use crate::async_consumer::AsyncKafkaConsumer;
pub use crate::consumer::{ConsumerStats, KafkaConsumer, KafkaConsumerBuilder, StartFrom};
pub use crate::dead_letters::{DeadLetter, DeadLetterError, dead_letters, delete_dead_letters, redrive};
pub use crate::framing::{FramingError, HEADER_LEN, MAGIC_BYTE, frame, frame_into, unframe};
pub use crate::producer::KafkaProducer;
pub use crate::registry::{RegistryError, SchemaRegistry};
pub use crate::settings::{ENV_VARS, KafkaSettings, Secret};
pub use crate::wire::{
    AVRO_CONTENT_TYPE, CONTENT_TYPE_HEADER, DATA_CONTENT_TYPE_HEADER, DEAD_LETTER_ATTEMPTS_HEADER,
    DEAD_LETTER_ERROR_HEADER, DEAD_LETTER_ORIGIN_HEADER, KeySchemaError, SPEC_VERSION_HEADER, header_name,
    key_field_definition, key_subject, python_sorted_json, value_subject,
};

/// The guide `docs/how-to/use-kafka.md`, whose examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/how-to/use-kafka.md")]
pub struct UseKafkaGuide;
