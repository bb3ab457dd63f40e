//! What can go wrong in a command, each case naming what was wrong, and its exit code.

use std::fmt;
use std::io;
use std::path::PathBuf;

use openedx_events::CodecError;
use openedx_events::avro::{DecodeError, UnserializableEvent};

/// The exit code of a command line that is wrong: a usage error from clap, an unknown event, or
/// (for the bus commands) missing or invalid settings.
pub(crate) const USAGE: u8 = 2;

/// The exit code of every other failure: input that does not fit, an event without a wire form,
/// a file that cannot be written.
const FAILURE: u8 = 1;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// No event has this type or signal name.
    #[error("unknown event `{query}`; {}", Suggestions(.suggestions))]
    UnknownEvent {
        /// What the user asked for.
        query: String,
        /// Event types or signal names close to it, best first.
        suggestions: Vec<&'static str>,
    },
    /// The event has no wire form, so it has no schema and no Avro bytes.
    #[error(transparent)]
    Unserializable(#[from] UnserializableEvent),
    /// Standard input is not JSON at all.
    #[error("standard input is not valid JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The JSON does not fit the event's data; the codec error names the field.
    #[error("cannot encode `{event_type}`: {source}")]
    Encode {
        /// The event's type.
        event_type: &'static str,
        /// What did not fit, and where.
        source: CodecError,
    },
    /// Standard input is not hex text.
    #[error("standard input is not valid hex: {0}")]
    InvalidHex(String),
    /// The bytes are not the event's data in Avro; the decode error names the field.
    #[error("cannot decode `{event_type}`: {source}")]
    Decode {
        /// The event's type.
        event_type: &'static str,
        /// What was wrong with the bytes, and where.
        source: DecodeError,
    },
    /// Standard input could not be read.
    #[error("cannot read standard input: {0}")]
    Input(#[source] io::Error),
    /// Standard output could not be written.
    #[error("cannot write to standard output: {0}")]
    Output(#[source] io::Error),
    /// A bus command has no Redis URL.
    #[cfg(feature = "redis")]
    #[error("no Redis URL; pass `--redis-url` or set `EVENT_BUS_REDIS_CONNECTION_URL`")]
    NoRedisUrl,
    /// An event bus setting is invalid: an `EVENT_BUS_*` variable, or the Redis URL.
    #[cfg(feature = "redis")]
    #[error("invalid event bus setting: {0}")]
    BusSettings(String),
    /// `--key-field` does not lead to a field of the event's data.
    #[cfg(feature = "redis")]
    #[error("key field `{path}` does not resolve through the data of `{event_type}`: {reason}")]
    KeyField {
        /// The dotted path given.
        path: String,
        /// The event's type.
        event_type: &'static str,
        /// Where the path stops.
        reason: String,
    },
    /// `--webhook` is not an `http://` or `https://` URL.
    #[cfg(feature = "redis")]
    #[error("invalid webhook URL `{url}`: {reason}")]
    WebhookUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The webhook answered `410 Gone`: the consumer stopped.
    #[cfg(feature = "redis")]
    #[error(
        "the webhook {url} answered 410 Gone; the consumer stopped, and the events it had not delivered stay in the stream"
    )]
    WebhookGone {
        /// The URL, redacted.
        url: String,
    },
    /// `--id` names no dead letter of the topic.
    #[cfg(feature = "redis")]
    #[error("no dead letter with id `{id}` in `{stream}`; `openedx-events dead-letters` lists them")]
    UnknownDeadLetter {
        /// The id given.
        id: String,
        /// The dead-letter stream.
        stream: String,
    },
    /// Redis could not be reached, or refused a command.
    #[cfg(feature = "redis")]
    #[error("Redis at `{url}`: {message}")]
    Bus {
        /// The Redis URL, without its password.
        url: String,
        /// What failed, and what Redis or the network said.
        message: String,
    },
    /// `console` cannot start as asked: an address it must not or cannot listen on, a bad token.
    #[cfg(feature = "redis")]
    #[error("{0}")]
    Console(String),
    /// `console` could not open its port.
    #[cfg(feature = "redis")]
    #[error("{0}")]
    ConsoleServer(String),
    /// The outbox could not be read or relayed (PostgreSQL unreachable, the table missing).
    #[cfg(feature = "outbox")]
    #[error("{0}")]
    Outbox(String),
    /// A file or folder could not be written.
    #[error("cannot write `{}`: {source}", .path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl CliError {
    /// The process's exit code for this error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::UnknownEvent { .. } => USAGE,
            #[cfg(feature = "redis")]
            CliError::NoRedisUrl
            | CliError::BusSettings(_)
            | CliError::KeyField { .. }
            | CliError::WebhookUrl { .. }
            | CliError::UnknownDeadLetter { .. }
            | CliError::Console(_) => USAGE,
            _ => FAILURE,
        }
    }
}

/// The tail of an unknown-event message: the close matches, or where to find every event.
struct Suggestions<'a>(&'a [&'static str]);

impl fmt::Display for Suggestions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("`openedx-events list` shows every event"),
            [only] => write!(f, "did you mean `{only}`?"),
            [first, rest @ ..] => {
                write!(f, "did you mean one of `{first}`")?;
                for suggestion in rest {
                    write!(f, ", `{suggestion}`")?;
                }
                f.write_str("?")
            }
        }
    }
}
