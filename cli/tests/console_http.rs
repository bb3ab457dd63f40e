//! The console over plain HTTP, against the real Redis (`REDIS_URL`): what it refuses (changes
//! in read-only mode, without the token, from another site, to another `Host`), where it may
//! listen, that no secret reaches a response, and that its pages read, filter and page topics
//! and dead letters with bounded reads.

use std::process::{Command, Stdio};

use openedx_events::EventsMetadata;
use openedx_events::event_bus::message_fields;
// Links the catalog, so that the tests can encode its events.
use openedx_events_catalog as _;
use openedx_events_test_support::{RedisScratch, redis_url};
use serde_json::{Value, json};

mod common;
mod console_support;
use common::enrollment_json;
use console_support::{BIN, ConsoleProcess, encode, http};

const ENROLLMENT_CREATED: &str = "org.openedx.learning.course.enrollment.created.v1";
const LOGIN_COMPLETED: &str = "org.openedx.learning.auth.session.login.completed.v1";
const TOKEN: &str = "http-test-token-0123456789abcdef";
/// A stream entry's fields, in order.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// Adds an event to a stream as the producer writes it; returns its stream id.
fn add(redis: &mut RedisScratch, stream: &str, event_type: &str, data: &Value) -> String {
    let signal = openedx_events::get_signal_by_type(event_type).unwrap();
    let metadata = signal.generate_signal_metadata(None);
    add_raw(redis, stream, &metadata, &signal.json_to_avro(data).unwrap(), &[])
}

fn add_raw(
    redis: &mut RedisScratch,
    stream: &str,
    metadata: &EventsMetadata,
    data: &[u8],
    extra: &[(&str, &str)],
) -> String {
    let mut command = redis::cmd("XADD");
    command.arg(stream).arg("*");
    for (name, value) in message_fields(metadata, data) {
        command.arg(name).arg(value.as_ref());
    }
    for (name, value) in extra {
        command.arg(*name).arg(*value);
    }
    command.query(redis.connection()).unwrap()
}

/// A dead letter of `stream`, as a consumer writes it; returns its id.
fn add_dead_letter(redis: &mut RedisScratch, stream: &str, original_id: &str) -> String {
    let metadata = EventsMetadata::new(LOGIN_COMPLETED);
    add_raw(
        redis,
        &format!("{stream}-dead-letter"),
        &metadata,
        b"\x00",
        &[
            ("error", "1 of 1 receivers failed: audit::record: receiver returned an error: disk full"),
            ("attempts", "3"),
            ("original_id", original_id),
            ("group", "audit"),
            ("consumer", "audit-1"),
        ],
    )
}

fn login(username: &str) -> Value {
    json!({"user": {"id": 1, "is_active": true, "pii": {"username": username, "email": "x@example.org", "name": "X"}}})
}

fn bus_env(redis: &RedisScratch) -> Vec<(&'static str, String)> {
    vec![("EVENT_BUS_REDIS_CONNECTION_URL", redis_url()), ("EVENT_BUS_TOPIC_PREFIX", redis.prefix().to_owned())]
}

