//! The `analytics` subdomain (being written).
