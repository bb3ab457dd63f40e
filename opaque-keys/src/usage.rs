//! Usage keys: [`BlockUsageLocator`], [`CcxBlockUsageLocator`], the legacy
//! [`LibraryUsageLocator`], [`AsideUsageKey`] and the [`UsageKey`] that holds any of them or a
//! [`LibraryUsageLocatorV2`].

use std::fmt;
use std::str::FromStr;

use super::chars::{all_of, is_block_id_char, is_deprecated_part_char, is_id_char};
use super::course::{
    CcxLocator, CourseKey, CourseLocator, ID_CHARS, LibraryLocator, check_id, field_error, parse_namespaced,
    split_namespace,
};
use super::error::{InvalidKeyError, InvalidKeyReason, KeyType};
use super::library::{LibraryLocatorV2, LibraryUsageLocatorV2};
use super::plus::{self, Dialect};
use super::version::VersionGuid;

/// Aside keys can nest, but each level at least doubles the `$` escapes, so a real key is far
/// shallower than this; the limit only bounds recursion on hostile input.
const MAX_ASIDE_DEPTH: usize = 64;

const I4X_SHAPE: &str = "`i4x://org/course/category/name` with an optional `@revision`";

/// The text form of a [`BlockUsageLocator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BlockUsageSyntax {
    /// `block-v1:org+course+run[+branch@…][+version@…]+type@T+block@B`, the current form.
    BlockV1,
    /// `location:org+course+run+T+B`, a short-lived form (upstream's `DeprecatedLocation`).
    Location,
    /// `i4x://org/course/T/B[@revision]`, the deprecated form (upstream's `Location`), whose
    /// course key is deprecated and has no run.
    I4x,
}

/// A block (an XBlock usage) in a course: `block-v1:org+course+run+type@problem+block@abc`, or
/// one of the older forms `i4x://org/course/problem/abc` and `location:org+course+run+problem+abc`
/// (see [`BlockUsageSyntax`]).
///
/// Like upstream, `block-v1:` text without `+type@…` is accepted and given the block type
/// `None` (the word), which is what upstream then prints.
///
/// ```
/// use openedx_opaque_keys::BlockUsageLocator;
///
/// let key: BlockUsageLocator = "block-v1:edX+DemoX+Demo_Course+type@problem+block@abc".parse()?;
/// assert_eq!((key.block_type(), key.block_id()), ("problem", "abc"));
/// assert_eq!(key.course_key().to_string(), "course-v1:edX+DemoX+Demo_Course");
///
/// let old: BlockUsageLocator = "i4x://edX/DemoX/problem/abc@draft".parse()?;
/// assert!(old.is_deprecated());
/// assert_eq!(old.branch(), Some("draft"));
/// # Ok::<(), openedx_opaque_keys::InvalidKeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockUsageLocator {
    course_key: CourseLocator,
    block_type: String,
    block_id: String,
    syntax: BlockUsageSyntax,
}

impl BlockUsageLocator {
    /// The block `block_id` of type `block_type` in `course_key`.
    ///
    /// For a `course-v1` course both must be one or more letters, digits, `_`, `-`, `~`, `.` or
    /// `:`. For a deprecated course this makes the `i4x://` form: the block type may be any
    /// non-empty text without `/`, the id may also hold `%`, and the course's run is dropped
    /// (the `i4x://` form has none).
    pub fn new(course_key: CourseLocator, block_type: &str, block_id: &str) -> Result<Self, InvalidKeyError> {
        if !course_key.is_deprecated() {
            check_id(KeyType::BlockUsageLocator, "block_type", block_type)?;
            check_id(KeyType::BlockUsageLocator, "block_id", block_id)?;
            return Ok(BlockUsageLocator {
                course_key,
                block_type: block_type.to_owned(),
                block_id: block_id.to_owned(),
                syntax: BlockUsageSyntax::BlockV1,
            });
        }
        let (org, course) = (course_key.org().unwrap_or_default(), course_key.course().unwrap_or_default());
        let course_key = CourseLocator::deprecated(org, course, None, course_key.branch());
        BlockUsageLocator::i4x(course_key, block_type, block_id)
            .map_err(|reason| field_error(KeyType::BlockUsageLocator, reason))
    }

