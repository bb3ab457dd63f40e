//! The program-wide registry: every signal and every `#[receiver]` function linked into the
//! program, collected by `inventory` without any set-up call.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::data::EventData;
use crate::dispatch::BoxError;
use crate::error::{DuplicateEventType, LookupError, UnknownEventType};
use crate::metadata::EventsMetadata;
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

/// The handler `#[receiver]` generates around a receiver function.
type Handler<E> = fn(&E, &EventsMetadata) -> Result<(), BoxError>;

/// Not public API. A `#[receiver]` function with its payload type known, kept in a `static`
/// next to the function.
#[doc(hidden)]
pub struct TypedReceiver<E: 'static> {
    // Only compared by address, to find the receivers of a signal.
    signal: &'static (dyn Any + Sync),
    name: &'static str,
    handler: Handler<E>,
}

/// Not public API. Implemented by a signal whose payload is `E`; the bound on
/// [`TypedReceiver::new`] reports a receiver whose payload type is not the signal's.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "this receiver takes `&{E}`, but its signal is `{Self}`",
    label = "the receiver's payload type does not match the signal",
    note = "a receiver's first argument must be a reference to its signal's payload type"
)]
pub trait CarriesPayload<E> {}

impl<E: EventData> CarriesPayload<E> for OpenEdxPublicSignal<E> {}

impl<E: 'static> TypedReceiver<E> {
    /// Not public API. Used by generated code.
    pub const fn new<S>(signal: &'static S, name: &'static str, handler: Handler<E>) -> Self
    where
        S: CarriesPayload<E> + Any + Sync,
    {
        TypedReceiver { signal, name, handler }
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn handler(&self) -> Handler<E> {
        self.handler
    }
}

/// A [`TypedReceiver`] of any payload type, for the registry.
trait ErasedReceiver: Sync {
    fn signal_addr(&self) -> *const ();
    fn as_any(&self) -> &dyn Any;
}

impl<E: 'static> ErasedReceiver for TypedReceiver<E> {
    fn signal_addr(&self) -> *const () {
        (self.signal as *const (dyn Any + Sync)).cast()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Not public API. A `#[receiver]` function, as registered.
#[doc(hidden)]
pub struct StaticReceiver(&'static dyn ErasedReceiver);

impl StaticReceiver {
    /// Not public API. Used by generated code.
    pub const fn new<E: 'static>(receiver: &'static TypedReceiver<E>) -> Self {
        StaticReceiver(receiver)
    }
}

inventory::collect!(StaticReceiver);

/// The `#[receiver]` functions of one signal, sorted by name so that runs are reproducible.
pub(crate) fn receivers_of<E: EventData>(signal: &'static OpenEdxPublicSignal<E>) -> Box<[&'static TypedReceiver<E>]> {
    let address = (signal as *const OpenEdxPublicSignal<E>).cast::<()>();
    let mut found: Vec<&'static TypedReceiver<E>> = inventory::iter::<StaticReceiver>
        .into_iter()
        .filter(|r| r.0.signal_addr() == address)
        .filter_map(|r| r.0.as_any().downcast_ref::<TypedReceiver<E>>())
        .collect();
    found.sort_by_key(|r| r.name);
    found.into_boxed_slice()
}

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
pub fn check_registry() -> Result<(), Vec<DuplicateEventType>> {
    let duplicates = &registry().duplicates;
    if duplicates.is_empty() { Ok(()) } else { Err(duplicates.clone()) }
}

/// The known event types closest to `input`, best first (at most three), to suggest when a type
/// is misspelt: those within a few edits, and those containing `input`.
pub fn similar_event_types(input: &str) -> Vec<&'static str> {
    let budget = (input.len() / 5).max(3);
    let mut scored: Vec<(usize, &'static str)> = registry()
        .all
        .iter()
        .map(|signal| signal.event_type())
        .filter_map(|known| {
            let distance = edit_distance(input, known);
            if distance <= budget {
                Some((distance, known))
            } else if !input.is_empty() && known.contains(input) {
                Some((budget + 1, known))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.dedup_by_key(|(_, known)| *known);
    scored.into_iter().take(3).map(|(_, known)| known).collect()
}

/// Levenshtein distance over bytes (event types are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(x != y);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
