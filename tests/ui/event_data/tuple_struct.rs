use openedx_events::EventData;

#[derive(EventData)]
pub struct UserId(pub i64);

fn main() {}