    fn i4x(course_key: CourseLocator, block_type: &str, block_id: &str) -> Result<Self, InvalidKeyReason> {
        if block_type.is_empty() || block_type.contains('/') {
            return Err(InvalidKeyReason::InvalidField {
                field: "block_type",
                value: block_type.to_owned(),
                expected: "one or more characters other than `/`",
            });
        }
        if !all_of(block_id, is_block_id_char) {
            return Err(InvalidKeyReason::InvalidField {
                field: "block_id",
                value: block_id.to_owned(),
                expected: "one or more letters, digits, `_`, `-`, `~`, `.`, `:` or `%`",
            });
        }
        Ok(BlockUsageLocator {
            course_key,
            block_type: block_type.to_owned(),
            block_id: block_id.to_owned(),
            syntax: BlockUsageSyntax::I4x,
        })
    }

    /// The course holding the block. For an `i4x://` key it is deprecated, has no run, and
    /// carries the revision as its branch.
    pub fn course_key(&self) -> &CourseLocator {
        &self.course_key
    }

    /// The XBlock type (upstream's `block_type`, formerly `category`), e.g. `problem`.
    pub fn block_type(&self) -> &str {
        &self.block_type
    }

    /// The block's id (formerly `name`).
    pub fn block_id(&self) -> &str {
        &self.block_id
    }

    /// Which text form the key uses.
    pub fn syntax(&self) -> BlockUsageSyntax {
        self.syntax
    }

    /// Whether this is a deprecated `i4x://` key.
    pub fn is_deprecated(&self) -> bool {
        self.syntax == BlockUsageSyntax::I4x
    }

    /// The course's organization; `None` for a bare version.
    pub fn org(&self) -> Option<&str> {
        self.course_key.org()
    }

    /// The course number; `None` for a bare version.
    pub fn course(&self) -> Option<&str> {
        self.course_key.course()
    }

    /// The course run; `None` for a bare version and for `i4x://` keys.
    pub fn run(&self) -> Option<&str> {
        self.course_key.run()
    }

    /// The branch, or for an `i4x://` key its revision.
    pub fn branch(&self) -> Option<&str> {
        self.course_key.branch()
    }

    /// The course version, if any.
    pub fn version_guid(&self) -> Option<VersionGuid> {
        self.course_key.version_guid()
    }

    fn parse_block_v1(rest: &str) -> Result<Self, InvalidKeyReason> {
        let parts = plus::parse(rest, Dialect::Split)?;
        let course_key = CourseLocator::from_parts(&parts)?;
        let block_id = parts.block_id.ok_or(InvalidKeyReason::MissingField("block_id"))?;
        if !all_of(block_id, is_id_char) {
            return Err(InvalidKeyReason::InvalidField {
                field: "block_id",
                value: block_id.to_owned(),
                expected: ID_CHARS,
            });
        }
        Ok(BlockUsageLocator {
            course_key,
            block_type: parts.block_type.unwrap_or("None").to_owned(),
            block_id: block_id.to_owned(),
            syntax: BlockUsageSyntax::BlockV1,
        })
    }

