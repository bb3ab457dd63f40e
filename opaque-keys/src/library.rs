//! Keys of Learning-Core (v2) content libraries: [`LibraryLocatorV2`],
//! [`LibraryUsageLocatorV2`], [`LibraryCollectionLocator`] and [`LibraryContainerLocator`].
//!
//! Their text forms are `:`-separated. Upstream checks each part with `re.match(r'^…+$')`, and
//! since `$` also matches before a final newline, a part may end with one `\n`; that is
//! reproduced here.

use std::fmt;
use std::str::FromStr;

use super::chars::{all_of_dollar, is_ascii_field_char, is_slug_char};
use super::course::{field_error, parse_namespaced};
use super::error::{InvalidKeyError, InvalidKeyReason, KeyType};

const ASCII_CHARS: &str = "one or more ASCII letters, digits, `_`, `-` or `.`";
const SLUG_CHARS: &str = "one or more letters, digits, `_`, `-` or `.`";

fn check(field: &'static str, value: &str, unicode: bool) -> Result<(), InvalidKeyReason> {
    let (ok, expected) = if unicode {
        (all_of_dollar(value, is_slug_char), SLUG_CHARS)
    } else {
        (all_of_dollar(value, is_ascii_field_char), ASCII_CHARS)
    };
    if ok { Ok(()) } else { Err(InvalidKeyReason::InvalidField { field, value: value.to_owned(), expected }) }
}

/// Splits the text after the namespace into exactly `N` `:`-separated parts.
fn split_parts<const N: usize>(rest: &str) -> Result<[&str; N], InvalidKeyReason> {
    let mut parts = [""; N];
    let mut found = 0;
    for part in rest.split(':') {
        if let Some(slot) = parts.get_mut(found) {
            *slot = part;
        }
        found += 1;
    }
    if found == N { Ok(parts) } else { Err(InvalidKeyReason::WrongPartCount { separator: ':', expected: N, found }) }
}

/// A Learning-Core content library, `lib:{org}:{slug}`, e.g. `lib:MITx:reallyhardproblems`.
///
/// The org is ASCII letters, digits, `_`, `-` and `.`; the slug may also use letters and
/// digits of any script. (Upstream treats it as a learning context, not a course key.)
///
/// ```
/// use openedx_opaque_keys::LibraryLocatorV2;
///
/// let lib: LibraryLocatorV2 = "lib:MITx:reallyhardproblems".parse()?;
/// assert_eq!((lib.org(), lib.slug()), ("MITx", "reallyhardproblems"));
/// assert_eq!(lib.make_usage_key("problem", "p1")?.to_string(), "lb:MITx:reallyhardproblems:problem:p1");
/// # Ok::<(), openedx_opaque_keys::InvalidKeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LibraryLocatorV2 {
    org: String,
    slug: String,
}

impl LibraryLocatorV2 {
    /// The library `lib:{org}:{slug}`.
    pub fn new(org: &str, slug: &str) -> Result<Self, InvalidKeyError> {
        LibraryLocatorV2::checked(org, slug).map_err(|reason| field_error(KeyType::LibraryLocatorV2, reason))
    }

    fn checked(org: &str, slug: &str) -> Result<Self, InvalidKeyReason> {
        check("org", org, false)?;
        check("slug", slug, true)?;
        Ok(LibraryLocatorV2 { org: org.to_owned(), slug: slug.to_owned() })
    }

    /// The organization.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The library's slug (short name).
    pub fn slug(&self) -> &str {
        &self.slug
    }

    /// The block `usage_id` of type `block_type` in this library.
    pub fn make_usage_key(&self, block_type: &str, usage_id: &str) -> Result<LibraryUsageLocatorV2, InvalidKeyError> {
        LibraryUsageLocatorV2::new(self.clone(), block_type, usage_id)
    }
}

impl fmt::Display for LibraryLocatorV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lib:{}:{}", self.org, self.slug)
    }
}

