//! The character classes of the key grammars, matching Python's `re` with Unicode strings.

use std::cmp::Ordering;

use super::unicode_tables::{DECIMAL, WORD};

fn in_table(table: &[(char, char)], c: char) -> bool {
    table
        .binary_search_by(|&(low, high)| {
            if high < c {
                Ordering::Less
            } else if low > c {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .is_ok()
}

/// A set of ASCII characters: whether each byte below 128 is in it.
type AsciiSet = [bool; 128];

/// The set of ASCII letters and digits, `_`, and the bytes of `extra`.
const fn word_and(extra: &[u8]) -> AsciiSet {
    let mut set = [false; 128];
    let mut b = 0u8;
    while b < 128 {
        set[b as usize] = b.is_ascii_alphanumeric() || b == b'_';
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        set[extra[i] as usize] = true;
        i += 1;
    }
    set
}

static WORD_ASCII: AsciiSet = word_and(b"");
static ID_ASCII: AsciiSet = word_and(b"-~.:");
static BLOCK_ID_ASCII: AsciiSet = word_and(b"-~.:%");
static DEPRECATED_PART_ASCII: AsciiSet = word_and(b".%-");
static SLUG_ASCII: AsciiSet = word_and(b"-.");

/// Whether the ASCII character `c` is in `set`.
#[inline(always)]
fn in_ascii_set(set: &AsciiSet, c: char) -> bool {
    set[c as usize & 0x7f]
}

/// [`is_id_char`] for bytes: whether `b` is an ASCII `[\w\-~.:]` (false for every byte of a
/// non-ASCII character).
#[inline(always)]
pub(crate) fn is_ascii_id_byte(b: u8) -> bool {
    static TABLE: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 128 {
            table[b] = ID_ASCII[b];
            b += 1;
        }
        table
    };
    TABLE[usize::from(b)]
}

/// Python's `\w`: a letter, a number, or `_`.
#[inline(always)]
pub(crate) fn is_word(c: char) -> bool {
    if c.is_ascii() { in_ascii_set(&WORD_ASCII, c) } else { in_table(WORD, c) }
}

/// Python's `\d`: a decimal digit of any script.
#[inline(always)]
pub(crate) fn is_decimal(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_digit() } else { in_table(DECIMAL, c) }
}

/// `[\w\-~.:]`, the characters of org, course, run, branch and block type in `+` keys.
#[inline(always)]
pub(crate) fn is_id_char(c: char) -> bool {
    if c.is_ascii() { in_ascii_set(&ID_ASCII, c) } else { is_word(c) }
}

/// `[\w\-~.:%]`, which also allows `%` (block ids in the grammar, and deprecated ids).
#[inline(always)]
pub(crate) fn is_block_id_char(c: char) -> bool {
    if c.is_ascii() { in_ascii_set(&BLOCK_ID_ASCII, c) } else { is_word(c) }
}

/// `[\w.%-]`, the characters of the parts of a deprecated `org/course/run` key.
#[inline(always)]
pub(crate) fn is_deprecated_part_char(c: char) -> bool {
    if c.is_ascii() { in_ascii_set(&DEPRECATED_PART_ASCII, c) } else { is_word(c) }
}

/// `[a-zA-Z0-9_\-.]`, for a v2 library's org and for block and container types.
#[inline(always)]
pub(crate) fn is_ascii_field_char(c: char) -> bool {
    c.is_ascii() && in_ascii_set(&SLUG_ASCII, c)
}

/// `[\w\-.]`, for library slugs and the ids of library blocks, collections and containers.
#[inline(always)]
pub(crate) fn is_slug_char(c: char) -> bool {
    if c.is_ascii() { in_ascii_set(&SLUG_ASCII, c) } else { is_word(c) }
}

/// Whether every character of `s` is in `class` (which may be empty). ASCII bytes are tested
/// one at a time without decoding; from the first non-ASCII byte on, the rest is decoded.
#[inline(always)]
pub(crate) fn all_chars(s: &str, class: impl Fn(char) -> bool) -> bool {
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if !b.is_ascii() {
            return all_chars_decoded(&s[i..], class);
        }
        if !class(char::from(b)) {
            return false;
        }
    }
    true
}

/// [`all_chars`] for text starting with a non-ASCII character (`s` starts at a char boundary,
/// since everything before the first non-ASCII byte is ASCII).
#[inline(never)]
fn all_chars_decoded(s: &str, class: impl Fn(char) -> bool) -> bool {
    s.chars().all(class)
}

