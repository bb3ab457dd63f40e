//! The event bus in memory: configured events are produced when sent, consumed events reach the
//! receivers with the producer's metadata, are not produced again, and failures are retried and
//! dead-lettered.
#![allow(missing_docs, reason = "test payloads need no docs")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use openedx_events::event_bus::{
    InMemoryEventBus, PRODUCER_RECEIVER_NAME, ProducerConfig, RetryPolicy, start_producing,
};
use openedx_events::{EventData, EventsMetadata, openedx_event, receiver};
use serde_json::json;

#[derive(EventData, Clone, Debug, PartialEq)]
pub struct Learner {
    pub username: String,
    pub id: i64,
}

#[openedx_event(name = MEM_LOGGED_IN, event_type = "org.openedx.learning.mem_bus.logged_in.v1", key_field = "learner.username")]
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedIn {
    pub learner: Learner,
}

static RECEIVED_FROM_BUS: AtomicUsize = AtomicUsize::new(0);

#[receiver(MEM_LOGGED_IN)]
fn count_bus_deliveries(_data: &LoggedIn, metadata: &EventsMetadata) {
    if metadata.from_event_bus() {
        RECEIVED_FROM_BUS.fetch_add(1, Ordering::SeqCst);
    }
}

#[openedx_event(name = MEM_FLAKY, event_type = "org.openedx.learning.mem_bus.flaky.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct Flaky {
    pub n: i64,
}

static FLAKY_CALLS: AtomicUsize = AtomicUsize::new(0);

#[receiver(MEM_FLAKY)]
fn fails_on_odd(data: &Flaky, metadata: &EventsMetadata) -> Result<(), String> {
    if metadata.from_event_bus() {
        FLAKY_CALLS.fetch_add(1, Ordering::SeqCst);
        if data.n % 2 == 1 {
            return Err(format!("cannot take {}", data.n));
        }
    }
    Ok(())
}

fn config() -> ProducerConfig {
    ProducerConfig::from_value(&json!({
        "org.openedx.learning.mem_bus.logged_in.v1": {
            "logins": {"event_key_field": "learner.username", "enabled": true},
            "disabled-topic": {"event_key_field": "learner.id", "enabled": false},
        },
        "org.openedx.learning.mem_bus.flaky.v1": {"flaky": {"event_key_field": "n", "enabled": true}},
    }))
    .unwrap()
}

#[test]
fn configured_events_are_produced_consumed_and_not_produced_again() {
    let bus = InMemoryEventBus::new().with_topic_prefix("test");
    let guard = start_producing(&config(), Arc::new(bus.clone()));

    let event = LoggedIn { learner: Learner { username: "ada".into(), id: 7 } };
    let responses = MEM_LOGGED_IN.send_event(event.clone());
    assert!(responses.iter().any(|r| r.receiver == PRODUCER_RECEIVER_NAME && r.result.is_ok()));
    let produced = bus.messages("test-logins");
    assert_eq!(produced.len(), 1);
    assert!(bus.messages("test-disabled-topic").is_empty());
    let names: Vec<&[u8]> = produced[0].fields.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(names, openedx_events::event_bus::FIELD_NAMES.map(str::as_bytes));

    let before = RECEIVED_FROM_BUS.load(Ordering::SeqCst);
    let mut consumer = bus.consumer("logins");
    assert_eq!(consumer.consume_available(), 1);
    assert_eq!(RECEIVED_FROM_BUS.load(Ordering::SeqCst), before + 1);
    // The consumed event reached the producing receiver too, which declined to produce it again.
    assert_eq!(bus.messages("test-logins").len(), 1);

    drop(guard);
    MEM_LOGGED_IN.send_event(event);
    assert_eq!(bus.messages("test-logins").len(), 1, "producing stops with the guard");
}

#[test]
fn failing_receivers_are_retried_then_dead_lettered_without_blocking_the_rest() {
    let bus =
        InMemoryEventBus::new().with_retry_policy(RetryPolicy { max_attempts: 3, backoff: Duration::from_millis(1) });
    let _guard = start_producing(&config(), Arc::new(bus.clone()));
    for n in 0..4 {
        MEM_FLAKY.send_event(Flaky { n });
    }
    let calls_before = FLAKY_CALLS.load(Ordering::SeqCst);
    let mut consumer = bus.consumer("flaky");
    assert_eq!(consumer.consume_available(), 4);
    // Two good messages once each, two bad ones three times each.
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst) - calls_before, 2 + 2 * 3);
    let dead = bus.messages("flaky-dead-letter");
    assert_eq!(dead.len(), 2);
    let field = |message: &openedx_events::event_bus::StoredMessage, name: &str| {
        message.fields.iter().find(|(k, _)| k == name.as_bytes()).map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    assert_eq!(field(&dead[0], "attempts").as_deref(), Some("3"));
    assert!(field(&dead[0], "error").unwrap().contains("cannot take 1"));
}

#[test]
fn unusable_messages_are_dead_lettered_at_once() {
    let bus = InMemoryEventBus::new();
    bus.append(
        "junk",
        vec![
            (b"type".to_vec(), b"org.openedx.learning.mem_bus.logged_inn.v1".to_vec()),
            (b"event_data".to_vec(), vec![]),
        ],
    );
    bus.append(
        "junk",
        vec![
            (b"type".to_vec(), b"org.openedx.learning.mem_bus.logged_in.v1".to_vec()),
            (b"event_data".to_vec(), vec![1, 2, 3]),
        ],
    );
    bus.append("junk", vec![(b"id".to_vec(), b"no type".to_vec())]);
    let mut consumer = bus.consumer("junk");
    assert_eq!(consumer.consume_available(), 3);
    let dead = bus.messages("junk-dead-letter");
    assert_eq!(dead.len(), 3);
    let errors: Vec<String> = dead
        .iter()
        .map(|m| {
            m.fields.iter().find(|(k, _)| k == b"error").map(|(_, v)| String::from_utf8_lossy(v).into_owned()).unwrap()
        })
        .collect();
    assert!(
        errors[0].contains("no signal of type")
            && errors[0].contains("similar: org.openedx.learning.mem_bus.logged_in.v1"),
        "{}",
        errors[0]
    );
    assert!(errors[1].contains("invalid Avro data"), "{}", errors[1]);
    assert!(errors[2].contains("no `type` header"), "{}", errors[2]);
}

#[test]
fn configuration_problems_are_all_reported() {
    let errors = ProducerConfig::from_value(&json!({
        "org.openedx.learning.mem_bus.logged_inn.v1": {},
        "org.openedx.learning.mem_bus.logged_in.v1": {
            "a": {"event_key_field": "learner.usernme", "enabled": true},
            "b": {"enabled": "yes"},
            "c": [],
        },
    }))
    .unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 5, "{messages:#?}");
    assert!(messages.iter().any(|m| m.contains("no event of type `org.openedx.learning.mem_bus.logged_inn.v1`; did you mean `org.openedx.learning.mem_bus.logged_in.v1`?")), "{messages:#?}");
    assert!(messages.iter().any(|m| m.contains("`Learner` has no field `usernme`")), "{messages:#?}");
    assert!(messages.iter().any(|m| m.contains("topic `b` is missing `event_key_field`")), "{messages:#?}");
    assert!(messages.iter().any(|m| m.contains("topic `b`: `enabled` must be true or false")), "{messages:#?}");
    assert!(messages.iter().any(|m| m.contains("topic `c` must be an object")), "{messages:#?}");
}
