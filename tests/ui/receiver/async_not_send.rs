use std::rc::Rc;

use openedx_events::{EventsMetadata, openedx_event, receiver};

#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1")]
pub struct BadgeEarned {
    pub username: String,
}

async fn later() {}

#[receiver(BADGE_EARNED)]
async fn congratulate(data: &BadgeEarned, _metadata: &EventsMetadata) {
    let name = Rc::new(data.username.clone());
    later().await;
    drop(name);
}

fn main() {}
