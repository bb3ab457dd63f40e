//! The catalog against upstream: every event and data class that upstream `openedx-events`
//! defines (`catalog/upstream/catalog.json`, written from the pinned package by
//! `catalog/upstream/generate.py`) must be here, the same.
//!
//! Checked for each event: its constant name, subdomain, minor version, key field, payload
//! struct name and data keys (in order, with their types); for each data class reachable from
//! the events: its fields' names (in order), types and optionality. Every difference is
//! collected and reported at once, naming the event or class and the field.
//!
//! The Python interop suite (`tests/python_interop.rs`) checks that the committed `catalog.json` is
//! what the installed upstream package gives today.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use openedx_events::{AnySignal, DataDescription, FieldType};
// Links the catalog, so that its signals are in the registry.
use openedx_events_catalog as _;
use serde_json::Value;

/// Upstream's catalog, committed with the crate.
const CATALOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/upstream/catalog.json");

#[test]
fn catalog_matches_upstream() {
    let upstream = load_upstream();
    let mut differences = Vec::new();
    check_events(&upstream, &mut differences);
    check_data_classes(&upstream, &mut differences);
    if !differences.is_empty() {
        let mut report = format!("the catalog differs from upstream in {} places:\n", differences.len());
        for difference in &differences {
            writeln!(report, "  - {difference}").unwrap();
        }
        panic!("{report}");
    }
}

/// Reads and parses upstream's `catalog.json`; a missing or broken file fails the test (never a
/// silent skip).
fn load_upstream() -> Value {
    let text = std::fs::read_to_string(CATALOG).unwrap_or_else(|error| {
        panic!(
            "cannot read upstream's catalog at `{CATALOG}`: {error}; regenerate it with catalog/upstream/generate.py"
        )
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("upstream's catalog at `{CATALOG}` is not valid JSON: {error}"))
}

/// The string member `key` of `value`, or a panic naming what is malformed.
fn str_of<'a>(value: &'a Value, key: &str, what: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("upstream's catalog: {what} has no string `{key}`"))
}

fn check_events(upstream: &Value, differences: &mut Vec<String>) {
    let upstream_events = upstream["events"].as_array().expect("upstream's catalog has an `events` array");
    let mut by_type: BTreeMap<&str, &Value> = BTreeMap::new();
    for event in upstream_events {
        by_type.insert(str_of(event, "event_type", "an event"), event);
    }
    let ours: BTreeMap<&str, &'static dyn AnySignal> =
        openedx_events::all_events().map(|signal| (signal.event_type(), signal)).collect();

    for event_type in by_type.keys().filter(|t| !ours.contains_key(*t)) {
        let name = str_of(by_type[event_type], "name", event_type);
        differences.push(format!("event `{name}` (`{event_type}`) is upstream but not in the catalog"));
    }
    for (event_type, signal) in &ours {
        match by_type.get(event_type) {
            Some(event) => check_event(event, *signal, differences),
            None => differences
                .push(format!("event `{}` (`{event_type}`) is in the catalog but not upstream", signal.definition())),
        }
    }
}

fn check_event(event: &Value, signal: &dyn AnySignal, differences: &mut Vec<String>) {
    let event_type = signal.event_type();
    let name = str_of(event, "name", event_type);
    let mut differ = |what: String| differences.push(format!("event `{name}` (`{event_type}`): {what}"));

    let definition = signal.definition();
    let segments: Vec<&str> = definition.split("::").collect();
    let constant = segments.last().copied().unwrap_or_default();
    if constant != name {
        differ(format!("the constant is `{constant}` (`{definition}`); upstream names it `{name}`"));
    }
    let subdomain = str_of(event, "subdomain", event_type);
    let module = segments[..segments.len().saturating_sub(1)].join("::");
    if segments.get(1) != Some(&subdomain) || segments.get(2) != Some(&"signals") || segments.len() != 4 {
        differ(format!(
            "defined in `{module}`; upstream's subdomain is `{subdomain}`, so expected `<crate>::{subdomain}::signals`"
        ));
    }

    let minor = event["minor_version"].as_u64();
    if minor != Some(u64::from(signal.minor_version())) {
        differ(format!("minor version is {} here but {} upstream", signal.minor_version(), event["minor_version"]));
    }
    let key_field = event["event_key_field"].as_str();
    if key_field != signal.event_key_field() {
        differ(format!(
            "key field is {} here but {} upstream",
            describe_key_field(signal.event_key_field()),
            describe_key_field(key_field)
        ));
    }

    let payload = signal.data();
    let expected_payload = pascal_case(name);
    if payload.name != expected_payload {
        differ(format!(
            "the payload struct is `{}`; expected `{expected_payload}`, the constant in PascalCase",
            payload.name
        ));
    }

    let upstream_keys = data_keys(event, name);
    let our_keys: Vec<&str> = payload.fields.iter().map(|field| field.name).collect();
    if our_keys != upstream_keys.iter().map(|(key, _)| *key).collect::<Vec<_>>() {
        differ(format!(
            "data keys are [{}] here but [{}] upstream",
            our_keys.join(", "),
            upstream_keys.iter().map(|(key, _)| *key).collect::<Vec<_>>().join(", ")
        ));
    }
    for (key, upstream_type) in upstream_keys {
        if let Some(field) = payload.field(key) {
            let ours = upstream_type_of(field.ty);
            if ours != upstream_type {
                differ(format!("data key `{key}` is `{ours}` here but `{upstream_type}` upstream"));
            }
        }
    }
}

