use openedx_events::{EventsMetadata, openedx_event, receiver};

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1")]
pub struct BadgeEarned {
    pub username: String,
}

pub struct Mail {
    pub to: String,
}

#[receiver(BADGE_EARNED)]
fn congratulate(_data: &Mail, _metadata: &EventsMetadata) {}

fn main() {}
