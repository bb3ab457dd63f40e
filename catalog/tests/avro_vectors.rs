//! Our Avro bytes are upstream's, byte for byte. `tests/data/avro_vectors/vectors.json` holds payloads of
//! every serializable event, built from upstream's own classes and written by its `AvroSignalSerializer` and
//! `fastavro.schemaless_writer` (see `gen_vectors.py` there). For each one we write the same bytes from its
//! JSON form (`to_dict`), read the bytes back to the same JSON form, and get the bytes back after decoding.

use std::fmt::Write as _;
use std::sync::OnceLock;

use openedx_events::AnySignal;
use openedx_events_catalog as _;
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/avro_vectors/vectors.json");

/// The most failures printed in full; the rest are counted.
const SHOWN: usize = 40;

struct Vector {
    event_type: String,
    variant: String,
    json: Value,
    avro: Vec<u8>,
}

struct Vectors {
    vectors: Vec<Vector>,
    datetime_forms: Vec<Value>,
}

fn vectors() -> &'static Vectors {
    static VECTORS_FILE: OnceLock<Vectors> = OnceLock::new();
    VECTORS_FILE.get_or_init(|| {
        let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| {
            panic!(
                "cannot read the Avro vectors at {VECTORS}: {e}\nregenerate them with \
                 `target/venv/bin/python catalog/tests/data/avro_vectors/gen_vectors.py` after `bash .ci/setup`"
            )
        });
        let document: Value = serde_json::from_str(&text).expect("vectors.json is JSON");
        let vectors = document["vectors"]
            .as_array()
            .expect("`vectors` is a list")
            .iter()
            .map(|v| Vector {
                event_type: v["event_type"].as_str().expect("event_type").to_owned(),
                variant: v["variant"].as_str().expect("variant").to_owned(),
                json: v["json"].clone(),
                avro: from_hex(v["avro"].as_str().expect("avro")),
            })
            .collect();
        let datetime_forms = document["datetime_forms"].as_array().expect("`datetime_forms` is a list").clone();
        Vectors { vectors, datetime_forms }
    })
}

fn signal(event_type: &str) -> &'static dyn AnySignal {
    openedx_events::get_signal_by_type(event_type).unwrap_or_else(|| panic!("{event_type} is not in the catalog"))
}

fn from_hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Where two byte strings first differ, with a few bytes of each from there.
fn byte_difference(ours: &[u8], theirs: &[u8]) -> String {
    let at = ours.iter().zip(theirs).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
    let window = |bytes: &[u8]| hex(&bytes[at..bytes.len().min(at + 16)]);
    format!(
        "first differing byte at offset {at} of {} (ours) / {} (theirs): ours {}…, theirs {}…",
        ours.len(),
        theirs.len(),
        window(ours),
        window(theirs)
    )
}

/// The first place where two JSON values differ, ignoring object key order, with `-0.0` and `0.0` told
/// apart; `None` when they are the same.
fn json_difference(ours: &Value, theirs: &Value, path: &str) -> Option<String> {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|key| {
                let at = format!("{path}.{key}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => json_difference(x, y, &at),
                    (x, y) => Some(format!("`{at}`: ours {x:?}, theirs {y:?}")),
                }
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| json_difference(x, y, &format!("{path}[{i}]")))
        }
        (Value::Number(a), Value::Number(b)) if a.is_f64() && b.is_f64() => {
            let (x, y) = (a.as_f64().expect("f64"), b.as_f64().expect("f64"));
            (x.to_bits() != y.to_bits()).then(|| format!("`{path}`: ours {x:e}, theirs {y:e}"))
        }
        _ => (ours != theirs).then(|| format!("`{path}`: ours {ours}, theirs {theirs}")),
    }
}

/// The same JSON with every object's keys in reverse order: maps then arrive out of sorted order, so the
/// bytes prove that we sort map keys as upstream does rather than keep the input's order.
fn reverse_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().rev().map(|(k, v)| (k.clone(), reverse_keys(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(reverse_keys).collect()),
        other => other.clone(),
    }
}

