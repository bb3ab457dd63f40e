//! [`KafkaSettings`]: how the Kafka backend connects to the brokers and the schema registry,
//! produces and consumes, named as upstream's `edx-event-bus-kafka` names its settings, read from
//! the environment or set in code.

use std::fmt;
use std::time::Duration;

use openedx_events::event_bus::{ConfigError, ConfigErrors, RetryPolicy, full_topic};

/// A secret (an API secret, a registry password) that never shows: `Debug` and `Display` write
/// `***`. [`expose`](Self::expose) gives it to the client that needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret as given.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself: only for the client configuration.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Secret::new(secret)
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Secret::new(secret)
    }
}

/// How the Kafka backend connects, produces and consumes.
///
/// [`from_env`](Self::from_env) reads upstream's setting names from the environment; every field
/// can also be set in code. `Debug` never shows a secret.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct KafkaSettings {
    /// `EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS`: `host:port[,host:port...]`.
    pub bootstrap_servers: Option<String>,
    /// `EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL`.
    pub schema_registry_url: Option<String>,
    /// `EVENT_BUS_KAFKA_SCHEMA_REGISTRY_API_KEY`: the registry's basic-auth user.
    pub schema_registry_api_key: Option<String>,
    /// `EVENT_BUS_KAFKA_SCHEMA_REGISTRY_API_SECRET`: the registry's basic-auth password.
    pub schema_registry_api_secret: Option<Secret>,
    /// `EVENT_BUS_KAFKA_API_KEY`: with the secret, the brokers are reached over `SASL_SSL` with
    /// the `PLAIN` mechanism, this being the user.
    pub api_key: Option<String>,
    /// `EVENT_BUS_KAFKA_API_SECRET`.
    pub api_secret: Option<Secret>,
    /// `EVENT_BUS_TOPIC_PREFIX`: prefixed to every topic as `{prefix}-{topic}`.
    pub topic_prefix: Option<String>,
    /// The client id the brokers see: the service name (`EVENTS_SERVICE_NAME`, else
    /// `SERVICE_VARIANT`), as upstream sets it; none by default.
    pub client_id: Option<String>,
    /// `EVENT_BUS_KAFKA_CONSUMER_POLL_TIMEOUT` (seconds): how long one poll waits for a
    /// message; 1 s by default.
    pub poll_timeout: Duration,
    /// `EVENT_BUS_KAFKA_CONSUMER_POLL_FAILURE_SLEEP` (seconds): the pause after a failed poll;
    /// 1 s by default.
    pub poll_failure_sleep: Duration,
    /// `EVENT_BUS_KAFKA_CONSUMER_CONSECUTIVE_ERRORS_LIMIT`: a consumer gives up after this many
    /// errors in a row; unlimited by default.
    pub consecutive_errors_limit: Option<u32>,
    /// How a consumer retries a message whose receivers fail before dead-lettering it.
    pub retry: RetryPolicy,
    /// How long the producer waits for a message to be acknowledged by the brokers
    /// (`message.timeout.ms`); 30 s by default.
    pub delivery_timeout: Duration,
    /// More librdkafka properties for every client (`session.timeout.ms`, `linger.ms`...),
    /// applied after the backend's own, so they win.
    pub extra: Vec<(String, String)>,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        KafkaSettings {
            bootstrap_servers: None,
            schema_registry_url: None,
            schema_registry_api_key: None,
            schema_registry_api_secret: None,
            api_key: None,
            api_secret: None,
            topic_prefix: None,
            client_id: None,
            poll_timeout: Duration::from_secs(1),
            poll_failure_sleep: Duration::from_secs(1),
            consecutive_errors_limit: None,
            retry: RetryPolicy::default(),
            delivery_timeout: Duration::from_secs(30),
            extra: Vec::new(),
        }
    }
}

/// The variables [`KafkaSettings::from_env`] reads.
pub const ENV_VARS: [&str; 12] = [
    "EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS",
    "EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL",
    "EVENT_BUS_KAFKA_SCHEMA_REGISTRY_API_KEY",
    "EVENT_BUS_KAFKA_SCHEMA_REGISTRY_API_SECRET",
    "EVENT_BUS_KAFKA_API_KEY",
    "EVENT_BUS_KAFKA_API_SECRET",
    "EVENT_BUS_TOPIC_PREFIX",
    "EVENT_BUS_KAFKA_CONSUMER_POLL_TIMEOUT",
    "EVENT_BUS_KAFKA_CONSUMER_POLL_FAILURE_SLEEP",
    "EVENT_BUS_KAFKA_CONSUMER_CONSECUTIVE_ERRORS_LIMIT",
    "EVENTS_SERVICE_NAME",
    "SERVICE_VARIANT",
];

