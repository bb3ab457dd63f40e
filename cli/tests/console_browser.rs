//! The console end to end, in a real headless browser (Debian's Chromium through chromedriver):
//! against the real Redis (`REDIS_URL`), with events produced by the backend's producer and a
//! poison message dead-lettered by a real `RedisConsumer` whose receiver fails. The page shows
//! the decoded events, an unknown event raw, the event's detail and the dead letter with its
//! error; a re-drive without the token is refused, a dry run moves nothing, a re-drive with the
//! token puts the original bytes back on the stream, and the consumer, fixed, dispatches it.
//!
//! Screenshots of every page go to Cargo's test folder; with `UPDATE_SCREENSHOTS=1` also to
//! `docs/images/console/`, where the documentation shows them.

use std::any::Any;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openedx_events::{AnySignal, BoxError, EventsMetadata};
// Links the catalog, so that the consumer in this test knows its events.
use openedx_events_catalog as _;
use openedx_events_redis::{RedisConsumer, RedisProducer, StartFrom};
use openedx_events_test_support::{RedisScratch, redis_url};
use serde_json::json;

mod common;
mod console_support;
use common::enrollment_json;
use console_support::ConsoleProcess;
use console_support::webdriver::Browser;

const ENROLLMENT_CREATED: &str = "org.openedx.learning.course.enrollment.created.v1";
const LOGIN_COMPLETED: &str = "org.openedx.learning.auth.session.login.completed.v1";
const UNKNOWN_TYPE: &str = "org.example.course.imported.v1";
const TOKEN: &str = "browser-test-token-0123456789";
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// Where screenshots go: Cargo's folder for this test, and the docs when asked.
fn save_screenshot(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    let mut folders = vec![PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")];
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        folders.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/images/console"));
    }
    for folder in folders {
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
    }
}

fn login_json(username: &str) -> serde_json::Value {
    json!({"user": {"id": 7, "is_active": true, "pii": {"username": username, "email": format!("{username}@example.org"), "name": "Grace Hopper"}}})
}

/// Produces an event of `event_type` with its data in JSON form; returns its stream id and
/// metadata.
fn produce(
    producer: &RedisProducer,
    stream: &str,
    event_type: &str,
    data: &serde_json::Value,
) -> (String, EventsMetadata) {
    let signal = openedx_events::get_signal_by_type(event_type).unwrap();
    let metadata = signal.generate_signal_metadata(None);
    let bytes = signal.json_to_avro(data).unwrap();
    (producer.send_to_stream(stream, &metadata, &bytes).unwrap(), metadata)
}

/// The CRM receiver: fails while `broken`, else records the ids of the events it got.
struct Crm {
    broken: AtomicBool,
    received: Mutex<Vec<String>>,
}

fn poll_until(consumer: &mut RedisConsumer, what: &str, mut done: impl FnMut(&RedisConsumer) -> bool) {
    let start = Instant::now();
    while !done(consumer) {
        assert!(start.elapsed() < Duration::from_secs(30), "the consumer never got to: {what}");
        consumer.poll().unwrap();
    }
}

fn entries(redis: &mut RedisScratch, stream: &str) -> Vec<(String, Fields)> {
    redis::cmd("XRANGE").arg(stream).arg("-").arg("+").query(redis.connection()).unwrap()
}