    fn parse_location(rest: &str) -> Result<Self, InvalidKeyReason> {
        let found = rest.split('+').count();
        let parts: Vec<&str> = rest.split('+').collect();
        let [org, course, run, block_type, block_id] = parts[..] else {
            return Err(InvalidKeyReason::WrongPartCount { separator: '+', expected: 5, found });
        };
        for (field, value) in
            [("org", org), ("course", course), ("run", run), ("block_type", block_type), ("block_id", block_id)]
        {
            if !all_of(value, is_id_char) {
                return Err(InvalidKeyReason::InvalidField { field, value: value.to_owned(), expected: ID_CHARS });
            }
        }
        let course_key = CourseLocator::from_parts(&plus::PlusParts {
            org: Some(org),
            course: Some(course),
            run: Some(run),
            ..Default::default()
        })?;
        Ok(BlockUsageLocator {
            course_key,
            block_type: block_type.to_owned(),
            block_id: block_id.to_owned(),
            syntax: BlockUsageSyntax::Location,
        })
    }

    /// Upstream's `DEPRECATED_URL_RE` and the checks made when building the key.
    fn parse_i4x(s: &str) -> Result<Self, InvalidKeyReason> {
        let malformed = InvalidKeyReason::Malformed(I4X_SHAPE);
        let rest = s.strip_prefix("i4x://").ok_or_else(|| malformed.clone())?;
        let mut pieces = rest.splitn(4, '/');
        let (Some(org), Some(course), Some(category), Some(tail)) =
            (pieces.next(), pieces.next(), pieces.next(), pieces.next())
        else {
            return Err(malformed);
        };
        if org.is_empty() || course.is_empty() || category.is_empty() || tail.is_empty() {
            return Err(malformed);
        }
        let (name, revision) = match tail.split_once('@') {
            Some((name, revision)) => (name, Some(revision)),
            None => (tail, None),
        };
        if name.is_empty() || revision.is_some_and(|r| r.is_empty() || r.contains('/')) {
            return Err(malformed);
        }
        for (field, value) in [("org", org), ("course", course)] {
            if !value.chars().all(is_deprecated_part_char) {
                return Err(InvalidKeyReason::InvalidField {
                    field,
                    value: value.to_owned(),
                    expected: "letters, digits, `_`, `.`, `%` or `-`",
                });
            }
        }
        if let Some(revision) = revision
            && !all_of(revision, is_block_id_char)
        {
            return Err(InvalidKeyReason::InvalidField {
                field: "revision",
                value: revision.to_owned(),
                expected: "letters, digits, `_`, `-`, `~`, `.`, `:` or `%`",
            });
        }
        BlockUsageLocator::i4x(CourseLocator::deprecated(org, course, None, revision), category, name)
    }
}

