//! Tests of `openedx_opaque_keys`: agreement with the Python packages (through the vectors in
//! `tests/data/keys_vectors.json`), round trips, serde, and property tests.

use std::collections::HashSet;
use std::fmt::Display;
use std::str::FromStr;

use openedx_opaque_keys::{
    AsideKeyVersion, AsideUsageKey, BlockUsageLocator, BlockUsageSyntax, CcxBlockUsageLocator, CcxLocator, CourseKey,
    CourseLocator, InvalidKeyError, InvalidKeyReason, KeyType, LibraryCollectionLocator, LibraryContainerLocator,
    LibraryLocator, LibraryLocatorV2, LibraryUsageLocator, LibraryUsageLocatorV2, UsageKey, VersionGuid,
};
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Descriptions of keys, in the shape `gen_keys_vectors.py` writes for upstream's keys.

fn opt(value: Option<&str>) -> Value {
    value.map_or(Value::Null, |v| json!(v))
}

fn opt_version(value: Option<VersionGuid>) -> Value {
    value.map_or(Value::Null, |v| json!(v.to_string()))
}

fn describe_course_locator(key: &CourseLocator) -> Value {
    json!({
        "type": "CourseLocator",
        "org": opt(key.org()),
        "course": opt(key.course()),
        "run": opt(key.run()),
        "branch": opt(key.branch()),
        "version_guid": opt_version(key.version_guid()),
        "deprecated": key.is_deprecated(),
    })
}

fn describe_ccx(key: &CcxLocator) -> Value {
    let mut value = describe_course_locator(key.course_locator());
    value["type"] = json!("CcxLocator");
    value["ccx"] = json!(key.ccx());
    value
}

fn describe_library_v1(key: &LibraryLocator) -> Value {
    json!({
        "type": "LibraryLocator",
        "org": opt(key.org()),
        "library": opt(key.library()),
        "branch": opt(key.branch()),
        "version_guid": opt_version(key.version_guid()),
    })
}

fn describe_course_key(key: &CourseKey) -> Value {
    match key {
        CourseKey::Course(key) => describe_course_locator(key),
        CourseKey::Ccx(key) => describe_ccx(key),
        CourseKey::Library(key) => describe_library_v1(key),
        other => panic!("unexpected course key {other:?}"),
    }
}

fn describe_lib(key: &LibraryLocatorV2) -> Value {
    json!({"type": "LibraryLocatorV2", "org": key.org(), "slug": key.slug()})
}

fn describe_lb(key: &LibraryUsageLocatorV2) -> Value {
    json!({
        "type": "LibraryUsageLocatorV2",
        "lib_key": describe_lib(key.lib_key()),
        "block_type": key.block_type(),
        "usage_id": key.usage_id(),
    })
}

fn describe_usage_key(key: &UsageKey) -> Value {
    match key {
        UsageKey::Block(key) => json!({
            "type": "BlockUsageLocator",
            "syntax": format!("{:?}", key.syntax()),
            "course_key": describe_course_locator(key.course_key()),
            "block_type": key.block_type(),
            "block_id": key.block_id(),
        }),
        UsageKey::Ccx(key) => json!({
            "type": "CcxBlockUsageLocator",
            "course_key": describe_ccx(key.course_key()),
            "block_type": key.block_type(),
            "block_id": key.block_id(),
        }),
        UsageKey::Library(key) => json!({
            "type": "LibraryUsageLocator",
            "library_key": describe_library_v1(key.library_key()),
            "block_type": key.block_type(),
            "block_id": key.block_id(),
        }),
        UsageKey::LibraryV2(key) => describe_lb(key),
        UsageKey::Aside(key) => json!({
            "type": "AsideUsageKey",
            "version": format!("{:?}", key.version()),
            "usage_key": describe_usage_key(key.usage_key()),
            "aside_type": key.aside_type(),
        }),
        other => panic!("unexpected usage key {other:?}"),
    }
}

