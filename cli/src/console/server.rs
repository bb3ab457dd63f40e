//! Answering requests: routing, the parameters of each page, and the guards on changes (read-only
//! mode, the token, cross-site checks), with an audit line for every change tried. Independent of
//! the HTTP server crate: [`Console::respond`] takes a plain [`HttpRequest`].

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::html::{self, Frame, Section, decode_form, esc};
use super::pages::{self, TopicForm};
use super::redis_view::id_time;
use super::view::{BusView, Change, EventPage, EventQuery, OutboxSource, ViewError};

/// The stylesheet and the script, shipped inside the binary.
const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");
/// Every page forbids what it does not use: no inline script, nothing from elsewhere, no frames.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Events per topic page unless asked otherwise, and at most.
const DEFAULT_COUNT: usize = 50;
const MAX_COUNT: usize = 200;
/// Dead letters per page.
const DEAD_LETTERS_PER_PAGE: usize = 100;
/// The most dead letters one change of "all" touches.
pub(crate) const MAX_CHANGE: usize = 10_000;

/// One request, as the server read it.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpRequest {
    /// `GET`, `POST`, …
    pub(crate) method: String,
    /// The path and the query string.
    pub(crate) url: String,
    /// The headers, names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    /// The body.
    pub(crate) body: Vec<u8>,
    /// Who sent it: the peer's address.
    pub(crate) remote: String,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The `Content-Type`.
    pub(crate) content_type: &'static str,
    /// The body.
    pub(crate) body: Vec<u8>,
}

impl Reply {
    fn html(status: u16, body: String) -> Reply {
        Reply { status, content_type: "text/html; charset=utf-8", body: body.into_bytes() }
    }

    /// The headers every answer carries besides its type.
    pub(crate) fn security_headers() -> [(&'static str, &'static str); 7] {
        [
            ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cross-Origin-Resource-Policy", "same-origin"),
            ("Cache-Control", "no-store"),
        ]
    }
}

/// What allows changes: the token, and a name for it in audit lines.
pub(crate) struct Token {
    /// The secret: compared, never shown.
    pub(crate) secret: String,
    /// Names the token in audit lines without giving it away.
    pub(crate) id: String,
}

/// The console: its buses, whether and how it allows changes, and which `Host` it answers to.
pub(crate) struct Console {
    /// The buses shown; the first is the default of every page.
    pub(crate) views: Vec<Box<dyn BusView>>,
    /// The outbox whose depth the overview shows, when a database was given.
    pub(crate) outbox: Option<Box<dyn OutboxSource>>,
    /// `None`: read-only.
    pub(crate) token: Option<Token>,
    /// When bound to loopback, the `Host` values it answers to (against DNS rebinding); empty
    /// when bound elsewhere.
    pub(crate) hosts: Vec<String>,
}

/// A page that could not be made: its status and message.
struct Refusal(u16, String);

impl From<ViewError> for Refusal {
    fn from(error: ViewError) -> Self {
        Refusal(502, error.to_string())
    }
}

type Params = Vec<(String, String)>;

fn param<'a>(params: &'a Params, name: &str) -> &'a str {
    params.iter().find(|(key, _)| key == name).map_or("", |(_, value)| value.trim())
}

impl Console {
    fn frame(&self) -> (Vec<String>, bool) {
        (self.views.iter().map(|view| view.describe()).collect(), self.token.is_some())
    }

    fn page(&self, status: u16, section: Section, title: &str, body: &str) -> Reply {
        let (buses, changes_allowed) = self.frame();
        Reply::html(status, html::page(&Frame { buses: &buses, changes_allowed }, section, title, body))
    }

