//! The event bus commands, on the Redis Streams backend: `produce` (upstream's `produce_event`
//! management command), `consume` (upstream's `consume_events`) and `dead-letters`.
//!
//! Every command reads the event bus settings as a service does (`RedisSettings::from_env`),
//! with `--redis-url` and `--topic-prefix` taking precedence over their variables.

use std::any::Any;
use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use openedx_events::event_bus::{
    ConsumeError, EventBusConsumer, ProduceError, ShutdownHandle, dead_letter_topic, resolve_key_field,
};
use openedx_events::{AnySignal, BoxError, EventsMetadata, ReceiverId};
pub(crate) use openedx_events_redis::StartFrom;
use openedx_events_redis::{DeadLetter, RedisConsumer, RedisProducer, RedisSettings};
use serde_json::{Value, json};

use crate::commands::{emit, json_to_avro, note, serializable};
use crate::error::CliError;
use crate::webhook::{Webhook, WebhookArgs};
use crate::{lookup, render};

/// `consume` says how many events it handled every this many events.
const PROGRESS_EVERY: u64 = 1000;

/// Where the bus is, as given on the command line; the rest comes from the environment.
#[derive(Debug, Default)]
pub(crate) struct Connection {
    /// `--redis-url`, over `EVENT_BUS_REDIS_CONNECTION_URL`.
    pub(crate) redis_url: Option<String>,
    /// `--topic-prefix`, over `EVENT_BUS_TOPIC_PREFIX`; empty for none.
    pub(crate) topic_prefix: Option<String>,
}

impl Connection {
    /// The settings from the environment, with the command line's URL and prefix over them; an
    /// error when there is no Redis URL at all.
    pub(crate) fn settings(&self) -> Result<RedisSettings, CliError> {
        let mut settings = RedisSettings::from_env().map_err(|error| CliError::BusSettings(error.to_string()))?;
        if let Some(url) = &self.redis_url {
            settings.url = Some(url.as_str().into());
        }
        if let Some(prefix) = &self.topic_prefix {
            settings.topic_prefix = Some(prefix.clone()).filter(|prefix| !prefix.is_empty());
        }
        match &settings.url {
            Some(url) if !url.expose().is_empty() => Ok(settings),
            _ => Err(CliError::NoRedisUrl),
        }
    }
}

