//! A Redis URL's password never shows: not in the settings read from the environment, not in a
//! producer's or a consumer's `Debug`, not in the errors they return when Redis is unreachable.
//! The settings come from the environment, so the test runs again in a child process that has
//! the variable set (`std::env::set_var` needs `unsafe`, which the crates forbid).

use std::time::Duration;

use openedx_events::event_bus::{EventBusConsumer, EventBusProducer, OutgoingMessage};
use openedx_events::openedx_event;
use openedx_events_redis::{RedisConsumer, RedisProducer, RedisSettings};

const PASSWORD: &str = "hunter2-do-not-print";

/// Something that happened.
#[openedx_event(name = SECRET_TESTED, event_type = "org.openedx.learning.redis_secrets.tested.v1")]
#[derive(Clone, Debug)]
pub struct Tested {
    /// What.
    pub what: String,
}

fn assert_hidden(what: &str, text: &str) {
    assert!(!text.contains(PASSWORD), "{what} shows the password: {text}");
    assert!(text.contains("***"), "{what} does not say a password was hidden: {text}");
}

#[test]
fn passwords_never_show_in_settings_producers_consumers_or_errors() {
    // Nothing listens on port 1.
    let url = format!("redis://app:{PASSWORD}@127.0.0.1:1/0");
    if std::env::var("EVENT_BUS_REDIS_CONNECTION_URL").as_deref() != Ok(url.as_str()) {
        let status = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args(["--exact", "passwords_never_show_in_settings_producers_consumers_or_errors", "--nocapture"])
            .env("EVENT_BUS_REDIS_CONNECTION_URL", &url)
            .status()
            .expect("the test binary runs");
        assert!(status.success(), "the test failed in its child process (its output is above)");
        return;
    }
    let settings = RedisSettings::from_env().expect("valid settings");
    assert_eq!(settings.url.as_ref().map(|url| url.expose()), Some(url.as_str()));
    assert_hidden("the settings' Debug", &format!("{settings:?}"));
    assert_hidden("the URL's Display", &settings.url.as_ref().map(ToString::to_string).unwrap_or_default());

    let producer = RedisProducer::new(settings.clone()).expect("a producer");
    assert_hidden("the producer's Debug", &format!("{producer:?}"));
    let data = SECRET_TESTED.encode_avro(&Tested { what: "x".into() }).expect("encodable");
    let metadata = SECRET_TESTED.generate_signal_metadata(None);
    let error = producer.send(&OutgoingMessage::new(&SECRET_TESTED, "t", None, &data, &metadata)).unwrap_err();
    assert!(error.is_retryable(), "an unreachable Redis is worth retrying: {error}");
    assert!(!format!("{error} {error:?}").contains(PASSWORD), "{error:?}");

    let mut settings = settings;
    settings.consecutive_errors_limit = Some(1);
    settings.poll_failure_sleep = Duration::from_millis(10);
    let mut consumer = RedisConsumer::builder(settings).topic("t").group("g").consumer_name("c").build().unwrap();
    assert!(!format!("{consumer:?}").contains(PASSWORD));
    let error = consumer.consume_indefinitely().unwrap_err();
    assert!(!format!("{error} {error:?}").contains(PASSWORD), "{error:?}");

    let bad = format!("redis+nonsense://app:{PASSWORD}@127.0.0.1:1");
    let error = RedisProducer::new(RedisSettings::default().with_url(bad)).unwrap_err();
    assert!(!error.is_retryable());
    assert_hidden("the invalid-URL error", &error.to_string());
}
