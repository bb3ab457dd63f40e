//! Hex text for `--hex`: lowercase out, either case in, whitespace ignored (so that the output
//! of `xxd -p` reads).

use std::fmt::Write as _;

/// The bytes as lowercase hex, two digits each, nothing between.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// The bytes that hex text stands for; an error says what is wrong and where.
pub(crate) fn decode(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut digits = Vec::with_capacity(text.len());
    for (offset, &byte) in text.iter().enumerate() {
        match byte {
            b'0'..=b'9' => digits.push(byte - b'0'),
            b'a'..=b'f' => digits.push(byte - b'a' + 10),
            b'A'..=b'F' => digits.push(byte - b'A' + 10),
            _ if byte.is_ascii_whitespace() => {}
            _ if byte.is_ascii_graphic() => {
                return Err(format!("`{}` at byte {offset} is not a hex digit", char::from(byte)));
            }
            _ => return Err(format!("byte {offset} (0x{byte:02x}) is not a hex digit")),
        }
    }
    if digits.len() % 2 != 0 {
        return Err(format!("it has an odd number of hex digits ({})", digits.len()));
    }
    Ok(digits.chunks_exact(2).map(|pair| (pair[0] << 4) | pair[1]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        let text = encode(&bytes);
        assert_eq!(&text[..8], "00010203");
        assert_eq!(&text[text.len() - 4..], "feff");
        assert_eq!(decode(text.as_bytes()), Ok(bytes));
    }

    #[test]
    fn accepts_either_case_and_whitespace() {
        assert_eq!(decode(b"0A ff\n10\r\n"), Ok(vec![0x0a, 0xff, 0x10]));
        assert_eq!(decode(b""), Ok(vec![]));
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(decode(b"0g"), Err("`g` at byte 1 is not a hex digit".to_owned()));
        assert_eq!(decode(b"0\x00"), Err("byte 1 (0x00) is not a hex digit".to_owned()));
        assert_eq!(decode(b"abc"), Err("it has an odd number of hex digits (3)".to_owned()));
    }
}
