use openedx_events::openedx_event;

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.badge_earned.v1")]
pub struct BadgeEarned {
    pub username: String,
}

fn main() {}
