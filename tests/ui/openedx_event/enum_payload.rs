use openedx_events::openedx_event;

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1")]
pub enum BadgeEarned {
    Gold,
    Silver,
}

fn main() {}
