//! Doc tests of the user guide and README.
#![forbid(unsafe_code)]
