use openedx_events::openedx_event;

#[openedx_event(event_type = "org.openedx.learning.badge.earned.v1")]
pub struct BadgeEarned {
    pub username: String,
}

fn main() {}
