//! Avro schemas, generated from the data descriptions by upstream's rules, and written as the
//! exact string upstream's `AvroSignalSerializer.schema_string()` returns.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::data::{DataDescription, FieldType};

/// The `doc` of every event's top-level record, as upstream writes it.
const CLOUD_EVENT_DOC: &str = "Avro Event Format for CloudEvents created with openedx_events/schema";

/// An event whose data has no Avro form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "event `{event_type}` cannot be serialized to Avro: field `{field}` has type `{type_name}`, which has no wire form"
)]
pub struct UnserializableEvent {
    /// The event type.
    pub event_type: String,
    /// The dotted path of the offending field.
    pub field: String,
    /// The type without a wire form (upstream's name, such as `BinaryIO`).
    pub type_name: &'static str,
}

/// The event's Avro schema as a JSON value: a `CloudEvent` record in the event type's namespace,
/// nested records inline where first used and by name after, optional fields as `["null", T]`
/// with a null default.
pub fn schema_value(event_type: &str, data: &DataDescription) -> Result<Value, UnserializableEvent> {
    let mut seen = BTreeSet::new();
    let mut fields = Vec::with_capacity(data.fields.len());
    for field in data.fields {
        let path = field.name.to_owned();
        let ty = avro_type(field.ty, &mut seen, &path).map_err(|(field, type_name)| UnserializableEvent {
            event_type: event_type.to_owned(),
            field,
            type_name,
        })?;
        fields.push(field_value(field.name, ty, field.is_optional()));
    }
    // Keys in upstream's insertion order, which its stored `.avsc` files keep; the schema
    // string sorts them.
    Ok(json!({
        "name": "CloudEvent",
        "type": "record",
        "doc": CLOUD_EVENT_DOC,
        "fields": fields,
        "namespace": event_type,
    }))
}

/// The schema as upstream's string: `json.dumps(schema, sort_keys=True)`.
pub fn schema_string(event_type: &str, data: &DataDescription) -> Result<String, UnserializableEvent> {
    schema_value(event_type, data).map(|value| crate::json_dumps::json_dumps(&value))
}

/// The name upstream's `generate_avro_schemas` gives an event's stored schema: the event type
/// with `.` replaced by `+`, then `_schema.avsc`.
pub fn schema_file_name(event_type: &str) -> String {
    format!("{}_schema.avsc", event_type.replace('.', "+"))
}

/// The stored schema file's contents as upstream's `generate_avro_schemas` writes them:
/// `json.dumps(schema, indent=2)`, keys in upstream's order, no final newline.
pub fn schema_file_contents(event_type: &str, data: &DataDescription) -> Result<String, UnserializableEvent> {
    schema_value(event_type, data).map(|value| crate::json_dumps::json_dumps_indented(&value))
}

fn field_value(name: &str, ty: Value, optional: bool) -> Value {
    let mut field = Map::new();
    field.insert("name".to_owned(), Value::String(name.to_owned()));
    field.insert("type".to_owned(), ty);
    if optional {
        // An optional field is a union with null first; `ty` is already that union.
        field.insert("default".to_owned(), Value::Null);
    }
    Value::Object(field)
}

/// The Avro type of a field type; on failure, the path and name of the type with no wire form.
fn avro_type(ty: &FieldType, seen: &mut BTreeSet<&'static str>, path: &str) -> Result<Value, (String, &'static str)> {
    Ok(match ty {
        FieldType::String | FieldType::DateTime | FieldType::Uuid | FieldType::OpaqueKey(_) => json!("string"),
        FieldType::Boolean => json!("boolean"),
        FieldType::Int | FieldType::Long => json!("long"),
        FieldType::Double => json!("double"),
        FieldType::List(items) => json!({ "type": "array", "items": avro_type(items, seen, path)? }),
        FieldType::Map(values) => json!({ "type": "map", "values": avro_type(values, seen, path)? }),
        FieldType::Optional(inner) => json!(["null", avro_type(inner, seen, path)?]),
        FieldType::Record(data) => {
            // Avro forbids defining a named type twice: inline the first time, by name after.
            if !seen.insert(data.name) {
                return Ok(json!(data.name));
            }
            let mut fields = Vec::with_capacity(data.fields.len());
            for field in data.fields {
                let path = format!("{path}.{}", field.name);
                fields.push(field_value(field.name, avro_type(field.ty, seen, &path)?, field.is_optional()));
            }
            json!({ "name": data.name, "type": "record", "fields": fields })
        }
        FieldType::Unserializable(name) => return Err((path.to_owned(), name)),
    })
}