/// Runs `check` on every vector and fails with every problem found, naming the event and variant.
fn check_all(what: &str, check: impl Fn(&'static dyn AnySignal, &Vector) -> Result<(), String>) {
    let all = &vectors().vectors;
    let problems: Vec<String> = all
        .iter()
        .filter_map(|v| {
            let outcome = match openedx_events::get_signal_by_type(&v.event_type) {
                Some(signal) => check(signal, v),
                None => Err("not in the catalog".to_owned()),
            };
            outcome.err().map(|problem| format!("{} [{}]: {problem}", v.event_type, v.variant))
        })
        .collect();
    let mut report = problems.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("\n");
    if problems.len() > SHOWN {
        let _ = write!(report, "\n… and {} more", problems.len() - SHOWN);
    }
    assert!(problems.is_empty(), "{what}: {} of {} vectors fail:\n{report}", problems.len(), all.len());
}

/// Where bytes we wrote differ from upstream's: the byte, and the field, found by decoding both (or, if
/// theirs do not decode, by comparing ours with the vector's JSON).
fn explain(signal: &dyn AnySignal, ours: &[u8], v: &Vector) -> String {
    let theirs = signal.avro_to_json(&v.avro).unwrap_or_else(|_| v.json.clone());
    let field = match signal.avro_to_json(ours) {
        Ok(json) => json_difference(&json, &theirs, "")
            .map_or_else(|| "both decode to the same JSON".to_owned(), |d| format!("decoded, they differ at {d}")),
        Err(e) => format!("ours do not decode: {e}"),
    };
    format!("{}; {field}", byte_difference(ours, &v.avro))
}

#[test]
fn vectors_cover_every_serializable_event() {
    let all = &vectors().vectors;
    let mut serializable: Vec<&str> =
        openedx_events::all_events().filter(|s| s.avro_schema().is_ok()).map(|s| s.event_type()).collect();
    serializable.sort_unstable();
    assert_eq!(serializable.len(), 73);
    let mut problems = Vec::new();
    for event_type in &serializable {
        let variants: Vec<&str> =
            all.iter().filter(|v| v.event_type == *event_type).map(|v| v.variant.as_str()).collect();
        for needed in ["minimal", "full", "unicode", "extremes_0"] {
            if !variants.contains(&needed) {
                problems.push(format!("{event_type}: no `{needed}` vector"));
            }
        }
    }
    for v in all {
        if !serializable.contains(&v.event_type.as_str()) {
            problems.push(format!("{}: has vectors but is not a serializable event of the catalog", v.event_type));
        }
    }
    for variant in ["extremes_4", "legacy_keys_0", "legacy_keys_2"] {
        if !all.iter().any(|v| v.variant == variant) {
            problems.push(format!("no `{variant}` vector at all"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(all.len() >= 73 * 4, "only {} vectors", all.len());
}

#[test]
fn we_write_upstreams_bytes() {
    check_all("json_to_avro", |signal, v| {
        let ours = signal.json_to_avro(&v.json).map_err(|e| format!("our encoder rejects the JSON: {e}"))?;
        if ours != v.avro {
            return Err(explain(signal, &ours, v));
        }
        let reordered = signal
            .json_to_avro(&reverse_keys(&v.json))
            .map_err(|e| format!("our encoder rejects the JSON with keys reversed: {e}"))?;
        if reordered != v.avro {
            return Err(format!("with the JSON's keys reversed: {}", explain(signal, &reordered, v)));
        }
        Ok(())
    });
}

#[test]
fn we_read_upstreams_bytes() {
    check_all("avro_to_json", |signal, v| {
        let json = signal.avro_to_json(&v.avro).map_err(|e| format!("our decoder rejects upstream's bytes: {e}"))?;
        match json_difference(&json, &v.json, "") {
            Some(difference) => Err(format!("decoded JSON differs at {difference}")),
            // The comparison above is our own; `Value`'s equality must agree.
            None if json != v.json => Err("`Value` equality disagrees with the key-order-free comparison".to_owned()),
            None => Ok(()),
        }
    });
}

#[test]
fn decoding_then_encoding_gives_the_bytes_back() {
    check_all("round trip", |signal, v| {
        let json = signal.avro_to_json(&v.avro).map_err(|e| format!("our decoder rejects upstream's bytes: {e}"))?;
        let again = signal.json_to_avro(&json).map_err(|e| format!("our encoder rejects our own JSON: {e}"))?;
        if again != v.avro {
            return Err(format!("after decoding and encoding: {}", byte_difference(&again, &v.avro)));
        }
        Ok(())
    });
}

#[test]
fn json_comparison_ignores_key_order_but_not_values() {
    let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2], "x": -0.0}}"#).unwrap();
    let b: Value = serde_json::from_str(r#"{"a": {"x": -0.0, "y": [1, 2]}, "b": 1}"#).unwrap();
    assert_eq!(a, b, "serde_json's object equality must not depend on key order");
    assert_eq!(json_difference(&a, &b, ""), None);
    let c: Value = serde_json::from_str(r#"{"a": {"x": 0.0, "y": [1, 2]}, "b": 1}"#).unwrap();
    assert_eq!(json_difference(&a, &c, "").as_deref(), Some("`.a.x`: ours -0e0, theirs 0e0"));
    let d: Value = serde_json::from_str(r#"{"a": {"x": -0.0, "y": [2, 1]}, "b": 1}"#).unwrap();
    assert_eq!(json_difference(&a, &d, "").as_deref(), Some("`.a.y[0]`: ours 1, theirs 2"));
    assert_eq!(
        byte_difference(&[1, 2, 3], &[1, 2, 4]),
        "first differing byte at offset 2 of 3 (ours) / 3 (theirs): ours 03…, theirs 04…"
    );
}

/// Strings Python's `datetime.fromisoformat()` reads, and the UTC instant each one is (a naive time is
/// taken as UTC), worked out by hand. `gen_vectors.py` has fastavro write each into a datetime field.
const DATETIME_FORMS: &[(&str, &str)] = &[
    ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T07:30:00-04:30", "2024-05-01T12:00:00+00:00"),
    ("2024-05-02T02:00:00+14:00", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T12:00:00", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01 12:00:00.123456+00:00", "2024-05-01T12:00:00.123456+00:00"),
    ("2024-05-01T12:00:00.5+00:00", "2024-05-01T12:00:00.500000+00:00"),
    ("2024-05-01T12:00:00,25Z", "2024-05-01T12:00:00.250000+00:00"),
    ("2024-05-01T12:00:00.1234567+00:00", "2024-05-01T12:00:00.123456+00:00"),
    ("2024-05-01T12:00", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T12", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01", "2024-05-01T00:00:00+00:00"),
    ("20240501T120000Z", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T14:00:00+0200", "2024-05-01T12:00:00+00:00"),
    ("2024-W18-3T12:00:00Z", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T14:00:30+02:00:30", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T12:00:00.000001+00:00", "2024-05-01T12:00:00.000001+00:00"),
    ("2024-05-01T14:00:30.5+02:00:30.5", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T14:00:31+020030.5", "2024-05-01T12:00:00.500000+00:00"),
    ("2024-05-01T12.5", "2024-05-01T12:00:00.500000+00:00"),
    ("2024-05-01T12:00,5Z", "2024-05-01T12:00:00.500000+00:00"),
];

#[test]
fn python_datetime_forms_decode_to_the_same_instant() {
    let forms = &vectors().datetime_forms;
    let mut problems = Vec::new();
    for (form, utc) in DATETIME_FORMS {
        let Some(vector) = forms.iter().find(|f| f["form"] == *form) else {
            problems.push(format!("{form}: no vector; regenerate vectors.json"));
            continue;
        };
        // Python reads the same instant as we expect by hand.
        assert_eq!(vector["utc"], *utc, "{form}: Python's fromisoformat disagrees with the expectation");
        let event_type = vector["event_type"].as_str().expect("event_type");
        let signal = signal(event_type);
        let pointer: String = vector["path"]
            .as_array()
            .expect("path")
            .iter()
            .map(|part| match part {
                Value::String(key) => format!("/{key}"),
                other => format!("/{other}"),
            })
            .collect();
        let full = vectors()
            .vectors
            .iter()
            .find(|v| v.event_type == event_type && v.variant == "full")
            .expect("a `full` vector for the event");
        let mut expected = full.json.clone();
        *expected.pointer_mut(&pointer).expect("the path is in the full vector") = Value::from(*utc);

        match signal.avro_to_json(&from_hex(vector["avro"].as_str().expect("avro"))) {
            Ok(json) => {
                if let Some(difference) = json_difference(&json, &expected, "") {
                    problems.push(format!("{form}: decodes differently, at {difference}"));
                }
            }
            Err(e) => problems.push(format!("{form}: does not decode: {e}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(forms.len(), DATETIME_FORMS.len(), "vectors.json has forms this test does not expect");
}
