//! The `authz` subdomain (being written).
