//! Course keys: [`CourseLocator`], [`CcxLocator`], the legacy [`LibraryLocator`] and the
//! [`CourseKey`] that holds any of them.

use std::fmt;
use std::str::FromStr;

use super::chars::{all_chars, all_of, is_decimal, is_deprecated_part_char, is_id_char};
use super::error::{InvalidKeyError, InvalidKeyReason, KeyType};
use super::plus::{self, Dialect, PlusParts};
use super::usage::{BlockUsageLocator, CcxBlockUsageLocator, LibraryUsageLocator, UsageKey};
use super::version::VersionGuid;

pub(crate) const ID_CHARS: &str = "one or more letters, digits, `_`, `-`, `~`, `.` or `:`";
const DEPRECATED_CHARS: &str = "letters, digits, `_`, `.`, `%` or `-`";

/// Checks a part of a `+` key given to a constructor.
pub(crate) fn check_id(key_type: KeyType, field: &'static str, value: &str) -> Result<(), InvalidKeyError> {
    if all_of(value, is_id_char) {
        Ok(())
    } else {
        Err(InvalidKeyError::new(
            key_type,
            value,
            InvalidKeyReason::InvalidField { field, value: value.to_owned(), expected: ID_CHARS },
        ))
    }
}

/// Splits `namespace:rest`; `None` when there is no `:`.
pub(crate) fn split_namespace(s: &str) -> Option<(&str, &str)> {
    // `:` is ASCII, so its byte index is a char boundary.
    let colon = s.bytes().position(|b| b == b':')?;
    Some((&s[..colon], &s[colon + 1..]))
}

/// Parses `namespace:rest` for a key type with a single namespace.
pub(crate) fn parse_namespaced<T>(
    s: &str,
    key_type: KeyType,
    expected_namespace: &str,
    parse_rest: impl FnOnce(&str) -> Result<T, InvalidKeyReason>,
) -> Result<T, InvalidKeyError> {
    let result = match split_namespace(s) {
        Some((namespace, rest)) if namespace == expected_namespace => parse_rest(rest),
        Some((namespace, _)) => Err(InvalidKeyReason::UnknownNamespace(namespace.to_owned())),
        None => Err(InvalidKeyReason::MissingNamespace),
    };
    result.map_err(|reason| InvalidKeyError::new(key_type, s, reason))
}

/// What `CourseLocator` compares and hashes: org, course, run, branch, version, deprecated.
type OrderingKey<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<VersionGuid>, bool);

/// A course, named `course-v1:org+course+run` (optionally with `+branch@…` and
/// `+version@…`), by a bare `version@…`, or, for old courses, `org/course/run`.
///
/// This is upstream's `CourseLocator`; the slash form is what upstream calls a deprecated key
/// (formerly `SlashSeparatedCourseKey`). Parsing also takes the old `slashes:` namespace, which
/// upstream reads as `course-v1:`.
///
/// ```
/// use openedx_opaque_keys::CourseLocator;
///
/// let key: CourseLocator = "course-v1:edX+DemoX+Demo_Course".parse()?;
/// assert_eq!((key.org(), key.course(), key.run()), (Some("edX"), Some("DemoX"), Some("Demo_Course")));
/// assert!(!key.is_deprecated());
///
/// let old: CourseLocator = "edX/DemoX/Demo_Course".parse()?;
/// assert!(old.is_deprecated());
/// assert_eq!(old.to_string(), "edX/DemoX/Demo_Course");
/// # Ok::<(), openedx_opaque_keys::InvalidKeyError>(())
/// ```
///
/// Equality, ordering, hashing and `Debug` are those of the parts (org, course, run, branch,
/// version, deprecated), in that order.
#[derive(Clone, PartialEq, Eq)]
pub struct CourseLocator {
    /// The org, course, run and branch, one after the other, in one allocation (none for a
    /// bare version). The representation is canonical, so the derived `PartialEq` compares the
    /// parts.
    text: Box<str>,
    /// Whether there is an org and a course (always both, or neither).
    has_names: bool,
    org_len: usize,
    course_len: usize,
    run_len: Option<usize>,
    branch_len: Option<usize>,
    version_guid: Option<VersionGuid>,
    deprecated: bool,
}