impl fmt::Display for BlockUsageLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.course_key;
        match self.syntax {
            BlockUsageSyntax::BlockV1 => {
                f.write_str("block-v1:")?;
                key.write_body(f)?;
                write!(f, "+type@{}+block@{}", self.block_type, self.block_id)
            }
            BlockUsageSyntax::Location => write!(
                f,
                "location:{}+{}+{}+{}+{}",
                key.org().unwrap_or_default(),
                key.course().unwrap_or_default(),
                key.run().unwrap_or_default(),
                self.block_type,
                self.block_id
            ),
            BlockUsageSyntax::I4x => {
                write!(
                    f,
                    "i4x://{}/{}/{}/{}",
                    key.org().unwrap_or_default(),
                    key.course().unwrap_or_default(),
                    self.block_type,
                    self.block_id
                )?;
                match key.branch() {
                    Some(revision) => write!(f, "@{revision}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Reads `block-v1:…`, `location:…` and deprecated `i4x://…` keys.
///
/// Unlike upstream's `BlockUsageLocator.from_string`, it does not return CCX or legacy library
/// blocks; parse those as their own types or as [`UsageKey`].
impl FromStr for BlockUsageLocator {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let result = match split_namespace(s) {
            Some(("block-v1", rest)) => BlockUsageLocator::parse_block_v1(rest),
            Some(("location", rest)) => BlockUsageLocator::parse_location(rest),
            Some(("i4x", _)) => BlockUsageLocator::parse_i4x(s),
            Some((namespace, _)) => Err(InvalidKeyReason::UnknownNamespace(namespace.to_owned())),
            None => Err(InvalidKeyReason::MissingNamespace),
        };
        result.map_err(|reason| InvalidKeyError::new(KeyType::BlockUsageLocator, s, reason))
    }
}

/// A block in a custom course (CCX):
/// `ccx-block-v1:org+course+run+ccx@N+type@problem+block@abc`; from edx-ccx-keys.
///
/// As for [`CcxLocator`], tags may be in any case; `+type@…` may be missing, which gives the
/// block type `None` as upstream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CcxBlockUsageLocator {
    course_key: CcxLocator,
    block_type: String,
    block_id: String,
}

impl CcxBlockUsageLocator {
    /// The block `block_id` of type `block_type` in the CCX `course_key`; both must be one or
    /// more letters, digits, `_`, `-`, `~`, `.` or `:`.
    pub fn new(course_key: CcxLocator, block_type: &str, block_id: &str) -> Result<Self, InvalidKeyError> {
        check_id(KeyType::CcxBlockUsageLocator, "block_type", block_type)?;
        check_id(KeyType::CcxBlockUsageLocator, "block_id", block_id)?;
        Ok(CcxBlockUsageLocator { course_key, block_type: block_type.to_owned(), block_id: block_id.to_owned() })
    }

    /// The CCX holding the block.
    pub fn course_key(&self) -> &CcxLocator {
        &self.course_key
    }

    /// The CCX id.
    pub fn ccx(&self) -> &str {
        self.course_key.ccx()
    }

    /// The XBlock type.
    pub fn block_type(&self) -> &str {
        &self.block_type
    }

    /// The block's id.
    pub fn block_id(&self) -> &str {
        &self.block_id
    }

    /// The same block in the course the CCX was made from (upstream's `to_block_locator`).
    pub fn to_block_locator(&self) -> BlockUsageLocator {
        BlockUsageLocator {
            course_key: self.course_key.to_course_locator(),
            block_type: self.block_type.clone(),
            block_id: self.block_id.clone(),
            syntax: BlockUsageSyntax::BlockV1,
        }
    }

    fn parse_rest(rest: &str) -> Result<Self, InvalidKeyReason> {
        let parts = plus::parse(rest, Dialect::Ccx)?;
        let course_key = CcxLocator::from_parts(&parts)?;
        let block_id = parts.block_id.ok_or(InvalidKeyReason::MissingField("block_id"))?;
        Ok(CcxBlockUsageLocator {
            course_key,
            block_type: parts.block_type.unwrap_or("None").to_owned(),
            block_id: block_id.to_owned(),
        })
    }
}

impl fmt::Display for CcxBlockUsageLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ccx-block-v1:")?;
        self.course_key.write_body(f)?;
        write!(f, "+type@{}+block@{}", self.block_type, self.block_id)
    }
}

/// Reads `ccx-block-v1:…` keys.
impl FromStr for CcxBlockUsageLocator {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_namespaced(s, KeyType::CcxBlockUsageLocator, "ccx-block-v1", CcxBlockUsageLocator::parse_rest)
    }
}

/// A block in a legacy (v1) library: `lib-block-v1:org+library+type@problem+block@abc`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LibraryUsageLocator {
    library_key: LibraryLocator,
    block_type: String,
    block_id: String,
}

impl LibraryUsageLocator {
    /// The block `block_id` of type `block_type` in `library_key`; both must be one or more
    /// letters, digits, `_`, `-`, `~`, `.` or `:`.
    pub fn new(library_key: LibraryLocator, block_type: &str, block_id: &str) -> Result<Self, InvalidKeyError> {
        check_id(KeyType::LibraryUsageLocator, "block_type", block_type)?;
        check_id(KeyType::LibraryUsageLocator, "block_id", block_id)?;
        Ok(LibraryUsageLocator { library_key, block_type: block_type.to_owned(), block_id: block_id.to_owned() })
    }

    /// The library holding the block.
    pub fn library_key(&self) -> &LibraryLocator {
        &self.library_key
    }

