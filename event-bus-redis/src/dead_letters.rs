//! Dead letters: what consumers moved aside to `{stream}-dead-letter`, listed and re-driven to
//! their stream with their original bytes, or deleted.

use openedx_events::event_bus::{ConsumeError, FIELD_NAMES, dead_letter_topic};
use redis::{RedisError, Value};

use crate::reply::{StreamEntry, entries_of};
use crate::settings::RedisSettings;
use crate::{COMMAND_TIMEOUT, client, connect, is_retryable};

/// A message kept in a dead-letter stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its id in the dead-letter stream.
    pub id: String,
    /// The original message's fields (upstream's eight).
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
    /// Why it was moved aside.
    pub error: String,
    /// How many times it was tried.
    pub attempts: u64,
    /// Its id in the original stream.
    pub original_id: String,
    /// The consumer group that gave up on it (empty when the dead letter does not say).
    pub group: String,
    /// The consumer, in that group, that moved it aside (empty when the dead letter does not say).
    pub consumer: String,
}

impl DeadLetter {
    /// Reads a dead letter from an entry of a dead-letter stream: the original message's fields,
    /// and the `error`, `attempts`, `original_id`, `group` and `consumer` the consumer added.
    pub fn from_entry(entry: StreamEntry) -> DeadLetter {
        into_dead_letter(entry)
    }
}

/// The dead letters of `topic` (without the prefix), oldest first.
pub fn dead_letters(settings: &RedisSettings, topic: &str) -> Result<Vec<DeadLetter>, ConsumeError> {
    let client = client(settings).map_err(ConsumeError::NotConfigured)?;
    let mut connection = connect(&client, COMMAND_TIMEOUT).map_err(backend)?;
    let stream = dead_letter_topic(&settings.full_topic(topic));
    let reply: Value = redis::cmd("XRANGE").arg(&stream).arg("-").arg("+").query(&mut connection).map_err(backend)?;
    Ok(entries_of(reply).into_iter().map(into_dead_letter).collect())
}

/// Produces dead letters of `topic` again to their original stream (all of them, or those with
/// these ids), with their original fields, and removes them from the dead-letter stream. Returns
/// how many were re-driven.
pub fn redrive(settings: &RedisSettings, topic: &str, ids: Option<&[String]>) -> Result<usize, ConsumeError> {
    let client = client(settings).map_err(ConsumeError::NotConfigured)?;
    let mut connection = connect(&client, COMMAND_TIMEOUT).map_err(backend)?;
    let stream = settings.full_topic(topic);
    let letters = dead_letters(settings, topic)?;
    let mut count = 0;
    for letter in letters.into_iter().filter(|l| ids.is_none_or(|ids| ids.contains(&l.id))) {
        let mut command = redis::cmd("XADD");
        command.arg(&stream).arg("MAXLEN").arg("~").arg(settings.stream_max_len).arg("*");
        for (name, value) in &letter.fields {
            command.arg(name.as_slice()).arg(value.as_slice());
        }
        command.query::<String>(&mut connection).map_err(backend)?;
        redis::cmd("XDEL")
            .arg(dead_letter_topic(&stream))
            .arg(&letter.id)
            .query::<()>(&mut connection)
            .map_err(backend)?;
        count += 1;
    }
    Ok(count)
}

