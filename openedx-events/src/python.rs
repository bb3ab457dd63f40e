//! The few Python formats that cross service boundaries, written and read exactly as CPython
//! does: `datetime.isoformat()` / `datetime.fromisoformat()` and `json.dumps` strings.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};

/// Displays a UTC time as Python's `datetime.isoformat()` does for an aware UTC `datetime`:
/// `2024-05-01T12:00:00+00:00`, with `.ffffff` only when there are microseconds.
pub(crate) struct Isoformat<'a>(pub(crate) &'a DateTime<Utc>);

impl fmt::Display for Isoformat<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )?;
        // Python keeps microseconds; anything finer is not representable there.
        // A leap second (chrono's 60th second) shows as 1,000,000 µs or more; Python has no leap
        // seconds, so it is written as the last microsecond of the 59th.
        let micros = t.timestamp_subsec_micros().min(999_999);
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        f.write_str("+00:00")
    }
}

/// Why a string is not an ISO 8601 time that Python's `datetime.fromisoformat()` reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ISO 8601 time {input:?}: {reason}")]
pub(crate) struct IsoTimeError {
    input: String,
    reason: &'static str,
}

impl IsoTimeError {
    fn new(input: &str, reason: &'static str) -> Self {
        IsoTimeError { input: input.to_owned(), reason }
    }
}

/// Reads what Python 3.11's `datetime.fromisoformat()` reads, as a UTC time: an aware time is
/// converted to UTC, and a naive one (no offset) is taken to be UTC.
pub(crate) fn parse_isoformat(input: &str) -> Result<DateTime<Utc>, IsoTimeError> {
    let err = |reason| IsoTimeError::new(input, reason);
    if !input.is_ascii() {
        // Only the date/time separator may be any character in Python; keep it simple and
        // strict for everything else, which is ASCII in every valid form.
        let mut chars = input.char_indices();
        let bad = chars.find(|(_, c)| !c.is_ascii()).map(|(i, _)| i);
        if bad != Some(10) && bad != Some(8) {
            return Err(err("unexpected non-ASCII character"));
        }
    }
    let bytes = input.as_bytes();
    let (date, date_len) = parse_date(bytes).ok_or_else(|| err("expected a date such as 2024-05-01"))?;
    let rest = &input[date_len..];
    let mut chars = rest.chars();
    let Some(_separator) = chars.next() else {
        let naive = date.and_time(NaiveTime::MIN);
        return Ok(naive.and_utc());
    };
    let time_part = chars.as_str();
    let (time, offset) = parse_time(time_part).ok_or_else(|| err("expected a time such as 12:00:00+00:00"))?;
    let naive = date.and_time(time);
    match offset {
        None => Ok(naive.and_utc()),
        // UTC is the local time minus its offset, to the microsecond as in Python.
        Some(offset) => naive.checked_sub_signed(offset).map(|t| t.and_utc()).ok_or_else(|| err("time out of range")),
    }
}

fn digits(bytes: &[u8], at: usize, count: usize) -> Option<u32> {
    let slice = bytes.get(at..at + count)?;
    slice.iter().try_fold(0u32, |acc, b| b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0')))
}

/// Parses the date at the start; returns it and how many bytes it took.
fn parse_date(bytes: &[u8]) -> Option<(NaiveDate, usize)> {
    let year = i32::try_from(digits(bytes, 0, 4)?).ok()?;
    let extended = bytes.get(4) == Some(&b'-');
    let at = if extended { 5 } else { 4 };
    if bytes.get(at) == Some(&b'W') {
        // ISO week date: YYYY-Www[-D] or YYYYWww[D].
        let week = digits(bytes, at + 1, 2)?;
        let mut len = at + 3;
        let mut weekday = 1;
        let day_at = if extended { len + 1 } else { len };
        let has_day = if extended { bytes.get(len) == Some(&b'-') } else { digits(bytes, day_at, 1).is_some() };
        if has_day {
            weekday = digits(bytes, day_at, 1)?;
            len = day_at + 1;
        }
        let weekday = chrono::Weekday::try_from(u8::try_from(weekday.checked_sub(1)?).ok()?).ok()?;
        return NaiveDate::from_isoywd_opt(year, week, weekday).map(|d| (d, len));
    }
    let month = digits(bytes, at, 2)?;
    let day_at = if extended { (bytes.get(at + 2) == Some(&b'-')).then_some(at + 3)? } else { at + 2 };
    let day = digits(bytes, day_at, 2)?;
    NaiveDate::from_ymd_opt(year, month, day).map(|d| (d, day_at + 2))
}

/// Parses `HH[:MM[:SS]][.f+]` (or the basic form without colons) and an optional offset, which
/// is east of UTC.
fn parse_time(s: &str) -> Option<(NaiveTime, Option<TimeDelta>)> {
    let split = s.find(['+', '-', 'Z']).unwrap_or(s.len());
    let (clock, zone) = s.split_at(split);
    let time = parse_clock(clock)?;
    let offset = match zone {
        "" => None,
        "Z" => Some(TimeDelta::zero()),
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            // Python allows seconds and microseconds in an offset (`+02:00:30.5`, `+020030.5`),
            // and keeps them; an offset is under 24 hours because its clock is.
            let zone_time = parse_clock(&zone[1..])?;
            Some((zone_time - NaiveTime::MIN) * sign)
        }
    };
    Some((time, offset))
}