impl CourseLocator {
    /// Builds a course from its parts; `names` is the org and the course.
    fn from_texts(
        names: Option<(&str, &str)>,
        run: Option<&str>,
        branch: Option<&str>,
        version_guid: Option<VersionGuid>,
        deprecated: bool,
    ) -> Self {
        let (org, course) = names.unwrap_or_default();
        let (run_text, branch_text) = (run.unwrap_or_default(), branch.unwrap_or_default());
        let mut text = String::with_capacity(org.len() + course.len() + run_text.len() + branch_text.len());
        text.push_str(org);
        text.push_str(course);
        text.push_str(run_text);
        text.push_str(branch_text);
        CourseLocator {
            text: text.into_boxed_str(),
            has_names: names.is_some(),
            org_len: org.len(),
            course_len: course.len(),
            run_len: run.map(str::len),
            branch_len: branch.map(str::len),
            version_guid,
            deprecated,
        }
    }

    /// The parts compared by `Ord` and `Hash`, as the fields the type used to have.
    fn ordering_key(&self) -> OrderingKey<'_> {
        (self.org(), self.course(), self.run(), self.branch(), self.version_guid, self.deprecated)
    }

    /// The course `course-v1:{org}+{course}+{run}`.
    ///
    /// Each part must be one or more letters, digits, `_`, `-`, `~`, `.` or `:` (letters and
    /// digits of any script).
    pub fn new(org: &str, course: &str, run: &str) -> Result<Self, InvalidKeyError> {
        check_id(KeyType::CourseLocator, "org", org)?;
        check_id(KeyType::CourseLocator, "course", course)?;
        check_id(KeyType::CourseLocator, "run", run)?;
        Ok(CourseLocator::from_texts(Some((org, course)), Some(run), None, None, false))
    }

    /// The deprecated course `{org}/{course}/{run}`.
    ///
    /// Each part may hold letters, digits, `_`, `.`, `%` and `-`; org and course must not be
    /// empty, the run may be.
    pub fn new_deprecated(org: &str, course: &str, run: &str) -> Result<Self, InvalidKeyError> {
        check_deprecated_parts(org, course, run).map_err(|reason| field_error(KeyType::CourseLocator, reason))?;
        Ok(CourseLocator::deprecated(org, course, Some(run), None))
    }

    /// The course version `course-v1:version@{version}`, with no org, course or run.
    pub fn from_version(version: VersionGuid) -> Self {
        CourseLocator::from_texts(None, None, None, Some(version), false)
    }

    /// This course on another branch, e.g. `draft` or `published`.
    ///
    /// Fails for a deprecated key or a bare version, whose text forms have no place for a
    /// branch.
    pub fn with_branch(self, branch: &str) -> Result<Self, InvalidKeyError> {
        if self.deprecated || self.run_len.is_none() {
            return Err(InvalidKeyError::new(
                KeyType::CourseLocator,
                branch,
                InvalidKeyReason::Unsupported("only a course-v1 key with org, course and run can have a branch"),
            ));
        }
        check_id(KeyType::CourseLocator, "branch", branch)?;
        let (names, run) = (self.org().zip(self.course()), self.run());
        Ok(CourseLocator::from_texts(names, run, Some(branch), self.version_guid, false))
    }

    /// This course at a given version. Fails for a deprecated key.
    pub fn with_version(mut self, version: VersionGuid) -> Result<Self, InvalidKeyError> {
        if self.deprecated {
            return Err(InvalidKeyError::new(
                KeyType::CourseLocator,
                version.to_string(),
                InvalidKeyReason::Unsupported("a deprecated course key cannot have a version"),
            ));
        }
        self.version_guid = Some(version);
        Ok(self)
    }

    /// This course without its version (upstream's `version_agnostic`); `None` for a bare
    /// version, which would be left with nothing.
    pub fn version_agnostic(&self) -> Option<Self> {
        self.run_len?;
        Some(CourseLocator { version_guid: None, ..self.clone() })
    }

    /// The organization, e.g. `edX`; `None` for a bare version.
    pub fn org(&self) -> Option<&str> {
        self.has_names.then(|| &self.text[..self.org_len])
    }

    /// The course number, e.g. `DemoX`; `None` for a bare version.
    pub fn course(&self) -> Option<&str> {
        self.has_names.then(|| &self.text[self.org_len..self.org_len + self.course_len])
    }

    /// The run, e.g. `2024_T1`; `None` for a bare version. A deprecated key may have an empty
    /// run (`org/course/`); the course key inside a deprecated `i4x://` usage key has none.
    pub fn run(&self) -> Option<&str> {
        let start = self.org_len + self.course_len;
        self.run_len.map(|len| &self.text[start..start + len])
    }

    /// The branch (`+branch@…`), if any. In the course key of a deprecated `i4x://` usage key
    /// this is the usage key's revision (`@…`), which the slash form cannot show.
    pub fn branch(&self) -> Option<&str> {
        let start = self.org_len + self.course_len + self.run_len.unwrap_or(0);
        self.branch_len.map(|len| &self.text[start..start + len])
    }

    /// The version (`+version@…`), if any.
    pub fn version_guid(&self) -> Option<VersionGuid> {
        self.version_guid
    }

    /// Whether this is a deprecated `org/course/run` key.
    pub fn is_deprecated(&self) -> bool {
        self.deprecated
    }

    /// The block `block_id` of type `block_type` in this course; for a deprecated course, the
    /// `i4x://` form. See [`BlockUsageLocator::new`].
    pub fn make_usage_key(&self, block_type: &str, block_id: &str) -> Result<BlockUsageLocator, InvalidKeyError> {
        BlockUsageLocator::new(self.clone(), block_type, block_id)
    }

    pub(crate) fn deprecated(org: &str, course: &str, run: Option<&str>, branch: Option<&str>) -> Self {
        CourseLocator::from_texts(Some((org, course)), run, branch, None, true)
    }

    /// Builds the course from the parts of a `+` key, as upstream's `CourseLocator(...)` does
    /// after `_from_string`, keeping only what the canonical string shows: without a run,
    /// upstream prints just the version, so org, course and branch are dropped then.
    pub(crate) fn from_parts(parts: &PlusParts<'_>) -> Result<Self, InvalidKeyReason> {
        let version_guid = match parts.version {
            Some(v) => Some(VersionGuid::parse_hex(v).ok_or_else(|| VersionGuid::invalid(v))?),
            None => None,
        };
        match (parts.org, parts.course, parts.run) {
            (Some(org), Some(course), Some(run)) => {
                Ok(CourseLocator::from_texts(Some((org, course)), Some(run), parts.branch, version_guid, false))
            }
            _ => match version_guid {
                Some(version) => Ok(CourseLocator::from_version(version)),
                None if parts.org.is_some() => Err(InvalidKeyReason::MissingField("run (or a version)")),
                None => Err(InvalidKeyReason::MissingField("org, course and run (or a version)")),
            },
        }
    }

    /// Parses the part after `course-v1:` (or `slashes:`).
    pub(crate) fn parse_plus(rest: &str) -> Result<Self, InvalidKeyReason> {
        CourseLocator::from_parts(&plus::parse(rest, Dialect::Split)?)
    }

    /// Parses a deprecated `org/course/run` key.
    pub(crate) fn parse_slashes(s: &str) -> Result<Self, InvalidKeyReason> {
        let found = s.split('/').count();
        let mut parts = s.split('/');
        match (parts.next(), parts.next(), parts.next(), found) {
            (Some(org), Some(course), Some(run), 3) => {
                check_deprecated_parts(org, course, run)?;
                Ok(CourseLocator::deprecated(org, course, Some(run), None))
            }
            _ => Err(InvalidKeyReason::WrongPartCount { separator: '/', expected: 3, found }),
        }
    }

    /// `org+course+run[+branch@…][+version@…]` or `version@…`: the text after the namespace.
    pub(crate) fn write_body(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut written = false;
        if let (Some(org), Some(course), Some(run)) = (self.org(), self.course(), self.run()) {
            f.write_str(org)?;
            f.write_str("+")?;
            f.write_str(course)?;
            f.write_str("+")?;
            f.write_str(run)?;
            if let Some(branch) = self.branch() {
                f.write_str("+branch@")?;
                f.write_str(branch)?;
            }
            written = true;
        }
        if let Some(version) = &self.version_guid {
            f.write_str(if written { "+version@" } else { "version@" })?;
            fmt::Display::fmt(version, f)?;
        }
        Ok(())
    }
}

