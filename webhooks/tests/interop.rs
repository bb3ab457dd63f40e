//! What we send, read by independent implementations: the CloudEvents Python SDK's HTTP reader
//! parses both CloudEvents modes, and the `standardwebhooks` Python package verifies the
//! signatures (also while secrets rotate). Needs the repository's virtual environment
//! (`bash .ci/setup`).

mod support;

use std::path::Path;

use base64::Engine as _;
use openedx_events_test_support::python::python;
use openedx_events_webhooks::{WebhookDeliverer, WebhookFormat, WebhookSecret};
use serde_json::{Value, json};
use support::{Answer, Receiver, event};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn python_reads_both_cloudevents_modes_and_verifies_the_signatures() {
    let python = python();
    python.require(&["cloudevents", "standardwebhooks"]);
    let receiver = Receiver::start(Vec::new(), Answer::status(200));
    let event = event();
    // Binary and structured mode; the second signed with a new secret and the old one, as
    // while rotating: the receiver knows only the old one.
    let old = WebhookSecret::parse(SECRET).unwrap();
    for (format, secrets) in [
        (WebhookFormat::Binary, vec![old.clone()]),
        (WebhookFormat::Structured, vec![WebhookSecret::generate(), old.clone()]),
    ] {
        let deliverer = WebhookDeliverer::builder(&receiver.url)
            .format(format)
            .secrets(secrets)
            .allow_private_targets(true)
            .build()
            .unwrap();
        deliverer.deliver(&event, &|| false).unwrap();
    }
    let requests: Vec<Value> = receiver
        .received()
        .iter()
        .map(|request| {
            let headers: serde_json::Map<String, Value> =
                request.headers.iter().map(|(name, value)| (name.clone(), Value::String(value.clone()))).collect();
            json!({"headers": headers, "body": base64::engine::general_purpose::STANDARD.encode(&request.body)})
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("oe-webhooks-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("requests.json");
    std::fs::write(&path, serde_json::to_vec(&requests).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/receive.py");
    let read = python.run_json_lines(&script, &dir, &[path.to_str().unwrap(), SECRET]);
    std::fs::remove_dir_all(&dir).unwrap();

    assert_eq!(read.len(), 2);
    let time = event.metadata.time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('Z', "+00:00");
    for parsed in &read {
        assert_eq!(parsed["verified"], true);
        assert_eq!(parsed["id"], event.id());
        assert_eq!(parsed["source"], "openedx/lms/web");
        assert_eq!(parsed["type"], "org.openedx.learning.course.enrollment.created.v1");
        assert_eq!(parsed["specversion"], "1.0");
        assert_eq!(parsed["time"], time.as_str());
        assert_eq!(parsed["sourcehost"], "lms-1 \"blue\" 100% café", "percent-decoded back");
        assert_eq!(parsed["sourcelib"], "11.2.0");
        assert_eq!(parsed["data"], event.data);
    }
    // In binary mode the data's type is the request's Content-Type, with no `ce-datacontenttype`.
    assert_eq!(read[0]["datacontenttype"], "application/json");
    assert_eq!(read[0]["minorversion"], "0");
    assert_eq!(read[1]["datacontenttype"], "application/json");
    assert_eq!(read[1]["minorversion"], 0);
}
