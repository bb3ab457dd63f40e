use openedx_events::{EventData, openedx_event};

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1")]
#[derive(EventData, Debug)]
pub struct BadgeEarned {
    pub username: String,
}

fn main() {}
