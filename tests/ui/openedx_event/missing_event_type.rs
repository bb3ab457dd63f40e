use openedx_events::openedx_event;

#[openedx_event(name = BADGE_EARNED)]
pub struct BadgeEarned {
    pub username: String,
}

fn main() {}
