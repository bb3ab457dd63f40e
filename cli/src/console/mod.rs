//! `openedx-events console`: a web page, served by this binary, that shows the event bus (topics,
//! consumer groups, events decoded through the catalog, dead letters) and re-drives or deletes
//! dead letters when allowed.
//!
//! - [`view`]: what the pages show, whatever the bus, and the [`view::BusView`] trait a bus
//!   implements; [`redis_view`] implements it for Redis Streams.
//! - [`server`]: routing and the guards on changes; [`pages`] and [`html`]: the pages, rendered on
//!   the server; [`decode`]: entries read through the catalog.
//!
//! The page's stylesheet and script are compiled in (`assets/`): it loads nothing from elsewhere.

mod decode;
mod html;
#[cfg(feature = "kafka")]
mod kafka_view;
#[cfg(feature = "outbox")]
mod outbox_view;
mod pages;
mod redis_view;
mod server;
mod view;

use std::io::{Read as _, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;

use crate::bus::Connection;
use crate::commands::note;
use crate::error::CliError;
use server::{Console, HttpRequest, Reply, Token};

/// The variable a token can be given in (a command-line argument would show in `ps`).
pub(crate) const TOKEN_VARIABLE: &str = "OPENEDX_EVENTS_CONSOLE_TOKEN";
/// The shortest token accepted from the environment.
const MIN_TOKEN_LEN: usize = 16;
/// Threads answering requests.
const WORKERS: usize = 4;
/// The largest request body read (a dead-letter form with many ids fits).
const MAX_BODY: u64 = 1 << 20;

/// How `console` is started.
#[derive(Debug)]
pub(crate) struct ConsoleOptions {
    /// Where to listen, `HOST:PORT`.
    pub(crate) listen: String,
    /// Whether listening on an address other than loopback is allowed.
    pub(crate) allow_remote: bool,
    /// Whether re-driving and deleting dead letters is allowed (with the token).
    pub(crate) allow_changes: bool,
    /// `--kafka-bootstrap-servers`, over `EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS`.
    #[cfg(feature = "kafka")]
    pub(crate) kafka_bootstrap_servers: Option<String>,
    /// `--outbox`: the outbox of `--database-url` (over `DATABASE_URL`) on the overview.
    #[cfg(feature = "outbox")]
    pub(crate) outbox: Option<Option<String>>,
}

/// The outbox shown on the overview, when asked for.
fn outbox(options: &ConsoleOptions) -> Result<Option<Box<dyn view::OutboxSource>>, CliError> {
    #[cfg(feature = "outbox")]
    if let Some(url) = &options.outbox {
        let url = url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok())
            .filter(|url| !url.is_empty())
            .ok_or_else(|| CliError::Console("--outbox needs `--database-url` or `DATABASE_URL`".to_owned()))?;
        return Ok(Some(Box::new(outbox_view::OutboxView::new(&url).map_err(CliError::Console)?)));
    }
    let _ = options;
    Ok(None)
}

/// The buses the console shows: Redis when a Redis URL is given, Kafka when brokers are; at
/// least one.
fn views(connection: &Connection, options: &ConsoleOptions) -> Result<Vec<Box<dyn view::BusView>>, CliError> {
    let mut views: Vec<Box<dyn view::BusView>> = Vec::new();
    let redis = match connection.settings() {
        Ok(settings) => Some(settings),
        Err(CliError::NoRedisUrl) => None,
        Err(error) => return Err(error),
    };
    if let Some(settings) = redis {
        views.push(Box::new(redis_view::RedisView::new(settings).map_err(CliError::BusSettings)?));
    }
    #[cfg(feature = "kafka")]
    {
        let mut settings = openedx_events_kafka::KafkaSettings::from_env()
            .map_err(|error| CliError::BusSettings(error.to_string()))?;
        if let Some(servers) = &options.kafka_bootstrap_servers {
            settings.bootstrap_servers = Some(servers.clone());
        }
        if let Some(prefix) = &connection.topic_prefix {
            settings.topic_prefix = Some(prefix.clone()).filter(|prefix| !prefix.is_empty());
        }
        if settings.bootstrap_servers.as_deref().is_some_and(|servers| !servers.is_empty()) {
            views.push(Box::new(kafka_view::KafkaView::new(settings).map_err(CliError::BusSettings)?));
        }
    }
    #[cfg(not(feature = "kafka"))]
    let _ = options;
    if views.is_empty() {
        return Err(CliError::NoRedisUrl);
    }
    Ok(views)
}

