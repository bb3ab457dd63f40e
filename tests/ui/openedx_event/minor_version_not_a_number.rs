use openedx_events::openedx_event;

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1", minor_version = "1")]
pub struct BadgeEarned {
    pub username: String,
}

fn main() {}
