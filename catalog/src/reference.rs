//! The reference page of all events (being written).
