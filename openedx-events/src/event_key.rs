//! [`EventKey`]: the value at an event's key field, which keys its message on a bus that
//! partitions by key (Kafka), and [`KeyValue`], the field types that can be one.

use std::fmt;

use crate::avro::AvroWriter;

/// The value at an event's key field (such as `enrollment.course.course_key`), as a bus that
/// partitions by key sends it: upstream makes the key an Avro value of the field's own type,
/// so a course key is a `string` and a count a `long`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKey {
    /// Text, an opaque key's canonical string or a UUID's hyphenated one: Avro `string`.
    String(String),
    /// An integer: Avro `long`.
    Long(i64),
    /// A flag: Avro `boolean`.
    Boolean(bool),
    /// A float: Avro `double`.
    Double(f64),
}

impl EventKey {
    /// The key's Avro type name: `string`, `long`, `boolean` or `double`.
    pub fn avro_type(&self) -> &'static str {
        match self {
            EventKey::String(_) => "string",
            EventKey::Long(_) => "long",
            EventKey::Boolean(_) => "boolean",
            EventKey::Double(_) => "double",
        }
    }

    /// The key as schemaless Avro of its type, as upstream's serializer writes it.
    pub fn to_avro(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        let mut writer = AvroWriter::new(&mut out);
        match self {
            EventKey::String(text) => writer.write_bytes(text.as_bytes()),
            EventKey::Long(n) => writer.write_long(*n),
            EventKey::Boolean(b) => writer.write_bool(*b),
            EventKey::Double(x) => writer.write_double(*x),
        }
        out
    }
}

impl fmt::Display for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKey::String(text) => f.write_str(text),
            EventKey::Long(n) => write!(f, "{n}"),
            EventKey::Boolean(b) => write!(f, "{b}"),
            EventKey::Double(x) => write!(f, "{x}"),
        }
    }
}

/// A field type whose value can key an event: text, numbers, flags, UUIDs and opaque keys.
/// Not an `Option` (a missing key crashes upstream's Kafka producer) and not a record, list or map
/// (they have no key form). `#[openedx_event(key_field = ...)]` checks it at compile time.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot key an event on the event bus",
    label = "this key field names a value of type `{Self}`",
    note = "a key field must name a `String`, an integer, a `bool`, an `f64`, a `Uuid` or an opaque key, never an `Option`, a struct, a `Vec` or a map; upstream's Kafka producer fails on those when it sends"
)]
pub trait KeyValue {
    /// The key this value makes.
    fn event_key(&self) -> EventKey;
}

impl KeyValue for String {
    fn event_key(&self) -> EventKey {
        EventKey::String(self.clone())
    }
}

impl KeyValue for i64 {
    fn event_key(&self) -> EventKey {
        EventKey::Long(*self)
    }
}

impl KeyValue for i32 {
    fn event_key(&self) -> EventKey {
        EventKey::Long(i64::from(*self))
    }
}

impl KeyValue for bool {
    fn event_key(&self) -> EventKey {
        EventKey::Boolean(*self)
    }
}

impl KeyValue for f64 {
    fn event_key(&self) -> EventKey {
        EventKey::Double(*self)
    }
}

impl KeyValue for uuid::Uuid {
    fn event_key(&self) -> EventKey {
        EventKey::String(self.to_string())
    }
}

macro_rules! opaque_key_values {
    ($($ty:ty),*) => {
        $(impl KeyValue for $ty {
            fn event_key(&self) -> EventKey {
                EventKey::String(self.to_string())
            }
        })*
    };
}

opaque_key_values!(
    crate::keys::CourseKey,
    crate::keys::UsageKey,
    crate::keys::LibraryLocatorV2,
    crate::keys::LibraryUsageLocatorV2,
    crate::keys::LibraryCollectionLocator,
    crate::keys::LibraryContainerLocator,
    crate::keys::CcxLocator
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_avro_of_their_own_type() {
        assert_eq!(EventKey::String("ab".into()).to_avro(), b"\x04ab");
        assert_eq!(EventKey::Long(-1).to_avro(), b"\x01");
        assert_eq!(EventKey::Long(64).avro_type(), "long");
        assert_eq!(EventKey::Boolean(true).to_avro(), b"\x01");
        assert_eq!(EventKey::Double(1.0).to_avro(), 1.0f64.to_le_bytes());
    }
}
