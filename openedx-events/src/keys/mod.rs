//! Opaque keys (being written).