    /// Answers one request.
    pub(crate) fn respond(&self, request: &HttpRequest) -> Reply {
        if !self.hosts.is_empty() && !request.header("host").is_some_and(|host| self.hosts.iter().any(|h| h == host)) {
            let message = "This console answers only to its loopback address (the Host header names another).";
            return self.page(421, Section::Topics, "Misdirected request", &pages::error(421, message));
        }
        let (path, query) = request.url.split_once('?').unwrap_or((&request.url, ""));
        let params = decode_form(query);
        let result = match (request.method.as_str(), path) {
            ("GET" | "HEAD", "/assets/console.css") => {
                return Reply { status: 200, content_type: "text/css; charset=utf-8", body: CSS.as_bytes().to_vec() };
            }
            ("GET" | "HEAD", "/assets/console.js") => {
                return Reply {
                    status: 200,
                    content_type: "text/javascript; charset=utf-8",
                    body: JS.as_bytes().to_vec(),
                };
            }
            ("GET" | "HEAD", "/") => self.overview(),
            ("GET" | "HEAD", "/api/overview") => self.overview_json(),
            ("GET" | "HEAD", "/topic") => self.topic(&params),
            ("GET" | "HEAD", "/event") => self.event(&params),
            ("GET" | "HEAD", "/dead-letters") => self.dead_letters(&params),
            ("GET" | "HEAD", "/catalog") => {
                Ok(self.page(200, Section::Catalog, "Event catalog", &pages::catalog(param(&params, "q"))))
            }
            ("POST", "/dead-letters") => self.change(request),
            (_, "/" | "/api/overview" | "/topic" | "/event" | "/dead-letters" | "/catalog") => {
                Err(Refusal(405, format!("{} is not allowed here", request.method)))
            }
            _ => Err(Refusal(404, format!("there is no page `{path}`"))),
        };
        match result {
            Ok(reply) => reply,
            Err(Refusal(status, message)) if path.starts_with("/api/") => Reply {
                status,
                content_type: "application/json",
                body: json!({"error": message}).to_string().into_bytes(),
            },
            Err(Refusal(status, message)) => {
                self.page(status, Section::Topics, pages::status_text(status), &pages::error(status, &message))
            }
        }
    }

