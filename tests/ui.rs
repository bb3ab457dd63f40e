//! Compile-fail (UI) tests of the macros: one misuse per file under `ui/<macro>/`, each with the
//! `.stderr` a user sees. Bless with `TRYBUILD=overwrite cargo test -p openedx-events-tests --test ui`
//! and read every diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/**/*.rs");
}