/// `console`: serves the pages until the process is stopped.
pub(crate) fn console(
    connection: &Connection,
    options: &ConsoleOptions,
    notes: &mut dyn Write,
) -> Result<(), CliError> {
    let address = listen_address(&options.listen)?;
    if !address.ip().is_loopback() && !options.allow_remote {
        return Err(CliError::Console(format!(
            "`{}` is not a loopback address; pass --allow-remote to serve the console beyond this machine \
             (anyone who can reach it can read the bus)",
            options.listen
        )));
    }
    let token = if options.allow_changes { Some(token()?) } else { None };
    let views = views(connection, options)?;
    let outbox = outbox(options)?;
    let listener =
        listen(address).map_err(|error| CliError::ConsoleServer(format!("cannot listen on {address}: {error}")))?;
    let bound = listener.local_addr().map_err(|error| CliError::ConsoleServer(error.to_string()))?;
    let hosts = if bound.ip().is_loopback() {
        let port = bound.port();
        vec![format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}"), bound.to_string()]
    } else {
        Vec::new()
    };
    let server = tiny_http::Server::from_listener(listener, None)
        .map_err(|error| CliError::ConsoleServer(format!("cannot serve on {bound}: {error}")))?;
    for view in &views {
        note(notes, &format!("console for {}", view.describe()));
    }
    if let Some(outbox) = &outbox {
        note(notes, &format!("with the depth of the {}", outbox.describe().to_lowercase()));
    }
    match &token {
        None => note(notes, "read-only; start with --allow-changes to re-drive or delete dead letters"),
        Some((token, generated)) if *generated => note(
            notes,
            &format!("changes allowed with this token (id {}); keep it to yourself: {}", token.id, token.secret),
        ),
        Some((token, _)) => {
            note(notes, &format!("changes allowed with the token of ${TOKEN_VARIABLE} (id {})", token.id))
        }
    }
    if !bound.ip().is_loopback() {
        note(
            notes,
            "serving beyond loopback, over plain HTTP: put it behind TLS before typing a token on another machine",
        );
    }
    let url = if bound.ip().is_unspecified() {
        format!("http://127.0.0.1:{}/", bound.port())
    } else {
        format!("http://{bound}/")
    };
    note(notes, &format!("listening on {url}; Ctrl-C stops"));
    let console = Arc::new(Console { views, outbox, token: token.map(|(token, _)| token), hosts });
    let server = Arc::new(server);
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            let (server, console) = (Arc::clone(&server), Arc::clone(&console));
            scope.spawn(move || serve(&server, &console));
        }
    });
    Ok(())
}

/// Answers requests until the server fails.
fn serve(server: &tiny_http::Server, console: &Console) {
    while let Ok(mut request) = server.recv() {
        let mut body = Vec::new();
        let too_large = request.body_length().is_some_and(|length| length as u64 > MAX_BODY)
            || request.as_reader().take(MAX_BODY + 1).read_to_end(&mut body).is_err()
            || body.len() as u64 > MAX_BODY;
        let reply = if too_large {
            Reply {
                status: 413,
                content_type: "text/plain; charset=utf-8",
                body: b"the request body is too large".to_vec(),
            }
        } else {
            let http = HttpRequest {
                method: request.method().as_str().to_owned(),
                url: request.url().to_owned(),
                headers: request
                    .headers()
                    .iter()
                    .map(|header| {
                        (header.field.as_str().as_str().to_ascii_lowercase(), header.value.as_str().to_owned())
                    })
                    .collect(),
                body,
                remote: request.remote_addr().map(ToString::to_string).unwrap_or_default(),
            };
            console.respond(&http)
        };
        let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
        let headers = std::iter::once(("Content-Type", reply.content_type)).chain(Reply::security_headers());
        for (name, value) in headers {
            if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(header);
            }
        }
        // A client that went away is not the console's problem.
        let _ = request.respond(response);
    }
}

/// A listening socket with `TCP_NODELAY`, which Linux hands down to the connections it accepts:
/// the server writes a page in several segments, and without it each page after the first on a
/// connection waits for the browser's delayed acknowledgement (40 ms).
fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_tcp_nodelay(true)?;
    // As std's `TcpListener::bind` does on Unix: a restarted console can take its port back at once.
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(128)?;
    Ok(socket.into())
}

/// The address to listen on: an IP address and port, or a name that resolves to one.
fn listen_address(listen: &str) -> Result<SocketAddr, CliError> {
    if let Ok(address) = listen.parse() {
        return Ok(address);
    }
    let invalid = |reason: String| CliError::Console(format!("cannot listen on `{listen}`: {reason}"));
    let mut addresses = listen.to_socket_addrs().map_err(|error| invalid(error.to_string()))?;
    addresses.next().ok_or_else(|| invalid("the name resolves to no address".to_owned()))
}

/// The token: from the environment, or a new random one (`true`: generated, to be printed).
fn token() -> Result<(Token, bool), CliError> {
    let id = format!("t-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    match std::env::var(TOKEN_VARIABLE) {
        Ok(secret) if !secret.is_empty() => {
            if secret.chars().count() < MIN_TOKEN_LEN {
                return Err(CliError::Console(format!(
                    "${TOKEN_VARIABLE} is too short: a token has at least {MIN_TOKEN_LEN} characters"
                )));
            }
            Ok((Token { secret, id }, false))
        }
        _ => {
            let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
            Ok((Token { secret, id }, true))
        }
    }
}
