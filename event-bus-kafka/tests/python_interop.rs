//! Interop with upstream's own `edx-event-bus-kafka` over the real broker and registry: events
//! Python's producer writes are dispatched by our consumer with exactly the data and metadata
//! Python sent; our producer, sending the same events to the same topic, writes byte-identical
//! messages (headers, key, value); and upstream's consumer reads ours with exactly our data and
//! metadata. Seven event types, string and long keys.
//!
//! The Python side is in `python_interop/`; the interpreter is `OPENEDX_EVENTS_PYTHON`, by
//! default the repository's `target/venv` (`bash .ci/setup`).
#![allow(missing_docs, reason = "test helpers need no docs")]

mod common;

use std::any::Any;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use common::*;
use openedx_events::event_bus::{EventBusProducer, OutgoingMessage};
use openedx_events::{AnySignal, EventData, EventsMetadata, OpenEdxPublicSignal, get_signal_by_type};
use openedx_events_catalog::content_authoring::signals::{COURSE_CATALOG_INFO_CHANGED, XBLOCK_PUBLISHED};
use openedx_events_catalog::learning::signals::{
    COURSE_DISCUSSIONS_CHANGED, COURSE_ENROLLMENT_CREATED, COURSE_NOTIFICATION_REQUESTED, FORUM_THREAD_CREATED,
    PERSISTENT_GRADE_SUMMARY_CHANGED,
};
use openedx_events_kafka::{SchemaRegistry, StartFrom, unframe};
use openedx_events_test_support::python::python;
use rdkafka::Message;
use rdkafka::message::Headers;
use serde_json::Value;

fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python_interop")
}

fn run(script: &str, scratch: &Scratch, args: &[&str]) -> Vec<Value> {
    let python = python();
    python.require(&["edx-event-bus-kafka", "confluent-kafka"]);
    let servers = bootstrap_servers();
    let registry = registry_url();
    let prefix = scratch.settings.topic_prefix.clone().unwrap_or_default();
    let mut all = vec!["--bootstrap-servers", &servers, "--registry-url", &registry, "--topic-prefix", &prefix];
    all.extend_from_slice(args);
    python.run_json_lines(&scripts_dir().join(script), &scripts_dir(), &all)
}

/// What our receivers got from the bus: metadata, data as JSON, the payload.
struct Received {
    metadata: EventsMetadata,
    data: Value,
    payload: Arc<dyn Any + Send + Sync>,
}

type Captured = Arc<Mutex<Vec<Received>>>;

fn capture<E: EventData + Clone + Send + Sync + 'static>(signal: &'static OpenEdxPublicSignal<E>, into: &Captured) {
    let into = Arc::clone(into);
    signal.connect("kafka_interop::capture", move |data: &E, metadata: &EventsMetadata| {
        if metadata.from_event_bus() {
            let received =
                Received { metadata: metadata.clone(), data: data.to_json(), payload: Arc::new(data.clone()) };
            into.lock().unwrap_or_else(PoisonError::into_inner).push(received);
        }
        Ok::<(), String>(())
    });
}

fn text<'a>(line: &'a Value, key: &str) -> &'a str {
    line[key].as_str().unwrap_or_else(|| panic!("no string `{key}` in {line}"))
}

/// The value at a dotted path of upstream's data dict.
fn at<'a>(data: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(data, |value, part| &value[part])
}

/// Whether `read` is what upstream's consumer makes of `sent`: the same, except that its
/// deserializer keeps a field's default when the value on the wire is falsy (`if sub_data or
/// attribute.default is attr.NOTHING` in openedx-events 11.2.0), so an optional `0` or `false`
/// reads as None.
fn upstream_reads(sent: &Value, read: &Value) -> bool {
    match (sent, read) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| upstream_reads(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(v, w)| upstream_reads(v, w)),
        (Value::Bool(false), Value::Null) => true,
        (Value::Number(n), Value::Null) => n.as_f64() == Some(0.0),
        (Value::String(t), Value::Null) => t.is_empty(),
        (a, b) => a == b,
    }
}

