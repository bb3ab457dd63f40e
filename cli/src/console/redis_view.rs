//! [`RedisView`]: the console's reads of Redis Streams, each a few commands in one or two round
//! trips (never `KEYS`, never a whole-stream read), and its changes through the backend's
//! dead-letter functions.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use openedx_events::event_bus::dead_letter_topic;
use openedx_events_redis::{DeadLetter, RedisSettings, StreamEntry};
use redis::{Client, Connection, Value};

use super::view::{
    BusView, Change, ConsumerSummary, DeadLetterPage, DeadLetterRow, Entry, EventPage, EventQuery, GroupSummary,
    Overview, TopicSummary, ViewError, ViewResult,
};

/// How long connecting and each command may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How many keys one `SCAN` call looks at.
const SCAN_COUNT: usize = 1000;
/// The most entries one filtered topic page looks at before it stops and says where.
pub(crate) const SCAN_LIMIT: usize = 10_000;
/// Entries read per round trip while a filtered page scans.
const SCAN_BATCH: usize = 500;
/// The suffix of a dead-letter stream.
const DEAD_LETTER_SUFFIX: &str = "-dead-letter";
/// Connections kept for the next request.
const POOL: usize = 4;

/// Redis Streams under one topic prefix.
pub(crate) struct RedisView {
    settings: RedisSettings,
    client: Client,
    /// The redacted URL, for the page and errors.
    url: String,
    /// `{prefix}-`, or empty when there is no prefix (then every stream is a topic).
    key_prefix: String,
    pool: Mutex<Vec<Connection>>,
}

impl RedisView {
    /// A view of the streams under the settings' prefix; connects on first use. An error when
    /// the URL is not a Redis URL (said without the password).
    pub(crate) fn new(settings: RedisSettings) -> Result<RedisView, String> {
        let url = settings.url.as_ref().ok_or("no Redis URL")?;
        let shown = url.to_string();
        // Only the category: redis-rs's message may quote the URL.
        let client = Client::open(url.expose()).map_err(|e| format!("invalid Redis URL {shown}: {}", e.category()))?;
        let key_prefix = match settings.topic_prefix.as_deref() {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}-"),
            _ => String::new(),
        };
        Ok(RedisView { settings, client, url: shown, key_prefix, pool: Mutex::new(Vec::new()) })
    }

    /// The topic of a stream: its name without the prefix.
    fn topic_of(&self, stream: &str) -> String {
        stream.strip_prefix(&self.key_prefix).unwrap_or(stream).to_owned()
    }

    fn error(&self, error: &redis::RedisError) -> ViewError {
        ViewError::Backend { bus: "Redis", url: self.url.clone(), message: error.to_string() }
    }

    /// Runs `work` on a pooled connection, connecting first if none is free; a connection that
    /// failed is dropped, not returned to the pool.
    fn with_connection<T>(&self, work: impl FnOnce(&mut Connection) -> redis::RedisResult<T>) -> ViewResult<T> {
        let pooled = self.pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut connection = match pooled {
            Some(connection) => connection,
            None => {
                let connection = self.client.get_connection_with_timeout(TIMEOUT).map_err(|e| self.error(&e))?;
                connection.set_read_timeout(Some(TIMEOUT)).map_err(|e| self.error(&e))?;
                connection.set_write_timeout(Some(TIMEOUT)).map_err(|e| self.error(&e))?;
                connection
            }
        };
        let result = work(&mut connection);
        match &result {
            Err(error) if error.is_io_error() || error.is_connection_dropped() || error.is_timeout() => {}
            _ => {
                let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
                if pool.len() < POOL {
                    pool.push(connection);
                }
            }
        }
        result.map_err(|e| self.error(&e))
    }

    /// Every stream under the prefix, by `SCAN … TYPE stream`.
    fn streams(&self, connection: &mut Connection) -> redis::RedisResult<Vec<String>> {
        let pattern = format!("{}*", glob_escape(&self.key_prefix));
        let mut cursor = 0u64;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .arg("TYPE")
                .arg("stream")
                .query(connection)?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    fn dead_letters_with_settings<T>(
        &self,
        stream: &str,
        change: impl FnOnce(&RedisSettings, &str) -> Result<T, openedx_events::event_bus::ConsumeError>,
    ) -> ViewResult<T> {
        change(&self.settings, &self.topic_of(stream)).map_err(|error| ViewError::Backend {
            bus: "Redis",
            url: self.url.clone(),
            message: error.to_string(),
        })
    }
}

