//! [`RedisSettings`]: how the Redis backend connects, produces and consumes, named as upstream's
//! `edx-event-bus-redis` names its settings, read from the environment or set in code.

use std::fmt;
use std::time::Duration;

use openedx_events::event_bus::{ConfigError, ConfigErrors, RetryPolicy, full_topic};

/// A Redis connection URL, `redis://[[user]:[password]@]host:port/db`, that never shows its
/// password: `Debug` and `Display` write `***` in its place, so the URL can go into logs and
/// errors. [`expose`](Self::expose) gives the real URL to the client.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// The URL as given.
    pub fn new(url: impl Into<String>) -> Self {
        RedisUrl(url.into())
    }

    /// The URL with its password: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({:?})", redact_url(&self.0))
    }
}

impl From<&str> for RedisUrl {
    fn from(url: &str) -> Self {
        RedisUrl::new(url)
    }
}

impl From<String> for RedisUrl {
    fn from(url: String) -> Self {
        RedisUrl::new(url)
    }
}

/// The URL with the password of its user information replaced by `***`
/// (`redis://:***@host:6379`, `rediss://me:***@host`). A URL whose authority cannot be found is
/// hidden whole unless it has no `@` at all, since whatever it holds might be a secret.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return if url.contains('@') { "***".to_owned() } else { url.to_owned() };
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        None => url.to_owned(),
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            // A user with no password (`redis://me@host`) may still be a token: redact it too
            // unless the URL says which part is the password.
            let shown = if userinfo.contains(':') { format!("{user}:***") } else { "***".to_owned() };
            format!("{scheme}://{shown}@{host}{path}")
        }
    }
}

/// How the Redis backend connects, produces and consumes.
///
/// [`from_env`](Self::from_env) reads upstream's setting names from the environment; every field
/// can also be set in code. `Debug` never shows the URL's password.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RedisSettings {
    /// `EVENT_BUS_REDIS_CONNECTION_URL`.
    pub url: Option<RedisUrl>,
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
    /// How a consumer retries a message whose receivers fail before dead-lettering it.
    pub retry: RetryPolicy,
    /// Pending messages idle longer than this (their consumer died) are claimed by a live consumer
    /// of the group; 60 s by default.
    pub claim_idle_time: Duration,
    /// How many messages one read takes; 100 by default.
    pub batch_size: usize,
}

impl Default for RedisSettings {
    fn default() -> Self {
        RedisSettings {
            url: None,
            topic_prefix: None,
            stream_max_len: 10_000,
            poll_timeout: Duration::from_secs(60),
            poll_failure_sleep: Duration::from_secs(1),
            consecutive_errors_limit: None,
            retry: RetryPolicy::default(),
            claim_idle_time: Duration::from_secs(60),
            batch_size: 100,
        }
    }
}

/// The variables [`RedisSettings::from_env`] reads.
pub const ENV_VARS: [&str; 6] = [
    "EVENT_BUS_REDIS_CONNECTION_URL",
    "EVENT_BUS_TOPIC_PREFIX",
    "EVENT_BUS_REDIS_STREAM_MAX_LEN",
    "EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT",
    "EVENT_BUS_REDIS_CONSUMER_POLL_FAILURE_SLEEP",
    "EVENT_BUS_REDIS_CONSUMER_CONSECUTIVE_ERRORS_LIMIT",
];

impl RedisSettings {
    /// The defaults, overridden by the environment's `EVENT_BUS_*` variables; an empty variable
    /// counts as unset. Every variable that does not parse is reported, each by name.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading the variables through `lookup` (a map in tests,
    /// a settings file in a service).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut settings = RedisSettings::default();
        let mut errors = Vec::new();
        settings.url = var("EVENT_BUS_REDIS_CONNECTION_URL").map(RedisUrl::new);
        settings.topic_prefix = var("EVENT_BUS_TOPIC_PREFIX");
        let mut read = |name: &'static str, apply: &mut dyn FnMut(&str) -> Result<(), &'static str>| {
            if let Some(value) = var(name)
                && let Err(expected) = apply(&value)
            {
                errors.push(ConfigError::InvalidSetting { name, value, expected: Some(expected) });
            }
        };
        read("EVENT_BUS_REDIS_STREAM_MAX_LEN", &mut |v| {
            settings.stream_max_len = v.trim().parse().map_err(|_| "a whole number")?;
            Ok(())
        });
        read("EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT", &mut |v| {
            settings.poll_timeout = seconds(v)?;
            Ok(())
        });
        read("EVENT_BUS_REDIS_CONSUMER_POLL_FAILURE_SLEEP", &mut |v| {
            settings.poll_failure_sleep = seconds(v)?;
            Ok(())
        });
        read("EVENT_BUS_REDIS_CONSUMER_CONSECUTIVE_ERRORS_LIMIT", &mut |v| {
            settings.consecutive_errors_limit = Some(v.trim().parse().map_err(|_| "a whole number")?);
            Ok(())
        });
        if errors.is_empty() { Ok(settings) } else { Err(ConfigErrors::new(errors)) }
    }

    /// Sets the Redis URL.
    pub fn with_url(mut self, url: impl Into<RedisUrl>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Sets the topic prefix.
    pub fn with_topic_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.topic_prefix = Some(prefix.into());
        self
    }

    /// The stream a topic lives in: `{prefix}-{topic}` when a prefix is set.
    pub fn full_topic(&self, topic: &str) -> String {
        full_topic(self.topic_prefix.as_deref(), topic)
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

    fn from(vars: &[(&str, &str)]) -> Result<RedisSettings, ConfigErrors> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        RedisSettings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn urls_never_show_their_password() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
            ("rediss://app:hunter2@cache.example.com", "rediss://app:***@cache.example.com"),
            ("redis://token-hunter2@cache", "redis://***@cache"),
            ("redis://a:b@c@cache/1?x=y", "redis://a:***@cache/1?x=y"),
            ("unix:///run/redis.sock", "unix:///run/redis.sock"),
            ("hunter2@cache", "***"),
        ] {
            let url = RedisUrl::new(url);
            assert_eq!(url.to_string(), shown);
            assert!(!format!("{url:?}").contains("hunter2"));
        }
    }

    #[test]
    fn settings_read_upstreams_names_and_report_every_bad_one() {
        let settings = from(&[
            ("EVENT_BUS_REDIS_CONNECTION_URL", "redis://:hunter2@cache:6379"),
            ("EVENT_BUS_TOPIC_PREFIX", "stage"),
            ("EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT", "1.5"),
            ("EVENT_BUS_REDIS_CONSUMER_CONSECUTIVE_ERRORS_LIMIT", ""),
        ])
        .unwrap();
        assert_eq!(settings.url.as_ref().map(RedisUrl::expose), Some("redis://:hunter2@cache:6379"));
        assert_eq!(settings.full_topic("user-login"), "stage-user-login");
        assert_eq!(settings.poll_timeout, Duration::from_millis(1500));
        assert_eq!(settings.consecutive_errors_limit, None);
        assert!(!format!("{settings:?}").contains("hunter2"));

        let errors =
            from(&[("EVENT_BUS_REDIS_STREAM_MAX_LEN", "lots"), ("EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT", "-1")])
                .unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors.to_string(),
            "2 configuration problems:\n  \
             - setting `EVENT_BUS_REDIS_STREAM_MAX_LEN` has an invalid value \"lots\"; expected a whole number\n  \
             - setting `EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT` has an invalid value \"-1\"; expected a number of seconds, such as 1 or 0.5"
        );
    }
}
