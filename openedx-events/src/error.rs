//! The crate's error types that are not about a receiver (those are in `dispatch`).

use std::fmt;

/// Why a JSON string is not upstream's form of [`EventsMetadata`](crate::EventsMetadata).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// The text is not JSON at all.
    #[error("event metadata is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The JSON is not an object.
    #[error("event metadata must be a JSON object")]
    NotAnObject,
    /// A required key is absent.
    #[error("event metadata has no `{0}`")]
    MissingField(&'static str),
    /// A key holds a value of the wrong kind or an unreadable value.
    #[error("event metadata has an invalid `{field}`: {reason}")]
    InvalidField {
        /// The key.
        field: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
}

impl MetadataError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        MetadataError::InvalidField { field, reason: reason.into() }
    }
}

/// No signal in this program has the event type that was asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type `{event_type}`; {}", KnownTypes(known))]
pub struct UnknownEventType {
    /// The event type that was asked for.
    pub event_type: String,
    /// Every event type this program knows, sorted.
    pub known: Vec<String>,
}

struct KnownTypes<'a>(&'a [String]);

impl fmt::Display for KnownTypes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("this program defines no events");
        }
        f.write_str("known event types: ")?;
        for (i, known) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(known)?;
        }
        Ok(())
    }
}

/// Several signals in this program declare the same event type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event type `{event_type}` is defined by more than one signal: {}", .definitions.join(", "))]
pub struct DuplicateEventType {
    /// The event type.
    pub event_type: &'static str,
    /// Where each signal is defined (`module::NAME`).
    pub definitions: Vec<&'static str>,
}

/// Every event type that more than one signal in this program declares, from
/// [`check_registry`](crate::check_registry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} event types are defined more than once: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct DuplicateEventTypes(pub Vec<DuplicateEventType>);

/// Why looking an event type up failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// No signal has the type.
    #[error(transparent)]
    Unknown(#[from] UnknownEventType),
    /// More than one signal has the type, so none is chosen.
    #[error(transparent)]
    Duplicate(#[from] DuplicateEventType),
}
