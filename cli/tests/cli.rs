//! The `openedx-events` binary, run as a user runs it: every command, its output, its errors
//! and their exit codes.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use openedx_events::AnySignal;
use openedx_events::avro::{schema_file_contents, schema_file_name};
use openedx_events_catalog::learning::signals::COURSE_ENROLLMENT_CREATED;
use serde_json::{Value, json};

mod common;
use common::{enrollment_json, failure, stderr, success, success_bytes};

const BIN: &str = env!("CARGO_BIN_EXE_openedx-events");
const ENROLLMENT_CREATED: &str = "org.openedx.learning.course.enrollment.created.v1";
const CERTIFICATE_DELETED: &str = "org.openedx.content_authoring.course.certificate_config.deleted.v1";

/// Runs the binary with `args`, `stdin` on its standard input, in `dir` if given.
fn run_in(dir: Option<&Path>, args: &[&str], stdin: &[u8]) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command.spawn().expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    // A command that does not read its input may exit before we write it.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().expect("the binary runs")
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    run_in(None, args, stdin)
}

/// A fresh folder for one test, under cargo's scratch folder for integration tests.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn signal(event_type: &str) -> &'static dyn AnySignal {
    openedx_events::get_signal_by_type(event_type).unwrap()
}

#[test]
fn list_prints_a_row_per_event() {
    let text = success(&run(&["list"], b""));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + openedx_events::all_events().len(), "a header and a row per event");
    let header: Vec<&str> = lines[0].split("  ").filter(|cell| !cell.is_empty()).map(str::trim).collect();
    assert_eq!(header, ["EVENT TYPE", "NAME", "SUBDOMAIN", "MINOR", "KEY FIELD", "SERIALIZABLE"]);
    let row = |event_type: &str| -> Vec<&str> {
        let line = lines.iter().find(|line| line.starts_with(&format!("{event_type} "))).unwrap();
        line.split_whitespace().collect()
    };
    assert_eq!(
        row(ENROLLMENT_CREATED),
        [ENROLLMENT_CREATED, "COURSE_ENROLLMENT_CREATED", "learning", "0", "enrollment.course.course_key", "yes"]
    );
    assert_eq!(
        row(CERTIFICATE_DELETED),
        [CERTIFICATE_DELETED, "COURSE_CERTIFICATE_CONFIG_DELETED", "content_authoring", "0", "-", "no"]
    );
    let types: Vec<&str> = lines[1..].iter().map(|line| line.split(' ').next().unwrap()).collect();
    assert!(types.is_sorted(), "rows are sorted by event type");
    assert!(lines.iter().all(|line| !line.ends_with(' ')), "no trailing spaces");
}

#[test]
fn list_json_describes_every_registered_event() {
    let events: Value = serde_json::from_str(&success(&run(&["list", "--json"], b""))).unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 75);
    for event in events {
        let signal = signal(event["event_type"].as_str().unwrap());
        let definition = signal.definition();
        assert_eq!(event["name"], definition.rsplit("::").next().unwrap());
        assert_eq!(event["subdomain"], signal.event_type().split('.').nth(2).unwrap());
        assert_eq!(event["minor_version"], signal.minor_version());
        assert_eq!(event["key_field"], json!(signal.event_key_field()));
        assert_eq!(event["serializable"], signal.avro_schema().is_ok());
        assert_eq!(event["definition"], definition);
        assert_eq!(event["payload"], signal.data().name);
    }
    let unserializable: Vec<&str> = events
        .iter()
        .filter(|event| event["serializable"] == false)
        .map(|event| event["name"].as_str().unwrap())
        .collect();
    assert_eq!(unserializable, ["COURSE_CERTIFICATE_CONFIG_CHANGED", "COURSE_CERTIFICATE_CONFIG_DELETED"]);
}

