//! Helpers for tests: isolate events and capture what was sent.
//!
//! Both work per thread, and so per test: `cargo test` runs tests on parallel threads of one
//! process, and what one test isolates or captures never reaches another. Both are guards,
//! undone when dropped, so a failing test undoes them too.
//!
//! ```
//! use openedx_events::{openedx_event, testing, EventData};
//!
//! #[openedx_event(name = THING_HAPPENED, event_type = "org.openedx.learning.testing_example.happened.v1")]
//! #[derive(Debug, PartialEq)]
//! pub struct ThingHappened { pub what: String }
//!
//! // No receiver of any other event runs on this thread while `_isolation` lives.
//! let _isolation = testing::isolate_events(["org.openedx.learning.testing_example.happened.v1"])?;
//! let sent = testing::capture(&THING_HAPPENED);
//!
//! THING_HAPPENED.send_event(ThingHappened { what: "it".into() });
//!
//! let events = sent.take();
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0].data, ThingHappened { what: "it".into() });
//! # Ok::<(), openedx_events::UnknownEventType>(())
//! ```
//!
//! # Scope
//!
//! A guard covers the events sent from the thread that made it, and from futures
//! [`bind`]-ed there, wherever they are polled. In particular:
//!
//! - In `#[tokio::test]`, of either flavor, the test's body runs on the test's own thread (the
//!   runtime's `block_on`), so a guard made in the body covers everything the body awaits,
//!   `send_event_async` and async receivers included.
//! - Tasks the test spawns run on the runtime's worker threads: spawn them bound,
//!   `tokio::spawn(testing::bind(future))`, and they are covered too.
//! - Threads a test spawns, and unbound tasks, are not isolated or captured.

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::sync::{Arc, MutexGuard, PoisonError};

use crate::data::EventData;
use crate::error::UnknownEventType;
pub use crate::hooks::Bound;
use crate::hooks::{self, HookId, Recorded};
use crate::metadata::EventsMetadata;
use crate::registry::unknown_event_type;
use crate::signal::OpenEdxPublicSignal;

/// While the guard lives, events sent from this thread reach their receivers only if their type
/// is in the list (upstream's `OpenEdxEventsTestMixin` with `ENABLED_OPENEDX_EVENTS`). The
/// others return no responses, as if disabled.
///
/// Fails, naming the known types, if a listed type is not a signal in this program. Guards nest:
/// the newest one decides.
pub fn isolate_events<I>(enabled: I) -> Result<EventsIsolation, UnknownEventType>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut allowed = BTreeSet::new();
    for event_type in enabled {
        let event_type = event_type.as_ref();
        // Any signal of the type will do: isolation goes by type, even one declared twice.
        match crate::all_events().find(|signal| signal.event_type() == event_type) {
            Some(signal) => allowed.insert(signal.event_type()),
            None => return Err(unknown_event_type(event_type)),
        };
    }
    Ok(EventsIsolation { id: hooks::install_filter(allowed), _not_send: PhantomData })
}

/// Isolation from [`isolate_events`]; dropping it ends the isolation.
#[must_use = "isolation ends when the guard is dropped"]
#[derive(Debug)]
pub struct EventsIsolation {
    id: HookId,
    // The isolation belongs to the thread that made it.
    _not_send: PhantomData<*const ()>,
}

impl Drop for EventsIsolation {
    fn drop(&mut self) {
        hooks::remove(self.id);
    }
}

/// One event that a [`Capture`] saw.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedEvent<E> {
    /// The payload.
    pub data: E,
    /// The metadata it was sent with.
    pub metadata: EventsMetadata,
}

/// Records every event this signal sends from this thread while the capture lives, whether or
/// not it is enabled or isolated away. Receivers still run as usual.
pub fn capture<E: EventData + Send>(signal: &'static OpenEdxPublicSignal<E>) -> Capture<E> {
    let events: Arc<Recorded<E>> = Arc::default();
    let id = hooks::install_recorder(signal.address(), events.clone());
    Capture { id, events, _not_send: PhantomData }
}

/// The future, carrying this thread's isolations and captures to whichever thread polls it:
/// events it sends are isolated and captured as if sent from here. For tasks a test spawns:
/// `tokio::spawn(testing::bind(consumer.run(shutdown)))`.
pub fn bind<F: std::future::Future>(future: F) -> Bound<F> {
    Bound::new(future)
}

/// The events a signal sent, from [`capture`]; dropping it ends the capture.
#[must_use = "the capture ends when it is dropped"]
pub struct Capture<E: 'static> {
    id: HookId,
    events: Arc<Recorded<E>>,
    // The capture belongs to the thread that made it.
    _not_send: PhantomData<*const ()>,
}

impl<E> Capture<E> {
    fn lock(&self) -> MutexGuard<'_, Vec<(E, EventsMetadata)>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the events captured so far, oldest first; the capture goes on.
    pub fn take(&self) -> Vec<CapturedEvent<E>> {
        std::mem::take(&mut *self.lock()).into_iter().map(|(data, metadata)| CapturedEvent { data, metadata }).collect()
    }

    /// How many events were captured and not yet taken.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no event was captured since the last [`take`](Self::take).
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

impl<E: Clone> Capture<E> {
    /// A copy of the events captured so far, oldest first.
    pub fn events(&self) -> Vec<CapturedEvent<E>> {
        self.lock()
            .iter()
            .map(|(data, metadata)| CapturedEvent { data: data.clone(), metadata: metadata.clone() })
            .collect()
    }
}

impl<E> std::fmt::Debug for Capture<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").field("len", &self.len()).finish_non_exhaustive()
    }
}

impl<E: 'static> Drop for Capture<E> {
    fn drop(&mut self) {
        hooks::remove(self.id);
    }
}