/// `produce`: the JSON form of the event's data on `input`, produced to `topic` with new
/// metadata; prints the stream entry's id on `out`.
pub(crate) fn produce(
    connection: &Connection,
    query: &str,
    topic: &str,
    key_field: Option<&str>,
    input: &mut dyn Read,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<(), CliError> {
    let signal = lookup::find(query)?;
    serializable(signal)?;
    // Upstream's producer checks the key field against the payload; Redis streams do not
    // partition by key, so that is all it is used for here.
    if let Some(path) = key_field {
        resolve_key_field(signal.data(), path).map(drop).map_err(|reason| CliError::KeyField {
            path: path.to_owned(),
            event_type: signal.event_type(),
            reason: reason.to_string(),
        })?;
    }
    let settings = connection.settings()?;
    let event_data = json_to_avro(signal, input)?;
    let metadata = signal.generate_signal_metadata(None);
    let url = redacted_url(&settings);
    let full_topic = settings.full_topic(topic);
    let producer = RedisProducer::new(settings).map_err(|error| produce_error(&url, error))?;
    let entry_id =
        producer.send_to_stream(&full_topic, &metadata, &event_data).map_err(|error| produce_error(&url, error))?;
    note(notes, &format!("produced `{}` with id {} to `{full_topic}`", signal.event_type(), metadata.id));
    emit(out, format!("{entry_id}\n").as_bytes())
}

/// What `consume` reads and what it does with each event.
#[derive(Debug)]
pub(crate) struct ConsumeOptions {
    /// The topic, without the prefix.
    pub(crate) topic: String,
    /// The consumer group.
    pub(crate) group_id: String,
    /// The consumer's name in the group; the host name when not given.
    pub(crate) consumer_name: Option<String>,
    /// Where a new group starts.
    pub(crate) start: StartFrom,
    /// POST each event here instead of printing it.
    pub(crate) webhook: Option<String>,
    /// How (see `webhook.rs`).
    pub(crate) webhook_args: WebhookArgs,
    /// Stop after this many events were printed or posted.
    pub(crate) max_events: Option<u64>,
}

/// `consume`: reads the topic as a member of the group and dispatches each event to the
/// receivers of this program, among them one that prints it as a JSON line on stdout or POSTs
/// it to the webhook; until Ctrl-C or SIGTERM, or `max_events`.
pub(crate) fn consume(connection: &Connection, options: ConsumeOptions, notes: &mut dyn Write) -> Result<(), CliError> {
    let mut settings = connection.settings()?;
    // Batches of 500: fewer round trips, and each batch's lines go out in one write. A webhook's
    // batch is acknowledged when its slowest event is delivered, which retries may make minutes:
    // a few events per key lane keep fewer in hand, for others of the group to claim meanwhile.
    settings.batch_size = if options.webhook.is_some() { options.webhook_args.concurrency() * 4 } else { 500 };
    let sink = Arc::new(match &options.webhook {
        Some(url) => Sink::Webhook(Box::new(Webhook::new(url, &options.webhook_args)?)),
        None => Sink::Stdout(Mutex::new(Vec::with_capacity(1 << 16))),
    });
    let url = redacted_url(&settings);
    let consumer_name = options.consumer_name.clone().unwrap_or_else(default_consumer_name);
    let flushing = Arc::clone(&sink);
    let mut consumer = RedisConsumer::builder(settings)
        .topic(&options.topic)
        .group(&options.group_id)
        .consumer_name(&consumer_name)
        .start(options.start.clone())
        // The lines of a batch are written out before the batch is acknowledged, so that what
        // the bus forgets has reached standard output.
        .before_acknowledge(move || flushing.flush())
        .concurrency(if options.webhook.is_some() { options.webhook_args.concurrency() } else { 1 })
        .build()
        .map_err(|error| consume_error(&url, error))?;
    let shutdown = consumer.shutdown_handle();
    if let Sink::Webhook(webhook) = &*sink {
        webhook.stop_with(shutdown.clone());
    }
    if let Err(error) = stop_on_signals(shutdown.clone()) {
        note(notes, &format!("Ctrl-C will not stop the consumer cleanly: {error}"));
    }
    let progress = Arc::new(Progress { handled: AtomicU64::new(0), max: options.max_events, shutdown });
    let _receivers = BuiltInReceivers::connect(Arc::clone(&sink), Arc::clone(&progress), Flush::BeforeAcknowledge);
    let stream = consumer.stream().to_owned();
    note(notes, &format!("consuming `{stream}` as `{consumer_name}` in group `{}`; Ctrl-C stops", options.group_id));
    // The consumer runs on a thread of its own while this one waits: a signal sent to the
    // process is handled on the main thread, and so does not interrupt a Redis read (a socket
    // read with a timeout is not restarted after a signal handler, `SA_RESTART` or not; see
    // signal(7)), which would fail the command or leave the message in hand unacknowledged.
    let stats = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // The first round shows at once whether Redis can be reached and the group made;
                // after it, the consumer rides out Redis going away.
                if let Err(error) = consumer.poll()
                    && !progress.shutdown.is_shutdown()
                {
                    let message = format!("cannot consume `{stream}`: {error}");
                    return Err(CliError::Bus { url: url.clone(), message });
                }
                consumer.consume_indefinitely().map_err(|error| consume_error(&url, error))?;
                Ok(consumer.stats())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    note(
        notes,
        &format!(
            "stopped: {} delivered, {} dead-lettered, {} reclaimed",
            stats.delivered, stats.dead_lettered, stats.reclaimed
        ),
    );
    match &*sink {
        Sink::Webhook(webhook) if webhook.is_gone() => Err(CliError::WebhookGone { url: webhook.url() }),
        _ => Ok(()),
    }
}

/// `dead-letters`: the topic's dead letters as a table or JSON, or (with `redrive`) all of them
/// or those with `ids` produced again to the topic.
pub(crate) fn dead_letters(
    connection: &Connection,
    topic: &str,
    json: bool,
    redrive: bool,
    ids: &[String],
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<(), CliError> {
    let settings = connection.settings()?;
    let url = redacted_url(&settings);
    let full_topic = settings.full_topic(topic);
    let stream = dead_letter_topic(&full_topic);
    let letters = openedx_events_redis::dead_letters(&settings, topic).map_err(|error| consume_error(&url, error))?;
    if redrive {
        if let Some(id) = ids.iter().find(|id| !letters.iter().any(|letter| letter.id == **id)) {
            return Err(CliError::UnknownDeadLetter { id: id.clone(), stream });
        }
        let only = if ids.is_empty() { None } else { Some(ids) };
        let count =
            openedx_events_redis::redrive(&settings, topic, only).map_err(|error| consume_error(&url, error))?;
        let plural = if count == 1 { "" } else { "s" };
        return emit(out, format!("re-drove {count} dead letter{plural} to `{full_topic}`\n").as_bytes());
    }
    if json {
        let array: Vec<Value> = letters.iter().map(dead_letter_json).collect();
        return emit(out, format!("{:#}\n", Value::Array(array)).as_bytes());
    }
    if letters.is_empty() {
        note(notes, &format!("no dead letters in `{stream}`"));
        return Ok(());
    }
    let rows: Vec<[String; 5]> = letters
        .iter()
        .map(|letter| {
            [
                letter.id.clone(),
                letter.original_id.clone(),
                event_type_of(letter),
                letter.attempts.to_string(),
                letter.error.split_whitespace().collect::<Vec<_>>().join(" "),
            ]
        })
        .collect();
    emit(out, render::aligned(["ID", "ORIGINAL ID", "EVENT TYPE", "ATTEMPTS", "ERROR"], &rows).as_bytes())
}

/// The Redis URL with its password masked, to name it in errors.
fn redacted_url(settings: &RedisSettings) -> String {
    settings.url.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn produce_error(url: &str, error: ProduceError) -> CliError {
    match error {
        ProduceError::NotConfigured(reason) => CliError::BusSettings(reason),
        other => CliError::Bus { url: url.to_owned(), message: other.to_string() },
    }
}

fn consume_error(url: &str, error: ConsumeError) -> CliError {
    match error {
        ConsumeError::NotConfigured(reason) => CliError::BusSettings(reason),
        other => CliError::Bus { url: url.to_owned(), message: other.to_string() },
    }
}

/// The default consumer name: the host name, stable across restarts, so that a restarted
/// `consume` takes back what it left unacknowledged.
fn default_consumer_name() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    if host.is_empty() { "openedx-events".to_owned() } else { host }
}

/// Ctrl-C, SIGTERM and SIGHUP ask the consumer to stop after the message in hand; a second one
/// stops at once (what was not acknowledged is delivered again later).
pub(crate) fn stop_on_signals(shutdown: ShutdownHandle) -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(move || {
        if shutdown.is_shutdown() {
            std::process::exit(130);
        }
        shutdown.shutdown();
    })
}

/// The event type in a dead letter's fields.
fn event_type_of(letter: &DeadLetter) -> String {
    letter
        .fields
        .iter()
        .find(|(name, _)| name == b"type")
        .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
        .unwrap_or_default()
}

fn dead_letter_json(letter: &DeadLetter) -> Value {
    json!({
        "id": letter.id,
        "original_id": letter.original_id,
        "event_type": event_type_of(letter),
        "attempts": letter.attempts,
        "error": letter.error,
    })
}

/// Counts the events the built-in receiver handled, and stops the consumer at the limit.
pub(crate) struct Progress {
    pub(crate) handled: AtomicU64,
    pub(crate) max: Option<u64>,
    pub(crate) shutdown: ShutdownHandle,
}

impl Progress {
    pub(crate) fn one_more(&self) {
        let handled = self.handled.fetch_add(1, Ordering::SeqCst) + 1;
        if handled.is_multiple_of(PROGRESS_EVERY) {
            note(&mut io::stderr(), &format!("{handled} events handled"));
        }
        if self.max.is_some_and(|max| handled >= max) {
            self.shutdown.shutdown();
        }
    }
}

/// What the built-in receiver does with each event.
pub(crate) enum Sink {
    /// Prints it as one JSON line on stdout: lines gather here, and are written out (and
    /// flushed) before each acknowledgement, in one write a batch.
    Stdout(Mutex<Vec<u8>>),
    /// POSTs it to the webhook (boxed: it is much larger than the other).
    Webhook(Box<Webhook>),
}

impl Sink {
    /// The receiver's name, as it appears in dead letters' errors.
    pub(crate) fn receiver_name(&self) -> &'static str {
        match self {
            Sink::Stdout(_) => "openedx-events consume (stdout)",
            Sink::Webhook(_) => "openedx-events consume (webhook)",
        }
    }

    pub(crate) fn handle(
        &self,
        signal: &dyn AnySignal,
        data: &dyn Any,
        metadata: &EventsMetadata,
    ) -> Result<(), BoxError> {
        match self {
            Sink::Stdout(lines) => {
                let mut lines = lines.lock().unwrap_or_else(PoisonError::into_inner);
                let start = lines.len();
                // `to_json` is already upstream's JSON form: written as it is, not parsed again;
                // the data writes its own JSON text, with no `Value` in between.
                lines.extend_from_slice(b"{\"metadata\":");
                lines.extend_from_slice(metadata.to_json().as_bytes());
                lines.extend_from_slice(b",\"data\":");
                if !signal.write_data_json(data, &mut lines) {
                    lines.truncate(start);
                    return Err(format!("the payload is not the data of `{}`", signal.event_type()).into());
                }
                lines.extend_from_slice(b"}\n");
                Ok(())
            }
            Sink::Webhook(webhook) => webhook.post(signal, data, metadata),
        }
    }

    /// Writes out the lines gathered since the last acknowledgement.
    pub(crate) fn flush(&self) {
        let Sink::Stdout(lines) = self else { return };
        // Written under the lock (the consumer's thread is the only one that takes it) and
        // cleared, not taken: the buffer keeps its size from batch to batch, where growing a
        // new one each time cost copies and page faults.
        let mut lines = lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.is_empty() {
            return;
        }
        let mut stdout = io::stdout().lock();
        let written = stdout.write_all(&lines).and_then(|()| stdout.flush());
        lines.clear();
        if let Err(error) = written {
            // Nobody reads what we print: stop as if the process died, before the messages are
            // acknowledged, so that they are delivered again later rather than lost or
            // dead-lettered. A reader that stopped reading is not a failure.
            let broken_pipe = error.kind() == io::ErrorKind::BrokenPipe;
            if !broken_pipe {
                let _ = writeln!(io::stderr(), "error: cannot write to standard output: {error}");
            }
            std::process::exit(if broken_pipe { 0 } else { 1 });
        }
    }
}

