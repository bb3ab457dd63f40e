//! Events as Avro, the form they take on the event bus: schemas identical to upstream's, and a
//! codec that writes and reads the bytes Python's fastavro writes and reads.

mod codec;
mod json;
mod path;
mod schema;

pub use codec::{AvroReader, AvroWriter, DecodeError, DecodeErrorKind};
pub use json::JsonError;
pub use schema::{UnserializableEvent, schema_file_contents, schema_file_name, schema_string, schema_value};