#[test]
fn show_describes_an_event_by_type_or_name() {
    let by_type = success(&run(&["show", ENROLLMENT_CREATED], b""));
    assert_eq!(success(&run(&["show", "COURSE_ENROLLMENT_CREATED"], b"")), by_type);
    assert_eq!(success(&run(&["show", "course_enrollment_created"], b"")), by_type, "names in any case");

    assert!(by_type.starts_with("COURSE_ENROLLMENT_CREATED\n\n"), "{by_type}");
    for fact in [
        format!("Event type:    {ENROLLMENT_CREATED}"),
        "Minor version: 0".to_owned(),
        "Key field:     enrollment.course.course_key".to_owned(),
        "Definition:    openedx_events_catalog::learning::signals::COURSE_ENROLLMENT_CREATED".to_owned(),
        "Payload:       CourseEnrollmentCreated".to_owned(),
        "Serializable:  yes".to_owned(),
    ] {
        assert!(by_type.lines().any(|line| line == fact), "missing {fact:?} in:\n{by_type}");
    }
    assert!(by_type.contains(COURSE_ENROLLMENT_CREATED.data().doc.lines().next().unwrap()), "the payload's doc");
    // The tree: nested records expanded, with types, optional markers and the fields' docs.
    for branch in [
        "Data: CourseEnrollmentCreated\n└── enrollment: CourseEnrollmentData — ",
        "\n    ├── user: UserData — The enrolled learner.\n    │   ├── id: i64 — ",
        "\n    │   └── pii: UserPersonalData — ",
        "\n    │       ├── username: String — ",
        "\n    │   ├── course_key: CourseKey — ",
        "\n    │   ├── start: DateTime<Utc> (optional) — ",
        "\n    └── created_by: UserData (optional) — ",
        "\n        └── pii: UserPersonalData — ",
    ] {
        assert!(by_type.contains(branch), "missing {branch:?} in:\n{by_type}");
    }
    let schema = schema_file_contents(ENROLLMENT_CREATED, COURSE_ENROLLMENT_CREATED.data()).unwrap();
    assert!(by_type.ends_with(&format!("\nAvro schema:\n{schema}\n")), "{by_type}");
}

#[test]
fn show_gives_the_reason_an_event_has_no_schema() {
    let text = success(&run(&["show", CERTIFICATE_DELETED], b""));
    assert!(text.contains("Serializable:  no\n"), "{text}");
    assert!(text.contains("│   ├── image: BinaryIO (no wire form) — "), "{text}");
    let reason = signal(CERTIFICATE_DELETED).avro_schema().unwrap_err();
    assert!(text.ends_with(&format!("\nAvro schema: none; {reason}\n")), "{text}");
}

#[test]
fn unknown_events_get_close_matches() {
    let typo = failure(&run(&["show", "COURSE_ENROLMENT_CREATED"], b""), 2, "unknown event `COURSE_ENROLMENT_CREATED`");
    assert!(typo.contains("did you mean `COURSE_ENROLLMENT_CREATED`?"), "{typo}");

    let version = failure(&run(&["schema", "org.openedx.learning.course.enrollment.created.v2"], b""), 2, "unknown");
    assert!(version.contains(&format!("did you mean one of `{ENROLLMENT_CREATED}`, ")), "{version}");

    let part = failure(&run(&["encode", "enrollment.created"], b"{}"), 2, "unknown event `enrollment.created`");
    assert!(part.contains(&format!("did you mean `{ENROLLMENT_CREATED}`?")), "{part}");

    let nothing = failure(&run(&["decode", "zzzz"], b""), 2, "unknown event `zzzz`");
    assert!(nothing.contains("`openedx-events list` shows every event"), "{nothing}");
    assert!(!nothing.contains("did you mean"), "{nothing}");
}

#[test]
fn schema_prints_the_schema_string() {
    let text = success(&run(&["schema", ENROLLMENT_CREATED], b""));
    assert_eq!(text, format!("{}\n", COURSE_ENROLLMENT_CREATED.avro_schema().unwrap()));
    assert_eq!(success(&run(&["schema", "COURSE_ENROLLMENT_CREATED"], b"")), text);
}

#[test]
fn schema_of_an_unserializable_event_fails() {
    let message = failure(&run(&["schema", CERTIFICATE_DELETED], b""), 1, "cannot be serialized to Avro");
    assert!(message.contains("`certificate_config.signatories.image` has type `BinaryIO`"), "{message}");
}

