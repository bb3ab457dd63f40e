use openedx_events::openedx_event;

const EVENT_TYPE: &str = "org.openedx.learning.badge.earned.v1";

#[openedx_event(name = BADGE_EARNED, event_type = EVENT_TYPE)]
pub struct BadgeEarned {
    pub username: String,
}

fn main() {}