/// The error for a constructor argument: the rejected value is the error's input.
pub(crate) fn field_error(key_type: KeyType, reason: InvalidKeyReason) -> InvalidKeyError {
    let value = match &reason {
        InvalidKeyReason::InvalidField { value, .. } => value.clone(),
        _ => String::new(),
    };
    InvalidKeyError::new(key_type, value, reason)
}

/// Upstream's checks for deprecated course parts: only `[\w.%-]` characters, and org and
/// course not empty (the run may be).
fn check_deprecated_parts(org: &str, course: &str, run: &str) -> Result<(), InvalidKeyReason> {
    for (field, value, may_be_empty) in [("org", org, false), ("course", course, false), ("run", run, true)] {
        if !(all_chars(value, is_deprecated_part_char) && (may_be_empty || !value.is_empty())) {
            return Err(InvalidKeyReason::InvalidField { field, value: value.to_owned(), expected: DEPRECATED_CHARS });
        }
    }
    Ok(())
}

impl PartialOrd for CourseLocator {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CourseLocator {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ordering_key().cmp(&other.ordering_key())
    }
}

impl std::hash::Hash for CourseLocator {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.ordering_key().hash(state);
    }
}

impl fmt::Debug for CourseLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CourseLocator")
            .field("org", &self.org())
            .field("course", &self.course())
            .field("run", &self.run())
            .field("branch", &self.branch())
            .field("version_guid", &self.version_guid)
            .field("deprecated", &self.deprecated)
            .finish()
    }
}