/// Reads `lib:…` keys.
impl FromStr for LibraryLocatorV2 {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_namespaced(s, KeyType::LibraryLocatorV2, "lib", |rest| {
            let [org, slug] = split_parts(rest)?;
            LibraryLocatorV2::checked(org, slug)
        })
    }
}

/// A block in a Learning-Core library, `lb:{org}:{slug}:{block_type}:{usage_id}`, e.g.
/// `lb:MITx:reallyhardproblems:problem:problem1`. Upstream counts it as a usage key, so
/// [`UsageKey`](super::UsageKey) accepts it too.
///
/// The block type is ASCII letters, digits, `_`, `-` and `.`; the usage id may also use
/// letters and digits of any script.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LibraryUsageLocatorV2 {
    lib_key: LibraryLocatorV2,
    block_type: String,
    usage_id: String,
}

impl LibraryUsageLocatorV2 {
    /// The block `usage_id` of type `block_type` in `lib_key`.
    pub fn new(lib_key: LibraryLocatorV2, block_type: &str, usage_id: &str) -> Result<Self, InvalidKeyError> {
        LibraryUsageLocatorV2::checked(lib_key, block_type, usage_id)
            .map_err(|reason| field_error(KeyType::LibraryUsageLocatorV2, reason))
    }

    fn checked(lib_key: LibraryLocatorV2, block_type: &str, usage_id: &str) -> Result<Self, InvalidKeyReason> {
        check("block_type", block_type, false)?;
        check("usage_id", usage_id, true)?;
        Ok(LibraryUsageLocatorV2 { lib_key, block_type: block_type.to_owned(), usage_id: usage_id.to_owned() })
    }

    pub(crate) fn parse_rest(rest: &str) -> Result<Self, InvalidKeyReason> {
        let [org, slug, block_type, usage_id] = split_parts(rest)?;
        LibraryUsageLocatorV2::checked(LibraryLocatorV2::checked(org, slug)?, block_type, usage_id)
    }

    /// The library holding the block (upstream's `context_key`).
    pub fn lib_key(&self) -> &LibraryLocatorV2 {
        &self.lib_key
    }

    /// The library's organization.
    pub fn org(&self) -> &str {
        self.lib_key.org()
    }

    /// The library's slug.
    pub fn slug(&self) -> &str {
        self.lib_key.slug()
    }

    /// The XBlock type, e.g. `problem`.
    pub fn block_type(&self) -> &str {
        &self.block_type
    }

    /// The id of the block within the library.
    pub fn usage_id(&self) -> &str {
        &self.usage_id
    }

    /// Another name for [`usage_id`](Self::usage_id), as upstream's `block_id`.
    pub fn block_id(&self) -> &str {
        &self.usage_id
    }
}

impl fmt::Display for LibraryUsageLocatorV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lb:{}:{}:{}:{}", self.lib_key.org, self.lib_key.slug, self.block_type, self.usage_id)
    }
}

/// Reads `lb:…` keys.
impl FromStr for LibraryUsageLocatorV2 {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_namespaced(s, KeyType::LibraryUsageLocatorV2, "lb", LibraryUsageLocatorV2::parse_rest)
    }
}

/// A collection in a Learning-Core library, `lib-collection:{org}:{slug}:{collection_id}`.
///
/// The collection id may use letters and digits of any script, `_`, `-` and `.`.
///
/// ```
/// use openedx_opaque_keys::LibraryCollectionLocator;
///
/// let key: LibraryCollectionLocator = "lib-collection:MITx:physics:week-1".parse()?;
/// assert_eq!((key.org(), key.lib_key().slug(), key.collection_id()), ("MITx", "physics", "week-1"));
/// # Ok::<(), openedx_opaque_keys::InvalidKeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LibraryCollectionLocator {
    lib_key: LibraryLocatorV2,
    collection_id: String,
}

impl LibraryCollectionLocator {
    /// The collection `collection_id` in `lib_key`.
    pub fn new(lib_key: LibraryLocatorV2, collection_id: &str) -> Result<Self, InvalidKeyError> {
        LibraryCollectionLocator::checked(lib_key, collection_id)
            .map_err(|reason| field_error(KeyType::LibraryCollectionLocator, reason))
    }

