//! `consume --webhook URL`: each event POSTed as a CloudEvent (or the original JSON shape),
//! signed per Standard Webhooks when secrets are given, through `openedx-events-webhooks`.
//!
//! What the built-in receiver returns decides what the consumer does with the message: `Ok`
//! after a `2xx` (acknowledged); a [`NotRetryable`] error for an event the webhook refused, is
//! gone for, or kept failing (dead-lettered at once: the deliverer already retried it); a plain
//! error when a shutdown interrupted its retries (left pending, delivered again later).

use std::any::Any;
use std::sync::OnceLock;
use std::time::Duration;

use openedx_events::event_bus::{NotRetryable, ShutdownHandle};
use openedx_events::{AnySignal, BoxError, EventsMetadata};
use openedx_events_webhooks::{
    DeliveryError, WebhookDeliverer, WebhookEvent, WebhookFormat, WebhookRetry, WebhookSecret,
};

use crate::error::CliError;

/// The variable that holds the signing secrets when `--webhook-secret` is not given; several
/// are separated by spaces.
pub(crate) const SECRET_VARIABLE: &str = "OPENEDX_EVENTS_WEBHOOK_SECRET";

/// The webhook options of `consume`, beside `--webhook` itself.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct WebhookArgs {
    /// How each event is sent: CloudEvents `binary` mode (attributes as `ce-` headers), `structured` mode (`application/cloudevents+json`), or the original `json` shape
    #[arg(long, value_name = "FORMAT", default_value = "binary", requires = "webhook")]
    webhook_format: WebhookFormat,
    /// Sign each request per Standard Webhooks with this `whsec_…` secret (repeatable, for rotation) [default: $OPENEDX_EVENTS_WEBHOOK_SECRET]
    #[arg(long = "webhook-secret", value_name = "SECRET", requires = "webhook")]
    webhook_secrets: Vec<String>,
    /// How long one request may take, in seconds, connecting included
    #[arg(long, value_name = "SECONDS", default_value_t = 15.0, requires = "webhook")]
    webhook_timeout: f64,
    /// Requests in all for one event before it is dead-lettered (408, 429, 500, 502, 503, 504, timeouts and failed connections are retried)
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..), requires = "webhook")]
    webhook_max_attempts: u32,
    /// Events of this many different keys are posted at once; events of one key always one after the other, in order
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64), requires = "webhook")]
    webhook_concurrency: u64,
    /// Allow webhook URLs that resolve to loopback, private or link-local addresses (local development)
    #[arg(long, requires = "webhook")]
    allow_private_targets: bool,
}

impl WebhookArgs {
    /// How many keys the consumer dispatches at once.
    pub(crate) fn concurrency(&self) -> usize {
        usize::try_from(self.webhook_concurrency).unwrap_or(1)
    }
}

/// The webhook the built-in receiver POSTs to.
pub(crate) struct Webhook {
    deliverer: WebhookDeliverer,
    /// The consumer's, once it is built: stops retries, and the consumer after a `410 Gone`.
    shutdown: OnceLock<ShutdownHandle>,
}