impl fmt::Display for CourseLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.deprecated {
            let org = self.org().unwrap_or_default();
            let course = self.course().unwrap_or_default();
            let run = self.run().unwrap_or_default();
            f.write_str(org)?;
            f.write_str("/")?;
            f.write_str(course)?;
            f.write_str("/")?;
            f.write_str(run)
        } else {
            f.write_str("course-v1:")?;
            self.write_body(f)
        }
    }
}

/// Reads `course-v1:…`, `slashes:…` and deprecated `org/course/run` keys.
///
/// Unlike upstream's `CourseLocator.from_string`, it does not return CCX keys; parse those as
/// [`CcxLocator`] or [`CourseKey`].
impl FromStr for CourseLocator {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let result = match split_namespace(s) {
            Some(("course-v1" | "slashes", rest)) => CourseLocator::parse_plus(rest),
            Some((namespace, _)) => Err(InvalidKeyReason::UnknownNamespace(namespace.to_owned())),
            None if s.contains('/') => CourseLocator::parse_slashes(s),
            None => Err(InvalidKeyReason::MissingNamespace),
        };
        result.map_err(|reason| InvalidKeyError::new(KeyType::CourseLocator, s, reason))
    }
}

/// A custom course (CCX) made from a course, named
/// `ccx-v1:org+course+run[+branch@…][+version@…]+ccx@N`; from the package edx-ccx-keys.
///
/// Upstream's grammar for these keys ignores case in the tags (`CCX@1` is read as `ccx@1`),
/// takes the version in either case, and allows the CCX id to be decimal digits of any script;
/// the id is kept as written, so `ccx@007` stays `007`.
///
/// ```
/// use openedx_opaque_keys::CcxLocator;
///
/// let key: CcxLocator = "ccx-v1:edX+DemoX+Demo_Course+ccx@3".parse()?;
/// assert_eq!(key.ccx(), "3");
/// assert_eq!(key.to_course_locator().to_string(), "course-v1:edX+DemoX+Demo_Course");
/// # Ok::<(), openedx_opaque_keys::InvalidKeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CcxLocator {
    course_key: CourseLocator,
    ccx: String,
}

