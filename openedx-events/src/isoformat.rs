//! CPython's `datetime.isoformat()` and `datetime.fromisoformat()`, written and read exactly as
//! Python 3.11 does them for the times events carry: in metadata, on the wire, in JSON.
//!
//! Each has a fast path for the one form Python writes for a UTC time (what nearly every event
//! holds) and a general path for everything else Python reads or writes; tests keep the two in
//! agreement.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};

/// Displays a UTC time as Python's `datetime.isoformat()` does for an aware UTC `datetime`:
/// `2024-05-01T12:00:00+00:00`, with `.ffffff` only when there are microseconds.
pub(crate) struct Isoformat<'a>(pub(crate) &'a DateTime<Utc>);

impl fmt::Display for Isoformat<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match isoformat_utc(self.0) {
            // The fast path writes only ASCII.
            Some((text, len)) => f.write_str(std::str::from_utf8(&text[..len]).map_err(|_| fmt::Error)?),
            None => write_isoformat_general(f, self.0),
        }
    }
}

/// [`Isoformat`]'s text through `core::fmt`, for every time: the reference the fast path agrees
/// with, and the writer of what it leaves (years outside 0 to 9999, leap seconds).
fn write_isoformat_general(f: &mut impl fmt::Write, t: &DateTime<Utc>) -> fmt::Result {
    write!(f, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())?;
    // Python keeps microseconds; anything finer is not representable there.
    // A leap second (chrono's 60th second) shows as 1,000,000 µs or more; Python has no leap
    // seconds, so it is written as the last microsecond of the 59th.
    let micros = t.timestamp_subsec_micros().min(999_999);
    if micros != 0 {
        write!(f, ".{micros:06}")?;
    }
    f.write_str("+00:00")
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

/// Appends a time as [`Isoformat`] writes it.
pub(crate) fn write_isoformat(time: &DateTime<Utc>, out: &mut Vec<u8>) {
    match isoformat_utc(time) {
        Some((text, len)) => out.extend_from_slice(&text[..len]),
        None => out.extend_from_slice(Isoformat(time).to_string().as_bytes()),
    }
}

/// What [`Isoformat`] writes, digit by digit into a buffer (with its length): `core::fmt`'s
/// padded integers cost several times more, and times are the bulk of encoding most events.
/// `None` for what only `Isoformat` handles: years outside 0 to 9999 and leap seconds.
#[inline]
pub(crate) fn isoformat_utc(time: &DateTime<Utc>) -> Option<([u8; 32], usize)> {
    fn digits(out: &mut [u8], mut value: u32) {
        for byte in out.iter_mut().rev() {
            *byte = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    let naive = time.naive_utc();
    let year = u32::try_from(naive.year()).ok().filter(|year| *year <= 9999)?;
    let micros = naive.nanosecond() / 1000;
    if micros >= 1_000_000 {
        return None;
    }
    let mut text = *b"0000-00-00T00:00:00.000000+00:00";
    digits(&mut text[0..4], year);
    digits(&mut text[5..7], naive.month());
    digits(&mut text[8..10], naive.day());
    digits(&mut text[11..13], naive.hour());
    digits(&mut text[14..16], naive.minute());
    digits(&mut text[17..19], naive.second());
    if micros == 0 {
        // No fraction: the offset moves up.
        text.copy_within(26..32, 19);
        Some((text, 25))
    } else {
        digits(&mut text[20..26], micros);
        Some((text, 32))
    }
}

/// Reads the form that Python's `isoformat()` and ours write for a UTC time,
/// `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`, without the general parser. `None` for anything else,
/// which [`parse_python_time`] then reads or refuses; where this returns a time, it is the one
/// `parse_python_time` returns.
#[inline]
pub(crate) fn parse_isoformat_utc(bytes: &[u8]) -> Option<DateTime<Utc>> {
    // Eight bytes at a time: each word is checked against a layout, `d` for an ASCII digit and
    // any other byte for itself. The words overlap where the lengths require.
    const DATE: Layout = Layout::new(b"dddd-dd-");
    const CLOCK: Layout = Layout::new(b"ddTdd:dd");
    const SECONDS: Layout = Layout::new(b"dd:dd:dd");
    const FRACTION: Layout = Layout::new(b".dddddd+");
    const OFFSET: Layout = Layout::new(b"dd+00:00");
    let head: &[u8; 25] = bytes.first_chunk()?;
    let fits = DATE.fits(head, 0) & CLOCK.fits(head, 8) & SECONDS.fits(head, 11);
    let micros = match bytes.len() {
        25 if fits & OFFSET.fits(head, 17) => 0,
        32 if fits && FRACTION.fits(bytes, 19) & OFFSET.fits(bytes, 24) => {
            let digit = |at: usize| u32::from(bytes[at] - b'0');
            ((digit(20) * 10 + digit(21)) * 10 + digit(22)) * 1000 + (digit(23) * 10 + digit(24)) * 10 + digit(25)
        }
        _ => return None,
    };
    // Every digit is checked; the layout makes each value at most 9999 or 99.
    let two = |at: usize| u32::from(head[at] - b'0') * 10 + u32::from(head[at + 1] - b'0');
    let year = two(0) * 100 + two(2);
    // Year 0 is outside Python's range; `parse_python_time` says so.
    if year == 0 {
        return None;
    }
    let (hour, minute, second) = (two(11), two(14), two(17));
    if hour >= 24 || minute >= 60 || second >= 60 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, two(5), two(8))?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt((hour * 60 + minute) * 60 + second, micros * 1000)?;
    Some(date.and_time(time).and_utc())
}

/// Eight bytes of a fixed text layout: where digits go, and the other bytes.
#[derive(Clone, Copy)]
struct Layout {
    /// `0xff` in the bytes that must be ASCII digits.
    digits: u64,
    /// The other bytes, and 0 in those of the digits.
    others: u64,
}

impl Layout {
    /// `b'd'` marks a digit.
    const fn new(layout: &[u8; 8]) -> Layout {
        let mut digits = [0; 8];
        let mut others = [0; 8];
        let mut i = 0;
        while i < 8 {
            if layout[i] == b'd' {
                digits[i] = 0xff;
            } else {
                others[i] = layout[i];
            }
            i += 1;
        }
        Layout { digits: u64::from_le_bytes(digits), others: u64::from_le_bytes(others) }
    }

    /// Whether the eight bytes at `at` (which must be in `bytes`) follow the layout.
    #[inline(always)]
    fn fits(self, bytes: &[u8], at: usize) -> bool {
        const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
        const ZEROS: u64 = 0x3030_3030_3030_3030;
        const SIXES: u64 = 0x0606_0606_0606_0606;
        let Some(word) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) else {
            return false;
        };
        let word = u64::from_le_bytes(*word);
        let digits = word & self.digits;
        // A digit is 0x30 to 0x39: its high nibble is 3, and stays 3 once 6 is added. A byte
        // whose high nibble is not 3 fails the first test; only such a byte can carry into the
        // next one in the second.
        (word & !self.digits) == self.others
            && (digits & HIGH) == (ZEROS & self.digits)
            && (digits.wrapping_add(SIXES & self.digits) & HIGH) == (ZEROS & self.digits)
    }
}

/// Reads a time as [`parse_isoformat`] does, and refuses one whose UTC value is outside Python's
/// years 1 to 9999 (`0000-06-01`, or `9999-12-31T23:00:00-05:00` once moved to UTC): Python
/// cannot hold it in UTC, and our isoformat of it would not be read back, by Python or by us.
pub(crate) fn parse_python_time(text: &str) -> Result<DateTime<Utc>, String> {
    let time = parse_isoformat(text).map_err(|e| e.to_string())?;
    if (1..=9999).contains(&time.year()) {
        Ok(time)
    } else {
        Err(format!("invalid ISO 8601 time {text:?}: in UTC it is outside Python's years 1 to 9999"))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// The general writer, which the fast path must agree with.
    fn general(time: &DateTime<Utc>) -> String {
        let mut out = String::new();
        write_isoformat_general(&mut out, time).unwrap();
        out
    }

    fn written(time: &DateTime<Utc>) -> String {
        let mut out = Vec::new();
        write_isoformat(time, &mut out);
        String::from_utf8(out).unwrap()
    }

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

    /// Times across the range, with and without microseconds, and the edges of the fast paths.
    fn times() -> Vec<DateTime<Utc>> {
        let mut times = Vec::new();
        for (year, month, day, hour, minute, second) in [
            (1, 1, 1, 0, 0, 0),
            (999, 12, 31, 23, 59, 59),
            (1970, 1, 1, 0, 0, 0),
            (2024, 2, 29, 12, 34, 56),
            (2024, 5, 1, 9, 5, 7),
            (9999, 12, 31, 23, 59, 59),
        ] {
            let time = Utc.with_ymd_and_hms(year, month, day, hour, minute, second).unwrap();
            for micros in [0, 1, 10, 500_000, 789_012, 999_999] {
                times.push(time + chrono::Duration::microseconds(micros));
            }
            // Nanoseconds Python cannot hold are dropped, as `Isoformat` drops them.
            times.push(time + chrono::Duration::nanoseconds(1_500));
        }
        times
    }

    #[test]
    fn fast_isoformat_is_isoformat() {
        for time in times() {
            let (text, len) = isoformat_utc(&time).unwrap();
            assert_eq!(std::str::from_utf8(&text[..len]).unwrap(), general(&time));
        }
        // What the fast path leaves to `Isoformat`: a leap second, years outside 0 to 9999.
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_micro_opt(23, 59, 59, 1_500_000).unwrap();
        assert_eq!(isoformat_utc(&leap.and_utc()), None);
        assert_eq!(isoformat_utc(&Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap()), None);
        assert_eq!(isoformat_utc(&Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap()), None);
        assert!(isoformat_utc(&Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap()).is_some());
    }

    #[test]
    fn fast_parse_agrees_with_the_general_parser() {
        for time in times() {
            let text = Isoformat(&time).to_string();
            let expected = parse_python_time(&text).unwrap();
            assert_eq!(parse_isoformat_utc(text.as_bytes()), Some(expected), "{text}");
        }
        // Left to the general parser, which reads some and refuses the others.
        for text in [
            "2024-05-01T12:00:00Z",
            "2024-05-01T12:00:00+02:00",
            "2024-05-01T12:00:00.5+00:00",
            "2024-05-01 12:00:00+00:00",
            "0000-05-01T12:00:00+00:00",
            "2024-02-30T12:00:00+00:00",
            "2024-05-01T24:00:00+00:00",
            "2024-05-01T12:00:60+00:00",
            "2024-05-01T12:00:00.1234567+00:00",
            "2024-05-01T12:00:00,123456+00:00",
            "2024-05-01T12:00:00+00:00\u{0}",
            "+024-05-01T12:00:00+00:00",
            "2024-05-01T12:00:00-00:00",
        ] {
            assert_eq!(parse_isoformat_utc(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn fast_parse_agrees_on_edited_and_edge_texts() {
        // Small edits of valid times: where the fast path reads a time, the general parser
        // reads the same one.
        let mut seed: u64 = 0x1234_5678;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let bases: Vec<String> = times().iter().map(|time| Isoformat(time).to_string()).collect();
        let alphabet = b"0123456789:-T+.Z /;\x2f\xff\x00";
        for _ in 0..200_000 {
            let mut bytes = bases[(next() % bases.len() as u64) as usize].as_bytes().to_vec();
            for _ in 0..1 + next() % 3 {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 8 {
                    0 => drop(bytes.remove(at)),
                    1 => bytes.insert(at, alphabet[(next() % alphabet.len() as u64) as usize]),
                    2 => bytes[at] = (next() & 0xff) as u8,
                    _ => bytes[at] = alphabet[(next() % alphabet.len() as u64) as usize],
                }
            }
            if let Some(time) = parse_isoformat_utc(&bytes) {
                let text = std::str::from_utf8(&bytes).unwrap();
                assert_eq!(parse_python_time(text), Ok(time), "{text}");
            }
        }
        // Each field at and past its limits: the fast path reads exactly the valid ones.
        for year in [0, 1, 4, 100, 400, 1900, 2000, 2023, 2024, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    for (hour, minute, second) in [(0, 0, 0), (23, 59, 59), (24, 0, 0), (0, 60, 0), (0, 0, 60)] {
                        for (fraction, micros) in [("", 0), (".000000", 0), (".999999", 999_999), (".000001", 1)] {
                            let text = format!(
                                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}+00:00"
                            );
                            let expected = NaiveDate::from_ymd_opt(year, month, day)
                                .filter(|_| year >= 1)
                                .and_then(|date| date.and_hms_micro_opt(hour, minute, second, micros))
                                .map(|time| time.and_utc());
                            assert_eq!(parse_isoformat_utc(text.as_bytes()), expected, "{text}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn times_of_every_kind_are_written_as_isoformat_writes_them() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        for time in [
            chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
                + chrono::Duration::nanoseconds(999_999_999),
            chrono::Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap() + chrono::Duration::nanoseconds(999),
            leap,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        ] {
            assert_eq!(written(&time), general(&time), "{time:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_time_is_written_as_isoformat_writes_it(secs in -70_000_000_000i64..300_000_000_000, nanos in 0u32..2_000_000_000) {
            if let Some(time) = DateTime::from_timestamp(secs, nanos) {
                proptest::prop_assert_eq!(written(&time), general(&time));
            }
        }

    }
}
