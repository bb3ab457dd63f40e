//! A small W3C WebDriver client for the browser tests: Debian's `chromedriver` driving its
//! headless `chromium`, over the protocol's HTTP API with a blocking client.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use openedx_events_test_support::SETUP_HINT;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The key of an element reference in WebDriver's answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long waiting for something on a page may take.
const WAIT: Duration = Duration::from_secs(20);

/// A browser session; the browser and its driver are stopped, and the profile deleted, on drop.
pub(crate) struct Browser {
    driver: Child,
    agent: ureq::Agent,
    session: String,
    profile: PathBuf,
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub(crate) struct Element(String);

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium with a fresh profile, its
    /// window `width` × `height`. Panics, saying how to install them, when either is missing.
    pub(crate) fn start(width: u32, height: u32) -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "the console's browser tests need {program} (Debian's chromium and chromium-driver); {SETUP_HINT}"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}; {SETUP_HINT}"));
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build();
        let agent = ureq::Agent::new_with_config(config);
        let profile = std::env::temp_dir().join(openedx_events_test_support::unique_name("console-chromium"));
        let mut browser = Browser { driver, agent, session: String::new(), profile };
        let base = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while browser.call("GET", &format!("{base}/status"), None).is_err() {
            assert!(start.elapsed() < WAIT, "chromedriver did not answer on port {port}; {SETUP_HINT}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", browser.profile.display()),
                    format!("--window-size={width},{height}"),
                ],
            },
        }}});
        let created = browser
            .call("POST", &format!("{base}/session"), Some(&capabilities))
            .unwrap_or_else(|e| panic!("chromedriver could not start chromium: {e}; {SETUP_HINT}"));
        browser.session = format!("{base}/session/{}", created["sessionId"].as_str().expect("a session id"));
        browser
    }

    /// One WebDriver command; its `value`, or the driver's error.
    fn call(&self, method: &str, url: &str, body: Option<&Value>) -> Result<Value, String> {
        let reply = match (method, body) {
            ("GET", _) => self.agent.get(url).call(),
            ("DELETE", _) => self.agent.delete(url).call(),
            (_, body) => self
                .agent
                .post(url)
                .header("content-type", "application/json")
                .send(body.cloned().unwrap_or_else(|| json!({})).to_string()),
        };
        let mut reply = reply.map_err(|e| e.to_string())?;
        let status = reply.status();
        let text = reply.body_mut().read_to_string().map_err(|e| e.to_string())?;
        let value: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
        if status.is_success() { Ok(value["value"].clone()) } else { Err(format!("{status}: {}", value["value"])) }
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("{}{path}", self.session), body.as_ref())
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    /// Opens a URL and waits for the page to load.
    pub(crate) fn go(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})));
    }

    /// The current page's URL.
    pub(crate) fn url(&self) -> String {
        self.command("GET", "/url", None).as_str().unwrap_or_default().to_owned()
    }

    /// The first element matching a CSS selector, waiting for it to appear.
    pub(crate) fn find(&self, selector: &str) -> Element {
        let start = Instant::now();
        loop {
            let found = self.call(
                "POST",
                &format!("{}/element", self.session),
                Some(&json!({"using": "css selector", "value": selector})),
            );
            if let Ok(found) = &found
                && let Some(id) = found[ELEMENT].as_str()
            {
                return Element(id.to_owned());
            }
            assert!(start.elapsed() < WAIT, "no element `{selector}` on {} ({found:?}):\n{}", self.url(), self.text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every element matching a CSS selector now.
    pub(crate) fn find_all(&self, selector: &str) -> Vec<Element> {
        let found = self.command("POST", "/elements", Some(json!({"using": "css selector", "value": selector})));
        found
            .as_array()
            .map(|all| all.iter().filter_map(|e| e[ELEMENT].as_str()).map(|id| Element(id.to_owned())).collect())
            .unwrap_or_default()
    }

    /// Clicks an element (and waits for a page it loads).
    pub(crate) fn click(&self, element: &Element) {
        self.command("POST", &format!("/element/{}/click", element.0), Some(json!({})));
    }

    /// Types into an element.
    pub(crate) fn type_into(&self, element: &Element, text: &str) {
        self.command("POST", &format!("/element/{}/value", element.0), Some(json!({"text": text})));
    }

    /// An element's rendered text.
    pub(crate) fn text_of(&self, element: &Element) -> String {
        self.command("GET", &format!("/element/{}/text", element.0), None).as_str().unwrap_or_default().to_owned()
    }

    /// The page's rendered text.
    pub(crate) fn text(&self) -> String {
        self.execute("return document.body ? document.body.innerText : '';").as_str().unwrap_or_default().to_owned()
    }

    /// Runs a script in the page; its return value.
    pub(crate) fn execute(&self, script: &str) -> Value {
        self.command("POST", "/execute/sync", Some(json!({"script": script, "args": []})))
    }

    /// Waits until the page's text contains `expected`.
    pub(crate) fn wait_for_text(&self, expected: &str) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if text.contains(expected) {
                return text;
            }
            assert!(start.elapsed() < WAIT, "the page at {} never said {expected:?}; it says:\n{text}", self.url());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses a key, wherever the focus is (a WebDriver key code, such as `\u{E004}` for Tab).
    pub(crate) fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key},
        ]}]});
        self.command("POST", "/actions", Some(actions));
    }

    /// The focused element's outer HTML, to see where the keyboard is.
    pub(crate) fn focused_html(&self) -> String {
        self.execute("return document.activeElement ? document.activeElement.outerHTML : '';")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A PNG of the window.
    pub(crate) fn screenshot(&self) -> Vec<u8> {
        let encoded = self.command("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD.decode(encoded.as_str().expect("base64 text")).expect("a PNG")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &self.session, None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