    fn checked(lib_key: LibraryLocatorV2, collection_id: &str) -> Result<Self, InvalidKeyReason> {
        check("collection_id", collection_id, true)?;
        Ok(LibraryCollectionLocator { lib_key, collection_id: collection_id.to_owned() })
    }

    /// The library holding the collection (upstream's `context_key`).
    pub fn lib_key(&self) -> &LibraryLocatorV2 {
        &self.lib_key
    }

    /// The library's organization.
    pub fn org(&self) -> &str {
        self.lib_key.org()
    }

    /// The collection's id (its key within the library).
    pub fn collection_id(&self) -> &str {
        &self.collection_id
    }
}

impl fmt::Display for LibraryCollectionLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lib-collection:{}:{}:{}", self.lib_key.org, self.lib_key.slug, self.collection_id)
    }
}

/// Reads `lib-collection:…` keys.
impl FromStr for LibraryCollectionLocator {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_namespaced(s, KeyType::LibraryCollectionLocator, "lib-collection", |rest| {
            let [org, slug, collection_id] = split_parts(rest)?;
            LibraryCollectionLocator::checked(LibraryLocatorV2::checked(org, slug)?, collection_id)
        })
    }
}

/// A container (unit, subsection, section…) in a Learning-Core library,
/// `lct:{org}:{slug}:{container_type}:{container_id}`, e.g. `lct:MITx:physics:unit:unit-1`.
///
/// The container type is ASCII letters, digits, `_`, `-` and `.`; the id may also use letters
/// and digits of any script.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LibraryContainerLocator {
    lib_key: LibraryLocatorV2,
    container_type: String,
    container_id: String,
}

impl LibraryContainerLocator {
    /// The container `container_id` of type `container_type` in `lib_key`.
    pub fn new(lib_key: LibraryLocatorV2, container_type: &str, container_id: &str) -> Result<Self, InvalidKeyError> {
        LibraryContainerLocator::checked(lib_key, container_type, container_id)
            .map_err(|reason| field_error(KeyType::LibraryContainerLocator, reason))
    }

    fn checked(lib_key: LibraryLocatorV2, container_type: &str, container_id: &str) -> Result<Self, InvalidKeyReason> {
        check("container_type", container_type, false)?;
        check("container_id", container_id, true)?;
        Ok(LibraryContainerLocator {
            lib_key,
            container_type: container_type.to_owned(),
            container_id: container_id.to_owned(),
        })
    }

    /// The library holding the container (upstream's `context_key`).
    pub fn lib_key(&self) -> &LibraryLocatorV2 {
        &self.lib_key
    }

    /// The library's organization.
    pub fn org(&self) -> &str {
        self.lib_key.org()
    }

    /// The kind of container, e.g. `unit`.
    pub fn container_type(&self) -> &str {
        &self.container_type
    }

    /// The container's id within the library.
    pub fn container_id(&self) -> &str {
        &self.container_id
    }
}

impl fmt::Display for LibraryContainerLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lct:{}:{}:{}:{}", self.lib_key.org, self.lib_key.slug, self.container_type, self.container_id)
    }
}

/// Reads `lct:…` keys.
impl FromStr for LibraryContainerLocator {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_namespaced(s, KeyType::LibraryContainerLocator, "lct", |rest| {
            let [org, slug, container_type, container_id] = split_parts(rest)?;
            LibraryContainerLocator::checked(LibraryLocatorV2::checked(org, slug)?, container_type, container_id)
        })
    }
}

super::string_serde!(LibraryLocatorV2, "a library key such as lib:org:slug");
super::string_serde!(LibraryUsageLocatorV2, "a library block key such as lb:org:slug:type:id");
super::string_serde!(LibraryCollectionLocator, "a collection key such as lib-collection:org:slug:id");
super::string_serde!(LibraryContainerLocator, "a container key such as lct:org:slug:type:id");
