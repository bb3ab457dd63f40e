use openedx_events::openedx_event;

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned", allow_unversioned = true)]
pub struct BadgeEarned {
    pub username: String,
}

fn main() {}
