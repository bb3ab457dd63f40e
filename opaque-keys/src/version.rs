//! [`VersionGuid`], the `version@…` part of split-modulestore keys.

use std::fmt;
use std::str::FromStr;

use super::error::{InvalidKeyError, InvalidKeyReason, KeyType};

/// A 12-byte MongoDB ObjectId naming one version of a course or library structure; it is the
/// `version@…` part of keys such as `course-v1:edX+Demo+2024+version@519665f6223ebd6980884f2b`.
///
/// Its text form is 24 hexadecimal digits. Parsing accepts either case, as `bson.ObjectId`
/// does; printing uses lowercase, as upstream does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionGuid([u8; 12]);

impl VersionGuid {
    /// The ObjectId with these 12 bytes.
    pub const fn from_bytes(bytes: [u8; 12]) -> Self {
        VersionGuid(bytes)
    }

    /// The 12 bytes of the ObjectId.
    pub const fn to_bytes(self) -> [u8; 12] {
        self.0
    }

    /// Reads exactly 24 hex digits of either case.
    pub(crate) fn parse_hex(s: &str) -> Option<Self> {
        let digits = s.as_bytes();
        if digits.len() != 24 {
            return None;
        }
        let mut bytes = [0u8; 12];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
        }
        Some(VersionGuid(bytes))
    }

    /// The reason used when a `version@` value is not an ObjectId.
    pub(crate) fn invalid(value: &str) -> InvalidKeyReason {
        InvalidKeyReason::InvalidField {
            field: "version_guid",
            value: value.to_owned(),
            expected: "24 hexadecimal digits (a MongoDB ObjectId)",
        }
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for VersionGuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 24];
        for (pair, byte) in text.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0xf)];
        }
        // Only ASCII digits were written, so this cannot fail.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for VersionGuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VersionGuid(\"{self}\")")
    }
}

impl FromStr for VersionGuid {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VersionGuid::parse_hex(s).ok_or_else(|| InvalidKeyError::new(KeyType::VersionGuid, s, VersionGuid::invalid(s)))
    }
}

super::string_serde!(VersionGuid, "a 24-digit hexadecimal ObjectId");
