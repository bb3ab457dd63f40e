//! A webhook receiver for the tests: a real HTTP/1.1 server on loopback that answers each
//! request as scripted and records what it got.
#![allow(dead_code, reason = "each test binary that includes this module uses only some of it")]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openedx_events::EventsMetadata;
use openedx_events_webhooks::WebhookEvent;
use serde_json::json;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Names in lower case, in the order sent.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) at: Instant,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    /// Waits this long before answering.
    pub(crate) delay: Duration,
}

impl Answer {
    pub(crate) fn status(status: u16) -> Answer {
        Answer { status, headers: Vec::new(), body: String::new(), delay: Duration::ZERO }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn body(mut self, body: &str) -> Answer {
        self.body = body.to_owned();
        self
    }

    pub(crate) fn delay(mut self, delay: Duration) -> Answer {
        self.delay = delay;
        self
    }
}

/// The server: answers the scripted answers in turn, then `then` for every request after.
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) fn start(script: Vec<Answer>, then: Answer) -> Receiver {
        Receiver::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), script, then)
    }

    /// The server on a listener the test made (to start it on a port it chose earlier).
    pub(crate) fn start_on(listener: TcpListener, script: Vec<Answer>, then: Answer) -> Receiver {
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let kept = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (kept, script, then) = (Arc::clone(&kept), Arc::clone(&script), then.clone());
                std::thread::spawn(move || serve(stream, &kept, &script, &then));
            }
        });
        Receiver { url: format!("http://127.0.0.1:{port}/hook"), port, received }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Answers the requests of one connection (kept alive) until the client closes it.
fn serve(stream: TcpStream, kept: &Mutex<Vec<Received>>, script: &Mutex<VecDeque<Answer>>, then: &Answer) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        // The answer is chosen when the request arrives, in arrival order.
        let answer = script.lock().unwrap().pop_front().unwrap_or_else(|| then.clone());
        kept.lock().unwrap().push(request);
        std::thread::sleep(answer.delay);
        let mut response = format!("HTTP/1.1 {} Scripted\r\nContent-Length: {}\r\n", answer.status, answer.body.len());
        for (name, value) in &answer.headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(&answer.body);
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let at = Instant::now();
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize =
        headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received { method, path, headers, body, at })
}

/// An event with metadata that needs percent-encoding in a header.
pub(crate) fn event() -> WebhookEvent {
    let mut metadata = EventsMetadata::new("org.openedx.learning.course.enrollment.created.v1");
    metadata.source = "openedx/lms/web".into();
    metadata.sourcehost = "lms-1 \"blue\" 100% café".into();
    metadata.minorversion = 0;
    metadata.sourcelib = vec![11, 2, 0].into();
    let data = json!({
        "enrollment": {
            "course": {"course_key": "course-v1:edX+DemoX+Demo_Course", "display_name": "Démo"},
            "mode": "verified",
        }
    });
    WebhookEvent::new(metadata, data)
}
