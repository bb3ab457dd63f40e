//! Sending an event inside the caller's transaction: receivers run as `send_event` runs them,
//! and the event's bus messages are written into the outbox table in that transaction.

use openedx_events::event_bus::{CaptureOutgoing, CapturedMessage, EventKey, header_values};
use openedx_events::{EventData, OutgoingEvent, ReceiverResponse};
use sqlx::PgConnection;

use crate::OutboxError;

/// Sends events inside a transaction: `SIGNAL.event(data).in_transaction(&mut tx)`.
///
/// Implemented for [`OutgoingEvent`], so it takes every option `event` does (the event time).
pub trait OutboxExt: Sized {
    /// The event, to be sent inside the transaction (or connection) `conn`; `&mut tx` of a
    /// `sqlx::Transaction<'_, Postgres>` coerces to it.
    fn in_transaction(self, conn: &mut PgConnection) -> InTransaction<'_, Self>;
}

impl<E: EventData> OutboxExt for OutgoingEvent<E> {
    fn in_transaction(self, conn: &mut PgConnection) -> InTransaction<'_, Self> {
        InTransaction { event: self, conn }
    }
}

/// An event on its way out inside a transaction, from [`OutboxExt::in_transaction`].
#[must_use = "an event is sent only by `send_async` or `try_send_async`"]
pub struct InTransaction<'c, T> {
    event: T,
    conn: &'c mut PgConnection,
}

impl<T> std::fmt::Debug for InTransaction<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InTransaction").finish_non_exhaustive()
    }
}

impl<E: EventData> InTransaction<'_, OutgoingEvent<E>> {
    /// Sends the event to every receiver, as `send_event_async` does (failures are captured in
    /// the responses), and writes its bus messages (the topics of its `outbox` and `on-commit`
    /// modes, see [`ProducerMode`](openedx_events::event_bus::ProducerMode)) into the outbox in
    /// this transaction. The responses are returned once the rows are written; an error means
    /// the rows could not be written, and the transaction should be rolled back.
    pub async fn send_async(self) -> Result<Vec<ReceiverResponse>, OutboxError> {
        let (responses, captured) = CaptureOutgoing::new(self.event.send_async()).await;
        write_messages(self.conn, &captured).await?;
        Ok(responses)
    }

    /// As [`send_async`](Self::send_async), but the first failing receiver stops the sending
    /// (as `try_send_async` does) and nothing is written.
    pub async fn try_send_async(self) -> Result<Vec<ReceiverResponse>, OutboxError> {
        let (responses, captured) = CaptureOutgoing::new(self.event.try_send_async()).await;
        let responses = responses?;
        write_messages(self.conn, &captured).await?;
        Ok(responses)
    }
}

/// Writes captured bus messages (from [`capture_outgoing`](openedx_events::event_bus::capture_outgoing))
/// into the outbox through `conn`, in their order, with one statement.
pub async fn write_messages(conn: &mut PgConnection, messages: &[CapturedMessage]) -> Result<(), OutboxError> {
    {
        match messages {
            [] => Ok(()),
            [message] => {
                let row = WireRow::of(message);
                sqlx::query(INSERT_ONE)
                    .bind(row.topic)
                    .bind(row.event_type)
                    .bind(row.event_id)
                    .bind(row.event_key_field)
                    .bind(row.event_key)
                    .bind(row.event_key_type)
                    .bind(row.headers)
                    .bind(row.event_data)
                    .execute(conn)
                    .await?;
                Ok(())
            }
            _ => {
                let rows: Vec<WireRow<'_>> = messages.iter().map(WireRow::of).collect();
                sqlx::query(INSERT_MANY)
                    .bind(rows.iter().map(|r| r.topic).collect::<Vec<_>>())
                    .bind(rows.iter().map(|r| r.event_type).collect::<Vec<_>>())
                    .bind(rows.iter().map(|r| r.event_id).collect::<Vec<_>>())
                    .bind(rows.iter().map(|r| r.event_key_field).collect::<Vec<_>>())
                    .bind(rows.iter().map(|r| r.event_key.clone()).collect::<Vec<_>>())
                    .bind(rows.iter().map(|r| r.event_key_type).collect::<Vec<_>>())
                    .bind(rows.iter().map(|r| r.headers.clone()).collect::<Vec<_>>())
                    .bind(rows.iter().map(|r| r.event_data).collect::<Vec<_>>())
                    .execute(conn)
                    .await?;
                Ok(())
            }
        }
    }
}

const INSERT_ONE: &str = "INSERT INTO openedx_events_outbox \
     (topic, event_type, event_id, event_key_field, event_key, event_key_type, headers, event_data) \
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)";

const INSERT_MANY: &str = "INSERT INTO openedx_events_outbox \
     (topic, event_type, event_id, event_key_field, event_key, event_key_type, headers, event_data) \
     SELECT t, e, i, kf, k, kt, h::jsonb, d FROM UNNEST($1::text[], $2::text[], $3::uuid[], $4::text[], \
     $5::text[], $6::text[], $7::text[], $8::bytea[]) WITH ORDINALITY AS u(t, e, i, kf, k, kt, h, d, n) ORDER BY n";

/// One message as its row's columns.
struct WireRow<'a> {
    topic: &'a str,
    event_type: &'a str,
    event_id: uuid::Uuid,
    event_key_field: Option<&'a str>,
    event_key: Option<String>,
    event_key_type: Option<&'static str>,
    headers: String,
    event_data: &'a [u8],
}

impl<'a> WireRow<'a> {
    fn of(message: &'a CapturedMessage) -> Self {
        WireRow {
            topic: &message.topic,
            event_type: &message.metadata.event_type,
            event_id: message.metadata.id,
            event_key_field: message.event_key_field.as_deref(),
            event_key: message.event_key.as_ref().map(EventKey::to_string),
            event_key_type: message.event_key.as_ref().map(EventKey::avro_type),
            headers: headers_json(&message.metadata),
            event_data: &message.event_data,
        }
    }
}

/// The metadata's header values as a JSON object keyed by their stream entry names.
pub(crate) fn headers_json(metadata: &openedx_events::EventsMetadata) -> String {
    let mut object = serde_json::Map::new();
    for (header, value) in header_values(metadata) {
        object.insert(header.entry_name().to_owned(), String::from_utf8_lossy(&value).into_owned().into());
    }
    serde_json::Value::Object(object).to_string()
}
