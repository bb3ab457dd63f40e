use openedx_events::EventData;

#[derive(EventData)]
pub struct GradeData {
    pub learner_id: i64,
    pub points: u64,
}

fn main() {}