impl Webhook {
    /// Checks the URL (its form, and that it resolves to public addresses unless allowed), the
    /// secrets (the options', else the variable's) and the timeout.
    pub(crate) fn new(url: &str, args: &WebhookArgs) -> Result<Self, CliError> {
        let secrets = if args.webhook_secrets.is_empty() {
            std::env::var(SECRET_VARIABLE).unwrap_or_default().split_whitespace().map(str::to_owned).collect()
        } else {
            args.webhook_secrets.clone()
        };
        let secrets = secrets
            .iter()
            .map(|secret| WebhookSecret::parse(secret))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| CliError::BusSettings(format!("webhook secret: {error}")))?;
        if !(args.webhook_timeout.is_finite() && args.webhook_timeout > 0.0) {
            return Err(CliError::BusSettings("`--webhook-timeout` must be a positive number of seconds".to_owned()));
        }
        let retry = WebhookRetry { max_attempts: args.webhook_max_attempts, ..WebhookRetry::default() };
        let deliverer = WebhookDeliverer::builder(url)
            .format(args.webhook_format)
            .secrets(secrets)
            .timeout(Duration::from_secs_f64(args.webhook_timeout))
            .retry(retry)
            .allow_private_targets(args.allow_private_targets)
            .build()
            .map_err(|error| CliError::WebhookUrl { url: redact(url), reason: error.to_string() })?;
        Ok(Webhook { deliverer, shutdown: OnceLock::new() })
    }

    /// Hands the webhook the consumer's shutdown handle.
    pub(crate) fn stop_with(&self, shutdown: ShutdownHandle) {
        let _ = self.shutdown.set(shutdown);
    }

    /// Whether the webhook answered `410 Gone`.
    pub(crate) fn is_gone(&self) -> bool {
        self.deliverer.is_gone()
    }

    /// The URL, redacted.
    pub(crate) fn url(&self) -> String {
        self.deliverer.url().to_string()
    }

    /// POSTs one event; see the module for what the error means to the consumer.
    pub(crate) fn post(
        &self,
        signal: &dyn AnySignal,
        data: &dyn Any,
        metadata: &EventsMetadata,
    ) -> Result<(), BoxError> {
        let data = signal
            .data_to_json(data)
            .ok_or_else(|| format!("the payload is not the data of `{}`", signal.event_type()))?;
        let event = WebhookEvent::new(metadata.clone(), data);
        let stopping = || self.shutdown.get().is_some_and(ShutdownHandle::is_shutdown);
        match self.deliverer.deliver(&event, &stopping) {
            Ok(_) => Ok(()),
            Err(error @ DeliveryError::Stopped { .. }) => Err(error.into()),
            Err(error) => {
                if matches!(error, DeliveryError::Gone { .. })
                    && let Some(shutdown) = self.shutdown.get()
                {
                    // Nothing more can be delivered: what is still unread stays in the stream.
                    shutdown.shutdown();
                }
                Err(NotRetryable::new(error).into())
            }
        }
    }
}

/// A URL as errors may show it: the webhooks crate's redacted form when it parses, else only
/// that it was given.
fn redact(url: &str) -> String {
    openedx_events_webhooks::WebhookUrl::parse(url)
        .map_or_else(|_| url.split(['?', '@']).next().unwrap_or_default().to_owned(), |url| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[arg(long)]
        webhook: Option<String>,
        #[command(flatten)]
        args: WebhookArgs,
    }

    fn new(arguments: &[&str]) -> Result<Webhook, String> {
        let cli = Cli::try_parse_from(std::iter::once("test").chain(arguments.iter().copied()))
            .map_err(|error| error.to_string())?;
        Webhook::new(cli.webhook.as_deref().unwrap_or_default(), &cli.args).map_err(|error| error.to_string())
    }

    #[test]
    fn webhooks_must_be_http_urls_to_public_addresses_unless_allowed() {
        assert!(new(&["--webhook", "http://127.0.0.1:8080/hook", "--allow-private-targets"]).is_ok());
        let refused = new(&["--webhook", "http://127.0.0.1:8080/hook?token=s3cret"]).err().unwrap();
        assert!(refused.contains("a loopback address"), "{refused}");
        assert!(refused.contains("--allow-private-targets") && !refused.contains("s3cret"), "{refused}");
        let reason = |url: &str| new(&["--webhook", url]).err().unwrap_or_default();
        assert!(reason("ftp://example.org/x").contains("expected an `http://` or `https://` URL"));
        assert!(reason("/just/a/path").contains("expected an `http://`"));
        assert!(reason("http://exa mple.org").starts_with("invalid webhook URL `http://exa mple.org`: "));
    }

    #[test]
    fn secrets_are_checked_and_never_shown() {
        let url = ["--webhook", "http://127.0.0.1:9/", "--allow-private-targets"];
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert!(new(&[&url[..], &["--webhook-secret", secret, "--webhook-secret", secret]].concat()).is_ok());
        let error = new(&[&url[..], &["--webhook-secret", "whsec_bm90IGxvbmc="]].concat()).err().unwrap();
        assert_eq!(
            error,
            "invalid event bus setting: webhook secret: a webhook secret's key must be 24 to 64 bytes; this one has 8"
        );
        let error = new(&["--webhook-format", "xml"]).err().unwrap();
        assert!(error.contains("unknown webhook format `xml`"), "{error}");
        let error = new(&["--allow-private-targets"]).err().unwrap();
        assert!(error.contains("--webhook"), "the webhook options need `--webhook`: {error}");
    }
}
