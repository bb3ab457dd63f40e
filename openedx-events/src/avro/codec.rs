//! Schemaless Avro binary, read and written as fastavro does: zig-zag varint longs,
//! little-endian doubles, length-prefixed strings, unions with null first, arrays and maps as one
//! block and an end marker.

use std::fmt;

use super::path::FieldPath;

/// Appends Avro binary to a buffer.
#[derive(Debug)]
pub struct AvroWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> AvroWriter<'a> {
    /// A writer that appends to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        AvroWriter { out }
    }

    /// A `long`: zig-zag encoded, then as a little-endian base-128 varint.
    #[inline]
    pub fn write_long(&mut self, value: i64) {
        let mut n = ((value << 1) ^ (value >> 63)) as u64;
        while n >= 0x80 {
            self.out.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.out.push(n as u8);
    }

    /// A `boolean`: one byte, 0 or 1.
    #[inline]
    pub fn write_bool(&mut self, value: bool) {
        self.out.push(u8::from(value));
    }

    /// A `double`: eight bytes, little-endian.
    #[inline]
    pub fn write_double(&mut self, value: f64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// A `string` or `bytes`: the length as a `long`, then the bytes.
    #[inline]
    pub fn write_bytes(&mut self, value: &[u8]) {
        self.write_long(value.len() as i64);
        self.out.extend_from_slice(value);
    }

    /// A `string` produced by a formatter (such as a key's `Display`), written without an
    /// intermediate `String`: the length prefix is patched in after the text.
    pub fn write_display(&mut self, value: &dyn fmt::Display) {
        use fmt::Write as _;
        let start = self.out.len();
        // A long length needs at most 10 bytes; reserve one, which fits any string under 64 bytes.
        self.out.push(0);
        let text_start = self.out.len();
        // Writing to a Vec cannot fail. (`fmt::Write` straight into the Vec, not `io::Write`,
        // whose adapter keeps an error slot for every piece.)
        let _ = write!(FmtBytes(self.out), "{value}");
        let len = self.out.len() - text_start;
        if len < 64 {
            // Zig-zag doubles a non-negative length; under 64 it fits the byte reserved.
            self.out[start] = (len as u8) << 1;
        } else {
            let mut prefix = [0u8; 10];
            let mut prefix_len = 0;
            let mut n = (len as u64) << 1;
            while n >= 0x80 {
                prefix[prefix_len] = (n as u8) | 0x80;
                prefix_len += 1;
                n >>= 7;
            }
            prefix[prefix_len] = n as u8;
            self.out.splice(start..text_start, prefix[..=prefix_len].iter().copied());
        }
    }

    /// The count of a block of `len` items (arrays and maps); nothing for an empty block, whose
    /// only mark is the end marker.
    #[inline]
    pub fn write_block_start(&mut self, len: usize) {
        if len > 0 {
            self.write_long(len as i64);
        }
    }

    /// The end of an array or map.
    #[inline]
    pub fn write_block_end(&mut self) {
        self.out.push(0);
    }

    /// The branch of a union: 0 for null, 1 for the value in `["null", T]`.
    #[inline]
    pub fn write_union_index(&mut self, index: i64) {
        self.write_long(index);
    }
}

/// `fmt::Write` into a byte buffer; a formatter only ever writes UTF-8.
struct FmtBytes<'a>(&'a mut Vec<u8>);

impl fmt::Write for FmtBytes<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Reads Avro binary from a byte slice, never reading past it or allocating more than it holds.
#[derive(Debug, Clone)]
pub struct AvroReader<'a> {
    input: &'a [u8],
    position: usize,
}

