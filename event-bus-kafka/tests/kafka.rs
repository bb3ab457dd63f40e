//! The Kafka backend against a real broker and schema registry (`KAFKA_BOOTSTRAP_SERVERS`,
//! `SCHEMA_REGISTRY_URL`; `.ci/setup-kafka` starts both): each test uses its own topic prefix.
#![allow(missing_docs, reason = "test payloads need no docs")]

mod common;

use common::*;
use openedx_events::event_bus::EventKey;
use openedx_events_kafka::{SchemaRegistry, StartFrom, frame, unframe};
use rdkafka::Message;
use rdkafka::message::Headers;

/// The events sent arrived once each, with the same data and metadata.
fn check<E: Clone + PartialEq + std::fmt::Debug>(sent: &[(E, openedx_events::EventsMetadata)], seen: &Seen<E>) {
    let ids: Vec<_> = sent.iter().map(|(_, m)| m.id).collect();
    let got = seen_with_ids(seen, &ids);
    assert_eq!(got.len(), ids.len());
    for ((data, metadata), (got_data, got_metadata)) in sent.iter().zip(&got) {
        assert_eq!(data, got_data);
        assert_eq!(metadata.to_json(), got_metadata.to_json());
    }
}

#[test]
fn events_of_several_types_round_trip_with_metadata_and_data_identical() {
    let scratch = Scratch::new("roundtrip");
    let full = scratch.topic("mixed", 2);
    let published = record(&KAFKA_PUBLISHED, "roundtrip-published");
    let logged_in = record(&KAFKA_LOGGED_IN, "roundtrip-logged-in");
    let pinged = record(&KAFKA_PINGED, "roundtrip-pinged");
    let producer = scratch.producer();
    let mut sent_published = Vec::new();
    let mut sent_logged_in = Vec::new();
    let mut sent_pinged = Vec::new();
    for n in 0..4 {
        let data = Published { course: Course { key: format!("course-v1:rt+{n}+x") }, n };
        let key = EventKey::String(data.course.key.clone());
        sent_published.push((data.clone(), produce(&producer, &KAFKA_PUBLISHED, "mixed", &data, Some(key))));
        let data =
            LoggedIn { user: User { id: 40 + n, name: format!("user é {n}") }, tags: vec!["a".into(); n as usize] };
        let key = EventKey::Long(data.user.id);
        sent_logged_in.push((data.clone(), produce(&producer, &KAFKA_LOGGED_IN, "mixed", &data, Some(key))));
        let data = Pinged { note: (n % 2 == 0).then(|| format!("note {n}")), ratio: n as f64 / 3.0 };
        sent_pinged.push((data.clone(), produce(&producer, &KAFKA_PINGED, "mixed", &data, None)));
    }
    let mut consumer = scratch.consumer("mixed", "roundtrip", StartFrom::Beginning);
    consumer.consume_until(within(60), |stats| stats.delivered >= 12).expect("consumed");
    assert_eq!(consumer.stats().delivered, 12, "{:?}", consumer.stats());
    assert_eq!(consumer.stats().dead_lettered, 0);
    check(&sent_published, &published);
    check(&sent_logged_in, &logged_in);
    check(&sent_pinged, &pinged);
    assert!(full.ends_with("-mixed"));
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("JSON")
}

#[test]
fn the_wire_bytes_are_upstreams() {
    let scratch = Scratch::new("wire");
    let full = scratch.topic("wire", 1);
    let producer = scratch.producer();
    let data = Published { course: Course { key: "course-v1:edX+DemoX+Demo_Course".into() }, n: 7 };
    let metadata = produce(&producer, &KAFKA_PUBLISHED, "wire", &data, Some(EventKey::String(data.course.key.clone())));
    let user = LoggedIn { user: User { id: 42, name: "x".into() }, tags: vec![] };
    produce(&producer, &KAFKA_LOGGED_IN, "wire", &user, Some(EventKey::Long(42)));
    produce(&producer, &KAFKA_PINGED, "wire", &Pinged { note: None, ratio: 0.5 }, None);
    let messages = read_raw(&scratch.settings, &full, 3);
    let registry = SchemaRegistry::new(registry_url(), None, None);

    // Headers: upstream's names, order and values.
    let first = &messages[0];
    let headers: Vec<(String, String)> = first
        .headers()
        .expect("headers")
        .iter()
        .map(|h| (h.key.to_owned(), String::from_utf8(h.value.expect("a value").to_vec()).expect("UTF-8")))
        .collect();
    let header_values = openedx_events::event_bus::header_values(&metadata);
    let text = |i: usize| String::from_utf8(header_values[i].1.to_vec()).expect("UTF-8");
    let expected: Vec<(String, String)> = [
        ("ce_specversion", "1.0".to_owned()),
        ("content-type", "application/avro".to_owned()),
        ("ce_datacontenttype", "application/avro".to_owned()),
        ("ce_type", "org.openedx.content_authoring.kafka_bus.published.v1".to_owned()),
        ("ce_id", metadata.id.to_string()),
        ("ce_source", metadata.source.to_string()),
        ("ce_time", text(3)),
        ("ce_minorversion", "0".to_owned()),
        ("sourcehost", metadata.sourcehost.to_string()),
        ("sourcelib", text(6)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(headers, expected);
    assert!(text(3).contains('T') && text(3).ends_with("+00:00"), "Python isoformat: {}", text(3));

    // Value: 0x00, the id of the schema under the TopicRecordNameStrategy subject, the Avro.
    let value = first.payload().expect("a value");
    let (value_id, avro) = unframe(value).expect("framed");
    assert_eq!(avro, KAFKA_PUBLISHED.encode_avro(&data).expect("encodable").as_slice());
    // The registry may store a schema reformatted: compare them as JSON.
    assert_eq!(
        json(&registry.schema(value_id).expect("the value schema")),
        json(KAFKA_PUBLISHED.avro_schema().expect("schema"))
    );
    let subject = format!("{full}-org.openedx.content_authoring.kafka_bus.published.v1.CloudEvent");
    assert_eq!(
        registry.register(&subject, KAFKA_PUBLISHED.avro_schema().expect("schema")).expect("registered"),
        value_id
    );

    // Key: the course key as an Avro string, framed with the field definition's schema id.
    let key = first.key().expect("a key");
    let (key_id, key_avro) = unframe(key).expect("framed");
    assert_eq!(json(&registry.schema(key_id).expect("the key schema")), json(r#"{"name": "key", "type": "string"}"#));
    assert_eq!(
        registry.register(&format!("{full}-string"), r#"{"name": "key", "type": "string"}"#).expect("id"),
        key_id
    );
    let mut expected_key = vec![2 * 31];
    expected_key.extend_from_slice(b"course-v1:edX+DemoX+Demo_Course");
    assert_eq!(key_avro, expected_key.as_slice());
    assert_eq!(key, frame(key_id, &expected_key).as_slice());

    // A long key: 42 is the zig-zag varint 0x54, as upstream's `000000000154` (id aside).
    let (long_id, long_avro) = unframe(messages[1].key().expect("a key")).expect("framed");
    assert_eq!(long_avro, [0x54]);
    assert_eq!(json(&registry.schema(long_id).expect("schema")), json(r#"{"name": "id", "type": "long"}"#));
    // No key field: no key.
    assert_eq!(messages[2].key(), None);
}
