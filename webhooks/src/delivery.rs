//! [`WebhookDeliverer`]: POSTs events to one URL, signed, with the retry rules a receiver can
//! rely on. It blocks the calling thread (a consumer's thread, never an async runtime's worker).
//!
//! The rules, for each event:
//!
//! - Only a `2xx` answer is success. Redirects are not followed (a `3xx` is a failure).
//! - `408`, `429`, `500`, `502`, `503`, `504`, timeouts and failed connections are tried again,
//!   after an exponential back-off with jitter, or after the `Retry-After` the server asked for
//!   (seconds or an HTTP date) when that is longer; up to [`WebhookRetry::max_attempts`] in all
//!   ([`DeliveryError::GaveUp`]).
//! - `410 Gone` means the receiver is gone for good: the event fails ([`DeliveryError::Gone`]),
//!   and so does every later one, without a request.
//! - Every other answer (`4xx`, `501`, …) fails the event at once
//!   ([`DeliveryError::Rejected`]), with the status and the start of the response body.
//! - The `webhook-id` is the event id on every attempt; the timestamp and the signature are
//!   made again for each.
//!
//! Secrets never appear in what this module logs or returns, and the URL appears redacted
//! (see [`WebhookUrl`]).

use std::io::Read as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ureq::unversioned::transport::DefaultConnector;

use crate::cloudevents::{WebhookEvent, WebhookFormat};
use crate::signing::{Signer, WebhookSecret};
use crate::target::{GuardedResolver, TargetError, WebhookUrl, check_target, refusal};

/// How long one request may take by default, connecting included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a refusing response's body an error keeps, in characters.
const BODY_START: usize = 200;
/// How often a pause checks whether to stop.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// How a deliverer retries one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookRetry {
    /// Requests in all before giving up on the event; 8 by default.
    pub max_attempts: u32,
    /// The pause after the first failure; it doubles after each one after. 1 s by default.
    pub initial_backoff: Duration,
    /// The longest back-off; 60 s by default.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured (a longer one is cut to this); 10 minutes by default.
    pub max_retry_after: Duration,
}

impl Default for WebhookRetry {
    fn default() -> Self {
        WebhookRetry {
            max_attempts: 8,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(600),
        }
    }
}

impl WebhookRetry {
    /// The back-off after `failures` failed requests (1 for the first): doubling from the
    /// initial one up to the maximum, with "equal jitter" (a random half of it added to the
    /// other half), so that many senders do not retry in step.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doubled = self.initial_backoff.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
        let pause = doubled.min(self.max_backoff);
        let half = pause / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Why one request did not succeed, in a way that is worth retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttemptFailure {
    /// The server answered with a status that asks for a retry.
    #[error("HTTP {status}{}", body_suffix(.body))]
    Status {
        /// The status.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// No answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The connection failed (refused, reset, TLS, DNS).
    #[error("{0}")]
    Connection(String),
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() { String::new() } else { format!(": {body}") }
}

/// Why an event was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The receiver refused the event with a status that retrying does not change (`400`,
    /// `401`, `404`, `422`, `501`, a redirect…).
    #[error("the webhook {url} refused the event with HTTP {status}{}", body_suffix(.body))]
    Rejected {
        /// The redacted URL.
        url: String,
        /// The status.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// The receiver answered `410 Gone` (now or before): nothing more goes to this URL.
    #[error("the webhook {url} answered 410 Gone: no more events are sent to it")]
    Gone {
        /// The redacted URL.
        url: String,
    },
    /// The URL resolves to an address that is not public, and private targets are not
    /// allowed.
    #[error("the webhook {url} was not called: {source}")]
    Refused {
        /// The redacted URL.
        url: String,
        /// Why.
        #[source]
        source: TargetError,
    },
    /// Every attempt failed in a way that is worth retrying; the receiver may be back later.
    #[error("the webhook {url} failed {attempts} times; the last: {last}")]
    GaveUp {
        /// The redacted URL.
        url: String,
        /// How many requests were made.
        attempts: u32,
        /// The last failure.
        #[source]
        last: AttemptFailure,
    },
    /// Stopped (a shutdown) while waiting to try again.
    #[error("stopped after {attempts} failed attempts to call the webhook {url}; the last: {last}")]
    Stopped {
        /// The redacted URL.
        url: String,
        /// How many requests were made.
        attempts: u32,
        /// The last failure.
        #[source]
        last: AttemptFailure,
    },
}

impl DeliveryError {
    /// Whether delivering the same event again later may succeed: true when the receiver was
    /// unreachable or busy ([`GaveUp`](Self::GaveUp), [`Stopped`](Self::Stopped)), false when
    /// it refused the event or is gone.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DeliveryError::GaveUp { .. } | DeliveryError::Stopped { .. })
    }
}

/// A successful delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// The `2xx` status.
    pub status: u16,
    /// How many requests it took.
    pub attempts: u32,
}