/// `class+` over the whole string.
#[inline(always)]
pub(crate) fn all_of(s: &str, class: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && all_chars(s, class)
}

/// Python's `re.match(r'^class+$', s)`: as [`all_of`], but `$` also matches before one final
/// newline, so a single trailing `\n` is let through.
pub(crate) fn all_of_dollar(s: &str, class: impl Fn(char) -> bool) -> bool {
    all_of(s.strip_suffix('\n').unwrap_or(s), class)
}

/// Whether `c` matches the lowercase ASCII letter `pattern` under Python's `re.IGNORECASE`,
/// which besides ASCII case also folds `İ`/`ı` to `i`, `ſ` to `s` and the Kelvin sign to `k`.
fn ignorecase_char_eq(c: char, pattern: char) -> bool {
    c.to_ascii_lowercase() == pattern
        || match pattern {
            'i' => matches!(c, '\u{130}' | '\u{131}'),
            'k' => c == '\u{212a}',
            's' => c == '\u{17f}',
            _ => false,
        }
}

/// Whether `s` matches the lowercase ASCII word `pattern` under Python's `re.IGNORECASE`.
pub(crate) fn ignorecase_eq(s: &str, pattern: &str) -> bool {
    let mut chars = s.chars();
    pattern.chars().all(|p| chars.next().is_some_and(|c| ignorecase_char_eq(c, p))) && chars.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_follows_python() {
        for c in ['a', 'Z', '0', '_', 'é', 'ǅ', 'ʰ', '中', '٣', '²', 'Ⅻ'] {
            assert!(is_word(c), "{c:?}");
        }
        for c in ['-', ' ', '\n', '\u{93e}', '\u{345}', 'Ⓐ', '\u{a0}', '😀', '$'] {
            assert!(!is_word(c), "{c:?}");
        }
        assert!(is_decimal('٣') && !is_decimal('²') && !is_decimal('Ⅻ'));
    }

    #[test]
    fn ignorecase_matches_python_folds() {
        assert!(ignorecase_eq("BLOCK", "block"));
        assert!(ignorecase_eq("bloc\u{212a}", "block"));
        assert!(ignorecase_eq("ver\u{17f}\u{130}on", "version"));
        assert!(!ignorecase_eq("versio", "version"));
        assert!(!ignorecase_eq("versions", "version"));
        assert!(!ignorecase_eq("bl0ck", "block"));
    }

    #[test]
    fn dollar_allows_one_trailing_newline() {
        assert!(all_of_dollar("abc\n", is_slug_char));
        assert!(!all_of_dollar("abc\n\n", is_slug_char));
        assert!(!all_of_dollar("\n", is_slug_char));
        assert!(!all_of("abc\n", is_slug_char));
    }

    #[test]
    fn ascii_sets_match_the_classes() {
        for b in 0u8..128 {
            let c = b as char;
            let word = c.is_ascii_alphanumeric() || c == '_';
            assert_eq!(is_word(c), word, "{c:?}");
            assert_eq!(is_id_char(c), word || matches!(c, '-' | '~' | '.' | ':'), "{c:?}");
            assert_eq!(is_block_id_char(c), word || matches!(c, '-' | '~' | '.' | ':' | '%'), "{c:?}");
            assert_eq!(is_deprecated_part_char(c), word || matches!(c, '.' | '%' | '-'), "{c:?}");
            assert_eq!(is_ascii_field_char(c), word || matches!(c, '-' | '.'), "{c:?}");
            assert_eq!(is_slug_char(c), word || matches!(c, '-' | '.'), "{c:?}");
        }
        for c in ['é', '中', '٣', '\u{93e}', '😀', '\u{a0}'] {
            let word = is_word(c);
            assert_eq!(is_id_char(c), word);
            assert_eq!(is_block_id_char(c), word);
            assert_eq!(is_deprecated_part_char(c), word);
            assert_eq!(is_slug_char(c), word);
            assert!(!is_ascii_field_char(c));
        }
        assert!(all_of("ab\u{e9}c_d", is_id_char) && !all_of("ab\u{e9}c+d", is_id_char));
        assert!(!all_of("ab+\u{e9}", is_id_char) && !all_of("", is_id_char));
        for b in 0..=255u8 {
            assert_eq!(is_ascii_id_byte(b), b.is_ascii() && is_id_char(char::from(b)), "{b}");
        }
    }
}
