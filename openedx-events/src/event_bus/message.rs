//! The message on the wire: the metadata as upstream's header values, then the Avro bytes, and
//! nothing else. Every backend carries the same values; each names them its own way (a Redis
//! stream entry's `type`, a Kafka header's `ce_type`).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::Write as _;

use uuid::Uuid;

use crate::intern::{HOSTS, LIBRARY_VERSIONS, SOURCES};
use crate::isoformat::{parse_isoformat, parse_isoformat_utc, write_isoformat};
use crate::metadata::{EventsMetadata, ReceivedParts};
use crate::registry::get_signal_by_type;

/// A stream entry's field names, in the order upstream's producer writes them: the metadata's
/// [entry names](MetadataHeader::entry_name), then `event_data`.
pub const FIELD_NAMES: [&str; 8] =
    ["type", "id", "source", "time", "minorversion", "sourcehost", "sourcelib", "event_data"];

/// A message that arrived but cannot be dispatched: its headers, its event type or its data are
/// unusable. It is dead-lettered, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unusable message: {0}")]
pub struct UnusableMessage(pub String);

/// One part of [`EventsMetadata`] as a message carries it, as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MetadataHeader {
    /// The event type.
    Type,
    /// The event id, a hyphenated UUID.
    Id,
    /// The logical source, `openedx/<service>/web`.
    Source,
    /// The time, as Python's `isoformat()` writes it.
    Time,
    /// The minor version, in decimal.
    MinorVersion,
    /// The host that sent the event.
    SourceHost,
    /// The sending library's version, as `0.1.0`.
    SourceLib,
}

impl MetadataHeader {
    /// Every header, in the order upstream's producers write them.
    pub const ALL: [MetadataHeader; 7] = [
        MetadataHeader::Type,
        MetadataHeader::Id,
        MetadataHeader::Source,
        MetadataHeader::Time,
        MetadataHeader::MinorVersion,
        MetadataHeader::SourceHost,
        MetadataHeader::SourceLib,
    ];

    /// Its name in a stream entry, as `edx-event-bus-redis` writes it: `type`, `id`, `source`,
    /// `time`, `minorversion`, `sourcehost`, `sourcelib`.
    pub const fn entry_name(self) -> &'static str {
        match self {
            MetadataHeader::Type => "type",
            MetadataHeader::Id => "id",
            MetadataHeader::Source => "source",
            MetadataHeader::Time => "time",
            MetadataHeader::MinorVersion => "minorversion",
            MetadataHeader::SourceHost => "sourcehost",
            MetadataHeader::SourceLib => "sourcelib",
        }
    }
}

/// The metadata as header values, in [`MetadataHeader::ALL`]'s order; the text parts borrow
/// from `metadata`.
pub fn header_values(metadata: &EventsMetadata) -> [(MetadataHeader, Cow<'_, [u8]>); 7] {
    let mut sourcelib = String::with_capacity(4 * metadata.sourcelib.len());
    for (i, part) in metadata.sourcelib.iter().enumerate() {
        if i > 0 {
            sourcelib.push('.');
        }
        // Writing to a String cannot fail.
        let _ = write!(sourcelib, "{part}");
    }
    let mut time = Vec::with_capacity(32);
    write_isoformat(&metadata.time, &mut time);
    [
        (MetadataHeader::Type, Cow::Borrowed(metadata.event_type.as_bytes())),
        (
            MetadataHeader::Id,
            Cow::Owned(metadata.id.hyphenated().encode_lower(&mut Uuid::encode_buffer()).as_bytes().to_vec()),
        ),
        (MetadataHeader::Source, Cow::Borrowed(metadata.source.as_bytes())),
        (MetadataHeader::Time, Cow::Owned(time)),
        (MetadataHeader::MinorVersion, Cow::Owned(metadata.minorversion.to_string().into_bytes())),
        (MetadataHeader::SourceHost, Cow::Borrowed(metadata.sourcehost.as_bytes())),
        (MetadataHeader::SourceLib, Cow::Owned(sourcelib.into_bytes())),
    ]
}

/// Reads the metadata from header values, as upstream's consumers do: a missing or empty header
/// takes its default (a new id, now, this service, minor version 0), except the type, without
/// which the message is unusable. `header` finds a value; `name` says how this backend names a
/// header, for the error.
pub fn metadata_from_headers<'a>(
    header: impl Fn(MetadataHeader) -> Option<&'a [u8]>,
    name: fn(MetadataHeader) -> &'static str,
) -> Result<EventsMetadata, UnusableMessage> {
    let text = |which: MetadataHeader| -> Result<Option<&'a str>, UnusableMessage> {
        match header(which) {
            None | Some([]) => Ok(None),
            Some(bytes) => std::str::from_utf8(bytes)
                .map(Some)
                .map_err(|_| UnusableMessage(format!("header `{}` is not UTF-8", name(which)))),
        }
    };
    let bad = |which: MetadataHeader, error: &dyn std::fmt::Display| {
        UnusableMessage(format!("header `{}` is invalid: {error}", name(which)))
    };
    let event_type = text(MetadataHeader::Type)?
        .ok_or_else(|| UnusableMessage(format!("the message has no `{}` header", name(MetadataHeader::Type))))?;
    let parts = ReceivedParts {
        id: text(MetadataHeader::Id)?
            .map(|id| Uuid::parse_str(id).map_err(|e| bad(MetadataHeader::Id, &e)))
            .transpose()?,
        source: text(MetadataHeader::Source)?.map(|source| SOURCES.get(source)),
        // Python's own UTC form first, without the general parser (the same time where it reads one).
        time: text(MetadataHeader::Time)?
            .map(|time| match parse_isoformat_utc(time.as_bytes()) {
                Some(time) => Ok(time),
                None => parse_isoformat(time).map_err(|e| bad(MetadataHeader::Time, &e)),
            })
            .transpose()?,
        minorversion: text(MetadataHeader::MinorVersion)?
            .map(|minor| minor.trim().parse().map_err(|e| bad(MetadataHeader::MinorVersion, &e)))
            .transpose()?,
        sourcehost: text(MetadataHeader::SourceHost)?.map(|host| HOSTS.get(host)),
        sourcelib: text(MetadataHeader::SourceLib)?
            .map(|lib| library_version(lib).map_err(|e| bad(MetadataHeader::SourceLib, &e)))
            .transpose()?,
    };
    Ok(EventsMetadata::received(known_event_type(event_type), parts))
}

