//! The deliverer against a real HTTP server on loopback: what each status means, `Retry-After`,
//! timeouts, `410 Gone`, signatures on every attempt, the SSRF guard, and that secrets and URL
//! tokens stay out of errors.

mod support;

use std::time::{Duration, SystemTime};

use openedx_events_webhooks::target::TargetError;
use openedx_events_webhooks::{DeliveryError, Verifier, WebhookDeliverer, WebhookFormat, WebhookRetry, WebhookSecret};
use support::{Answer, Receiver, event};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Retries after 10 to 20 ms, so that the tests are quick.
fn quick(max_attempts: u32) -> WebhookRetry {
    WebhookRetry {
        max_attempts,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(20),
        ..WebhookRetry::default()
    }
}

fn deliverer(url: &str, retry: WebhookRetry) -> WebhookDeliverer {
    WebhookDeliverer::builder(url)
        .secrets(vec![WebhookSecret::parse(SECRET).unwrap()])
        .retry(retry)
        .timeout(Duration::from_secs(5))
        .allow_private_targets(true)
        .build()
        .unwrap()
}

#[test]
fn every_2xx_is_success() {
    for status in [200, 201, 202, 204] {
        let receiver = Receiver::start(Vec::new(), Answer::status(status));
        let delivered = deliverer(&receiver.url, quick(3)).deliver(&event(), &|| false).unwrap();
        assert_eq!((delivered.status, delivered.attempts), (status, 1));
        assert_eq!(receiver.received().len(), 1);
    }
}

#[test]
fn retryable_statuses_are_retried_with_the_same_id_and_a_fresh_signature() {
    let script = [429, 502, 503, 504, 500, 408].map(Answer::status).to_vec();
    let receiver = Receiver::start(script, Answer::status(200));
    let event = event();
    let delivered = deliverer(&receiver.url, quick(8)).deliver(&event, &|| false).unwrap();
    assert_eq!(delivered.attempts, 7);
    let received = receiver.received();
    assert_eq!(received.len(), 7);
    let verifier = Verifier::new(vec![WebhookSecret::parse(SECRET).unwrap()]);
    for request in &received {
        assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/hook"));
        assert_eq!(request.header("webhook-id"), Some(event.id().as_str()), "the same id on every attempt");
        assert_eq!(request.header("ce-id"), Some(event.id().as_str()));
        assert_eq!(request.body, received[0].body, "the same body on every attempt");
        let verified = verifier.verify(
            request.header("webhook-id"),
            request.header("webhook-timestamp"),
            request.header("webhook-signature"),
            &request.body,
        );
        assert_eq!(verified, Ok(()));
    }
}

#[test]
fn other_statuses_fail_at_once_with_the_status_and_the_start_of_the_body() {
    for status in [400, 401, 403, 404, 409, 422, 501, 301] {
        let body = format!("field `mode` is not one we know {}", "x".repeat(500));
        let receiver = Receiver::start(Vec::new(), Answer::status(status).body(&body).header("location", "/elsewhere"));
        let error = deliverer(&receiver.url, quick(5)).deliver(&event(), &|| false).unwrap_err();
        assert_eq!(receiver.received().len(), 1, "HTTP {status} is not retried");
        assert!(!error.is_retryable());
        let DeliveryError::Rejected { status: got, body: start, .. } = &error else { panic!("{error:?}") };
        assert_eq!(*got, status);
        assert!(start.starts_with("field `mode` is not one we know") && start.chars().count() <= 201, "{start}");
        assert!(error.to_string().contains(&format!("refused the event with HTTP {status}: field `mode`")), "{error}");
    }
}

#[test]
fn gone_stops_delivery_to_the_url() {
    let receiver = Receiver::start(Vec::new(), Answer::status(410));
    let deliverer = deliverer(&receiver.url, quick(5));
    let error = deliverer.deliver(&event(), &|| false).unwrap_err();
    assert!(matches!(error, DeliveryError::Gone { .. }), "{error:?}");
    assert!(deliverer.is_gone());
    let again = deliverer.deliver(&event(), &|| false).unwrap_err();
    assert!(matches!(again, DeliveryError::Gone { .. }), "{again:?}");
    assert_eq!(receiver.received().len(), 1, "nothing more is sent after a 410");
    assert!(error.to_string().contains("answered 410 Gone"), "{error}");
}

#[test]
fn retry_after_in_seconds_is_honoured() {
    let receiver = Receiver::start(vec![Answer::status(503).header("retry-after", "1")], Answer::status(200));
    deliverer(&receiver.url, quick(3)).deliver(&event(), &|| false).unwrap();
    let received = receiver.received();
    let waited = received[1].at - received[0].at;
    assert!(waited >= Duration::from_secs(1), "waited {waited:?}, the server asked for 1 s");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let receiver = Receiver::start(vec![Answer::status(429).header("retry-after", &date)], Answer::status(200));
    deliverer(&receiver.url, quick(3)).deliver(&event(), &|| false).unwrap();
    let received = receiver.received();
    let waited = received[1].at - received[0].at;
    // The date has whole seconds: between 1 and 2 s from now.
    assert!(waited >= Duration::from_millis(900), "waited {waited:?} for {date}");
    assert!(waited < Duration::from_secs(4), "{waited:?}");
}

