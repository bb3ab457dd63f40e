//! Producing by configuration: once started, `send_event` on a configured signal also produces
//! the event to every enabled topic, except events that came from the bus.

use std::borrow::Cow;
use std::sync::Arc;

use super::config::ProducerConfig;
use super::mode::{CapturedMessage, ProducerMode, try_capture};
use super::{EventBusProducer, OutgoingMessage, ProduceError};
use crate::receiver::{ErasedReceiverFn, ReceiverId};
use crate::signal::AnySignal;

/// The name the producing receiver has in `ReceiverResponse`s.
pub const PRODUCER_RECEIVER_NAME: &str = "openedx_events::event_bus::producer";

/// Producing started by [`start_producing`]; dropping it stops producing.
#[must_use = "producing stops when the guard is dropped"]
pub struct ProducingGuard {
    connections: Vec<(&'static dyn AnySignal, ReceiverId)>,
}

impl ProducingGuard {
    /// The event types being produced.
    pub fn event_types(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.connections.iter().map(|(signal, _)| signal.event_type())
    }
}

impl std::fmt::Debug for ProducingGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducingGuard").field("event_types", &self.event_types().collect::<Vec<_>>()).finish()
    }
}

impl Drop for ProducingGuard {
    fn drop(&mut self) {
        for (signal, id) in self.connections.drain(..) {
            signal.disconnect(id);
        }
    }
}

/// Connects a producing receiver to every signal of the configuration that has an enabled
/// topic. For each event it sends (and did not receive from the bus), the receiver encodes the
/// data once and produces it to each enabled topic, as the event's [mode](ProducerMode) says:
/// at once (`immediate`, and `on-commit` outside a transaction), or handed to the transaction's
/// [capture](super::capture_outgoing) (`on-commit` and `outbox` inside one); an `outbox` event
/// sent outside a transaction fails with [`ProduceError::OutsideTransaction`]. A failure is returned in that receiver's
/// `ReceiverResponse` and logged with the event's metadata and data as JSON, so it can be
/// produced again by hand.
pub fn start_producing(config: &ProducerConfig, producer: Arc<dyn EventBusProducer>) -> ProducingGuard {
    let mut connections = Vec::new();
    for (signal, topics) in config.events() {
        let routes: Vec<(String, String)> = topics
            .iter()
            .filter(|topic| topic.enabled)
            .map(|topic| (topic.topic.clone(), topic.event_key_field.clone()))
            .collect();
        if routes.is_empty() {
            continue;
        }
        let producer = Arc::clone(&producer);
        let mode = config.mode(signal.event_type());
        let receiver: ErasedReceiverFn = Arc::new(move |data, metadata| {
            if metadata.from_event_bus() {
                tracing::debug!(
                    event_type = signal.event_type(),
                    "not producing an event that came from the event bus"
                );
                return Ok(());
            }
            let event_data = signal.encode_any_avro(data).map_err(ProduceError::from)?;
            let mut failures = Vec::new();
            for (topic, key_field) in &routes {
                let event_key = signal.event_key(data, key_field);
                let message = OutgoingMessage::new(signal, topic, Some(key_field), &event_data, metadata)
                    .with_key(event_key.as_ref());
                let result = match mode {
                    ProducerMode::Immediate => producer.send(&message),
                    _ if try_capture(|| CapturedMessage::of(&message, mode)) => Ok(()),
                    ProducerMode::Outbox => {
                        Err(ProduceError::OutsideTransaction { event_type: signal.event_type().to_owned() })
                    }
                    _ => producer.send(&message),
                };
                if let Err(error) = result {
                    let data_json = signal.data_to_json(data).map(|d| d.to_string()).unwrap_or_default();
                    tracing::error!(
                        event_type = signal.event_type(),
                        topic = %topic,
                        metadata = %metadata.to_json(),
                        data = %data_json,
                        "could not produce an event to the event bus: {error}"
                    );
                    failures.push(error);
                }
            }
            match failures.len() {
                0 => Ok(()),
                1 => Err(failures.remove(0).into()),
                _ => Err(ProduceError::Several(failures).into()),
            }
        });
        let id = signal.connect_erased(Cow::Borrowed(PRODUCER_RECEIVER_NAME), receiver);
        connections.push((signal, id));
    }
    ProducingGuard { connections }
}
