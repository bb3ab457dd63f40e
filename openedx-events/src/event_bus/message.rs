//! The message on the wire: upstream's header fields, then the Avro bytes, and nothing else.

use std::borrow::Cow;
use std::fmt::Write as _;

use uuid::Uuid;

use crate::metadata::EventsMetadata;
use crate::python::{Isoformat, parse_isoformat};

/// The stream entry's field names, in the order upstream's producer writes them.
pub const FIELD_NAMES: [&str; 8] =
    ["type", "id", "source", "time", "minorversion", "sourcehost", "sourcelib", "event_data"];

/// A message that arrived but cannot be dispatched: its headers, its event type or its data are
/// unusable. It is dead-lettered, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unusable message: {0}")]
pub struct UnusableMessage(pub String);

/// The fields of a stream entry for an event, in upstream's order: `type`, `id`, `source`,
/// `time` (Python's `isoformat()`), `minorversion`, `sourcehost`, `sourcelib` (`0.1.0`) and
/// `event_data` (the schemaless Avro bytes).
pub fn message_fields<'a>(metadata: &'a EventsMetadata, event_data: &'a [u8]) -> [(&'static str, Cow<'a, [u8]>); 8] {
    let text = |s: String| Cow::Owned(s.into_bytes());
    let borrowed = |s: &'a str| Cow::Borrowed(s.as_bytes());
    let mut sourcelib = String::new();
    for (i, part) in metadata.sourcelib.iter().enumerate() {
        if i > 0 {
            sourcelib.push('.');
        }
        // Writing to a String cannot fail.
        let _ = write!(sourcelib, "{part}");
    }
    [
        ("type", borrowed(&metadata.event_type)),
        ("id", text(metadata.id.to_string())),
        ("source", borrowed(&metadata.source)),
        ("time", text(Isoformat(&metadata.time).to_string())),
        ("minorversion", text(metadata.minorversion.to_string())),
        ("sourcehost", borrowed(&metadata.sourcehost)),
        ("sourcelib", text(sourcelib)),
        ("event_data", Cow::Borrowed(event_data)),
    ]
}

/// Reads the metadata and the Avro bytes from a stream entry's fields, as upstream's consumer
/// does: a missing or empty header takes its default (a new id, now, this service, minor version
/// 0), except `type` and `event_data`, without which the message is unusable.
pub fn parse_message_fields(fields: &[(Vec<u8>, Vec<u8>)]) -> Result<(EventsMetadata, Vec<u8>), UnusableMessage> {
    let get = |name: &str| fields.iter().find(|(key, _)| key == name.as_bytes()).map(|(_, value)| value.as_slice());
    let text = |name: &'static str| -> Result<Option<&str>, UnusableMessage> {
        match get(name) {
            None | Some([]) => Ok(None),
            Some(bytes) => std::str::from_utf8(bytes)
                .map(Some)
                .map_err(|_| UnusableMessage(format!("header `{name}` is not UTF-8"))),
        }
    };
    let bad =
        |name: &str, error: &dyn std::fmt::Display| UnusableMessage(format!("header `{name}` is invalid: {error}"));
    let event_type = text("type")?.ok_or_else(|| UnusableMessage("the message has no `type` header".to_owned()))?;
    let event_data = get("event_data").ok_or_else(|| UnusableMessage("the message has no `event_data`".to_owned()))?;
    let mut metadata = EventsMetadata::new(event_type.to_owned());
    if let Some(id) = text("id")? {
        metadata.id = Uuid::parse_str(id).map_err(|e| bad("id", &e))?;
    }
    if let Some(source) = text("source")? {
        metadata.source = Cow::Owned(source.to_owned());
    }
    if let Some(time) = text("time")? {
        metadata.time = parse_isoformat(time).map_err(|e| bad("time", &e))?;
    }
    if let Some(minor) = text("minorversion")? {
        metadata.minorversion = minor.trim().parse().map_err(|e| bad("minorversion", &e))?;
    }
    if let Some(host) = text("sourcehost")? {
        metadata.sourcehost = Cow::Owned(host.to_owned());
    }
    if let Some(lib) = text("sourcelib")? {
        let parts =
            lib.split('.').map(str::parse).collect::<Result<Vec<u32>, _>>().map_err(|e| bad("sourcelib", &e))?;
        metadata.sourcelib = Cow::Owned(parts);
    }
    Ok((metadata, event_data.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn owned(fields: &[(&'static str, Cow<'_, [u8]>)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        fields.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.to_vec())).collect()
    }

    #[test]
    fn fields_are_upstreams_in_order_and_read_back() {
        let mut metadata = EventsMetadata::new("org.openedx.learning.thing.happened.v1");
        metadata.time = chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        metadata.sourcelib = Cow::Owned(vec![11, 2, 0]);
        metadata.minorversion = 2;
        let fields = message_fields(&metadata, b"\x02abc");
        let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, FIELD_NAMES);
        assert_eq!(&*fields[3].1, b"2024-05-01T12:00:00+00:00");
        assert_eq!(&*fields[4].1, b"2");
        assert_eq!(&*fields[6].1, b"11.2.0");
        let (back, data) = parse_message_fields(&owned(&fields)).unwrap();
        assert_eq!(back, metadata);
        assert_eq!(data, b"\x02abc");
    }

    #[test]
    fn missing_headers_take_defaults_but_type_and_data_are_required() {
        let fields = vec![(b"type".to_vec(), b"org.openedx.a.b.c.v1".to_vec()), (b"event_data".to_vec(), vec![])];
        let (metadata, data) = parse_message_fields(&fields).unwrap();
        assert_eq!(metadata.event_type, "org.openedx.a.b.c.v1");
        assert_eq!(metadata.minorversion, 0);
        assert!(data.is_empty());
        assert!(parse_message_fields(&fields[1..]).unwrap_err().0.contains("no `type`"));
        assert!(parse_message_fields(&fields[..1]).unwrap_err().0.contains("no `event_data`"));
        let bad_time = [fields.clone(), vec![(b"time".to_vec(), b"yesterday".to_vec())]].concat();
        assert!(parse_message_fields(&bad_time).unwrap_err().0.contains("header `time` is invalid"));
    }
}
