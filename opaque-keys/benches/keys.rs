//! Parsing and printing each opaque key type of `openedx_opaque_keys`.
//!
//! Run with `cargo bench -p openedx-opaque-keys --bench keys -- --warm-up-time 1 --measurement-time 2`.

use std::fmt::{Display, Write};
use std::hint::black_box;
use std::str::FromStr;

use criterion::Criterion;
use openedx_opaque_keys::{
    CcxLocator, CourseKey, InvalidKeyError, LibraryCollectionLocator, LibraryContainerLocator, LibraryLocatorV2,
    LibraryUsageLocatorV2, UsageKey,
};

/// A benchmark name, the type to parse as, and a canonical input.
type Case = (&'static str, fn(&mut Criterion, &'static str, &'static str), &'static str);

const CASES: &[Case] = &[
    ("CourseKey/course-v1", bench_type::<CourseKey>, "course-v1:edX+DemoX+Demo_Course"),
    (
        "CourseKey/course-v1+branch+version",
        bench_type::<CourseKey>,
        "course-v1:edX+DemoX+Demo_Course+branch@published+version@519665f6223ebd6980884f2b",
    ),
    ("CourseKey/deprecated", bench_type::<CourseKey>, "edX/DemoX/Demo_Course"),
    ("CcxLocator", bench_type::<CcxLocator>, "ccx-v1:edX+DemoX+Demo_Course+ccx@42"),
    (
        "UsageKey/block-v1",
        bench_type::<UsageKey>,
        "block-v1:edX+DemoX+Demo_Course+type@problem+block@75f9562c77bc4858b61f907bb810d974",
    ),
    ("UsageKey/i4x", bench_type::<UsageKey>, "i4x://edX/DemoX/problem/75f9562c77bc4858b61f907bb810d974"),
    (
        "UsageKey/ccx-block-v1",
        bench_type::<UsageKey>,
        "ccx-block-v1:edX+DemoX+Demo_Course+ccx@42+type@html+block@intro",
    ),
    ("UsageKey/lb", bench_type::<UsageKey>, "lb:MITx:reallyhardproblems:problem:problem1"),
    (
        "UsageKey/aside-usage-v2",
        bench_type::<UsageKey>,
        "aside-usage-v2:block-v1$:edX+DemoX+Demo_Course+type@problem+block@abc::tagging_aside",
    ),
    ("LibraryLocatorV2", bench_type::<LibraryLocatorV2>, "lib:MITx:reallyhardproblems"),
    ("LibraryUsageLocatorV2", bench_type::<LibraryUsageLocatorV2>, "lb:MITx:reallyhardproblems:problem:problem1"),
    (
        "LibraryCollectionLocator",
        bench_type::<LibraryCollectionLocator>,
        "lib-collection:MITx:reallyhardproblems:week-1",
    ),
    ("LibraryContainerLocator", bench_type::<LibraryContainerLocator>, "lct:MITx:reallyhardproblems:unit:unit-1"),
];

/// Benchmarks `FromStr` and `Display` of `T` on `input`.
fn bench_type<T: FromStr<Err = InvalidKeyError> + Display>(c: &mut Criterion, name: &'static str, input: &'static str) {
    let key = match T::from_str(input) {
        Ok(key) => key,
        Err(error) => panic!("benchmark input does not parse: {error}"),
    };
    c.bench_function(&format!("parse/{name}"), |b| b.iter(|| T::from_str(black_box(input)).is_ok()));
    let mut buffer = String::with_capacity(128);
    c.bench_function(&format!("display/{name}"), |b| {
        b.iter(|| {
            buffer.clear();
            write!(buffer, "{}", black_box(&key)).is_ok()
        })
    });
}

/// Every case of [`CASES`].
fn keys(c: &mut Criterion) {
    for (name, bench, input) in CASES {
        bench(c, name, input);
    }
}

// Written out rather than with `criterion_group!`, whose generated function has no doc comment.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    keys(&mut criterion);
    criterion.final_summary();
}