impl<'a> AvroReader<'a> {
    /// A reader at the start of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        AvroReader { input, position: 0 }
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.input.len() - self.position
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::new(DecodeErrorKind::TrailingBytes(n))),
        }
    }

    #[inline]
    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.remaining() {
            return Err(unexpected_end());
        }
        let bytes = &self.input[self.position..self.position + len];
        self.position += len;
        Ok(bytes)
    }

    /// A `long`.
    #[inline]
    pub fn read_long(&mut self) -> Result<i64, DecodeError> {
        // Most longs (lengths, union branches) fit in one byte; the others take the loop.
        if let Some(&byte) = self.input.get(self.position)
            && byte & 0x80 == 0
        {
            self.position += 1;
            let value = i64::from(byte);
            return Ok((value >> 1) ^ -(value & 1));
        }
        self.read_long_slow()
    }

    /// [`read_long`](Self::read_long) of more than one byte, or at the end of the input.
    #[inline(never)]
    fn read_long_slow(&mut self) -> Result<i64, DecodeError> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&byte) = self.input.get(self.position) else {
                return Err(DecodeError::new(DecodeErrorKind::UnexpectedEnd));
            };
            self.position += 1;
            // The tenth byte may only carry the 64th bit.
            if i == 9 && byte > 1 {
                return Err(DecodeError::new(DecodeErrorKind::VarintTooLong));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        Err(DecodeError::new(DecodeErrorKind::VarintTooLong))
    }

    /// A `boolean`.
    #[inline]
    pub fn read_bool(&mut self) -> Result<bool, DecodeError> {
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::new(DecodeErrorKind::InvalidBool(other))),
        }
    }

    /// A `double`.
    #[inline]
    pub fn read_double(&mut self) -> Result<f64, DecodeError> {
        let bytes = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        Ok(f64::from_le_bytes(array))
    }

    /// A length or count: a `long` that must not be negative nor promise more than is left.
    #[inline]
    fn read_len(&mut self) -> Result<usize, DecodeError> {
        let len = self.read_long()?;
        match usize::try_from(len) {
            Ok(length) if length <= self.remaining() => Ok(length),
            _ => Err(self.length_error(len)),
        }
    }

    /// Why [`read_len`](Self::read_len) refused `len`.
    #[cold]
    #[inline(never)]
    fn length_error(&self, len: i64) -> DecodeError {
        match usize::try_from(len) {
            Ok(length) => DecodeError::new(DecodeErrorKind::LengthTooLarge { length, remaining: self.remaining() }),
            Err(_) => DecodeError::new(DecodeErrorKind::NegativeLength(len)),
        }
    }

    /// `bytes`.
    #[inline]
    pub fn read_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.read_len()?;
        self.take(len)
    }

    /// A `string`: UTF-8.
    #[inline]
    pub fn read_str(&mut self) -> Result<&'a str, DecodeError> {
        let bytes = self.read_bytes()?;
        std::str::from_utf8(bytes).map_err(|e| DecodeError::new(DecodeErrorKind::InvalidUtf8(e.valid_up_to())))
    }

    /// The count of the next block of an array or map; 0 at the end. A negative count (a block
    /// followed by its size in bytes, which writers may use) is read too.
    pub fn read_block_len(&mut self) -> Result<usize, DecodeError> {
        let count = self.read_long()?;
        let count = if count < 0 {
            // The block's size in bytes follows; we read item by item, so it only needs to be sane.
            let _size = self.read_len()?;
            count.checked_neg().ok_or(DecodeError::new(DecodeErrorKind::NegativeLength(count)))?
        } else {
            count
        };
        let count = usize::try_from(count).map_err(|_| DecodeError::new(DecodeErrorKind::NegativeLength(count)))?;
        // Every item takes at least one byte, so a larger count cannot be honest; refusing it
        // keeps allocations within the input's size.
        if count > self.remaining() {
            return Err(DecodeError::new(DecodeErrorKind::LengthTooLarge {
                length: count,
                remaining: self.remaining(),
            }));
        }
        Ok(count)
    }

    /// The branch of a `["null", T]` union: false for null, true for the value.
    #[inline]
    pub fn read_optional(&mut self) -> Result<bool, DecodeError> {
        match self.read_long()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::new(DecodeErrorKind::InvalidUnionIndex(other))),
        }
    }
}

/// The error of input that ends in the middle of a value, made out of line: most reads inline
/// their bounds check.
#[cold]
#[inline(never)]
fn unexpected_end() -> DecodeError {
    DecodeError::new(DecodeErrorKind::UnexpectedEnd)
}

/// Why Avro bytes could not be read as an event's data, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    path: FieldPath,
    kind: DecodeErrorKind,
}

/// What was wrong with the bytes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended in the middle of a value.
    UnexpectedEnd,
    /// A varint ran over ten bytes or 64 bits.
    VarintTooLong,
    /// A length or count was negative.
    NegativeLength(i64),
    /// A length or count was more than the bytes left.
    LengthTooLarge {
        /// The length read.
        length: usize,
        /// The bytes left.
        remaining: usize,
    },
    /// A string was not UTF-8; holds how many bytes were valid.
    InvalidUtf8(usize),
    /// A boolean byte other than 0 or 1.
    InvalidBool(u8),
    /// A union branch other than 0 (null) or 1.
    InvalidUnionIndex(i64),
    /// A `long` out of the field's range (an `i32` field).
    OutOfRange(i64),
    /// A string that is not a valid value of the field's type (a time, a UUID, a key).
    InvalidValue(String),
    /// Bytes were left after the data.
    TrailingBytes(usize),
    /// The event has no wire form.
    Unserializable(&'static str),
}

impl DecodeError {
    /// An error of this kind at the top level.
    pub fn new(kind: DecodeErrorKind) -> Self {
        DecodeError { path: FieldPath::default(), kind }
    }

    /// An invalid value, with why.
    pub fn invalid_value(reason: impl fmt::Display) -> Self {
        DecodeError::new(DecodeErrorKind::InvalidValue(reason.to_string()))
    }

    /// What was wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }
}

