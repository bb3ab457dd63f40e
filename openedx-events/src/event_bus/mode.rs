//! Production modes (upstream's ADR 0015): when an event configured for the bus is produced.
//!
//! - [`ProducerMode::Immediate`]: by the producing receiver, as `send_event` runs (what
//!   [`start_producing`](super::start_producing) always did).
//! - [`ProducerMode::OnCommit`]: after the database transaction the event belongs to commits.
//!   Sent inside a transaction through the outbox crate (`openedx-events-outbox`), the event's
//!   messages wait in that transaction and leave once it committed; sent outside any
//!   transaction, there is nothing to wait for and it is produced at once, as upstream's
//!   `on_commit` does outside an atomic block.
//! - [`ProducerMode::Outbox`]: the messages are written into an outbox table in the sender's
//!   transaction and a relay produces them; sending such an event outside a transaction is an
//!   error in the producing receiver's response (the event is logged as JSON, never produced by
//!   surprise).
//!
//! Code that owns a transaction (the outbox crate) runs `send_event` inside
//! [`capture_outgoing`] (or [`CaptureOutgoing`] for `send_event_async`): the producing receiver
//! then hands it the bus messages of on-commit and outbox events instead of producing them.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};

use super::{EventKey, OutgoingMessage};
use crate::metadata::EventsMetadata;
use crate::signal::AnySignal;

/// When an event configured for the bus is produced (`EVENT_BUS_PRODUCER_MODE`, and `mode` per
/// event in `EVENT_BUS_PRODUCER_CONFIG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProducerMode {
    /// `on-commit`, upstream's default: after the sender's transaction commits; at once outside
    /// a transaction. A crash between the commit and the produce loses the event.
    #[default]
    OnCommit,
    /// `outbox`: written into the outbox table in the sender's transaction, produced by a relay;
    /// nothing is lost and nothing is produced for a rolled-back transaction.
    Outbox,
    /// `immediate`: as `send_event` runs, whatever the transaction does later.
    Immediate,
}

impl ProducerMode {
    /// Every mode, by its setting's name.
    pub const ALL: [ProducerMode; 3] = [ProducerMode::OnCommit, ProducerMode::Outbox, ProducerMode::Immediate];

    /// Its name in settings: `on-commit`, `outbox` or `immediate`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProducerMode::OnCommit => "on-commit",
            ProducerMode::Outbox => "outbox",
            ProducerMode::Immediate => "immediate",
        }
    }

    /// What a valid setting looks like, for error messages.
    pub const EXPECTED: &'static str = "`on-commit`, `outbox` or `immediate`";

    /// The global mode in `EVENT_BUS_PRODUCER_MODE`; `None` when it is unset or empty.
    pub fn from_env() -> Result<Option<ProducerMode>, super::ConfigErrors> {
        match std::env::var("EVENT_BUS_PRODUCER_MODE") {
            Ok(value) if !value.trim().is_empty() => value.trim().parse().map(Some).map_err(|_| {
                super::ConfigError::InvalidSetting {
                    name: "EVENT_BUS_PRODUCER_MODE",
                    value,
                    expected: Some(Self::EXPECTED),
                }
                .into()
            }),
            _ => Ok(None),
        }
    }
}

