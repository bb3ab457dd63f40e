//! [`KafkaView`]: the console's reads of Kafka topics. Lengths and lag come from watermarks and
//! committed offsets (never a read of a whole topic); a topic page reads only the last messages
//! of each partition; dead letters are the `…-dead-letter` topic, re-driven with the backend's
//! own functions (the original key, value and headers, byte for byte).
//!
//! An entry's id is `partition:offset`; a page's cursor lists, per partition, the offset below
//! which the next page reads (`0:120,1:98`).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use openedx_events::event_bus::dead_letter_topic;
use openedx_events_kafka::{DeadLetter, KafkaSettings, dead_letters, delete_dead_letters, redrive};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::view::{
    BusView, Change, ConsumerSummary, DeadLetterPage, DeadLetterRow, Entry, EventPage, EventQuery, GroupSummary,
    Overview, TopicSummary, ViewError, ViewResult,
};

/// How long one metadata request or read may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The most messages a filtered topic page looks at (over all partitions) before it stops.
const SCAN_LIMIT: usize = 10_000;
/// The suffix of a dead-letter topic.
const DEAD_LETTER_SUFFIX: &str = "-dead-letter";
/// The most dead letters the dead-letter page and the re-drive read.
const DEAD_LETTER_LIMIT: usize = 10_000;
/// The name of the field that holds a message's value in an [`Entry`] (its headers are the
/// other fields, as written).
pub(crate) const VALUE_FIELD: &str = "value";
/// The name of the field that holds a message's key.
pub(crate) const KEY_FIELD: &str = "key";

/// Kafka topics under one topic prefix.
pub(crate) struct KafkaView {
    settings: KafkaSettings,
    /// The brokers, for the page and errors (they hold no secret: the API key and secret are
    /// settings of their own).
    servers: String,
    /// `{prefix}-`, or empty when there is no prefix (then every topic but Kafka's own is shown).
    prefix: String,
    /// One client for metadata, watermarks and group lists, and reads by assignment (never
    /// subscribed, never committing: it joins no group).
    client: Mutex<BaseConsumer>,
}

