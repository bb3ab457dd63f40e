//! The `content_authoring` subdomain: events about writing and organizing content in Studio and
//! in content libraries (courses, XBlocks, certificate configurations, libraries, their blocks,
//! collections and containers, and the tags of content).
//!
//! [`signals`] holds the signals and their payloads; [`data`] the types they carry.

pub mod data;
pub mod signals;
