//! The `learning` subdomain (being written).
