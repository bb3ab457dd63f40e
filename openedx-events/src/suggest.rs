//! "Did you mean" suggestions: how close a name someone typed is to one that exists. The
//! registry suggests event types with it; the CLI suggests event types and signal names.

/// How close a candidate is to what was asked; smaller is closer, and a candidate that contains
/// the query is closer than any that does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Closeness {
    /// The candidate contains the query; holds how many characters it has besides.
    Contains(usize),
    /// The candidate is this many edits (insertions, deletions, replacements) away.
    Edits(usize),
}

/// How close `candidate` is to `query`, ignoring ASCII case: `None` when it is too far to
/// suggest. A candidate is close when it contains a query of three or more characters, or is
/// within a few edits: two for a short query, one more for every eight characters of a long one
/// (more would suggest names that merely share the naming scheme).
pub fn closeness(query: &str, candidate: &str) -> Option<Closeness> {
    let query = query.to_ascii_lowercase();
    let candidate = candidate.to_ascii_lowercase();
    let query_len = query.chars().count();
    if query_len >= 3 && candidate.contains(&query) {
        return Some(Closeness::Contains(candidate.chars().count() - query_len));
    }
    let edits = edit_distance(&query, &candidate);
    (edits <= (query_len / 8).max(2)).then_some(Closeness::Edits(edits))
}

/// The candidates close to `query`, best first, at most `max` of them.
pub fn closest<'a>(query: &str, candidates: impl IntoIterator<Item = &'a str>, max: usize) -> Vec<&'a str> {
    let mut scored: Vec<(Closeness, &'a str)> =
        candidates.into_iter().filter_map(|candidate| Some((closeness(query, candidate)?, candidate))).collect();
    scored.sort();
    scored.dedup_by_key(|(_, candidate)| *candidate);
    scored.into_iter().take(max).map(|(_, candidate)| candidate).collect()
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
        assert_eq!(closeness("ENROLMENT", "enrollment"), Some(Closeness::Edits(1)));
        assert_eq!(closeness("enroll", "course.enrollment"), Some(Closeness::Contains(11)));
        assert_eq!(closeness("xyz", "enrollment"), None);
        assert_eq!(
            closest("logged_inn", ["logged_in", "logged_out", "logged_in", "logged_inn_x"], 3),
            ["logged_inn_x", "logged_in"]
        );
    }
}
