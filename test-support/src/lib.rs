//! Test support shared by the workspace's tests and benchmarks, written once: a corner of the
//! shared Redis for each test, and the Python interpreter the interop tests run.
//!
//! Services are found through environment variables with loopback defaults (`REDIS_URL`,
//! `OPENEDX_EVENTS_PYTHON`). A missing service fails the test with a message that says how to
//! set it up; nothing is skipped.
#![forbid(unsafe_code)]

pub mod python;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// A port nothing listens on (for a moment).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// A `redis-server` of this test's own on a free port, killed (and its files removed) when
/// dropped, whatever the test's outcome.
pub struct OwnRedis {
    port: u16,
    dir: PathBuf,
    persistent: bool,
    server: Option<Child>,
}

impl OwnRedis {
    /// Starts a server; a persistent one writes every change to its append-only file before
    /// answering, so a restart loses nothing.
    pub fn start(persistent: bool) -> OwnRedis {
        OwnRedis::start_on(free_port(), persistent)
    }

    /// Starts a server on this port (to start one again where a test expects it).
    pub fn start_on(port: u16, persistent: bool) -> OwnRedis {
        let dir =
            std::env::temp_dir().join(format!("oe-redis-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a directory for redis-server");
        let mut redis = OwnRedis { port, dir, persistent, server: None };
        redis.launch();
        redis
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts (or starts again) the server on its port, and waits until it answers.
    pub fn launch(&mut self) {
        assert!(self.server.is_none(), "redis-server on port {} is already running", self.port);
        let port = self.port.to_string();
        let appendonly = if self.persistent { "yes" } else { "no" };
        let server = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port, "--save", "", "--daemonize", "no"])
            .args(["--appendonly", appendonly, "--appendfsync", "always", "--dir"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("these tests need `redis-server` on PATH: {e}"));
        let client = redis::Client::open(self.url()).expect("a Redis URL");
        let server = self.server.insert(server);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = server.try_wait() {
                panic!("redis-server on port {port} exited at start: {status}");
            }
            let pong = client
                .get_connection_with_timeout(Duration::from_millis(200))
                .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection));
            if pong.is_ok() {
                return;
            }
            assert!(Instant::now() < deadline, "redis-server on port {port} did not answer in 10 s: {pong:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server at once (SIGKILL: no goodbye to clients, no final save).
    pub fn kill(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
