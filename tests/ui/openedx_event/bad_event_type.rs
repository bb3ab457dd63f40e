use openedx_events::{EventsMetadata, openedx_event, receiver};

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.BadgeEarned.v1")]
pub struct BadgeEarned {
    pub username: String,
}

// Code using the event still compiles: only the event type is reported.
#[receiver(BADGE_EARNED)]
fn congratulate(data: &BadgeEarned, _metadata: &EventsMetadata) {
    println!("well done, {}", data.username);
}

fn main() {
    BADGE_EARNED.send_event(BadgeEarned { username: "ada".into() });
}
