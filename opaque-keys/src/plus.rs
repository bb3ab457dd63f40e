//! The `+`-separated grammar shared by `course-v1`, `library-v1`, `block-v1`, `lib-block-v1`,
//! `ccx-v1` and `ccx-block-v1` keys (the part after the namespace).
//!
//! Upstream reads these with one regular expression:
//! `[org+course[+run]] [+branch@B] [+version@V] [+ccx@N] [+type@T] [+block@I]`, every part
//! optional (except `ccx@` in the CCX flavour), in that order, separated by single `+`s, with
//! no `+` at either end. None of the parts can hold `+` or `@`, so splitting on `+` and
//! classifying each segment accepts exactly the same strings.

use super::chars::{all_of, ignorecase_eq, is_ascii_id_byte, is_block_id_char, is_decimal, is_id_char};
use super::error::InvalidKeyReason;

/// Which of upstream's two regular expressions to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `BlockLocatorBase.URL_RE` (edx-opaque-keys): case-sensitive tags, lowercase-hex versions,
    /// `%` allowed in block ids, no `ccx@`.
    Split,
    /// `CCXLocator.URL_RE` (edx-ccx-keys): compiled with `re.IGNORECASE`, so tags and version
    /// digits may be in any case; `ccx@` is required and block ids may not hold `%`.
    Ccx,
}

/// The parts found in a `+`-separated key, as slices of the input.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PlusParts<'a> {
    pub(crate) org: Option<&'a str>,
    pub(crate) course: Option<&'a str>,
    pub(crate) run: Option<&'a str>,
    pub(crate) branch: Option<&'a str>,
    pub(crate) version: Option<&'a str>,
    pub(crate) ccx: Option<&'a str>,
    pub(crate) block_type: Option<&'a str>,
    pub(crate) block_id: Option<&'a str>,
}

/// The tagged parts, in the order the grammar requires.
const TAGS: [&str; 5] = ["branch", "version", "ccx", "type", "block"];

const ID_CHARS: &str = "letters, digits, `_`, `-`, `~`, `.` or `:`";

fn is_lower_hex(c: char) -> bool {
    matches!(c, '0'..='9' | 'a'..='f')
}

fn is_any_hex(c: char) -> bool {
    c.is_ascii_hexdigit()
}

fn tag_index(name: &str, dialect: Dialect) -> Option<usize> {
    match dialect {
        Dialect::Split => match name {
            "branch" => Some(0),
            "version" => Some(1),
            "type" => Some(3),
            "block" => Some(4),
            _ => None,
        },
        Dialect::Ccx => TAGS.iter().position(|tag| ignorecase_eq(name, tag)),
    }
}

fn invalid(field: &'static str, value: &str, expected: &'static str) -> InvalidKeyReason {
    InvalidKeyReason::InvalidField { field, value: value.to_owned(), expected }
}

