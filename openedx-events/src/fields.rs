//! [`EventField`] for every type an event can carry: its description, Avro codec and JSON form.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::avro::{AvroReader, AvroWriter, DecodeError, DecodeErrorKind, JsonError};
use crate::data::{EventField, FieldType};
use crate::python::{Isoformat, parse_isoformat};

impl EventField for String {
    const TYPE: &'static FieldType = &FieldType::String;

    #[inline]
    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        writer.write_bytes(self.as_bytes());
    }
    #[inline]
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        reader.read_str().map(str::to_owned)
    }
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_str().map(str::to_owned).ok_or_else(|| JsonError::expected("a string", value))
    }
}

impl EventField for bool {
    const TYPE: &'static FieldType = &FieldType::Boolean;

    #[inline]
    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        writer.write_bool(*self);
    }
    #[inline]
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        reader.read_bool()
    }
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_bool().ok_or_else(|| JsonError::expected("a boolean", value))
    }
}

impl EventField for i64 {
    const TYPE: &'static FieldType = &FieldType::Long;

    #[inline]
    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        writer.write_long(*self);
    }
    #[inline]
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        reader.read_long()
    }
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_i64().ok_or_else(|| JsonError::expected("a 64-bit integer", value))
    }
}

impl EventField for i32 {
    const TYPE: &'static FieldType = &FieldType::Int;

    #[inline]
    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        writer.write_long(i64::from(*self));
    }
    #[inline]
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        let value = reader.read_long()?;
        i32::try_from(value).map_err(|_| DecodeError::new(DecodeErrorKind::OutOfRange(value)))
    }
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(|| JsonError::expected("a 32-bit integer", value))
    }
}

impl EventField for f64 {
    const TYPE: &'static FieldType = &FieldType::Double;

    #[inline]
    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        writer.write_double(*self);
    }
    #[inline]
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        reader.read_double()
    }
    /// JSON has no NaN or infinity; those become null.
    fn to_json(&self) -> Value {
        serde_json::Number::from_f64(*self).map_or(Value::Null, Value::Number)
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_f64().ok_or_else(|| JsonError::expected("a number", value))
    }
}

impl EventField for DateTime<Utc> {
    const TYPE: &'static FieldType = &FieldType::DateTime;

    #[inline]
    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        match isoformat_utc(self) {
            Some((text, len)) => writer.write_bytes(&text[..len]),
            None => writer.write_display(&Isoformat(self)),
        }
    }
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        // The bytes of the usual form are ASCII, checked digit by digit, so only the others need
        // the UTF-8 check that `read_str` makes.
        let bytes = reader.read_bytes()?;
        if let Some(time) = parse_isoformat_utc(bytes) {
            return Ok(time);
        }
        let text =
            std::str::from_utf8(bytes).map_err(|e| DecodeError::new(DecodeErrorKind::InvalidUtf8(e.valid_up_to())))?;
        parse_python_time(text).map_err(DecodeError::invalid_value)
    }
    fn to_json(&self) -> Value {
        Value::String(Isoformat(self).to_string())
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let text = value.as_str().ok_or_else(|| JsonError::expected("an ISO 8601 time string", value))?;
        match parse_isoformat_utc(text.as_bytes()) {
            Some(time) => Ok(time),
            None => parse_python_time(text).map_err(JsonError::new),
        }
    }
}

