use openedx_events::EventData;

#[derive(EventData)]
pub union Number {
    pub int: i64,
    pub float: f64,
}

fn main() {}
