//! Open edX opaque keys: the string identifiers of courses, blocks and libraries used throughout
//! Open edX, as defined by the Python packages `edx-opaque-keys` and `edx-ccx-keys`.
//!
//! Every key type parses with [`FromStr`](std::str::FromStr), prints its canonical string with
//! [`Display`](std::fmt::Display), and, with the `serde` feature, is (de)serialized by serde as
//! that string. This crate depends on nothing of Open edX events; `openedx-events` re-exports it
//! as `openedx_events::keys`. Parsing
//! accepts exactly the strings upstream accepts, older forms included, and never panics; a
//! rejected string gives an [`InvalidKeyError`] naming the key type, the text and the reason.
//!
//! | Type | Example |
//! |---|---|
//! | [`CourseKey`]: any of the next three | |
//! | [`CourseLocator`] | `course-v1:edX+DemoX+2024`, deprecated `edX/DemoX/2024` |
//! | [`CcxLocator`] (custom course) | `ccx-v1:edX+DemoX+2024+ccx@3` |
//! | [`LibraryLocator`] (legacy library) | `library-v1:edX+problems` |
//! | [`UsageKey`]: any of the next five | |
//! | [`BlockUsageLocator`] | `block-v1:edX+DemoX+2024+type@problem+block@p1`, deprecated `i4x://edX/DemoX/problem/p1` |
//! | [`CcxBlockUsageLocator`] | `ccx-block-v1:edX+DemoX+2024+ccx@3+type@problem+block@p1` |
//! | [`LibraryUsageLocator`] (legacy library block) | `lib-block-v1:edX+problems+type@problem+block@p1` |
//! | [`LibraryUsageLocatorV2`] | `lb:edX:physics:problem:p1` |
//! | [`AsideUsageKey`] | `aside-usage-v2:lb$:edX$:physics$:problem$:p1::tagging` |
//! | [`LibraryLocatorV2`] (Learning-Core library) | `lib:edX:physics` |
//! | [`LibraryCollectionLocator`] | `lib-collection:edX:physics:week-1` |
//! | [`LibraryContainerLocator`] | `lct:edX:physics:unit:unit-1` |
//!
//! `course-v1` and `block-v1` keys may also name a branch (`+branch@draft`) and a structure
//! version (`+version@` and a 24-digit [`VersionGuid`]); a key may even be a bare version.
//!
//! ```
//! use openedx_opaque_keys::{CourseKey, UsageKey};
//!
//! let course: CourseKey = "course-v1:edX+DemoX+Demo_Course".parse()?;
//! assert_eq!((course.org(), course.course(), course.run()), (Some("edX"), Some("DemoX"), Some("Demo_Course")));
//!
//! let block = course.make_usage_key("problem", "p1")?;
//! assert_eq!(block.to_string(), "block-v1:edX+DemoX+Demo_Course+type@problem+block@p1");
//! assert_eq!(block.to_string().parse::<UsageKey>()?, block);
//!
//! // Old forms are still read, and printed back the way they came.
//! let old: CourseKey = "edX/DemoX/Demo_Course".parse()?;
//! assert!(old.is_deprecated());
//! assert_eq!(old.to_string(), "edX/DemoX/Demo_Course");
//!
//! let error = "course-v1:edX+DemoX".parse::<CourseKey>().unwrap_err();
//! assert_eq!(error.to_string(), r#"invalid CourseKey "course-v1:edX+DemoX": missing run (or a version)"#);
//!
//! # #[cfg(feature = "serde")]
//! assert_eq!(serde_json::to_string(&course).unwrap(), r#""course-v1:edX+DemoX+Demo_Course""#);
//! # Ok::<(), openedx_opaque_keys::InvalidKeyError>(())
//! ```
//!
//! # Matching upstream
//!
//! - Character classes follow Python's `re`: "letters and digits" means Python's Unicode `\w`
//!   (general categories L and N, and `_`), taken from CPython 3.11 (Unicode 14.0).
//! - Like upstream, some accepted strings are not canonical and print differently: `slashes:`
//!   is printed as `course-v1:`; a `course-v1:` course key ignores a trailing `+type@…+block@…`;
//!   `library-v1:` ignores a run; CCX tags and versions may be in any case; `block-v1:` without
//!   `+type@` gets the block type `None`; a key with a version but no run keeps only the
//!   version; `aside-usage-v1:` without `::` gets an empty aside type.
//! - A key is the value its canonical string describes: parts that upstream keeps in memory
//!   but never prints (such as the org of a version-only key) are dropped when parsing, so
//!   `k.to_string().parse() == Ok(k)` for every key, and equal keys print the same. The one
//!   exception is [`BlockUsageLocator::course_key`] of an `i4x://…@revision` key, whose
//!   revision is the course key's branch, which the slash form cannot print.
//! - The concrete types' parsers read only their own namespaces; upstream's
//!   `CourseLocator.from_string` and `BlockUsageLocator.from_string` also return their CCX
//!   and legacy-library subclasses, for which use [`CourseKey`] and [`UsageKey`].

#![forbid(unsafe_code)]

mod chars;
mod course;
mod error;
mod library;
mod plus;
mod unicode_tables;
mod usage;
mod version;

pub use self::course::{CcxLocator, CourseKey, CourseLocator, LibraryLocator};
pub use self::error::{InvalidKeyError, InvalidKeyReason, KeyType};
pub use self::library::{LibraryCollectionLocator, LibraryContainerLocator, LibraryLocatorV2, LibraryUsageLocatorV2};
pub use self::usage::{
    AsideKeyVersion, AsideUsageKey, BlockUsageLocator, BlockUsageSyntax, CcxBlockUsageLocator, LibraryUsageLocator,
    UsageKey,
};
pub use self::version::VersionGuid;

/// Implements `Serialize` (the `Display` string) and `Deserialize` (through `FromStr`), with the
/// `serde` feature.
macro_rules! string_serde {
    ($ty:ty, $expecting:literal) => {
        #[cfg(feature = "serde")]
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct KeyVisitor;

                impl serde::de::Visitor<'_> for KeyVisitor {
                    type Value = $ty;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$ty, E> {
                        value.parse().map_err(E::custom)
                    }
                }

                deserializer.deserialize_str(KeyVisitor)
            }
        }
    };
}
use string_serde;
