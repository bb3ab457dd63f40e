//! [`RedisProducer`]: each event added to its topic's stream with upstream's fields, on one
//! connection kept between sends.

use std::sync::{Mutex, PoisonError};

use openedx_events::EventsMetadata;
use openedx_events::event_bus::{EventBusProducer, OutgoingMessage, ProduceError, message_fields};
use redis::{Client, Connection, ErrorKind, FromRedisValue as _, RedisError, RedisResult};

use crate::settings::RedisSettings;
use crate::{COMMAND_TIMEOUT, client, connect, is_retryable};

/// Produces events to Redis streams.
pub struct RedisProducer {
    client: Client,
    connection: Mutex<Option<Connection>>,
    settings: RedisSettings,
}

impl std::fmt::Debug for RedisProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisProducer").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl RedisProducer {
    /// A producer for these settings; it connects on first use and again after a failure.
    pub fn new(settings: RedisSettings) -> Result<Self, ProduceError> {
        let client = client(&settings).map_err(ProduceError::NotConfigured)?;
        Ok(RedisProducer { client, connection: Mutex::new(None), settings })
    }

    /// The settings.
    pub fn settings(&self) -> &RedisSettings {
        &self.settings
    }

    fn xadd(&self, full_topic: &str, metadata: &EventsMetadata, event_data: &[u8]) -> redis::Cmd {
        let fields = message_fields(metadata, event_data);
        // Sized beforehand: growing the command's buffers argument by argument was over a quarter
        // of producing a batch. (`XADD`, `MAXLEN`, `~`, the number and `*` take at most 32 bytes.)
        let size = full_topic.len() + 32 + fields.iter().map(|(name, value)| name.len() + value.len()).sum::<usize>();
        let mut command = redis::Cmd::with_capacity(6 + 2 * fields.len(), size);
        command.arg("XADD").arg(full_topic).arg("MAXLEN").arg("~").arg(self.settings.stream_max_len).arg("*");
        for (name, value) in fields {
            command.arg(name).arg(value.as_ref());
        }
        command
    }

    /// The start of every `XADD` to `full_topic`, packed in Redis's protocol: the argument count
    /// and `XADD full_topic MAXLEN ~ n *`. Made once per topic of a batch.
    fn xadd_head(&self, full_topic: &str) -> Vec<u8> {
        let mut head = Vec::with_capacity(64 + full_topic.len());
        head.push(b'*');
        push_decimal(&mut head, 6 + 2 * FIELD_COUNT);
        head.extend_from_slice(b"\r\n");
        let max_len = self.settings.stream_max_len.to_string();
        for arg in [&b"XADD"[..], full_topic.as_bytes(), b"MAXLEN", b"~", max_len.as_bytes(), b"*"] {
            push_bulk(&mut head, arg);
        }
        head
    }

    /// Runs commands on the connection, connecting first if needed; a failed connection is
    /// dropped so the next call starts afresh.
    ///
    /// A connection kept from an earlier call may have been closed since (Redis restarted, or
    /// closed it for idleness), which shows only when it is used: then the commands are run once
    /// more on a new connection, so that the first event after a restart is not lost. (Should
    /// Redis have run them before the connection dropped, they run twice: the bus delivers at
    /// least once.) A timeout is not retried: Redis is there but slow.
    fn with_connection<T>(&self, run: impl Fn(&mut Connection) -> RedisResult<T>) -> RedisResult<T> {
        let mut slot = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let reused = slot.is_some();
        match self.run_on(&mut slot, &run) {
            Err(e) if reused && e.is_connection_dropped() && !e.is_timeout() => self.run_on(&mut slot, &run),
            result => result,
        }
    }

    fn run_on<T>(
        &self,
        slot: &mut Option<Connection>,
        run: &impl Fn(&mut Connection) -> RedisResult<T>,
    ) -> RedisResult<T> {
        if slot.is_none() {
            *slot = Some(connect(&self.client, COMMAND_TIMEOUT)?);
        }
        let Some(connection) = slot.as_mut() else {
            return Err(RedisError::from((ErrorKind::Client, "no connection")));
        };
        let result = run(connection);
        if result.as_ref().is_err_and(|e| e.is_io_error() || e.is_connection_dropped() || e.is_timeout()) {
            *slot = None;
        }
        result
    }

    /// Adds one event to a full (already prefixed) topic; returns the stream entry's id.
    pub fn send_to_stream(
        &self,
        full_topic: &str,
        metadata: &EventsMetadata,
        event_data: &[u8],
    ) -> Result<String, ProduceError> {
        let command = self.xadd(full_topic, metadata, event_data);
        self.with_connection(|connection| command.query::<String>(connection))
            .map_err(|e| ProduceError::backend(metadata.event_type.to_string(), full_topic, is_retryable(&e), e))
    }

    /// Adds many events in one round trip (a pipeline); each is `(topic without prefix,
    /// metadata, Avro bytes)`. Returns the entries' ids.
    ///
    /// The pipeline goes out in pieces of 64 commands as they are built, so that
    /// Redis adds the first events on its core while this process encodes the next on another;
    /// the replies are read after the last piece.
    pub fn send_entries(&self, events: &[(&str, &EventsMetadata, &[u8])]) -> Result<Vec<String>, ProduceError> {
        self.with_connection(|connection| {
            // Events of a batch mostly go to one topic: the start of its commands is made once.
            // Each command is packed straight into the piece being written; building a
            // `redis::Cmd` for each and packing that copied every event twice and was a fifth
            // of producing a batch.
            let mut head: Option<(&str, Vec<u8>)> = None;
            let mut packed = Vec::new();
            for (index, (topic, metadata, event_data)) in events.iter().enumerate() {
                if head.as_ref().is_none_or(|(last, _)| last != topic) {
                    head = Some((topic, self.xadd_head(&self.settings.full_topic(topic))));
                }
                packed.extend_from_slice(head.as_ref().map_or(&[][..], |(_, head)| head.as_slice()));
                for (name, value) in message_fields(metadata, event_data) {
                    push_bulk(&mut packed, name.as_bytes());
                    push_bulk(&mut packed, &value);
                }
                if (index + 1) % WRITE_CHUNK == 0 {
                    connection.send_packed_command(&packed)?;
                    packed.clear();
                }
            }
            if !packed.is_empty() {
                connection.send_packed_command(&packed)?;
            }
            // Every reply is read, even after an error, so that the connection stays in step.
            let mut ids = Vec::with_capacity(events.len());
            let mut refused = None;
            for _ in events {
                match connection.recv_response()?.extract_error() {
                    Ok(id) => ids.push(String::from_redis_value(id)?),
                    Err(error) => {
                        refused.get_or_insert(error);
                    }
                }
            }
            refused.map_or(Ok(ids), Err)
        })
        .map_err(|e| {
            let topic = events.first().map(|(topic, _, _)| self.settings.full_topic(topic)).unwrap_or_default();
            ProduceError::backend(format!("{} events", events.len()), topic, is_retryable(&e), e)
        })
    }
}

