//! The reference page of every event, generated from the registry and the data descriptions.
//!
//! [`events_markdown`] renders the page that the repository keeps as `docs/reference/events.md`;
//! a test of this crate fails when the committed page is stale.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use openedx_events::{AnySignal, DataDescription, FieldDescription, FieldType};

/// The command that rewrites `docs/reference/events.md`.
const REGENERATE: &str = "UPDATE_DOCS=1 cargo test -p openedx-events-catalog --test reference_docs";

/// Renders every event linked into the program as one Markdown page.
///
/// The page has a title, a table of contents grouped by subdomain (the third segment of the
/// event type), then, per event: a heading with the signal's name, the event type, the minor
/// version, the key field, the payload's doc comment, and the data the event carries as a tree
/// of fields (name, type, whether optional, doc comment), nested data types expanded.
///
/// The output depends only on the events: subdomains and events are sorted (events by signal
/// name), so the same program always renders the same page. Linking this crate is enough to
/// render the whole catalog.
pub fn events_markdown() -> String {
    let mut by_subdomain: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
    for signal in openedx_events::all_events() {
        let event = Event::of(signal);
        by_subdomain.entry(event.subdomain).or_default().push(event);
    }
    for events in by_subdomain.values_mut() {
        events.sort_by_key(|event| (event.name, event.signal.event_type()));
    }
    let names: BTreeSet<&str> = by_subdomain.values().flatten().map(|event| event.name).collect();
    let count = by_subdomain.values().map(Vec::len).sum::<usize>();

    let mut page = String::new();
    page.push_str("# Event reference\n\n");
    let _ = writeln!(
        page,
        "Every event of the catalog (`openedx-events-catalog`), by subdomain: {} in {}. For each: \
         its signal, event type, minor version and key field, when it is sent, and the data it \
         carries.\n",
        plural(count, "event"),
        plural(by_subdomain.len(), "subdomain"),
    );
    let _ = writeln!(
        page,
        "This page is generated from the code by `openedx_events_catalog::reference::events_markdown`; \
         do not edit it by hand. To regenerate it:\n\n```sh\n{REGENERATE}\n```\n"
    );

    page.push_str("## Contents\n\n");
    for (subdomain, events) in &by_subdomain {
        let _ = writeln!(page, "- [{subdomain}](#{}) ({})", anchor(subdomain), plural(events.len(), "event"));
        for event in events {
            let _ = writeln!(page, "  - [`{}`](#{}): `{}`", event.name, anchor(event.name), event.signal.event_type());
        }
    }

    for (subdomain, events) in &by_subdomain {
        let _ = write!(page, "\n## {subdomain}\n");
        for event in events {
            event.render(&names, &mut page);
        }
    }
    page
}

/// One event, as the page shows it.
struct Event {
    signal: &'static dyn AnySignal,
    /// The signal's name: the last segment of its definition.
    name: &'static str,
    subdomain: &'static str,
}

impl Event {
    fn of(signal: &'static dyn AnySignal) -> Self {
        let name = signal.name();
        // `org.openedx.<subdomain>.…`
        let subdomain = signal.event_type().split('.').nth(2).unwrap_or("other");
        Event { signal, name, subdomain }
    }

    fn render(&self, names: &BTreeSet<&str>, page: &mut String) {
        let signal = self.signal;
        let payload = signal.data();
        let _ = write!(page, "\n### `{}`\n\n", self.name);
        let _ = writeln!(page, "- Event type: `{}`", signal.event_type());
        let _ = writeln!(page, "- Minor version: {}", signal.minor_version());
        match signal.event_key_field() {
            Some(key_field) => {
                let _ = writeln!(page, "- Key field: `{key_field}`");
            }
            None => page.push_str("- Key field: none\n"),
        }
        let _ = writeln!(page, "- Signal: `{}`", signal.definition());
        let _ = writeln!(page, "- Payload: `{}`", payload.name);
        if !payload.is_serializable() {
            page.push_str("- Event bus: cannot be sent; its data holds a value without a wire form\n");
        }
        let doc = resolve_doc_links(payload.doc.trim(), names);
        if !doc.is_empty() {
            let _ = write!(page, "\n{doc}\n");
        }
        page.push_str("\nData:\n\n");
        if payload.fields.is_empty() {
            page.push_str("- (none)\n");
        }
        render_fields(payload, 0, &mut Vec::new(), names, page);
    }
}

