//! Doc tests of the README and the user guide: every Rust block in them compiles and runs.
#![forbid(unsafe_code)]

/// The README's quick start.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// docs/concepts.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/concepts.md")]
pub struct ConceptsDoctests;

/// docs/how-to/define-an-event.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/how-to/define-an-event.md")]
pub struct DefineAnEventDoctests;

/// docs/how-to/write-a-receiver.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/how-to/write-a-receiver.md")]
pub struct WriteAReceiverDoctests;

/// docs/how-to/test-a-receiver.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/how-to/test-a-receiver.md")]
pub struct TestAReceiverDoctests;

/// docs/reference/attributes.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/reference/attributes.md")]
pub struct AttributesDoctests;

/// docs/how-events-travel.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/how-events-travel.md")]
pub struct HowEventsTravelDoctests;

/// docs/how-to/use-the-event-bus.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/how-to/use-the-event-bus.md")]
pub struct UseTheEventBusDoctests;

/// docs/how-to/use-the-outbox.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/how-to/use-the-outbox.md")]
pub struct UseTheOutboxDoctests;

/// docs/reference/producer-config.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/reference/producer-config.md")]
pub struct ProducerConfigDoctests;

/// docs/architecture.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/architecture.md")]
pub struct ArchitectureDoctests;

/// opaque-keys/README.md
#[cfg(doctest)]
#[doc = include_str!("../../opaque-keys/README.md")]
pub struct OpaqueKeysReadmeDoctests;

/// catalog/README.md
#[cfg(doctest)]
#[doc = include_str!("../../catalog/README.md")]
pub struct CatalogReadmeDoctests;

/// docs/how-to/events-in-an-async-service.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/how-to/events-in-an-async-service.md")]
pub struct EventsInAnAsyncServiceDoctests;

/// docs/how-to/receive-webhooks.md
#[cfg(doctest)]
#[doc = include_str!("../../docs/how-to/receive-webhooks.md")]
pub struct ReceiveWebhooksDoctests;