/// What [`Isoformat`] writes, digit by digit into a buffer (with its length): `core::fmt`'s
/// padded integers cost several times more, and times are the bulk of encoding most events.
/// `None` for what only `Isoformat` handles: years outside 0 to 9999 and leap seconds.
#[inline]
fn isoformat_utc(time: &DateTime<Utc>) -> Option<([u8; 32], usize)> {
    fn digits(out: &mut [u8], mut value: u32) {
        for byte in out.iter_mut().rev() {
            *byte = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    let naive = time.naive_utc();
    let year = u32::try_from(naive.year()).ok().filter(|year| *year <= 9999)?;
    let micros = naive.nanosecond() / 1000;
    if micros >= 1_000_000 {
        return None;
    }
    let mut text = *b"0000-00-00T00:00:00.000000+00:00";
    digits(&mut text[0..4], year);
    digits(&mut text[5..7], naive.month());
    digits(&mut text[8..10], naive.day());
    digits(&mut text[11..13], naive.hour());
    digits(&mut text[14..16], naive.minute());
    digits(&mut text[17..19], naive.second());
    if micros == 0 {
        // No fraction: the offset moves up.
        text.copy_within(26..32, 19);
        Some((text, 25))
    } else {
        digits(&mut text[20..26], micros);
        Some((text, 32))
    }
}

/// Reads the form that Python's `isoformat()` and ours write for a UTC time,
/// `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`, without the general parser. `None` for anything else,
/// which [`parse_python_time`] then reads or refuses; where this returns a time, it is the one
/// `parse_python_time` returns.
#[inline]
fn parse_isoformat_utc(bytes: &[u8]) -> Option<DateTime<Utc>> {
    // Eight bytes at a time: each word is checked against a layout, `d` for an ASCII digit and
    // any other byte for itself. The words overlap where the lengths require.
    const DATE: Layout = Layout::new(b"dddd-dd-");
    const CLOCK: Layout = Layout::new(b"ddTdd:dd");
    const SECONDS: Layout = Layout::new(b"dd:dd:dd");
    const FRACTION: Layout = Layout::new(b".dddddd+");
    const OFFSET: Layout = Layout::new(b"dd+00:00");
    let head: &[u8; 25] = bytes.first_chunk()?;
    let fits = DATE.fits(head, 0) & CLOCK.fits(head, 8) & SECONDS.fits(head, 11);
    let micros = match bytes.len() {
        25 if fits & OFFSET.fits(head, 17) => 0,
        32 if fits && FRACTION.fits(bytes, 19) & OFFSET.fits(bytes, 24) => {
            let digit = |at: usize| u32::from(bytes[at] - b'0');
            ((digit(20) * 10 + digit(21)) * 10 + digit(22)) * 1000 + (digit(23) * 10 + digit(24)) * 10 + digit(25)
        }
        _ => return None,
    };
    // Every digit is checked; the layout makes each value at most 9999 or 99.
    let two = |at: usize| u32::from(head[at] - b'0') * 10 + u32::from(head[at + 1] - b'0');
    let year = two(0) * 100 + two(2);
    // Year 0 is outside Python's range; `parse_python_time` says so.
    if year == 0 {
        return None;
    }
    let (hour, minute, second) = (two(11), two(14), two(17));
    if hour >= 24 || minute >= 60 || second >= 60 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, two(5), two(8))?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt((hour * 60 + minute) * 60 + second, micros * 1000)?;
    Some(date.and_time(time).and_utc())
}

/// Eight bytes of a fixed text layout: where digits go, and the other bytes.
#[derive(Clone, Copy)]
struct Layout {
    /// `0xff` in the bytes that must be ASCII digits.
    digits: u64,
    /// The other bytes, and 0 in those of the digits.
    others: u64,
}

impl Layout {
    /// `b'd'` marks a digit.
    const fn new(layout: &[u8; 8]) -> Layout {
        let mut digits = [0; 8];
        let mut others = [0; 8];
        let mut i = 0;
        while i < 8 {
            if layout[i] == b'd' {
                digits[i] = 0xff;
            } else {
                others[i] = layout[i];
            }
            i += 1;
        }
        Layout { digits: u64::from_le_bytes(digits), others: u64::from_le_bytes(others) }
    }

    /// Whether the eight bytes at `at` (which must be in `bytes`) follow the layout.
    #[inline(always)]
    fn fits(self, bytes: &[u8], at: usize) -> bool {
        const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
        const ZEROS: u64 = 0x3030_3030_3030_3030;
        const SIXES: u64 = 0x0606_0606_0606_0606;
        let Some(word) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) else {
            return false;
        };
        let word = u64::from_le_bytes(*word);
        let digits = word & self.digits;
        // A digit is 0x30 to 0x39: its high nibble is 3, and stays 3 once 6 is added. A byte
        // whose high nibble is not 3 fails the first test; only such a byte can carry into the
        // next one in the second.
        (word & !self.digits) == self.others
            && (digits & HIGH) == (ZEROS & self.digits)
            && (digits.wrapping_add(SIXES & self.digits) & HIGH) == (ZEROS & self.digits)
    }
}

