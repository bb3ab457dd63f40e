//! The pieces every page is made of: escaping, URLs and forms, times, and the page around the
//! content (header, navigation, skip link), all in semantic HTML that reads without colour and
//! without JavaScript.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Utc};

/// Text made safe for HTML content and attribute values.
pub(crate) struct Esc<'a>(pub(crate) &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// `text` escaped for HTML.
pub(crate) fn esc(text: &str) -> String {
    Esc(text).to_string()
}

/// `text` percent-encoded for a URL's query (everything but unreserved characters).
pub(crate) fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A query string from pairs, leaving out empty values: `?a=1&b=x%20y`.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, value) in pairs.iter().filter(|(_, value)| !value.is_empty()) {
        out.push(if out.is_empty() { '?' } else { '&' });
        let _ = write!(out, "{name}={}", url_encode(value));
    }
    out
}

/// The pairs of a query string or an `application/x-www-form-urlencoded` body; `+` is a space.
/// Bytes that do not decode to UTF-8 are replaced.
pub(crate) fn decode_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// A time in milliseconds since the epoch, in UTC: `2026-12-01 11:07:25.123 UTC`.
pub(crate) fn time(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(time) => time.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
        None => format!("{ms} ms"),
    }
}

/// A `<time>` element for milliseconds since the epoch.
pub(crate) fn time_element(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(at) => format!("<time datetime=\"{}\">{}</time>", at.format("%Y-%m-%dT%H:%M:%S%.3fZ"), time(ms)),
        None => esc(&time(ms)),
    }
}

/// A duration for people: `850 ms`, `42 s`, `3 min 4 s`, `2 h 5 min`, `3 d 4 h`.
pub(crate) fn duration(ms: u64) -> String {
    let seconds = ms / 1000;
    match seconds {
        0 => format!("{ms} ms"),
        1..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {} s", seconds / 60, seconds % 60),
        3600..86_400 => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{} d {} h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

/// `1 thing`, `2 things`.
pub(crate) fn plural(count: u64, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// Which part of the console a page belongs to, for the navigation's `aria-current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    /// The overview and everything under a topic.
    Topics,
    /// The event catalog.
    Catalog,
}

/// What the header says about the console besides its pages.
pub(crate) struct Frame<'a> {
    /// Which buses it shows, without secrets.
    pub(crate) buses: &'a [String],
    /// Whether changes are allowed.
    pub(crate) changes_allowed: bool,
}

/// A whole page: `title` in the title and heading area, `body` in `<main>`.
pub(crate) fn page(frame: &Frame<'_>, section: Section, title: &str, body: &str) -> String {
    let current = |which: Section| if which == section { " aria-current=\"page\"" } else { "" };
    let mode = if frame.changes_allowed { "changes allowed (with the token)" } else { "read-only" };
    let mut out = String::with_capacity(body.len() + 2048);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · openedx-events console</title>\n\
         <link rel=\"stylesheet\" href=\"/assets/console.css\">\n\
         <script src=\"/assets/console.js\" defer></script>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">Skip to content</a>\n\
         <header>\n<p class=\"brand\">openedx-events console</p>\n\
         <nav aria-label=\"Main\"><ul>\
         <li><a href=\"/\"{}>Overview</a></li>\
         <li><a href=\"/catalog\"{}>Event catalog</a></li>\
         </ul></nav>\n<p class=\"mode\">Mode: <strong>{mode}</strong>",
        esc(title),
        current(Section::Topics),
        current(Section::Catalog),
    );
    for bus in frame.buses {
        let _ = write!(out, " · {}", esc(bus));
    }
    let _ = write!(out, "</p>\n</header>\n<main id=\"main\" tabindex=\"-1\">\n{body}\n</main>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(esc("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        assert_eq!(esc("plain"), "plain");
    }

    #[test]
    fn forms_decode_and_queries_encode() {
        assert_eq!(
            decode_form("stream=dev-a%2Bb&id=1-0&id=2-0&q=a+b&bad=%zz&end=%4"),
            [("stream", "dev-a+b"), ("id", "1-0"), ("id", "2-0"), ("q", "a b"), ("bad", "%zz"), ("end", "%4")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert_eq!(query(&[("stream", "a b&c"), ("type", ""), ("id", "1-0")]), "?stream=a%20b%26c&id=1-0");
        assert_eq!(decode_form("%E2%9C%93=%FF"), [("✓".to_owned(), "\u{fffd}".to_owned())]);
    }

    #[test]
    fn times_and_durations_read_well() {
        assert_eq!(time(1_700_000_000_123), "2023-11-14 22:13:20.123 UTC");
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(42_000), "42 s");
        assert_eq!(duration(184_000), "3 min 4 s");
        assert_eq!(duration(7_500_000), "2 h 5 min");
        assert_eq!(duration(273_600_000), "3 d 4 h");
    }
}