    /// The XBlock type.
    pub fn block_type(&self) -> &str {
        &self.block_type
    }

    /// The block's id.
    pub fn block_id(&self) -> &str {
        &self.block_id
    }

    fn parse_rest(rest: &str) -> Result<Self, InvalidKeyReason> {
        let parts = plus::parse(rest, Dialect::Split)?;
        let library_key = LibraryLocator::from_parts(&parts)?;
        let block_id = parts.block_id.ok_or(InvalidKeyReason::MissingField("block_id"))?;
        let block_type = parts.block_type.ok_or(InvalidKeyReason::MissingField("block_type"))?;
        if !all_of(block_id, is_id_char) {
            return Err(InvalidKeyReason::InvalidField {
                field: "block_id",
                value: block_id.to_owned(),
                expected: ID_CHARS,
            });
        }
        Ok(LibraryUsageLocator { library_key, block_type: block_type.to_owned(), block_id: block_id.to_owned() })
    }
}

impl fmt::Display for LibraryUsageLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lib-block-v1:")?;
        self.library_key.write_body(f)?;
        write!(f, "+type@{}+block@{}", self.block_type, self.block_id)
    }
}

/// Reads `lib-block-v1:…` keys.
impl FromStr for LibraryUsageLocator {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_namespaced(s, KeyType::LibraryUsageLocator, "lib-block-v1", LibraryUsageLocator::parse_rest)
    }
}

/// The two text forms of [`AsideUsageKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AsideKeyVersion {
    /// `aside-usage-v1:`: only `::` and `$` are escaped, so the wrapped key may not contain
    /// `::` or end with `:`.
    V1,
    /// `aside-usage-v2:`: every `:` and `$` is escaped.
    V2,
}

/// The data of an XBlock aside attached to a block: a wrapped [`UsageKey`] and an aside type,
/// written `aside-usage-v2:{usage key}::{aside type}` with `$`-escaping (or the older
/// `aside-usage-v1:`).
///
/// ```
/// use openedx_opaque_keys::{AsideUsageKey, UsageKey};
///
/// let block: UsageKey = "block-v1:edX+DemoX+Demo_Course+type@html+block@intro".parse()?;
/// let aside = AsideUsageKey::new_v2(block.clone(), "tagging_aside");
/// assert_eq!(aside.to_string(), "aside-usage-v2:block-v1$:edX+DemoX+Demo_Course+type@html+block@intro::tagging_aside");
/// assert_eq!(aside.usage_key(), &block);
/// # Ok::<(), openedx_opaque_keys::InvalidKeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsideUsageKey {
    usage_key: Box<UsageKey>,
    aside_type: String,
    version: AsideKeyVersion,
}

impl AsideUsageKey {
    /// The aside `aside_type` of `usage_key`, in the `aside-usage-v2:` form. Any aside type
    /// can be written, even an empty one.
    pub fn new_v2(usage_key: UsageKey, aside_type: &str) -> Self {
        AsideUsageKey {
            usage_key: Box::new(usage_key),
            aside_type: aside_type.to_owned(),
            version: AsideKeyVersion::V2,
        }
    }

    /// The aside `aside_type` of `usage_key`, in the `aside-usage-v1:` form; fails when the
    /// usage key's text contains `::` or ends with `:`, which that form cannot hold.
    pub fn new_v1(usage_key: UsageKey, aside_type: &str) -> Result<Self, InvalidKeyError> {
        let inner = usage_key.to_string();
        if inner.contains("::") || inner.ends_with(':') {
            return Err(InvalidKeyError::new(
                KeyType::AsideUsageKey,
                inner,
                InvalidKeyReason::Unsupported("aside-usage-v1 cannot wrap a key containing `::` or ending with `:`"),
            ));
        }
        Ok(AsideUsageKey {
            usage_key: Box::new(usage_key),
            aside_type: aside_type.to_owned(),
            version: AsideKeyVersion::V1,
        })
    }

