//! Defines an event, registers receivers (one succeeds, one fails, one panics) and sends it.
//!
//! Run it with `cargo run -p openedx-events --example quickstart`.

use chrono::{DateTime, Utc};
use openedx_events::{EventData, EventsMetadata, openedx_event, receiver};

/// A learner, as the badge event describes them.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct LearnerData {
    /// The learner's user id.
    pub id: i64,
    /// The learner's username.
    pub username: String,
    /// The learner's email address, when they shared it.
    pub email: Option<String>,
}

/// Emitted when a learner earns a badge.
#[openedx_event(
    name = BADGE_EARNED,
    event_type = "org.openedx.learning.badge.earned.v1",
    key_field = "learner.username"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct BadgeEarned {
    /// Who earned it.
    pub learner: LearnerData,
    /// Which badge.
    pub badge: String,
    /// When.
    pub earned_at: DateTime<Utc>,
}

#[receiver(BADGE_EARNED)]
fn congratulate(data: &BadgeEarned, metadata: &EventsMetadata) {
    println!("  congratulate: well done, {} ({} at {})", data.learner.username, metadata.event_type, metadata.time);
}

#[receiver(BADGE_EARNED)]
fn send_mail(_data: &BadgeEarned, _metadata: &EventsMetadata) -> Result<(), String> {
    Err("mail server down".to_string())
}

#[receiver(BADGE_EARNED)]
fn buggy_plugin(_data: &BadgeEarned, _metadata: &EventsMetadata) {
    panic!("bug in a plugin");
}

fn main() {
    // A receiver's panic is caught and reported; keep the default hook from printing it too.
    std::panic::set_hook(Box::new(|_| {}));

    let event = BadgeEarned {
        learner: LearnerData { id: 7, username: "ada".into(), email: None },
        badge: "first-steps".into(),
        earned_at: Utc::now(),
    };
    println!("sending {} to {:?}", BADGE_EARNED.event_type(), BADGE_EARNED.receivers());
    for response in BADGE_EARNED.send_event(event.clone()) {
        match &response.result {
            Ok(()) => println!("  {}: ok", response.receiver),
            Err(error) => println!("  {}: {error}", response.receiver),
        }
    }

    let signal = openedx_events::get_signal_by_type("org.openedx.learning.badge.earned.v1").expect("registered");
    println!("found by type: {} (key field {:?})", signal.data().name, signal.event_key_field());

    BADGE_EARNED.disable();
    println!("disabled: {} responses", BADGE_EARNED.send_event(event).len());
}