super::path::path_methods!(DecodeError);

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::UnexpectedEnd => f.write_str("the input ends in the middle of a value"),
            DecodeErrorKind::VarintTooLong => f.write_str("a variable-length integer is longer than 64 bits"),
            DecodeErrorKind::NegativeLength(n) => write!(f, "a length or count is negative ({n})"),
            DecodeErrorKind::LengthTooLarge { length, remaining } => {
                write!(f, "a length or count of {length} is more than the {remaining} bytes left")
            }
            DecodeErrorKind::InvalidUtf8(valid) => write!(f, "a string is not UTF-8 (valid up to byte {valid})"),
            DecodeErrorKind::InvalidBool(b) => write!(f, "a boolean byte is {b}, not 0 or 1"),
            DecodeErrorKind::InvalidUnionIndex(i) => write!(f, "a union branch is {i}, not 0 (null) or 1"),
            DecodeErrorKind::OutOfRange(n) => write!(f, "{n} is out of the field's range"),
            DecodeErrorKind::InvalidValue(reason) => f.write_str(reason),
            DecodeErrorKind::TrailingBytes(n) => write!(f, "{n} bytes are left after the data"),
            DecodeErrorKind::Unserializable(name) => write!(f, "`{name}` has no wire form"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() {
            write!(f, "invalid Avro data: {}", self.kind)
        } else {
            write!(f, "invalid Avro data at `{path}`: {}", self.kind)
        }
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_bytes(value: i64) -> Vec<u8> {
        let mut out = Vec::new();
        AvroWriter::new(&mut out).write_long(value);
        out
    }

    #[test]
    fn longs_are_zigzag_varints() {
        assert_eq!(long_bytes(0), [0]);
        assert_eq!(long_bytes(-1), [1]);
        assert_eq!(long_bytes(1), [2]);
        assert_eq!(long_bytes(-64), [0x7f]);
        assert_eq!(long_bytes(64), [0x80, 0x01]);
        assert_eq!(long_bytes(i64::MAX), [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        for value in [0, 1, -1, 63, -64, 64, i64::MAX, i64::MIN, 1 << 40] {
            let bytes = long_bytes(value);
            let mut reader = AvroReader::new(&bytes);
            assert_eq!(reader.read_long(), Ok(value));
            assert_eq!(reader.finish(), Ok(()));
        }
    }

    #[test]
    fn hostile_varints_and_lengths_are_errors() {
        let mut too_long = AvroReader::new(&[0xff; 11]);
        assert_eq!(too_long.read_long().unwrap_err().kind(), &DecodeErrorKind::VarintTooLong);
        let mut overflow = AvroReader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
        assert_eq!(overflow.read_long().unwrap_err().kind(), &DecodeErrorKind::VarintTooLong);
        let mut truncated = AvroReader::new(&[0x80]);
        assert_eq!(truncated.read_long().unwrap_err().kind(), &DecodeErrorKind::UnexpectedEnd);
        let huge = long_bytes(1 << 40);
        assert!(matches!(
            AvroReader::new(&huge).read_str().unwrap_err().kind(),
            DecodeErrorKind::LengthTooLarge { .. }
        ));
        let negative = long_bytes(-3);
        assert_eq!(AvroReader::new(&negative).read_str().unwrap_err().kind(), &DecodeErrorKind::NegativeLength(-3));
        assert_eq!(AvroReader::new(&[4, 0xff, 0xfe]).read_str().unwrap_err().kind(), &DecodeErrorKind::InvalidUtf8(0));
        assert_eq!(AvroReader::new(&[2]).read_bool().unwrap_err().kind(), &DecodeErrorKind::InvalidBool(2));
        assert_eq!(AvroReader::new(&[4]).read_optional().unwrap_err().kind(), &DecodeErrorKind::InvalidUnionIndex(2));
    }

    #[test]
    fn display_writes_the_length_first() {
        // Around the one-byte length's limit (63), and a length of three bytes.
        for len in [0, 1, 63, 64, 65, 200, 8191, 8192, 20_000] {
            let mut out = vec![7];
            let text = "x".repeat(len);
            AvroWriter::new(&mut out).write_display(&text);
            let mut expected = vec![7];
            AvroWriter::new(&mut expected).write_bytes(text.as_bytes());
            assert_eq!(out, expected, "length {len}");
            let mut reader = AvroReader::new(&out[1..]);
            assert_eq!(reader.read_str(), Ok(text.as_str()));
            assert_eq!(reader.finish(), Ok(()));
        }
    }

    #[test]
    fn paths_read_outside_in() {
        let error = DecodeError::new(DecodeErrorKind::UnexpectedEnd).in_field("id").at_index(2).in_field("items");
        assert_eq!(error.path(), "items[2].id");
        assert_eq!(error.to_string(), "invalid Avro data at `items[2].id`: the input ends in the middle of a value");
    }
}