/// Writes the fields of `data` as a Markdown list indented `depth` levels, each record-typed field
/// followed by the record's own fields. `open` holds the records being expanded, so that a type
/// that contains itself is not expanded forever.
fn render_fields(
    data: &'static DataDescription,
    depth: usize,
    open: &mut Vec<&'static DataDescription>,
    names: &BTreeSet<&str>,
    page: &mut String,
) {
    open.push(data);
    for field in data.fields {
        render_field(field, depth, open, names, page);
    }
    open.pop();
}

fn render_field(
    field: &'static FieldDescription,
    depth: usize,
    open: &mut Vec<&'static DataDescription>,
    names: &BTreeSet<&str>,
    page: &mut String,
) {
    let indent = "  ".repeat(depth);
    let presence = if field.is_optional() { "optional" } else { "required" };
    let _ = write!(page, "{indent}- `{}`: `{}`, {presence}", field.name, field.ty.without_optional());
    if !field.ty.is_serializable() {
        page.push_str(", no wire form");
    }
    let doc = one_line(&resolve_doc_links(field.doc, names));
    if doc.is_empty() {
        page.push('\n');
    } else {
        let _ = writeln!(page, ". {doc}");
    }
    if let Some(record) = record_in(field.ty) {
        if open.iter().any(|known| std::ptr::eq(*known, record)) {
            let _ = writeln!(page, "{indent}  - (the fields of `{}`, as above)", record.name);
        } else {
            render_fields(record, depth + 1, open, names, page);
        }
    }
}

/// The data type inside a field's type: the record itself, or the elements of a list, the values
/// of a map, the value of an option.
fn record_in(ty: &'static FieldType) -> Option<&'static DataDescription> {
    match ty {
        FieldType::Record(data) => Some(data),
        FieldType::List(inner) | FieldType::Map(inner) | FieldType::Optional(inner) => record_in(inner),
        _ => None,
    }
}

/// Rewrites rustdoc's intra-doc links, which mean nothing on a Markdown page: a link to a signal
/// on the page becomes a link to its section, any other becomes plain code.
fn resolve_doc_links(doc: &str, names: &BTreeSet<&str>) -> String {
    let mut out = String::with_capacity(doc.len());
    let mut rest = doc;
    while let Some(start) = rest.find("[`") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("`]") else { break };
        let target = &after[..end];
        let tail = &after[end + 2..];
        out.push_str(&rest[..start]);
        let is_markdown_link = tail.starts_with('(') || tail.starts_with('[');
        if is_markdown_link || target.contains('`') {
            out.push_str(&rest[start..start + 2 + end + 2]);
        } else {
            let last = target.rsplit("::").next().unwrap_or(target);
            if names.contains(last) {
                let _ = write!(out, "[`{last}`](#{})", anchor(last));
            } else {
                let _ = write!(out, "`{target}`");
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// A doc comment on one line, for a list item: lines joined with spaces, blank lines dropped.
fn one_line(doc: &str) -> String {
    doc.lines().map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The anchor GitHub gives a heading: lower case, spaces as `-`, punctuation other than `-` and
/// `_` dropped.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intra_doc_links_become_anchors_or_code() {
        let names = BTreeSet::from(["XBLOCK_CREATED"]);
        assert_eq!(
            resolve_doc_links("see [`XBLOCK_CREATED`] and [`crate::a::Data`]", &names),
            "see [`XBLOCK_CREATED`](#xblock_created) and `crate::a::Data`"
        );
        assert_eq!(resolve_doc_links("a [`link`](https://x) stays", &names), "a [`link`](https://x) stays");
        assert_eq!(resolve_doc_links("unclosed [`x", &names), "unclosed [`x");
    }

    #[test]
    fn anchors_follow_github() {
        assert_eq!(anchor("`COURSE_CREATED`"), "course_created");
        assert_eq!(anchor("content_authoring"), "content_authoring");
    }

    #[test]
    fn the_page_lists_every_event() {
        let page = events_markdown();
        for signal in openedx_events::all_events() {
            assert!(page.contains(&format!("- Event type: `{}`\n", signal.event_type())), "{}", signal.event_type());
        }
    }
}
