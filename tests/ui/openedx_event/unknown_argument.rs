use openedx_events::{EventsMetadata, openedx_event, receiver};

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1", key = "username")]
pub struct BadgeEarned {
    pub username: String,
}

// Code using the event still compiles: only the argument is reported.
#[receiver(BADGE_EARNED)]
fn congratulate(_data: &BadgeEarned, _metadata: &EventsMetadata) {}

fn main() {
    BADGE_EARNED.send_event(BadgeEarned { username: "ada".into() });
}