    /// The block the aside is attached to.
    pub fn usage_key(&self) -> &UsageKey {
        &self.usage_key
    }

    /// The aside's type.
    pub fn aside_type(&self) -> &str {
        &self.aside_type
    }

    /// Which text form the key uses.
    pub fn version(&self) -> AsideKeyVersion {
        self.version
    }

    /// The wrapped block's type.
    pub fn block_type(&self) -> &str {
        self.usage_key.block_type()
    }

    /// The wrapped block's id.
    pub fn block_id(&self) -> &str {
        self.usage_key.block_id()
    }

    fn parse_rest(rest: &str, version: AsideKeyVersion, depth: usize) -> Result<Self, InvalidKeyReason> {
        if depth >= MAX_ASIDE_DEPTH {
            return Err(InvalidKeyReason::TooDeep);
        }
        let (left, right) = match version {
            AsideKeyVersion::V1 => {
                let (left, right) = rest.split_once("::").unwrap_or((rest, ""));
                (decode_v1(left)?, decode_v1(right)?)
            }
            AsideKeyVersion::V2 => {
                let (left, right) = rest.rsplit_once("::").unwrap_or(("", rest));
                (decode_v2(left)?, decode_v2(right)?)
            }
        };
        let usage_key = UsageKey::parse_at_depth(&left, depth + 1)
            .map_err(|error| InvalidKeyReason::InvalidUsageKey(Box::new(error)))?;
        if version == AsideKeyVersion::V1 {
            let inner = usage_key.to_string();
            if inner.contains("::") || inner.ends_with(':') {
                return Err(InvalidKeyReason::BadAsideEncoding(
                    "aside-usage-v1 cannot wrap a key containing `::` or ending with `:`",
                ));
            }
        }
        Ok(AsideUsageKey { usage_key: Box::new(usage_key), aside_type: right, version })
    }
}

fn encode_v1(value: &str) -> String {
    value.replace('$', "$$").replace("::", "$::")
}

fn decode_v1(value: &str) -> Result<String, InvalidKeyReason> {
    let decoded = value.replace("$::", "::").replace("$$", "$");
    if encode_v1(&decoded) == value {
        Ok(decoded)
    } else {
        Err(InvalidKeyReason::BadAsideEncoding("ambiguous `$` escaping"))
    }
}

fn encode_v2(value: &str) -> String {
    value.replace('$', "$$").replace(':', "$:")
}

fn decode_v2(value: &str) -> Result<String, InvalidKeyReason> {
    let mut previous = None;
    for c in value.chars() {
        if c == ':' && previous != Some('$') {
            return Err(InvalidKeyReason::BadAsideEncoding("unescaped `:`"));
        }
        previous = Some(c);
    }
    let colons = value.replace("$:", ":");
    // Upstream rejects any maximal run of `$` of odd length left after the colons are decoded.
    let mut run = 0usize;
    for c in colons.chars().chain(std::iter::once('\0')) {
        if c == '$' {
            run += 1;
        } else {
            if run % 2 == 1 {
                return Err(InvalidKeyReason::BadAsideEncoding("unescaped `$`"));
            }
            run = 0;
        }
    }
    Ok(colons.replace("$$", "$"))
}

impl fmt::Display for AsideUsageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.usage_key.to_string();
        match self.version {
            AsideKeyVersion::V1 => {
                write!(f, "aside-usage-v1:{}::{}", encode_v1(&inner), encode_v1(&self.aside_type))
            }
            AsideKeyVersion::V2 => {
                write!(f, "aside-usage-v2:{}::{}", encode_v2(&inner), encode_v2(&self.aside_type))
            }
        }
    }
}

