//! Every Open edX event upstream defines (being written).
#![forbid(unsafe_code)]