impl CcxLocator {
    /// The CCX `ccx` of a course. The course must not be deprecated; `ccx` must be one or more
    /// decimal digits.
    pub fn new(course_key: CourseLocator, ccx: &str) -> Result<Self, InvalidKeyError> {
        if course_key.is_deprecated() {
            return Err(InvalidKeyError::new(
                KeyType::CcxLocator,
                course_key.to_string(),
                InvalidKeyReason::Unsupported("a CCX cannot be made from a deprecated course key"),
            ));
        }
        if !all_of(ccx, is_decimal) {
            return Err(InvalidKeyError::new(
                KeyType::CcxLocator,
                ccx,
                InvalidKeyReason::InvalidField { field: "ccx", value: ccx.to_owned(), expected: "decimal digits" },
            ));
        }
        Ok(CcxLocator { course_key, ccx: ccx.to_owned() })
    }

    /// The course the CCX was made from, without the CCX id (upstream's `to_course_locator`).
    pub fn to_course_locator(&self) -> CourseLocator {
        self.course_key.clone()
    }

    /// The course the CCX was made from, borrowed.
    pub fn course_locator(&self) -> &CourseLocator {
        &self.course_key
    }

    /// The CCX id, as written (decimal digits).
    pub fn ccx(&self) -> &str {
        &self.ccx
    }

    /// The organization; `None` for a bare version.
    pub fn org(&self) -> Option<&str> {
        self.course_key.org()
    }

    /// The course number; `None` for a bare version.
    pub fn course(&self) -> Option<&str> {
        self.course_key.course()
    }

    /// The run; `None` for a bare version.
    pub fn run(&self) -> Option<&str> {
        self.course_key.run()
    }

    /// The branch, if any.
    pub fn branch(&self) -> Option<&str> {
        self.course_key.branch()
    }

    /// The version, if any.
    pub fn version_guid(&self) -> Option<VersionGuid> {
        self.course_key.version_guid()
    }

    /// The block `block_id` of type `block_type` in this CCX (a `ccx-block-v1:` key).
    pub fn make_usage_key(&self, block_type: &str, block_id: &str) -> Result<CcxBlockUsageLocator, InvalidKeyError> {
        CcxBlockUsageLocator::new(self.clone(), block_type, block_id)
    }

    pub(crate) fn from_parts(parts: &PlusParts<'_>) -> Result<Self, InvalidKeyReason> {
        let course_key = CourseLocator::from_parts(parts)?;
        let ccx = parts.ccx.ok_or(InvalidKeyReason::MissingField("ccx"))?;
        Ok(CcxLocator { course_key, ccx: ccx.to_owned() })
    }

    pub(crate) fn parse_plus(rest: &str) -> Result<Self, InvalidKeyReason> {
        CcxLocator::from_parts(&plus::parse(rest, Dialect::Ccx)?)
    }

    pub(crate) fn write_body(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.course_key.write_body(f)?;
        f.write_str("+ccx@")?;
        f.write_str(&self.ccx)
    }
}

impl fmt::Display for CcxLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ccx-v1:")?;
        self.write_body(f)
    }
}

/// Reads `ccx-v1:…` keys.
impl FromStr for CcxLocator {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_namespaced(s, KeyType::CcxLocator, "ccx-v1", CcxLocator::parse_plus)
    }
}

/// A legacy (v1, modulestore) content library, named `library-v1:org+library` (optionally
/// with `+branch@…` and `+version@…`) or by a bare `version@…`.
///
/// Upstream counts these as course keys, for historical reasons, so [`CourseKey`] accepts
/// them. The `+run` that the shared grammar allows after the library name is read and
/// dropped, as upstream does. Newer libraries use [`LibraryLocatorV2`](super::LibraryLocatorV2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LibraryLocator {
    org: Option<String>,
    library: Option<String>,
    branch: Option<String>,
    version_guid: Option<VersionGuid>,
}