impl fmt::Display for ProducerMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no [`ProducerMode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a producer mode; expected `on-commit`, `outbox` or `immediate`")]
pub struct UnknownMode(pub String);

impl FromStr for ProducerMode {
    type Err = UnknownMode;

    /// Upstream's names; `on_commit` (with an underscore) is accepted too.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "on-commit" | "on_commit" => Ok(ProducerMode::OnCommit),
            "outbox" => Ok(ProducerMode::Outbox),
            "immediate" => Ok(ProducerMode::Immediate),
            other => Err(UnknownMode(other.to_owned())),
        }
    }
}

/// A bus message the producing receiver handed to [`capture_outgoing`] instead of producing it:
/// everything a producer (or an outbox row) needs, owned.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CapturedMessage {
    /// The event's signal.
    pub signal: &'static dyn AnySignal,
    /// The event's mode (on-commit or outbox).
    pub mode: ProducerMode,
    /// The topic, without the environment prefix.
    pub topic: String,
    /// The key field's dotted path.
    pub event_key_field: Option<String>,
    /// The value at the key field.
    pub event_key: Option<EventKey>,
    /// The payload as schemaless Avro.
    pub event_data: Vec<u8>,
    /// The event's metadata.
    pub metadata: EventsMetadata,
}

impl CapturedMessage {
    pub(crate) fn of(message: &OutgoingMessage<'_>, mode: ProducerMode) -> Self {
        CapturedMessage {
            signal: message.signal,
            mode,
            topic: message.topic.to_owned(),
            event_key_field: message.event_key_field.map(str::to_owned),
            event_key: message.event_key.cloned(),
            event_data: message.event_data.to_vec(),
            metadata: message.metadata.clone(),
        }
    }

    /// The message as a producer is handed it.
    pub fn as_outgoing(&self) -> OutgoingMessage<'_> {
        OutgoingMessage::new(
            self.signal,
            &self.topic,
            self.event_key_field.as_deref(),
            &self.event_data,
            &self.metadata,
        )
        .with_key(self.event_key.as_ref())
    }
}

thread_local! {
    static CAPTURE: RefCell<Option<Vec<CapturedMessage>>> = const { RefCell::new(None) };
}

/// Hands the message `make` builds to the capture running on this thread, if any; whether there
/// was one.
pub(crate) fn try_capture(make: impl FnOnce() -> CapturedMessage) -> bool {
    CAPTURE.with(|capture| match capture.borrow_mut().as_mut() {
        Some(captured) => {
            captured.push(make());
            true
        }
        None => false,
    })
}

/// Runs `f` (which sends events) so that the producing receiver hands over the bus messages of
/// on-commit and outbox events instead of producing them; returns what `f` returned and those
/// messages, in the order they were sent. Immediate events are produced as usual.
pub fn capture_outgoing<R>(f: impl FnOnce() -> R) -> (R, Vec<CapturedMessage>) {
    let outer = CAPTURE.with(|capture| capture.replace(Some(Vec::new())));
    let result = f();
    let captured = CAPTURE.with(|capture| capture.replace(outer)).unwrap_or_default();
    (result, captured)
}

/// [`capture_outgoing`] for a future (`send_event_async`): the capture is in force while the
/// future is polled, where the producing receiver runs. Resolves to the future's output and the
/// captured messages.
#[must_use = "futures do nothing unless awaited"]
pub struct CaptureOutgoing<F> {
    future: Pin<Box<F>>,
    captured: Vec<CapturedMessage>,
}

impl<F: Future> CaptureOutgoing<F> {
    /// Captures what `future` sends.
    pub fn new(future: F) -> Self {
        CaptureOutgoing { future: Box::pin(future), captured: Vec::new() }
    }
}

impl<F> fmt::Debug for CaptureOutgoing<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureOutgoing").field("captured", &self.captured.len()).finish_non_exhaustive()
    }
}

impl<F: Future> Future for CaptureOutgoing<F> {
    type Output = (F::Output, Vec<CapturedMessage>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (poll, mut captured) = capture_outgoing(|| this.future.as_mut().poll(cx));
        this.captured.append(&mut captured);
        match poll {
            Poll::Ready(output) => Poll::Ready((output, std::mem::take(&mut this.captured))),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_by_upstream_names() {
        for mode in ProducerMode::ALL {
            assert_eq!(mode.as_str().parse::<ProducerMode>(), Ok(mode));
        }
        assert_eq!("on_commit".parse::<ProducerMode>(), Ok(ProducerMode::OnCommit));
        assert_eq!("later".parse::<ProducerMode>(), Err(UnknownMode("later".to_owned())));
        assert_eq!(ProducerMode::default(), ProducerMode::OnCommit);
    }

    #[test]
    fn nothing_is_captured_outside_a_capture() {
        let ((), captured) = capture_outgoing(|| ());
        assert!(captured.is_empty());
        CAPTURE.with(|capture| assert!(capture.borrow().is_none()));
    }
}
