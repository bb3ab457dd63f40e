use openedx_events::EventData;

#[derive(EventData)]
pub enum EnrollmentMode {
    Audit,
    Verified,
}

fn main() {}
