//! The error returned when text is not a valid key.

use std::fmt;

/// The key types of this module, named in [`InvalidKeyError`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyType {
    /// [`CourseKey`](super::CourseKey).
    CourseKey,
    /// [`UsageKey`](super::UsageKey).
    UsageKey,
    /// [`CourseLocator`](super::CourseLocator).
    CourseLocator,
    /// [`CcxLocator`](super::CcxLocator).
    CcxLocator,
    /// [`LibraryLocator`](super::LibraryLocator).
    LibraryLocator,
    /// [`BlockUsageLocator`](super::BlockUsageLocator).
    BlockUsageLocator,
    /// [`CcxBlockUsageLocator`](super::CcxBlockUsageLocator).
    CcxBlockUsageLocator,
    /// [`LibraryUsageLocator`](super::LibraryUsageLocator).
    LibraryUsageLocator,
    /// [`AsideUsageKey`](super::AsideUsageKey).
    AsideUsageKey,
    /// [`LibraryLocatorV2`](super::LibraryLocatorV2).
    LibraryLocatorV2,
    /// [`LibraryUsageLocatorV2`](super::LibraryUsageLocatorV2).
    LibraryUsageLocatorV2,
    /// [`LibraryCollectionLocator`](super::LibraryCollectionLocator).
    LibraryCollectionLocator,
    /// [`LibraryContainerLocator`](super::LibraryContainerLocator).
    LibraryContainerLocator,
    /// [`VersionGuid`](super::VersionGuid).
    VersionGuid,
}

impl KeyType {
    /// The Rust name of the type, e.g. `"CourseKey"`.
    pub const fn name(self) -> &'static str {
        match self {
            KeyType::CourseKey => "CourseKey",
            KeyType::UsageKey => "UsageKey",
            KeyType::CourseLocator => "CourseLocator",
            KeyType::CcxLocator => "CcxLocator",
            KeyType::LibraryLocator => "LibraryLocator",
            KeyType::BlockUsageLocator => "BlockUsageLocator",
            KeyType::CcxBlockUsageLocator => "CcxBlockUsageLocator",
            KeyType::LibraryUsageLocator => "LibraryUsageLocator",
            KeyType::AsideUsageKey => "AsideUsageKey",
            KeyType::LibraryLocatorV2 => "LibraryLocatorV2",
            KeyType::LibraryUsageLocatorV2 => "LibraryUsageLocatorV2",
            KeyType::LibraryCollectionLocator => "LibraryCollectionLocator",
            KeyType::LibraryContainerLocator => "LibraryContainerLocator",
            KeyType::VersionGuid => "VersionGuid",
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Text that is not a valid key of some type: which type, the text, and what is wrong with it.
///
/// Parsing never panics; every way a string can fail is reported through this type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {key_type} {input:?}: {reason}")]
pub struct InvalidKeyError {
    key_type: KeyType,
    input: String,
    reason: InvalidKeyReason,
}

impl InvalidKeyError {
    pub(crate) fn new(key_type: KeyType, input: impl Into<String>, reason: InvalidKeyReason) -> Self {
        InvalidKeyError { key_type, input: input.into(), reason }
    }

    /// The key type that was asked for.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The rejected text: the whole string given to the parser, or the value given to a
    /// constructor.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What is wrong with the text.
    pub fn reason(&self) -> &InvalidKeyReason {
        &self.reason
    }
}

/// Why a string is not a valid key; see [`InvalidKeyError::reason`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidKeyReason {
    /// There is no `:`, so no namespace, and the text is not a deprecated form without one.
    #[error("there is no namespace such as `course-v1:`")]
    MissingNamespace,
    /// The namespace (the text before the first `:`) is not one the key type reads.
    #[error("namespace {0:?} is not one of this key type's")]
    UnknownNamespace(String),
    /// The text has the wrong number of parts between separators.
    #[error("expected {expected} `{separator}`-separated parts, found {found}")]
    WrongPartCount {
        /// The separator, e.g. `:` or `/`.
        separator: char,
        /// How many parts the key type needs.
        expected: usize,
        /// How many the text has.
        found: usize,
    },
    /// Two `+` follow each other, or a `+` starts or ends the text.
    #[error("empty `+`-separated segment")]
    EmptySegment,
    /// A `+`-separated segment is out of place, repeated, or has an unknown `tag@` prefix.
    #[error("unexpected segment {0:?}")]
    UnexpectedSegment(String),
    /// A part holds characters, or a shape, that the key type does not allow.
    #[error("{field} {value:?} is not allowed: expected {expected}")]
    InvalidField {
        /// The name of the part, e.g. `org` or `block_id`.
        field: &'static str,
        /// The rejected value.
        value: String,
        /// What the part may contain.
        expected: &'static str,
    },
    /// A required part is absent.
    #[error("missing {0}")]
    MissingField(&'static str),
    /// The text does not have the overall shape of the key type.
    #[error("expected {0}")]
    Malformed(&'static str),
    /// A constructor was asked for a combination that has no string form.
    #[error("{0}")]
    Unsupported(&'static str),
    /// The `$`-escaping of an aside key is broken or ambiguous.
    #[error("bad aside key escaping: {0}")]
    BadAsideEncoding(&'static str),
    /// The usage key wrapped in an aside key is invalid.
    #[error("the wrapped usage key is invalid: {0}")]
    InvalidUsageKey(Box<InvalidKeyError>),
    /// Aside keys are nested more deeply than any real key could be.
    #[error("aside keys nested too deeply")]
    TooDeep,
}
