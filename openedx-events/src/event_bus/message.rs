//! The message on the wire: upstream's header fields, then the Avro bytes, and nothing else.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};
use uuid::Uuid;

use crate::metadata::{EventsMetadata, ReceivedParts};
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
    let mut sourcelib = String::with_capacity(4 * metadata.sourcelib.len());
    for (i, part) in metadata.sourcelib.iter().enumerate() {
        if i > 0 {
            sourcelib.push('.');
        }
        // Writing to a String cannot fail.
        let _ = write!(sourcelib, "{part}");
    }
    [
        ("type", borrowed(&metadata.event_type)),
        ("id", Cow::Owned(metadata.id.hyphenated().encode_lower(&mut Uuid::encode_buffer()).as_bytes().to_vec())),
        ("source", borrowed(&metadata.source)),
        ("time", Cow::Owned(isoformat_bytes(&metadata.time))),
        ("minorversion", text(metadata.minorversion.to_string())),
        ("sourcehost", borrowed(&metadata.sourcehost)),
        ("sourcelib", text(sourcelib)),
        ("event_data", Cow::Borrowed(event_data)),
    ]
}

/// [`Isoformat`]'s text, written digit by digit for the years 0 to 9999 (all that Python's
/// `datetime` holds): through `write!` it cost more than the rest of a message's fields together.
/// Other years go through `Isoformat` itself.
fn isoformat_bytes(time: &DateTime<Utc>) -> Vec<u8> {
    fn push_digits(out: &mut Vec<u8>, mut n: u32, width: usize) {
        let start = out.len();
        out.resize(start + width, b'0');
        for digit in out[start..].iter_mut().rev() {
            // `n % 10` is a digit.
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    let t = time.naive_utc();
    let Ok(year @ 0..=9999) = u32::try_from(t.year()) else {
        return Isoformat(time).to_string().into_bytes();
    };
    let mut out = Vec::with_capacity(32);
    push_digits(&mut out, year, 4);
    for (separator, value) in
        [(b'-', t.month()), (b'-', t.day()), (b'T', t.hour()), (b':', t.minute()), (b':', t.second())]
    {
        out.push(separator);
        push_digits(&mut out, value, 2);
    }
    // As `Isoformat`: microseconds, and a leap second as the last microsecond of the 59th.
    let micros = time.timestamp_subsec_micros().min(999_999);
    if micros != 0 {
        out.push(b'.');
        push_digits(&mut out, micros, 6);
    }
    out.extend_from_slice(b"+00:00");
    out
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
    let parts = ReceivedParts {
        id: text("id")?.map(|id| Uuid::parse_str(id).map_err(|e| bad("id", &e))).transpose()?,
        source: text("source")?.map(str::to_owned),
        time: text("time")?.map(|time| parse_isoformat(time).map_err(|e| bad("time", &e))).transpose()?,
        minorversion: text("minorversion")?
            .map(|minor| minor.trim().parse().map_err(|e| bad("minorversion", &e)))
            .transpose()?,
        sourcehost: text("sourcehost")?.map(str::to_owned),
        sourcelib: text("sourcelib")?
            .map(|lib| {
                lib.split('.').map(str::parse).collect::<Result<Vec<u32>, _>>().map_err(|e| bad("sourcelib", &e))
            })
            .transpose()?,
    };
    let metadata = EventsMetadata::received(event_type.to_owned(), parts);
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

    proptest::proptest! {
        #[test]
        fn the_time_is_written_as_isoformat_writes_it(secs in -70_000_000_000i64..300_000_000_000, nanos in 0u32..2_000_000_000) {
            if let Some(time) = DateTime::from_timestamp(secs, nanos) {
                proptest::prop_assert_eq!(isoformat_bytes(&time), Isoformat(&time).to_string().into_bytes());
            }
        }

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
    fn times_of_every_kind_are_written_as_isoformat_writes_them() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        for time in [
            chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
                + chrono::Duration::nanoseconds(999_999_999),
            chrono::Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap() + chrono::Duration::nanoseconds(999),
            leap,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        ] {
            assert_eq!(String::from_utf8(isoformat_bytes(&time)).unwrap(), Isoformat(&time).to_string(), "{time:?}");
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