fn start(redis: &RedisScratch, args: &[&str], extra: &[(&'static str, String)]) -> ConsoleProcess {
    let env: Vec<(&str, String)> = bus_env(redis).into_iter().chain(extra.iter().cloned()).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(name, value)| (*name, value.as_str())).collect();
    ConsoleProcess::start(args, &env)
}

#[test]
fn a_read_only_console_refuses_every_change_even_with_a_token() {
    let mut redis = RedisScratch::new("console-read-only");
    let stream = redis.stream("logins");
    let original = add(&mut redis, &stream, LOGIN_COMPLETED, &login("ro"));
    let dead = add_dead_letter(&mut redis, &stream, &original);
    let console = start(&redis, &[], &[("OPENEDX_EVENTS_CONSOLE_TOKEN", TOKEN.to_owned())]);
    assert!(console.stderr().contains("read-only; start with --allow-changes"), "{}", console.stderr());

    let page = console.get(&format!("/dead-letters?stream={}", encode(&stream))).expect(200);
    assert!(page.body.contains("Read-only: this console was started without <code>--allow-changes</code>"));
    assert!(!page.body.contains("value=\"redrive\""), "no re-drive button");
    assert!(!page.body.contains("value=\"delete\""), "no delete button");
    assert!(!page.body.contains("name=\"token\""), "no token field");
    for action in ["redrive", "delete"] {
        let form = format!("stream={}&id={dead}&action={action}&token={TOKEN}&confirm=delete", encode(&stream));
        let refused = console.post_form("/dead-letters", &form).expect(403);
        assert!(
            refused.body.contains("read-only: this console was started without --allow-changes"),
            "{}",
            refused.body
        );
    }
    // A dry run changes nothing, so it is allowed.
    let dry =
        console.post_form("/dead-letters", &format!("stream={}&id={dead}&action=redrive-dry-run", encode(&stream)));
    assert!(dry.expect(200).body.contains("Dry run: re-drive would touch 1 dead letter"));
    assert_eq!(redis.stream_len(&format!("{stream}-dead-letter")), 1);
    assert_eq!(redis.stream_len(&stream), 1);
}

#[test]
fn changes_need_the_token_and_a_request_from_the_consoles_own_page() {
    let mut redis = RedisScratch::new("console-csrf");
    let stream = redis.stream("logins");
    let original = add(&mut redis, &stream, LOGIN_COMPLETED, &login("csrf"));
    let dead = add_dead_letter(&mut redis, &stream, &original);
    let console = start(&redis, &["--allow-changes"], &[]);
    let token = console.printed_token();
    assert_eq!(token.len(), 64, "a generated token of 256 bits in hex: {token}");
    let form = |token: &str| format!("stream={}&id={dead}&action=redrive&token={token}", encode(&stream));
    let post = |headers: &[(&str, &str)], body: &str| {
        let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        http(console.port, "POST", "/dead-letters", &all, body)
    };
    let own = console.base.clone();

    // No token, a wrong one: refused.
    assert!(post(&[("Origin", &own)], &form("")).expect(403).body.contains("a change needs the token"));
    assert!(post(&[("Origin", &own)], &form("0123456789abcdef0123")).expect(403).body.contains("wrong token"));
    // The right token from another site's page: refused, whichever header gives it away.
    let evil = post(&[("Origin", "http://evil.example")], &form(&token)).expect(403);
    assert!(evil.body.contains("cross-site request refused: Origin `http://evil.example` is not this console"));
    let scheme = post(&[("Origin", &format!("https://127.0.0.1:{}.evil.example", console.port))], &form(&token));
    assert_eq!(scheme.status, 403, "only this Host, over http or https");
    let behind_tls = format!("https://127.0.0.1:{}", console.port);
    let dry = format!("stream={}&id={dead}&action=redrive-dry-run", encode(&stream));
    assert_eq!(post(&[("Origin", &behind_tls)], &dry).status, 200, "this Host over https (a TLS proxy)");
    let evil = post(&[("Sec-Fetch-Site", "cross-site")], &form(&token)).expect(403);
    assert!(evil.body.contains("Sec-Fetch-Site is `cross-site`"), "{}", evil.body);
    let sibling = post(&[("Sec-Fetch-Site", "same-site"), ("Origin", &own)], &form(&token)).expect(403);
    assert!(sibling.body.contains("Sec-Fetch-Site is `same-site`"), "{}", sibling.body);
    // Another Host (a DNS-rebinding page): refused before anything else.
    let rebound = post(&[("Host", "evil.example"), ("Origin", "http://evil.example")], &form(&token)).expect(421);
    assert!(rebound.body.contains("answers only to its loopback address"));
    assert_eq!(http(console.port, "GET", "/", &[("Host", "evil.example")], "").status, 421);
    // Not a form (a JSON body a page could send with fetch): refused.
    let json =
        http(console.port, "POST", "/dead-letters", &[("Content-Type", "text/plain"), ("Origin", &own)], &form(&token));
    assert_eq!(json.status, 400);
    assert_eq!(redis.stream_len(&format!("{stream}-dead-letter")), 1, "nothing moved");
    assert_eq!(redis.stream_len(&stream), 1);

    // From its own page with the token: done, and audited without the token.
    let done = console.post_form("/dead-letters", &form(&token)).expect(200);
    assert!(done.body.contains("Re-drove 1 dead letter to"), "{}", done.body);
    assert_eq!(redis.stream_len(&format!("{stream}-dead-letter")), 0);
    assert_eq!(redis.stream_len(&stream), 2);
    // A client that sends neither Origin nor Sec-Fetch-Site (curl) only needs the token.
    let again = http(
        console.port,
        "POST",
        "/dead-letters",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form(&token),
    );
    assert!(again.expect(200).body.contains("not found"), "the dead letter is gone");
    let stderr = console.stderr_once(|stderr| stderr.contains("1 of 1 done"));
    assert!(!stderr.lines().filter(|line| line.starts_with("audit:")).any(|line| line.contains(&token)), "{stderr}");
    let audit: Vec<&str> = stderr.lines().filter(|line| line.starts_with("audit:")).collect();
    assert!(
        audit.iter().any(|line| line.contains("action=redrive") && line.contains("refused: wrong token")),
        "{audit:?}"
    );
    assert!(audit.iter().any(|line| line.contains("cross-site request refused")), "{audit:?}");
    let done_line = audit.iter().find(|line| line.contains("1 of 1 done")).unwrap();
    assert!(
        done_line.contains(&format!("stream={stream}")) && done_line.contains(&format!("[{dead}->")),
        "{done_line}"
    );
    assert!(done_line.contains("who=127.0.0.1:") && done_line.contains(" token=t-"), "{done_line}");
    // Reading is a GET: a POST elsewhere is not allowed.
    assert_eq!(http(console.port, "POST", "/", &[("Origin", &own)], "").status, 405);
}

#[test]
fn deleting_needs_its_confirmation_and_all_takes_every_dead_letter() {
    let mut redis = RedisScratch::new("console-delete");
    let stream = redis.stream("logins");
    let original = add(&mut redis, &stream, LOGIN_COMPLETED, &login("del"));
    let ids: Vec<String> = (0..3).map(|_| add_dead_letter(&mut redis, &stream, &original)).collect();
    let console = start(&redis, &["--allow-changes"], &[("OPENEDX_EVENTS_CONSOLE_TOKEN", TOKEN.to_owned())]);
    let dead_letters = format!("{stream}-dead-letter");
    let base = format!("stream={}&token={TOKEN}", encode(&stream));

    let unconfirmed = console.post_form("/dead-letters", &format!("{base}&id={}&action=delete", ids[0])).expect(400);
    assert!(unconfirmed.body.contains("deleting needs its confirmation ticked"));
    let dry = console.post_form("/dead-letters", &format!("{base}&all=yes&action=delete-dry-run")).expect(200);
    assert!(dry.body.contains("Dry run: delete would touch 3 dead letters"), "{}", dry.body);
    assert_eq!(dry.body.matches("would be deleted").count(), 3);
    assert_eq!(redis.stream_len(&dead_letters), 3);

    let one = console.post_form("/dead-letters", &format!("{base}&id={}&action=delete&confirm=delete", ids[0]));
    assert!(one.expect(200).body.contains("Deleted 1 dead letter"));
    assert_eq!(redis.stream_len(&dead_letters), 2);
    let missing = console.post_form("/dead-letters", &format!("{base}&id={}&id=1-1&action=redrive", ids[0]));
    assert_eq!(missing.expect(200).body.matches("not found").count(), 2, "neither is there");
    let rest = console.post_form("/dead-letters", &format!("{base}&all=yes&action=delete&confirm=delete"));
    assert!(rest.expect(200).body.contains("Deleted 2 dead letters"));
    assert_eq!(redis.stream_len(&dead_letters), 0);
    assert_eq!(redis.stream_len(&stream), 1, "deleting moves nothing back");

    let none = console.post_form("/dead-letters", &format!("{base}&action=redrive")).expect(400);
    assert!(none.body.contains("select at least one dead letter"));
    let bad = console.post_form("/dead-letters", &format!("{base}&id=%2B&action=redrive")).expect(400);
    assert!(bad.body.contains("`id` must be a stream id"), "{}", bad.body);
    let unknown = console.post_form("/dead-letters", &format!("{base}&id=1-0&action=explode")).expect(400);
    assert!(unknown.body.contains("unknown action `explode`"));
    let elsewhere =
        console.post_form("/dead-letters", &format!("stream=other-topic&token={TOKEN}&id=1-0&action=redrive"));
    assert!(elsewhere.expect(404).body.contains("is not a topic of this console"));
}

/// Runs the binary to its end (it must not start serving) and returns its exit code and stderr.
fn run_console(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(BIN);
    command.arg("console").args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    for variable in openedx_events_redis::ENV_VARS.into_iter().chain(["OPENEDX_EVENTS_CONSOLE_TOKEN"]) {
        command.env_remove(variable);
    }
    command.env("EVENT_BUS_REDIS_CONNECTION_URL", redis_url()).envs(env.iter().copied());
    let output = command.output().unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn binding_beyond_loopback_needs_a_flag() {
    let (code, stderr) = run_console(&["--listen", "0.0.0.0:0"], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("error: `0.0.0.0:0` is not a loopback address; pass --allow-remote"), "{stderr}");
    let (code, stderr) = run_console(&["--listen", "not an address"], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("error: cannot listen on `not an address`"), "{stderr}");
    let (code, stderr) = run_console(&["--allow-changes"], &[("OPENEDX_EVENTS_CONSOLE_TOKEN", "short")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("OPENEDX_EVENTS_CONSOLE_TOKEN is too short"), "{stderr}");
    let mut no_url = Command::new(BIN);
    no_url.args(["console", "--listen", "127.0.0.1:0"]).env_remove("EVENT_BUS_REDIS_CONNECTION_URL");
    let output = no_url.stdin(Stdio::null()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no Redis URL"));

    // With the flag it serves, says so, and answers on loopback too (any Host: it was asked to
    // serve beyond this machine).
    let redis = RedisScratch::new("console-bind");
    let console = start(&redis, &["--listen", "0.0.0.0:0", "--allow-remote"], &[]);
    let stderr = console.stderr();
    assert!(stderr.contains("serving beyond loopback, over plain HTTP"), "{stderr}");
    assert!(stderr.contains("read-only"), "{stderr}");
    assert_eq!(http(console.port, "GET", "/", &[("Host", "console.internal:8765")], "").status, 200);
    // The default is loopback, and its refusal of other Host values.
    let local = start(&redis, &[], &[]);
    assert_eq!(http(local.port, "GET", "/", &[("Host", "console.internal:8765")], "").status, 421);
    assert_eq!(http(local.port, "GET", "/", &[("Host", &format!("localhost:{}", local.port))], "").status, 200);
}

#[test]
fn no_secret_reaches_a_response_or_the_log() {
    let mut redis = RedisScratch::new("console-secrets");
    let stream = redis.stream("logins");
    let original = add(&mut redis, &stream, LOGIN_COMPLETED, &login("sec"));
    let dead = add_dead_letter(&mut redis, &stream, &original);
    // Redis's default user has no password, so any password works when a user is named: the
    // console runs normally with a secret in its URL.
    let password = "hunter2-SECRET-in-the-url";
    let url = redis_url().replacen("redis://", &format!("redis://default:{password}@"), 1);
    assert!(url.contains(password), "REDIS_URL is redis://host:port: {url}");
    let console = start(&redis, &["--allow-changes"], &[("EVENT_BUS_REDIS_CONNECTION_URL", url.clone())]);
    let token = console.printed_token();
    let s = encode(&stream);
    let pages = [
        "/".to_owned(),
        "/api/overview".to_owned(),
        format!("/topic?stream={s}"),
        format!("/topic?stream={s}&type={LOGIN_COMPLETED}&since=2020-01-01"),
        format!("/event?stream={s}&id={original}"),
        format!("/event?stream={s}-dead-letter&id={dead}"),
        format!("/dead-letters?stream={s}"),
        "/catalog?q=login".to_owned(),
        "/assets/console.css".to_owned(),
        "/assets/console.js".to_owned(),
        "/nowhere".to_owned(),
        format!("/topic?stream={s}&since=nonsense"),
        "/topic?stream=elsewhere".to_owned(),
    ];
    let mut replies: Vec<(String, console_support::HttpReply)> =
        pages.iter().map(|page| (page.clone(), console.get(page))).collect();
    for action in ["redrive-dry-run", "redrive"] {
        let form = format!("stream={s}&id={dead}&action={action}&token=wrong-token-wrong-token");
        replies.push((format!("POST {action}"), console.post_form("/dead-letters", &form)));
    }
    for (page, reply) in &replies {
        assert!(!reply.body.contains(password), "{page} shows the Redis password");
        assert!(!reply.body.contains(&token), "{page} shows the token");
        for (name, value) in &reply.headers {
            assert!(!value.contains(password) && !value.contains(&token), "{page}: header {name}");
        }
    }
    let overview = &replies[0].1;
    assert!(overview.body.contains("redis://default:***@"), "the URL is shown redacted");
    // Redis that cannot be reached: an error page naming the URL, redacted.
    drop(console);
    let unreachable = format!("redis://default:{password}@127.0.0.1:1");
    let down = start(&redis, &[], &[("EVENT_BUS_REDIS_CONNECTION_URL", unreachable)]);
    for page in ["/api/overview", &format!("/topic?stream={s}")] {
        let reply = down.get(page).expect(502);
        assert!(reply.body.contains("Redis at `redis://default:***@127.0.0.1:1`"), "{}", reply.body);
        assert!(!reply.body.contains(password));
    }
    assert!(down.get("/").expect(200).body.contains("role=\"alert\""), "the overview says Redis is down");
    assert!(!down.stderr().contains(password));
}

#[test]
fn topic_pages_decode_filter_and_page_by_stream_id() {
    let mut redis = RedisScratch::new("console-topic");
    let stream = redis.stream("mixed");
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(add(&mut redis, &stream, LOGIN_COMPLETED, &login(&format!("user{n}"))));
        // Entries a few milliseconds apart, for the time filters.
        std::thread::sleep(std::time::Duration::from_millis(3));
    }
    let enrollment = add(&mut redis, &stream, ENROLLMENT_CREATED, &enrollment_json());
    let unknown = add_raw(&mut redis, &stream, &EventsMetadata::new("org.example.thing.v1"), b"\x01", &[]);
    let console = start(&redis, &[], &[]);
    let s = encode(&stream);

    // Newest first, a page of 5, and the link to the next.
    let page = console.get(&format!("/topic?stream={s}&count=5")).expect(200).body;
    assert!(page.contains("5 events, newest first; looked at 6 entries"), "one more than the page, no more");
    let first = page.find(&unknown).unwrap();
    assert!(first < page.find(&enrollment).unwrap() && page.find(&enrollment).unwrap() < page.find(&ids[11]).unwrap());
    assert!(page.contains("Raw:</strong> no event of type `org.example.thing.v1`"));
    assert!(page.contains("&quot;email&quot;: &quot;ada@example.org&quot;"), "decoded data");
    let older = format!("before={}", ids[9]);
    assert!(page.contains(&older), "the next page starts after the last shown");
    let next = console.get(&format!("/topic?stream={s}&count=5&{older}")).expect(200).body;
    assert!(next.contains(&ids[8]) && next.contains(&ids[4]) && !next.contains(&ids[9]) && !next.contains(&ids[3]));

    // By type, by time, by id.
    let logins = console.get(&format!("/topic?stream={s}&type={LOGIN_COMPLETED}")).expect(200).body;
    assert!(logins.contains("12 events, newest first, filtered"), "filtered by type");
    let enrollments = console.get(&format!("/topic?stream={s}&type={ENROLLMENT_CREATED}")).expect(200).body;
    assert!(enrollments.contains("1 event, newest first, filtered") && enrollments.contains(&enrollment));
    let until = ids[2].clone();
    let early = console.get(&format!("/topic?stream={s}&until={until}&count=200")).expect(200).body;
    assert!(early.contains(&ids[0]) && !early.contains(&unknown), "until a stream id's millisecond");
    let future = console.get(&format!("/topic?stream={s}&since=2999-01-01")).expect(200).body;
    assert!(future.contains("0 events") && future.contains("No events here."));
    let one = console.get(&format!("/topic?stream={s}&id={}", ids[5])).expect(200).body;
    assert!(one.contains("1 event,") && one.contains(&ids[5]));
    let all: Vec<(String, Fields)> =
        redis::cmd("XRANGE").arg(&stream).arg(&enrollment).arg(&enrollment).query(redis.connection()).unwrap();
    let fields = &all[0].1;
    let event_id = String::from_utf8(fields.iter().find(|(k, _)| k == b"id").unwrap().1.clone()).unwrap();
    let by_event_id = console.get(&format!("/topic?stream={s}&id={event_id}")).expect(200).body;
    assert!(by_event_id.contains("1 event,") && by_event_id.contains(&enrollment), "found by its metadata id");

    // The detail page of the enrollment and of the unknown event.
    let detail = console.get(&format!("/event?stream={s}&id={enrollment}")).expect(200).body;
    for expected in
        ["<h2>Raw fields</h2>", "event_data", "<h2>Avro schema</h2>", "&quot;name&quot;: &quot;CloudEvent&quot;"]
    {
        assert!(detail.contains(expected), "{expected}");
    }
    let raw = console.get(&format!("/event?stream={s}&id={unknown}")).expect(200).body;
    assert!(raw.contains("in this program&#39;s catalog; shown raw"), "{raw}");
    assert!(raw.contains("<span class=\"tag\">hex</span> <code class=\"value\">01</code>"), "{raw}");

    // What is not right is said, with the status that fits.
    assert!(
        console
            .get(&format!("/topic?stream={s}&count=0"))
            .expect(400)
            .body
            .contains("`count` must be a number from 1 to 200")
    );
    assert!(console.get(&format!("/topic?stream={s}&id=nope")).expect(400).body.contains("neither a stream id"));
    assert!(
        console.get(&format!("/topic?stream={s}&before=%2B")).expect(400).body.contains("`before` must be a stream id")
    );
    assert!(console.get(&format!("/event?stream={s}&id=1-1")).expect(404).body.contains("has no entry with id `1-1`"));
    assert!(console.get("/topic").expect(400).body.contains("the `stream` parameter is missing"));
    assert!(console.get("/topic?stream=someone-elses").expect(404).body.contains("not a topic of this console"));
    assert!(console.get(&format!("/topic?bus=kafka&stream={s}")).expect(404).body.contains("no bus `kafka`"));
}

#[test]
fn the_overview_lists_topics_groups_consumers_and_dead_letters() {
    let mut redis = RedisScratch::new("console-overview");
    let stream = redis.stream("logins");
    let ids: Vec<String> =
        (0..4).map(|n| add(&mut redis, &stream, LOGIN_COMPLETED, &login(&format!("o{n}")))).collect();
    add_dead_letter(&mut redis, &stream, &ids[0]);
    // A topic with only dead letters left, and a group with a consumer holding two messages.
    let gone = redis.stream("gone");
    add_dead_letter(&mut redis, &gone, "1-0");
    let _: () =
        redis::cmd("XGROUP").arg("CREATE").arg(&stream).arg("audit").arg("0").query(redis.connection()).unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("audit")
        .arg("audit-1")
        .arg("COUNT")
        .arg(2)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query(redis.connection())
        .unwrap();
    let console = start(&redis, &[], &[]);
    let overview: Value = serde_json::from_str(&console.get("/api/overview").expect(200).body).unwrap();
    let topics = overview["buses"][0]["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 2, "{overview:#}");
    let gone_topic = &topics[0];
    assert_eq!(
        (gone_topic["stream"].as_str(), &gone_topic["exists"], &gone_topic["dead_letters"]),
        (Some(gone.as_str()), &json!(false), &json!(1))
    );
    let logins = &topics[1];
    assert_eq!(logins["length"], 4);
    assert_eq!(logins["newest_id"], ids[3].as_str());
    assert_eq!(logins["dead_letters"], 1);
    let group = &logins["groups"][0];
    assert_eq!(
        (&group["name"], &group["lag"], &group["pending"], &group["entries_read"]),
        (&json!("audit"), &json!(2), &json!(2), &json!(2))
    );
    assert_eq!(group["consumers"][0]["name"], "audit-1");
    assert_eq!(group["consumers"][0]["pending"], 2);
    assert_eq!(group["consumers"][0]["looks_stuck"], false, "idle for less than a minute");
    assert_eq!(overview["changes_allowed"], false);
    let page = console.get("/").expect(200).body;
    assert!(page.contains("data-refresh=\"5\""), "it refreshes itself");
    assert!(page.contains("audit-1: 2 pending, idle"));
    assert!(page.contains("no stream"));
    // Everything the page loads comes from the console itself.
    let headers = console.get("/").headers;
    let policy = headers.iter().find(|(name, _)| name == "content-security-policy").map(|(_, v)| v.clone()).unwrap();
    assert!(policy.starts_with("default-src 'none'; script-src 'self'"), "{policy}");
    for text in [page, console.get("/assets/console.css").body, console.get("/assets/console.js").body] {
        assert!(
            !text.contains("src=\"http") && !text.contains("href=\"http") && !text.contains("url(http"),
            "nothing from elsewhere"
        );
    }
}
