//! CPython's `json.dumps`: the JSON text Python services write, with their separators and
//! escapes, so that what we write compares byte for byte with theirs.

use std::fmt::Write as _;

/// Appends `s` as a JSON string the way Python's `json.dumps` writes it (`ensure_ascii`):
/// every non-ASCII character as `\uXXXX`, surrogate pairs above the BMP.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Printable ASCII goes out in runs, the rest a character at a time.
    let mut rest = s;
    while !rest.is_empty() {
        let run =
            rest.bytes().position(|b| !(b' '..=b'~').contains(&b) || b == b'"' || b == b'\\').unwrap_or(rest.len());
        out.push_str(&rest[..run]);
        rest = &rest[run..];
        let Some(c) = rest.chars().next() else { break };
        rest = &rest[c.len_utf8()..];
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Writes a JSON value as Python's `json.dumps(value, sort_keys=True)` does: `", "` and `": "`
/// separators, keys sorted, non-ASCII escaped.
pub(crate) fn json_dumps(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_json_value(&mut out, value);
    out
}

/// Writes a JSON value as Python's `json.dumps(value, indent=2)` does: keys in their order, one
/// item a line, `","` at line ends, non-ASCII escaped, empty containers as `[]` and `{}`.
pub(crate) fn json_dumps_indented(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_indented(&mut out, value, 0);
    out
}

fn write_indented(out: &mut String, value: &serde_json::Value, depth: usize) {
    use serde_json::Value;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_indented(out, item, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_json_string(out, key);
                out.push_str(": ");
                write_indented(out, item, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
        other => write_json_value(out, other),
    }
}

fn write_json_value(out: &mut String, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_string(out, key);
                out.push_str(": ");
                write_json_value(out, item);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_like_python() {
        let mut out = String::new();
        write_json_string(&mut out, "a\"b\\c\né😀\u{1}");
        assert_eq!(out, r#""a\"b\\c\n\u00e9\ud83d\ude00\u0001""#);
    }

    /// Python's escapes spelled out a character at a time, as `json.encoder` describes them.
    fn one_by_one(s: &str) -> String {
        let mut out = String::from('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{08}' => out.push_str("\\b"),
                '\u{0c}' => out.push_str("\\f"),
                ' '..='~' => out.push(c),
                _ => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
        }
        out.push('"');
        out
    }

    proptest::proptest! {
        #[test]
        fn runs_of_plain_ascii_are_written_as_one_character_at_a_time_would(s: String) {
            let mut out = String::new();
            write_json_string(&mut out, &s);
            proptest::prop_assert_eq!(out, one_by_one(&s));
        }
    }
}
