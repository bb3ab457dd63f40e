//! The `enterprise` subdomain: events about enterprise subsidies, their ledger transactions,
//! learner-credit enrollments and enterprise groups.
//!
//! [`signals`] holds the signals and their payloads; [`data`] the types they carry.

pub mod data;
pub mod signals;
