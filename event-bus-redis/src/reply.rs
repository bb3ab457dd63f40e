//! Reading Redis replies: stream entries and pending-entry lists, moved out of the reply rather
//! than copied, and server errors found without rebuilding the reply.

use redis::{Connection, ConnectionLike as _, RedisResult, Value};

/// One entry read from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The stream id (`1700000000000-0`).
    pub id: String,
    /// The fields, in order.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The entries of an `XREADGROUP` reply (`[[stream, [entry, ...]], ...]`, or a map in RESP3).
pub(crate) fn read_reply_entries(reply: Value) -> Vec<StreamEntry> {
    match reply {
        Value::Array(streams) => streams
            .into_iter()
            .flat_map(|stream| match stream {
                Value::Array(mut parts) if parts.len() == 2 => entries_of(parts.swap_remove(1)),
                _ => Vec::new(),
            })
            .collect(),
        Value::Map(streams) => streams.into_iter().flat_map(|(_, entries)| entries_of(entries)).collect(),
        _ => Vec::new(),
    }
}

/// Stream entries (`[[id, [field, value, ...]], ...]`); a deleted entry has no fields.
///
/// The reply's strings are moved into the entries, not copied.
pub(crate) fn entries_of(reply: Value) -> Vec<StreamEntry> {
    let Value::Array(entries) = reply else { return Vec::new() };
    entries
        .into_iter()
        .filter_map(|entry| {
            let Value::Array(parts) = entry else { return None };
            let mut parts = parts.into_iter();
            let id = into_string(parts.next()?)?;
            let fields = match parts.next() {
                Some(Value::Array(items)) => {
                    let mut fields = Vec::with_capacity(items.len() / 2);
                    let mut items = items.into_iter();
                    // Pairs; an odd last item is left out.
                    while let (Some(name), Some(value)) = (items.next(), items.next()) {
                        if let (Some(name), Some(value)) = (into_bytes(name), into_bytes(value)) {
                            fields.push((name, value));
                        }
                    }
                    fields
                }
                Some(Value::Map(pairs)) => {
                    pairs.into_iter().filter_map(|(k, v)| Some((into_bytes(k)?, into_bytes(v)?))).collect()
                }
                _ => Vec::new(),
            };
            Some(StreamEntry { id, fields })
        })
        .collect()
}

/// Runs a command as `query::<Value>` does, returning the first server error anywhere in the
/// reply as the error, but without rebuilding the whole reply to find it (which cost an eighth
/// of consuming a batch).
pub(crate) fn query_value(command: &redis::Cmd, connection: &mut Connection) -> RedisResult<Value> {
    checked(connection.req_command(command)?)
}

/// The reply, or the first server error anywhere in it.
pub(crate) fn checked(reply: Value) -> RedisResult<Value> {
    match first_server_error(&reply) {
        Some(error) => Err(error.clone().into()),
        None => Ok(reply),
    }
}

/// The first server error in a reply, in the order `Value::extract_error` looks.
fn first_server_error(value: &Value) -> Option<&redis::ServerError> {
    fn in_pairs(pairs: &[(Value, Value)]) -> Option<&redis::ServerError> {
        pairs.iter().find_map(|(key, value)| first_server_error(key).or_else(|| first_server_error(value)))
    }
    match value {
        Value::ServerError(error) => Some(error),
        Value::Array(items) | Value::Set(items) | Value::Push { data: items, .. } => {
            items.iter().find_map(first_server_error)
        }
        Value::Map(pairs) => in_pairs(pairs),
        Value::Attribute { data, attributes } => first_server_error(data).or_else(|| in_pairs(attributes)),
        _ => None,
    }
}

pub(crate) fn pending_ids(reply: &Value) -> Vec<String> {
    match reply {
        Value::Array(rows) => rows
            .iter()
            .filter_map(|row| match row {
                Value::Array(cells) => cells.first().and_then(as_string),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn as_bytes(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes.clone()),
        Value::SimpleString(text) => Some(text.clone().into_bytes()),
        _ => None,
    }
}

pub(crate) fn as_string(value: &Value) -> Option<String> {
    as_bytes(value).and_then(|bytes| String::from_utf8(bytes).ok())
}

fn into_bytes(value: Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.into_bytes()),
        _ => None,
    }
}

fn into_string(value: Value) -> Option<String> {
    into_bytes(value).and_then(|bytes| String::from_utf8(bytes).ok())
}

pub(crate) fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Int(n) => u64::try_from(*n).ok(),
        other => as_string(other).and_then(|s| s.parse().ok()),
    }
}
