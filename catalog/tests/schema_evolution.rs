//! Schema evolution: every serializable event's current Avro schema must still be readable by a
//! consumer that holds the schema stored for it in `catalog/schemas/`, and must still read data
//! written with that stored schema. This is the check upstream's `test_avro.py` makes with
//! fastavro against its stored `.avsc` files, made here with apache-avro's `SchemaCompatibility`.
//!
//! A failure names the event, the direction that broke, apache-avro's error and our own
//! field-level diff (fields removed, fields whose type changed, fields added without a default).
//!
//! `UPDATE_SCHEMAS=1` writes the stored schema of any event that has none; `UPDATE_SCHEMAS=overwrite`
//! rewrites all of them. See `catalog/schemas/README.md` for the rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::ErrorKind;
use std::path::PathBuf;

use apache_avro::AvroResult;
use apache_avro::Schema;
use apache_avro::error::{CompatibilityError, Details};
use apache_avro::schema::{Name, NamesRef, ResolvedSchema, UnionSchema};
use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use apache_avro::validator::{SchemaNamespaceValidator, set_schema_namespace_validator};
use openedx_events::AnySignal;
use openedx_events::avro::{schema_file_contents, schema_file_name};
// Links the catalog, so that its signals are in the registry.
use openedx_events_catalog as _;
use serde_json::Value;

/// Where the stored schemas live.
const SCHEMAS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas");

/// The environment variable that asks the test to write stored schemas.
const UPDATE_ENV: &str = "UPDATE_SCHEMAS";

/// The command that writes the stored schema of a new event.
const UPDATE_COMMAND: &str = "UPDATE_SCHEMAS=1 cargo test -p openedx-events-catalog --test schema_evolution";

#[test]
fn stored_schemas_are_compatible_with_current_ones() {
    let update = Update::from_env();
    let mut problems = Vec::new();
    let mut written = Vec::new();
    let mut checked = 0;
    for signal in serializable_events() {
        let event_type = signal.event_type();
        let current = schema_file_contents(event_type, signal.data()).expect("the event is serializable");
        let file_name = schema_file_name(event_type);
        let path = stored_path(event_type);
        if update == Update::Overwrite || (update == Update::Missing && !path.exists()) {
            std::fs::write(&path, &current).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            written.push(file_name.clone());
        }
        let stored = match std::fs::read_to_string(&path) {
            Ok(stored) => stored,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                problems.push(format!(
                    "{event_type}: no stored schema `catalog/schemas/{file_name}`; for a new event, run \
                     `{UPDATE_COMMAND}` and commit the file it writes"
                ));
                continue;
            }
            Err(e) => {
                problems.push(format!("{event_type}: cannot read `catalog/schemas/{file_name}`: {e}"));
                continue;
            }
        };
        match check_evolution(&stored, &current) {
            Ok(breakages) if breakages.is_empty() => checked += 1,
            Ok(breakages) => {
                let details: Vec<String> = breakages.iter().map(ToString::to_string).collect();
                problems.push(format!(
                    "{event_type}: the current schema breaks `catalog/schemas/{file_name}`\n{}",
                    details.join("\n")
                ));
            }
            Err(e) => problems.push(format!("{event_type}: `catalog/schemas/{file_name}`: {e}")),
        }
    }
    if !written.is_empty() {
        eprintln!("wrote {} stored schema(s) in {SCHEMAS_DIR}: {}", written.len(), written.join(", "));
    }
    assert!(
        problems.is_empty(),
        "{} event(s) fail the schema evolution check (rules: catalog/schemas/README.md):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
    assert!(checked > 0, "no serializable event in the registry: is the catalog linked?");
}

#[test]
fn every_stored_schema_belongs_to_a_serializable_event() {
    let expected: BTreeSet<String> =
        serializable_events().map(|signal| schema_file_name(signal.event_type())).collect();
    let entries = std::fs::read_dir(SCHEMAS_DIR).unwrap_or_else(|e| panic!("cannot list {SCHEMAS_DIR}: {e}"));
    let mut stray = Vec::new();
    for entry in entries {
        let name = entry.expect("a directory entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".avsc") && !expected.contains(&name) {
            stray.push(name);
        }
    }
    assert!(
        stray.is_empty(),
        "stored schema(s) for events the catalog no longer serializes: {}\nremoving or renaming an event breaks \
         every consumer of it; publish a new major version beside it instead (see catalog/schemas/README.md)",
        stray.join(", ")
    );
}

