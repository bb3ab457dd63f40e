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

/// Python's `\w`: a letter, a number, or `_`.
pub(crate) fn is_word(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_alphanumeric() || c == '_' } else { in_table(WORD, c) }
}

/// Python's `\d`: a decimal digit of any script.
pub(crate) fn is_decimal(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_digit() } else { in_table(DECIMAL, c) }
}

/// `[\w\-~.:]`, the characters of org, course, run, branch and block type in `+` keys.
pub(crate) fn is_id_char(c: char) -> bool {
    is_word(c) || matches!(c, '-' | '~' | '.' | ':')
}

/// `[\w\-~.:%]`, which also allows `%` (block ids in the grammar, and deprecated ids).
pub(crate) fn is_block_id_char(c: char) -> bool {
    is_id_char(c) || c == '%'
}

/// `[\w.%-]`, the characters of the parts of a deprecated `org/course/run` key.
pub(crate) fn is_deprecated_part_char(c: char) -> bool {
    is_word(c) || matches!(c, '.' | '%' | '-')
}

/// `[a-zA-Z0-9_\-.]`, for a v2 library's org and for block and container types.
pub(crate) fn is_ascii_field_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// `[\w\-.]`, for library slugs and the ids of library blocks, collections and containers.
pub(crate) fn is_slug_char(c: char) -> bool {
    is_word(c) || matches!(c, '-' | '.')
}

/// `class+` over the whole string.
pub(crate) fn all_of(s: &str, class: fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(class)
}

/// Python's `re.match(r'^class+$', s)`: as [`all_of`], but `$` also matches before one final
/// newline, so a single trailing `\n` is let through.
pub(crate) fn all_of_dollar(s: &str, class: fn(char) -> bool) -> bool {
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
}
