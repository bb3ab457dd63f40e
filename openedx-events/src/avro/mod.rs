//! Events as Avro, the form they take on the event bus: schemas identical to upstream's.

mod schema;

pub use schema::{UnserializableEvent, schema_string, schema_value};
