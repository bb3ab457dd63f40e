//! The `analytics` signal and its payload.

use openedx_events::openedx_event;

use crate::analytics::data::TrackingLogData;

/// Sent each time the event-tracking library records a tracking-log event, so that the log can
/// be forwarded (over the event bus, for instance) to analytics consumers.
///
/// Emitted by `openedx/event-tracking`. Keyed on the event bus by the tracking event's name
/// (`tracking_log.name`).
#[openedx_event(
    name = TRACKING_EVENT_EMITTED,
    event_type = "org.openedx.analytics.tracking.event.emitted.v1",
    key_field = "tracking_log.name"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct TrackingEventEmitted {
    /// The tracking-log entry.
    pub tracking_log: TrackingLogData,
}
