//! The `authz` subdomain: events of the Open edX authorization framework, about roles assigned
//! to users in a scope (a course, an organization, ...).
//!
//! Upstream gives these event types no major version (`org.openedx.authz.role_assignment.created`,
//! without `.v1`); they are kept as upstream names them.
//!
//! [`signals`] holds the signals and their payloads; [`data`] the type they carry.

pub mod data;
pub mod signals;