/// Parses `input` as the named key type; on success, its canonical string and description.
fn parse_as(key_type: &str, input: &str) -> Result<(String, Value), InvalidKeyError> {
    Ok(match key_type {
        "CourseKey" => {
            let key = CourseKey::from_str(input)?;
            (key.to_string(), describe_course_key(&key))
        }
        "UsageKey" => {
            let key = UsageKey::from_str(input)?;
            (key.to_string(), describe_usage_key(&key))
        }
        "CcxLocator" => {
            let key = CcxLocator::from_str(input)?;
            (key.to_string(), describe_ccx(&key))
        }
        "LibraryLocatorV2" => {
            let key = LibraryLocatorV2::from_str(input)?;
            (key.to_string(), describe_lib(&key))
        }
        "LibraryUsageLocatorV2" => {
            let key = LibraryUsageLocatorV2::from_str(input)?;
            (key.to_string(), describe_lb(&key))
        }
        "LibraryCollectionLocator" => {
            let key = LibraryCollectionLocator::from_str(input)?;
            let parts = json!({
                "type": "LibraryCollectionLocator",
                "lib_key": describe_lib(key.lib_key()),
                "collection_id": key.collection_id(),
            });
            (key.to_string(), parts)
        }
        "LibraryContainerLocator" => {
            let key = LibraryContainerLocator::from_str(input)?;
            let parts = json!({
                "type": "LibraryContainerLocator",
                "lib_key": describe_lib(key.lib_key()),
                "container_type": key.container_type(),
                "container_id": key.container_id(),
            });
            (key.to_string(), parts)
        }
        other => panic!("the vectors name an unknown key type {other}"),
    })
}

// ---------------------------------------------------------------------------------------------
// Agreement with upstream.

const VECTORS: &str = include_str!("data/keys_vectors.json");

/// The committed vectors, or the file named by `OPENEDX_KEYS_VECTORS` (a larger corpus made
/// with `gen_keys_vectors.py --per-seed … --random …`).
fn vectors() -> Value {
    let text = match std::env::var_os("OPENEDX_KEYS_VECTORS") {
        Some(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path:?}: {e}")),
        None => VECTORS.to_owned(),
    };
    serde_json::from_str(&text).expect("the vectors are JSON")
}

