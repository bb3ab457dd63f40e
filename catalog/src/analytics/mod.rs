//! The `analytics` subdomain: tracking-log events, for analytics pipelines.
//!
//! [`signals`] holds the signal and its payload; [`data`] the type it carries.

pub mod data;
pub mod signals;