/// Reads a time as [`parse_isoformat`] does, and refuses one whose UTC value is outside Python's
/// years 1 to 9999 (`0000-06-01`, or `9999-12-31T23:00:00-05:00` once moved to UTC): Python
/// cannot hold it in UTC, and our isoformat of it would not be read back, by Python or by us.
fn parse_python_time(text: &str) -> Result<DateTime<Utc>, String> {
    let time = parse_isoformat(text).map_err(|e| e.to_string())?;
    if (1..=9999).contains(&time.year()) {
        Ok(time)
    } else {
        Err(format!("invalid ISO 8601 time {text:?}: in UTC it is outside Python's years 1 to 9999"))
    }
}

impl EventField for Uuid {
    const TYPE: &'static FieldType = &FieldType::Uuid;

    #[inline]
    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        let mut buffer = Uuid::encode_buffer();
        writer.write_bytes(self.hyphenated().encode_lower(&mut buffer).as_bytes());
    }
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        let text = reader.read_str()?;
        Uuid::parse_str(text).map_err(|e| DecodeError::invalid_value(format!("invalid UUID {text:?}: {e}")))
    }
    fn to_json(&self) -> Value {
        Value::String(self.to_string())
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let text = value.as_str().ok_or_else(|| JsonError::expected("a UUID string", value))?;
        Uuid::parse_str(text).map_err(|e| JsonError::new(format!("invalid UUID {text:?}: {e}")))
    }
}

/// Opaque keys travel as their canonical strings; the name in the description is upstream's
/// class name.
macro_rules! opaque_key_fields {
    ($($ty:ty => $name:literal,)*) => {
        $(impl EventField for $ty {
            const TYPE: &'static FieldType = &FieldType::OpaqueKey($name);

            #[inline]
            fn write_avro(&self, writer: &mut AvroWriter<'_>) {
                writer.write_display(self);
            }
            fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
                parse_text(reader.read_str()?).map_err(DecodeError::invalid_value)
            }
            fn to_json(&self) -> Value {
                Value::String(self.to_string())
            }
            fn from_json(value: &Value) -> Result<Self, JsonError> {
                let text = value.as_str().ok_or_else(|| JsonError::expected(concat!("a ", $name, " string"), value))?;
                parse_text(text).map_err(JsonError::new)
            }
        })*
    };
}

fn parse_text<T: FromStr<Err: Display>>(text: &str) -> Result<T, T::Err> {
    text.parse()
}

opaque_key_fields! {
    crate::keys::CourseKey => "CourseKey",
    crate::keys::UsageKey => "UsageKey",
    crate::keys::LibraryLocatorV2 => "LibraryLocatorV2",
    crate::keys::LibraryUsageLocatorV2 => "LibraryUsageLocatorV2",
    crate::keys::LibraryCollectionLocator => "LibraryCollectionLocator",
    crate::keys::LibraryContainerLocator => "LibraryContainerLocator",
    crate::keys::CcxLocator => "CCXLocator",
}

impl<T: EventField> EventField for Vec<T> {
    const TYPE: &'static FieldType = &FieldType::List(T::TYPE);

    #[inline]
    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        writer.write_block_start(self.len());
        for item in self {
            item.write_avro(writer);
        }
        writer.write_block_end();
    }
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        let mut items = Vec::new();
        loop {
            let count = reader.read_block_len()?;
            if count == 0 {
                return Ok(items);
            }
            // The count is at most the bytes left, but an item may take far more memory than its
            // one byte: reserve no more than the bytes left could hold, so that a lying count
            // cannot make us allocate more than the input's size.
            items.reserve(count.min(reader.remaining() / size_of::<T>().max(1)));
            for _ in 0..count {
                let index = items.len();
                items.push(T::read_avro(reader).map_err(|e| e.at_index(index))?);
            }
        }
    }
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(EventField::to_json).collect())
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let items = value.as_array().ok_or_else(|| JsonError::expected("an array", value))?;
        items.iter().enumerate().map(|(i, item)| T::from_json(item).map_err(|e| e.at_index(i))).collect()
    }
}

