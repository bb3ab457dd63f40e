//! What the console shows, whatever carries the events: the data of its pages, and [`BusView`],
//! the reads and changes a bus provides to them.
//!
//! Two buses implement it, [`super::redis_view::RedisView`] and, with the `kafka` feature,
//! `kafka_view::KafkaView`; the model fits both without the pages knowing which:
//!
//! - Kafka: a topic's `length` is the sum over its partitions of high watermark minus
//!   low watermark; a group's `lag` is the sum of high watermark minus committed offset, its
//!   `pending` is `None`, its consumers are the group's members; entry ids are `partition:offset`
//!   (cursors are opaque strings to the pages); dead letters are the `…-dead-letter` topic with
//!   the same fields as headers.
//! - The outbox is not a bus but a queue in front of one: an [`OutboxSource`] listed on the
//!   overview (rows waiting and parked, the oldest's age), with no topic pages.

use std::fmt;

/// What went wrong in a read or a change (the pages answer 502).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ViewError {
    /// The bus could not be reached or refused a command (502). `url` is shown without its
    /// password.
    #[error("{bus} at `{url}`: {message}")]
    Backend {
        /// Which bus: `Redis`.
        bus: &'static str,
        /// Where it is, without secrets.
        url: String,
        /// What failed.
        message: String,
    },
}

/// A read or change of a [`BusView`].
pub(crate) type ViewResult<T> = Result<T, ViewError>;

/// One topic on the overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicSummary {
    /// The topic's full name on the bus (with the prefix): the stream.
    pub(crate) stream: String,
    /// Whether the stream exists; a topic whose stream is gone can still have dead letters.
    pub(crate) exists: bool,
    /// How many entries it holds.
    pub(crate) length: u64,
    /// The id of its newest entry, and that entry's time in milliseconds since the epoch.
    pub(crate) newest: Option<(String, i64)>,
    /// Its consumer groups, by name.
    pub(crate) groups: Vec<GroupSummary>,
    /// How many dead letters it has.
    pub(crate) dead_letters: u64,
}

/// One consumer group of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupSummary {
    /// The group's name.
    pub(crate) name: String,
    /// Entries not yet delivered to the group; `None` when the bus cannot tell (Redis after
    /// deletions or trimming past the group's position).
    pub(crate) lag: Option<u64>,
    /// Entries delivered and not yet acknowledged; `None` on buses without the notion.
    pub(crate) pending: Option<u64>,
    /// How many entries the group has read (Redis 7's `entries-read`).
    pub(crate) entries_read: Option<u64>,
    /// The id of the last entry delivered to the group.
    pub(crate) last_delivered: String,
    /// Its consumers, by name.
    pub(crate) consumers: Vec<ConsumerSummary>,
}

/// One consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsumerSummary {
    /// The consumer's name.
    pub(crate) name: String,
    /// Entries delivered to it and not acknowledged.
    pub(crate) pending: u64,
    /// Milliseconds since it last interacted with the bus.
    pub(crate) idle_ms: u64,
}

impl ConsumerSummary {
    /// Whether it looks stuck: it holds messages and has not been heard of for longer than
    /// `after_ms` (the time after which another consumer would claim them).
    pub(crate) fn looks_stuck(&self, after_ms: u64) -> bool {
        self.pending > 0 && self.idle_ms > after_ms
    }
}

/// Every topic of one bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Overview {
    /// The topics, sorted by stream name.
    pub(crate) topics: Vec<TopicSummary>,
}

/// One entry of a topic or a dead-letter stream, undecoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Its id on the bus.
    pub(crate) id: String,
    /// When the bus took it, in milliseconds since the epoch (a Redis id's first part).
    pub(crate) time_ms: Option<i64>,
    /// Its fields, byte for byte.
    pub(crate) fields: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Entry {
    /// The value of a field, if the entry has it.
    pub(crate) fn field(&self, name: &str) -> Option<&[u8]> {
        self.fields.iter().find(|(key, _)| key == name.as_bytes()).map(|(_, value)| value.as_slice())
    }

    /// The value of a field as text (lossy), or empty.
    pub(crate) fn text(&self, name: &str) -> String {
        self.field(name).map(|value| String::from_utf8_lossy(value).into_owned()).unwrap_or_default()
    }
}

/// What the events of a topic page are filtered by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EventQuery {
    /// Only events of this type.
    pub(crate) event_type: Option<String>,
    /// Only events the bus took at or after this time (ms).
    pub(crate) since_ms: Option<i64>,
    /// Only events the bus took at or before this time (ms).
    pub(crate) until_ms: Option<i64>,
    /// Only the event whose metadata id (a UUID) is this.
    pub(crate) event_id: Option<String>,
    /// Only entries older than this cursor (the last id of the page before).
    pub(crate) before: Option<String>,
    /// How many events a page holds at most.
    pub(crate) count: usize,
}

impl EventQuery {
    /// Whether anything but paging filters the events (so that a page may need to look at more
    /// entries than it shows).
    pub(crate) fn filters(&self) -> bool {
        self.event_type.is_some() || self.event_id.is_some()
    }
}

