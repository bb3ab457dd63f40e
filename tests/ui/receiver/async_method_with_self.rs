use openedx_events::{EventsMetadata, openedx_event, receiver};

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1")]
pub struct BadgeEarned {
    pub username: String,
}

pub struct Mailer;

impl Mailer {
    #[receiver(BADGE_EARNED)]
    async fn congratulate(&self, _data: &BadgeEarned, _metadata: &EventsMetadata) {}
}

fn main() {}
