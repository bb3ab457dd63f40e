//! Dead letters: what consumers moved aside to `{stream}-dead-letter`, listed and re-driven to
//! their stream with their original bytes.

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
        fields: entry
            .fields
            .iter()
            .filter(|(k, _)| FIELD_NAMES.iter().any(|n| n.as_bytes() == k.as_slice()))
            .cloned()
            .collect(),
        id: entry.id,
    }
}