fn describe_key_field(key_field: Option<&str>) -> String {
    key_field.map_or_else(|| "not declared".to_owned(), |key| format!("`{key}`"))
}

/// `COURSE_ENROLLMENT_CREATED` → `CourseEnrollmentCreated`.
fn pascal_case(constant: &str) -> String {
    constant
        .split('_')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars.next().into_iter().flat_map(char::to_uppercase).chain(chars.flat_map(char::to_lowercase))
        })
        .collect()
}

/// The event's data keys with their upstream types, in upstream's order.
///
/// `serde_json` keeps object members sorted, so the order is taken from the event's Avro schema,
/// whose top-level `fields` list the data keys in the order upstream declares them. Events
/// without a schema (upstream cannot serialize two) all have a single data key.
fn data_keys<'a>(event: &'a Value, name: &str) -> Vec<(&'a str, &'a str)> {
    let data = event["data"].as_object().unwrap_or_else(|| panic!("upstream's catalog: event `{name}` has no `data`"));
    let type_of = |key: &str| data[key].as_str().unwrap_or_else(|| panic!("upstream's catalog: `{name}`.`{key}`"));
    let order: Vec<String> = match event["avro_schema"].as_str() {
        Some(schema) => {
            let schema: Value = serde_json::from_str(schema)
                .unwrap_or_else(|error| panic!("upstream's catalog: the Avro schema of `{name}` is not JSON: {error}"));
            let fields = schema["fields"].as_array().expect("an Avro record schema has `fields`");
            fields.iter().map(|field| str_of(field, "name", name).to_owned()).collect()
        }
        None => {
            assert!(data.len() <= 1, "upstream's catalog: cannot tell the order of the data keys of `{name}`");
            data.keys().cloned().collect()
        }
    };
    let mut keys: Vec<(&'a str, &'a str)> = Vec::new();
    for key in &order {
        let (key, _) = data.get_key_value(key.as_str()).unwrap_or_else(|| {
            panic!("upstream's catalog: the Avro schema of `{name}` has `{key}`, which is not a data key")
        });
        keys.push((key.as_str(), type_of(key)));
    }
    assert_eq!(keys.len(), data.len(), "upstream's catalog: the Avro schema of `{name}` lacks data keys");
    keys
}

/// How upstream writes a field's type, such as `List[str]` or `learning.UserData`.
fn upstream_type_of(ty: &FieldType) -> String {
    match ty {
        FieldType::String => "str".to_owned(),
        FieldType::Long | FieldType::Int => "int".to_owned(),
        FieldType::Boolean => "bool".to_owned(),
        FieldType::Double => "float".to_owned(),
        FieldType::DateTime => "datetime".to_owned(),
        FieldType::Uuid => "UUID".to_owned(),
        FieldType::OpaqueKey(name) | FieldType::Unserializable(name) => (*name).to_owned(),
        FieldType::List(inner) => format!("List[{}]", upstream_type_of(inner)),
        FieldType::Map(inner) => format!("Dict[str, {}]", upstream_type_of(inner)),
        // Upstream marks optional fields by their default, not their type: an `Option` here is
        // an error wherever the caller has not unwrapped it.
        FieldType::Optional(inner) => format!("Optional[{}]", upstream_type_of(inner)),
        FieldType::Record(data) => class_key(data),
        other => format!("{other:?}"),
    }
}