/// The event type, borrowed from the signal of that type when this program has one (so a
/// consumer allocates nothing for it), else owned. The type last found is kept per thread:
/// consecutive messages mostly share it.
fn known_event_type(event_type: &str) -> Cow<'static, str> {
    thread_local! {
        static LAST: Cell<Option<&'static str>> = const { Cell::new(None) };
    }
    let last = LAST.try_with(Cell::get).ok().flatten();
    if let Some(last) = last
        && last == event_type
    {
        return Cow::Borrowed(last);
    }
    match get_signal_by_type(event_type) {
        Some(signal) => {
            let _ = LAST.try_with(|last| last.set(Some(signal.event_type())));
            Cow::Borrowed(signal.event_type())
        }
        None => Cow::Owned(event_type.to_owned()),
    }
}

/// `sourcelib`'s text (`0.1.0`) as integers, kept once (see [`crate::intern`]) when short.
fn library_version(text: &str) -> Result<Cow<'static, [u32]>, std::num::ParseIntError> {
    let mut parts = [0u32; 8];
    let mut count = 0;
    for part in text.split('.') {
        let part = part.parse()?;
        if count == parts.len() {
            // Longer than any version seen: owned, as it is.
            return text.split('.').map(str::parse).collect::<Result<Vec<u32>, _>>().map(Cow::Owned);
        }
        parts[count] = part;
        count += 1;
    }
    Ok(LIBRARY_VERSIONS.get(&parts[..count]))
}

/// The fields of a stream entry for an event, in upstream's order ([`FIELD_NAMES`]): the
/// metadata's header values, then `event_data`, the schemaless Avro bytes.
pub fn message_fields<'a>(metadata: &'a EventsMetadata, event_data: &'a [u8]) -> [(&'static str, Cow<'a, [u8]>); 8] {
    let [a, b, c, d, e, f, g] = header_values(metadata).map(|(header, value)| (header.entry_name(), value));
    [a, b, c, d, e, f, g, ("event_data", Cow::Borrowed(event_data))]
}

/// Reads the metadata and the Avro bytes from a stream entry's fields (see
/// [`metadata_from_headers`]); without `event_data` the message is unusable. The fields may be
/// owned or borrowed from the reply they were read from; the Avro bytes are borrowed from them.
pub fn parse_message_fields<K, V>(fields: &[(K, V)]) -> Result<(EventsMetadata, &[u8]), UnusableMessage>
where
    K: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let get =
        |name: &str| fields.iter().find(|(key, _)| key.as_ref() == name.as_bytes()).map(|(_, value)| value.as_ref());
    let metadata = metadata_from_headers(|header| get(header.entry_name()), MetadataHeader::entry_name)?;
    let event_data = get("event_data").ok_or_else(|| UnusableMessage("the message has no `event_data`".to_owned()))?;
    Ok((metadata, event_data))
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
        let owned = owned(&fields);
        let (back, data) = parse_message_fields(&owned).unwrap();
        assert_eq!(back, metadata);
        assert_eq!(data, b"\x02abc");
    }

    proptest::proptest! {
        #[test]
        fn the_id_is_written_as_display_writes_it(bits: u128) {
            let mut metadata = EventsMetadata::new("org.openedx.learning.thing.happened.v1");
            metadata.id = Uuid::from_u128(bits);
            let fields = message_fields(&metadata, b"");
            let expected = metadata.id.to_string();
            proptest::prop_assert_eq!(&*fields[1].1, expected.as_bytes());
        }
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
