//! The Kafka backend, wire-compatible with `edx-event-bus-kafka`, and more careful than it:
//! nothing is committed before it is dispatched, receivers' failures are retried, and what cannot
//! be dispatched is moved to `{topic}-dead-letter`, never dropped.
#![forbid(unsafe_code)]

mod admin;
mod consumer;
mod dead_letters;
mod decode;
mod framing;
mod producer;
mod registry;
mod settings;
mod wire;

pub use crate::admin::{TopicError, create_topic};
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