/// Splits `s` into its parts, checking each part's characters as the regular expression does.
/// Further checks (version length, which parts a key type needs) are left to the callers.
pub(crate) fn parse(s: &str, dialect: Dialect) -> Result<PlusParts<'_>, InvalidKeyReason> {
    let mut parts = PlusParts::default();
    if s.is_empty() {
        return match dialect {
            Dialect::Split => Ok(parts),
            Dialect::Ccx => Err(InvalidKeyReason::MissingField("ccx")),
        };
    }
    let mut untagged: [&str; 3] = [""; 3];
    let mut untagged_count = 0;
    let mut last_tag: Option<usize> = None;
    // `+` and `@` are ASCII, so scanning bytes finds them at char boundaries; this is
    // `s.split('+')` and each segment's `split_once('@')` in one pass.
    let bytes = s.as_bytes();
    let mut start = 0;
    loop {
        let mut end = start;
        let mut at = None;
        // Whether every byte is an ASCII `[\w\-~.:]`, so that an untagged segment needs no
        // further check.
        let mut ascii_id = true;
        while let Some(&b) = bytes.get(end) {
            if b == b'+' {
                break;
            }
            if b == b'@' && at.is_none() {
                at = Some(end);
            }
            ascii_id &= is_ascii_id_byte(b);
            end += 1;
        }
        let segment = &s[start..end];
        if segment.is_empty() {
            return Err(InvalidKeyReason::EmptySegment);
        }
        let unexpected = || InvalidKeyReason::UnexpectedSegment(segment.to_owned());
        match at.map(|at| (&s[start..at], &s[at + 1..end])) {
            None => {
                if last_tag.is_some() || untagged_count == 3 {
                    return Err(unexpected());
                }
                if !(ascii_id || all_of(segment, is_id_char)) {
                    let field = ["org", "course", "run"][untagged_count];
                    return Err(invalid(field, segment, ID_CHARS));
                }
                untagged[untagged_count] = segment;
                untagged_count += 1;
            }
            Some((name, value)) => {
                let index = tag_index(name, dialect).ok_or_else(unexpected)?;
                if last_tag.is_some_and(|last| last >= index) {
                    return Err(unexpected());
                }
                if untagged_count == 1 {
                    return Err(InvalidKeyReason::MissingField("course"));
                }
                last_tag = Some(index);
                let (field, ok, expected) = match (TAGS[index], dialect) {
                    ("branch", _) => ("branch", all_of(value, is_id_char), ID_CHARS),
                    ("version", Dialect::Split) => {
                        ("version_guid", all_of(value, is_lower_hex), "lowercase hexadecimal digits")
                    }
                    ("version", Dialect::Ccx) => ("version_guid", all_of(value, is_any_hex), "hexadecimal digits"),
                    ("ccx", _) => ("ccx", all_of(value, is_decimal), "decimal digits"),
                    ("type", _) => ("block_type", all_of(value, is_id_char), ID_CHARS),
                    (_, Dialect::Split) => {
                        ("block_id", all_of(value, is_block_id_char), "letters, digits, `_`, `-`, `~`, `.`, `:` or `%`")
                    }
                    (_, Dialect::Ccx) => ("block_id", all_of(value, is_id_char), ID_CHARS),
                };
                if !ok {
                    return Err(invalid(field, value, expected));
                }
                let slot = match index {
                    0 => &mut parts.branch,
                    1 => &mut parts.version,
                    2 => &mut parts.ccx,
                    3 => &mut parts.block_type,
                    _ => &mut parts.block_id,
                };
                *slot = Some(value);
            }
        }
        if end == bytes.len() {
            break;
        }
        start = end + 1;
    }
    match untagged_count {
        0 => {}
        1 => return Err(InvalidKeyReason::MissingField("course")),
        _ => {
            parts.org = Some(untagged[0]);
            parts.course = Some(untagged[1]);
            parts.run = (untagged_count == 3).then_some(untagged[2]);
        }
    }
    if dialect == Dialect::Ccx && parts.ccx.is_none() {
        return Err(InvalidKeyReason::MissingField("ccx"));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_full_key() {
        let p = parse("o+c+r+branch@b+version@abc+type@t+block@i%", Dialect::Split).unwrap();
        assert_eq!(
            (p.org, p.course, p.run, p.branch, p.version, p.block_type, p.block_id),
            (Some("o"), Some("c"), Some("r"), Some("b"), Some("abc"), Some("t"), Some("i%"))
        );
    }

    #[test]
    fn rejects_out_of_grammar() {
        for s in ["o", "o+", "+o+c", "o++c", "o+c+r+x", "o+c+r+block@i+type@t", "o+c+r+Branch@b", "o+c+r+ccx@1"] {
            assert!(parse(s, Dialect::Split).is_err(), "{s}");
        }
        assert!(parse("o+c+r", Dialect::Ccx).is_err());
        assert!(parse("o+c+r+CCX@1+VERSION@AB", Dialect::Ccx).is_err());
        assert!(parse("o+c+r+VERSION@AB+CCX@1+block@x%", Dialect::Ccx).is_err());
        assert!(parse("o+c+r+VERSION@AB+CCX@1+block@x", Dialect::Ccx).is_ok());
    }
}