#[test]
fn schemas_writes_every_avsc_file_as_upstream_names_them() {
    let dir = scratch("schemas").join("nested").join("out");
    let output = run(&["schemas", "--out", dir.to_str().unwrap()], b"");
    success(&output);
    let files: BTreeSet<String> =
        std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(files.len(), 73);
    // Upstream's convention, spelled out: the event type with `.` as `+`, then `_schema.avsc`.
    assert!(files.contains("org+openedx+learning+course+enrollment+created+v1_schema.avsc"), "{files:?}");
    let serializable: Vec<&dyn AnySignal> =
        openedx_events::all_events().filter(|signal| signal.avro_schema().is_ok()).collect();
    let expected: BTreeSet<String> =
        serializable.iter().map(|signal| format!("{}_schema.avsc", signal.event_type().replace('.', "+"))).collect();
    assert_eq!(files, expected);
    for signal in serializable {
        let contents = std::fs::read_to_string(dir.join(schema_file_name(signal.event_type()))).unwrap();
        assert_eq!(contents, schema_file_contents(signal.event_type(), signal.data()).unwrap());
        let written: Value = serde_json::from_str(&contents).unwrap();
        let schema: Value = serde_json::from_str(signal.avro_schema().unwrap()).unwrap();
        assert_eq!(written, schema, "{}", signal.event_type());
    }
    let notes = stderr(&output);
    assert_eq!(notes.matches("note: skipped: ").count(), 2, "{notes}");
    assert!(notes.contains(CERTIFICATE_DELETED), "{notes}");
    assert!(notes.contains("wrote 73 schema files"), "{notes}");
}

