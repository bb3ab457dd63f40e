//! Helpers shared by the CLI's integration tests: reading a finished command's output, and a
//! realistic payload.
#![allow(dead_code, reason = "each test binary that includes this module uses only some of it")]

use std::process::Output;

use serde_json::{Value, json};

/// The command's stdout.
pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// The command's stderr.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Asserts that the command succeeded and returns its stdout as bytes.
pub(crate) fn success_bytes(output: &Output) -> Vec<u8> {
    assert!(output.status.success(), "the command failed: {:?}\nstderr: {}", output.status, stderr(output));
    output.stdout.clone()
}

/// Asserts that the command succeeded and returns its stdout.
pub(crate) fn success(output: &Output) -> String {
    String::from_utf8(success_bytes(output)).expect("stdout is UTF-8")
}

/// Asserts that the command failed with `code`, printed nothing on stdout, and said `expected`
/// on stderr in a line that starts with `error: `; returns stderr.
pub(crate) fn failure(output: &Output, code: i32, expected: &str) -> String {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(code), "exit code; stderr: {message}");
    assert!(output.stdout.is_empty(), "no output on failure, got: {}", stdout(output));
    assert!(message.lines().any(|line| line.starts_with("error: ")), "stderr: {message}");
    assert!(message.contains(expected), "stderr should contain {expected:?}, is: {message}");
    message
}

/// A realistic enrollment, in the JSON form: nested records, a key, times as Python writes them,
/// an optional field set and two left null.
pub(crate) fn enrollment_json() -> Value {
    json!({
        "enrollment": {
            "user": {
                "id": 42,
                "is_active": true,
                "pii": {"username": "ada", "email": "ada@example.org", "name": "Ada Lovelace"}
            },
            "course": {
                "course_key": "course-v1:edX+DemoX+Demo_Course",
                "display_name": "Demonstration Course",
                "start": "2024-01-15T09:00:00+00:00",
                "end": null
            },
            "mode": "verified",
            "is_active": true,
            "creation_date": "2024-05-01T12:30:45.123456+00:00",
            "created_by": null
        }
    })
}
