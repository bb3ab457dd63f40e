use openedx_events::EventData;

#[derive(EventData)]
pub struct CohortData {
    pub name: String,
    pub member_ids: Vec<u64>,
}

fn main() {}
