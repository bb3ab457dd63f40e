use openedx_events::EventData;

#[derive(EventData)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

fn main() {}