impl<T: EventField> EventField for BTreeMap<String, T> {
    const TYPE: &'static FieldType = &FieldType::Map(T::TYPE);

    /// Keys in order, as upstream writes them (its record dict is built with sorted keys).
    #[inline]
    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        writer.write_block_start(self.len());
        for (key, value) in self {
            writer.write_bytes(key.as_bytes());
            value.write_avro(writer);
        }
        writer.write_block_end();
    }
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        let mut map = BTreeMap::new();
        loop {
            let count = reader.read_block_len()?;
            if count == 0 {
                return Ok(map);
            }
            for _ in 0..count {
                let key = reader.read_str()?;
                let value = T::read_avro(reader).map_err(|e| e.at_key(key))?;
                map.insert(key.to_owned(), value);
            }
        }
    }
    fn to_json(&self) -> Value {
        Value::Object(self.iter().map(|(key, value)| (key.clone(), value.to_json())).collect())
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let object = value.as_object().ok_or_else(|| JsonError::expected("an object", value))?;
        object.iter().map(|(key, item)| Ok((key.clone(), T::from_json(item).map_err(|e| e.at_key(key))?))).collect()
    }
}

impl<T: EventField> EventField for Option<T> {
    const TYPE: &'static FieldType = &FieldType::Optional(T::TYPE);