#[test]
fn a_slow_answer_times_out_and_is_retried() {
    let slow = Answer::status(200).delay(Duration::from_millis(1500));
    let receiver = Receiver::start(vec![slow], Answer::status(200));
    let deliverer = WebhookDeliverer::builder(&receiver.url)
        .timeout(Duration::from_millis(300))
        .retry(quick(3))
        .allow_private_targets(true)
        .build()
        .unwrap();
    let delivered = deliverer.deliver(&event(), &|| false).unwrap();
    assert_eq!(delivered.attempts, 2);
}

#[test]
fn a_receiver_that_keeps_failing_is_given_up_on_and_that_may_help_later() {
    let receiver = Receiver::start(Vec::new(), Answer::status(503));
    let error = deliverer(&receiver.url, quick(3)).deliver(&event(), &|| false).unwrap_err();
    assert_eq!(receiver.received().len(), 3);
    assert!(error.is_retryable());
    assert!(matches!(error, DeliveryError::GaveUp { attempts: 3, .. }), "{error:?}");
    assert!(error.to_string().ends_with("failed 3 times; the last: HTTP 503"), "{error}");
}

#[test]
fn a_stop_ends_the_retries() {
    let receiver = Receiver::start(Vec::new(), Answer::status(503));
    let deliverer = WebhookDeliverer::builder(&receiver.url)
        .retry(WebhookRetry { initial_backoff: Duration::from_secs(30), ..WebhookRetry::default() })
        .allow_private_targets(true)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let stop_at = started + Duration::from_millis(200);
    let error = deliverer.deliver(&event(), &|| std::time::Instant::now() >= stop_at).unwrap_err();
    assert!(matches!(error, DeliveryError::Stopped { attempts: 1, .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "not held up by the 30 s back-off");
}

#[test]
fn a_server_that_is_down_is_retried_until_it_is_back() {
    // A port nothing listens on yet; the server starts there after a while.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/hook");
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        Receiver::start_on(listener, Vec::new(), Answer::status(200))
    });
    let retry = quick(200);
    let delivered = deliverer(&url, retry).deliver(&event(), &|| false).unwrap();
    assert!(delivered.attempts > 1, "refused connections were retried");
    assert_eq!(starter.join().unwrap().received().len(), 1);
}

#[test]
fn private_targets_are_refused_unless_allowed() {
    let receiver = Receiver::start(Vec::new(), Answer::status(200));
    for url in [receiver.url.clone(), receiver.url.replace("127.0.0.1", "localhost"), "http://[::1]:9/".to_owned()] {
        let refused = WebhookDeliverer::builder(&url).build().unwrap_err();
        assert!(matches!(refused, TargetError::Private { kind: "loopback", .. }), "{url}: {refused}");
    }
    for url in
        ["http://10.0.0.7/hook", "http://169.254.169.254/latest/meta-data", "http://[fd00::1]/", "http://0.0.0.0:80/"]
    {
        let refused = WebhookDeliverer::builder(url).build().unwrap_err();
        assert!(matches!(refused, TargetError::Private { .. }), "{url}: {refused}");
    }
    assert!(receiver.received().is_empty());
}

#[test]
fn secrets_and_url_tokens_stay_out_of_errors_and_debug() {
    let receiver = Receiver::start(Vec::new(), Answer::status(400).body("no"));
    let url = format!("http://user:hunter2@127.0.0.1:{}/hook?token=t0psecret", receiver.port);
    let deliverer = deliverer(&url, quick(2));
    let error = deliverer.deliver(&event(), &|| false).unwrap_err();
    let shown = format!("{error} {error:?} {deliverer:?}");
    for secret in ["hunter2", "t0psecret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("http://***@127.0.0.1:"), "{shown}");
    assert_eq!(receiver.received()[0].path, "/hook?token=t0psecret", "the real URL is what is called");
}

#[test]
fn each_format_sets_its_content_type() {
    for (format, content_type) in [
        (WebhookFormat::Binary, "application/json"),
        (WebhookFormat::Structured, "application/cloudevents+json"),
        (WebhookFormat::Json, "application/json"),
    ] {
        let receiver = Receiver::start(Vec::new(), Answer::status(200));
        let deliverer =
            WebhookDeliverer::builder(&receiver.url).format(format).allow_private_targets(true).build().unwrap();
        deliverer.deliver(&event(), &|| false).unwrap();
        let request = &receiver.received()[0];
        assert_eq!(request.header("content-type"), Some(content_type));
        assert_eq!(request.header("ce-specversion").is_some(), format == WebhookFormat::Binary);
        assert_eq!(request.header("webhook-signature"), None, "unsigned without secrets");
        assert!(request.header("user-agent").is_some_and(|agent| agent.starts_with("openedx-events-webhooks/")));
    }
}
