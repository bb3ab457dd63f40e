use openedx_events::EventData;

#[derive(EventData)]
pub struct CohortData {
    pub name: String,
    pub members: std::collections::HashSet<String>,
}

fn main() {}