    #[inline]
    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        match self {
            None => writer.write_union_index(0),
            Some(value) => {
                writer.write_union_index(1);
                value.write_avro(writer);
            }
        }
    }
    #[inline]
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        if reader.read_optional()? { T::read_avro(reader).map(Some) } else { Ok(None) }
    }
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, EventField::to_json)
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        if value.is_null() { Ok(None) } else { T::from_json(value).map(Some) }
    }
    fn absent_from_json() -> Option<Self> {
        Some(None)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// Times across the range, with and without microseconds, and the edges of the fast paths.
    fn times() -> Vec<DateTime<Utc>> {
        let mut times = Vec::new();
        for (year, month, day, hour, minute, second) in [
            (1, 1, 1, 0, 0, 0),
            (999, 12, 31, 23, 59, 59),
            (1970, 1, 1, 0, 0, 0),
            (2024, 2, 29, 12, 34, 56),
            (2024, 5, 1, 9, 5, 7),
            (9999, 12, 31, 23, 59, 59),
        ] {
            let time = Utc.with_ymd_and_hms(year, month, day, hour, minute, second).unwrap();
            for micros in [0, 1, 10, 500_000, 789_012, 999_999] {
                times.push(time + chrono::Duration::microseconds(micros));
            }
            // Nanoseconds Python cannot hold are dropped, as `Isoformat` drops them.
            times.push(time + chrono::Duration::nanoseconds(1_500));
        }
        times
    }

    #[test]
    fn fast_isoformat_is_isoformat() {
        for time in times() {
            let (text, len) = isoformat_utc(&time).unwrap();
            assert_eq!(std::str::from_utf8(&text[..len]).unwrap(), Isoformat(&time).to_string());
        }
        // What the fast path leaves to `Isoformat`: a leap second, years outside 0 to 9999.
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_micro_opt(23, 59, 59, 1_500_000).unwrap();
        assert_eq!(isoformat_utc(&leap.and_utc()), None);
        assert_eq!(isoformat_utc(&Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap()), None);
        assert_eq!(isoformat_utc(&Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap()), None);
        assert!(isoformat_utc(&Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap()).is_some());
    }

    #[test]
    fn fast_parse_agrees_with_the_general_parser() {
        for time in times() {
            let text = Isoformat(&time).to_string();
            let expected = parse_python_time(&text).unwrap();
            assert_eq!(parse_isoformat_utc(text.as_bytes()), Some(expected), "{text}");
        }
        // Left to the general parser, which reads some and refuses the others.
        for text in [
            "2024-05-01T12:00:00Z",
            "2024-05-01T12:00:00+02:00",
            "2024-05-01T12:00:00.5+00:00",
            "2024-05-01 12:00:00+00:00",
            "0000-05-01T12:00:00+00:00",
            "2024-02-30T12:00:00+00:00",
            "2024-05-01T24:00:00+00:00",
            "2024-05-01T12:00:60+00:00",
            "2024-05-01T12:00:00.1234567+00:00",
            "2024-05-01T12:00:00,123456+00:00",
            "2024-05-01T12:00:00+00:00\u{0}",
            "+024-05-01T12:00:00+00:00",
            "2024-05-01T12:00:00-00:00",
        ] {
            assert_eq!(parse_isoformat_utc(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn fast_parse_agrees_on_edited_and_edge_texts() {
        // Small edits of valid times: where the fast path reads a time, the general parser
        // reads the same one.
        let mut seed: u64 = 0x1234_5678;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let bases: Vec<String> = times().iter().map(|time| Isoformat(time).to_string()).collect();
        let alphabet = b"0123456789:-T+.Z /;\x2f\xff\x00";
        for _ in 0..200_000 {
            let mut bytes = bases[(next() % bases.len() as u64) as usize].as_bytes().to_vec();
            for _ in 0..1 + next() % 3 {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 8 {
                    0 => drop(bytes.remove(at)),
                    1 => bytes.insert(at, alphabet[(next() % alphabet.len() as u64) as usize]),
                    2 => bytes[at] = (next() & 0xff) as u8,
                    _ => bytes[at] = alphabet[(next() % alphabet.len() as u64) as usize],
                }
            }
            if let Some(time) = parse_isoformat_utc(&bytes) {
                let text = std::str::from_utf8(&bytes).unwrap();
                assert_eq!(parse_python_time(text), Ok(time), "{text}");
            }
        }
        // Each field at and past its limits: the fast path reads exactly the valid ones.
        for year in [0, 1, 4, 100, 400, 1900, 2000, 2023, 2024, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    for (hour, minute, second) in [(0, 0, 0), (23, 59, 59), (24, 0, 0), (0, 60, 0), (0, 0, 60)] {
                        for (fraction, micros) in [("", 0), (".000000", 0), (".999999", 999_999), (".000001", 1)] {
                            let text = format!(
                                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}+00:00"
                            );
                            let expected = NaiveDate::from_ymd_opt(year, month, day)
                                .filter(|_| year >= 1)
                                .and_then(|date| date.and_hms_micro_opt(hour, minute, second, micros))
                                .map(|time| time.and_utc());
                            assert_eq!(parse_isoformat_utc(text.as_bytes()), expected, "{text}");
                        }
                    }
                }
            }
        }
    }

    fn read_time(text: &[u8]) -> Result<DateTime<Utc>, DecodeError> {
        let mut bytes = Vec::new();
        AvroWriter::new(&mut bytes).write_bytes(text);
        let mut reader = AvroReader::new(&bytes);
        let time = DateTime::<Utc>::read_avro(&mut reader)?;
        reader.finish().map(|()| time)
    }

    #[test]
    fn avro_times_read_every_python_form() {
        let time = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        assert_eq!(read_time(b"2024-05-01T12:00:00+00:00"), Ok(time));
        assert_eq!(read_time(b"2024-05-01T14:00:00+02:00"), Ok(time));
        assert_eq!(read_time(b"2024-05-01T12:00:00Z"), Ok(time));
        assert_eq!(read_time(b"2024-05-01\xc3\xa912:00:00"), Ok(time));
        // Not UTF-8: the same error as any string's.
        assert_eq!(read_time(b"2024-05-01T12:00:00+00:0\xff").unwrap_err().kind(), &DecodeErrorKind::InvalidUtf8(24));
        assert!(matches!(
            read_time(b"2024-02-30T12:00:00+00:00").unwrap_err().kind(),
            DecodeErrorKind::InvalidValue(_)
        ));
    }
}
