//! Bench placeholder
fn main() {}
