use openedx_events::EventData;

#[derive(EventData)]
pub struct Nothing;

fn main() {}