/// Reads `aside-usage-v1:…` and `aside-usage-v2:…` keys.
impl FromStr for AsideUsageKey {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let result = match split_namespace(s) {
            Some(("aside-usage-v1", rest)) => AsideUsageKey::parse_rest(rest, AsideKeyVersion::V1, 0),
            Some(("aside-usage-v2", rest)) => AsideUsageKey::parse_rest(rest, AsideKeyVersion::V2, 0),
            Some((namespace, _)) => Err(InvalidKeyReason::UnknownNamespace(namespace.to_owned())),
            None => Err(InvalidKeyReason::MissingNamespace),
        };
        result.map_err(|reason| InvalidKeyError::new(KeyType::AsideUsageKey, s, reason))
    }
}

/// Any key that upstream's `UsageKey.from_string` returns: a course block (`block-v1:`,
/// `location:` or deprecated `i4x://`), a CCX block (`ccx-block-v1:`), a legacy library block
/// (`lib-block-v1:`), a Learning-Core library block (`lb:`), or an aside (`aside-usage-v1:`,
/// `aside-usage-v2:`).
///
/// ```
/// use openedx_opaque_keys::UsageKey;
///
/// let key: UsageKey = "lb:MITx:reallyhardproblems:problem:problem1".parse()?;
/// assert_eq!((key.block_type(), key.block_id()), ("problem", "problem1"));
/// assert!(key.course_key().is_none()); // its context is a library, not a course
/// # Ok::<(), openedx_opaque_keys::InvalidKeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum UsageKey {
    /// A block in a course.
    Block(BlockUsageLocator),
    /// A block in a custom course.
    Ccx(CcxBlockUsageLocator),
    /// A block in a legacy v1 library.
    Library(LibraryUsageLocator),
    /// A block in a Learning-Core (v2) library.
    LibraryV2(LibraryUsageLocatorV2),
    /// An aside attached to a block.
    Aside(AsideUsageKey),
}

impl UsageKey {
    /// The XBlock type, e.g. `problem`.
    pub fn block_type(&self) -> &str {
        match self {
            UsageKey::Block(key) => key.block_type(),
            UsageKey::Ccx(key) => key.block_type(),
            UsageKey::Library(key) => key.block_type(),
            UsageKey::LibraryV2(key) => key.block_type(),
            UsageKey::Aside(key) => key.block_type(),
        }
    }

    /// The block's id (for a v2 library block, its usage id).
    pub fn block_id(&self) -> &str {
        match self {
            UsageKey::Block(key) => key.block_id(),
            UsageKey::Ccx(key) => key.block_id(),
            UsageKey::Library(key) => key.block_id(),
            UsageKey::LibraryV2(key) => key.usage_id(),
            UsageKey::Aside(key) => key.block_id(),
        }
    }

    /// The organization of the course or library holding the block, if it has one.
    pub fn org(&self) -> Option<&str> {
        match self {
            UsageKey::Block(key) => key.org(),
            UsageKey::Ccx(key) => key.course_key().org(),
            UsageKey::Library(key) => key.library_key().org(),
            UsageKey::LibraryV2(key) => Some(key.org()),
            UsageKey::Aside(key) => key.usage_key().org(),
        }
    }

    /// The course, CCX or legacy library holding the block (upstream's `course_key`); `None`
    /// for a block in a v2 library, whose context is [`library_key`](Self::library_key).
    pub fn course_key(&self) -> Option<CourseKey> {
        match self {
            UsageKey::Block(key) => Some(CourseKey::Course(key.course_key().clone())),
            UsageKey::Ccx(key) => Some(CourseKey::Ccx(key.course_key().clone())),
            UsageKey::Library(key) => Some(CourseKey::Library(key.library_key().clone())),
            UsageKey::LibraryV2(_) => None,
            UsageKey::Aside(key) => key.usage_key().course_key(),
        }
    }

    /// The v2 library holding the block, for `lb:` keys (and asides of them).
    pub fn library_key(&self) -> Option<&LibraryLocatorV2> {
        match self {
            UsageKey::LibraryV2(key) => Some(key.lib_key()),
            UsageKey::Aside(key) => key.usage_key().library_key(),
            _ => None,
        }
    }

