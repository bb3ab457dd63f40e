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
    write_escaped(out, text.as_bytes());
    out.push(b'"');
}

/// Whether a byte of UTF-8 text is written escaped.
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// The bytes of a string's contents, escaped; what needs no escape goes out in runs.
fn write_escaped(out: &mut Vec<u8>, mut bytes: &[u8]) {
    while let Some(at) = bytes.iter().position(|&byte| needs_escape(byte)) {
        out.extend_from_slice(&bytes[..at]);
        let byte = bytes[at];
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 0xf)],
                ]);
            }
        }
        bytes = &bytes[at + 1..];
    }
    out.extend_from_slice(bytes);
}

/// What `Display` writes, as a JSON string: written in place, and escaped afterwards only if it
/// needs it (an opaque key never does), so that there is no string in between.
pub(crate) fn write_display(out: &mut Vec<u8>, value: &impl Display) {
    struct Bytes<'a>(&'a mut Vec<u8>);
    impl std::fmt::Write for Bytes<'_> {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            self.0.extend_from_slice(text.as_bytes());
            Ok(())
        }
    }
    out.push(b'"');
    let start = out.len();
    // Writing into a `Vec` fails only if `Display` itself reports an error.
    let _ = write!(Bytes(out), "{value}");
    if out[start..].iter().any(|&byte| needs_escape(byte)) {
        let written = out.split_off(start);
        write_escaped(out, &written);
    }
    out.push(b'"');
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

    proptest::proptest! {
        #[test]
        fn displayed_values_are_written_as_serde_json_writes_their_string(text: String) {
            let mut ours = b"[".to_vec();
            write_display(&mut ours, &text);
            proptest::prop_assert_eq!(&ours[1..], &serde_json::to_vec(&text).unwrap()[..]);
        }
    }

    #[test]
    fn every_control_character_and_the_extremes() {
        let text: String = (0u8..0x80).map(char::from).chain(['é', '\u{2028}', '😀']).collect();
        let mut ours = Vec::new();
        write_str(&mut ours, &text);
        assert_eq!(ours, serde_json::to_vec(&text).unwrap());
        let mut displayed = Vec::new();
        write_display(&mut displayed, &text);
        assert_eq!(displayed, ours);
        for value in [i64::MIN, i64::MAX, 0, -1] {
            let mut ours = Vec::new();
            write_integer(&mut ours, value);
            assert_eq!(ours, value.to_string().as_bytes());
        }
    }
}