#[test]
fn schemas_needs_an_out_folder() {
    let output = run(&["schemas"], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--out <DIR>"), "{}", stderr(&output));
}

#[test]
fn encode_then_decode_round_trips_a_catalog_event() {
    let input = serde_json::to_vec(&enrollment_json()).unwrap();
    let bytes = success_bytes(&run(&["encode", ENROLLMENT_CREATED], &input));

    // The bytes are the event's Avro: the typed signal reads them.
    let data = COURSE_ENROLLMENT_CREATED.decode_avro(&bytes).unwrap();
    assert_eq!(data.enrollment.user.pii.username, "ada");
    assert_eq!(data.enrollment.course.course_key.to_string(), "course-v1:edX+DemoX+Demo_Course");
    assert_eq!(data.enrollment.created_by, None);
    assert_eq!(COURSE_ENROLLMENT_CREATED.encode_avro(&data).unwrap(), bytes);

    let decoded = success(&run(&["decode", "COURSE_ENROLLMENT_CREATED"], &bytes));
    assert_eq!(serde_json::from_str::<Value>(&decoded).unwrap(), enrollment_json());
    assert_eq!(decoded, format!("{:#}\n", enrollment_json()), "pretty JSON, in the schema's field order");
}

#[test]
fn hex_round_trips_too() {
    let input = serde_json::to_vec(&enrollment_json()).unwrap();
    let raw = success_bytes(&run(&["encode", ENROLLMENT_CREATED], &input));
    let hex = success(&run(&["encode", ENROLLMENT_CREATED, "--hex"], &input));
    let expected: String = raw.iter().map(|byte| format!("{byte:02x}")).collect();
    assert_eq!(hex, format!("{expected}\n"));

    let decoded = success(&run(&["decode", ENROLLMENT_CREATED, "--hex"], hex.as_bytes()));
    assert_eq!(serde_json::from_str::<Value>(&decoded).unwrap(), enrollment_json());
    // Uppercase and whitespace, as `xxd -p` wraps it, read the same.
    let upper = hex.trim().to_uppercase();
    let wrapped: String = upper.as_bytes().chunks(60).map(|line| format!("{}\n", line.escape_ascii())).collect();
    assert!(wrapped.lines().count() > 2);
    assert_eq!(success(&run(&["decode", ENROLLMENT_CREATED, "--hex"], wrapped.as_bytes())), decoded);
}

#[test]
fn encode_rejects_input_that_is_not_json() {
    failure(&run(&["encode", ENROLLMENT_CREATED], b"{\"enrollment\": "), 1, "standard input is not valid JSON: EOF");
    failure(&run(&["encode", ENROLLMENT_CREATED], b""), 1, "standard input is not valid JSON");
}

#[test]
fn encode_names_the_field_that_does_not_fit() {
    let mut wrong = enrollment_json();
    wrong["enrollment"]["user"]["id"] = json!("42");
    let input = serde_json::to_vec(&wrong).unwrap();
    let message = failure(&run(&["encode", ENROLLMENT_CREATED], &input), 1, "cannot encode");
    assert!(message.contains("at `enrollment.user.id`: expected a 64-bit integer, found a string"), "{message}");

    let mut missing = enrollment_json();
    missing["enrollment"]["course"].as_object_mut().unwrap().remove("course_key");
    let input = serde_json::to_vec(&missing).unwrap();
    failure(&run(&["encode", ENROLLMENT_CREATED], &input), 1, "at `enrollment.course`: missing field `course_key`");
}

#[test]
fn unserializable_events_cannot_be_encoded_or_decoded() {
    failure(&run(&["encode", CERTIFICATE_DELETED], b"{}"), 1, "cannot be serialized to Avro");
    failure(&run(&["decode", "COURSE_CERTIFICATE_CONFIG_DELETED"], b""), 1, "cannot be serialized to Avro");
}

#[test]
fn decode_rejects_invalid_hex() {
    failure(&run(&["decode", ENROLLMENT_CREATED, "--hex"], b"abc"), 1, "not valid hex: it has an odd number");
    failure(&run(&["decode", ENROLLMENT_CREATED, "--hex"], b"0g"), 1, "not valid hex: `g` at byte 1");
}

#[test]
fn decode_names_the_field_where_the_bytes_go_wrong() {
    let input = serde_json::to_vec(&enrollment_json()).unwrap();
    let bytes = success_bytes(&run(&["encode", ENROLLMENT_CREATED], &input));

    // The last byte is `created_by`'s union branch (null).
    let truncated = &bytes[..bytes.len() - 1];
    failure(&run(&["decode", ENROLLMENT_CREATED], truncated), 1, "invalid Avro data at `enrollment.created_by`");

    let mut trailing = bytes.clone();
    trailing.push(0);
    failure(&run(&["decode", ENROLLMENT_CREATED], &trailing), 1, "1 bytes are left after the data");

    failure(&run(&["decode", ENROLLMENT_CREATED], b""), 1, "cannot decode `org.openedx.learning.course.enrollment");
}

#[test]
fn docs_writes_the_reference_page() {
    let page = openedx_events_catalog::reference::events_markdown();
    assert_eq!(success(&run(&["docs", "--out", "-"], b"")), page);

    let dir = scratch("docs");
    let path = dir.join("events.md");
    let output = run(&["docs", "--out", path.to_str().unwrap()], b"");
    assert!(success(&output).is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), page);

    // By default, to `docs/reference/events.md` under the current folder.
    std::fs::create_dir_all(dir.join("docs/reference")).unwrap();
    success(&run_in(Some(&dir), &["docs"], b""));
    assert_eq!(std::fs::read_to_string(dir.join("docs/reference/events.md")).unwrap(), page);
}

#[test]
fn docs_names_a_path_it_cannot_write() {
    let dir = scratch("docs_missing");
    failure(&run_in(Some(&dir), &["docs"], b""), 1, "cannot write `docs/reference/events.md`");
}

#[test]
fn help_and_usage_errors() {
    let help = success(&run(&["--help"], b""));
    for command in ["list", "show", "schema", "schemas", "encode", "decode", "docs"] {
        assert!(help.contains(&format!("\n  {command} ")), "{command} in:\n{help}");
    }
    let none = run(&[], b"");
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("Usage: openedx-events <COMMAND>"), "{}", stderr(&none));

    let unknown = run(&["lsit"], b"");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unrecognized subcommand 'lsit'"), "{}", stderr(&unknown));
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    // The page is larger than a pipe's buffer (64 KiB on Linux), so the command is still writing
    // when we stop reading.
    let page = openedx_events_catalog::reference::events_markdown();
    assert!(page.len() > 1 << 16, "the page is {} bytes", page.len());
    let mut child = Command::new(BIN)
        .args(["docs", "--out", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0; 16];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut head).unwrap();
    assert_eq!(&head, b"# Event referenc");
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}: {}", output.status, stderr(&output));
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
}
