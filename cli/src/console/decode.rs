//! Entries read through the catalog: the metadata and the data of an event as JSON, or why an
//! entry cannot be decoded (its event type is unknown, its headers or bytes are wrong), in which
//! case the page shows it raw.

use openedx_events::AnySignal;
use openedx_events::event_bus::parse_message_fields;
use serde_json::Value;

use super::view::Entry;

/// An entry as the pages show it.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    /// The event type as the entry writes it (empty when it has none).
    pub(crate) event_type: String,
    /// The metadata in upstream's JSON form, when the headers parse.
    pub(crate) metadata: Option<Value>,
    /// The data in the event's JSON form, or why there is none.
    pub(crate) data: Result<Value, String>,
    /// The catalog's signal for the event type, when it has one.
    pub(crate) signal: Option<&'static dyn AnySignal>,
}

impl Decoded {
    /// Whether the page should show the entry raw.
    pub(crate) fn is_raw(&self) -> bool {
        self.data.is_err()
    }
}

/// Decodes an entry through the catalog; never fails, says what went wrong instead.
pub(crate) fn decode(entry: &Entry) -> Decoded {
    #[cfg(feature = "kafka")]
    if entry.field(openedx_events_kafka::header_name(openedx_events::event_bus::MetadataHeader::Type)).is_some() {
        return decode_kafka(entry);
    }
    let event_type = entry.text("type");
    let signal = openedx_events::get_signal_by_type(&event_type);
    let (metadata, bytes) = match parse_message_fields(&entry.fields) {
        Ok((metadata, bytes)) => (metadata, bytes),
        Err(unusable) => return Decoded { event_type, metadata: None, data: Err(unusable.0), signal },
    };
    let metadata_json = serde_json::from_str(&metadata.to_json()).ok();
    let data = match signal {
        None => Err(format!("no event of type `{event_type}` in this program's catalog; shown raw")),
        Some(signal) => signal.avro_to_json(bytes).map_err(|error| format!("the data does not decode: {error}")),
    };
    Decoded { event_type, metadata: metadata_json, data, signal }
}

/// A Kafka message (its headers, and its value in the Confluent framing): the metadata from the
/// `ce_*` headers, the data decoded with this program's schema of the event type (a message
/// written with another version of the schema may not decode: it is shown raw).
#[cfg(feature = "kafka")]
fn decode_kafka(entry: &Entry) -> Decoded {
    use openedx_events::event_bus::{MetadataHeader, metadata_from_headers};
    use openedx_events_kafka::{header_name, unframe};

    let event_type = entry.text(header_name(MetadataHeader::Type));
    let signal = openedx_events::get_signal_by_type(&event_type);
    let metadata = match metadata_from_headers(|header| entry.field(header_name(header)), header_name) {
        Ok(metadata) => metadata,
        Err(unusable) => return Decoded { event_type, metadata: None, data: Err(unusable.0), signal },
    };
    let metadata_json = serde_json::from_str(&metadata.to_json()).ok();
    let value = entry.field(super::kafka_view::VALUE_FIELD).unwrap_or_default();
    let data = match (signal, unframe(value)) {
        (None, _) => Err(format!("no event of type `{event_type}` in this program's catalog; shown raw")),
        (Some(_), Err(error)) => Err(format!("the value is not framed Avro: {error}")),
        (Some(signal), Ok((_, avro))) => {
            signal.avro_to_json(avro).map_err(|error| format!("the data does not decode: {error}"))
        }
    };
    Decoded { event_type, metadata: metadata_json, data, signal }
}

/// A field's value for the page: the text when it is printable UTF-8, else lowercase hex.
pub(crate) fn field_text(value: &[u8]) -> (String, bool) {
    match std::str::from_utf8(value) {
        Ok(text) if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => (text.to_owned(), false),
        _ => {
            let mut hex = String::with_capacity(value.len() * 2);
            for byte in value {
                hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
                hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
            }
            (hex, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_values_are_shown_as_hex() {
        assert_eq!(field_text(b"org.openedx.x"), ("org.openedx.x".to_owned(), false));
        assert_eq!(field_text(b"\x02\xffA"), ("02ff41".to_owned(), true));
        assert_eq!(field_text(b"a\x01"), ("6101".to_owned(), true));
    }

    #[test]
    fn unknown_types_and_bad_bytes_are_raw_not_hidden() {
        let fields = |event_type: &str, data: &[u8]| Entry {
            id: "1-0".to_owned(),
            time_ms: Some(1),
            fields: vec![(b"type".to_vec(), event_type.as_bytes().to_vec()), (b"event_data".to_vec(), data.to_vec())],
        };
        let unknown = decode(&fields("org.example.nothing.v1", b""));
        assert!(unknown.is_raw());
        assert!(unknown.metadata.is_some(), "the headers still parse");
        assert!(unknown.data.unwrap_err().contains("no event of type `org.example.nothing.v1`"));
        let bad = decode(&fields("org.openedx.learning.auth.session.login.completed.v1", b"\xff"));
        assert!(bad.signal.is_some());
        assert!(bad.data.unwrap_err().starts_with("the data does not decode: "));
        let no_data = decode(&Entry { id: "1-0".to_owned(), time_ms: None, fields: Vec::new() });
        assert!(no_data.data.unwrap_err().contains("no `type`"));
    }
}
