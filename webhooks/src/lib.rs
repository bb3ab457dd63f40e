//! Open edX events delivered to webhooks, in the conventions receivers already implement:
//! CloudEvents over HTTP, Standard Webhooks signatures, and retry rules that lose nothing.
//!
//! - [`cloudevents`]: an event as a request, in CloudEvents binary mode (the default),
//!   structured mode, or the original `{"metadata", "data"}` JSON shape.
//! - [`signing`]: `webhook-id`, `webhook-timestamp` and `webhook-signature` per Standard
//!   Webhooks; the [`Verifier`] a receiving service uses.
//! - [`delivery`]: the [`WebhookDeliverer`], which POSTs one event with retries, back-off and
//!   `Retry-After`, and says in its [`DeliveryError`] whether trying again later can help.
//! - [`target`]: the guard that refuses URLs resolving to loopback, private and other
//!   non-public addresses unless they are allowed.
//!
//! ```no_run
//! use openedx_events::EventsMetadata;
//! use openedx_events_webhooks::{WebhookDeliverer, WebhookEvent, WebhookFormat, WebhookSecret};
//!
//! let deliverer = WebhookDeliverer::builder("https://hooks.example.org/openedx")
//!     .format(WebhookFormat::Binary)
//!     .secrets(vec![WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?])
//!     .build()?;
//! let metadata = EventsMetadata::new("org.openedx.learning.course.enrollment.created.v1");
//! let event = WebhookEvent::new(metadata, serde_json::json!({"enrollment": {"mode": "audit"}}));
//! match deliverer.deliver(&event, &|| false) {
//!     Ok(delivered) => println!("delivered with HTTP {}", delivered.status),
//!     Err(error) if error.is_retryable() => eprintln!("try again later: {error}"),
//!     Err(error) => eprintln!("dead-letter it: {error}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The guide for receiving services is `docs/how-to/receive-webhooks.md`.
#![forbid(unsafe_code)]

pub mod cloudevents;
pub mod delivery;
pub mod signing;
pub mod target;

pub use cloudevents::{EncodedEvent, WebhookEvent, WebhookFormat};
pub use delivery::{AttemptFailure, Delivered, DeliveryError, WebhookDeliverer, WebhookDelivererBuilder, WebhookRetry};
pub use signing::{Signer, Verifier, VerifyError, WebhookSecret};
pub use target::{TargetError, WebhookUrl};
