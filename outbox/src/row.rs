//! An outbox row read back as a message a producer can send.

use openedx_events::event_bus::{EventKey, MetadataHeader, OutgoingMessage, metadata_from_headers};
use openedx_events::{AnySignal, EventsMetadata, get_signal_by_type};
use sqlx::Row as _;
use sqlx::postgres::PgRow;

/// A pending row, read for relaying.
pub(crate) struct PendingRow {
    pub(crate) id: i64,
    pub(crate) topic: String,
    pub(crate) event_type: String,
    pub(crate) event_key_field: Option<String>,
    pub(crate) event_key: Option<String>,
    pub(crate) event_key_type: Option<String>,
    pub(crate) headers: String,
    pub(crate) event_data: Vec<u8>,
    pub(crate) attempts: i32,
}

impl PendingRow {
    pub(crate) fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(PendingRow {
            id: row.try_get("id")?,
            topic: row.try_get("topic")?,
            event_type: row.try_get("event_type")?,
            event_key_field: row.try_get("event_key_field")?,
            event_key: row.try_get("event_key")?,
            event_key_type: row.try_get("event_key_type")?,
            headers: row.try_get("headers")?,
            event_data: row.try_get("event_data")?,
            attempts: row.try_get("attempts")?,
        })
    }

    /// The row as a message, or why it cannot be one (then it is poisoned: it fails for good).
    pub(crate) fn prepare(self) -> Result<PreparedRow, (i64, i32, String)> {
        let Some(signal) = get_signal_by_type(&self.event_type) else {
            let why = format!("no event of type `{}` in this program", self.event_type);
            return Err((self.id, self.attempts, why));
        };
        let headers: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(&self.headers) {
            Ok(headers) => headers,
            Err(error) => {
                let why = format!("the row's headers are not a JSON object: {error}");
                return Err((self.id, self.attempts, why));
            }
        };
        let metadata = metadata_from_headers(
            |header| headers.get(header.entry_name()).and_then(|v| v.as_str()).map(str::as_bytes),
            MetadataHeader::entry_name,
        );
        let metadata = match metadata {
            Ok(metadata) => metadata,
            Err(error) => {
                let why = format!("the row's headers are unusable: {error}");
                return Err((self.id, self.attempts, why));
            }
        };
        let event_key = match (self.event_key.as_deref(), self.event_key_type.as_deref()) {
            (Some(text), Some("string") | None) => Some(EventKey::String(text.to_owned())),
            (Some(text), Some("long")) => text.parse().ok().map(EventKey::Long),
            (Some(text), Some("boolean")) => text.parse().ok().map(EventKey::Boolean),
            (Some(text), Some("double")) => text.parse().ok().map(EventKey::Double),
            _ => None,
        };
        if self.event_key.is_some() && event_key.is_none() {
            let why = format!("the row's key {:?} is not a {:?}", self.event_key, self.event_key_type);
            return Err((self.id, self.attempts, why));
        }
        Ok(PreparedRow { row: self, signal, metadata, event_key })
    }
}

/// A row ready to send.
pub(crate) struct PreparedRow {
    pub(crate) row: PendingRow,
    signal: &'static dyn AnySignal,
    metadata: EventsMetadata,
    event_key: Option<EventKey>,
}

impl PreparedRow {
    pub(crate) fn as_outgoing(&self) -> OutgoingMessage<'_> {
        OutgoingMessage::new(
            self.signal,
            &self.row.topic,
            self.row.event_key_field.as_deref(),
            &self.row.event_data,
            &self.metadata,
        )
        .with_key(self.event_key.as_ref())
    }
}
