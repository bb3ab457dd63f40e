//! Every event's Avro schema is byte-identical to the string upstream's `AvroSignalSerializer`
//! gives, and the events upstream cannot serialize give a typed error.

use std::collections::BTreeMap;

use openedx_events_catalog as _;

fn upstream_schemas() -> BTreeMap<String, Option<String>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/upstream/catalog.json");
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read upstream's catalog at {path}: {e}"));
    let catalog: serde_json::Value = serde_json::from_str(&text).expect("catalog.json is JSON");
    catalog["events"]
        .as_array()
        .expect("events is a list")
        .iter()
        .map(|event| {
            let schema = event["avro_schema"].as_str().map(str::to_owned);
            (event["event_type"].as_str().expect("event_type").to_owned(), schema)
        })
        .collect()
}

#[test]
fn schemas_are_byte_identical_to_upstreams() {
    let upstream = upstream_schemas();
    let mut problems = Vec::new();
    let mut serializable = 0;
    for (event_type, expected) in &upstream {
        let Some(signal) = openedx_events::get_signal_by_type(event_type) else {
            problems.push(format!("{event_type}: not in the catalog"));
            continue;
        };
        match (signal.avro_schema(), expected) {
            (Ok(ours), Some(theirs)) if ours == theirs => serializable += 1,
            (Ok(ours), Some(theirs)) => problems.push(format!("{event_type}:\n  ours:   {ours}\n  theirs: {theirs}")),
            (Ok(_), None) => problems.push(format!("{event_type}: upstream cannot serialize it, but we made a schema")),
            (Err(error), Some(_)) => problems.push(format!("{event_type}: {error}")),
            (Err(error), None) => {
                assert!(error.to_string().contains("cannot be serialized to Avro"), "{error}");
                assert_eq!(error.type_name, "BinaryIO", "{error}");
            }
        }
    }
    assert!(problems.is_empty(), "{} schema(s) differ from upstream's:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(serializable, 73);
}
