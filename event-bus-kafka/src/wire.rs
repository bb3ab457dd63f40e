//! What a Kafka message of the bus looks like besides its framing: the header names, the schema
//! registry subjects, and the key's schema, as `edx-event-bus-kafka` makes them.

use openedx_events::event_bus::MetadataHeader;
use serde_json::Value;

/// `ce_specversion`, always `1.0`.
pub const SPEC_VERSION_HEADER: &str = "ce_specversion";
/// `content-type`, always `application/avro`.
pub const CONTENT_TYPE_HEADER: &str = "content-type";
/// `ce_datacontenttype`, always `application/avro`.
pub const DATA_CONTENT_TYPE_HEADER: &str = "ce_datacontenttype";
/// The content type of every value.
pub const AVRO_CONTENT_TYPE: &str = "application/avro";

/// The dead-letter headers: why the message was dead-lettered.
pub const DEAD_LETTER_ERROR_HEADER: &str = "dead_letter_error";
/// The dead-letter headers: how often it was dispatched.
pub const DEAD_LETTER_ATTEMPTS_HEADER: &str = "dead_letter_attempts";
/// The dead-letter headers: the topic, partition and offset it came from, as `topic:partition:offset`.
pub const DEAD_LETTER_ORIGIN_HEADER: &str = "dead_letter_origin";

/// A metadata header's name on Kafka: `ce_type`, `ce_id`, `ce_source`, `ce_time`,
/// `ce_minorversion`, `sourcehost`, `sourcelib`.
pub const fn header_name(header: MetadataHeader) -> &'static str {
    match header {
        MetadataHeader::Type => "ce_type",
        MetadataHeader::Id => "ce_id",
        MetadataHeader::Source => "ce_source",
        MetadataHeader::Time => "ce_time",
        MetadataHeader::MinorVersion => "ce_minorversion",
        MetadataHeader::SourceHost => "sourcehost",
        MetadataHeader::SourceLib => "sourcelib",
        // `MetadataHeader` may grow; a header this backend does not know goes under its
        // stream-entry name.
        #[allow(unreachable_patterns, reason = "the enum is non_exhaustive")]
        other => other.entry_name(),
    }
}

/// The value's subject under the TopicRecordNameStrategy: `{full_topic}-{namespace}.{name}` of
/// the record (`...-org.openedx.learning.course.enrollment.created.v1.CloudEvent`).
pub fn value_subject(full_topic: &str, schema: &Value, event_type: &str) -> String {
    let name = schema.get("name").and_then(Value::as_str).unwrap_or("CloudEvent");
    match schema.get("namespace").and_then(Value::as_str) {
        Some(namespace) if !name.contains('.') => format!("{full_topic}-{namespace}.{name}"),
        _ if name.contains('.') => format!("{full_topic}-{name}"),
        _ => format!("{full_topic}-{event_type}.{name}"),
    }
}

/// The key's subject: `{full_topic}-{type}`, as confluent-kafka names a primitive schema by its
/// type (`-string`, `-long`).
pub fn key_subject(full_topic: &str, key_schema: &Value) -> String {
    let ty = key_schema.get("type").and_then(Value::as_str).unwrap_or("string");
    format!("{full_topic}-{ty}")
}

/// Why a key field has no definition in the record schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Error traversing Avro schema along path {path:?}; failed at {at:?}.")]
pub struct KeySchemaError {
    /// The key field's path.
    pub path: String,
    /// The segment where the walk stopped.
    pub at: String,
}

/// The key field's definition in the record schema, as upstream's `descend_avro_schema` finds it
/// (into a record's `fields`, through a field's `type`), e.g.
/// `{"name": "course_key", "type": "string"}`.
pub fn key_field_definition<'a>(schema: &'a Value, key_field: &str) -> Result<&'a Value, KeySchemaError> {
    let mut current = schema;
    for segment in key_field.split('.') {
        let fail = || KeySchemaError { path: key_field.to_owned(), at: segment.to_owned() };
        let record = if current.get("fields").is_some() { current } else { current.get("type").ok_or_else(fail)? };
        let fields = record.get("fields").and_then(Value::as_array).ok_or_else(fail)?;
        current =
            fields.iter().find(|field| field.get("name").and_then(Value::as_str) == Some(segment)).ok_or_else(fail)?;
    }
    Ok(current)
}

/// `value` as Python's `json.dumps(value, sort_keys=True)` writes it: `", "` and `": "` between
/// parts, keys sorted, non-ASCII escaped. Upstream registers the key schema in this form, so the
/// same text gets the same id. (The runtime's writer of CPython's formats, shared.)
pub fn python_sorted_json(value: &Value) -> String {
    openedx_events::python_json_dumps(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "name": "CloudEvent",
            "type": "record",
            "namespace": "org.openedx.learning.course.enrollment.created.v1",
            "fields": [{
                "name": "enrollment",
                "type": {"name": "CourseEnrollmentData", "type": "record", "fields": [
                    {"name": "user", "type": {"name": "UserData", "type": "record", "fields": [
                        {"name": "id", "type": "long"}]}},
                    {"name": "course", "type": {"name": "CourseData", "type": "record", "fields": [
                        {"name": "course_key", "type": "string"}]}}
                ]}
            }]
        })
    }

    #[test]
    fn subjects_as_upstream_names_them() {
        let schema = schema();
        assert_eq!(
            value_subject("dev-learning-course-enrollment-lifecycle", &schema, "x"),
            "dev-learning-course-enrollment-lifecycle-org.openedx.learning.course.enrollment.created.v1.CloudEvent"
        );
        let key = key_field_definition(&schema, "enrollment.course.course_key").expect("the path exists");
        assert_eq!(python_sorted_json(key), r#"{"name": "course_key", "type": "string"}"#);
        assert_eq!(key_subject("t", key), "t-string");
        let key = key_field_definition(&schema, "enrollment.user.id").expect("the path exists");
        assert_eq!(key_subject("t", key), "t-long");
    }

    #[test]
    fn a_missing_field_says_where() {
        let error = key_field_definition(&schema(), "enrollment.nope.id").expect_err("no such field");
        assert_eq!(error.at, "nope");
        assert!(error.to_string().contains("failed at \"nope\""), "{error}");
    }

    #[test]
    fn json_as_python_dumps_it() {
        let value = json!({"b": [1, 2.5, null, true], "a": "é\"\n😀"});
        assert_eq!(python_sorted_json(&value), r#"{"a": "\u00e9\"\n\ud83d\ude00", "b": [1, 2.5, null, true]}"#);
    }
}