impl KafkaSettings {
    /// The defaults, overridden by the environment's variables ([`ENV_VARS`]); an empty variable
    /// counts as unset. Every variable that does not parse is reported, each by name, and so is
    /// an API key without its secret (or the other way round).
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading the variables through `lookup` (a map in tests,
    /// a settings file in a service).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut settings = KafkaSettings::default();
        let mut errors = Vec::new();
        settings.bootstrap_servers = var("EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS");
        settings.schema_registry_url = var("EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL");
        settings.schema_registry_api_key = var("EVENT_BUS_KAFKA_SCHEMA_REGISTRY_API_KEY");
        settings.schema_registry_api_secret = var("EVENT_BUS_KAFKA_SCHEMA_REGISTRY_API_SECRET").map(Secret::new);
        settings.api_key = var("EVENT_BUS_KAFKA_API_KEY");
        settings.api_secret = var("EVENT_BUS_KAFKA_API_SECRET").map(Secret::new);
        settings.topic_prefix = var("EVENT_BUS_TOPIC_PREFIX");
        settings.client_id = var("EVENTS_SERVICE_NAME").or_else(|| var("SERVICE_VARIANT"));
        let mut read = |name: &'static str, apply: &mut dyn FnMut(&str) -> Result<(), &'static str>| {
            if let Some(value) = var(name)
                && let Err(expected) = apply(&value)
            {
                errors.push(ConfigError::InvalidSetting { name, value, expected: Some(expected) });
            }
        };
        read("EVENT_BUS_KAFKA_CONSUMER_POLL_TIMEOUT", &mut |v| {
            settings.poll_timeout = seconds(v)?;
            Ok(())
        });
        read("EVENT_BUS_KAFKA_CONSUMER_POLL_FAILURE_SLEEP", &mut |v| {
            settings.poll_failure_sleep = seconds(v)?;
            Ok(())
        });
        read("EVENT_BUS_KAFKA_CONSUMER_CONSECUTIVE_ERRORS_LIMIT", &mut |v| {
            settings.consecutive_errors_limit = Some(v.trim().parse().map_err(|_| "a whole number")?);
            Ok(())
        });
        match (&settings.api_key, &settings.api_secret) {
            (Some(_), None) => errors.push(ConfigError::InvalidSetting {
                name: "EVENT_BUS_KAFKA_API_SECRET",
                value: String::new(),
                expected: Some("set together with EVENT_BUS_KAFKA_API_KEY"),
            }),
            (None, Some(_)) => errors.push(ConfigError::InvalidSetting {
                name: "EVENT_BUS_KAFKA_API_KEY",
                value: String::new(),
                expected: Some("set together with EVENT_BUS_KAFKA_API_SECRET"),
            }),
            _ => {}
        }
        if errors.is_empty() { Ok(settings) } else { Err(ConfigErrors::new(errors)) }
    }

    /// Sets the bootstrap servers.
    pub fn with_bootstrap_servers(mut self, servers: impl Into<String>) -> Self {
        self.bootstrap_servers = Some(servers.into());
        self
    }

    /// Sets the schema registry's URL.
    pub fn with_schema_registry_url(mut self, url: impl Into<String>) -> Self {
        self.schema_registry_url = Some(url.into());
        self
    }

    /// Sets the schema registry's basic-auth user and password.
    pub fn with_schema_registry_auth(mut self, api_key: impl Into<String>, api_secret: impl Into<Secret>) -> Self {
        self.schema_registry_api_key = Some(api_key.into());
        self.schema_registry_api_secret = Some(api_secret.into());
        self
    }

    /// Sets the brokers' API key and secret (`SASL_SSL` with `PLAIN`).
    pub fn with_api_key(mut self, api_key: impl Into<String>, api_secret: impl Into<Secret>) -> Self {
        self.api_key = Some(api_key.into());
        self.api_secret = Some(api_secret.into());
        self
    }

    /// Sets the topic prefix.
    pub fn with_topic_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.topic_prefix = Some(prefix.into());
        self
    }

    /// Sets the client id (the service name).
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Sets how a consumer retries failing receivers.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Adds a librdkafka property for every client made from these settings.
    pub fn with_property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// The topic as the brokers name it: `{prefix}-{topic}` when a prefix is set.
    pub fn full_topic(&self, topic: &str) -> String {
        full_topic(self.topic_prefix.as_deref(), topic)
    }

    /// A librdkafka configuration with the properties every client of the backend gets (see
    /// [`common_properties`](Self::common_properties)), for tools that make clients of their
    /// own, such as the CLI's console; `None` when the settings name no brokers. It holds the
    /// API secret: do not log it.
    pub fn client_config(&self) -> Option<rdkafka::ClientConfig> {
        let mut config = rdkafka::ClientConfig::new();
        for (name, value) in self.common_properties().ok()? {
            config.set(name, value);
        }
        Some(config)
    }

    /// The librdkafka properties every client gets, as upstream's `load_common_settings` makes
    /// them: the servers, SASL_SSL with PLAIN when an API key and secret are set, the client id,
    /// then [`extra`](Self::extra). The secret is in the list: do not log it.
    pub(crate) fn common_properties(&self) -> Result<Vec<(String, String)>, String> {
        let servers = self
            .bootstrap_servers
            .as_deref()
            .ok_or("no Kafka bootstrap servers (set EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS)")?;
        let mut properties = vec![("bootstrap.servers".to_owned(), servers.to_owned())];
        if let (Some(key), Some(secret)) = (&self.api_key, &self.api_secret) {
            properties.push(("sasl.mechanism".to_owned(), "PLAIN".to_owned()));
            properties.push(("security.protocol".to_owned(), "SASL_SSL".to_owned()));
            properties.push(("sasl.username".to_owned(), key.clone()));
            properties.push(("sasl.password".to_owned(), secret.expose().to_owned()));
        }
        if let Some(client_id) = &self.client_id {
            properties.push(("client.id".to_owned(), client_id.clone()));
        }
        properties.extend(self.extra.iter().cloned());
        Ok(properties)
    }
}

