use openedx_events::{EventData, EventsMetadata, openedx_event, receiver};

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1")]
pub struct BadgeEarned {
    pub username: String,
}

#[derive(EventData)]
pub struct Mail {
    pub to: String,
}

#[receiver(BADGE_EARNED)]
async fn congratulate(_data: &Mail, _metadata: &EventsMetadata) {}

fn main() {}
