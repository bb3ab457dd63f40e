//! The async consumer against a real broker.