impl BusView for RedisView {
    fn id(&self) -> &'static str {
        "redis"
    }

    fn describe(&self) -> String {
        match self.key_prefix.strip_suffix('-') {
            Some(prefix) => format!("Redis at {}, topic prefix `{prefix}`", self.url),
            None => format!("Redis at {}, no topic prefix", self.url),
        }
    }

    fn stuck_after_ms(&self) -> u64 {
        u64::try_from(self.settings.claim_idle_time.as_millis()).unwrap_or(u64::MAX)
    }

    fn owns(&self, stream: &str) -> bool {
        stream.starts_with(&self.key_prefix) && stream.len() > self.key_prefix.len()
    }

    fn overview(&self) -> ViewResult<Overview> {
        self.with_connection(|connection| {
            let keys = self.streams(connection)?;
            // Topics: every stream that is not a dead-letter stream, and the topic of every
            // dead-letter stream (whose own stream may be gone).
            let mut topics: Vec<String> = keys
                .iter()
                .map(|key| key.strip_suffix(DEAD_LETTER_SUFFIX).unwrap_or(key).to_owned())
                .filter(|topic| self.owns(topic))
                .collect();
            topics.sort();
            topics.dedup();
            let exists = |name: &str| keys.binary_search_by(|key| key.as_str().cmp(name)).is_ok();
            // Redis refuses an empty pipeline: a prefix with no streams yet has nothing to ask.
            if topics.is_empty() {
                return Ok(Overview { topics: Vec::new() });
            }

            // One round trip for every topic: its length, newest entry, groups and dead letters.
            let mut pipe = redis::pipe();
            for topic in &topics {
                pipe.cmd("XLEN").arg(topic);
                pipe.cmd("XREVRANGE").arg(topic).arg("+").arg("-").arg("COUNT").arg(1);
                if exists(topic) {
                    pipe.cmd("XINFO").arg("GROUPS").arg(topic);
                }
                pipe.cmd("XLEN").arg(dead_letter_topic(topic));
            }
            let mut replies = pipe.ignore_errors().query::<Vec<redis::RedisResult<Value>>>(connection)?.into_iter();
            let mut summaries = Vec::with_capacity(topics.len());
            for topic in &topics {
                let stream_exists = exists(topic);
                let length = replies.next().and_then(|r| r.ok()).as_ref().and_then(as_u64).unwrap_or(0);
                let newest = replies
                    .next()
                    .and_then(|r| r.ok())
                    .and_then(|reply| entries(reply).into_iter().next())
                    .and_then(|entry| Some((entry.id.clone(), entry.time_ms?)));
                let groups = if stream_exists {
                    // A stream deleted since the scan has no groups: not an error of the page.
                    replies.next().and_then(|r| r.ok()).map(groups_of).unwrap_or_default()
                } else {
                    Vec::new()
                };
                let dead_letters = replies.next().and_then(|r| r.ok()).as_ref().and_then(as_u64).unwrap_or(0);
                summaries.push(TopicSummary {
                    stream: topic.clone(),
                    exists: stream_exists,
                    length,
                    newest,
                    groups,
                    dead_letters,
                });
            }

            // A second round trip: the consumers of every group.
            let mut pipe = redis::pipe();
            for summary in &summaries {
                for group in &summary.groups {
                    pipe.cmd("XINFO").arg("CONSUMERS").arg(&summary.stream).arg(&group.name);
                }
            }
            if !pipe.is_empty() {
                let mut replies = pipe.ignore_errors().query::<Vec<redis::RedisResult<Value>>>(connection)?.into_iter();
                for summary in &mut summaries {
                    for group in &mut summary.groups {
                        group.consumers = replies.next().and_then(|r| r.ok()).map(consumers_of).unwrap_or_default();
                    }
                }
            }
            Ok(Overview { topics: summaries })
        })
    }

    fn events(&self, stream: &str, query: &EventQuery) -> ViewResult<EventPage> {
        let count = query.count.max(1);
        // `XREVRANGE stream end start`: the end is the page's cursor (exclusive) or the range's
        // end, the start the range's start; incomplete ids cover their whole millisecond.
        let mut end = match (&query.before, query.until_ms) {
            (Some(before), _) => format!("({before}"),
            (None, Some(until)) => until.to_string(),
            (None, None) => "+".to_owned(),
        };
        let start = query.since_ms.map_or_else(|| "-".to_owned(), |since| since.to_string());
        let matches = |entry: &Entry| {
            query.event_type.as_deref().is_none_or(|wanted| entry.field("type") == Some(wanted.as_bytes()))
                && query.event_id.as_deref().is_none_or(|wanted| entry.field("id") == Some(wanted.as_bytes()))
        };
        self.with_connection(|connection| {
            let mut page = EventPage::default();
            if !query.filters() {
                // One read: a page and one more, to know whether there is an older page.
                let reply: Value = redis::cmd("XREVRANGE")
                    .arg(stream)
                    .arg(&end)
                    .arg(&start)
                    .arg("COUNT")
                    .arg(count + 1)
                    .query(connection)?;
                let mut found = entries(reply);
                page.scanned = found.len();
                if found.len() > count {
                    found.truncate(count);
                    page.older = found.last().map(|entry| entry.id.clone());
                }
                page.entries = found;
                return Ok(page);
            }
            // Filtered: read back in batches until the page is full, the range ends, or the scan
            // limit is reached (then the page says where it stopped).
            loop {
                let reply: Value = redis::cmd("XREVRANGE")
                    .arg(stream)
                    .arg(&end)
                    .arg(&start)
                    .arg("COUNT")
                    .arg(SCAN_BATCH)
                    .query(connection)?;
                let batch = entries(reply);
                let exhausted = batch.len() < SCAN_BATCH;
                for entry in batch {
                    page.scanned += 1;
                    end = format!("({}", entry.id);
                    if matches(&entry) {
                        if page.entries.len() == count {
                            // A match past the page: the next page starts after the last shown.
                            page.older = page.entries.last().map(|shown| shown.id.clone());
                            return Ok(page);
                        }
                        page.entries.push(entry);
                    }
                }
                if exhausted {
                    return Ok(page);
                }
                if page.scanned >= SCAN_LIMIT {
                    let last = end.trim_start_matches('(').to_owned();
                    page.stopped_at = Some(last.clone());
                    page.older = Some(last);
                    return Ok(page);
                }
            }
        })
    }

    fn entry(&self, stream: &str, id: &str) -> ViewResult<Option<Entry>> {
        self.with_connection(|connection| {
            let reply: Value = redis::cmd("XRANGE").arg(stream).arg(id).arg(id).query(connection)?;
            Ok(entries(reply).into_iter().next())
        })
    }

    fn dead_letters(&self, stream: &str, before: Option<&str>, count: usize) -> ViewResult<DeadLetterPage> {
        let dead_letter_stream = dead_letter_topic(stream);
        let end = before.map_or_else(|| "+".to_owned(), |before| format!("({before}"));
        let count = count.max(1);
        self.with_connection(|connection| {
            let (total, reply): (u64, Value) = redis::pipe()
                .cmd("XLEN")
                .arg(&dead_letter_stream)
                .cmd("XREVRANGE")
                .arg(&dead_letter_stream)
                .arg(&end)
                .arg("-")
                .arg("COUNT")
                .arg(count + 1)
                .query(connection)?;
            let mut rows: Vec<DeadLetterRow> = entries(reply).into_iter().map(dead_letter_row).collect();
            let mut older = None;
            if rows.len() > count {
                rows.truncate(count);
                older = rows.last().map(|row| row.id.clone());
            }
            Ok(DeadLetterPage { rows, total, older })
        })
    }

    fn dead_letter_ids(&self, stream: &str, limit: usize) -> ViewResult<Vec<String>> {
        let dead_letter_stream = dead_letter_topic(stream);
        self.with_connection(|connection| {
            let reply: Value = redis::cmd("XRANGE")
                .arg(&dead_letter_stream)
                .arg("-")
                .arg("+")
                .arg("COUNT")
                .arg(limit)
                .query(connection)?;
            Ok(entries(reply).into_iter().map(|entry| entry.id).collect())
        })
    }

    fn redrive(&self, stream: &str, ids: &[String], dry_run: bool) -> ViewResult<Vec<(String, Change)>> {
        if dry_run {
            return self.preview(stream, ids);
        }
        let moved = self.dead_letters_with_settings(stream, |settings, topic| {
            openedx_events_redis::redrive_ids(settings, topic, ids)
        })?;
        Ok(moved.into_iter().map(|(id, new_id)| (id, new_id.map_or(Change::Missing, Change::Moved))).collect())
    }

    fn delete(&self, stream: &str, ids: &[String], dry_run: bool) -> ViewResult<Vec<(String, Change)>> {
        if dry_run {
            return self.preview(stream, ids);
        }
        let deleted = self.dead_letters_with_settings(stream, |settings, topic| {
            openedx_events_redis::delete_dead_letters(settings, topic, ids)
        })?;
        Ok(deleted.into_iter().map(|(id, gone)| (id, if gone { Change::Deleted } else { Change::Missing })).collect())
    }
}