/// What `UPDATE_SCHEMAS` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Update {
    /// Write nothing: a missing stored schema is a failure.
    No,
    /// `UPDATE_SCHEMAS=1`: write the stored schemas that are missing, keep the others.
    Missing,
    /// `UPDATE_SCHEMAS=overwrite`: rewrite every stored schema from the current one.
    Overwrite,
}

impl Update {
    fn from_env() -> Self {
        match std::env::var(UPDATE_ENV) {
            Err(std::env::VarError::NotPresent) => Self::No,
            Ok(value) if value.is_empty() || value == "0" => Self::No,
            Ok(value) if value == "1" => Self::Missing,
            Ok(value) if value == "overwrite" => Self::Overwrite,
            Ok(value) => panic!(
                "`{UPDATE_ENV}={value}` is not understood; expected `1` (write missing schemas) or `overwrite` \
                 (rewrite all of them)"
            ),
            Err(e) => panic!("`{UPDATE_ENV}` is not valid: {e}"),
        }
    }
}

/// Every event with an Avro form, by event type.
fn serializable_events() -> impl Iterator<Item = &'static dyn AnySignal> {
    let mut events: Vec<_> = openedx_events::all_events().filter(|signal| signal.avro_schema().is_ok()).collect();
    events.sort_by_key(|signal| signal.event_type());
    events.into_iter()
}

fn stored_path(event_type: &str) -> PathBuf {
    PathBuf::from(SCHEMAS_DIR).join(schema_file_name(event_type))
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/// Which consumer a change breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// A reader holding the stored schema, data written with the current one.
    Forward,
    /// A reader holding the current schema, data written with the stored one.
    Backward,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Forward => "forward (a reader with the stored schema reads data written with the current one)",
            Self::Backward => "backward (a reader with the current schema reads data written with the stored one)",
        })
    }
}

/// One direction in which the current schema breaks the stored one.
#[derive(Debug)]
struct Breakage {
    direction: Direction,
    /// apache-avro's error, with its causes.
    avro_error: String,
    /// Our field-level diff: what changed that matters in this direction.
    fields: Vec<String>,
}

impl fmt::Display for Breakage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  {} fails: {}", self.direction, self.avro_error)?;
        if self.fields.is_empty() {
            write!(f, "    - no field-level difference found; see apache-avro's error")
        } else {
            let lines: Vec<String> = self.fields.iter().map(|field| format!("    - {field}")).collect();
            write!(f, "{}", lines.join("\n"))
        }
    }
}

/// Checks both directions between a stored and a current schema (JSON text); an error if either
/// does not parse.
fn check_evolution(stored: &str, current: &str) -> Result<Vec<Breakage>, String> {
    let stored_json: Value = serde_json::from_str(stored).map_err(|e| format!("the stored schema is not JSON: {e}"))?;
    let current_json: Value =
        serde_json::from_str(current).map_err(|e| format!("the current schema is not JSON: {e}"))?;
    let stored_avro =
        parse_inlined(stored).map_err(|e| format!("the stored schema is not a valid Avro schema: {e}"))?;
    let current_avro =
        parse_inlined(current).map_err(|e| format!("the current schema is not a valid Avro schema: {e}"))?;
    let stored_fields = flatten(&stored_json);
    let current_fields = flatten(&current_json);

    let mut breakages = Vec::new();
    for direction in [Direction::Forward, Direction::Backward] {
        let (writer, reader) = match direction {
            Direction::Forward => (&current_avro, &stored_avro),
            Direction::Backward => (&stored_avro, &current_avro),
        };
        if let Err(avro_error) = can_read(writer, reader) {
            let fields = field_changes(&stored_fields, &current_fields, direction);
            breakages.push(Breakage { direction, avro_error, fields });
        }
    }
    Ok(breakages)
}

