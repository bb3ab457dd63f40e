//! [`EventsMetadata`]: the envelope every event travels in (a subset of OEP-41), and where its
//! defaults come from.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use uuid::timestamp::context::ContextV1;
use uuid::{Timestamp, Uuid};

use crate::error::MetadataError;
use crate::isoformat::{Isoformat, parse_isoformat};
use crate::json_dumps::write_json_string;

/// The metadata of one event: what it is, when and where it happened, and who sent it.
///
/// The fields and their names are upstream's, so that [`to_json`](Self::to_json) and
/// [`from_json`](Self::from_json) speak the JSON the Python services speak.
///
/// A receiver can also tell whether the event reached it from the event bus
/// ([`from_event_bus`](Self::from_event_bus)), so that a bus consumer never produces again what it
/// consumed.
#[derive(Debug, Clone)]
pub struct EventsMetadata {
    /// The event type, such as `org.openedx.learning.course.enrollment.created.v1`.
    pub event_type: Cow<'static, str>,
    /// The event's identifier, a UUID version 1 for events generated here.
    pub id: Uuid,
    /// The minor version of the event type's data.
    pub minorversion: u32,
    /// The logical source: `openedx/<service>/web`.
    pub source: Cow<'static, str>,
    /// The physical source: the host name of the machine that sent the event.
    pub sourcehost: Cow<'static, str>,
    /// When the event happened; UTC by type.
    pub time: DateTime<Utc>,
    /// The version of the library that sent the event, as integers (`[0, 1, 0]`).
    pub sourcelib: Cow<'static, [u32]>,
    from_event_bus: bool,
}

impl PartialEq for EventsMetadata {
    /// Compares what the event *is*; how it was delivered does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.event_type == other.event_type
            && self.id == other.id
            && self.minorversion == other.minorversion
            && self.source == other.source
            && self.sourcehost == other.sourcehost
            && self.time == other.time
            && self.sourcelib == other.sourcelib
    }
}

impl Eq for EventsMetadata {}

impl EventsMetadata {
    /// New metadata for an event of this type, with every other field at its default: a new
    /// UUID v1, minor version 0, this service's source and host, the current time and this
    /// library's version.
    pub fn new(event_type: impl Into<Cow<'static, str>>) -> Self {
        Self::generate(event_type.into(), 0, None)
    }

    /// Metadata as `send_event` makes it; `time` defaults to now.
    pub(crate) fn generate(event_type: Cow<'static, str>, minorversion: u32, time: Option<DateTime<Utc>>) -> Self {
        // One clock read serves both the id and, unless given, the time: reading the clock is
        // the dearest part of sending an event.
        let now = since_epoch();
        EventsMetadata {
            event_type,
            id: new_event_id(now),
            minorversion,
            source: Cow::Borrowed(source()),
            sourcehost: Cow::Borrowed(sourcehost()),
            time: time.unwrap_or_else(|| time_at(now)),
            sourcelib: Cow::Borrowed(&SOURCELIB),
            from_event_bus: false,
        }
    }

    /// Metadata read from a message, each part given or, when the message lacks it, taken by
    /// default as `new` does; the clock is read and an id made only when one of them is missing.
    pub(crate) fn received(event_type: Cow<'static, str>, parts: ReceivedParts) -> Self {
        let now = if parts.id.is_none() || parts.time.is_none() { Some(since_epoch()) } else { None };
        EventsMetadata {
            event_type,
            id: parts.id.unwrap_or_else(|| new_event_id(now.unwrap_or_default())),
            minorversion: parts.minorversion.unwrap_or(0),
            source: parts.source.unwrap_or(Cow::Borrowed(source())),
            sourcehost: parts.sourcehost.unwrap_or(Cow::Borrowed(sourcehost())),
            time: parts.time.unwrap_or_else(|| time_at(now.unwrap_or_default())),
            sourcelib: parts.sourcelib.unwrap_or(Cow::Borrowed(&SOURCELIB)),
            from_event_bus: false,
        }
    }

    /// Whether the event reached this process from the event bus (upstream's
    /// `from_event_bus`): true for events dispatched through
    /// [`send_event_with_custom_metadata`](crate::OpenEdxPublicSignal::send_event_with_custom_metadata).
    pub fn from_event_bus(&self) -> bool {
        self.from_event_bus
    }

    pub(crate) fn mark_from_event_bus(&mut self) {
        self.from_event_bus = true;
    }

