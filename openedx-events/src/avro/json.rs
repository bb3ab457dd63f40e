//! The JSON form of an event's data: upstream's "Avro record dict" (`AvroSignalSerializer.to_dict`),
//! nested objects with custom types as strings and null for `None`, so that JSON from a Python
//! tool reads into our types and back.

use std::fmt;

use super::path::FieldPath;

/// Why a JSON value does not fit an event's data, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    path: FieldPath,
    message: String,
}

impl JsonError {
    /// An error at the top level.
    pub fn new(message: impl fmt::Display) -> Self {
        JsonError { path: FieldPath::default(), message: message.to_string() }
    }

    /// A value of the wrong JSON kind.
    pub fn expected(what: &str, found: &serde_json::Value) -> Self {
        let found = match found {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::Object(_) => "an object",
        };
        JsonError::new(format!("expected {what}, found {found}"))
    }

    /// What was wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

super::path::path_methods!(JsonError);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() { f.write_str(&self.message) } else { write!(f, "at `{path}`: {}", self.message) }
    }
}

impl std::error::Error for JsonError {}