/// apache-avro's verdict: only full compatibility passes. Partial compatibility means some data
/// the writer may send cannot be read (a union branch the reader lacks, such as a `null` sent to
/// a reader whose field is no longer optional).
fn can_read(writer: &Schema, reader: &Schema) -> Result<(), String> {
    match SchemaCompatibility::can_read(writer, reader) {
        Ok(Compatibility::Full) => Ok(()),
        Ok(Compatibility::Partial) => Err("apache-avro finds the schemas only partially compatible: some values \
                                           the writer may send (a union branch the reader lacks) cannot be read"
            .to_owned()),
        Err(error) => Err(describe(&error)),
    }
}

/// apache-avro's error on one line. It nests one `FieldTypeMismatch` per record level: shown here
/// as one dotted path of reader fields, then the innermost error. `WrongType` prints both schemas
/// with `{:#?}`: its whitespace is collapsed and it is cut short; the field diff says the rest.
fn describe(error: &CompatibilityError) -> String {
    const MAX: usize = 300;
    let mut fields = Vec::new();
    let mut innermost = error;
    while let CompatibilityError::FieldTypeMismatch(name, inner) = innermost {
        fields.push(name.as_str());
        innermost = inner;
    }
    let text = innermost.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
    let text = match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    };
    if fields.is_empty() { text } else { format!("under reader field `{}`: {text}", fields.join(".")) }
}

/// Parses a schema and replaces each reference to a named record by the record itself.
///
/// A record is defined inline where first used and referred to by name after. apache-avro's
/// checker compares a reference only with a reference (by name), so a change that moves a
/// record's first use (a new optional field before the old first user) would read as a type
/// change. Our schemas have no recursive records; a reference inside its own record is kept.
fn parse_inlined(text: &str) -> Result<Schema, apache_avro::Error> {
    static NAMESPACES: std::sync::Once = std::sync::Once::new();
    // apache-avro takes its validator once, before the first schema it parses.
    NAMESPACES.call_once(|| {
        assert!(
            set_schema_namespace_validator(Box::new(EventTypeNamespaces)).is_ok(),
            "a namespace validator was already set"
        );
    });
    let schema = Schema::parse_str(text)?;
    let resolved = ResolvedSchema::try_from(&schema)?;
    inline_refs(&schema, resolved.get_names(), &mut Vec::new())
}

/// The namespace of an event's schema is its event type, and upstream has one with a hyphen
/// (`org.openedx.enterprise.subsidy.redemption-reversed.v1`). The Avro specification's names
/// have none, but fastavro, which upstream uses, accepts it: so do we, and nothing else more.
struct EventTypeNamespaces;

