//! [`EventField`] for every type an event can carry: its description, Avro codec and JSON form.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::avro::{AvroReader, AvroWriter, DecodeError, DecodeErrorKind, JsonError};
use crate::data::{EventField, FieldType};
use crate::event_key::{EventKey, KeyValue};
use crate::isoformat::{Isoformat, isoformat_utc, parse_isoformat_utc, parse_python_time, write_isoformat};

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
    fn write_json(&self, out: &mut Vec<u8>) {
        crate::json_text::write_str(out, self);
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_str().map(str::to_owned).ok_or_else(|| JsonError::expected("a string", value))
    }
    fn event_key(&self, path: &str) -> Option<EventKey> {
        path.is_empty().then(|| KeyValue::event_key(self))
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
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_bool().ok_or_else(|| JsonError::expected("a boolean", value))
    }
    fn event_key(&self, path: &str) -> Option<EventKey> {
        path.is_empty().then(|| KeyValue::event_key(self))
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
    fn write_json(&self, out: &mut Vec<u8>) {
        crate::json_text::write_integer(out, *self);
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_i64().ok_or_else(|| JsonError::expected("a 64-bit integer", value))
    }
    fn event_key(&self, path: &str) -> Option<EventKey> {
        path.is_empty().then(|| KeyValue::event_key(self))
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
    fn write_json(&self, out: &mut Vec<u8>) {
        crate::json_text::write_integer(out, i64::from(*self));
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(|| JsonError::expected("a 32-bit integer", value))
    }
    fn event_key(&self, path: &str) -> Option<EventKey> {
        path.is_empty().then(|| KeyValue::event_key(self))
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
    fn write_json(&self, out: &mut Vec<u8>) {
        crate::json_text::write_value(out, &self.to_json());
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_f64().ok_or_else(|| JsonError::expected("a number", value))
    }
    fn event_key(&self, path: &str) -> Option<EventKey> {
        path.is_empty().then(|| KeyValue::event_key(self))
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
    fn write_json(&self, out: &mut Vec<u8>) {
        // Digits, signs, `:`, `T` and `.`: nothing to escape.
        out.push(b'"');
        write_isoformat(self, out);
        out.push(b'"');
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let text = value.as_str().ok_or_else(|| JsonError::expected("an ISO 8601 time string", value))?;
        match parse_isoformat_utc(text.as_bytes()) {
            Some(time) => Ok(time),
            None => parse_python_time(text).map_err(JsonError::new),
        }
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
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut buffer = Uuid::encode_buffer();
        out.push(b'"');
        out.extend_from_slice(self.hyphenated().encode_lower(&mut buffer).as_bytes());
        out.push(b'"');
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let text = value.as_str().ok_or_else(|| JsonError::expected("a UUID string", value))?;
        Uuid::parse_str(text).map_err(|e| JsonError::new(format!("invalid UUID {text:?}: {e}")))
    }
    fn event_key(&self, path: &str) -> Option<EventKey> {
        path.is_empty().then(|| KeyValue::event_key(self))
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
            fn write_json(&self, out: &mut Vec<u8>) {
                crate::json_text::write_display(out, self);
            }
            fn from_json(value: &Value) -> Result<Self, JsonError> {
                let text = value.as_str().ok_or_else(|| JsonError::expected(concat!("a ", $name, " string"), value))?;
                parse_text(text).map_err(JsonError::new)
            }
            fn event_key(&self, path: &str) -> Option<EventKey> {
                path.is_empty().then(|| KeyValue::event_key(self))
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
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (index, item) in self.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            item.write_json(out);
        }
        out.push(b']');
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
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (index, (key, value)) in self.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            crate::json_text::write_str(out, key);
            out.push(b':');
            value.write_json(out);
        }
        out.push(b'}');
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
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            None => out.extend_from_slice(b"null"),
            Some(value) => value.write_json(out),
        }
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