fn parse_clock(s: &str) -> Option<NaiveTime> {
    let bytes = s.as_bytes();
    let (main, fraction) = match s.find(['.', ',']) {
        Some(i) => (&bytes[..i], Some(&s[i + 1..])),
        None => (bytes, None),
    };
    let extended = main.get(2) == Some(&b':');
    let (hour, minute, second) = match (main.len(), extended) {
        (2, _) => (digits(main, 0, 2)?, 0, 0),
        (5, true) => (digits(main, 0, 2)?, digits(main, 3, 2)?, 0),
        (8, true) if main[5] == b':' => (digits(main, 0, 2)?, digits(main, 3, 2)?, digits(main, 6, 2)?),
        (4, false) => (digits(main, 0, 2)?, digits(main, 2, 2)?, 0),
        (6, false) => (digits(main, 0, 2)?, digits(main, 2, 2)?, digits(main, 4, 2)?),
        _ => return None,
    };
    let micros = match fraction {
        None => 0,
        Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => return None,
        // Python 3.11 reads a fraction after any component (`12.5` is 12:00:00.5) and keeps at
        // most six digits.
        Some(f) => {
            let kept = &f[..f.len().min(6)];
            let value = kept.parse::<u32>().ok()?;
            value * 10u32.pow(u32::try_from(6 - kept.len()).ok()?)
        }
    };
    NaiveTime::from_hms_micro_opt(hour, minute, second, micros)
}

/// Appends `s` as a JSON string the way Python's `json.dumps` writes it (`ensure_ascii`):
/// every non-ASCII character as `\uXXXX`, surrogate pairs above the BMP.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
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
    use chrono::TimeZone;

    #[test]
    fn isoformat_matches_python() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        assert_eq!(Isoformat(&t).to_string(), "2024-05-01T12:00:00+00:00");
        let t = t + chrono::Duration::microseconds(1234);
        assert_eq!(Isoformat(&t).to_string(), "2024-05-01T12:00:00.001234+00:00");
    }

    #[test]
    fn reads_python_forms() {
        let base = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        for s in [
            "2024-05-01T12:00:00+00:00",
            "2024-05-01 12:00:00Z",
            "2024-05-01T12:00:00",
            "2024-05-01T14:00:00+02:00",
            "20240501T120000",
            "2024-05-01T12:00",
            "2024-05-01T12",
            "2024-05-01T10:00:00-02:00",
            "2024-W18-3T12:00:00",
            "2024W183T12:00:00",
        ] {
            assert_eq!(parse_isoformat(s), Ok(base), "{s}");
        }
        assert_eq!(parse_isoformat("2024-05-01"), Ok(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap()));
        let micro = base + chrono::Duration::microseconds(500_000);
        assert_eq!(parse_isoformat("2024-05-01T12:00:00.5+00:00"), Ok(micro));
        assert_eq!(parse_isoformat("2024-05-01T12:00:00,500000"), Ok(micro));
        assert_eq!(parse_isoformat("2024-05-01T12:00:00.5000009"), Ok(micro));
        // A fraction after the hour or minute, and offsets with seconds and microseconds.
        assert_eq!(parse_isoformat("2024-05-01T12.5"), Ok(micro));
        assert_eq!(parse_isoformat("2024-05-01T12:00,5"), Ok(micro));
        assert_eq!(parse_isoformat("2024-05-01T14:00:31+02:00:30.5"), Ok(micro));
        assert_eq!(parse_isoformat("2024-05-01T14:00:31+020030.5"), Ok(micro));
    }

    #[test]
    fn rejects_what_python_rejects() {
        for s in [
            "",
            "2024",
            "2024-05",
            "2024-13-01",
            "2024-02-30",
            "2024-05-01T25:00",
            "2024-05-01T12:00:00.",
            "nope",
            "2024-05-01T12:0",
        ] {
            assert!(parse_isoformat(s).is_err(), "{s}");
        }
    }

    #[test]
    fn json_strings_escape_like_python() {
        let mut out = String::new();
        write_json_string(&mut out, "a\"b\\c\né😀\u{1}");
        assert_eq!(out, r#""a\"b\\c\n\u00e9\ud83d\ude00\u0001""#);
    }
}
