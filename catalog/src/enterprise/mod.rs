//! The `enterprise` subdomain (being written).