/// The built-in receiver, connected to every signal of the registry; disconnected when dropped.
pub(crate) struct BuiltInReceivers(Vec<(&'static dyn AnySignal, ReceiverId)>);

/// When the built-in receiver writes its lines out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flush {
    /// Before each acknowledgement, a batch at a time (the Redis consumer's hook does it).
    BeforeAcknowledge,
    /// After each event: Kafka stores the offset as soon as the receiver returns.
    EachEvent,
}

impl BuiltInReceivers {
    pub(crate) fn connect(sink: Arc<Sink>, progress: Arc<Progress>, flush: Flush) -> Self {
        let connections = openedx_events::all_events()
            .map(|signal| {
                let (sink, progress) = (Arc::clone(&sink), Arc::clone(&progress));
                let name = sink.receiver_name();
                let receiver = Arc::new(move |data: &dyn Any, metadata: &EventsMetadata| -> Result<(), BoxError> {
                    sink.handle(signal, data, metadata)?;
                    if flush == Flush::EachEvent {
                        sink.flush();
                    }
                    progress.one_more();
                    Ok(())
                });
                (signal, signal.connect_erased(Cow::Borrowed(name), receiver))
            })
            .collect();
        BuiltInReceivers(connections)
    }
}

impl Drop for BuiltInReceivers {
    fn drop(&mut self) {
        for (signal, id) in self.0.drain(..) {
            signal.disconnect(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_fields_resolve_through_nested_records() {
        let data = lookup::find("COURSE_ENROLLMENT_CREATED").unwrap().data();
        assert!(resolve_key_field(data, "enrollment.course.course_key").is_ok());
        assert!(resolve_key_field(data, "enrollment.created_by.pii.username").is_ok(), "through an `Option`");
        assert_eq!(
            resolve_key_field(data, "enrollment.course.key").unwrap_err().to_string(),
            "`CourseData` has no field `key` (its fields: `course_key`, `display_name`, `start`, `end`)"
        );
        assert_eq!(
            resolve_key_field(data, "enrollment.mode.name").unwrap_err().to_string(),
            "`mode` is a `String`, which has no fields"
        );
    }

    #[test]
    fn passwords_are_masked_in_urls() {
        let url = |url: &str| redacted_url(&RedisSettings::default().with_url(url));
        assert_eq!(url("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
        assert_eq!(url("redis://user:secret@host:6379/0"), "redis://user:***@host:6379/0");
        assert_eq!(url("redis://:secret@host"), "redis://:***@host");
        assert_eq!(url("rediss://token@host/1"), "rediss://***@host/1");
        assert_eq!(url("not a url"), "not a url");
    }
}