    /// The view a request names (`bus`, the first by default) and the stream it names, which
    /// must be one of that view's.
    fn target<'a>(&'a self, params: &Params) -> Result<(&'a dyn BusView, String), Refusal> {
        let bus = param(params, "bus");
        let view = match bus {
            "" => self.views.first(),
            id => self.views.iter().find(|view| view.id() == id),
        }
        .ok_or_else(|| Refusal(404, format!("no bus `{bus}` in this console")))?;
        let stream = param(params, "stream");
        if stream.is_empty() {
            return Err(Refusal(400, "which topic? the `stream` parameter is missing".to_owned()));
        }
        if !view.owns(stream) {
            return Err(Refusal(404, format!("`{stream}` is not a topic of this console (see the overview)")));
        }
        Ok((view.as_ref(), stream.to_owned()))
    }

    fn overview(&self) -> Result<Reply, Refusal> {
        let mut body = format!(
            "<h1>Overview</h1>\n<p class=\"refresh\" data-refresh=\"{}\"><span role=\"status\" id=\"refreshed\">\
             As of {}.</span> <button type=\"button\" id=\"pause\" aria-pressed=\"false\" hidden>Pause updates</button>\
             </p>\n<div id=\"overview\">\n",
            pages::REFRESH_SECONDS,
            html::time(Utc::now().timestamp_millis())
        );
        for view in &self.views {
            match view.overview() {
                Ok(overview) => body.push_str(&pages::overview(view.as_ref(), &overview)),
                Err(error) => {
                    let _ = write!(
                        body,
                        "<section><h2>{}</h2><p role=\"alert\">{}</p></section>",
                        esc(&view.describe()),
                        esc(&error.to_string())
                    );
                }
            }
        }
        if let Some(outbox) = &self.outbox {
            body.push_str(&pages::outbox(&outbox.describe(), &outbox.status()));
        }
        body.push_str("</div>\n");
        Ok(self.page(200, Section::Topics, "Overview", &body))
    }

    fn overview_json(&self) -> Result<Reply, Refusal> {
        let mut buses = Vec::new();
        for view in &self.views {
            let overview = view.overview()?;
            let stuck_after = view.stuck_after_ms();
            let topics: Vec<Value> = overview
                .topics
                .iter()
                .map(|topic| {
                    json!({
                        "stream": topic.stream,
                        "exists": topic.exists,
                        "length": topic.length,
                        "newest_id": topic.newest.as_ref().map(|(id, _)| id),
                        "newest_time": topic.newest.as_ref().map(|(_, ms)| html::time(*ms)),
                        "dead_letters": topic.dead_letters,
                        "groups": topic.groups.iter().map(|group| json!({
                            "name": group.name,
                            "lag": group.lag,
                            "pending": group.pending,
                            "entries_read": group.entries_read,
                            "last_delivered": group.last_delivered,
                            "consumers": group.consumers.iter().map(|consumer| json!({
                                "name": consumer.name,
                                "pending": consumer.pending,
                                "idle_ms": consumer.idle_ms,
                                "looks_stuck": consumer.looks_stuck(stuck_after),
                            })).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            buses.push(json!({"bus": view.id(), "describe": view.describe(), "topics": topics}));
        }
        let outbox = self.outbox.as_ref().map(|outbox| match outbox.status() {
            Ok(status) => json!({
                "describe": outbox.describe(),
                "pending": status.pending,
                "parked": status.parked,
                "oldest_pending_ms": status.oldest_pending_ms,
                "topics": status.topics.iter().map(|topic| json!({
                    "topic": topic.topic,
                    "pending": topic.pending,
                    "parked": topic.parked,
                    "oldest_pending_ms": topic.oldest_pending_ms,
                })).collect::<Vec<_>>(),
            }),
            Err(error) => json!({"describe": outbox.describe(), "error": error.to_string()}),
        });
        let body = json!({"buses": buses, "outbox": outbox, "changes_allowed": self.token.is_some()});
        Ok(Reply { status: 200, content_type: "application/json", body: body.to_string().into_bytes() })
    }

    fn topic(&self, params: &Params) -> Result<Reply, Refusal> {
        let (view, stream) = self.target(params)?;
        let count = match param(params, "count") {
            "" => DEFAULT_COUNT,
            count => count.parse::<usize>().ok().filter(|count| (1..=MAX_COUNT).contains(count)).ok_or_else(|| {
                Refusal(400, format!("`count` must be a number from 1 to {MAX_COUNT}, not `{count}`"))
            })?,
        };
        let form = TopicForm {
            event_type: param(params, "type").to_owned(),
            since: param(params, "since").to_owned(),
            until: param(params, "until").to_owned(),
            id: param(params, "id").to_owned(),
            count,
        };
        let before = match param(params, "before") {
            "" => None,
            id => Some(stream_id(view, id, "before")?),
        };
        let mut query = EventQuery {
            event_type: Some(form.event_type.clone()).filter(|t| !t.is_empty()),
            since_ms: parse_time(&form.since, "From", false)?,
            until_ms: parse_time(&form.until, "To", true)?,
            event_id: None,
            before,
            count,
        };
        let page = if form.id.is_empty() {
            view.events(&stream, &query)?
        } else if view.is_id(&form.id) {
            let entry = view.entry(&stream, &form.id)?;
            EventPage {
                scanned: usize::from(entry.is_some()),
                entries: entry.into_iter().collect(),
                ..EventPage::default()
            }
        } else if uuid::Uuid::parse_str(&form.id).is_ok() {
            query.event_id = Some(form.id.to_lowercase());
            view.events(&stream, &query)?
        } else {
            return Err(Refusal(
                400,
                format!(
                    "`{}` is neither {} (`{}`) nor an event id (a UUID)",
                    form.id,
                    view.id_kind(),
                    view.id_example()
                ),
            ));
        };
        let dead_letters = view.dead_letters(&stream, None, 1)?.total;
        let body = pages::topic(view, &stream, &form, &query, &page, dead_letters);
        Ok(self.page(200, Section::Topics, &format!("Topic {stream}"), &body))
    }

    fn event(&self, params: &Params) -> Result<Reply, Refusal> {
        let (view, stream) = self.target(params)?;
        let id = stream_id(view, param(params, "id"), "id")?;
        let entry =
            view.entry(&stream, &id)?.ok_or_else(|| Refusal(404, format!("`{stream}` has no entry with id `{id}`")))?;
        Ok(self.page(200, Section::Topics, &format!("Entry {id}"), &pages::event(view, &stream, &entry)))
    }

    fn dead_letters(&self, params: &Params) -> Result<Reply, Refusal> {
        let (view, stream) = self.target(params)?;
        let before = match param(params, "before") {
            "" => None,
            id => Some(stream_id(view, id, "before")?),
        };
        let page = view.dead_letters(&stream, before.as_deref(), DEAD_LETTERS_PER_PAGE)?;
        let body = pages::dead_letters(view, &stream, &page, self.token.is_some());
        Ok(self.page(200, Section::Topics, &format!("Dead letters of {stream}"), &body))
    }

    /// A re-drive or a delete (or its dry run), from the dead-letter page's form.
    fn change(&self, request: &HttpRequest) -> Result<Reply, Refusal> {
        let who = request.remote.as_str();
        self.same_origin(request).inspect_err(|Refusal(_, why)| audit(who, "-", "refused", "-", 0, why))?;
        let is_form = request.header("content-type").is_some_and(|kind| {
            kind.split(';').next().is_some_and(|kind| kind.trim() == "application/x-www-form-urlencoded")
        });
        if !is_form {
            return Err(Refusal(400, "a change is a form post (application/x-www-form-urlencoded)".to_owned()));
        }
        let form = decode_form(&String::from_utf8_lossy(&request.body));
        let (view, stream) = self.target(&form)?;
        let (action, dry_run) = match param(&form, "action") {
            "redrive" => ("redrive", false),
            "redrive-dry-run" => ("redrive", true),
            "delete" => ("delete", false),
            "delete-dry-run" => ("delete", true),
            other => return Err(Refusal(400, format!("unknown action `{other}`"))),
        };
        let token_id = if dry_run {
            "-".to_owned()
        } else {
            match self.check_token(param(&form, "token")) {
                Ok(id) => id,
                Err(Refusal(status, why)) => {
                    audit(who, "-", action, &stream, 0, &format!("refused: {why}"));
                    return Err(Refusal(status, why));
                }
            }
        };
        if action == "delete" && !dry_run && param(&form, "confirm") != "delete" {
            return Err(Refusal(
                400,
                "deleting needs its confirmation ticked: a deleted dead letter is gone for good".to_owned(),
            ));
        }
        let ids: Vec<String> = if param(&form, "all") == "yes" {
            view.dead_letter_ids(&stream, MAX_CHANGE)?
        } else {
            let mut ids = Vec::new();
            for (name, value) in &form {
                if name == "id" {
                    ids.push(stream_id(view, value.trim(), "id")?);
                }
            }
            ids
        };
        if ids.is_empty() && param(&form, "all") != "yes" {
            return Err(Refusal(400, "select at least one dead letter, or tick “All”".to_owned()));
        }
        if ids.len() > MAX_CHANGE {
            return Err(Refusal(400, format!("at most {MAX_CHANGE} dead letters at once")));
        }
        let results = match action {
            "delete" => view.delete(&stream, &ids, dry_run),
            _ => view.redrive(&stream, &ids, dry_run),
        };
        let results = match results {
            Ok(results) => results,
            Err(error) => {
                if !dry_run {
                    audit(who, &token_id, action, &stream, ids.len(), &format!("failed: {error}"));
                }
                return Err(error.into());
            }
        };
        if !dry_run {
            let done = results.iter().filter(|(_, change)| !matches!(change, Change::Missing)).count();
            let mut outcome = format!("{done} of {} done", results.len());
            let listed: Vec<String> = results
                .iter()
                .take(20)
                .map(|(id, change)| match change {
                    Change::Moved(new_id) => format!("{id}->{new_id}"),
                    Change::Deleted => format!("{id} deleted"),
                    Change::Missing | Change::Would(_) => format!("{id} missing"),
                })
                .collect();
            let _ = write!(outcome, " [{}{}]", listed.join(", "), if results.len() > 20 { ", …" } else { "" });
            audit(who, &token_id, action, &stream, ids.len(), &outcome);
        }
        let title = if dry_run {
            "Dry run"
        } else if action == "delete" {
            "Deleted"
        } else {
            "Re-driven"
        };
        let body = pages::change_result(view, &stream, action, dry_run, &results);
        Ok(self.page(200, Section::Topics, title, &body))
    }

    /// Refuses a change that a page of another site sent: the browser's `Origin` must be this
    /// console's, and `Sec-Fetch-Site`, when sent, `same-origin` (or `none`, typed by the user).
    fn same_origin(&self, request: &HttpRequest) -> Result<(), Refusal> {
        let refuse = |why: String| Err(Refusal(403, format!("cross-site request refused: {why}")));
        if let Some(site) = request.header("sec-fetch-site")
            && !matches!(site, "same-origin" | "none")
        {
            return refuse(format!("Sec-Fetch-Site is `{site}`"));
        }
        if let Some(origin) = request.header("origin") {
            let host = request.header("host").unwrap_or("");
            // `https://` too: a console served beyond loopback sits behind a TLS proxy.
            if origin != format!("http://{host}") && origin != format!("https://{host}") {
                return refuse(format!("Origin `{origin}` is not this console's"));
            }
        }
        Ok(())
    }

    /// The token's id when `given` is the token; a refusal when changes are not allowed or the
    /// token is missing or wrong.
    fn check_token(&self, given: &str) -> Result<String, Refusal> {
        let Some(token) = &self.token else {
            return Err(Refusal(403, "read-only: this console was started without --allow-changes".to_owned()));
        };
        if given.is_empty() {
            return Err(Refusal(403, "a change needs the token the console printed when it started".to_owned()));
        }
        if !constant_time_eq(given.as_bytes(), token.secret.as_bytes()) {
            return Err(Refusal(403, "wrong token".to_owned()));
        }
        Ok(token.id.clone())
    }
}

/// Writes an audit line on stderr: when, who (the peer and the token's id), what, and how it went.
fn audit(who: &str, token_id: &str, action: &str, stream: &str, count: usize, outcome: &str) {
    eprintln!(
        "audit: {} who={who} token={token_id} action={action} stream={stream} dead_letters={count}: {outcome}",
        Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
}

/// Compares in time that depends on the length only, not on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Whether `id` is a stream id: `MS` or `MS-SEQ`, digits only.
pub(crate) fn is_stream_id(id: &str) -> bool {
    let mut parts = id.splitn(2, '-');
    let digits = |part: &str| !part.is_empty() && part.len() <= 20 && part.bytes().all(|b| b.is_ascii_digit());
    parts.next().is_some_and(digits) && parts.next().is_none_or(digits)
}

/// An entry id (or a page's cursor) of the bus, checked before it reaches the bus.
fn stream_id(view: &dyn BusView, id: &str, name: &str) -> Result<String, Refusal> {
    if view.is_id(id) {
        Ok(id.to_owned())
    } else {
        Err(Refusal(400, format!("`{name}` must be {} such as `{}`, not `{id}`", view.id_kind(), view.id_example())))
    }
}

/// A time typed in a filter, in milliseconds: `YYYY-MM-DD[ HH:MM[:SS[.fff]]]` in UTC, RFC 3339,
/// milliseconds, or a stream id. A time without seconds or a date alone covers its whole minute
/// or day when it ends a range (`end`).
fn parse_time(text: &str, label: &str, end: bool) -> Result<Option<i64>, Refusal> {
    if text.is_empty() {
        return Ok(None);
    }
    if is_stream_id(text) {
        return id_time(text).map(Some).ok_or_else(|| Refusal(400, format!("{label}: `{text}` is too large")));
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(time.timestamp_millis()));
    }
    let normal = text.replacen('T', " ", 1);
    for (format, span_ms) in [("%Y-%m-%d %H:%M:%S%.f", 0), ("%Y-%m-%d %H:%M:%S", 999), ("%Y-%m-%d %H:%M", 59_999)] {
        if let Ok(time) = NaiveDateTime::parse_from_str(&normal, format) {
            let ms = time.and_utc().timestamp_millis();
            return Ok(Some(if end { ms + span_ms } else { ms }));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(midnight) = date.and_hms_opt(0, 0, 0)
    {
        let ms = midnight.and_utc().timestamp_millis();
        return Ok(Some(if end { ms + 86_399_999 } else { ms }));
    }
    Err(Refusal(
        400,
        format!(
            "{label}: `{text}` is not a time; write `2026-12-01 09:30` (UTC), RFC 3339, milliseconds or a stream id"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_are_digits_with_an_optional_sequence() {
        for good in ["0", "1-0", "1714566645123-12"] {
            assert!(is_stream_id(good), "{good}");
        }
        for bad in ["", "-", "+", "1-", "-1", "1-2-3", "a-1", "(1-0", "123456789012345678901"] {
            assert!(!is_stream_id(bad), "{bad}");
        }
    }

    #[test]
    fn filter_times_read_utc_rfc3339_milliseconds_and_ids() {
        let ms = |text: &str, end: bool| parse_time(text, "From", end).ok().flatten();
        assert_eq!(ms("2023-11-14 22:13:20", false), Some(1_700_000_000_000));
        assert_eq!(ms("2023-11-14T22:13:20.5", false), Some(1_700_000_000_500));
        assert_eq!(ms("2023-11-14 22:13", true), Some(1_699_999_980_000 + 59_999));
        assert_eq!(ms("2023-11-14T23:13:20+01:00", false), Some(1_700_000_000_000));
        assert_eq!(ms("1700000000000", false), Some(1_700_000_000_000));
        assert_eq!(ms("1700000000000-3", false), Some(1_700_000_000_000));
        assert_eq!(ms("2023-11-14", true), Some(1_699_920_000_000 + 86_399_999));
        assert_eq!(ms("", false), None);
        let Err(Refusal(400, message)) = parse_time("yesterday", "From", false) else { panic!("accepted") };
        assert!(message.starts_with("From: `yesterday` is not a time"), "{message}");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