/// One page of a topic, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EventPage {
    /// The entries, newest first.
    pub(crate) entries: Vec<Entry>,
    /// How many entries were looked at to fill the page.
    pub(crate) scanned: usize,
    /// Where the next, older page starts (its `before`), or `None` at the stream's start.
    pub(crate) older: Option<String>,
    /// Set when the page stopped looking before it was full, at the scan limit.
    pub(crate) stopped_at: Option<String>,
}

/// One dead letter, as the dead-letter page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeadLetterRow {
    /// Its id in the dead-letter stream.
    pub(crate) id: String,
    /// When it was dead-lettered (ms).
    pub(crate) time_ms: Option<i64>,
    /// The message's id in the topic.
    pub(crate) original_id: String,
    /// The message's event type (its `type` field), as written.
    pub(crate) event_type: String,
    /// Why it was moved aside: which receivers failed and how.
    pub(crate) error: String,
    /// How many times it was tried.
    pub(crate) attempts: u64,
    /// The group that gave up on it.
    pub(crate) group: String,
    /// The consumer of that group that moved it.
    pub(crate) consumer: String,
}

/// One page of dead letters, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeadLetterPage {
    /// The dead letters.
    pub(crate) rows: Vec<DeadLetterRow>,
    /// How many dead letters the topic has in all.
    pub(crate) total: u64,
    /// Where the next, older page starts.
    pub(crate) older: Option<String>,
}

/// What re-driving or deleting one dead letter did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A dry run: the dead letter is there and would be moved back (or deleted).
    Would(DeadLetterRow),
    /// Moved back to the topic, where it now has this id.
    Moved(String),
    /// Deleted.
    Deleted,
    /// There is no dead letter with this id (any more).
    Missing,
}

/// The reads and changes of one bus that the pages need.
pub(crate) trait BusView: Send + Sync {
    /// A short name for URLs and the page: `redis`.
    fn id(&self) -> &'static str;
    /// What the bus is and where, without secrets: `Redis at redis://***@host:6379, prefix dev`.
    fn describe(&self) -> String;
    /// How long a consumer may hold messages without being heard of before the page flags it.
    fn stuck_after_ms(&self) -> u64;
    /// Whether `stream` is a topic (or a topic's dead-letter stream) this view shows; the pages
    /// refuse every other name.
    fn owns(&self, stream: &str) -> bool;
    /// Whether `id` has the form of this bus's entry ids and page cursors (checked before a
    /// request reaches the bus): Redis stream ids by default.
    fn is_id(&self, id: &str) -> bool {
        super::server::is_stream_id(id)
    }
    /// What this bus's entry ids are called, for messages.
    fn id_kind(&self) -> &'static str {
        "a stream id"
    }
    /// An entry id of this bus, for messages.
    fn id_example(&self) -> &'static str {
        "1714566645123-0"
    }
    /// Every topic with its groups and dead letters.
    fn overview(&self) -> ViewResult<Overview>;
    /// A page of a topic's events, newest first, filtered; never a scan of the whole topic.
    fn events(&self, stream: &str, query: &EventQuery) -> ViewResult<EventPage>;
    /// One entry by id, from a topic or a dead-letter stream.
    fn entry(&self, stream: &str, id: &str) -> ViewResult<Option<Entry>>;
    /// A page of a topic's dead letters, newest first.
    fn dead_letters(&self, stream: &str, before: Option<&str>, count: usize) -> ViewResult<DeadLetterPage>;
    /// The ids of a topic's dead letters, oldest first, at most `limit`.
    fn dead_letter_ids(&self, stream: &str, limit: usize) -> ViewResult<Vec<String>>;
    /// Re-drives these dead letters to their topic with their original bytes, or (`dry_run`)
    /// says which would move.
    fn redrive(&self, stream: &str, ids: &[String], dry_run: bool) -> ViewResult<Vec<(String, Change)>>;
    /// Deletes these dead letters, or (`dry_run`) says which would go.
    fn delete(&self, stream: &str, ids: &[String], dry_run: bool) -> ViewResult<Vec<(String, Change)>>;
}

/// The transactional outbox's depth, as the overview shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OutboxSummary {
    /// Rows waiting to be relayed.
    pub(crate) pending: u64,
    /// Rows parked after too many failures, waiting for a re-drive.
    pub(crate) parked: u64,
    /// How long the oldest pending row has waited (ms).
    pub(crate) oldest_pending_ms: Option<u64>,
    /// The same per topic.
    pub(crate) topics: Vec<OutboxTopic>,
}

/// One topic's rows in the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OutboxTopic {
    /// The topic, without the prefix.
    pub(crate) topic: String,
    /// Rows waiting to be relayed.
    pub(crate) pending: u64,
    /// Parked rows.
    pub(crate) parked: u64,
    /// How long its oldest pending row has waited (ms).
    pub(crate) oldest_pending_ms: Option<u64>,
}

/// A transactional outbox in front of the buses: not a bus, only its depth is shown.
pub(crate) trait OutboxSource: Send + Sync {
    /// What and where, without secrets.
    fn describe(&self) -> String;
    /// Its depth now.
    fn status(&self) -> ViewResult<OutboxSummary>;
}

impl fmt::Debug for dyn BusView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}
