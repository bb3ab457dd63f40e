//! Finding an event by its type or its signal name, with close matches when there is none.

use openedx_events::AnySignal;

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
        .find(|signal| name_of(*signal).eq_ignore_ascii_case(query))
        .ok_or_else(|| CliError::UnknownEvent { query: query.to_owned(), suggestions: suggest(query) })
}

/// The signal's name, such as `COURSE_ENROLLMENT_CREATED`: the last segment of its definition.
pub(crate) fn name_of(signal: &dyn AnySignal) -> &'static str {
    let definition = signal.definition();
    definition.rsplit("::").next().unwrap_or(definition)
}

/// The event's subdomain, such as `learning`: the third segment of `org.openedx.<subdomain>.…`.
pub(crate) fn subdomain_of(signal: &dyn AnySignal) -> &'static str {
    signal.event_type().split('.').nth(2).unwrap_or("")
}

/// Event types and signal names close to `query`, best first: those that contain it (shortest
/// first), then those a few edits away (fewest edits first). Case is ignored. Each event is
/// suggested once, in the form that matched best.
fn suggest(query: &str) -> Vec<&'static str> {
    let query = query.to_ascii_lowercase();
    let query_len = query.chars().count();
    // A typo or two in a short name, a few more in a long event type; more would suggest
    // events that merely share the naming scheme.
    let max_edits = (query_len / 8).max(2);
    let mut matches: Vec<(Closeness, &'static str)> = openedx_events::all_events()
        .filter_map(|signal| {
            [signal.event_type(), name_of(signal)]
                .into_iter()
                .filter_map(|candidate| {
                    let lower = candidate.to_ascii_lowercase();
                    let closeness = if query_len >= 3 && lower.contains(&query) {
                        Closeness::Contains(lower.len() - query.len())
                    } else {
                        let edits = edit_distance(&query, &lower);
                        if edits > max_edits {
                            return None;
                        }
                        Closeness::Edits(edits)
                    };
                    Some((closeness, candidate))
                })
                .min()
        })
        .collect();
    matches.sort();
    matches.into_iter().take(MAX_SUGGESTIONS).map(|(_, candidate)| candidate).collect()
}

/// How close a candidate is to what was asked; smaller is closer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Closeness {
    /// The candidate contains the query; holds how many characters it has besides.
    Contains(usize),
    /// The candidate is this many edits away.
    Edits(usize),
}

/// The Levenshtein distance: how many characters to insert, delete or replace to turn `a` into
/// `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // `row[j]`: the distance from the prefix of `a` read so far to `b[..j]`.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let replace = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = replace.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_inserts_deletes_and_replacements() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("enrolment", "enrollment"), 1);
        assert_eq!(edit_distance("v1", "v2"), 1);
    }

    #[test]
    fn closer_matches_sort_first() {
        assert!(Closeness::Contains(30) < Closeness::Edits(0));
        assert!(Closeness::Contains(1) < Closeness::Contains(2));
        assert!(Closeness::Edits(1) < Closeness::Edits(2));
    }
}