impl LibraryLocator {
    /// The library `library-v1:{org}+{library}`.
    pub fn new(org: &str, library: &str) -> Result<Self, InvalidKeyError> {
        check_id(KeyType::LibraryLocator, "org", org)?;
        check_id(KeyType::LibraryLocator, "library", library)?;
        Ok(LibraryLocator {
            org: Some(org.to_owned()),
            library: Some(library.to_owned()),
            branch: None,
            version_guid: None,
        })
    }

    /// The library version `library-v1:version@{version}`.
    pub fn from_version(version: VersionGuid) -> Self {
        LibraryLocator { org: None, library: None, branch: None, version_guid: Some(version) }
    }

    /// This library on another branch. Fails for a bare version.
    pub fn with_branch(mut self, branch: &str) -> Result<Self, InvalidKeyError> {
        if self.library.is_none() {
            return Err(InvalidKeyError::new(
                KeyType::LibraryLocator,
                branch,
                InvalidKeyReason::Unsupported("only a library key with org and library can have a branch"),
            ));
        }
        check_id(KeyType::LibraryLocator, "branch", branch)?;
        self.branch = Some(branch.to_owned());
        Ok(self)
    }

    /// This library at a given version.
    pub fn with_version(mut self, version: VersionGuid) -> Self {
        self.version_guid = Some(version);
        self
    }

    /// The organization; `None` for a bare version.
    pub fn org(&self) -> Option<&str> {
        self.org.as_deref()
    }

    /// The library name; `None` for a bare version.
    pub fn library(&self) -> Option<&str> {
        self.library.as_deref()
    }

    /// The branch, if any.
    pub fn branch(&self) -> Option<&str> {
        self.branch.as_deref()
    }

    /// The version, if any.
    pub fn version_guid(&self) -> Option<VersionGuid> {
        self.version_guid
    }

    /// The block `block_id` of type `block_type` in this library (a `lib-block-v1:` key).
    pub fn make_usage_key(&self, block_type: &str, block_id: &str) -> Result<LibraryUsageLocator, InvalidKeyError> {
        LibraryUsageLocator::new(self.clone(), block_type, block_id)
    }

    pub(crate) fn from_parts(parts: &PlusParts<'_>) -> Result<Self, InvalidKeyReason> {
        let version_guid = match parts.version {
            Some(v) => Some(VersionGuid::parse_hex(v).ok_or_else(|| VersionGuid::invalid(v))?),
            None => None,
        };
        match (parts.org, parts.course) {
            (Some(org), Some(library)) => Ok(LibraryLocator {
                org: Some(org.to_owned()),
                library: Some(library.to_owned()),
                branch: parts.branch.map(str::to_owned),
                version_guid,
            }),
            _ => match version_guid {
                Some(version) => Ok(LibraryLocator::from_version(version)),
                None => Err(InvalidKeyReason::MissingField("org and library (or a version)")),
            },
        }
    }

    pub(crate) fn parse_plus(rest: &str) -> Result<Self, InvalidKeyReason> {
        LibraryLocator::from_parts(&plus::parse(rest, Dialect::Split)?)
    }

    pub(crate) fn write_body(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut written = false;
        if let (Some(org), Some(library)) = (&self.org, &self.library) {
            f.write_str(org)?;
            f.write_str("+")?;
            f.write_str(library)?;
            if let Some(branch) = &self.branch {
                f.write_str("+branch@")?;
                f.write_str(branch)?;
            }
            written = true;
        }
        if let Some(version) = &self.version_guid {
            f.write_str(if written { "+version@" } else { "version@" })?;
            fmt::Display::fmt(version, f)?;
        }
        Ok(())
    }
}

impl fmt::Display for LibraryLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("library-v1:")?;
        self.write_body(f)
    }
}

/// Reads `library-v1:…` keys.
impl FromStr for LibraryLocator {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_namespaced(s, KeyType::LibraryLocator, "library-v1", LibraryLocator::parse_plus)
    }
}

