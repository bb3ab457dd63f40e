//! The event bus settings, named as upstream names them, read from the environment or set in
//! code.

use std::time::Duration;

use super::ConfigError;

/// How the event bus connects, produces and consumes.
///
/// [`from_env`](Self::from_env) reads upstream's setting names from the environment; every field
/// can also be set in code.
#[derive(Debug, Clone, PartialEq)]
pub struct EventBusSettings {
    /// `EVENT_BUS_REDIS_CONNECTION_URL`: `redis://[[user]:[password]@]host:port/db`.
    pub redis_url: Option<String>,
    /// `EVENT_BUS_TOPIC_PREFIX`: prefixed to every topic as `{prefix}-{topic}`.
    pub topic_prefix: Option<String>,
    /// `EVENT_BUS_REDIS_STREAM_MAX_LEN`: streams are trimmed to about this many entries
    /// (`MAXLEN ~`); 10,000 by default.
    pub stream_max_len: u64,
    /// `EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT` (seconds): how long one read waits for new
    /// messages; 60 s by default. A consumer still notices a shutdown within a second.
    pub poll_timeout: Duration,
    /// `EVENT_BUS_REDIS_CONSUMER_POLL_FAILURE_SLEEP` (seconds): the first pause after a failed
    /// read; it doubles up to 30 s while failures go on. 1 s by default.
    pub poll_failure_sleep: Duration,
    /// `EVENT_BUS_REDIS_CONSUMER_CONSECUTIVE_ERRORS_LIMIT`: a consumer gives up after this many
    /// errors in a row; unlimited by default.
    pub consecutive_errors_limit: Option<u32>,
    /// How often a message is dispatched before it is dead-lettered when receivers keep failing;
    /// 3 by default.
    pub max_attempts: u32,
    /// The pause before the first retry; it doubles for each retry after. 100 ms by default.
    pub retry_backoff: Duration,
    /// Pending messages idle longer than this (their consumer died) are claimed by a live consumer
    /// of the group; 60 s by default.
    pub claim_idle_time: Duration,
    /// How many messages one read takes; 100 by default.
    pub batch_size: usize,
}

impl Default for EventBusSettings {
    fn default() -> Self {
        EventBusSettings {
            redis_url: None,
            topic_prefix: None,
            stream_max_len: 10_000,
            poll_timeout: Duration::from_secs(60),
            poll_failure_sleep: Duration::from_secs(1),
            consecutive_errors_limit: None,
            max_attempts: 3,
            retry_backoff: Duration::from_millis(100),
            claim_idle_time: Duration::from_secs(60),
            batch_size: 100,
        }
    }
}

impl EventBusSettings {
    /// The defaults, overridden by the environment's `EVENT_BUS_*` variables; `EVENTS_SERVICE_NAME`
    /// is read for the metadata's `source` as usual. A variable that does not parse is an error
    /// naming it.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut settings = EventBusSettings::default();
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        settings.redis_url = var("EVENT_BUS_REDIS_CONNECTION_URL");
        settings.topic_prefix = var("EVENT_BUS_TOPIC_PREFIX");
        if let Some(value) = var("EVENT_BUS_REDIS_STREAM_MAX_LEN") {
            settings.stream_max_len = parse_setting("EVENT_BUS_REDIS_STREAM_MAX_LEN", &value)?;
        }
        if let Some(value) = var("EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT") {
            settings.poll_timeout = seconds("EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT", &value)?;
        }
        if let Some(value) = var("EVENT_BUS_REDIS_CONSUMER_POLL_FAILURE_SLEEP") {
            settings.poll_failure_sleep = seconds("EVENT_BUS_REDIS_CONSUMER_POLL_FAILURE_SLEEP", &value)?;
        }
        if let Some(value) = var("EVENT_BUS_REDIS_CONSUMER_CONSECUTIVE_ERRORS_LIMIT") {
            settings.consecutive_errors_limit =
                Some(parse_setting("EVENT_BUS_REDIS_CONSUMER_CONSECUTIVE_ERRORS_LIMIT", &value)?);
        }
        Ok(settings)
    }

    /// Sets the Redis URL.
    pub fn with_redis_url(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(url.into());
        self
    }

    /// Sets the topic prefix.
    pub fn with_topic_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.topic_prefix = Some(prefix.into());
        self
    }

    /// The stream a topic lives in: `{prefix}-{topic}` when a prefix is set.
    pub fn full_topic(&self, topic: &str) -> String {
        match &self.topic_prefix {
            Some(prefix) => format!("{prefix}-{topic}"),
            None => topic.to_owned(),
        }
    }
}

fn parse_setting<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::InvalidSetting { name, value: value.to_owned() })
}

fn seconds(name: &'static str, value: &str) -> Result<Duration, ConfigError> {
    let secs: f64 = parse_setting(name, value)?;
    Duration::try_from_secs_f64(secs).map_err(|_| ConfigError::InvalidSetting { name, value: value.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_take_the_prefix_with_a_hyphen() {
        let settings = EventBusSettings::default();
        assert_eq!(settings.full_topic("user-login"), "user-login");
        assert_eq!(settings.with_topic_prefix("stage").full_topic("user-login"), "stage-user-login");
    }

    #[test]
    fn settings_that_do_not_parse_are_named() {
        assert_eq!(
            parse_setting::<u64>("EVENT_BUS_REDIS_STREAM_MAX_LEN", "lots").unwrap_err().to_string(),
            "setting `EVENT_BUS_REDIS_STREAM_MAX_LEN` has an invalid value \"lots\""
        );
        assert_eq!(seconds("X", "1.5"), Ok(Duration::from_millis(1500)));
        assert!(seconds("X", "-1").is_err());
    }
}