impl RedisView {
    /// What a change of these dead letters would touch: each one that is there.
    fn preview(&self, stream: &str, ids: &[String]) -> ViewResult<Vec<(String, Change)>> {
        let found = self.dead_letters_with_settings(stream, |settings, topic| {
            openedx_events_redis::dead_letters_by_id(settings, topic, ids)
        })?;
        Ok(found
            .into_iter()
            .map(|(id, letter)| {
                let change = letter.map_or(Change::Missing, |letter| Change::Would(row_of(letter)));
                (id, change)
            })
            .collect())
    }
}

/// A pattern for `SCAN MATCH` that matches `literal` exactly.
fn glob_escape(literal: &str) -> String {
    let mut escaped = String::with_capacity(literal.len());
    for c in literal.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The milliseconds of a stream id (`1700000000000-0`).
pub(crate) fn id_time(id: &str) -> Option<i64> {
    id.split('-').next()?.parse().ok()
}

/// Stream entries of an `XRANGE`/`XREVRANGE` reply.
fn entries(reply: Value) -> Vec<Entry> {
    let Value::Array(items) = reply else { return Vec::new() };
    items
        .into_iter()
        .filter_map(|item| {
            let Value::Array(parts) = item else { return None };
            let mut parts = parts.into_iter();
            let id = text(parts.next()?)?;
            let fields = match parts.next() {
                Some(Value::Array(values)) => {
                    let mut fields = Vec::with_capacity(values.len() / 2);
                    let mut values = values.into_iter();
                    while let (Some(name), Some(value)) = (values.next(), values.next()) {
                        if let (Some(name), Some(value)) = (bytes(name), bytes(value)) {
                            fields.push((name, value));
                        }
                    }
                    fields
                }
                Some(Value::Map(pairs)) => {
                    pairs.into_iter().filter_map(|(name, value)| Some((bytes(name)?, bytes(value)?))).collect()
                }
                _ => Vec::new(),
            };
            Some(Entry { time_ms: id_time(&id), id, fields })
        })
        .collect()
}

fn dead_letter_row(entry: Entry) -> DeadLetterRow {
    row_of(DeadLetter::from_entry(StreamEntry { id: entry.id, fields: entry.fields }))
}

fn row_of(letter: DeadLetter) -> DeadLetterRow {
    let event_type = letter
        .fields
        .iter()
        .find(|(name, _)| name == b"type")
        .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
        .unwrap_or_default();
    DeadLetterRow {
        time_ms: id_time(&letter.id),
        id: letter.id,
        original_id: letter.original_id,
        event_type,
        error: letter.error,
        attempts: letter.attempts,
        group: letter.group,
        consumer: letter.consumer,
    }
}

/// The groups of an `XINFO GROUPS` reply: one map (or flat key-value array) per group.
fn groups_of(reply: Value) -> Vec<GroupSummary> {
    let Value::Array(groups) = reply else { return Vec::new() };
    let mut groups: Vec<GroupSummary> = groups
        .into_iter()
        .map(|group| {
            let info = pairs(group);
            let get = |key: &str| info.iter().find(|(name, _)| name == key).map(|(_, value)| value);
            GroupSummary {
                name: get("name").and_then(as_text).unwrap_or_default(),
                lag: get("lag").and_then(as_u64),
                pending: get("pending").and_then(as_u64),
                entries_read: get("entries-read").and_then(as_u64),
                last_delivered: get("last-delivered-id").and_then(as_text).unwrap_or_default(),
                consumers: Vec::new(),
            }
        })
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    groups
}

/// The consumers of an `XINFO CONSUMERS` reply.
fn consumers_of(reply: Value) -> Vec<ConsumerSummary> {
    let Value::Array(consumers) = reply else { return Vec::new() };
    let mut consumers: Vec<ConsumerSummary> = consumers
        .into_iter()
        .map(|consumer| {
            let info = pairs(consumer);
            let get = |key: &str| info.iter().find(|(name, _)| name == key).map(|(_, value)| value);
            ConsumerSummary {
                name: get("name").and_then(as_text).unwrap_or_default(),
                pending: get("pending").and_then(as_u64).unwrap_or(0),
                idle_ms: get("idle").and_then(as_u64).unwrap_or(0),
            }
        })
        .collect();
    consumers.sort_by(|a, b| a.name.cmp(&b.name));
    consumers
}

/// The key-value pairs of a RESP3 map or a RESP2 flat array, keys as text.
fn pairs(value: Value) -> Vec<(String, Value)> {
    match value {
        Value::Map(pairs) => pairs.into_iter().filter_map(|(key, value)| Some((text(key)?, value))).collect(),
        Value::Array(items) => {
            let mut pairs = Vec::with_capacity(items.len() / 2);
            let mut items = items.into_iter();
            while let (Some(key), Some(value)) = (items.next(), items.next()) {
                if let Some(key) = text(key) {
                    pairs.push((key, value));
                }
            }
            pairs
        }
        _ => Vec::new(),
    }
}

fn bytes(value: Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.into_bytes()),
        _ => None,
    }
}

