use openedx_events::{EventData, EventsMetadata, openedx_event, receiver};

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1")]
pub struct BadgeEarned {
    pub username: String,
}

#[derive(EventData)]
pub struct CertificateCreated {
    pub username: String,
}

#[receiver(BADGE_EARNED)]
fn congratulate(_data: &CertificateCreated, _metadata: &EventsMetadata) {}

fn main() {}