/// Any key that upstream's `CourseKey.from_string` returns: a course (`course-v1:`,
/// `slashes:` or deprecated `org/course/run`), a CCX (`ccx-v1:`), or a legacy library
/// (`library-v1:`).
///
/// ```
/// use openedx_opaque_keys::CourseKey;
///
/// let key: CourseKey = "ccx-v1:edX+DemoX+Demo_Course+ccx@3".parse()?;
/// assert!(matches!(key, CourseKey::Ccx(_)));
/// assert_eq!(key.org(), Some("edX"));
/// assert!("lib:edX:demo".parse::<CourseKey>().is_err()); // a v2 library is not a course
/// # Ok::<(), openedx_opaque_keys::InvalidKeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CourseKey {
    /// A course, new style or deprecated.
    Course(CourseLocator),
    /// A custom course.
    Ccx(CcxLocator),
    /// A legacy v1 library.
    Library(LibraryLocator),
}

impl CourseKey {
    /// The organization; `None` for a bare version.
    pub fn org(&self) -> Option<&str> {
        match self {
            CourseKey::Course(key) => key.org(),
            CourseKey::Ccx(key) => key.org(),
            CourseKey::Library(key) => key.org(),
        }
    }

    /// The course number (for a library, its name, as upstream's deprecated `course`
    /// property); `None` for a bare version.
    pub fn course(&self) -> Option<&str> {
        match self {
            CourseKey::Course(key) => key.course(),
            CourseKey::Ccx(key) => key.course(),
            CourseKey::Library(key) => key.library(),
        }
    }

    /// The run; for a library always `library`, as upstream's deprecated `run` property.
    pub fn run(&self) -> Option<&str> {
        match self {
            CourseKey::Course(key) => key.run(),
            CourseKey::Ccx(key) => key.run(),
            CourseKey::Library(_) => Some("library"),
        }
    }

    /// The branch, if any.
    pub fn branch(&self) -> Option<&str> {
        match self {
            CourseKey::Course(key) => key.branch(),
            CourseKey::Ccx(key) => key.branch(),
            CourseKey::Library(key) => key.branch(),
        }
    }

    /// The version, if any.
    pub fn version_guid(&self) -> Option<VersionGuid> {
        match self {
            CourseKey::Course(key) => key.version_guid(),
            CourseKey::Ccx(key) => key.version_guid(),
            CourseKey::Library(key) => key.version_guid(),
        }
    }

    /// The CCX id of a CCX key.
    pub fn ccx(&self) -> Option<&str> {
        match self {
            CourseKey::Ccx(key) => Some(key.ccx()),
            _ => None,
        }
    }

    /// Whether this is a deprecated `org/course/run` key.
    pub fn is_deprecated(&self) -> bool {
        matches!(self, CourseKey::Course(key) if key.is_deprecated())
    }

    /// Whether the key names a course (upstream's `is_course`): false for a legacy library.
    pub fn is_course(&self) -> bool {
        !matches!(self, CourseKey::Library(_))
    }

    /// The block `block_id` of type `block_type` in this course, CCX or library.
    pub fn make_usage_key(&self, block_type: &str, block_id: &str) -> Result<UsageKey, InvalidKeyError> {
        Ok(match self {
            CourseKey::Course(key) => UsageKey::Block(key.make_usage_key(block_type, block_id)?),
            CourseKey::Ccx(key) => UsageKey::Ccx(key.make_usage_key(block_type, block_id)?),
            CourseKey::Library(key) => UsageKey::Library(key.make_usage_key(block_type, block_id)?),
        })
    }
}

impl fmt::Display for CourseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CourseKey::Course(key) => key.fmt(f),
            CourseKey::Ccx(key) => key.fmt(f),
            CourseKey::Library(key) => key.fmt(f),
        }
    }
}

