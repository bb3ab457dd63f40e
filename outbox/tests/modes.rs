//! The modes inside a transaction: an `immediate` event is produced at once, as ever; an
//! `on-commit` event waits in the outbox, but outside a transaction is produced at once; an
//! `outbox` event waits in the outbox. In-process receivers run in every case.
#![allow(missing_docs, reason = "tests")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use openedx_events::event_bus::{InMemoryEventBus, ProducerConfig, start_producing};
use openedx_events::{EventsMetadata, openedx_event, receiver};
use openedx_events_outbox::OutboxExt as _;

#[openedx_event(name = NOW_EVENT, event_type = "org.openedx.test.outbox.modes.now.v1", key_field = "id")]
#[derive(Clone, Debug)]
pub struct NowEvent {
    pub id: String,
}

#[openedx_event(name = LATER_EVENT, event_type = "org.openedx.test.outbox.modes.later.v1", key_field = "id")]
#[derive(Clone, Debug)]
pub struct LaterEvent {
    pub id: String,
}

static LATER_RECEIVED: AtomicUsize = AtomicUsize::new(0);

#[receiver(LATER_EVENT)]
fn count_later(_: &LaterEvent, _: &EventsMetadata) {
    LATER_RECEIVED.fetch_add(1, Ordering::SeqCst);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_mode_produces_when_it_says() {
    let bus = InMemoryEventBus::new();
    let config = ProducerConfig::from_json(
        r#"{"org.openedx.test.outbox.modes.now.v1": {"mode": "immediate", "now": {"event_key_field": "id", "enabled": true}},
            "org.openedx.test.outbox.modes.later.v1": {"mode": "on-commit", "later": {"event_key_field": "id", "enabled": true}}}"#,
    )
    .unwrap();
    let _producing = start_producing(&config, Arc::new(bus.clone()));
    let db = common::Scratch::new("modes").await;

    let mut tx = db.pool.begin().await.unwrap();
    NOW_EVENT.event(NowEvent { id: "n".into() }).in_transaction(&mut tx).send_async().await.unwrap();
    LATER_EVENT.event(LaterEvent { id: "l".into() }).in_transaction(&mut tx).send_async().await.unwrap();
    assert_eq!(bus.messages("now").len(), 1, "immediate: produced at once, inside the transaction");
    assert_eq!(bus.messages("later").len(), 0, "on-commit: not before the commit");
    assert_eq!(LATER_RECEIVED.load(Ordering::SeqCst), 1, "receivers run as with send_event");
    let topics: Vec<String> =
        sqlx::query_scalar("SELECT topic FROM openedx_events_outbox").fetch_all(&mut *tx).await.unwrap();
    assert_eq!(topics, ["later"], "only the on-commit event waits in the outbox");
    tx.commit().await.unwrap();

    LATER_EVENT.send_event(LaterEvent { id: "outside".into() });
    assert_eq!(bus.messages("later").len(), 1, "on-commit outside a transaction: at once");
    assert_eq!(db.count().await, 1);
}