#[test]
fn parsing_matches_upstream_vectors() {
    let document = vectors();
    let key_types: Vec<&str> =
        document["key_types"].as_array().expect("key_types").iter().filter_map(Value::as_str).collect();
    let cases = document["cases"].as_array().expect("cases");
    assert!(cases.len() > 500, "the vectors look truncated");

    let mut failures = Vec::new();
    let mut accepted_count = 0;
    for case in cases {
        let input = case["input"].as_str().expect("input");
        for key_type in &key_types {
            let expected = case["accepted"].get(*key_type);
            match (parse_as(key_type, input), expected) {
                (Ok((canonical, parts)), Some(expected)) => {
                    accepted_count += 1;
                    if canonical != expected["canonical"] {
                        failures.push(format!(
                            "{key_type} {input:?}: prints {canonical:?}, upstream {}",
                            expected["canonical"]
                        ));
                    }
                    if parts != expected["parts"] {
                        failures.push(format!("{key_type} {input:?}: parts {parts}, upstream {}", expected["parts"]));
                    }
                }
                (Err(error), Some(_)) => {
                    failures.push(format!("{key_type} {input:?}: upstream accepts, we say {error}"))
                }
                (Ok((canonical, _)), None) => {
                    failures.push(format!("{key_type} {input:?}: upstream rejects, we read {canonical:?}"))
                }
                (Err(error), None) => {
                    assert_eq!(error.input(), input);
                    assert_eq!(error.key_type().name(), *key_type);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} disagreements with upstream:\n{}", failures.len(), failures.join("\n"));
    assert!(accepted_count > 200, "too few accepted vectors: {accepted_count}");
}

/// The concrete types read exactly the strings of their own namespaces that the enums read.
#[test]
fn concrete_types_agree_with_the_enums() {
    let document = vectors();
    for case in document["cases"].as_array().expect("cases") {
        let input = case["input"].as_str().expect("input");
        let course = case["accepted"]["CourseKey"]["parts"]["type"].as_str();
        let usage = case["accepted"]["UsageKey"]["parts"]["type"].as_str();
        let check = |name: &str, ok: bool, expected: bool| {
            assert_eq!(ok, expected, "{name}::from_str({input:?})");
        };
        check("CourseLocator", CourseLocator::from_str(input).is_ok(), course == Some("CourseLocator"));
        check("LibraryLocator", LibraryLocator::from_str(input).is_ok(), course == Some("LibraryLocator"));
        check("BlockUsageLocator", BlockUsageLocator::from_str(input).is_ok(), usage == Some("BlockUsageLocator"));
        check(
            "CcxBlockUsageLocator",
            CcxBlockUsageLocator::from_str(input).is_ok(),
            usage == Some("CcxBlockUsageLocator"),
        );
        check(
            "LibraryUsageLocator",
            LibraryUsageLocator::from_str(input).is_ok(),
            usage == Some("LibraryUsageLocator"),
        );
        check("AsideUsageKey", AsideUsageKey::from_str(input).is_ok(), usage == Some("AsideUsageKey"));
    }
}

// ---------------------------------------------------------------------------------------------
// Behaviour worth spelling out.

fn reason<T: FromStr<Err = InvalidKeyError> + std::fmt::Debug>(input: &str) -> InvalidKeyReason {
    T::from_str(input).expect_err(input).reason().clone()
}

#[test]
fn errors_say_which_type_what_input_and_why() {
    let error = CourseKey::from_str("course-v1:edX+Demo X+2024").unwrap_err();
    assert_eq!(error.key_type(), KeyType::CourseKey);
    assert_eq!(error.input(), "course-v1:edX+Demo X+2024");
    assert!(
        matches!(error.reason(), InvalidKeyReason::InvalidField { field: "course", value, .. } if value == "Demo X")
    );
    assert!(error.to_string().starts_with(r#"invalid CourseKey "course-v1:edX+Demo X+2024": course "Demo X""#));

    assert_eq!(reason::<CourseKey>("lib:org:slug"), InvalidKeyReason::UnknownNamespace("lib".into()));
    assert_eq!(reason::<CourseKey>("nonsense"), InvalidKeyReason::MissingNamespace);
    assert_eq!(
        reason::<CourseKey>("a/b/c/d"),
        InvalidKeyReason::WrongPartCount { separator: '/', expected: 3, found: 4 }
    );
    assert_eq!(reason::<CourseKey>("course-v1:a+b+c+"), InvalidKeyReason::EmptySegment);
    assert_eq!(reason::<UsageKey>("block-v1:a+b+c+type@t"), InvalidKeyReason::MissingField("block_id"));
    assert_eq!(
        reason::<LibraryUsageLocatorV2>("lb:a:b:c"),
        InvalidKeyReason::WrongPartCount { separator: ':', expected: 4, found: 3 }
    );
    assert!(matches!(reason::<UsageKey>("i4x://a/b/c"), InvalidKeyReason::Malformed(_)));
    assert!(matches!(
        reason::<UsageKey>("aside-usage-v2:block-v1$:a+b+type@t+block@x::t"),
        InvalidKeyReason::InvalidUsageKey(inner) if inner.key_type() == KeyType::UsageKey
    ));
    assert!(matches!(
        reason::<CourseKey>("course-v1:a+b+c+version@abc"),
        InvalidKeyReason::InvalidField { field: "version_guid", .. }
    ));
}

#[test]
fn older_and_non_canonical_forms() {
    let course = CourseKey::from_str("slashes:edX+DemoX+2024").unwrap();
    assert_eq!(course.to_string(), "course-v1:edX+DemoX+2024");

    let ccx = CourseKey::from_str("ccx-v1:edX+DemoX+2024+BRANCH@b+Version@519665F6223EBD6980884F2B+CCX@007").unwrap();
    assert_eq!(ccx.to_string(), "ccx-v1:edX+DemoX+2024+branch@b+version@519665f6223ebd6980884f2b+ccx@007");
    assert_eq!(ccx.ccx(), Some("007"));

    let block = UsageKey::from_str("block-v1:edX+DemoX+2024+block@intro").unwrap();
    assert_eq!(block.block_type(), "None");
    assert_eq!(block.to_string(), "block-v1:edX+DemoX+2024+type@None+block@intro");

    let versioned = CourseKey::from_str("course-v1:edX+DemoX+version@519665f6223ebd6980884f2b").unwrap();
    assert_eq!(versioned.org(), None);
    assert_eq!(versioned.to_string(), "course-v1:version@519665f6223ebd6980884f2b");

    let i4x = UsageKey::from_str("i4x://edX/DemoX/problem/p1@draft").unwrap();
    assert!(i4x.is_deprecated());
    let UsageKey::Block(block) = &i4x else { panic!("{i4x:?}") };
    assert_eq!((block.org(), block.run(), block.branch()), (Some("edX"), None, Some("draft")));
    assert_eq!(block.syntax(), BlockUsageSyntax::I4x);

    let location = UsageKey::from_str("location:edX+DemoX+2024+problem+p1").unwrap();
    assert_eq!(location.to_string(), "location:edX+DemoX+2024+problem+p1");
    assert_ne!(location, UsageKey::from_str("block-v1:edX+DemoX+2024+type@problem+block@p1").unwrap());

    let library = CourseKey::from_str("library-v1:edX+problems").unwrap();
    assert!(!library.is_course());
    assert_eq!(library.run(), Some("library"));

    // A single trailing newline passes upstream's `$`-anchored checks of v2 library keys.
    let lib = LibraryLocatorV2::from_str("lib:edX:physics\n").unwrap();
    assert_eq!(lib.slug(), "physics\n");
    assert!(LibraryLocatorV2::from_str("lib:edX:physics\n\n").is_err());
}

#[test]
fn accessors_and_conversions() {
    let usage = UsageKey::from_str("ccx-block-v1:edX+DemoX+2024+ccx@3+type@html+block@intro").unwrap();
    let UsageKey::Ccx(ccx_block) = &usage else { panic!("{usage:?}") };
    assert_eq!(ccx_block.ccx(), "3");
    assert_eq!(ccx_block.to_block_locator().to_string(), "block-v1:edX+DemoX+2024+type@html+block@intro");
    assert_eq!(usage.course_key().unwrap().to_string(), "ccx-v1:edX+DemoX+2024+ccx@3");
    assert_eq!(usage.org(), Some("edX"));

    let lb = UsageKey::from_str("lb:edX:physics:problem:p1").unwrap();
    assert_eq!(lb.library_key().map(ToString::to_string).as_deref(), Some("lib:edX:physics"));
    assert_eq!(lb.course_key(), None);

    let aside = UsageKey::from_str("aside-usage-v2:lb$:edX$:physics$:problem$:p1::tagging").unwrap();
    assert_eq!((aside.block_type(), aside.block_id(), aside.org()), ("problem", "p1", Some("edX")));
    assert_eq!(aside.library_key(), lb.library_key());

    let container = LibraryContainerLocator::from_str("lct:edX:physics:unit:u1").unwrap();
    assert_eq!((container.org(), container.container_type(), container.container_id()), ("edX", "unit", "u1"));

    let version: VersionGuid = "519665F6223EBD6980884F2B".parse().unwrap();
    assert_eq!(version.to_string(), "519665f6223ebd6980884f2b");
    assert_eq!(VersionGuid::from_bytes(version.to_bytes()), version);
    assert!("519665f6223ebd6980884f2".parse::<VersionGuid>().is_err());

    let course =
        CourseLocator::new("edX", "DemoX", "2024").unwrap().with_branch("draft").unwrap().with_version(version);
    let course = course.unwrap();
    assert_eq!(course.to_string(), "course-v1:edX+DemoX+2024+branch@draft+version@519665f6223ebd6980884f2b");
    assert_eq!(course.version_agnostic().unwrap().to_string(), "course-v1:edX+DemoX+2024+branch@draft");
    assert!(CourseLocator::from_version(version).with_branch("draft").is_err());
    assert!(CourseLocator::new("edX", "Demo X", "2024").is_err());
    assert!(CourseLocator::new_deprecated("edX", "DemoX", "").is_ok());
    assert!(CcxLocator::new(CourseLocator::new_deprecated("a", "b", "c").unwrap(), "1").is_err());
    assert!(AsideUsageKey::new_v1(UsageKey::from_str("block-v1:a+b+c+type@t+block@x:").unwrap(), "t").is_err());

    let deprecated = CourseLocator::new_deprecated("edX", "DemoX", "2024").unwrap();
    let i4x = deprecated.make_usage_key("problem", "p1").unwrap();
    assert_eq!(i4x.to_string(), "i4x://edX/DemoX/problem/p1");
}

#[test]
fn serde_uses_the_canonical_string() {
    let key = UsageKey::from_str("block-v1:edX+DemoX+2024+type@problem+block@p1").unwrap();
    let text = serde_json::to_string(&key).unwrap();
    assert_eq!(text, r#""block-v1:edX+DemoX+2024+type@problem+block@p1""#);
    assert_eq!(serde_json::from_str::<UsageKey>(&text).unwrap(), key);

    let error = serde_json::from_str::<CourseKey>(r#""course-v1:nope""#).unwrap_err();
    assert!(error.to_string().contains("invalid CourseKey"), "{error}");
    assert!(serde_json::from_str::<CourseKey>("42").is_err());

    // Non-canonical input is accepted and written back canonically.
    let course: CourseKey = serde_json::from_str(r#""slashes:a+b+c""#).unwrap();
    assert_eq!(serde_json::to_value(&course).unwrap(), json!("course-v1:a+b+c"));
}

#[test]
fn equality_hash_and_order_follow_the_parts() {
    let a = CourseKey::from_str("course-v1:a+b+c").unwrap();
    let same = CourseKey::from_str("slashes:a+b+c").unwrap();
    let b = CourseKey::from_str("course-v1:a+b+d").unwrap();
    assert_eq!(a, same);
    assert!(a < b);
    let set: HashSet<CourseKey> = [a.clone(), same, b].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert_ne!(a, CourseKey::from_str("a/b/c").unwrap());
}

#[test]
fn deeply_nested_asides_round_trip() {
    let mut key = UsageKey::from_str("block-v1:a+b+c+type@t+block@x").unwrap();
    for level in 0..10 {
        key = AsideUsageKey::new_v2(key, &format!("aside:{level}$")).into();
    }
    let text = key.to_string();
    assert_eq!(UsageKey::from_str(&text).unwrap(), key);
    let UsageKey::Aside(aside) = &key else { panic!("{key:?}") };
    assert_eq!((aside.aside_type(), aside.version()), ("aside:9$", AsideKeyVersion::V2));
}

// ---------------------------------------------------------------------------------------------
// Property tests.

const ID: &str = "[a-zA-Z0-9_~.:\\-éß中٣ǅ²Ⅻ]{1,8}";
const DEPRECATED_PART: &str = "[a-zA-Z0-9_.%\\-é中]{1,8}";
const DEPRECATED_RUN: &str = "[a-zA-Z0-9_.%\\-é中]{0,8}";
const ASCII_FIELD: &str = "[a-zA-Z0-9_.\\-]{1,8}\n?";
const SLUG: &str = "[a-zA-Z0-9_.\\-é中٣]{1,8}\n?";
const CCX_ID: &str = "[0-9٣]{1,4}";

fn version() -> impl Strategy<Value = VersionGuid> {
    any::<[u8; 12]>().prop_map(VersionGuid::from_bytes)
}

fn course_locator() -> impl Strategy<Value = CourseLocator> {
    prop_oneof![
        (ID, ID, ID, proptest::option::of(ID), proptest::option::of(version())).prop_map(
            |(org, course, run, branch, version)| {
                let mut key = CourseLocator::new(&org, &course, &run).unwrap();
                if let Some(branch) = branch {
                    key = key.with_branch(&branch).unwrap();
                }
                if let Some(version) = version {
                    key = key.with_version(version).unwrap();
                }
                key
            }
        ),
        version().prop_map(CourseLocator::from_version),
        (DEPRECATED_PART, DEPRECATED_PART, DEPRECATED_RUN)
            .prop_map(|(org, course, run)| CourseLocator::new_deprecated(&org, &course, &run).unwrap()),
    ]
}

fn new_style_course() -> impl Strategy<Value = CourseLocator> {
    course_locator().prop_filter("not deprecated", |key| !key.is_deprecated())
}

fn ccx_locator() -> impl Strategy<Value = CcxLocator> {
    (new_style_course(), CCX_ID).prop_map(|(course, ccx)| CcxLocator::new(course, &ccx).unwrap())
}

fn library_locator() -> impl Strategy<Value = LibraryLocator> {
    prop_oneof![
        (ID, ID, proptest::option::of(ID), proptest::option::of(version())).prop_map(
            |(org, library, branch, version)| {
                let mut key = LibraryLocator::new(&org, &library).unwrap();
                if let Some(branch) = branch {
                    key = key.with_branch(&branch).unwrap();
                }
                if let Some(version) = version {
                    key = key.with_version(version);
                }
                key
            }
        ),
        version().prop_map(LibraryLocator::from_version),
    ]
}

fn course_key() -> impl Strategy<Value = CourseKey> {
    prop_oneof![
        course_locator().prop_map(CourseKey::from),
        ccx_locator().prop_map(CourseKey::from),
        library_locator().prop_map(CourseKey::from),
    ]
}

fn block_usage_locator() -> impl Strategy<Value = BlockUsageLocator> {
    prop_oneof![
        (new_style_course(), ID, ID).prop_map(|(course, t, id)| course.make_usage_key(&t, &id).unwrap()),
        // i4x://, with a category that may hold anything but `/`, and a revision.
        (DEPRECATED_PART, DEPRECATED_PART, "[^/]{1,8}", "[a-zA-Z0-9_~.:%\\-é]{1,8}", proptest::option::of(ID))
            .prop_map(|(org, course, category, name, revision)| {
                let revision = revision.map(|r| format!("@{r}")).unwrap_or_default();
                let text = format!("i4x://{org}/{course}/{category}/{name}{revision}");
                let key = BlockUsageLocator::from_str(&text).unwrap();
                assert_eq!(key.to_string(), text);
                key
            }),
        (ID, ID, ID, ID, ID).prop_map(|(org, course, run, t, id)| {
            let text = format!("location:{org}+{course}+{run}+{t}+{id}");
            let key = BlockUsageLocator::from_str(&text).unwrap();
            assert_eq!(key.to_string(), text);
            key
        }),
    ]
}

fn lib_v2() -> impl Strategy<Value = LibraryLocatorV2> {
    (ASCII_FIELD, SLUG).prop_map(|(org, slug)| LibraryLocatorV2::new(&org, &slug).unwrap())
}

fn lb() -> impl Strategy<Value = LibraryUsageLocatorV2> {
    (lib_v2(), ASCII_FIELD, SLUG).prop_map(|(lib, t, id)| lib.make_usage_key(&t, &id).unwrap())
}

fn usage_key() -> impl Strategy<Value = UsageKey> {
    let leaf = prop_oneof![
        block_usage_locator().prop_map(UsageKey::from),
        (ccx_locator(), ID, ID).prop_map(|(ccx, t, id)| ccx.make_usage_key(&t, &id).unwrap().into()),
        (library_locator(), ID, ID).prop_map(|(lib, t, id)| lib.make_usage_key(&t, &id).unwrap().into()),
        lb().prop_map(UsageKey::from),
    ];
    leaf.prop_recursive(3, 12, 1, |inner| {
        (inner, "(?s).{0,8}", any::<bool>()).prop_map(|(key, aside_type, v1)| {
            if v1 {
                match AsideUsageKey::new_v1(key.clone(), &aside_type) {
                    Ok(aside) => aside.into(),
                    Err(_) => AsideUsageKey::new_v2(key, &aside_type).into(),
                }
            } else {
                AsideUsageKey::new_v2(key, &aside_type).into()
            }
        })
    })
}

fn round_trips<T>(key: &T) -> Result<(), TestCaseError>
where
    T: FromStr<Err = InvalidKeyError> + Display + PartialEq + std::fmt::Debug + serde::Serialize,
    T: serde::de::DeserializeOwned,
{
    let text = key.to_string();
    let parsed = T::from_str(&text).map_err(|e| TestCaseError::fail(format!("{text:?} does not parse: {e}")))?;
    prop_assert_eq!(&parsed, key);
    prop_assert_eq!(parsed.to_string(), text);
    let json = serde_json::to_string(key).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, key);
    Ok(())
}

/// Runs every parser on `s`; none may panic, and whatever parses must print stably.
fn parse_everything(s: &str) {
    fn check<T: FromStr<Err = InvalidKeyError> + Display + PartialEq + std::fmt::Debug>(s: &str) {
        match T::from_str(s) {
            Ok(key) => {
                let text = key.to_string();
                assert_eq!(T::from_str(&text).as_ref(), Ok(&key), "{s:?} -> {text:?}");
            }
            Err(error) => assert_eq!(error.input(), s),
        }
    }
    check::<CourseKey>(s);
    check::<UsageKey>(s);
    check::<CourseLocator>(s);
    check::<CcxLocator>(s);
    check::<LibraryLocator>(s);
    check::<BlockUsageLocator>(s);
    check::<CcxBlockUsageLocator>(s);
    check::<LibraryUsageLocator>(s);
    check::<AsideUsageKey>(s);
    check::<LibraryLocatorV2>(s);
    check::<LibraryUsageLocatorV2>(s);
    check::<LibraryCollectionLocator>(s);
    check::<LibraryContainerLocator>(s);
    let _ = VersionGuid::from_str(s);
}

/// Text that looks enough like keys to reach deep into the parsers.
fn keyish() -> impl Strategy<Value = String> {
    let namespaces = "(course-v1:|block-v1:|ccx-v1:|ccx-block-v1:|library-v1:|lib-block-v1:|slashes:|location:|i4x://|lb:|lib:|lib-collection:|lct:|aside-usage-v1:|aside-usage-v2:)?";
    let body = "([a-zA-Z0-9é٣_.~%:$/@+\\- \n-]|type@|block@|branch@|ccx@|version@519665f6223ebd6980884f2b|::|\\$:|\\$\\$){0,24}";
    proptest::string::string_regex(&format!("{namespaces}{body}")).expect("a valid regex")
}

proptest! {
    // 256 cases each by default; set PROPTEST_CASES for a longer run.
    #[test]
    fn course_keys_round_trip(key in course_key()) {
        round_trips(&key)?;
        match &key {
            CourseKey::Course(inner) => round_trips(inner)?,
            CourseKey::Ccx(inner) => round_trips(inner)?,
            CourseKey::Library(inner) => round_trips(inner)?,
            _ => {}
        }
    }

    #[test]
    fn usage_keys_round_trip(key in usage_key()) {
        round_trips(&key)?;
        match &key {
            UsageKey::Block(inner) => round_trips(inner)?,
            UsageKey::Ccx(inner) => round_trips(inner)?,
            UsageKey::Library(inner) => round_trips(inner)?,
            UsageKey::LibraryV2(inner) => round_trips(inner)?,
            UsageKey::Aside(inner) => round_trips(inner)?,
            _ => {}
        }
    }

    #[test]
    fn library_v2_keys_round_trip(
        lib in lib_v2(),
        t in ASCII_FIELD,
        id in SLUG,
    ) {
        round_trips(&lib)?;
        round_trips(&LibraryCollectionLocator::new(lib.clone(), &id).unwrap())?;
        round_trips(&LibraryContainerLocator::new(lib.clone(), &t, &id).unwrap())?;
        round_trips(&lib.make_usage_key(&t, &id).unwrap())?;
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        parse_everything(&s);
    }

    #[test]
    fn keyish_strings_never_panic(s in keyish()) {
        parse_everything(&s);
    }

    #[test]
    fn edited_keys_never_panic(key in usage_key(), at in any::<prop::sample::Index>(), c in any::<char>(), delete in any::<bool>()) {
        let text = key.to_string();
        let chars: Vec<char> = text.chars().collect();
        let i = at.index(chars.len() + 1);
        let mut edited: String = chars[..i].iter().collect();
        if !delete {
            edited.push(c);
        }
        edited.extend(chars[(i + usize::from(delete)).min(chars.len())..].iter());
        parse_everything(&edited);
    }
}
