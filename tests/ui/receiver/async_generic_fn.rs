use openedx_events::{EventsMetadata, openedx_event, receiver};

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1")]
pub struct BadgeEarned {
    pub username: String,
}

#[receiver(BADGE_EARNED)]
async fn congratulate<T: Default>(_data: &BadgeEarned, _metadata: &EventsMetadata) {
    let _ = T::default();
}

fn main() {}
