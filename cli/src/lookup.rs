//! Finding an event by its type or its signal name, with close matches when there is none.

use openedx_events::AnySignal;
use openedx_events::suggest::{Closeness, closeness};

use crate::error::CliError;

/// How many close matches an unknown-event error suggests at most.
const MAX_SUGGESTIONS: usize = 5;

/// Every event, sorted by event type.
pub(crate) fn all_sorted() -> Vec<&'static dyn AnySignal> {
    let mut signals: Vec<_> = openedx_events::all_events().collect();
    signals.sort_by_key(|signal| signal.event_type());
    signals
}

/// The event with this type (exactly) or signal name (in any case).
///
/// Signal names are unique in the catalog: its contract test checks each against upstream's,
/// which are unique.
pub(crate) fn find(query: &str) -> Result<&'static dyn AnySignal, CliError> {
    if let Some(signal) = openedx_events::get_signal_by_type(query) {
        return Ok(signal);
    }
    openedx_events::all_events()
        .find(|signal| signal.name().eq_ignore_ascii_case(query))
        .ok_or_else(|| CliError::UnknownEvent { query: query.to_owned(), suggestions: suggest(query) })
}

/// The event's subdomain, such as `learning`: the third segment of `org.openedx.<subdomain>.…`.
pub(crate) fn subdomain_of(signal: &dyn AnySignal) -> &'static str {
    signal.event_type().split('.').nth(2).unwrap_or("")
}

/// Event types and signal names close to `query`, best first (see
/// [`openedx_events::suggest::closeness`]). Each event is suggested once, in the form that matched
/// best.
fn suggest(query: &str) -> Vec<&'static str> {
    let mut matches: Vec<(Closeness, &'static str)> = openedx_events::all_events()
        .filter_map(|signal| {
            [signal.event_type(), signal.name()]
                .into_iter()
                .filter_map(|candidate| Some((closeness(query, candidate)?, candidate)))
                .min()
        })
        .collect();
    matches.sort();
    matches.into_iter().take(MAX_SUGGESTIONS).map(|(_, candidate)| candidate).collect()
}