/// Reads what upstream's `CourseKey.from_string` accepts.
impl FromStr for CourseKey {
    type Err = InvalidKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The deprecated slash form is upstream's fallback for anything that fails; it never
        // contains `:`, so it only needs trying when there is no namespace.
        let result = match split_namespace(s) {
            Some(("course-v1" | "slashes", rest)) => CourseLocator::parse_plus(rest).map(CourseKey::Course),
            Some(("ccx-v1", rest)) => CcxLocator::parse_plus(rest).map(CourseKey::Ccx),
            Some(("library-v1", rest)) => LibraryLocator::parse_plus(rest).map(CourseKey::Library),
            Some((namespace, _)) => Err(InvalidKeyReason::UnknownNamespace(namespace.to_owned())),
            None if s.contains('/') => CourseLocator::parse_slashes(s).map(CourseKey::Course),
            None => Err(InvalidKeyReason::MissingNamespace),
        };
        result.map_err(|reason| InvalidKeyError::new(KeyType::CourseKey, s, reason))
    }
}

impl From<CourseLocator> for CourseKey {
    fn from(key: CourseLocator) -> Self {
        CourseKey::Course(key)
    }
}

impl From<CcxLocator> for CourseKey {
    fn from(key: CcxLocator) -> Self {
        CourseKey::Ccx(key)
    }
}

impl From<LibraryLocator> for CourseKey {
    fn from(key: LibraryLocator) -> Self {
        CourseKey::Library(key)
    }
}

super::string_serde!(CourseLocator, "a course key such as course-v1:org+course+run");
super::string_serde!(CcxLocator, "a CCX key such as ccx-v1:org+course+run+ccx@1");
super::string_serde!(LibraryLocator, "a legacy library key such as library-v1:org+library");
super::string_serde!(CourseKey, "a course key such as course-v1:org+course+run");

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields `CourseLocator` had before its parts shared one allocation, with the
    /// derived traits that `Debug`, `Ord` and `Hash` must still agree with.
    #[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    struct CourseLocator {
        org: Option<String>,
        course: Option<String>,
        run: Option<String>,
        branch: Option<String>,
        version_guid: Option<VersionGuid>,
        deprecated: bool,
    }

    fn fields(key: &super::CourseLocator) -> CourseLocator {
        CourseLocator {
            org: key.org().map(str::to_owned),
            course: key.course().map(str::to_owned),
            run: key.run().map(str::to_owned),
            branch: key.branch().map(str::to_owned),
            version_guid: key.version_guid(),
            deprecated: key.is_deprecated(),
        }
    }

    fn hash_of<T: std::hash::Hash>(value: &T) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        BuildHasherDefault::<DefaultHasher>::default().hash_one(value)
    }

    #[test]
    fn traits_follow_the_parts() {
        let version = VersionGuid::parse_hex("519665f6223ebd6980884f2b").unwrap();
        let keys = [
            super::CourseLocator::new("edX", "DemoX", "2024").unwrap(),
            super::CourseLocator::new("edX", "Demo", "X2024").unwrap(),
            super::CourseLocator::new("ed", "XDemoX", "2024").unwrap(),
            super::CourseLocator::new("edX", "DemoX", "2024").unwrap().with_branch("draft").unwrap(),
            super::CourseLocator::new("edX", "DemoX", "2024").unwrap().with_version(version).unwrap(),
            super::CourseLocator::from_version(version),
            super::CourseLocator::new_deprecated("edX", "DemoX", "").unwrap(),
            super::CourseLocator::new_deprecated("edX", "DemoX", "2024").unwrap(),
            super::CourseLocator::deprecated("edX", "DemoX", None, Some("rev")),
            super::CourseLocator::deprecated("edX", "DemoX", Some("rev"), None),
        ];
        for a in &keys {
            let (a_fields, debug) = (fields(a), format!("{a:?}"));
            assert_eq!(debug, format!("{a_fields:?}"));
            assert_eq!(hash_of(a), hash_of(&a_fields), "{debug}");
            assert_eq!(a.version_agnostic().map(|k| fields(&k).version_guid), a.run().map(|_| None));
            for b in &keys {
                assert_eq!(a.cmp(b), a_fields.cmp(&fields(b)), "{a:?} {b:?}");
                assert_eq!(a == b, a_fields == fields(b), "{a:?} {b:?}");
            }
        }
        let branched = keys[3].clone().with_branch("published").unwrap();
        assert_eq!((branched.run(), branched.branch()), (Some("2024"), Some("published")));
    }
}