fn text(value: Value) -> Option<String> {
    bytes(value).and_then(|bytes| String::from_utf8(bytes).ok())
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        _ => None,
    }
}

fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Int(n) => u64::try_from(*n).ok(),
        other => as_text(other).and_then(|text| text.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_patterns_match_the_prefix_literally() {
        assert_eq!(glob_escape("dev-"), "dev-");
        assert_eq!(glob_escape("a*b?[c]\\-"), "a\\*b\\?\\[c\\]\\\\-");
    }

    #[test]
    fn stream_ids_carry_their_time() {
        assert_eq!(id_time("1700000000123-4"), Some(1_700_000_000_123));
        assert_eq!(id_time("1700000000123"), Some(1_700_000_000_123));
        assert_eq!(id_time("nonsense"), None);
    }

    #[test]
    fn group_info_reads_resp2_and_resp3_and_nil_lag() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let flat = Value::Array(vec![Value::Array(vec![
            bulk("name"),
            bulk("g"),
            bulk("pending"),
            Value::Int(2),
            bulk("last-delivered-id"),
            bulk("5-0"),
            bulk("entries-read"),
            Value::Int(5),
            bulk("lag"),
            Value::Nil,
        ])]);
        let groups = groups_of(flat);
        assert_eq!(groups.len(), 1);
        assert_eq!(
            (groups[0].name.as_str(), groups[0].pending, groups[0].lag, groups[0].entries_read),
            ("g", Some(2), None, Some(5))
        );
        let map = Value::Array(vec![Value::Map(vec![(bulk("name"), bulk("c")), (bulk("idle"), Value::Int(61_000))])]);
        let consumers = consumers_of(map);
        assert_eq!(consumers[0].name, "c");
        assert_eq!((consumers[0].pending, consumers[0].idle_ms), (0, 61_000));
    }
}