#[test]
fn python_and_rust_exchange_identical_messages_both_ways() {
    let scratch = Scratch::new("interop");
    let topics = ["learning", "authoring"];
    for topic in topics {
        scratch.topic(topic, 1);
    }
    let captured: Captured = Arc::default();
    capture(&COURSE_ENROLLMENT_CREATED, &captured);
    capture(&COURSE_DISCUSSIONS_CHANGED, &captured);
    capture(&PERSISTENT_GRADE_SUMMARY_CHANGED, &captured);
    capture(&COURSE_NOTIFICATION_REQUESTED, &captured);
    capture(&FORUM_THREAD_CREATED, &captured);
    capture(&XBLOCK_PUBLISHED, &captured);
    capture(&COURSE_CATALOG_INFO_CHANGED, &captured);

    // 1. Python's producer → our consumer.
    let sent = run("kafka_producer.py", &scratch, &[]);
    let types: std::collections::BTreeSet<_> = sent.iter().map(|line| text(line, "event_type")).collect();
    assert!(types.len() >= 7, "{types:?}");
    for topic in topics {
        let count = sent.iter().filter(|line| text(line, "topic") == topic).count() as u64;
        let mut consumer = scratch.consumer(topic, "rust-interop", StartFrom::Beginning);
        consumer.consume_until(within(60), |stats| stats.delivered + stats.dead_lettered >= count).expect("consumed");
        assert_eq!((consumer.stats().delivered, consumer.stats().dead_lettered), (count, 0), "{topic}");
    }
    let received = std::mem::take(&mut *captured.lock().unwrap_or_else(PoisonError::into_inner));
    assert_eq!(received.len(), sent.len());
    for line in &sent {
        let metadata_json = text(line, "metadata_json");
        let got = received
            .iter()
            .find(|r| r.metadata.to_json() == metadata_json)
            .unwrap_or_else(|| panic!("no event with metadata {metadata_json}"));
        assert_eq!(got.data, line["data"], "data of {}", text(line, "event_type"));
    }

    // 2. Our producer sends the same events (same metadata) to the same topics: the messages
    //    are byte for byte Python's.
    let producer = scratch.producer();
    for line in &sent {
        let got = received.iter().find(|r| r.metadata.to_json() == text(line, "metadata_json")).expect("received");
        let signal: &'static dyn AnySignal = get_signal_by_type(&got.metadata.event_type).expect("a signal");
        let key_field = text(line, "key_field");
        let key = signal.event_key(&*got.payload, key_field);
        let bytes = signal.json_to_avro(&got.data).expect("encodable");
        let metadata = got.metadata.clone();
        let message = OutgoingMessage::new(signal, text(line, "topic"), Some(key_field), &bytes, &metadata)
            .with_key(key.as_ref());
        producer.send(&message).expect("produced");
    }
    let registry = SchemaRegistry::new(registry_url(), None, None);
    for topic in topics {
        let lines: Vec<_> = sent.iter().filter(|line| text(line, "topic") == topic).collect();
        let n = lines.len();
        let messages = read_raw(&scratch.settings, &scratch.settings.full_topic(topic), 2 * n);
        for (i, line) in lines.iter().enumerate() {
            let (python, rust) = (&messages[i], &messages[n + i]);
            let headers = |m: &rdkafka::message::OwnedMessage| {
                m.headers()
                    .map(|h| h.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec))).collect::<Vec<_>>())
            };
            let what = text(line, "event_type");
            assert_eq!(headers(rust), headers(python), "headers of {what}");
            assert_eq!(rust.payload(), python.payload(), "value of {what}");
            assert_eq!(rust.key(), python.key(), "key of {what}");
            // And the key is what upstream makes: the key field's value, as Avro of its type.
            let (id, avro) = unframe(python.key().expect("a key")).expect("framed");
            let schema: Value = serde_json::from_str(&registry.schema(id).expect("the key schema")).expect("JSON");
            let value = at(&line["data"], text(line, "key_field"));
            let expected = match value {
                Value::String(s) => openedx_events::event_bus::EventKey::String(s.clone()),
                Value::Number(n) => openedx_events::event_bus::EventKey::Long(n.as_i64().expect("a long")),
                other => panic!("unexpected key {other}"),
            };
            assert_eq!(avro, expected.to_avro().as_slice(), "key bytes of {what}");
            assert_eq!(schema["type"], expected.avro_type(), "key schema of {what}");
        }
    }

    // 3. Upstream's consumer reads both copies of each event: ours as Python's.
    let expect: Vec<String> = topics
        .iter()
        .map(|topic| format!("{topic}={}", 2 * sent.iter().filter(|line| text(line, "topic") == *topic).count()))
        .collect();
    let mut args = vec!["--group", "python-interop"];
    for e in &expect {
        args.extend_from_slice(&["--expect", e]);
    }
    let consumed = run("kafka_consumer.py", &scratch, &args);
    let errors: Vec<_> = consumed.iter().filter(|line| line.get("error").is_some()).collect();
    assert!(errors.is_empty(), "upstream's consumer failed: {errors:?}");
    assert_eq!(consumed.len(), 2 * sent.len());
    for line in &sent {
        let copies: Vec<_> = consumed.iter().filter(|c| c["metadata_json"] == line["metadata_json"]).collect();
        assert_eq!(copies.len(), 2, "both copies of {}", text(line, "event_type"));
        // Both copies read the same in Python, Python's and ours.
        assert_eq!(copies[0]["data"], copies[1]["data"], "{}", text(line, "event_type"));
        for copy in copies {
            assert!(
                upstream_reads(&line["data"], &copy["data"]),
                "data of {}: sent {} read {}",
                text(line, "event_type"),
                line["data"],
                copy["data"]
            );
            assert_eq!(copy["from_event_bus"], Value::Bool(true));
        }
    }
}
