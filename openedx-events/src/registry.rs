//! The program-wide index of signals: every signal linked into the program, collected by
//! `inventory` without any set-up call, sorted and looked up by event type.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::data::EventData;
use crate::error::{DuplicateEventType, DuplicateEventTypes, LookupError, UnknownEventType};
use crate::signal::{AnySignal, OpenEdxPublicSignal};

/// Not public API. A signal, as `#[openedx_event]` registers it.
#[doc(hidden)]
pub struct StaticSignal(&'static dyn AnySignal);

impl StaticSignal {
    /// Not public API. Used by generated code.
    pub const fn new<E: EventData>(signal: &'static OpenEdxPublicSignal<E>) -> Self {
        StaticSignal(signal)
    }
}

inventory::collect!(StaticSignal);

struct Registry {
    /// Every signal, sorted by event type (then definition).
    all: Vec<&'static dyn AnySignal>,
    /// The event types that exactly one signal declares.
    by_type: BTreeMap<&'static str, &'static dyn AnySignal>,
    duplicates: Vec<DuplicateEventType>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut all: Vec<&'static dyn AnySignal> = inventory::iter::<StaticSignal>.into_iter().map(|s| s.0).collect();
        all.sort_by_key(|s| (s.event_type(), s.definition()));
        let mut grouped: BTreeMap<&'static str, Vec<&'static dyn AnySignal>> = BTreeMap::new();
        for signal in &all {
            grouped.entry(signal.event_type()).or_default().push(*signal);
        }
        let mut by_type = BTreeMap::new();
        let mut duplicates = Vec::new();
        for (event_type, signals) in grouped {
            match signals.as_slice() {
                [only] => {
                    by_type.insert(event_type, *only);
                }
                many => {
                    let duplicate =
                        DuplicateEventType { event_type, definitions: many.iter().map(|s| s.definition()).collect() };
                    tracing::error!("{duplicate}; it cannot be looked up by type until one is removed");
                    duplicates.push(duplicate);
                }
            }
        }
        Registry { all, by_type, duplicates }
    })
}

/// Every signal linked into the program, sorted by event type.
pub fn all_events() -> impl ExactSizeIterator<Item = &'static dyn AnySignal> + Clone {
    registry().all.iter().copied()
}

/// The signal of this event type, or `None` when no signal, or more than one, declares it
/// (see [`try_get_signal_by_type`] for which).
pub fn get_signal_by_type(event_type: &str) -> Option<&'static dyn AnySignal> {
    registry().by_type.get(event_type).copied()
}

/// The signal of this event type, or why there is none: the type is unknown (the error lists the
/// known types), or several signals declare it.
pub fn try_get_signal_by_type(event_type: &str) -> Result<&'static dyn AnySignal, LookupError> {
    let registry = registry();
    if let Some(signal) = registry.by_type.get(event_type) {
        return Ok(*signal);
    }
    if let Some(duplicate) = registry.duplicates.iter().find(|d| d.event_type == event_type) {
        return Err(duplicate.clone().into());
    }
    Err(unknown_event_type(event_type).into())
}

pub(crate) fn unknown_event_type(event_type: &str) -> UnknownEventType {
    let mut known: Vec<String> = registry().all.iter().map(|s| s.event_type().to_owned()).collect();
    known.dedup();
    UnknownEventType { event_type: event_type.to_owned(), known }
}

/// Checks that no two signals in the program declare the same event type; call it at start-up
/// to fail fast. Such signals are also logged when the registry is first built, and neither can
/// be looked up by type.
pub fn check_registry() -> Result<(), DuplicateEventTypes> {
    let duplicates = &registry().duplicates;
    if duplicates.is_empty() { Ok(()) } else { Err(DuplicateEventTypes(duplicates.clone())) }
}

/// The known event types closest to `input`, best first (at most three), to suggest when a type
/// is misspelt: those containing `input`, and those within a few edits.
pub fn similar_event_types(input: &str) -> Vec<&'static str> {
    crate::suggest::closest(input, registry().all.iter().map(|signal| signal.event_type()), 3)
}
