use openedx_events::{EventData, openedx_event};

#[derive(EventData)]
pub struct LearnerData {
    pub username: String,
}

#[openedx_event(
    name = BADGE_EARNED,
    event_type = "org.openedx.learning.badge.earned.v1",
    key_field = "learner",
)]
pub struct BadgeEarned {
    pub learner: LearnerData,
    pub badge: String,
}

fn main() {}