impl SchemaNamespaceValidator for EventTypeNamespaces {
    fn validate(&self, namespace: &str) -> AvroResult<()> {
        let valid = namespace.is_empty()
            || namespace.split('.').all(|part| {
                let mut chars = part.chars();
                chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if valid {
            Ok(())
        } else {
            let rule = "dot-separated parts of letters, digits, `_` and `-`, none starting with a digit or `-`";
            Err(Details::InvalidNamespace(namespace.to_owned(), rule).into())
        }
    }
}

fn inline_refs(schema: &Schema, names: &NamesRef<'_>, enclosing: &mut Vec<Name>) -> Result<Schema, apache_avro::Error> {
    Ok(match schema {
        Schema::Ref { name } if !enclosing.contains(name) => match names.get(name) {
            Some(definition) => inline_refs(definition, names, enclosing)?,
            None => schema.clone(),
        },
        Schema::Record(record) => {
            enclosing.push(record.name.clone());
            let mut record = record.clone();
            for field in &mut record.fields {
                field.schema = inline_refs(&field.schema, names, enclosing)?;
            }
            enclosing.pop();
            Schema::Record(record)
        }
        Schema::Array(array) => {
            let mut array = array.clone();
            array.items = Box::new(inline_refs(&array.items, names, enclosing)?);
            Schema::Array(array)
        }
        Schema::Map(map) => {
            let mut map = map.clone();
            map.types = Box::new(inline_refs(&map.types, names, enclosing)?);
            Schema::Map(map)
        }
        Schema::Union(union) => {
            let variants = union
                .variants()
                .iter()
                .map(|variant| inline_refs(variant, names, enclosing))
                .collect::<Result<_, _>>()?;
            Schema::Union(UnionSchema::new(variants)?)
        }
        other => other.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// The field-level diff
// ---------------------------------------------------------------------------------------------

/// A field of a schema, at its dotted path (`enrollment.course.course_key`; `[]` for array
/// items, `{}` for map values).
#[derive(Debug, PartialEq, Eq)]
struct Field {
    /// A short type label: `string`, `null | string`, `array<long>`, a record's name.
    ty: String,
    has_default: bool,
}

/// Every field of a schema, by path, nested records expanded (references too).
fn flatten(schema: &Value) -> BTreeMap<String, Field> {
    let mut records = BTreeMap::new();
    collect_records(schema, &mut records);
    let mut fields = BTreeMap::new();
    if let Some(top) = schema.get("fields").and_then(Value::as_array) {
        flatten_fields(top, "", &records, &mut Vec::new(), &mut fields);
    }
    fields
}

/// Named records by short name, wherever they are defined.
fn collect_records<'a>(value: &'a Value, records: &mut BTreeMap<String, &'a Value>) {
    match value {
        Value::Object(object) => {
            if object.get("type").and_then(Value::as_str) == Some("record")
                && let Some(name) = object.get("name").and_then(Value::as_str)
            {
                records.entry(short_name(name).to_owned()).or_insert(value);
            }
            object.values().for_each(|child| collect_records(child, records));
        }
        Value::Array(items) => items.iter().for_each(|child| collect_records(child, records)),
        _ => {}
    }
}

fn flatten_fields<'a>(
    list: &'a [Value],
    prefix: &str,
    records: &BTreeMap<String, &'a Value>,
    enclosing: &mut Vec<&'a str>,
    out: &mut BTreeMap<String, Field>,
) {
    for field in list {
        let Some(name) = field.get("name").and_then(Value::as_str) else { continue };
        let ty = field.get("type").unwrap_or(&Value::Null);
        let path = format!("{prefix}{name}");
        out.insert(path.clone(), Field { ty: type_label(ty), has_default: field.get("default").is_some() });
        flatten_type(ty, &path, records, enclosing, out);
    }
}

/// Descends into the records a field's type holds, through unions, arrays and maps.
fn flatten_type<'a>(
    ty: &'a Value,
    path: &str,
    records: &BTreeMap<String, &'a Value>,
    enclosing: &mut Vec<&'a str>,
    out: &mut BTreeMap<String, Field>,
) {
    match ty {
        Value::String(name) => {
            if let Some(record) = records.get(short_name(name)) {
                flatten_type(record, path, records, enclosing, out);
            }
        }
        Value::Array(branches) => {
            branches.iter().for_each(|branch| flatten_type(branch, path, records, enclosing, out))
        }
        Value::Object(object) => match object.get("type").and_then(Value::as_str) {
            Some("record") => {
                let name = object.get("name").and_then(Value::as_str).unwrap_or_default();
                if enclosing.contains(&name) {
                    return;
                }
                enclosing.push(name);
                if let Some(fields) = object.get("fields").and_then(Value::as_array) {
                    flatten_fields(fields, &format!("{path}."), records, enclosing, out);
                }
                enclosing.pop();
            }
            Some("array") => {
                if let Some(items) = object.get("items") {
                    flatten_type(items, &format!("{path}[]"), records, enclosing, out);
                }
            }
            Some("map") => {
                if let Some(values) = object.get("values") {
                    flatten_type(values, &format!("{path}{{}}"), records, enclosing, out);
                }
            }
            _ => {}
        },
        _ => {}
    }
}

fn type_label(ty: &Value) -> String {
    match ty {
        Value::String(name) => short_name(name).to_owned(),
        Value::Array(branches) => branches.iter().map(type_label).collect::<Vec<_>>().join(" | "),
        Value::Object(object) => match object.get("type").and_then(Value::as_str) {
            Some("record") => short_name(object.get("name").and_then(Value::as_str).unwrap_or("record")).to_owned(),
            Some("array") => format!("array<{}>", type_label(object.get("items").unwrap_or(&Value::Null))),
            Some("map") => format!("map<{}>", type_label(object.get("values").unwrap_or(&Value::Null))),
            Some(other) => other.to_owned(),
            None => ty.to_string(),
        },
        other => other.to_string(),
    }
}

fn short_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// The field changes that matter in a direction: for forward, fields the stored schema needs
/// (no default) that the current one dropped; for backward, fields the current schema needs that
/// the stored one lacks; in both, fields whose type changed. A field under one already reported
/// (an added record's own fields) is not repeated.
fn field_changes(
    stored: &BTreeMap<String, Field>,
    current: &BTreeMap<String, Field>,
    direction: Direction,
) -> Vec<String> {
    // Paths present on one side only, or whose type changed: their descendants say nothing new.
    let reported: BTreeSet<&str> = stored
        .iter()
        .filter(|(path, field)| current.get(*path).is_none_or(|other| other.ty != field.ty))
        .chain(current.iter().filter(|(path, _)| !stored.contains_key(*path)))
        .map(|(path, _)| path.as_str())
        .collect();
    let under_reported = |path: &str| ancestors(path).any(|ancestor| reported.contains(ancestor));

    let mut changes = Vec::new();
    for (path, field) in stored {
        if under_reported(path) {
            continue;
        }
        match current.get(path) {
            None if direction == Direction::Forward && !field.has_default => changes.push(format!(
                "field `{path}` (`{}`) was removed, and the stored schema gives it no default",
                field.ty
            )),
            Some(now) if now.ty != field.ty => {
                changes.push(format!(
                    "field `{path}` changed type from `{}` (stored) to `{}` (current)",
                    field.ty, now.ty
                ));
            }
            _ => {}
        }
    }
    if direction == Direction::Backward {
        for (path, field) in current {
            if !stored.contains_key(path) && !field.has_default && !under_reported(path) {
                changes.push(format!("field `{path}` (`{}`) was added without a default", field.ty));
            }
        }
    }
    changes
}

/// The proper ancestors of a field path: `a.b[].c` gives `a`, `a.b`, `a.b[]`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.char_indices().filter(|(i, c)| *i > 0 && matches!(c, '.' | '[' | '{')).map(|(i, _)| &path[..i])
}

// ---------------------------------------------------------------------------------------------
// The check can fail: modified schemas, in memory
// ---------------------------------------------------------------------------------------------

const ENROLLMENT_CREATED: &str = "org.openedx.learning.course.enrollment.created.v1";

/// The current schema of `course.enrollment.created`: `enrollment` holds `user` (`UserData`, with
/// `pii`), `course` (`CourseData`), …, and `created_by` (optional, `UserData` by reference).
fn enrollment_schema() -> Value {
    let signal = openedx_events::get_signal_by_type(ENROLLMENT_CREATED).expect("the catalog has the event");
    openedx_events::avro::schema_value(ENROLLMENT_CREATED, signal.data()).expect("the event is serializable")
}

/// The field list of the record at a path of field names (`[]` for the top level).
fn fields_at<'a>(schema: &'a mut Value, path: &[&str]) -> &'a mut Vec<Value> {
    let mut record = schema;
    for name in path {
        let fields = record["fields"].as_array_mut().expect("a record");
        let field = fields.iter_mut().find(|field| field["name"] == *name).expect("the field exists");
        record = &mut field["type"];
    }
    record["fields"].as_array_mut().expect("an inline record")
}

