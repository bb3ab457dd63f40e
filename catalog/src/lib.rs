//! Every event that upstream `openedx-events` defines, as typed Rust signals.
//!
//! The modules follow upstream's subdomains; each has `signals` (the statics and their payload
//! structs) and `data` (the data types the payloads carry). Event types, constant names, minor
//! versions, key fields and data keys are upstream's, checked against upstream by this crate's
//! contract test.
//!
//! Linking this crate registers all its events: [`openedx_events::get_signal_by_type`] finds
//! them once the crate is used anywhere in the program (or named with
//! `use openedx_events_catalog as _;`).
#![forbid(unsafe_code)]

pub mod analytics;
pub mod authz;
pub mod content_authoring;
pub mod enterprise;
pub mod learning;
pub mod reference;