/// Moves one dead letter back, in one step on the server: reads its entry, keeps the original
/// message's fields (`ARGV[3..]` are their names) byte for byte, deletes it from the dead-letter
/// stream and adds the fields to the stream. Returns the new entry's id, or nil when there was no
/// such dead letter. Being one script, two re-drives of one dead letter cannot both copy it.
const REDRIVE_ONE: &str = r"
local entries = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #entries == 0 then return false end
local wanted = {}
for i = 3, #ARGV do wanted[ARGV[i]] = true end
local fields, keep = entries[1][2], {}
for i = 1, #fields, 2 do
  if wanted[fields[i]] then
    keep[#keep + 1] = fields[i]
    keep[#keep + 1] = fields[i + 1]
  end
end
redis.call('XDEL', KEYS[2], ARGV[1])
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(keep))
";

/// The dead letters of `topic` with these ids, each with what its entry holds, or `None` when
/// the dead-letter stream has no entry with that id (bad id, or already re-driven or deleted).
/// Reads one entry per id, never the whole stream.
pub fn dead_letters_by_id(
    settings: &RedisSettings,
    topic: &str,
    ids: &[String],
) -> Result<Vec<(String, Option<DeadLetter>)>, ConsumeError> {
    let client = client(settings).map_err(ConsumeError::NotConfigured)?;
    let mut connection = connect(&client, COMMAND_TIMEOUT).map_err(backend)?;
    let stream = dead_letter_topic(&settings.full_topic(topic));
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        let reply: Value = redis::cmd("XRANGE").arg(&stream).arg(id).arg(id).query(&mut connection).map_err(backend)?;
        found.push((id.clone(), entries_of(reply).into_iter().next().map(into_dead_letter)));
    }
    Ok(found)
}

/// Re-drives the dead letters of `topic` with these ids: each is moved back to the topic's
/// stream with the original message's fields, byte for byte (never decoded and encoded again),
/// and removed from the dead-letter stream, atomically (one server-side script per dead letter).
/// Returns, for each id, the new entry's id in the stream, or `None` when there was no such dead
/// letter.
pub fn redrive_ids(
    settings: &RedisSettings,
    topic: &str,
    ids: &[String],
) -> Result<Vec<(String, Option<String>)>, ConsumeError> {
    let client = client(settings).map_err(ConsumeError::NotConfigured)?;
    let mut connection = connect(&client, COMMAND_TIMEOUT).map_err(backend)?;
    let stream = settings.full_topic(topic);
    let dead_letter_stream = dead_letter_topic(&stream);
    let mut moved = Vec::with_capacity(ids.len());
    for id in ids {
        let mut command = redis::cmd("EVAL");
        command.arg(REDRIVE_ONE).arg(2).arg(&stream).arg(&dead_letter_stream).arg(id).arg(settings.stream_max_len);
        command.arg(&FIELD_NAMES[..]);
        let new_id: Option<String> = command.query(&mut connection).map_err(backend)?;
        moved.push((id.clone(), new_id));
    }
    Ok(moved)
}

/// Deletes the dead letters of `topic` with these ids from its dead-letter stream. Returns, for
/// each id, whether there was such a dead letter.
pub fn delete_dead_letters(
    settings: &RedisSettings,
    topic: &str,
    ids: &[String],
) -> Result<Vec<(String, bool)>, ConsumeError> {
    let client = client(settings).map_err(ConsumeError::NotConfigured)?;
    let mut connection = connect(&client, COMMAND_TIMEOUT).map_err(backend)?;
    let stream = dead_letter_topic(&settings.full_topic(topic));
    let mut deleted = Vec::with_capacity(ids.len());
    for id in ids {
        let count: u64 = redis::cmd("XDEL").arg(&stream).arg(id).query(&mut connection).map_err(backend)?;
        deleted.push((id.clone(), count > 0));
    }
    Ok(deleted)
}

fn backend(error: RedisError) -> ConsumeError {
    ConsumeError::backend(is_retryable(&error), error)
}

fn into_dead_letter(entry: StreamEntry) -> DeadLetter {
    let text = |name: &str| {
        entry.fields.iter().find(|(k, _)| k == name.as_bytes()).map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    DeadLetter {
        error: text("error").unwrap_or_default(),
        attempts: text("attempts").and_then(|a| a.parse().ok()).unwrap_or(0),
        original_id: text("original_id").unwrap_or_default(),
        group: text("group").unwrap_or_default(),
        consumer: text("consumer").unwrap_or_default(),
        fields: entry
            .fields
            .iter()
            .filter(|(k, _)| FIELD_NAMES.iter().any(|n| n.as_bytes() == k.as_slice()))
            .cloned()
            .collect(),
        id: entry.id,
    }
}