    /// This metadata as upstream's JSON form: the same keys in the same order, the id as a
    /// hyphenated string, the time as Python's `isoformat()` writes it, `sourcelib` a list,
    /// written with Python's `json.dumps` separators and escapes.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("{\"event_type\": ");
        write_json_string(&mut out, &self.event_type);
        out.push_str(", \"id\": \"");
        out.push_str(self.id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        out.push_str("\", \"minorversion\": ");
        let _ = write!(out, "{}", self.minorversion);
        out.push_str(", \"source\": ");
        write_json_string(&mut out, &self.source);
        out.push_str(", \"sourcehost\": ");
        write_json_string(&mut out, &self.sourcehost);
        // Writing to a String cannot fail.
        let _ = write!(out, ", \"time\": \"{}\", \"sourcelib\": [", Isoformat(&self.time));
        for (i, part) in self.sourcelib.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{part}");
        }
        out.push_str("]}");
        out
    }

    /// Reads upstream's JSON form, as written by [`to_json`](Self::to_json) or by Python's
    /// `EventsMetadata.to_json()`.
    ///
    /// `minorversion` may be absent (it defaults to 0); every other key is required. The time may
    /// be in any form Python's `datetime.fromisoformat()` reads; a time without an offset is
    /// taken as UTC.
    pub fn from_json(json: &str) -> Result<EventsMetadata, MetadataError> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(MetadataError::Json)?;
        let object = value.as_object().ok_or(MetadataError::NotAnObject)?;
        let text = |key: &'static str| -> Result<String, MetadataError> {
            match object.get(key) {
                None => Err(MetadataError::MissingField(key)),
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(MetadataError::invalid(key, "expected a string")),
            }
        };
        let id = text("id")?;
        let id = Uuid::parse_str(&id).map_err(|e| MetadataError::invalid("id", e.to_string()))?;
        let time = parse_isoformat(&text("time")?).map_err(|e| MetadataError::invalid("time", e.to_string()))?;
        let minorversion = match object.get("minorversion") {
            None | Some(serde_json::Value::Null) => 0,
            Some(v) => v
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| MetadataError::invalid("minorversion", "expected a non-negative integer"))?,
        };
        let sourcelib = object
            .get("sourcelib")
            .ok_or(MetadataError::MissingField("sourcelib"))?
            .as_array()
            .ok_or_else(|| MetadataError::invalid("sourcelib", "expected a list of integers"))?
            .iter()
            .map(|v| v.as_u64().and_then(|v| u32::try_from(v).ok()))
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(|| MetadataError::invalid("sourcelib", "expected a list of integers"))?;
        Ok(EventsMetadata {
            event_type: Cow::Owned(text("event_type")?),
            id,
            minorversion,
            source: Cow::Owned(text("source")?),
            sourcehost: Cow::Owned(text("sourcehost")?),
            time,
            sourcelib: Cow::Owned(sourcelib),
            from_event_bus: false,
        })
    }
}

/// The parts of [`EventsMetadata`] a message may carry; `None` takes the default.
#[derive(Default)]
pub(crate) struct ReceivedParts {
    pub(crate) id: Option<Uuid>,
    pub(crate) minorversion: Option<u32>,
    pub(crate) source: Option<Cow<'static, str>>,
    pub(crate) sourcehost: Option<Cow<'static, str>>,
    pub(crate) time: Option<DateTime<Utc>>,
    pub(crate) sourcelib: Option<Cow<'static, [u32]>>,
}

/// The version of this crate as integers, which is what `sourcelib` carries.
const SOURCELIB: [u32; 3] = [
    parse_u32(env!("CARGO_PKG_VERSION_MAJOR")),
    parse_u32(env!("CARGO_PKG_VERSION_MINOR")),
    parse_u32(env!("CARGO_PKG_VERSION_PATCH")),
];

const fn parse_u32(s: &str) -> u32 {
    let bytes = s.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// The current time since the Unix epoch, as `Utc::now()` and `Uuid::now_v1` read it (a clock
/// set before 1970 reads as the epoch).
fn since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// A time since the epoch as a `DateTime`, at Python's precision (microseconds), so that
/// metadata survives a round trip through JSON or the bus unchanged.
fn time_at(since_epoch: Duration) -> DateTime<Utc> {
    let nanos = since_epoch.subsec_nanos();
    i64::try_from(since_epoch.as_secs())
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, nanos - nanos % 1_000))
        .unwrap_or_default()
}

/// A new UUID v1 stamped with `now`. Like Python's `uuid1()` on a machine whose MAC it cannot
/// read, the node is random with the multicast bit set; it is chosen once per process, as is
/// the random start of the clock sequence (a counter, as in `Uuid::now_v1`).
fn new_event_id(now: Duration) -> Uuid {
    static NODE: OnceLock<([u8; 6], ContextV1)> = OnceLock::new();
    let (node, clock_sequence) = NODE.get_or_init(|| {
        let random = Uuid::new_v4().into_bytes();
        let mut node = [0u8; 6];
        node.copy_from_slice(&random[..6]);
        node[0] |= 0x01;
        (node, ContextV1::new_random())
    });
    // What `Uuid::now_v1` does, with the clock already read.
    let timestamp = Timestamp::from_unix(clock_sequence, now.as_secs(), now.subsec_nanos());
    Uuid::new_v1(timestamp, node)
}