/// What to do after one request.
enum Outcome {
    Success(u16),
    Retry { failure: AttemptFailure, retry_after: Option<Duration> },
    Fail(DeliveryError),
}

/// POSTs events to one webhook URL; see the [module](self) for the rules. Cheap to share
/// between threads (`&self`), which may deliver concurrently.
pub struct WebhookDeliverer {
    agent: ureq::Agent,
    url: WebhookUrl,
    format: WebhookFormat,
    signer: Option<Signer>,
    retry: WebhookRetry,
    timeout: Duration,
    gone: AtomicBool,
}

impl std::fmt::Debug for WebhookDeliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookDeliverer")
            .field("url", &self.url)
            .field("format", &self.format)
            .field("signed", &self.signer.is_some())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Builds a [`WebhookDeliverer`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build`"]
pub struct WebhookDelivererBuilder {
    url: String,
    format: WebhookFormat,
    secrets: Vec<WebhookSecret>,
    timeout: Duration,
    retry: WebhookRetry,
    allow_private_targets: bool,
}

impl WebhookDelivererBuilder {
    /// How the event is put into the request; CloudEvents binary mode by default.
    pub fn format(mut self, format: WebhookFormat) -> Self {
        self.format = format;
        self
    }

    /// Signs every request with these secrets (Standard Webhooks); unsigned without any.
    pub fn secrets(mut self, secrets: Vec<WebhookSecret>) -> Self {
        self.secrets = secrets;
        self
    }

    /// How long one request may take, connecting included; 15 s by default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How an event is retried.
    pub fn retry(mut self, retry: WebhookRetry) -> Self {
        self.retry = retry;
        self
    }

    /// Allows URLs that resolve to loopback, private and other non-public addresses (for
    /// local development and tests); refused by default.
    pub fn allow_private_targets(mut self, allow: bool) -> Self {
        self.allow_private_targets = allow;
        self
    }

    /// Checks the URL (its form, and where its host resolves now) and makes the deliverer.
    pub fn build(self) -> Result<WebhookDeliverer, TargetError> {
        let url = WebhookUrl::parse(&self.url)?;
        check_target(&url, self.allow_private_targets)?;
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            // A proxy from the environment would be resolved instead of the target, which
            // would bypass the address check.
            .proxy(None)
            .user_agent(concat!("openedx-events-webhooks/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent =
            ureq::Agent::with_parts(config, DefaultConnector::new(), GuardedResolver::new(self.allow_private_targets));
        Ok(WebhookDeliverer {
            agent,
            url,
            format: self.format,
            signer: Signer::new(self.secrets),
            retry: self.retry,
            timeout: self.timeout,
            gone: AtomicBool::new(false),
        })
    }
}

impl WebhookDeliverer {
    /// Starts building a deliverer to `url`.
    pub fn builder(url: impl Into<String>) -> WebhookDelivererBuilder {
        WebhookDelivererBuilder {
            url: url.into(),
            format: WebhookFormat::default(),
            secrets: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            retry: WebhookRetry::default(),
            allow_private_targets: false,
        }
    }

    /// The URL, redacted.
    pub fn url(&self) -> &WebhookUrl {
        &self.url
    }

    /// Whether the receiver answered `410 Gone`, so that nothing more is sent.
    pub fn is_gone(&self) -> bool {
        self.gone.load(Ordering::SeqCst)
    }

    /// Delivers one event, retrying by the rules; `stop` is asked before each retry (and during
    /// the pause), so that a shutdown is not held up by back-off.
    pub fn deliver(&self, event: &WebhookEvent, stop: &dyn Fn() -> bool) -> Result<Delivered, DeliveryError> {
        let encoded = event.encode(self.format);
        let id = event.id();
        let mut attempts = 0;
        loop {
            if self.is_gone() {
                return Err(DeliveryError::Gone { url: self.url.to_string() });
            }
            attempts += 1;
            let (failure, retry_after) = match self.attempt(&id, &encoded) {
                Outcome::Success(status) => return Ok(Delivered { status, attempts }),
                Outcome::Fail(error) => return Err(error),
                Outcome::Retry { failure, retry_after } => (failure, retry_after),
            };
            if attempts >= self.retry.max_attempts.max(1) {
                return Err(DeliveryError::GaveUp { url: self.url.to_string(), attempts, last: failure });
            }
            let mut pause = self.retry.backoff(attempts);
            if let Some(asked) = retry_after {
                pause = pause.max(asked.min(self.retry.max_retry_after));
            }
            tracing::warn!(
                url = %self.url,
                event_id = %id,
                attempt = attempts,
                "webhook delivery failed ({failure}); trying again in {pause:?}"
            );
            if stop() || !sleep_unless(pause, stop) {
                return Err(DeliveryError::Stopped { url: self.url.to_string(), attempts, last: failure });
            }
        }
    }

    /// One request, and what its answer means.
    fn attempt(&self, id: &str, encoded: &crate::cloudevents::EncodedEvent) -> Outcome {
        let mut request = self.agent.post(self.url.expose()).header("content-type", encoded.content_type);
        for (name, value) in &encoded.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(signer) = &self.signer {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
            for (name, value) in signer.headers(id, i64::try_from(now).unwrap_or(i64::MAX), &encoded.body) {
                request = request.header(name, value);
            }
        }
        let mut response = match request.send(&encoded.body[..]) {
            Ok(response) => response,
            Err(error) => return self.failed_request(&error),
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Outcome::Success(status);
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        let body = body_start(&mut response);
        match status {
            410 => {
                self.gone.store(true, Ordering::SeqCst);
                tracing::error!(
                    url = %self.url,
                    event_id = %id,
                    "the webhook answered 410 Gone: it is not called again; this event and every later one is dead-lettered"
                );
                Outcome::Fail(DeliveryError::Gone { url: self.url.to_string() })
            }
            408 | 429 | 500 | 502 | 503 | 504 => {
                Outcome::Retry { failure: AttemptFailure::Status { status, body }, retry_after }
            }
            _ => Outcome::Fail(DeliveryError::Rejected { url: self.url.to_string(), status, body }),
        }
    }

    fn failed_request(&self, error: &ureq::Error) -> Outcome {
        if let Some(refused) = refusal(error) {
            return Outcome::Fail(DeliveryError::Refused { url: self.url.to_string(), source: refused.clone() });
        }
        let timed_out = match error {
            ureq::Error::Timeout(_) => true,
            ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::TimedOut,
            _ => false,
        };
        let failure = if timed_out {
            AttemptFailure::Timeout(self.timeout)
        } else {
            // ureq's errors name the host and the cause, never the URL's user info or query.
            AttemptFailure::Connection(error.to_string())
        };
        Outcome::Retry { failure, retry_after: None }
    }
}

/// The start of a response body, as text, for an error message.
fn body_start(response: &mut ureq::http::Response<ureq::Body>) -> String {
    let mut bytes = Vec::with_capacity(1024);
    let _ = response.body_mut().as_reader().take(4 * BODY_START as u64).read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(BODY_START) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// A `Retry-After` value (RFC 9110 §10.2.3): a number of seconds, or an HTTP date (how long
/// until then; zero if it passed). `None` when it is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Sleeps for `pause`, waking to ask `stop`; false when stopped.
fn sleep_unless(pause: Duration, stop: &dyn Fn() -> bool) -> bool {
    let until = Instant::now() + pause;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(STOP_CHECK));
        if stop() {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(30)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_maximum() {
        let retry = WebhookRetry {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(8),
            ..WebhookRetry::default()
        };
        for _ in 0..100 {
            let first = retry.backoff(1);
            assert!(first >= Duration::from_millis(500) && first <= Duration::from_secs(1), "{first:?}");
            let third = retry.backoff(3);
            assert!(third >= Duration::from_secs(2) && third <= Duration::from_secs(4), "{third:?}");
            let capped = retry.backoff(30);
            assert!(capped >= Duration::from_secs(4) && capped <= Duration::from_secs(8), "{capped:?}");
        }
    }

    #[test]
    fn only_waiting_errors_are_retryable() {
        let last = AttemptFailure::Status { status: 503, body: String::new() };
        assert!(DeliveryError::GaveUp { url: "u".into(), attempts: 8, last: last.clone() }.is_retryable());
        assert!(!DeliveryError::Gone { url: "u".into() }.is_retryable());
        let rejected = DeliveryError::Rejected { url: "u".into(), status: 422, body: "bad field".into() };
        assert!(!rejected.is_retryable());
        assert_eq!(rejected.to_string(), "the webhook u refused the event with HTTP 422: bad field");
        assert_eq!(last.to_string(), "HTTP 503");
    }
}
