use openedx_events::openedx_event;

#[openedx_event(
    name = BADGE_EARNED,
    event_type = "org.openedx.learning.badge.earned.v1",
    key_field = "learner..username",
)]
pub struct BadgeEarned {
    pub learner: String,
}

fn main() {}
