use openedx_events::{EventData, openedx_event};

#[derive(Debug, EventData)]
#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1")]
pub struct BadgeEarned {
    pub username: String,
}

fn main() {}
