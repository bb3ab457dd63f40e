//! Typed, versioned Open edX events for Rust.
//!
//! Open edX services announce what happened (a learner enrolled, a course was published) by
//! sending *events*: typed payloads with [`EventsMetadata`], identified by an event type such as
//! `org.openedx.learning.course.enrollment.created.v1`. This crate is the Rust side of the
//! Python package `openedx-events`: define an event with [`#[openedx_event]`](openedx_event),
//! react to it with [`#[receiver]`](receiver), send it with
//! [`OpenEdxPublicSignal::send_event`]. What Python checks when an event is sent, Rust checks when
//! the program is compiled.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use openedx_events::{openedx_event, receiver, EventData, EventsMetadata};
//!
//! #[derive(EventData, Clone, Debug, PartialEq)]
//! pub struct LearnerData {
//!     pub id: i64,
//!     pub username: String,
//!     pub email: Option<String>,
//! }
//!
//! /// Emitted when a learner earns a badge.
//! #[openedx_event(
//!     name = BADGE_EARNED,
//!     event_type = "org.openedx.learning.badge.earned.v1",
//!     key_field = "learner.username",
//! )]
//! #[derive(Clone, Debug, PartialEq)]
//! pub struct BadgeEarned {
//!     pub learner: LearnerData,
//!     pub badge: String,
//!     pub earned_at: DateTime<Utc>,
//! }
//!
//! #[receiver(BADGE_EARNED)]
//! fn congratulate(data: &BadgeEarned, _metadata: &EventsMetadata) -> Result<(), String> {
//!     println!("well done, {}", data.learner.username);
//!     Ok(())
//! }
//!
//! let responses = BADGE_EARNED.send_event(BadgeEarned {
//!     learner: LearnerData { id: 7, username: "ada".into(), email: None },
//!     badge: "first-steps".into(),
//!     earned_at: Utc::now(),
//! });
//! assert!(responses.iter().all(|r| r.result.is_ok()));
//! ```
//!
//! # Details
//!
//! - Receivers register themselves: no set-up call. A crate holding receivers must be linked
//!   into the program: used by code, or named with `use that_crate as _;`.
//! - Receivers do not run in any particular order, on the thread that sends.
//! - A receiver that returns an error or panics does not stop the others; every outcome is in the
//!   returned [`ReceiverResponse`]s and logged through `tracing`.
//! - Sending is thread-safe and costs little more than calling the receivers: the receivers of a
//!   signal are found once, and the hot path takes no lock.
//! - [`all_events`] and [`get_signal_by_type`] find signals at run time, type-erased as
//!   [`AnySignal`]; [`testing`] isolates and captures events in tests.
#![forbid(unsafe_code)]

// Lets the macros' `::openedx_events::…` paths resolve inside this crate and its tests.
#[allow(unused_extern_crates, reason = "used only when this crate's own tests expand its macros")]
extern crate self as openedx_events;

pub mod avro;
mod data;
mod dispatch;
mod error;
pub mod event_bus;
mod event_key;
mod fields;
mod hooks;
mod intern;
mod isoformat;
mod json_dumps;
mod json_text;

/// `value` as CPython's `json.dumps(value, sort_keys=True)` writes it: `", "` and `": "`
/// separators, keys sorted, non-ASCII escaped as `\uXXXX`; for backends that must send the same
/// text as the Python services (Kafka registers its key schemas in this form).
pub fn python_json_dumps(value: &serde_json::Value) -> String {
    json_dumps::json_dumps(value)
}
mod metadata;
mod receiver;
mod registry;
mod signal;
pub mod suggest;
pub mod testing;

/// Open edX's opaque keys (course, usage and library keys): the `openedx-opaque-keys` crate.
pub use openedx_opaque_keys as keys;

pub use crate::data::{DataDescription, EventData, EventField, FieldDescription, FieldType};
pub use crate::dispatch::{BoxError, ReceiverError, ReceiverResponse, SendEventError};
pub use crate::error::{DuplicateEventType, DuplicateEventTypes, LookupError, MetadataError, UnknownEventType};
pub use crate::metadata::{EventsMetadata, service_name, set_service_name};
pub use crate::receiver::{ErasedReceiverFn, ReceiverFuture, ReceiverId, ReceiverReturn};
pub use crate::registry::{
    all_events, check_registry, get_signal_by_type, similar_event_types, try_get_signal_by_type,
};
pub use crate::signal::{AnySignal, CodecError, OpenEdxPublicSignal, OutgoingEvent};
/// The derive shares its name with the trait, as serde's `Serialize` does.
pub use openedx_events_derive::EventData;
pub use openedx_events_derive::{openedx_event, receiver};

// Not public API. Used by code that `openedx-events-derive` generates.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