impl KafkaView {
    /// A view of the topics under the settings' prefix. An error when the settings name no
    /// brokers or librdkafka refuses its configuration.
    pub(crate) fn new(settings: KafkaSettings) -> Result<KafkaView, String> {
        let servers = settings.bootstrap_servers.clone().unwrap_or_default();
        let client = reader(&settings)?;
        let prefix = match settings.topic_prefix.as_deref() {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}-"),
            _ => String::new(),
        };
        Ok(KafkaView { settings, servers, prefix, client: Mutex::new(client) })
    }

    fn error(&self, message: impl std::fmt::Display) -> ViewError {
        ViewError::Backend { bus: "Kafka", url: self.servers.clone(), message: message.to_string() }
    }

    /// The topic of a full topic name: without the prefix.
    fn topic_of<'a>(&self, full: &'a str) -> &'a str {
        full.strip_prefix(&self.prefix).unwrap_or(full)
    }

    /// Every topic (full name) with its partitions, sorted.
    fn topics(&self, client: &BaseConsumer) -> ViewResult<BTreeMap<String, Vec<i32>>> {
        let metadata = client.fetch_metadata(None, TIMEOUT).map_err(|e| self.error(e))?;
        Ok(metadata
            .topics()
            .iter()
            .filter(|topic| !topic.name().starts_with("__") && topic.name().starts_with(&self.prefix))
            .map(|topic| {
                let mut partitions: Vec<i32> = topic.partitions().iter().map(|partition| partition.id()).collect();
                partitions.sort_unstable();
                (topic.name().to_owned(), partitions)
            })
            .collect())
    }

    /// The partitions of one topic that this view shows.
    fn partitions(&self, client: &BaseConsumer, full: &str) -> ViewResult<Vec<i32>> {
        if !self.owns(full) {
            return Err(self.error(format!("`{full}` is not a topic of this console")));
        }
        let metadata = client.fetch_metadata(Some(full), TIMEOUT).map_err(|e| self.error(e))?;
        let mut partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|topic| topic.name() == full && topic.error().is_none())
            .flat_map(|topic| topic.partitions().iter().map(|partition| partition.id()))
            .collect();
        partitions.sort_unstable();
        Ok(partitions)
    }

    /// Low and high watermark of each partition.
    fn watermarks(&self, client: &BaseConsumer, full: &str, partitions: &[i32]) -> ViewResult<Vec<(i32, i64, i64)>> {
        partitions
            .iter()
            .map(|&partition| {
                let (low, high) = client.fetch_watermarks(full, partition, TIMEOUT).map_err(|e| self.error(e))?;
                Ok((partition, low, high))
            })
            .collect()
    }

    /// Reads the messages of each `(partition, from, to)` range (`to` exclusive), in one
    /// assignment; what did not arrive within the timeout is left out.
    fn read(&self, client: &BaseConsumer, full: &str, ranges: &[(i32, i64, i64)]) -> ViewResult<Vec<Entry>> {
        let wanted: Vec<(i32, i64, i64)> = ranges.iter().copied().filter(|(_, from, to)| from < to).collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut assignment = TopicPartitionList::new();
        for (partition, from, _) in &wanted {
            assignment.add_partition_offset(full, *partition, Offset::Offset(*from)).map_err(|e| self.error(e))?;
        }
        client.assign(&assignment).map_err(|e| self.error(e))?;
        let mut next: BTreeMap<i32, (i64, i64)> = wanted.iter().map(|(p, from, to)| (*p, (*from, *to))).collect();
        let mut entries = Vec::new();
        let deadline = Instant::now() + TIMEOUT;
        while !next.is_empty() && Instant::now() < deadline {
            let Some(message) = client.poll(Duration::from_millis(100)) else { continue };
            let message = match message {
                Ok(message) => message,
                Err(error) => {
                    let _ = client.unassign();
                    return Err(self.error(format!("reading `{full}`: {error}")));
                }
            };
            let partition = message.partition();
            let Some((_, to)) = next.get(&partition).copied() else { continue };
            if message.offset() < to {
                entries.push(entry_of(&message));
            }
            if message.offset() + 1 >= to {
                next.remove(&partition);
            } else if let Some(range) = next.get_mut(&partition) {
                range.0 = message.offset() + 1;
            }
        }
        let _ = client.unassign();
        Ok(entries)
    }

    /// The committed offsets of `group` for these partitions of these topics.
    fn committed(&self, group: &str, topics: &BTreeMap<String, Vec<i32>>) -> ViewResult<BTreeMap<(String, i32), i64>> {
        let mut config = self.settings.client_config().ok_or_else(|| self.error("no brokers"))?;
        config.set("group.id", group).set("enable.auto.commit", "false");
        let consumer: BaseConsumer = config.create().map_err(|e| self.error(e))?;
        let mut partitions = TopicPartitionList::new();
        for (topic, ids) in topics {
            for id in ids {
                partitions.add_partition(topic, *id);
            }
        }
        let committed = consumer.committed_offsets(partitions, TIMEOUT).map_err(|e| self.error(e))?;
        Ok(committed
            .elements()
            .iter()
            .filter_map(|element| match element.offset() {
                Offset::Offset(offset) => Some(((element.topic().to_owned(), element.partition()), offset)),
                _ => None,
            })
            .collect())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BaseConsumer> {
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The dead letters of a topic (full name), newest first.
    fn letters(&self, full: &str) -> ViewResult<Vec<DeadLetter>> {
        let mut letters =
            dead_letters(&self.settings, self.topic_of(full), DEAD_LETTER_LIMIT).map_err(|e| self.error(e))?;
        letters.sort_by_key(|letter| std::cmp::Reverse((letter.offset, letter.partition)));
        Ok(letters)
    }
}

/// A client that reads by assignment and commits nothing.
fn reader(settings: &KafkaSettings) -> Result<BaseConsumer, String> {
    let mut config =
        settings.client_config().ok_or("no Kafka bootstrap servers (set EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS)")?;
    config
        .set("group.id", format!("openedx-events-console-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    config.create().map_err(|error| format!("cannot make a Kafka client: {error}"))
}

/// A message as the pages show it: its headers as fields, then its key and value.
fn entry_of(message: &impl Message) -> Entry {
    let mut fields: Vec<(Vec<u8>, Vec<u8>)> = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|header| (header.key.as_bytes().to_vec(), header.value.map(<[u8]>::to_vec).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(key) = message.key() {
        fields.push((KEY_FIELD.as_bytes().to_vec(), key.to_vec()));
    }
    fields.push((VALUE_FIELD.as_bytes().to_vec(), message.payload().map(<[u8]>::to_vec).unwrap_or_default()));
    Entry {
        id: format!("{}:{}", message.partition(), message.offset()),
        time_ms: message.timestamp().to_millis(),
        fields,
    }
}

/// `partition:offset`.
fn parse_id(id: &str) -> Option<(i32, i64)> {
    let (partition, offset) = id.split_once(':')?;
    Some((partition.parse().ok()?, offset.parse().ok()?))
}

/// A page cursor: per partition, the offset below which to read.
fn parse_cursor(cursor: &str) -> BTreeMap<i32, i64> {
    cursor.split(',').filter_map(parse_id).collect()
}

fn cursor_text(cursor: &BTreeMap<i32, i64>) -> String {
    cursor.iter().map(|(partition, offset)| format!("{partition}:{offset}")).collect::<Vec<_>>().join(",")
}

/// Whether an entry passes the page's filters.
fn matches(entry: &Entry, query: &EventQuery) -> bool {
    let header = |name: &str| entry.field(name).map(String::from_utf8_lossy);
    query.event_type.as_deref().is_none_or(|wanted| header("ce_type").as_deref() == Some(wanted))
        && query.event_id.as_deref().is_none_or(|wanted| header("ce_id").as_deref() == Some(wanted))
        && query.since_ms.is_none_or(|since| entry.time_ms.is_some_and(|time| time >= since))
        && query.until_ms.is_none_or(|until| entry.time_ms.is_some_and(|time| time <= until))
}

/// A dead letter as the page lists it. Its origin is `topic:partition:offset`; the page shows
/// the message's id in its topic, `partition:offset`. Kafka's dead letters do not record the
/// group or consumer that moved them.
fn row_of(letter: &DeadLetter) -> DeadLetterRow {
    let mut parts = letter.origin.rsplitn(3, ':');
    let (offset, partition) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    DeadLetterRow {
        id: letter.id(),
        time_ms: None,
        original_id: format!("{partition}:{offset}"),
        event_type: letter.event_type().unwrap_or_default().to_owned(),
        error: letter.error.clone(),
        attempts: u64::from(letter.attempts),
        group: String::new(),
        consumer: String::new(),
    }
}

impl BusView for KafkaView {
    fn id(&self) -> &'static str {
        "kafka"
    }

    fn describe(&self) -> String {
        let prefix = self.prefix.trim_end_matches('-');
        if prefix.is_empty() {
            format!("Kafka at {}", self.servers)
        } else {
            format!("Kafka at {}, prefix {prefix}", self.servers)
        }
    }

    /// Kafka has no notion of a message held by one consumer: nothing is flagged.
    fn stuck_after_ms(&self) -> u64 {
        u64::MAX
    }

    fn owns(&self, stream: &str) -> bool {
        !stream.starts_with("__") && stream.starts_with(&self.prefix)
    }

    /// `partition:offset`, or a cursor of several (`0:120,1:98`).
    fn is_id(&self, id: &str) -> bool {
        !id.is_empty() && id.len() <= 4096 && id.split(',').all(|part| parse_id(part).is_some())
    }

    fn id_kind(&self) -> &'static str {
        "a `partition:offset` id"
    }

    fn id_example(&self) -> &'static str {
        "0:42"
    }

    fn overview(&self) -> ViewResult<Overview> {
        let client = self.lock();
        let all = self.topics(&client)?;
        let topics: BTreeMap<String, Vec<i32>> = all
            .iter()
            .filter(|(name, _)| !name.ends_with(DEAD_LETTER_SUFFIX))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut marks = BTreeMap::new();
        for (name, partitions) in &all {
            marks.insert(name.clone(), self.watermarks(&client, name, partitions)?);
        }
        let groups = client.fetch_group_list(None, TIMEOUT).map_err(|e| self.error(e))?;
        let mut by_topic: BTreeMap<String, Vec<GroupSummary>> = BTreeMap::new();
        for group in groups.groups() {
            if group.name().starts_with("openedx-events-console-") || group.name().is_empty() {
                continue;
            }
            let committed = self.committed(group.name(), &topics)?;
            for (topic, partitions) in &topics {
                let offsets: Vec<(i32, i64)> = partitions
                    .iter()
                    .filter_map(|p| committed.get(&(topic.clone(), *p)).map(|offset| (*p, *offset)))
                    .collect();
                if offsets.is_empty() {
                    continue;
                }
                let lag = marks[topic]
                    .iter()
                    .map(|(p, low, high)| {
                        let at = offsets.iter().find(|(q, _)| q == p).map_or(*low, |(_, offset)| (*offset).max(*low));
                        u64::try_from(high - at).unwrap_or(0)
                    })
                    .sum();
                let consumers = group
                    .members()
                    .iter()
                    .map(|member| ConsumerSummary {
                        name: format!("{} ({})", member.client_id(), member.id()),
                        pending: 0,
                        idle_ms: 0,
                    })
                    .collect();
                by_topic.entry(topic.clone()).or_default().push(GroupSummary {
                    name: group.name().to_owned(),
                    lag: Some(lag),
                    pending: None,
                    entries_read: None,
                    last_delivered: offsets.iter().map(|(p, o)| format!("{p}:{o}")).collect::<Vec<_>>().join(","),
                    consumers,
                });
            }
        }
        // The newest message of each topic: the last one of each partition, read in one go.
        let mut summaries = Vec::new();
        for topic in topics.keys() {
            let ranges: Vec<(i32, i64, i64)> = marks[topic]
                .iter()
                .filter(|(_, low, high)| high > low)
                .map(|(p, _, high)| (*p, high - 1, *high))
                .collect();
            let newest = self
                .read(&client, topic, &ranges)?
                .into_iter()
                .filter_map(|entry| entry.time_ms.map(|time| (entry.id, time)))
                .max_by_key(|(_, time)| *time);
            let dead = dead_letter_topic(topic);
            let dead_letters = marks
                .get(&dead)
                .map_or(0, |marks| marks.iter().map(|(_, low, high)| u64::try_from(high - low).unwrap_or(0)).sum());
            let mut groups = by_topic.remove(topic).unwrap_or_default();
            groups.sort_by(|a, b| a.name.cmp(&b.name));
            summaries.push(TopicSummary {
                stream: topic.clone(),
                exists: true,
                length: marks[topic].iter().map(|(_, low, high)| u64::try_from(high - low).unwrap_or(0)).sum(),
                newest,
                groups,
                dead_letters,
            });
        }
        Ok(Overview { topics: summaries })
    }

    fn events(&self, stream: &str, query: &EventQuery) -> ViewResult<EventPage> {
        let client = self.lock();
        let partitions = self.partitions(&client, stream)?;
        let marks = self.watermarks(&client, stream, &partitions)?;
        let start = query.before.as_deref().map(parse_cursor);
        let mut upper: BTreeMap<i32, i64> = marks
            .iter()
            .map(|(p, _, high)| (*p, start.as_ref().and_then(|c| c.get(p).copied()).unwrap_or(*high).min(*high)))
            .collect();
        let lows: BTreeMap<i32, i64> = marks.iter().map(|(p, low, _)| (*p, *low)).collect();
        let count = query.count.max(1);
        let filtering = query.filters() || query.since_ms.is_some() || query.until_ms.is_some();
        let mut found: Vec<Entry> = Vec::new();
        let mut scanned = 0;
        let mut stopped_at = None;
        loop {
            let ranges: Vec<(i32, i64, i64)> = upper
                .iter()
                .map(|(p, to)| (*p, (to - i64::try_from(count).unwrap_or(i64::MAX)).max(lows[p]), *to))
                .collect();
            if ranges.iter().all(|(_, from, to)| from >= to) {
                break;
            }
            let read = self.read(&client, stream, &ranges)?;
            scanned += read.len();
            for (p, from, _) in &ranges {
                upper.insert(*p, *from);
            }
            found.extend(read.into_iter().filter(|entry| matches(entry, query)));
            if found.len() >= count {
                break;
            }
            // Unfiltered, one read of the last `count` of each partition fills the page; a
            // filtered page reads further back, up to the scan limit.
            if !filtering {
                break;
            }
            if scanned >= SCAN_LIMIT {
                stopped_at = Some(cursor_text(&upper));
                break;
            }
        }
        // Newest first over all partitions; what does not fit is where the next page starts.
        found.sort_by_key(|entry| std::cmp::Reverse((entry.time_ms, parse_id(&entry.id).map(|(_, o)| o))));
        let rest = found.split_off(found.len().min(count));
        for entry in &rest {
            if let Some((p, offset)) = parse_id(&entry.id) {
                let bound = upper.entry(p).or_insert(offset + 1);
                *bound = (*bound).max(offset + 1);
            }
        }
        let older = upper.iter().any(|(p, to)| *to > lows[p]).then(|| cursor_text(&upper));
        Ok(EventPage { entries: found, scanned, older, stopped_at })
    }

    fn entry(&self, stream: &str, id: &str) -> ViewResult<Option<Entry>> {
        let Some((partition, offset)) = parse_id(id) else { return Ok(None) };
        let client = self.lock();
        if !self.partitions(&client, stream)?.contains(&partition) {
            return Ok(None);
        }
        Ok(self.read(&client, stream, &[(partition, offset, offset + 1)])?.into_iter().next())
    }

    fn dead_letters(&self, stream: &str, before: Option<&str>, count: usize) -> ViewResult<DeadLetterPage> {
        let letters = self.letters(stream)?;
        let total = letters.len() as u64;
        let after_cursor: Vec<&DeadLetter> = match before.and_then(parse_id) {
            Some((p, o)) => letters.iter().filter(|l| (l.offset, l.partition) < (o, p)).collect(),
            None => letters.iter().collect(),
        };
        let rows: Vec<DeadLetterRow> = after_cursor.iter().take(count).map(|l| row_of(l)).collect();
        let older = (after_cursor.len() > count).then(|| rows.last().map(|row| row.id.clone())).flatten();
        Ok(DeadLetterPage { rows, total, older })
    }

    fn dead_letter_ids(&self, stream: &str, limit: usize) -> ViewResult<Vec<String>> {
        let mut letters = self.letters(stream)?;
        letters.reverse();
        Ok(letters.iter().take(limit).map(DeadLetter::id).collect())
    }

    fn redrive(&self, stream: &str, ids: &[String], dry_run: bool) -> ViewResult<Vec<(String, Change)>> {
        let letters = self.letters(stream)?;
        let mut outcome = Vec::new();
        let mut chosen = Vec::new();
        for id in ids {
            match letters.iter().find(|letter| &letter.id() == id) {
                None => outcome.push((id.clone(), Change::Missing)),
                Some(letter) if dry_run => outcome.push((id.clone(), Change::Would(row_of(letter)))),
                Some(letter) => chosen.push(letter.clone()),
            }
        }
        if !chosen.is_empty() {
            redrive(&self.settings, self.topic_of(stream), &chosen).map_err(|e| self.error(e))?;
            // Kafka reports no offset back through the backend's re-drive: the page says where
            // the copy went by topic.
            outcome
                .extend(chosen.iter().map(|letter| (letter.id(), Change::Moved(format!("{stream} (a new offset)")))));
        }
        Ok(outcome)
    }

    /// Kafka deletes only a prefix of a partition: deleting a dead letter deletes every older one
    /// of its partition as well, which the dry run says.
    fn delete(&self, stream: &str, ids: &[String], dry_run: bool) -> ViewResult<Vec<(String, Change)>> {
        let letters = self.letters(stream)?;
        let mut outcome = Vec::new();
        let mut before: BTreeMap<i32, i64> = BTreeMap::new();
        for id in ids {
            match letters.iter().find(|letter| &letter.id() == id) {
                None => outcome.push((id.clone(), Change::Missing)),
                Some(letter) => {
                    let bound = before.entry(letter.partition).or_insert(0);
                    *bound = (*bound).max(letter.offset + 1);
                }
            }
        }
        // Every letter the deletion takes, asked for or older in its partition.
        let taken: Vec<&DeadLetter> =
            letters.iter().filter(|l| before.get(&l.partition).is_some_and(|bound| l.offset < *bound)).collect();
        if dry_run {
            outcome.extend(taken.iter().map(|letter| (letter.id(), Change::Would(row_of(letter)))));
            return Ok(outcome);
        }
        if !before.is_empty() {
            let bounds: Vec<(i32, i64)> = before.into_iter().collect();
            delete_dead_letters(&self.settings, self.topic_of(stream), &bounds).map_err(|e| self.error(e))?;
            outcome.extend(taken.iter().map(|letter| (letter.id(), Change::Deleted)));
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_and_ids_round_trip() {
        assert_eq!(parse_id("3:42"), Some((3, 42)));
        assert_eq!(parse_id("3-42"), None);
        assert_eq!(parse_id("x:1"), None);
        let cursor = parse_cursor("0:120,1:98,junk");
        assert_eq!(cursor, BTreeMap::from([(0, 120), (1, 98)]));
        assert_eq!(cursor_text(&cursor), "0:120,1:98");
    }
}
