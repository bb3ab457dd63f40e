//! The commands. Each reads what it needs, writes its result to `out` and its notes to `notes`,
//! and returns what went wrong as a [`CliError`]. The event bus commands are in `bus.rs`, and
//! share the helpers at the end of this file.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use openedx_events::AnySignal;
use openedx_events::avro::{schema_file_contents, schema_file_name};

use crate::error::CliError;
use crate::{hex, lookup, render};

/// `list`: every event, as a table or a JSON array.
pub(crate) fn list(json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let signals = lookup::all_sorted();
    let text = if json { format!("{:#}\n", render::events_json(&signals)) } else { render::table(&signals) };
    emit(out, text.as_bytes())
}

/// `show`: one event in detail.
pub(crate) fn show(query: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let signal = lookup::find(query)?;
    emit(out, render::details(signal).as_bytes())
}

/// `schema`: the event's schema string, exactly as upstream's serializer gives it.
pub(crate) fn schema(query: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let schema = serializable(lookup::find(query)?)?;
    emit(out, format!("{schema}\n").as_bytes())
}

/// `schemas`: every event's `.avsc` file in `dir`, named and written as upstream's
/// `generate_avro_schemas` does; events without a wire form are skipped with a note.
pub(crate) fn schemas(dir: &Path, notes: &mut dyn Write) -> Result<(), CliError> {
    fs::create_dir_all(dir).map_err(|source| CliError::Write { path: dir.to_owned(), source })?;
    let mut written = 0;
    for signal in lookup::all_sorted() {
        match schema_file_contents(signal.event_type(), signal.data()) {
            Ok(contents) => {
                let path = dir.join(schema_file_name(signal.event_type()));
                fs::write(&path, contents).map_err(|source| CliError::Write { path, source })?;
                written += 1;
            }
            Err(reason) => note(notes, &format!("skipped: {reason}")),
        }
    }
    note(notes, &format!("wrote {written} schema files to `{}`", dir.display()));
    Ok(())
}

/// `encode`: the JSON form of the event's data on `input`, as Avro bytes (or hex text) on `out`.
pub(crate) fn encode(query: &str, as_hex: bool, input: &mut dyn Read, out: &mut dyn Write) -> Result<(), CliError> {
    let signal = lookup::find(query)?;
    serializable(signal)?;
    let bytes = json_to_avro(signal, input)?;
    if as_hex { emit(out, format!("{}\n", hex::encode(&bytes)).as_bytes()) } else { emit(out, &bytes) }
}

/// `decode`: Avro bytes (or hex text) of the event's data on `input`, as pretty JSON on `out`.
pub(crate) fn decode(query: &str, from_hex: bool, input: &mut dyn Read, out: &mut dyn Write) -> Result<(), CliError> {
    let signal = lookup::find(query)?;
    serializable(signal)?;
    let mut bytes = read_all(input)?;
    if from_hex {
        bytes = hex::decode(&bytes).map_err(CliError::InvalidHex)?;
    }
    let json =
        signal.avro_to_json(&bytes).map_err(|source| CliError::Decode { event_type: signal.event_type(), source })?;
    emit(out, format!("{json:#}\n").as_bytes())
}

/// `docs`: the event reference page, to a file or (for `-`) to `out`.
pub(crate) fn docs(path: &Path, out: &mut dyn Write, notes: &mut dyn Write) -> Result<(), CliError> {
    let page = openedx_events_catalog::reference::events_markdown();
    if path == Path::new("-") {
        return emit(out, page.as_bytes());
    }
    fs::write(path, page).map_err(|source| CliError::Write { path: path.to_owned(), source })?;
    note(notes, &format!("wrote `{}`", path.display()));
    Ok(())
}

/// The event's schema string, or why it has none.
pub(crate) fn serializable(signal: &dyn AnySignal) -> Result<&str, CliError> {
    signal.avro_schema().map_err(|reason| CliError::Unserializable(reason.clone()))
}

/// The JSON form of the event's data on `input`, as Avro bytes; an error names the field that
/// does not fit.
pub(crate) fn json_to_avro(signal: &dyn AnySignal, input: &mut dyn Read) -> Result<Vec<u8>, CliError> {
    let json: serde_json::Value = serde_json::from_slice(&read_all(input)?).map_err(CliError::InvalidJson)?;
    signal.json_to_avro(&json).map_err(|source| CliError::Encode { event_type: signal.event_type(), source })
}

/// Everything on `input`.
pub(crate) fn read_all(input: &mut dyn Read) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(CliError::Input)?;
    Ok(bytes)
}

/// Writes the result and flushes it, so that a reader sees it at once.
pub(crate) fn emit(out: &mut dyn Write, bytes: &[u8]) -> Result<(), CliError> {
    out.write_all(bytes).and_then(|()| out.flush()).map_err(CliError::Output)
}

/// A line for the user on stderr. Notes are best effort: a closed stderr does not fail the
/// command.
pub(crate) fn note(notes: &mut dyn Write, text: &str) {
    let _ = writeln!(notes, "note: {text}");
}
