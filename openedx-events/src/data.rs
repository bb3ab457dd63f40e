//! What an event carries: the [`EventData`] trait, the [`EventField`] trait for field types, and
//! the static descriptions that the derive records for the schema, the docs and the CLI.

use std::fmt;

use crate::avro::{AvroReader, AvroWriter, DecodeError, JsonError};

/// A struct an event can carry: a signal's payload, or a data type nested in one.
///
/// Implement it with `#[derive(EventData)]` (or `#[openedx_event(...)]`, which implies it); the
/// derive checks every field's type at compile time and records a [`DataDescription`].
pub trait EventData: EventField + Send + Sync + 'static {
    /// The struct's name, documentation and fields, computed once at compile time.
    const DESCRIPTION: &'static DataDescription;
}

/// A type that an event field can hold.
///
/// Implemented for the scalar types, `DateTime<Utc>`, `Uuid`, the opaque keys of
/// [`crate::keys`], `Vec<T>`, `BTreeMap<String, T>`, `Option<T>` and every [`EventData`] struct.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be carried in an Open edX event",
    label = "this field's type is not one an event can carry",
    note = "an event field can be `String`, `bool`, `i64`, `i32`, `f64`, `DateTime<Utc>`, `Uuid`, an opaque key from `openedx_events::keys`, `Vec<T>`, `BTreeMap<String, T>`, `Option<T>`, or a struct that derives `EventData`"
)]
pub trait EventField: Sized {
    /// How the field's type is described in schemas and docs.
    const TYPE: &'static FieldType;

    /// Appends the value as schemaless Avro.
    fn write_avro(&self, writer: &mut AvroWriter<'_>);

    /// Reads a value written by [`write_avro`](Self::write_avro) (or by Python's fastavro).
    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError>;

    /// The value in upstream's JSON form: custom types as strings, `None` as null.
    fn to_json(&self) -> serde_json::Value;

    /// Appends [`to_json`](Self::to_json)'s value as compact JSON text, byte for byte what
    /// `serde_json::to_writer` writes of it, without building the value: the derive and the
    /// field types write it directly (printing events as JSON lines spent most of its time
    /// building and dropping `Value`s). The default goes through `to_json`.
    fn write_json(&self, out: &mut Vec<u8>) {
        crate::json_text::write_value(out, &self.to_json());
    }

    /// Reads the JSON form.
    fn from_json(value: &serde_json::Value) -> Result<Self, JsonError>;

    /// What a field of this type is when its key is absent from a JSON object: `None` for an
    /// `Option`, and no value (an error) for every other type.
    fn absent_from_json() -> Option<Self> {
        None
    }

    /// The event key at `path`, a dotted path through this value (empty for the value itself):
    /// `None` when the path leads nowhere or to a value that cannot key an event (see
    /// [`KeyValue`](crate::event_bus::KeyValue)).
    fn event_key(&self, path: &str) -> Option<crate::event_bus::EventKey> {
        let _ = path;
        None
    }
}

/// The shape of a field's type, as schemas and documentation need it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FieldType {
    /// UTF-8 text (`String`).
    String,
    /// `bool`.
    Boolean,
    /// A 32-bit integer (`i32`); an Avro `long` on the wire, like every Python `int`.
    Int,
    /// A 64-bit integer (`i64`).
    Long,
    /// A 64-bit float (`f64`).
    Double,
    /// A UTC date and time (`DateTime<Utc>`), sent as an ISO 8601 string.
    DateTime,
    /// A `Uuid`, sent as its hyphenated string.
    Uuid,
    /// An opaque key (course key, usage key, ...), sent as its canonical string; holds the key
    /// type's upstream name, such as `CourseKey`.
    OpaqueKey(&'static str),
    /// A sequence (`Vec<T>`).
    List(&'static FieldType),
    /// A map with string keys (`BTreeMap<String, T>`).
    Map(&'static FieldType),
    /// A value that may be absent (`Option<T>`).
    Optional(&'static FieldType),
    /// A nested [`EventData`] struct.
    Record(&'static DataDescription),
    /// A value that can be carried in-process but has no wire form (upstream's `BinaryIO`);
    /// holds the upstream type name. Events holding one cannot go over the event bus.
    Unserializable(&'static str),
}

impl FieldType {
    /// The type inside an `Option`, or the type itself.
    pub fn without_optional(&self) -> &FieldType {
        match self {
            FieldType::Optional(inner) => inner,
            other => other,
        }
    }

    /// Whether a value of this type, anywhere inside, has no wire form.
    pub fn is_serializable(&self) -> bool {
        match self {
            FieldType::Unserializable(_) => false,
            FieldType::List(inner) | FieldType::Map(inner) | FieldType::Optional(inner) => inner.is_serializable(),
            FieldType::Record(data) => data.is_serializable(),
            _ => true,
        }
    }
}

impl fmt::Display for FieldType {
    /// Writes the type as a Rust user writes it, such as `Vec<String>` or `Option<CourseKey>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::String => f.write_str("String"),
            FieldType::Boolean => f.write_str("bool"),
            FieldType::Int => f.write_str("i32"),
            FieldType::Long => f.write_str("i64"),
            FieldType::Double => f.write_str("f64"),
            FieldType::DateTime => f.write_str("DateTime<Utc>"),
            FieldType::Uuid => f.write_str("Uuid"),
            FieldType::OpaqueKey(name) | FieldType::Unserializable(name) => f.write_str(name),
            FieldType::List(inner) => write!(f, "Vec<{inner}>"),
            FieldType::Map(inner) => write!(f, "BTreeMap<String, {inner}>"),
            FieldType::Optional(inner) => write!(f, "Option<{inner}>"),
            FieldType::Record(data) => f.write_str(data.name),
        }
    }
}

/// A struct's description, recorded by `#[derive(EventData)]`.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub struct DataDescription {
    /// The struct's name, such as `CourseEnrollmentData`.
    pub name: &'static str,
    /// The module that defines it, such as `openedx_events_catalog::learning::data`.
    pub module_path: &'static str,
    /// Its doc comment, cleaned of the leading space of each line.
    pub doc: &'static str,
    /// Its fields, in declaration order.
    pub fields: &'static [FieldDescription],
}

impl DataDescription {
    /// Not public API. Used by code that `#[derive(EventData)]` generates.
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        module_path: &'static str,
        doc: &'static str,
        fields: &'static [FieldDescription],
    ) -> Self {
        DataDescription { name, module_path, doc, fields }
    }

    /// The field with this name, if there is one.
    pub fn field(&self, name: &str) -> Option<&'static FieldDescription> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// Whether every field, at every depth, has a wire form.
    pub fn is_serializable(&self) -> bool {
        self.fields.iter().all(|field| field.ty.is_serializable())
    }
}

/// One field of a [`DataDescription`].
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub struct FieldDescription {
    /// The field's name, which is also its key on the wire.
    pub name: &'static str,
    /// Its type.
    pub ty: &'static FieldType,
    /// Its doc comment, cleaned of the leading space of each line.
    pub doc: &'static str,
}

impl FieldDescription {
    /// Not public API. Used by code that `#[derive(EventData)]` generates.
    #[doc(hidden)]
    pub const fn new(name: &'static str, ty: &'static FieldType, doc: &'static str) -> Self {
        FieldDescription { name, ty, doc }
    }

    /// Whether the field may be absent (an `Option`; upstream's default of `None`).
    pub fn is_optional(&self) -> bool {
        matches!(self.ty, FieldType::Optional(_))
    }
}