/// `learning.CourseData` for `openedx_events_catalog::learning::data::CourseData`.
fn class_key(data: &DataDescription) -> String {
    let subdomain = data.module_path.split("::").nth(1).unwrap_or(data.module_path);
    format!("{subdomain}.{}", data.name)
}

/// Every data type reachable from a field of this type.
fn records_in(ty: &'static FieldType, found: &mut BTreeMap<String, Vec<&'static DataDescription>>) {
    match ty {
        FieldType::List(inner) | FieldType::Map(inner) | FieldType::Optional(inner) => records_in(inner, found),
        FieldType::Record(data) => {
            let seen = found.entry(class_key(data)).or_default();
            if !seen.iter().any(|known| std::ptr::eq(*known, *data)) {
                seen.push(data);
                for field in data.fields {
                    records_in(field.ty, found);
                }
            }
        }
        _ => {}
    }
}

fn check_data_classes(upstream: &Value, differences: &mut Vec<String>) {
    let classes = upstream["data_classes"].as_object().expect("upstream's catalog has a `data_classes` object");
    let mut ours: BTreeMap<String, Vec<&'static DataDescription>> = BTreeMap::new();
    for signal in openedx_events::all_events() {
        for field in signal.data().fields {
            records_in(field.ty, &mut ours);
        }
    }

    let upstream_keys: BTreeSet<&str> = classes.keys().map(String::as_str).collect();
    for key in upstream_keys.iter().filter(|key| !ours.contains_key(**key)) {
        differences.push(format!("data class `{key}` is upstream but no event of the catalog carries it"));
    }
    for (key, descriptions) in &ours {
        let Some(class) = classes.get(key) else {
            differences.push(format!(
                "data class `{key}` (`{}::{}`) is in the catalog but not upstream",
                descriptions[0].module_path, descriptions[0].name
            ));
            continue;
        };
        if descriptions.len() > 1 {
            differences.push(format!("data class `{key}`: {} different Rust types describe it", descriptions.len()));
        }
        check_class(key, class, descriptions[0], differences);
    }
}

fn check_class(key: &str, class: &Value, ours: &DataDescription, differences: &mut Vec<String>) {
    let mut differ = |what: String| differences.push(format!("data class `{key}`: {what}"));
    let fields = class["fields"].as_array().unwrap_or_else(|| panic!("upstream's catalog: `{key}` has no `fields`"));
    let upstream_names: Vec<&str> = fields.iter().map(|field| str_of(field, "name", key)).collect();
    let our_names: Vec<&str> = ours.fields.iter().map(|field| field.name).collect();

    for name in upstream_names.iter().filter(|name| !our_names.contains(name)) {
        differ(format!("field `{name}` is upstream but missing here"));
    }
    for name in our_names.iter().filter(|name| !upstream_names.contains(name)) {
        differ(format!("field `{name}` is here but not upstream"));
    }
    let common_upstream: Vec<&str> = upstream_names.iter().copied().filter(|name| our_names.contains(name)).collect();
    let common_ours: Vec<&str> = our_names.iter().copied().filter(|name| upstream_names.contains(name)).collect();
    if common_upstream != common_ours {
        differ(format!(
            "fields are in the order [{}] here but [{}] upstream",
            common_ours.join(", "),
            common_upstream.join(", ")
        ));
    }

    for upstream_field in fields {
        let name = str_of(upstream_field, "name", key);
        let Some(field) = ours.field(name) else { continue };
        let upstream_type = str_of(upstream_field, "type", key);
        let our_type = upstream_type_of(field.ty.without_optional());
        if our_type != upstream_type {
            differ(format!("field `{name}` is `{our_type}` here but `{upstream_type}` upstream"));
        }
        let default = str_of(upstream_field, "default", key);
        match (default == "None", field.is_optional()) {
            (true, false) => differ(format!("field `{name}` defaults to None upstream, so it must be an `Option`")),
            (false, true) => {
                differ(format!("field `{name}` is an `Option` here, but upstream's default is `{default}`, not None"))
            }
            _ => {}
        }
    }
}