    /// Whether this is a deprecated `i4x://` key.
    pub fn is_deprecated(&self) -> bool {
        matches!(self, UsageKey::Block(key) if key.is_deprecated())
    }

    fn parse_at_depth(s: &str, depth: usize) -> Result<Self, InvalidKeyError> {
        // Upstream falls back to the `i4x://` form for anything that fails; only text whose
        // namespace is `i4x` can match it.
        let result = match split_namespace(s) {
            Some(("block-v1", rest)) => BlockUsageLocator::parse_block_v1(rest).map(UsageKey::Block),
            Some(("location", rest)) => BlockUsageLocator::parse_location(rest).map(UsageKey::Block),
            Some(("i4x", _)) => BlockUsageLocator::parse_i4x(s).map(UsageKey::Block),
            Some(("ccx-block-v1", rest)) => CcxBlockUsageLocator::parse_rest(rest).map(UsageKey::Ccx),
            Some(("lib-block-v1", rest)) => LibraryUsageLocator::parse_rest(rest).map(UsageKey::Library),
            Some(("lb", rest)) => LibraryUsageLocatorV2::parse_rest(rest).map(UsageKey::LibraryV2),
            Some(("aside-usage-v1", rest)) => {
                AsideUsageKey::parse_rest(rest, AsideKeyVersion::V1, depth).map(UsageKey::Aside)
            }
            Some(("aside-usage-v2", rest)) => {
                AsideUsageKey::parse_rest(rest, AsideKeyVersion::V2, depth).map(UsageKey::Aside)
            }
            Some((namespace, _)) => Err(InvalidKeyReason::UnknownNamespace(namespace.to_owned())),
            None => Err(InvalidKeyReason::MissingNamespace),
        };
        result.map_err(|reason| InvalidKeyError::new(KeyType::UsageKey, s, reason))
    }
}

impl fmt::Display for UsageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageKey::Block(key) => key.fmt(f),
            UsageKey::Ccx(key) => key.fmt(f),
            UsageKey::Library(key) => key.fmt(f),
            UsageKey::LibraryV2(key) => key.fmt(f),
            UsageKey::Aside(key) => key.fmt(f),
        }
    }
}

/// Reads what upstream's `UsageKey.from_string` accepts.
impl FromStr for UsageKey {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UsageKey::parse_at_depth(s, 0)
    }
}

impl From<BlockUsageLocator> for UsageKey {
    fn from(key: BlockUsageLocator) -> Self {
        UsageKey::Block(key)
    }
}

impl From<CcxBlockUsageLocator> for UsageKey {
    fn from(key: CcxBlockUsageLocator) -> Self {
        UsageKey::Ccx(key)
    }
}

impl From<LibraryUsageLocator> for UsageKey {
    fn from(key: LibraryUsageLocator) -> Self {
        UsageKey::Library(key)
    }
}

impl From<LibraryUsageLocatorV2> for UsageKey {
    fn from(key: LibraryUsageLocatorV2) -> Self {
        UsageKey::LibraryV2(key)
    }
}

impl From<AsideUsageKey> for UsageKey {
    fn from(key: AsideUsageKey) -> Self {
        UsageKey::Aside(key)
    }
}

super::string_serde!(BlockUsageLocator, "a block key such as block-v1:org+course+run+type@T+block@B");
super::string_serde!(CcxBlockUsageLocator, "a CCX block key such as ccx-block-v1:org+course+run+ccx@1+type@T+block@B");
super::string_serde!(LibraryUsageLocator, "a legacy library block key such as lib-block-v1:org+lib+type@T+block@B");
super::string_serde!(AsideUsageKey, "an aside usage key such as aside-usage-v2:…::aside_type");
super::string_serde!(UsageKey, "a usage key such as block-v1:org+course+run+type@T+block@B");
