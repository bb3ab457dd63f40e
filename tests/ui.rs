//! UI tests
#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("ui/**/*.rs");
}
