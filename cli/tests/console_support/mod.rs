//! What the console's tests share: the console run as a user runs it, and a plain HTTP/1.1 client
//! that sends exactly the headers a test gives (`Host`, `Origin`, `Sec-Fetch-Site` included).
#![allow(dead_code, reason = "each test binary that includes this module uses only some of it")]

pub(crate) mod webdriver;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_openedx-events");
/// How long the console may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `openedx-events console`; killed when dropped.
pub(crate) struct ConsoleProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`, without a final slash.
    pub(crate) base: String,
    /// The port it listens on.
    pub(crate) port: u16,
    stderr: Arc<Mutex<String>>,
}

impl ConsoleProcess {
    /// Starts the console with `args` (and `--listen 127.0.0.1:0` unless they say) and `env`, none of
    /// the machine's bus variables, and waits until it listens; panics with its stderr if it
    /// does not.
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)]) -> ConsoleProcess {
        let mut command = Command::new(BIN);
        command.arg("console");
        if !args.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command.args(args);
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        for variable in openedx_events_redis::ENV_VARS.into_iter().chain(["OPENEDX_EVENTS_CONSOLE_TOKEN"]) {
            command.env_remove(variable);
        }
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("the binary starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (listening, started) = mpsc::channel();
        let lines = BufReader::new(child.stderr.take().expect("stderr is piped"));
        let kept = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in lines.lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = listening.send(port.parse::<u16>().unwrap_or(0));
                }
                let mut all = kept.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let port = match started.recv_timeout(START_TIMEOUT) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!("the console did not start listening; stderr:\n{}", stderr.lock().unwrap());
            }
        };
        ConsoleProcess { child, base: format!("http://127.0.0.1:{port}"), port, stderr }
    }

    /// What the console wrote on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// What the console wrote on stderr once `wanted` holds of it, or after five seconds: its
    /// lines reach the test through a reader thread, possibly after the HTTP reply they follow.
    pub(crate) fn stderr_once(&self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let stderr = self.stderr();
            if wanted(&stderr) || std::time::Instant::now() >= deadline {
                return stderr;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The token it printed, when it generated one.
    pub(crate) fn printed_token(&self) -> String {
        let stderr = self.stderr();
        let line = stderr.lines().find(|line| line.contains("keep it to yourself: ")).expect("a token line");
        line.rsplit(' ').next().unwrap().to_owned()
    }

    /// `GET path` from the console's own origin.
    pub(crate) fn get(&self, path: &str) -> HttpReply {
        http(self.port, "GET", path, &[], "")
    }

    /// A form `POST` as a browser on the console's page sends it.
    pub(crate) fn post_form(&self, path: &str, form: &str) -> HttpReply {
        let origin = self.base.clone();
        http(
            self.port,
            "POST",
            path,
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", &origin),
                ("Sec-Fetch-Site", "same-origin"),
            ],
            form,
        )
    }
}

impl Drop for ConsoleProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub(crate) struct HttpReply {
    pub(crate) status: u16,
    /// Names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl HttpReply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Asserts the status, showing the body when it is not the one expected.
    pub(crate) fn expect(self, status: u16) -> HttpReply {
        assert_eq!(self.status, status, "status; body:\n{}", self.body);
        self
    }
}

/// Sends one request to 127.0.0.1:`port` with exactly these headers (plus `Host` when they have
/// none, `Content-Length` and `Connection: close`) and reads the whole answer.
pub(crate) fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> HttpReply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the console accepts connections");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    if headers.iter().any(|(name, value)| name == "transfer-encoding" && value.contains("chunked")) {
        body = dechunk(&body);
    }
    HttpReply { status, headers, body: String::from_utf8(body).expect("a UTF-8 body") }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size_text = String::from_utf8_lossy(&raw[..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).expect("a chunk size");
        raw = &raw[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// `text` percent-encoded for a query string or a form.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
