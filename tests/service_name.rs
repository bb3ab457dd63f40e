//! Where `source` comes from: `EVENTS_SERVICE_NAME`, else `SERVICE_VARIANT`, else unset; and
//! `set_service_name` in code. The environment is read once per process, so each case runs this
//! test binary again as a child with its own environment.

use std::process::Command;

use openedx_events::EventsMetadata;

/// Runs in every process: checks `source` against this process's own environment, then the
/// override in code.
#[test]
fn source_follows_this_process_environment() {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let service = var("EVENTS_SERVICE_NAME").or_else(|| var("SERVICE_VARIANT"));
    let expected = format!("openedx/{}/web", service.as_deref().unwrap_or("SERVICE_NAME_UNSET"));
    assert_eq!(EventsMetadata::new("org.openedx.testing.source.checked.v1").source, expected);
    assert_eq!(openedx_events::service_name(), service);

    // Code can override the environment, and go back to it. (In this test, not a separate one:
    // tests run in parallel and the setting is process-wide.)
    openedx_events::set_service_name(Some("my-service"));
    assert_eq!(EventsMetadata::new("org.openedx.testing.source.set.v1").source, "openedx/my-service/web");
    assert_eq!(openedx_events::service_name().as_deref(), Some("my-service"));
    openedx_events::set_service_name(None);
    assert_eq!(EventsMetadata::new("org.openedx.testing.source.set.v1").source, expected);
}

#[test]
fn each_environment_gives_its_source() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("EVENTS_SERVICE_NAME", "lms"), ("SERVICE_VARIANT", "cms")], "lms"),
        (&[("SERVICE_VARIANT", "cms")], "cms"),
        (&[("EVENTS_SERVICE_NAME", ""), ("SERVICE_VARIANT", "discovery")], "discovery"),
        (&[], "SERVICE_NAME_UNSET"),
    ];
    for (env, service) in cases {
        let mut child = Command::new(std::env::current_exe().unwrap());
        child.args(["--exact", "source_follows_this_process_environment", "--nocapture"]);
        child.env_remove("EVENTS_SERVICE_NAME").env_remove("SERVICE_VARIANT");
        for (name, value) in env {
            child.env(name, value);
        }
        let output = child.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{env:?} should give {service}: {stdout}");
        assert!(stdout.contains("1 passed"), "{env:?}: the child ran no test: {stdout}");
    }
}
