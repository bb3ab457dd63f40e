//! Compact JSON text written straight into a byte buffer, byte for byte as `serde_json`
//! writes it (the escapes of `serde_json::to_writer`, not Python's: this is the form of
//! [`EventField::write_json`](crate::EventField::write_json), which must equal
//! `serde_json::to_vec(&value.to_json())`).

use std::fmt::{Display, Write as _};

/// A `serde_json::Value`, as `serde_json::to_writer` writes it.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &serde_json::Value) {
    // Writing a `Value` cannot fail, nor can writing into a `Vec`.
    let _ = serde_json::to_writer(out, value);
}

/// A JSON string: `"` and `\` escaped, control characters as serde_json escapes them, the
/// rest (non-ASCII included) as it is.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..index]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 0xf)],
                ]);
                start = index + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        out.extend_from_slice(escape);
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// What `Display` writes, as a JSON string.
pub(crate) fn write_display(out: &mut Vec<u8>, value: &impl Display) {
    let mut text = String::with_capacity(64);
    // Formatting into a `String` fails only if `Display` itself reports an error.
    let _ = write!(text, "{value}");
    write_str(out, &text);
}

/// A whole number in decimal.
pub(crate) fn write_integer(out: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn strings_are_written_as_serde_json_writes_them(text: String) {
            let mut ours = Vec::new();
            write_str(&mut ours, &text);
            proptest::prop_assert_eq!(ours, serde_json::to_vec(&text).unwrap());
        }

        #[test]
        fn integers_are_written_as_serde_json_writes_them(value: i64) {
            let mut ours = Vec::new();
            write_integer(&mut ours, value);
            proptest::prop_assert_eq!(ours, serde_json::to_vec(&value).unwrap());
        }
    }

    #[test]
    fn every_control_character_and_the_extremes() {
        let text: String = (0u8..0x80).map(char::from).chain(['é', '\u{2028}', '😀']).collect();
        let mut ours = Vec::new();
        write_str(&mut ours, &text);
        assert_eq!(ours, serde_json::to_vec(&text).unwrap());
        for value in [i64::MIN, i64::MAX, 0, -1] {
            let mut ours = Vec::new();
            write_integer(&mut ours, value);
            assert_eq!(ours, value.to_string().as_bytes());
        }
    }
}