/// A number of seconds, as upstream's settings take them (fractions allowed).
fn seconds(value: &str) -> Result<Duration, &'static str> {
    const EXPECTED: &str = "a number of seconds, such as 1 or 0.5";
    let secs: f64 = value.trim().parse().map_err(|_| EXPECTED)?;
    Duration::try_from_secs_f64(secs).map_err(|_| EXPECTED)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<KafkaSettings, ConfigErrors> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        KafkaSettings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn reads_upstreams_names() {
        let settings = from(&[
            ("EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092"),
            ("EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL", "http://registry:8081"),
            ("EVENT_BUS_KAFKA_SCHEMA_REGISTRY_API_KEY", "reg-user"),
            ("EVENT_BUS_KAFKA_SCHEMA_REGISTRY_API_SECRET", "reg-hunter2"),
            ("EVENT_BUS_KAFKA_API_KEY", "api-user"),
            ("EVENT_BUS_KAFKA_API_SECRET", "api-hunter2"),
            ("EVENT_BUS_TOPIC_PREFIX", "stage"),
            ("EVENT_BUS_KAFKA_CONSUMER_POLL_TIMEOUT", "0.5"),
            ("EVENT_BUS_KAFKA_CONSUMER_POLL_FAILURE_SLEEP", "2"),
            ("EVENT_BUS_KAFKA_CONSUMER_CONSECUTIVE_ERRORS_LIMIT", "5"),
            ("SERVICE_VARIANT", "lms"),
        ])
        .expect("valid settings");
        assert_eq!(settings.bootstrap_servers.as_deref(), Some("k1:9092,k2:9092"));
        assert_eq!(settings.full_topic("user-login"), "stage-user-login");
        assert_eq!(settings.poll_timeout, Duration::from_millis(500));
        assert_eq!(settings.poll_failure_sleep, Duration::from_secs(2));
        assert_eq!(settings.consecutive_errors_limit, Some(5));
        assert_eq!(settings.client_id.as_deref(), Some("lms"));
        let properties = settings.common_properties().expect("servers are set");
        let get = |name: &str| properties.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(get("sasl.mechanism"), Some("PLAIN"));
        assert_eq!(get("sasl.username"), Some("api-user"));
        assert_eq!(get("client.id"), Some("lms"));
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("reg-user") && shown.contains("api-user"), "{shown}");
    }

    #[test]
    fn the_service_name_wins_over_the_variant() {
        let settings = from(&[("EVENTS_SERVICE_NAME", "discovery"), ("SERVICE_VARIANT", "lms")]).expect("valid");
        assert_eq!(settings.client_id.as_deref(), Some("discovery"));
    }

    #[test]
    fn without_an_api_key_there_is_no_sasl() {
        let settings = KafkaSettings::default().with_bootstrap_servers("localhost:9092");
        let properties = settings.common_properties().expect("servers are set");
        assert_eq!(properties, vec![("bootstrap.servers".to_owned(), "localhost:9092".to_owned())]);
        assert!(KafkaSettings::default().common_properties().is_err());
    }

    #[test]
    fn every_bad_variable_is_reported_without_secrets() {
        let errors = from(&[
            ("EVENT_BUS_KAFKA_CONSUMER_POLL_TIMEOUT", "soon"),
            ("EVENT_BUS_KAFKA_CONSUMER_CONSECUTIVE_ERRORS_LIMIT", "-1"),
            ("EVENT_BUS_KAFKA_API_SECRET", "hunter2"),
        ])
        .expect_err("invalid settings");
        assert_eq!(errors.len(), 3);
        let shown = errors.to_string();
        assert!(shown.contains("EVENT_BUS_KAFKA_CONSUMER_POLL_TIMEOUT"), "{shown}");
        assert!(shown.contains("EVENT_BUS_KAFKA_CONSUMER_CONSECUTIVE_ERRORS_LIMIT"), "{shown}");
        assert!(shown.contains("EVENT_BUS_KAFKA_API_KEY"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn secrets_never_show() {
        let secret = Secret::new("hunter2");
        assert_eq!(secret.to_string(), "***");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "hunter2");
    }
}