#[test]
fn the_console_shows_the_bus_and_redrives_a_dead_letter_after_the_fix() {
    let mut redis = RedisScratch::new("console-browser");
    let settings = redis.settings();
    let stream = redis.stream("enrollments");
    let dead_letter_stream = format!("{stream}-dead-letter");

    // Events: two logins and an enrollment, produced as a service does.
    let producer = RedisProducer::new(settings.clone()).unwrap();
    produce(&producer, &stream, LOGIN_COMPLETED, &login_json("grace"));
    let (poison_id, poison_metadata) = produce(&producer, &stream, ENROLLMENT_CREATED, &enrollment_json());
    produce(&producer, &stream, LOGIN_COMPLETED, &login_json("alan"));

    // A consumer whose receiver of enrollments fails: the enrollment is tried three times and
    // dead-lettered, the logins delivered.
    let crm = Arc::new(Crm { broken: AtomicBool::new(true), received: Mutex::new(Vec::new()) });
    let signal: &'static dyn AnySignal = openedx_events::get_signal_by_type(ENROLLMENT_CREATED).unwrap();
    let receiver = {
        let crm = Arc::clone(&crm);
        Arc::new(move |_: &dyn Any, metadata: &EventsMetadata| -> Result<(), BoxError> {
            if crm.broken.load(Ordering::SeqCst) {
                return Err("CRM is down (503 from crm.example.org)".into());
            }
            crm.received.lock().unwrap().push(metadata.id.to_string());
            Ok(())
        })
    };
    let receiver_id = signal.connect_erased(Cow::Borrowed("crm_sync::on_enrollment"), receiver);
    let mut consumer = RedisConsumer::builder(settings.clone())
        .topic("enrollments")
        .group("crm-sync")
        .consumer_name("crm-1")
        .start(StartFrom::Beginning)
        .build()
        .unwrap();
    poll_until(&mut consumer, "one dead letter and two deliveries", |c| {
        c.stats().dead_lettered == 1 && c.stats().delivered == 2
    });
    // An event of a type this program does not know, written by some other producer.
    let metadata = EventsMetadata::new(UNKNOWN_TYPE);
    let raw: Vec<(&str, Vec<u8>)> = openedx_events::event_bus::message_fields(&metadata, b"\x06abc")
        .iter()
        .map(|(name, value)| (*name, value.to_vec()))
        .collect();
    let unknown_id: String = redis::cmd("XADD").arg(&stream).arg("*").arg(&raw).query(redis.connection()).unwrap();
    let original_fields = entries(&mut redis, &stream).into_iter().find(|(id, _)| *id == poison_id).unwrap().1;

    let console = ConsoleProcess::start(
        &["--allow-changes"],
        &[
            ("EVENT_BUS_REDIS_CONNECTION_URL", &redis_url()),
            ("EVENT_BUS_TOPIC_PREFIX", redis.prefix()),
            ("OPENEDX_EVENTS_CONSOLE_TOKEN", TOKEN),
        ],
    );
    let browser = Browser::start(1100, 900);

    // The overview: the topic, its group and consumer, the dead letter.
    browser.go(&format!("{}/", console.base));
    let text = browser.wait_for_text(&stream);
    for expected in ["crm-sync", "crm-1: 0 pending", "1 needs attention"] {
        assert!(text.contains(expected), "{expected:?} on the overview:\n{text}");
    }
    // The keyboard reaches the skip link first, then the navigation.
    browser.press("\u{E004}");
    assert!(browser.focused_html().contains("Skip to content"), "{}", browser.focused_html());
    browser.press("\u{E004}");
    assert!(browser.focused_html().contains(">Overview<"), "{}", browser.focused_html());
    save_screenshot("overview", &browser.screenshot());
    // It refreshes by itself: a new event shows up without reloading.
    produce(&producer, &stream, LOGIN_COMPLETED, &login_json("edsger"));
    browser.execute("document.activeElement.blur(); return null;");
    let start = Instant::now();
    let entries_shown = "return document.querySelector('table.topics tbody td.num').textContent;";
    while browser.execute(entries_shown) != json!("5") {
        assert!(start.elapsed() < Duration::from_secs(20), "the overview did not refresh: {}", browser.text());
        std::thread::sleep(Duration::from_millis(250));
    }

    // The topic: newest first, decoded through the catalog; the unknown event shown raw.
    browser.click(&browser.find("table.topics tbody a"));
    let text = browser.wait_for_text("newest first");
    assert!(text.contains("5 events"), "{text}");
    let first_row = browser.text_of(&browser.find("table.events tbody tr"));
    assert!(first_row.contains("org.openedx.learning.auth.session.login.completed.v1"), "newest first: {first_row}");
    assert!(text.contains(&unknown_id) && text.contains(UNKNOWN_TYPE), "{text}");
    assert!(text.contains(&format!("Raw: no event of type `{UNKNOWN_TYPE}` in this program's catalog")), "{text}");
    let html = browser.execute("return document.documentElement.outerHTML;").as_str().unwrap_or_default().to_owned();
    assert!(html.contains(r#""email": "ada@example.org""#), "the enrollment's data, decoded");
    assert!(html.contains(&poison_metadata.id.to_string()), "its metadata id");
    // Open the enrollment's data for the picture.
    let poison_row = format!("table.events a[href*='id={poison_id}']");
    browser.find(&poison_row);
    browser.execute(&format!(
        "document.querySelector(\"{poison_row}\").closest('tr').querySelector('details').open = true; return null;"
    ));
    save_screenshot("topic", &browser.screenshot());
    // Filtered by type: only the logins.
    browser.type_into(&browser.find("#f-type"), LOGIN_COMPLETED);
    browser.click(&browser.find("form.filters button[type=submit]"));
    let text = browser.wait_for_text("filtered");
    assert!(text.contains("3 events, newest first, filtered"), "{text}");
    assert!(!text.contains(&poison_id), "not the enrollment: {text}");

    // The event's detail: metadata, data, raw fields, schema.
    browser.go(&format!("{}/topic?stream={}", console.base, console_support::encode(&stream)));
    browser.click(&browser.find(&poison_row));
    let text = browser.wait_for_text("Raw fields");
    for expected in ["Metadata", "Data", "event_data", "Avro schema", "\"name\": \"CloudEvent\"", "ada@example.org"] {
        assert!(text.contains(expected), "{expected:?} on the event page:\n{text}");
    }
    save_screenshot("event", &browser.screenshot());

    // The dead letters: original id, type, receiver and error, attempts, group and consumer.
    let dead_letters_page = format!("{}/dead-letters?stream={}", console.base, console_support::encode(&stream));
    browser.go(&dead_letters_page);
    let text = browser.wait_for_text("CRM is down");
    for expected in
        [poison_id.as_str(), ENROLLMENT_CREATED, "crm_sync::on_enrollment", "crm-sync / crm-1", "1 dead letter in"]
    {
        assert!(text.contains(expected), "{expected:?} on the dead-letter page:\n{text}");
    }
    save_screenshot("dead-letters", &browser.screenshot());
    let lengths = |redis: &mut RedisScratch| (redis.stream_len(&stream), redis.stream_len(&dead_letter_stream));
    assert_eq!(lengths(&mut redis), (5, 1));

    // Without the token: refused, nothing moves.
    browser.click(&browser.find("input[name=id]"));
    browser.click(&browser.find("button[value=redrive]"));
    let text = browser.wait_for_text("Forbidden");
    assert!(text.contains("a change needs the token"), "{text}");
    assert_eq!(lengths(&mut redis), (5, 1));
    // A wrong token neither.
    browser.go(&dead_letters_page);
    browser.click(&browser.find("input[name=id]"));
    browser.type_into(&browser.find("#token"), "not-the-token-at-all");
    browser.click(&browser.find("button[value=redrive]"));
    assert!(browser.wait_for_text("Forbidden").contains("wrong token"));
    assert_eq!(lengths(&mut redis), (5, 1));

    // A dry run says what would move, and moves nothing.
    browser.go(&dead_letters_page);
    browser.click(&browser.find("input[name=id]"));
    browser.click(&browser.find("button[value=redrive-dry-run]"));
    let text = browser.wait_for_text("Dry run: re-drive would touch 1 dead letter");
    assert!(text.contains(&format!("would move to {stream} with its original bytes")), "{text}");
    assert!(text.contains(&format!("original id {poison_id}")), "{text}");
    assert_eq!(lengths(&mut redis), (5, 1));

    // With the token: back on the stream, byte for byte, and gone from the dead letters.
    browser.go(&dead_letters_page);
    browser.click(&browser.find("input[name=id]"));
    browser.type_into(&browser.find("#token"), TOKEN);
    browser.click(&browser.find("button[value=redrive]"));
    let text = browser.wait_for_text("Re-drove 1 dead letter to");
    assert_eq!(lengths(&mut redis), (6, 0));
    let (new_id, fields) = entries(&mut redis, &stream).pop().unwrap();
    assert!(text.contains(&new_id), "the new id: {text}");
    assert_eq!(fields, original_fields, "the original bytes, in order");
    let audit = console.stderr_once(|audit| audit.contains("1 of 1 done"));
    let line = audit
        .lines()
        .find(|line| line.contains("action=redrive") && line.contains("1 of 1 done"))
        .unwrap_or_else(|| panic!("an audit line:\n{audit}"));
    assert!(line.contains("who=127.0.0.1:") && line.contains("token=t-"), "{line}");
    assert!(audit.lines().filter(|line| line.contains("refused")).count() >= 2, "refusals are audited:\n{audit}");
    assert!(!audit.contains(TOKEN), "the token is never logged");

    // The receiver fixed, the consumer dispatches the re-driven event.
    crm.broken.store(false, Ordering::SeqCst);
    poll_until(&mut consumer, "the re-driven event delivered", |_| !crm.received.lock().unwrap().is_empty());
    assert_eq!(*crm.received.lock().unwrap(), [poison_metadata.id.to_string()]);
    // Only the event of the unknown type is a dead letter now: this consumer cannot decode it.
    let left = entries(&mut redis, &dead_letter_stream);
    let types: Vec<&[u8]> =
        left.iter().filter_map(|(_, f)| f.iter().find(|(k, _)| k == b"type")).map(|(_, v)| v.as_slice()).collect();
    assert_eq!(types, [UNKNOWN_TYPE.as_bytes()]);
    signal.disconnect(receiver_id);

    // The catalog, searched as you type.
    browser.go(&format!("{}/catalog", console.base));
    let total = browser.find_all("article.event").len();
    assert!(total > 50, "every event: {total}");
    browser.type_into(&browser.find("#catalog-search"), "enrollment.created");
    let text = browser.wait_for_text(&format!(" of {total}."));
    let shown = browser.execute("return document.querySelectorAll('article.event:not([hidden])').length;");
    let shown = shown.as_u64().unwrap_or(0);
    assert!((1..10).contains(&shown), "a few events match: {shown}");
    assert!(text.contains("COURSE_ENROLLMENT_CREATED"), "{text}");
    browser.execute("document.querySelector('article.event:not([hidden]) details').open = true; return null;");
    save_screenshot("catalog", &browser.screenshot());
}