/// How many `XADD`s [`RedisProducer::send_entries`] writes at a time: large enough that a write
/// carries many events (about 30 KB), small enough that Redis starts early.
const WRITE_CHUNK: usize = 64;

/// How many fields an event's stream entry has (upstream's eight).
const FIELD_COUNT: usize = openedx_events::event_bus::FIELD_NAMES.len();

/// Appends one bulk string of Redis's protocol: `$len`, CRLF, the bytes, CRLF.
fn push_bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'$');
    push_decimal(out, bytes.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

fn push_decimal(out: &mut Vec<u8>, mut value: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

impl EventBusProducer for RedisProducer {
    /// Adds the event to its topic's stream. Streams do not partition, so the key field is not
    /// used.
    fn send(&self, message: &OutgoingMessage<'_>) -> Result<(), ProduceError> {
        self.send_to_stream(&self.settings.full_topic(message.topic), message.metadata, message.event_data).map(drop)
    }

    /// Adds the events in one pipeline, one round trip: all succeed or, if Redis could not be
    /// reached, all fail alike.
    fn send_batch(&self, messages: &[OutgoingMessage<'_>]) -> Vec<Result<(), ProduceError>> {
        let entries: Vec<(&str, &EventsMetadata, &[u8])> =
            messages.iter().map(|message| (message.topic, message.metadata, message.event_data)).collect();
        match self.send_entries(&entries) {
            Ok(_) => messages.iter().map(|_| Ok(())).collect(),
            Err(error) => {
                let retryable = error.is_retryable();
                let reason = error.to_string();
                messages
                    .iter()
                    .map(|message| {
                        let topic = self.settings.full_topic(message.topic);
                        Err(ProduceError::backend(
                            message.metadata.event_type.to_string(),
                            topic,
                            retryable,
                            reason.clone(),
                        ))
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_packed_by_hand_are_the_bytes_redis_rs_packs() {
        let mut settings = RedisSettings::default().with_url("redis://127.0.0.1:6379");
        settings.stream_max_len = 10_000;
        let producer = RedisProducer::new(settings).unwrap();
        let mut metadata = EventsMetadata::new("org.openedx.learning.thing.happened.v1");
        metadata.source = "openedx/lms/web".into();
        let event_data = b"\x02\r\n\x00abc".as_slice();
        let mut packed = producer.xadd_head("prefix-things");
        for (name, value) in message_fields(&metadata, event_data) {
            push_bulk(&mut packed, name.as_bytes());
            push_bulk(&mut packed, &value);
        }
        assert_eq!(packed, producer.xadd("prefix-things", &metadata, event_data).get_packed_command());
        for value in [0, 7, 10, 99, 12_345, usize::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, value);
            assert_eq!(out, value.to_string().as_bytes());
        }
    }
}
