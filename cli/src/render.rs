//! What the commands print: the events as a table or JSON, and one event in detail with its
//! data as a tree.

use std::fmt::Write as _;

use openedx_events::avro::schema_file_contents;
use openedx_events::{AnySignal, DataDescription, FieldDescription, FieldType};
use serde_json::{Value, json};

use crate::lookup::subdomain_of;

/// The events as a table with a header row, columns aligned with spaces, no trailing spaces.
pub(crate) fn table(signals: &[&'static dyn AnySignal]) -> String {
    let rows: Vec<[String; 6]> = signals
        .iter()
        .map(|signal| {
            [
                signal.event_type().to_owned(),
                signal.name().to_owned(),
                subdomain_of(*signal).to_owned(),
                signal.minor_version().to_string(),
                signal.event_key_field().unwrap_or("-").to_owned(),
                if signal.data().is_serializable() { "yes" } else { "no" }.to_owned(),
            ]
        })
        .collect();
    aligned(["EVENT TYPE", "NAME", "SUBDOMAIN", "MINOR", "KEY FIELD", "SERIALIZABLE"], &rows)
}

/// Rows under a header row, columns aligned with two spaces between them, no trailing spaces.
pub(crate) fn aligned<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let header = header.map(str::to_owned);
    let mut widths = [0; N];
    for row in std::iter::once(&header).chain(rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// The events as a JSON array of objects, one per event, in the table's columns and order,
/// plus the signal's definition and payload struct.
pub(crate) fn events_json(signals: &[&'static dyn AnySignal]) -> Value {
    signals
        .iter()
        .map(|signal| {
            json!({
                "event_type": signal.event_type(),
                "name": signal.name(),
                "subdomain": subdomain_of(*signal),
                "minor_version": signal.minor_version(),
                "key_field": signal.event_key_field(),
                "serializable": signal.data().is_serializable(),
                "definition": signal.definition(),
                "payload": signal.data().name,
            })
        })
        .collect()
}

/// One event in detail: its facts, its description, its data as a tree, and its Avro schema as
/// upstream's `.avsc` file holds it (or why it has none).
pub(crate) fn details(signal: &'static dyn AnySignal) -> String {
    let payload = signal.data();
    let mut text = String::new();
    let _ = writeln!(text, "{}\n", signal.name());
    let facts = [
        ("Event type", signal.event_type().to_owned()),
        ("Subdomain", subdomain_of(signal).to_owned()),
        ("Minor version", signal.minor_version().to_string()),
        ("Key field", signal.event_key_field().unwrap_or("none").to_owned()),
        ("Definition", signal.definition().to_owned()),
        ("Payload", payload.name.to_owned()),
        ("Serializable", if payload.is_serializable() { "yes" } else { "no" }.to_owned()),
    ];
    for (label, value) in facts {
        let _ = writeln!(text, "{:<15}{value}", format!("{label}:"));
    }
    let doc = plain_doc(payload.doc.trim());
    if !doc.is_empty() {
        let _ = writeln!(text, "\n{doc}");
    }
    let _ = writeln!(text, "\nData: {}", payload.name);
    if payload.fields.is_empty() {
        text.push_str("(no fields)\n");
    }
    tree(payload, "", &mut Vec::new(), &mut text);
    match schema_file_contents(signal.event_type(), payload) {
        Ok(schema) => {
            let _ = writeln!(text, "\nAvro schema:\n{schema}");
        }
        Err(reason) => {
            let _ = writeln!(text, "\nAvro schema: none; {reason}");
        }
    }
    text
}

/// Writes the fields of `data` as tree branches under `prefix`, each record-typed field followed
/// by the record's own fields. `open` holds the records being expanded, so that a type that
/// contains itself is not expanded forever.
fn tree(data: &'static DataDescription, prefix: &str, open: &mut Vec<&'static DataDescription>, text: &mut String) {
    open.push(data);
    for (index, field) in data.fields.iter().enumerate() {
        let last = index + 1 == data.fields.len();
        let (branch, continuation) = if last { ("└── ", "    ") } else { ("├── ", "│   ") };
        let _ = writeln!(text, "{prefix}{branch}{}", field_line(field));
        if let Some(record) = record_in(field.ty) {
            let prefix = format!("{prefix}{continuation}");
            if open.iter().any(|known| std::ptr::eq(*known, record)) {
                let _ = writeln!(text, "{prefix}└── (the fields of {}, as above)", record.name);
            } else {
                tree(record, &prefix, open, text);
            }
        }
    }
    open.pop();
}

/// `name: Type`, its markers, and its doc comment on one line.
fn field_line(field: &FieldDescription) -> String {
    let mut line = format!("{}: {}", field.name, field.ty.without_optional());
    if field.is_optional() {
        line.push_str(" (optional)");
    }
    if !field.ty.is_serializable() {
        line.push_str(" (no wire form)");
    }
    let doc = plain_doc(field.doc).split_whitespace().collect::<Vec<_>>().join(" ");
    if !doc.is_empty() {
        let _ = write!(line, " — {doc}");
    }
    line
}

/// The data type inside a field's type: the record itself, or the elements of a list, the values
/// of a map, the value of an option.
pub(crate) fn record_in(ty: &'static FieldType) -> Option<&'static DataDescription> {
    match ty {
        FieldType::Record(data) => Some(data),
        FieldType::List(inner) | FieldType::Map(inner) | FieldType::Optional(inner) => record_in(inner),
        _ => None,
    }
}

/// A doc comment for a terminal: rustdoc's intra-doc links (`` [`path::NAME`] ``), which mean
/// nothing there, become plain code (`` `NAME` ``); Markdown links are kept.
pub(crate) fn plain_doc(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    let mut rest = doc;
    while let Some(start) = rest.find("[`") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("`]") else { break };
        let target = &after[..end];
        let tail = &after[end + 2..];
        out.push_str(&rest[..start]);
        if tail.starts_with('(') || tail.starts_with('[') || target.contains('`') {
            out.push_str(&rest[start..start + 2 + end + 2]);
        } else {
            let _ = write!(out, "`{}`", target.rsplit("::").next().unwrap_or(target));
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intra_doc_links_become_code() {
        assert_eq!(plain_doc("See [`crate::signals::THING`] and [`Other`]."), "See `THING` and `Other`.");
        assert_eq!(plain_doc("A [`link`](https://example.org) stays."), "A [`link`](https://example.org) stays.");
        assert_eq!(plain_doc("Unclosed [`thing"), "Unclosed [`thing");
    }
}
