//! Confluent's wire framing of a schema-registry value: a zero magic byte, the schema id as four
//! big-endian bytes, then the Avro bytes.

/// The first byte of every framed value.
pub const MAGIC_BYTE: u8 = 0;

/// How many bytes the framing adds before the Avro bytes.
pub const HEADER_LEN: usize = 5;

/// Why bytes are not a framed value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// Fewer than five bytes.
    #[error("the value has {0} bytes, fewer than the 5 of the schema registry framing")]
    TooShort(usize),
    /// The first byte is not 0.
    #[error("the value starts with byte {0:#04x}, not the schema registry framing's 0x00")]
    BadMagic(u8),
}

/// `avro` framed with the schema id: `0x00`, the id in 4 big-endian bytes, the bytes.
pub fn frame(schema_id: u32, avro: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + avro.len());
    frame_into(schema_id, avro, &mut out);
    out
}

/// [`frame`], appending to `out`.
pub fn frame_into(schema_id: u32, avro: &[u8], out: &mut Vec<u8>) {
    out.reserve(HEADER_LEN + avro.len());
    out.push(MAGIC_BYTE);
    out.extend_from_slice(&schema_id.to_be_bytes());
    out.extend_from_slice(avro);
}

/// The schema id and the Avro bytes of a framed value.
pub fn unframe(bytes: &[u8]) -> Result<(u32, &[u8]), FramingError> {
    match bytes {
        [MAGIC_BYTE, a, b, c, d, avro @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), avro)),
        [magic, _, _, _, _, ..] => Err(FramingError::BadMagic(*magic)),
        short => Err(FramingError::TooShort(short.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_as_confluent_does() {
        // Upstream's key for user id 42 under schema 1 (verified with confluent-kafka).
        assert_eq!(frame(1, &[0x54]), [0, 0, 0, 0, 1, 0x54]);
        assert_eq!(frame(0x0102_0304, b""), [0, 1, 2, 3, 4]);
        assert_eq!(unframe(&[0, 0, 0, 0, 2, 0x54, 1]), Ok((2, &[0x54, 1][..])));
        assert_eq!(unframe(&[0, 0, 0, 0, 2]), Ok((2, &[][..])));
        assert_eq!(unframe(&[0, 0, 1]), Err(FramingError::TooShort(3)));
        assert_eq!(unframe(&[1, 0, 0, 0, 2]), Err(FramingError::BadMagic(1)));
    }
}
