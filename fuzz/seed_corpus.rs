//! Writes a seed corpus for the `decode_avro` target: for every serializable event, the Avro
//! bytes of a sample payload built from its data description, once with every optional field
//! set and every list and map holding two entries, once with them all empty. Each file starts
//! with the event's index in `openedx_events::all_events()`, as the target expects.
//!
//! Run with `cargo run --release --bin seed_corpus [DIR]` (DIR defaults to `corpus/decode_avro`).

use std::path::PathBuf;

use openedx_events::{DataDescription, FieldType};
use openedx_events_catalog as _;
use serde_json::{Map, Value};

/// How full the sample is.
#[derive(Clone, Copy)]
enum Fill {
    Full,
    Empty,
}

fn sample_key(type_name: &str) -> &'static str {
    match type_name {
        "CourseKey" => "course-v1:edX+DemoX+2024",
        "UsageKey" => "block-v1:edX+DemoX+2024+type@problem+block@p1",
        "LibraryLocatorV2" => "lib:edX:physics",
        "LibraryUsageLocatorV2" => "lb:edX:physics:problem:p1",
        "LibraryCollectionLocator" => "lib-collection:edX:physics:week-1",
        "LibraryContainerLocator" => "lct:edX:physics:unit:unit-1",
        "CCXLocator" => "ccx-v1:edX+DemoX+2024+ccx@3",
        other => panic!("no sample for key type {other}: add one"),
    }
}

fn sample(ty: &FieldType, fill: Fill) -> Value {
    match (ty, fill) {
        (FieldType::String, _) => Value::from("sample text é"),
        (FieldType::Boolean, _) => Value::Bool(true),
        (FieldType::Int, _) => Value::from(-7),
        (FieldType::Long, _) => Value::from(1_234_567_890_123_i64),
        (FieldType::Double, _) => Value::from(0.875),
        (FieldType::DateTime, Fill::Full) => Value::from("2024-05-01T12:00:00.123456+00:00"),
        (FieldType::DateTime, Fill::Empty) => Value::from("2024-05-01T12:00:00+00:00"),
        (FieldType::Uuid, _) => Value::from("12345678-9abc-def0-1234-56789abcdef0"),
        (FieldType::OpaqueKey(name), _) => Value::from(sample_key(name)),
        (FieldType::List(item), Fill::Full) => Value::Array(vec![sample(item, fill), sample(item, fill)]),
        (FieldType::Map(item), Fill::Full) => {
            Value::Object(Map::from_iter([("a".to_owned(), sample(item, fill)), ("b".to_owned(), sample(item, fill))]))
        }
        (FieldType::List(_), Fill::Empty) => Value::Array(Vec::new()),
        (FieldType::Map(_), Fill::Empty) => Value::Object(Map::new()),
        (FieldType::Optional(inner), Fill::Full) => sample(inner, fill),
        (FieldType::Optional(_), Fill::Empty) => Value::Null,
        (FieldType::Record(data), _) => record(data, fill),
        (other, _) => panic!("no sample for field type {other}"),
    }
}

fn record(data: &DataDescription, fill: Fill) -> Value {
    Value::Object(data.fields.iter().map(|field| (field.name.to_owned(), sample(field.ty, fill))).collect())
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus/decode_avro".to_owned()));
    std::fs::create_dir_all(&dir).expect("cannot create the corpus directory");
    let mut written = 0;
    for (index, signal) in openedx_events::all_events().enumerate() {
        if !signal.data().is_serializable() {
            continue;
        }
        for (fill, suffix) in [(Fill::Full, "full"), (Fill::Empty, "empty")] {
            let json = record(signal.data(), fill);
            let bytes = signal
                .json_to_avro(&json)
                .unwrap_or_else(|error| panic!("{}: the sample does not encode: {error}", signal.event_type()));
            let mut seed = vec![u8::try_from(index).expect("fewer than 256 events")];
            seed.extend_from_slice(&bytes);
            std::fs::write(dir.join(format!("{}-{suffix}", signal.event_type())), seed).expect("cannot write a seed");
            written += 1;
        }
    }
    println!("wrote {written} seeds to {}", dir.display());
}
