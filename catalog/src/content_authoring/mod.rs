//! The `content_authoring` subdomain (being written).