fn remove_field(schema: &mut Value, record: &[&str], name: &str) -> Value {
    let fields = fields_at(schema, record);
    let index = fields.iter().position(|field| field["name"] == name).expect("the field exists");
    fields.remove(index)
}

/// Runs the check with `stored` as the stored schema and `current` as the current one.
fn check(stored: &Value, current: &Value) -> Vec<Breakage> {
    check_evolution(&stored.to_string(), &current.to_string()).expect("both schemas parse")
}

fn directions(breakages: &[Breakage]) -> Vec<Direction> {
    breakages.iter().map(|breakage| breakage.direction).collect()
}

fn report(breakages: &[Breakage]) -> String {
    breakages.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[test]
fn an_unchanged_schema_passes() {
    let schema = enrollment_schema();
    let breakages = check(&schema, &schema);
    assert!(breakages.is_empty(), "{}", report(&breakages));
}

#[test]
fn removing_fields_breaks_readers_of_the_stored_schema() {
    let stored = enrollment_schema();
    let mut current = stored.clone();
    remove_field(&mut current, &["enrollment", "course"], "course_key");
    remove_field(&mut current, &["enrollment", "course"], "display_name");

    let breakages = check(&stored, &current);
    assert_eq!(directions(&breakages), [Direction::Forward], "{}", report(&breakages));
    let message = report(&breakages);
    // apache-avro stops at the first missing field; our diff names both, by path.
    assert!(message.contains("Field 'course_key' in reader schema must have a default value"), "{message}");
    assert!(
        message.contains(
            "field `enrollment.course.course_key` (`string`) was removed, and the stored schema gives it no default"
        ),
        "{message}"
    );
    assert!(message.contains("field `enrollment.course.display_name` (`string`) was removed"), "{message}");
}

#[test]
fn changing_a_string_to_a_long_breaks_both_directions() {
    let stored = enrollment_schema();
    let mut current = stored.clone();
    let pii = fields_at(&mut current, &["enrollment", "user", "pii"]);
    let username = pii.iter_mut().find(|field| field["name"] == "username").expect("username");
    username["type"] = Value::from("long");

    let breakages = check(&stored, &current);
    assert_eq!(directions(&breakages), [Direction::Forward, Direction::Backward], "{}", report(&breakages));
    for breakage in &breakages {
        // `created_by` holds the same `UserData` record, by reference.
        assert_eq!(
            breakage.fields,
            [
                "field `enrollment.created_by.pii.username` changed type from `string` (stored) to `long` (current)",
                "field `enrollment.user.pii.username` changed type from `string` (stored) to `long` (current)",
            ],
            "{breakage}"
        );
        assert!(
            breakage
                .avro_error
                .starts_with("under reader field `enrollment.user.pii.username`: Incompatible schema types!"),
            "{breakage}"
        );
    }
}

#[test]
fn adding_a_field_without_default_breaks_readers_of_the_current_schema() {
    let stored = enrollment_schema();
    let mut current = stored.clone();
    fields_at(&mut current, &[]).push(serde_json::json!({ "name": "grade", "type": "double" }));

    let breakages = check(&stored, &current);
    assert_eq!(directions(&breakages), [Direction::Backward], "{}", report(&breakages));
    assert_eq!(breakages[0].fields, ["field `grade` (`double`) was added without a default"]);
    assert!(breakages[0].avro_error.contains("Field 'grade' in reader schema must have a default value"));
}

#[test]
fn adding_an_optional_field_with_a_null_default_passes() {
    let stored = enrollment_schema();
    let mut current = stored.clone();
    fields_at(&mut current, &["enrollment", "course"]).push(serde_json::json!({
        "name": "org",
        "type": ["null", "string"],
        "default": null,
    }));
    // An optional record too, whose own fields have no defaults.
    fields_at(&mut current, &[]).push(serde_json::json!({
        "name": "grade",
        "type": ["null", { "name": "GradeData", "type": "record", "fields": [{ "name": "percent", "type": "double" }] }],
        "default": null,
    }));

    let breakages = check(&stored, &current);
    assert!(breakages.is_empty(), "{}", report(&breakages));
}

#[test]
fn removing_an_optional_field_with_a_default_passes() {
    let stored = enrollment_schema();
    let mut current = stored.clone();
    remove_field(&mut current, &["enrollment", "course"], "end");

    let breakages = check(&stored, &current);
    assert!(breakages.is_empty(), "{}", report(&breakages));
}

#[test]
fn making_an_optional_field_required_breaks_readers_of_the_current_schema() {
    let stored = enrollment_schema();
    let mut current = stored.clone();
    let course = fields_at(&mut current, &["enrollment", "course"]);
    let start = course.iter_mut().find(|field| field["name"] == "start").expect("start");
    *start = serde_json::json!({ "name": "start", "type": "string" });

    // Stored data may hold a null `start`, which a reader of the current schema cannot take:
    // apache-avro calls this partial compatibility, which we count as broken.
    let breakages = check(&stored, &current);
    assert_eq!(directions(&breakages), [Direction::Backward], "{}", report(&breakages));
    assert!(breakages[0].avro_error.contains("partially compatible"), "{}", breakages[0]);
    assert_eq!(
        breakages[0].fields,
        ["field `enrollment.course.start` changed type from `null | string` (stored) to `string` (current)"]
    );
}

#[test]
fn making_a_required_field_optional_breaks_readers_of_the_stored_schema() {
    let stored = enrollment_schema();
    let mut current = stored.clone();
    let course = fields_at(&mut current, &["enrollment", "course"]);
    let display_name = course.iter_mut().find(|field| field["name"] == "display_name").expect("display_name");
    *display_name = serde_json::json!({ "name": "display_name", "type": ["null", "string"], "default": null });

    // A current writer may send a null `display_name`, which a reader of the stored schema
    // cannot take.
    let breakages = check(&stored, &current);
    assert_eq!(directions(&breakages), [Direction::Forward], "{}", report(&breakages));
    assert!(breakages[0].avro_error.contains("partially compatible"), "{}", breakages[0]);
    assert_eq!(
        breakages[0].fields,
        ["field `enrollment.course.display_name` changed type from `string` (stored) to `null | string` (current)"]
    );
}

#[test]
fn moving_a_records_definition_to_an_earlier_field_passes() {
    // A new optional field of type `UserData` before `user` takes the inline definition, and
    // `user` then names the record: the same data, written differently.
    let stored = enrollment_schema();
    let mut current = stored.clone();
    let enrollment = fields_at(&mut current, &["enrollment"]);
    let user = enrollment.iter_mut().find(|field| field["name"] == "user").expect("user");
    let definition = std::mem::replace(&mut user["type"], Value::from("UserData"));
    assert_eq!(definition["name"], "UserData");
    enrollment.insert(0, serde_json::json!({ "name": "enrolled_by", "type": ["null", definition], "default": null }));

    let breakages = check(&stored, &current);
    assert!(breakages.is_empty(), "{}", report(&breakages));
}

#[test]
fn a_type_change_inside_a_record_used_by_reference_is_caught() {
    // `created_by` refers to `UserData` by name; changing `UserData.id` changes it there too.
    let stored = enrollment_schema();
    let mut current = stored.clone();
    let user = fields_at(&mut current, &["enrollment", "user"]);
    let id = user.iter_mut().find(|field| field["name"] == "id").expect("id");
    id["type"] = Value::from("string");

    let breakages = check(&stored, &current);
    assert_eq!(directions(&breakages), [Direction::Forward, Direction::Backward], "{}", report(&breakages));
    for breakage in &breakages {
        assert_eq!(
            breakage.fields,
            [
                "field `enrollment.created_by.id` changed type from `long` (stored) to `string` (current)",
                "field `enrollment.user.id` changed type from `long` (stored) to `string` (current)",
            ],
            "{breakage}"
        );
    }
}

#[test]
fn a_schema_that_is_not_avro_is_an_error() {
    let stored = enrollment_schema();
    let mut current = stored.clone();
    fields_at(&mut current, &[]).push(serde_json::json!({ "name": "grade", "type": "no_such_type" }));
    let error = check_evolution(&stored.to_string(), &current.to_string()).expect_err("not a valid schema");
    assert!(error.contains("the current schema is not a valid Avro schema"), "{error}");
}
