//! What the outbox's Kafka tests share: settings for the broker and registry `.ci/setup` starts,
//! with a topic prefix of the test's own, its topics (created, then deleted), and a plain reader
//! of what reached them.
#![allow(dead_code, reason = "each test binary uses part of it")]
#![allow(missing_docs, unreachable_pub, reason = "test fixtures")]

use std::time::{Duration, Instant};

use openedx_events_kafka::{KafkaSettings, create_topic};
use openedx_events_test_support::{SETUP_HINT, unique_name};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message as _, Offset, TopicPartitionList};

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

/// A test's corner of Kafka: the shared broker and registry, a topic prefix of its own.
pub struct Scratch {
    pub settings: KafkaSettings,
}

impl Scratch {
    /// Panics, saying how to start them, when the broker or the registry does not answer.
    pub fn new(test: &str) -> Scratch {
        for (what, address) in [
            ("a Kafka broker (KAFKA_BOOTSTRAP_SERVERS)", bootstrap_servers()),
            ("a schema registry (SCHEMA_REGISTRY_URL)", registry_url().trim_start_matches("http://").to_owned()),
        ] {
            let address = address.split(',').next().unwrap_or_default().trim_end_matches('/').to_owned();
            let addr: std::net::SocketAddr = address.parse().unwrap_or_else(|e| panic!("{address}: {e}"));
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))
                .unwrap_or_else(|e| panic!("no {what} answers on {address} ({e}): {SETUP_HINT}"));
        }
        let settings = KafkaSettings::default()
            .with_bootstrap_servers(bootstrap_servers())
            .with_schema_registry_url(registry_url())
            .with_topic_prefix(unique_name(test))
            .with_client_id("outbox-tests");
        Scratch { settings }
    }

    pub fn prefix(&self) -> &str {
        self.settings.topic_prefix.as_deref().unwrap_or_default()
    }

    /// Creates the topic (the broker does not create topics on first use); returns its full name.
    pub fn topic(&self, topic: &str, partitions: i32) -> String {
        let full = self.settings.full_topic(topic);
        create_topic(&self.settings, &full, partitions, 1).expect("the topic can be created");
        full
    }

    /// Every message of the topic, in (partition, offset) order: it waits (20 s at most) for
    /// `expected` of them, then a second more, so that one too many shows.
    pub fn read_all(&self, topic: &str, expected: usize) -> Vec<OwnedMessage> {
        let full = self.settings.full_topic(topic);
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap_servers())
            .set("group.id", unique_name("outbox-raw-reader"))
            .set("enable.auto.commit", "false")
            .create()
            .expect("a plain consumer");
        let metadata = consumer.fetch_metadata(Some(&full), Duration::from_secs(10)).expect("the topic's metadata");
        let mut assignment = TopicPartitionList::new();
        for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
            assignment.add_partition_offset(&full, partition.id(), Offset::Beginning).expect("an offset");
        }
        consumer.assign(&assignment).expect("assigned");
        let mut messages = Vec::new();
        let mut deadline = Instant::now() + Duration::from_secs(20);
        let mut extra_wait = false;
        while Instant::now() < deadline {
            if let Some(message) = consumer.poll(Duration::from_millis(100)) {
                messages.push(message.expect("a message").detach());
            }
            if messages.len() >= expected && !extra_wait {
                extra_wait = true;
                deadline = Instant::now() + Duration::from_secs(1);
            }
        }
        messages.sort_by_key(|m| (m.partition(), m.offset()));
        messages
    }

    /// Deletes the test's topics.
    pub async fn delete_topics(&self, topics: &[&str]) {
        use rdkafka::admin::{AdminClient, AdminOptions};
        use rdkafka::client::DefaultClientContext;
        let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap_servers())
            .create()
            .expect("an admin client");
        let full: Vec<String> = topics.iter().map(|t| self.settings.full_topic(t)).collect();
        let names: Vec<&str> = full.iter().map(String::as_str).collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = admin.delete_topics(&names, &options).await.expect("topics deleted");
        for result in results {
            result.unwrap_or_else(|(topic, error)| panic!("{topic} not deleted: {error}"));
        }
    }
}
