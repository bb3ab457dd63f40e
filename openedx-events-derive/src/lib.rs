//! Procedural macros for `openedx-events`. Use them through `openedx_events`, which re-exports
//! them: `use openedx_events::{openedx_event, receiver, EventData};`.
#![forbid(unsafe_code)]

mod attr;
mod errors;
mod expand;
mod fallback;
mod model;
mod validate;

use proc_macro::TokenStream;

/// Describes a struct that an event can carry, checking every field's type at compile time.
///
/// A field can be `String`, `bool`, `i64`, `i32`, `f64`, `chrono::DateTime<Utc>`, `uuid::Uuid`,
/// an opaque key from `openedx_events::keys`, `Vec<T>`, `BTreeMap<String, T>`, `Option<T>` (an
/// optional field: upstream's default of `None`), or another struct that derives `EventData`.
/// Any other type is a compile error at the field. The struct must have named fields and no
/// generic parameters.
///
/// The derive records the struct's name, doc comment and fields (name, type, doc comment) in
/// [`EventData::DESCRIPTION`](../openedx_events/trait.EventData.html), which schemas, docs and
/// tools read.
///
/// ```
/// use openedx_events::{EventData, FieldType};
///
/// /// A learner.
/// #[derive(EventData)]
/// pub struct LearnerData {
///     /// The learner's id.
///     pub id: i64,
///     pub username: String,
///     pub email: Option<String>,
/// }
///
/// let description = <LearnerData as EventData>::DESCRIPTION;
/// assert_eq!(description.doc, "A learner.");
/// assert_eq!(description.fields[0].doc, "The learner's id.");
/// assert!(description.fields[2].is_optional());
/// assert_eq!(*description.fields[1].ty, FieldType::String);
/// ```
#[proc_macro_derive(EventData)]
pub fn derive_event_data(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::event_data(&input).into()
}

/// Turns a payload struct into an Open edX event: generates its signal, a
/// `static NAME: OpenEdxPublicSignal<Payload>`, registered so that
/// `openedx_events::get_signal_by_type` finds it. Implies `#[derive(EventData)]`; the struct's
/// fields are the event's data keys.
///
/// # Arguments
///
/// | argument | required | meaning |
/// |---|---|---|
/// | `name = NAME` | yes | the name of the generated static, by convention the upper-case event name |
/// | `event_type = "..."` | yes | `org.openedx.<subdomain>.<subject>.<action>.v<major>`, checked at compile time |
/// | `key_field = "a.b"` | no | the dotted path, through the payload's fields, of the value that keys the event on the event bus; checked at compile time |
/// | `minor_version = N` | no | the payload's minor version; 0 by default |
/// | `allow_unversioned` | no | accept an event type without `.v<major>` (upstream's authz events) |
/// | `allow_unresolved_key_field` | no | keep a `key_field` that does not resolve through the payload, as a few upstream events declare |
///
/// The static takes the struct's visibility.
///
/// ```
/// use chrono::{DateTime, Utc};
/// use openedx_events::{openedx_event, EventData};
///
/// #[derive(EventData)]
/// pub struct LearnerData {
///     pub username: String,
/// }
///
/// /// Emitted when a learner earns a badge.
/// #[openedx_event(
///     name = BADGE_EARNED,
///     event_type = "org.openedx.learning.badge_example.earned.v1",
///     key_field = "learner.username",
///     minor_version = 1,
/// )]
/// pub struct BadgeEarned {
///     pub learner: LearnerData,
///     pub earned_at: DateTime<Utc>,
/// }
///
/// assert_eq!(BADGE_EARNED.event_type(), "org.openedx.learning.badge_example.earned.v1");
/// assert_eq!(BADGE_EARNED.minor_version(), 1);
/// assert_eq!(BADGE_EARNED.event_key_field(), Some("learner.username"));
/// assert!(openedx_events::get_signal_by_type("org.openedx.learning.badge_example.earned.v1").is_some());
/// ```
#[proc_macro_attribute]
pub fn openedx_event(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::openedx_event(args.into(), item.into()).into()
}

/// Registers a function as a receiver of a signal. It runs on every event the signal sends,
/// from any crate linked into the program; there is nothing to call.
///
/// The function takes `(data: &Payload, metadata: &EventsMetadata)`, where `Payload` is the
/// signal's payload type, and returns `()` or `Result<(), E>` with `E` convertible into
/// `Box<dyn std::error::Error + Send + Sync>`. It may be an `async fn` (its future must be
/// `Send`; `send_event_async` awaits it); it cannot be generic or a method. A mismatch with the
/// signal is a compile error at the signature.
///
/// ```
/// use openedx_events::{openedx_event, receiver, EventsMetadata};
///
/// #[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.receiver_example.earned.v1")]
/// pub struct BadgeEarned {
///     pub username: String,
/// }
///
/// #[receiver(BADGE_EARNED)]
/// fn congratulate(data: &BadgeEarned, _metadata: &EventsMetadata) -> Result<(), String> {
///     if data.username.is_empty() {
///         return Err("no one to congratulate".into());
///     }
///     Ok(())
/// }
///
/// let responses = BADGE_EARNED.send_event(BadgeEarned { username: "ada".into() });
/// assert_eq!(responses.len(), 1);
/// assert!(responses[0].receiver.ends_with("::congratulate"));
/// ```
#[proc_macro_attribute]
pub fn receiver(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::receiver(args.into(), item.into()).into()
}
