//! Topics: creating them when missing (some brokers, and clusters with
//! `auto.create.topics.enable=false`, do not create a topic on first use).

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::RDKafkaErrorCode;

use crate::settings::KafkaSettings;

/// Why a topic could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// The settings name no brokers.
    #[error("{0}")]
    NotConfigured(String),
    /// The brokers refused or could not be reached.
    #[error("cannot create the Kafka topic `{topic}`: {source}")]
    Kafka {
        /// The topic.
        topic: String,
        /// What librdkafka said.
        #[source]
        source: rdkafka::error::KafkaError,
    },
}

fn admin(settings: &KafkaSettings) -> Result<AdminClient<DefaultClientContext>, TopicError> {
    let mut config = ClientConfig::new();
    for (name, value) in settings.common_properties().map_err(TopicError::NotConfigured)? {
        config.set(name, value);
    }
    config.create().map_err(|source| TopicError::Kafka { topic: String::new(), source })
}

/// Creates the (full) topic with this many partitions and replicas, unless it exists; returns
/// whether it was created.
pub fn create_topic(
    settings: &KafkaSettings,
    full_topic: &str,
    partitions: i32,
    replication: i32,
) -> Result<bool, TopicError> {
    let admin = admin(settings)?;
    let topic = NewTopic::new(full_topic, partitions, TopicReplication::Fixed(replication));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = futures::executor::block_on(admin.create_topics([&topic], &options))
        .map_err(|source| TopicError::Kafka { topic: full_topic.to_owned(), source })?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(true),
        Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) | None => Ok(false),
        Some(Err((_, code))) => {
            Err(TopicError::Kafka { topic: full_topic.to_owned(), source: rdkafka::error::KafkaError::AdminOp(code) })
        }
    }
}