static SERVICE_NAME: RwLock<Option<&'static str>> = RwLock::new(None);

/// Sets the service name that goes into `source` (`openedx/<service>/web`) of the events this
/// process sends, overriding the `EVENTS_SERVICE_NAME` and `SERVICE_VARIANT` environment
/// variables. `None` goes back to them.
pub fn set_service_name(name: Option<&str>) {
    // Each distinct name is kept for the life of the process so that metadata can borrow it;
    // a service sets its name once or a handful of times.
    let source = name.map(|name| &*Box::leak(format!("openedx/{name}/web").into_boxed_str()));
    let mut current = SERVICE_NAME.write().unwrap_or_else(PoisonError::into_inner);
    *current = source;
    SERVICE_NAME_VERSION.fetch_add(1, Ordering::Release);
}

/// The service's name as upstream finds it: `EVENTS_SERVICE_NAME`, else `SERVICE_VARIANT`.
pub fn service_name() -> Option<String> {
    if let Some(source) = *SERVICE_NAME.read().unwrap_or_else(PoisonError::into_inner) {
        return source.strip_prefix("openedx/").and_then(|s| s.strip_suffix("/web")).map(str::to_owned);
    }
    env_service_name()
}

fn env_service_name() -> Option<String> {
    ["EVENTS_SERVICE_NAME", "SERVICE_VARIANT"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|value| !value.is_empty())
}

/// Bumped, under the lock, by every [`set_service_name`], so that [`source`] can tell whether
/// its thread's cached answer is still good.
static SERVICE_NAME_VERSION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The answer of [`source`] on this thread, and the [`SERVICE_NAME_VERSION`] it was read at.
    static SOURCE: Cell<(u64, &'static str)> = const { Cell::new((u64::MAX, "")) };
}

/// `source` of the events this thread sends. Called on every send, so it takes no lock (a lock
/// word written by every sending thread would bounce between their cores): each thread reads
/// [`SERVICE_NAME`] again only after [`set_service_name`] changed it.
fn source() -> &'static str {
    // Acquire: pairs with the release in `set_service_name`, so that a thread that saw a call
    // to it finish sees the new version here.
    let version = SERVICE_NAME_VERSION.load(Ordering::Acquire);
    SOURCE
        .try_with(|cached| match cached.get() {
            (seen, source) if seen == version => source,
            _ => {
                // A version bumped after our load only makes the next call read again.
                let source = read_source();
                cached.set((version, source));
                source
            }
        })
        .unwrap_or_else(|_| read_source())
}

fn read_source() -> &'static str {
    if let Some(source) = *SERVICE_NAME.read().unwrap_or_else(PoisonError::into_inner) {
        return source;
    }
    static FROM_ENV: OnceLock<String> = OnceLock::new();
    FROM_ENV.get_or_init(|| format!("openedx/{}/web", env_service_name().as_deref().unwrap_or("SERVICE_NAME_UNSET")))
}

fn sourcehost() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| gethostname::gethostname().to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sourcelib_is_the_crate_version() {
        let expected: Vec<u32> = env!("CARGO_PKG_VERSION").split('.').map(|p| p.parse().unwrap()).collect();
        assert_eq!(SOURCELIB.to_vec(), expected);
    }

    #[test]
    fn generated_ids_are_v1_and_distinct() {
        let a = new_event_id(since_epoch());
        let b = new_event_id(since_epoch());
        assert_eq!(a.get_version_num(), 1);
        assert_ne!(a, b);
    }

    #[test]
    fn the_id_and_the_time_come_from_one_clock_read() {
        let metadata = EventsMetadata::new("org.openedx.testing.one.clock.read.v1");
        let (seconds, nanos) = metadata.id.get_timestamp().expect("a v1 id has a timestamp").to_unix();
        assert_eq!(metadata.time.timestamp(), i64::try_from(seconds).unwrap());
        assert_eq!(metadata.time.timestamp_subsec_micros(), nanos / 1_000);
        assert_eq!(metadata.time.timestamp_subsec_nanos() % 1_000, 0);
    }

    #[test]
    fn a_thread_sees_a_service_name_set_after_its_first_event() {
        use std::sync::mpsc;
        // `source` caches per thread; a thread that already sent must still see a new name.
        let (ask, questions) = mpsc::channel::<()>();
        let (answer, answers) = mpsc::channel();
        let sender = std::thread::spawn(move || {
            for () in questions {
                answer.send(source()).unwrap();
            }
        });
        let source_now = || {
            ask.send(()).unwrap();
            answers.recv().unwrap()
        };
        let before = source_now();
        set_service_name(Some("cache-test"));
        assert_eq!(source_now(), "openedx/cache-test/web");
        set_service_name(None);
        assert_eq!(source_now(), before);
        drop(ask);
        sender.join().unwrap();
    }
}
