//! Test support shared by the workspace's tests and benchmarks, written once: a corner of the
//! shared Redis for each test, and the Python interpreter the interop tests run.
//!
//! Services are found through environment variables with loopback defaults (`REDIS_URL`,
//! `OPENEDX_EVENTS_PYTHON`). A missing service fails the test with a message that says how to
//! set it up; nothing is skipped.
#![forbid(unsafe_code)]

pub mod python;

use std::time::Duration;

use openedx_events_redis::RedisSettings;

/// What to do when a service the tests need is missing.
pub const SETUP_HINT: &str = "run `bash .ci/setup`, which installs and starts what the tests need";

/// The Redis the tests use: `REDIS_URL`, by default `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").ok().filter(|url| !url.is_empty()).unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// A name no other test run uses: `{what}-{process}-{random}`, for prefixes, groups and tables.
pub fn unique_name(what: &str) -> String {
    format!("{what}-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple())
}

/// A connection to [`redis_url`]; panics, saying how to start Redis, when none answers.
pub fn redis_connection() -> redis::Connection {
    let url = redis_url();
    let client =
        redis::Client::open(url.as_str()).unwrap_or_else(|e| panic!("REDIS_URL {url:?} is not a Redis URL: {e}"));
    client
        .get_connection_with_timeout(Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("these tests need Redis at {url} (set REDIS_URL): {e}; {SETUP_HINT}"))
}

/// One test's corner of the shared Redis: a topic prefix of its own (`oe-test-{test}-…`), and a
/// connection to look at its streams. Every key under the prefix is deleted on drop, so tests
/// run in parallel and leave nothing behind.
pub struct RedisScratch {
    prefix: String,
    connection: redis::Connection,
}

impl RedisScratch {
    /// A new corner for the test named `test`; panics when Redis is not there.
    pub fn new(test: &str) -> RedisScratch {
        RedisScratch { prefix: unique_name(&format!("oe-test-{test}")), connection: redis_connection() }
    }

    /// The topic prefix (`EVENT_BUS_TOPIC_PREFIX`) of this test.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Settings for this test's corner: [`redis_url`], its prefix, and waits short enough for
    /// tests (reads of 200 ms, failure pauses of 50 ms, retries after 1 ms).
    pub fn settings(&self) -> RedisSettings {
        let mut settings = RedisSettings::default().with_url(redis_url()).with_topic_prefix(&self.prefix);
        settings.poll_timeout = Duration::from_millis(200);
        settings.poll_failure_sleep = Duration::from_millis(50);
        settings.retry.backoff = Duration::from_millis(1);
        settings
    }

    /// The stream a topic of this test lives in: `{prefix}-{topic}`.
    pub fn stream(&self, topic: &str) -> String {
        format!("{}-{topic}", self.prefix)
    }

    /// The connection, for commands of the test's own.
    pub fn connection(&mut self) -> &mut redis::Connection {
        &mut self.connection
    }

    /// How many entries a stream holds (0 when it does not exist).
    pub fn stream_len(&mut self, stream: &str) -> usize {
        redis::cmd("XLEN").arg(stream).query(&mut self.connection).unwrap_or_else(|e| panic!("XLEN {stream}: {e}"))
    }
}

impl Drop for RedisScratch {
    fn drop(&mut self) {
        let pattern = format!("{}-*", self.prefix);
        let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query(&mut self.connection).unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<(), _> = redis::cmd("DEL").arg(&keys).query(&mut self.connection);
        }
    }
}
