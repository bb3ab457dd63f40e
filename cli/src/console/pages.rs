//! The contents of each page, rendered on the server: the overview, a topic, an event, a topic's
//! dead letters, what a change did, and the event catalog.

use std::fmt::Write as _;

use openedx_events::avro::schema_file_contents;
use openedx_events::{AnySignal, DataDescription, FieldDescription};
use serde_json::Value;

use super::decode::{decode, field_text};
use super::html::{duration, esc, plural, query, time, time_element};
use super::view::{BusView, Change, DeadLetterPage, Entry, EventPage, EventQuery, OutboxSummary, Overview, ViewResult};
use crate::lookup::{all_sorted, subdomain_of};
use crate::render::{plain_doc, record_in};

/// How often the overview refreshes itself, in seconds.
pub(crate) const REFRESH_SECONDS: u32 = 5;

/// The overview of one bus: its topics, then every consumer group.
/// The outbox's section of the overview: rows waiting, parked, and the age of the oldest, in
/// all and per topic. Rows waiting long mean no relay runs, or the bus is down.
pub(crate) fn outbox(describe: &str, status: &ViewResult<OutboxSummary>) -> String {
    let mut out = format!("<section aria-labelledby=\"outbox\">\n<h2 id=\"outbox\">{}</h2>\n", esc(describe));
    let status = match status {
        Ok(status) => status,
        Err(error) => {
            let _ = write!(out, "<p role=\"alert\">{}</p>\n</section>\n", esc(&error.to_string()));
            return out;
        }
    };
    let age = |ms: Option<u64>| ms.map_or_else(|| "none".to_owned(), duration);
    let parked = if status.parked > 0 {
        format!(
            "<strong class=\"flag\">{} parked</strong> (re-drive with <code>openedx-events relay --redrive</code>)",
            status.parked
        )
    } else {
        "none parked".to_owned()
    };
    let _ = writeln!(
        out,
        "<p>{} waiting to be relayed, oldest waiting for {}; {parked}.</p>",
        plural(status.pending, "row"),
        age(status.oldest_pending_ms)
    );
    if !status.topics.is_empty() {
        out.push_str(
            "<table class=\"outbox\">\n<caption>Outbox rows by topic</caption>\n<thead><tr><th scope=\"col\">Topic</th>\
             <th scope=\"col\" class=\"num\">Waiting</th><th scope=\"col\" class=\"num\">Parked</th>\
             <th scope=\"col\">Oldest waiting</th></tr></thead>\n<tbody>\n",
        );
        for topic in &status.topics {
            let _ = writeln!(
                out,
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                esc(&topic.topic),
                topic.pending,
                topic.parked,
                age(topic.oldest_pending_ms)
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
    out
}

pub(crate) fn overview(view: &dyn BusView, overview: &Overview) -> String {
    let mut out = String::new();
    let bus = view.id();
    let _ =
        write!(out, "<section aria-labelledby=\"bus-{bus}\">\n<h2 id=\"bus-{bus}\">{}</h2>\n", esc(&view.describe()));
    if overview.topics.is_empty() {
        out.push_str("<p>No topics (streams) under this prefix yet.</p>\n</section>\n");
        return out;
    }
    let _ = write!(
        out,
        "<table class=\"topics\">\n<caption>{} on this bus</caption>\n<thead><tr>\
         <th scope=\"col\">Topic (stream)</th><th scope=\"col\" class=\"num\">Entries</th>\
         <th scope=\"col\">Newest entry</th><th scope=\"col\" class=\"num\">Consumer groups</th>\
         <th scope=\"col\" class=\"num\">Dead letters</th></tr></thead>\n<tbody>\n",
        plural(overview.topics.len() as u64, "topic")
    );
    for topic in &overview.topics {
        let link = format!("/topic{}", query(&[("bus", bus), ("stream", &topic.stream)]));
        let newest = match &topic.newest {
            Some((_, ms)) => time_element(*ms),
            None if topic.exists => "empty".to_owned(),
            None => "no stream".to_owned(),
        };
        let dead_letters = if topic.dead_letters > 0 {
            format!(
                "<a href=\"/dead-letters{}\"><strong>{}</strong><span class=\"flag\"> needs attention</span></a>",
                esc(&query(&[("bus", bus), ("stream", &topic.stream)])),
                topic.dead_letters
            )
        } else {
            "0".to_owned()
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\"><a href=\"{}\">{}</a></th><td class=\"num\">{}</td><td>{newest}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{dead_letters}</td></tr>",
            esc(&link),
            esc(&topic.stream),
            topic.length,
            topic.groups.len(),
        );
    }
    out.push_str("</tbody>\n</table>\n");

    let stuck_after = view.stuck_after_ms();
    let groups: Vec<_> =
        overview.topics.iter().flat_map(|topic| topic.groups.iter().map(move |group| (topic, group))).collect();
    if groups.is_empty() {
        out.push_str("<p>No consumer groups.</p>\n</section>\n");
        return out;
    }
    // Buses without messages held by one consumer (Kafka) flag nobody.
    let caption = if stuck_after == u64::MAX {
        "Consumer groups. The lag is what a group has not committed yet.".to_owned()
    } else {
        format!(
            "Consumer groups. A consumer is flagged <q>stuck?</q> when it holds pending messages and has been \
             idle for over {}.",
            duration(stuck_after)
        )
    };
    let _ = write!(
        out,
        "<table class=\"groups\">\n<caption>{caption}</caption>\n<thead><tr>\
         <th scope=\"col\">Topic</th><th scope=\"col\">Group</th><th scope=\"col\" class=\"num\">Lag</th>\
         <th scope=\"col\" class=\"num\">Pending</th><th scope=\"col\" class=\"num\">Entries read</th>\
         <th scope=\"col\">Last delivered</th><th scope=\"col\">Consumers (pending, idle)</th></tr></thead>\n<tbody>\n"
    );
    for (topic, group) in groups {
        let number = |value: Option<u64>| value.map_or_else(|| "unknown".to_owned(), |n| n.to_string());
        let mut consumers = String::new();
        if group.consumers.is_empty() {
            consumers.push_str("none");
        } else {
            consumers.push_str("<ul class=\"consumers\">");
            for consumer in &group.consumers {
                if stuck_after == u64::MAX {
                    let _ = write!(consumers, "<li>{}</li>", esc(&consumer.name));
                    continue;
                }
                let flag =
                    if consumer.looks_stuck(stuck_after) { "<strong class=\"flag\">stuck? </strong>" } else { "" };
                let _ = write!(
                    consumers,
                    "<li>{flag}{}: {} pending, idle {}</li>",
                    esc(&consumer.name),
                    consumer.pending,
                    duration(consumer.idle_ms)
                );
            }
            consumers.push_str("</ul>");
        }
        let lag = match group.lag {
            Some(lag) if lag > 0 => format!("<strong>{lag}</strong>"),
            other => number(other),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><th scope=\"row\">{}</th><td class=\"num\">{lag}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td><td>{consumers}</td></tr>",
            esc(&topic.stream),
            esc(&group.name),
            number(group.pending),
            number(group.entries_read),
            esc(&group.last_delivered),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
    out
}

/// The filters of a topic page as they came in, to fill the form and build the paging links.
#[derive(Debug, Clone, Default)]
pub(crate) struct TopicForm {
    /// `type`.
    pub(crate) event_type: String,
    /// `since`, as typed.
    pub(crate) since: String,
    /// `until`, as typed.
    pub(crate) until: String,
    /// `id`, as typed: a stream id or an event id.
    pub(crate) id: String,
    /// `count`.
    pub(crate) count: usize,
}

/// A topic: the filter form, a page of its events newest first, and the link to older ones.
pub(crate) fn topic(
    view: &dyn BusView,
    stream: &str,
    form: &TopicForm,
    event_query: &EventQuery,
    page: &EventPage,
    dead_letters: u64,
) -> String {
    let bus = view.id();
    let mut out = String::new();
    let _ = write!(
        out,
        "<h1>Topic <code>{}</code></h1>\n<p class=\"links\"><a href=\"/\">Overview</a> · \
         <a href=\"/dead-letters{}\">Dead letters ({dead_letters})</a></p>\n",
        esc(stream),
        esc(&query(&[("bus", bus), ("stream", stream)])),
    );
    // The filter form: a GET, so that a filtered page has a URL to share.
    let _ = write!(
        out,
        "<form class=\"filters\" method=\"get\" action=\"/topic\" role=\"search\" aria-label=\"Filter events\">\n\
         <input type=\"hidden\" name=\"bus\" value=\"{bus}\"><input type=\"hidden\" name=\"stream\" value=\"{}\">\n\
         <p><label for=\"f-type\">Event type</label> <input id=\"f-type\" name=\"type\" list=\"event-types\" \
         value=\"{}\" size=\"48\" placeholder=\"any\"></p>\n\
         <p><label for=\"f-since\">From (UTC)</label> <input id=\"f-since\" name=\"since\" value=\"{}\" \
         placeholder=\"2026-12-01 09:00\" aria-describedby=\"time-help\"></p>\n\
         <p><label for=\"f-until\">To (UTC)</label> <input id=\"f-until\" name=\"until\" value=\"{}\" \
         placeholder=\"2026-12-01 10:00\" aria-describedby=\"time-help\"></p>\n\
         <p><label for=\"f-id\">Id</label> <input id=\"f-id\" name=\"id\" value=\"{}\" size=\"38\" \
         aria-describedby=\"id-help\"></p>\n\
         <p><label for=\"f-count\">Per page</label> <select id=\"f-count\" name=\"count\">",
        esc(stream),
        esc(&form.event_type),
        esc(&form.since),
        esc(&form.until),
        esc(&form.id),
    );
    for count in [25, 50, 100, 200] {
        let selected = if count == form.count { " selected" } else { "" };
        let _ = write!(out, "<option{selected}>{count}</option>");
    }
    let _ = write!(
        out,
        "</select></p>\n<p><button type=\"submit\">Filter</button> <a href=\"/topic{}\">Clear filters</a></p>\n\
         <p id=\"time-help\" class=\"help\">Times: <code>YYYY-MM-DD HH:MM[:SS]</code> in UTC, RFC 3339 with an \
         offset, milliseconds since the epoch, or a stream id.</p>\n\
         <p id=\"id-help\" class=\"help\">A stream id (<code>1714566645123-0</code>) shows that entry; an event \
         id (a UUID, from the metadata) searches the newest entries for it.</p>\n</form>\n<datalist id=\"event-types\">",
        esc(&query(&[("bus", bus), ("stream", stream)])),
    );
    for signal in all_sorted() {
        let _ = write!(out, "<option value=\"{}\">", esc(signal.event_type()));
    }
    out.push_str("</datalist>\n");

    let filtered = event_query.filters() || event_query.since_ms.is_some() || event_query.until_ms.is_some();
    let _ = write!(
        out,
        "<table class=\"events\">\n<caption>{}, newest first{}; looked at {}</caption>\n<thead><tr>\
         <th scope=\"col\">Stream id</th><th scope=\"col\">Time</th><th scope=\"col\">Event type</th>\
         <th scope=\"col\">Event id and source</th><th scope=\"col\">Data</th></tr></thead>\n<tbody>\n",
        plural(page.entries.len() as u64, "event"),
        if filtered { ", filtered" } else { "" },
        if page.scanned == 1 { "1 entry".to_owned() } else { format!("{} entries", page.scanned) },
    );
    for entry in &page.entries {
        event_row(bus, stream, entry, &mut out);
    }
    if page.entries.is_empty() {
        out.push_str("<tr><td colspan=\"5\">No events here.</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    if let Some(stopped) = &page.stopped_at {
        let _ = writeln!(
            out,
            "<p class=\"note\" role=\"status\">Stopped after looking at {} entries, back to id <code>{}</code>, \
             without filling the page. <q>Older events</q> goes on from there.</p>",
            page.scanned,
            esc(stopped)
        );
    }
    out.push_str("<nav aria-label=\"Pages\" class=\"paging\"><ul>");
    let count = form.count.to_string();
    let base = [
        ("bus", bus),
        ("stream", stream),
        ("type", form.event_type.as_str()),
        ("since", form.since.as_str()),
        ("until", form.until.as_str()),
        ("id", form.id.as_str()),
        ("count", count.as_str()),
    ];
    if event_query.before.is_some() {
        let _ = write!(out, "<li><a href=\"/topic{}\">Newest events</a></li>", esc(&query(&base)));
    }
    if let Some(older) = &page.older {
        let mut pairs = base.to_vec();
        pairs.push(("before", older));
        let _ = write!(out, "<li><a href=\"/topic{}\" rel=\"next\">Older events</a></li>", esc(&query(&pairs)));
    }
    out.push_str("</ul></nav>\n");
    out
}

/// One row of a topic page.
fn event_row(bus: &str, stream: &str, entry: &Entry, out: &mut String) {
    let decoded = decode(entry);
    let link = format!("/event{}", query(&[("bus", bus), ("stream", stream), ("id", &entry.id)]));
    let when = entry.time_ms.map(time_element).unwrap_or_default();
    let event_type = if decoded.event_type.is_empty() {
        "<em>none</em>".to_owned()
    } else {
        format!("<code>{}</code>", esc(&decoded.event_type))
    };
    let (event_id, source) = match &decoded.metadata {
        Some(metadata) => (json_text(&metadata["id"]), json_text(&metadata["source"])),
        None => (entry.text("id"), entry.text("source")),
    };
    let data = match &decoded.data {
        Ok(data) => format!(
            "<details><summary>{}</summary><pre class=\"json\">{}</pre></details>",
            esc(&summary(data)),
            esc(&pretty(data))
        ),
        Err(reason) => format!(
            "<p><strong class=\"flag\">Raw:</strong> {}</p><details><summary>Fields</summary>{}</details>",
            esc(reason),
            fields_table(entry)
        ),
    };
    let _ = writeln!(
        out,
        "<tr{}><td><a href=\"{}\"><code>{}</code></a></td><td>{when}</td><td>{event_type}</td>\
         <td><code>{}</code><br>{}</td><td>{data}</td></tr>",
        if decoded.is_raw() { " class=\"raw\"" } else { "" },
        esc(&link),
        esc(&entry.id),
        esc(&event_id),
        esc(&source),
    );
}

/// One entry in full: its metadata and data, its raw fields, and the schema of its type.
pub(crate) fn event(view: &dyn BusView, stream: &str, entry: &Entry) -> String {
    let bus = view.id();
    let decoded = decode(entry);
    let topic = stream.strip_suffix("-dead-letter");
    let mut out = String::new();
    let _ = write!(
        out,
        "<h1>Entry <code>{}</code></h1>\n<p class=\"links\"><a href=\"/\">Overview</a> · \
         <a href=\"/topic{}\">Topic <code>{}</code></a>",
        esc(&entry.id),
        esc(&query(&[("bus", bus), ("stream", topic.unwrap_or(stream))])),
        esc(topic.unwrap_or(stream)),
    );
    if let Some(topic) = topic {
        let _ = write!(
            out,
            " · <a href=\"/dead-letters{}\">Dead letters</a>",
            esc(&query(&[("bus", bus), ("stream", topic)]))
        );
    }
    out.push_str("</p>\n<dl class=\"facts\">");
    let _ = write!(out, "<dt>Stream</dt><dd><code>{}</code></dd>", esc(stream));
    if let Some(ms) = entry.time_ms {
        let _ = write!(out, "<dt>Taken by the bus</dt><dd>{}</dd>", time_element(ms));
    }
    let _ = write!(out, "<dt>Event type</dt><dd><code>{}</code>", esc(&decoded.event_type));
    match decoded.signal {
        Some(signal) => {
            let _ = write!(
                out,
                " (<a href=\"/catalog{}#{}\">{} in the catalog</a>)",
                esc(&query(&[("q", signal.event_type())])),
                esc(signal.name()),
                esc(signal.name())
            );
        }
        None => out.push_str(" (not in this program's catalog)"),
    }
    out.push_str("</dd></dl>\n");
    match &decoded.metadata {
        Some(metadata) => {
            let _ = write!(out, "<h2>Metadata</h2>\n<pre class=\"json\">{}</pre>\n", esc(&pretty(metadata)));
        }
        None => out.push_str("<h2>Metadata</h2>\n<p>The headers do not parse; see the raw fields.</p>\n"),
    }
    out.push_str("<h2>Data</h2>\n");
    match &decoded.data {
        Ok(data) => {
            let _ = writeln!(out, "<pre class=\"json\">{}</pre>", esc(&pretty(data)));
        }
        Err(reason) => {
            let _ = writeln!(out, "<p><strong class=\"flag\">Shown raw:</strong> {}</p>", esc(reason));
        }
    }
    let _ = write!(out, "<h2>Raw fields</h2>\n{}\n", fields_table(entry));
    out.push_str("<h2>Avro schema</h2>\n");
    match decoded.signal.map(|signal| schema_file_contents(signal.event_type(), signal.data())) {
        Some(Ok(schema)) => {
            let _ = writeln!(out, "<pre class=\"json\">{}</pre>", esc(&schema));
        }
        Some(Err(reason)) => {
            let _ = writeln!(out, "<p>None: {}</p>", esc(&reason.to_string()));
        }
        None => out.push_str("<p>Unknown: the event type is not in this program's catalog.</p>\n"),
    }
    out
}

/// The fields of an entry as a table: name, size, value as text or hex.
fn fields_table(entry: &Entry) -> String {
    let mut out = String::from(
        "<table class=\"fields\"><thead><tr><th scope=\"col\">Field</th><th scope=\"col\" class=\"num\">Bytes</th>\
         <th scope=\"col\">Value</th></tr></thead><tbody>",
    );
    for (name, value) in &entry.fields {
        let (shown, is_hex) = field_text(value);
        let _ = write!(
            out,
            "<tr><th scope=\"row\"><code>{}</code></th><td class=\"num\">{}</td><td>{}<code class=\"value\">{}</code></td></tr>",
            esc(&String::from_utf8_lossy(name)),
            value.len(),
            if is_hex { "<span class=\"tag\">hex</span> " } else { "" },
            esc(&shown),
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// A topic's dead letters with the form to re-drive or delete some or all of them.
pub(crate) fn dead_letters(view: &dyn BusView, stream: &str, page: &DeadLetterPage, changes_allowed: bool) -> String {
    let bus = view.id();
    let dead_letter_stream = format!("{stream}-dead-letter");
    let mut out = String::new();
    let _ = write!(
        out,
        "<h1>Dead letters of <code>{}</code></h1>\n<p class=\"links\"><a href=\"/\">Overview</a> · \
         <a href=\"/topic{}\">Topic</a></p>\n<p>{} in <code>{}</code>. Each is a message the consumers gave up \
         on, with its original bytes.</p>\n",
        esc(stream),
        esc(&query(&[("bus", bus), ("stream", stream)])),
        plural(page.total, "dead letter"),
        esc(&dead_letter_stream),
    );
    if page.rows.is_empty() && page.total == 0 {
        out.push_str("<p>None.</p>\n");
        return out;
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/dead-letters\" class=\"dead-letters\">\n\
         <input type=\"hidden\" name=\"bus\" value=\"{bus}\"><input type=\"hidden\" name=\"stream\" value=\"{}\">\n\
         <table class=\"dead-letters\">\n<caption>Newest first</caption>\n<thead><tr>\
         <th scope=\"col\"><input type=\"checkbox\" id=\"select-page\" data-select-all=\"id\" \
         aria-label=\"Select every dead letter on this page\"></th>\
         <th scope=\"col\">Dead-lettered</th><th scope=\"col\">Original id</th><th scope=\"col\">Event type</th>\
         <th scope=\"col\">Receiver and error</th><th scope=\"col\" class=\"num\">Attempts</th>\
         <th scope=\"col\">Group / consumer</th></tr></thead>\n<tbody>\n",
        esc(stream),
    );
    for row in &page.rows {
        let failures = receiver_failures(&row.error);
        let error = if failures.is_empty() {
            esc(&row.error)
        } else {
            let mut list = String::from("<ul class=\"failures\">");
            for (receiver, error) in failures {
                let _ = write!(list, "<li><code>{}</code>: {}</li>", esc(&receiver), esc(&error));
            }
            list.push_str("</ul>");
            list
        };
        let detail = format!("/event{}", query(&[("bus", bus), ("stream", &dead_letter_stream), ("id", &row.id)]));
        let original = format!("/event{}", query(&[("bus", bus), ("stream", stream), ("id", &row.original_id)]));
        let _ = writeln!(
            out,
            "<tr><td><input type=\"checkbox\" name=\"id\" value=\"{id}\" id=\"dl-{id}\" \
             aria-label=\"Select dead letter {id}\"></td>\
             <td><a href=\"{}\">{}</a><br><code>{id}</code></td><td><a href=\"{}\"><code>{}</code></a></td>\
             <td><code>{}</code></td><td>{error}</td><td class=\"num\">{}</td><td>{} / {}</td></tr>",
            esc(&detail),
            row.time_ms.map(time).unwrap_or_default(),
            esc(&original),
            esc(&row.original_id),
            esc(&row.event_type),
            row.attempts,
            esc(&row.group),
            esc(&row.consumer),
            id = esc(&row.id),
        );
    }
    out.push_str("</tbody>\n</table>\n");
    let _ = write!(
        out,
        "<fieldset class=\"actions\">\n<legend>Re-drive or delete</legend>\n\
         <p><input type=\"checkbox\" name=\"all\" value=\"yes\" id=\"all\"> <label for=\"all\">All {} of this \
         topic, not only those selected</label></p>\n",
        plural(page.total, "dead letter"),
    );
    if changes_allowed {
        out.push_str(
            "<p><label for=\"token\">Token</label> <input type=\"password\" id=\"token\" name=\"token\" \
             autocomplete=\"off\" aria-describedby=\"token-help\" size=\"40\"></p>\n\
             <p id=\"token-help\" class=\"help\">The token the console printed when it started. A dry run needs \
             none.</p>\n\
             <p><input type=\"checkbox\" name=\"confirm\" value=\"delete\" id=\"confirm\"> <label for=\"confirm\">\
             I mean to delete them: a deleted dead letter is gone for good</label></p>\n",
        );
    } else {
        out.push_str(
            "<p class=\"note\">Read-only: this console was started without <code>--allow-changes</code>. A dry \
             run still says what would happen.</p>\n",
        );
    }
    out.push_str("<p class=\"buttons\"><button type=\"submit\" name=\"action\" value=\"redrive-dry-run\">Dry run: re-drive</button> ");
    if changes_allowed {
        out.push_str(
            "<button type=\"submit\" name=\"action\" value=\"redrive\">Re-drive to the topic</button> \
             <button type=\"submit\" name=\"action\" value=\"delete-dry-run\">Dry run: delete</button> \
             <button type=\"submit\" name=\"action\" value=\"delete\" class=\"danger\" data-confirm=\"delete\">Delete</button>",
        );
    } else {
        out.push_str("<button type=\"submit\" name=\"action\" value=\"delete-dry-run\">Dry run: delete</button>");
    }
    out.push_str("</p>\n</fieldset>\n</form>\n");
    if let Some(older) = &page.older {
        let _ = writeln!(
            out,
            "<nav aria-label=\"Pages\" class=\"paging\"><ul><li><a href=\"/dead-letters{}\" rel=\"next\">Older dead \
             letters</a></li></ul></nav>",
            esc(&query(&[("bus", bus), ("stream", stream), ("before", older)]))
        );
    }
    out
}

/// What a change (or its dry run) did, dead letter by dead letter.
pub(crate) fn change_result(
    view: &dyn BusView,
    stream: &str,
    action: &str,
    dry_run: bool,
    results: &[(String, Change)],
) -> String {
    let bus = view.id();
    let verb = if action == "delete" { "delete" } else { "re-drive" };
    let done = results.iter().filter(|(_, change)| !matches!(change, Change::Missing)).count() as u64;
    let mut out = String::new();
    let heading = if dry_run {
        format!("Dry run: {verb} would touch {}", plural(done, "dead letter"))
    } else if action == "delete" {
        format!("Deleted {}", plural(done, "dead letter"))
    } else {
        format!("Re-drove {} to <code>{}</code>", plural(done, "dead letter"), esc(stream))
    };
    let _ = write!(
        out,
        "<h1 role=\"status\">{heading}</h1>\n<p class=\"links\"><a href=\"/dead-letters{q}\">Dead letters</a> · \
         <a href=\"/topic{q}\">Topic</a> · <a href=\"/\">Overview</a></p>\n",
        q = esc(&query(&[("bus", bus), ("stream", stream)])),
    );
    if dry_run {
        out.push_str("<p>Nothing was changed.</p>\n");
    }
    out.push_str(
        "<table class=\"results\"><thead><tr><th scope=\"col\">Dead letter</th><th scope=\"col\">Outcome</th></tr>\
         </thead><tbody>\n",
    );
    for (id, change) in results {
        let outcome = match change {
            Change::Would(row) if action == "delete" => format!(
                "would be deleted (<code>{}</code>, original id <code>{}</code>)",
                esc(&row.event_type),
                esc(&row.original_id)
            ),
            Change::Would(row) => format!(
                "would move to <code>{}</code> with its original bytes (<code>{}</code>, original id <code>{}</code>)",
                esc(stream),
                esc(&row.event_type),
                esc(&row.original_id)
            ),
            Change::Moved(new_id) => format!(
                "moved to <code>{}</code>, new id <a href=\"/event{}\"><code>{}</code></a>",
                esc(stream),
                esc(&query(&[("bus", bus), ("stream", stream), ("id", new_id)])),
                esc(new_id)
            ),
            Change::Deleted => "deleted".to_owned(),
            Change::Missing => "<strong>not found</strong>: no dead letter with this id (any more)".to_owned(),
        };
        let _ = writeln!(out, "<tr><th scope=\"row\"><code>{}</code></th><td>{outcome}</td></tr>", esc(id));
    }
    out.push_str("</tbody></table>\n");
    out
}

/// The event catalog: every event with its facts, documentation, data tree and Avro schema;
/// `search` keeps those whose type, name or documentation contain it (case ignored).
pub(crate) fn catalog(search: &str) -> String {
    let needle = search.trim().to_lowercase();
    let signals: Vec<&'static dyn AnySignal> = all_sorted();
    let shown: Vec<_> =
        signals.iter().copied().filter(|signal| needle.is_empty() || search_text(*signal).contains(&needle)).collect();
    let mut out = String::new();
    let _ = write!(
        out,
        "<h1>Event catalog</h1>\n<form method=\"get\" action=\"/catalog\" role=\"search\" class=\"filters\">\
         <p><label for=\"catalog-search\">Search</label> <input type=\"search\" id=\"catalog-search\" name=\"q\" \
         value=\"{}\" size=\"40\" data-filter=\"article.event\" aria-describedby=\"catalog-count\"> \
         <button type=\"submit\">Search</button></p></form>\n\
         <p id=\"catalog-count\" role=\"status\">{} of {}.</p>\n",
        esc(search),
        plural(shown.len() as u64, "event"),
        signals.len(),
    );
    for signal in shown {
        catalog_entry(signal, &mut out);
    }
    out
}

/// What the catalog search looks in, lower case.
fn search_text(signal: &dyn AnySignal) -> String {
    format!("{} {} {} {}", signal.event_type(), signal.name(), signal.data().name, signal.data().doc).to_lowercase()
}

fn catalog_entry(signal: &'static dyn AnySignal, out: &mut String) {
    let data = signal.data();
    let major = signal.event_type().rsplit('.').next().unwrap_or("");
    let _ = write!(
        out,
        "<article class=\"event\" id=\"{name}\" data-search=\"{}\">\n<h2>{name}</h2>\n<dl class=\"facts\">\
         <dt>Event type</dt><dd><code>{}</code></dd><dt>Subdomain</dt><dd>{}</dd>\
         <dt>Versions</dt><dd>major {}, minor {}</dd><dt>Key field</dt><dd>{}</dd>\
         <dt>Signal</dt><dd><code>{}</code></dd><dt>Payload</dt><dd><code>{}</code>{}</dd></dl>\n",
        esc(&search_text(signal)),
        esc(signal.event_type()),
        esc(subdomain_of(signal)),
        esc(major.trim_start_matches('v')),
        signal.minor_version(),
        signal.event_key_field().map_or_else(|| "none".to_owned(), |key| format!("<code>{}</code>", esc(key))),
        esc(signal.definition()),
        esc(data.name),
        if data.is_serializable() { "" } else { " (cannot go over the event bus)" },
        name = esc(signal.name()),
    );
    for paragraph in plain_doc(data.doc.trim()).split("\n\n").filter(|p| !p.trim().is_empty()) {
        let _ = writeln!(out, "<p>{}</p>", esc(paragraph.trim()));
    }
    out.push_str("<details><summary>Data</summary>");
    data_tree(data, &mut Vec::new(), out);
    out.push_str("</details>\n<details><summary>Avro schema</summary>");
    match schema_file_contents(signal.event_type(), data) {
        Ok(schema) => {
            let _ = write!(out, "<pre class=\"json\">{}</pre>", esc(&schema));
        }
        Err(reason) => {
            let _ = write!(out, "<p>None: {}</p>", esc(&reason.to_string()));
        }
    }
    out.push_str("</details>\n</article>\n");
}

/// The fields of a data type as nested lists, each record-typed field followed by the record's
/// own fields (`open` stops a type that contains itself).
fn data_tree(data: &'static DataDescription, open: &mut Vec<&'static DataDescription>, out: &mut String) {
    if data.fields.is_empty() {
        out.push_str("<p>No fields.</p>");
        return;
    }
    open.push(data);
    out.push_str("<ul class=\"tree\">");
    for field in data.fields {
        field_item(field, open, out);
    }
    out.push_str("</ul>");
    open.pop();
}

fn field_item(field: &'static FieldDescription, open: &mut Vec<&'static DataDescription>, out: &mut String) {
    let _ = write!(
        out,
        "<li><code>{}</code>: <code>{}</code>",
        esc(field.name),
        esc(&field.ty.without_optional().to_string())
    );
    if field.is_optional() {
        out.push_str(", optional");
    }
    if !field.ty.is_serializable() {
        out.push_str(", no wire form");
    }
    let doc = plain_doc(field.doc).split_whitespace().collect::<Vec<_>>().join(" ");
    if !doc.is_empty() {
        let _ = write!(out, " — {}", esc(&doc));
    }
    if let Some(record) = record_in(field.ty) {
        if open.iter().any(|known| std::ptr::eq(*known, record)) {
            let _ = write!(out, " (the fields of <code>{}</code>, as above)", esc(record.name));
        } else {
            data_tree(record, open, out);
        }
    }
    out.push_str("</li>");
}

/// An error page's content.
pub(crate) fn error(status: u16, message: &str) -> String {
    format!(
        "<h1>{}</h1>\n<p role=\"alert\">{}</p>\n<p><a href=\"/\">Overview</a></p>\n",
        status_text(status),
        esc(message)
    )
}

/// The reason phrase of the statuses the console answers with.
pub(crate) fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad request",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        413 => "Request too large",
        421 => "Misdirected request",
        502 => "The bus did not answer",
        _ => "Error",
    }
}

/// The receivers that failed and their errors, from a dead letter's error as `deliver` writes it
/// (`2 of 3 receivers failed: a: boom; b: bust`); empty when it is written otherwise.
pub(crate) fn receiver_failures(error: &str) -> Vec<(String, String)> {
    let Some((head, list)) = error.split_once(" receivers failed: ") else { return Vec::new() };
    if !head.split(" of ").all(|n| n.trim().parse::<u64>().is_ok()) {
        return Vec::new();
    }
    list.split("; ")
        .map(|failure| match failure.split_once(": ") {
            Some((receiver, error)) => (receiver.to_owned(), error.to_owned()),
            None => (String::new(), failure.to_owned()),
        })
        .collect()
}

/// The JSON as indented text.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A string value as text, anything else as JSON.
fn json_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The data on one line, cut to a readable length.
fn summary(data: &Value) -> String {
    const MAX: usize = 90;
    let text = data.to_string();
    if text.chars().count() <= MAX {
        return text;
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_are_read_from_deliverys_errors() {
        assert_eq!(
            receiver_failures("2 of 3 receivers failed: crm::sync: receiver returned an error: down; b: bust"),
            [("crm::sync", "receiver returned an error: down"), ("b", "bust")]
                .map(|(r, e)| (r.to_owned(), e.to_owned()))
        );
        assert!(receiver_failures("unusable message: invalid Avro data").is_empty());
        assert!(receiver_failures("many receivers failed: x").is_empty());
    }

    #[test]
    fn the_catalog_searches_types_names_and_docs() {
        let all = catalog("");
        let enrollment = catalog("ENROLLMENT_CREATED");
        assert!(all.matches("<article").count() > enrollment.matches("<article").count());
        assert!(enrollment.contains("org.openedx.learning.course.enrollment.created.v1"));
        assert!(catalog("no such event anywhere").contains("0 events of"));
    }
}
