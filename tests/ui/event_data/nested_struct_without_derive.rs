use openedx_events::EventData;

pub struct UserData {
    pub id: i64,
}

#[derive(EventData)]
pub struct EnrollmentData {
    pub user: UserData,
    pub mode: String,
}

fn main() {}
