//! The async consumer against the real broker: `async fn` receivers are awaited, poison is
//! dead-lettered, and offsets are committed when it stops, so a restart resumes after them.
#![allow(missing_docs, reason = "test payloads need no docs")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use openedx_events::EventsMetadata;
use openedx_events::event_bus::{EventKey, RetryPolicy};
use openedx_events_kafka::{KafkaConsumer, StartFrom};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_receivers_are_awaited_and_poison_is_dead_lettered() {
    let scratch = Scratch::new("async");
    scratch.topic("async", 1);
    let awaited = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&awaited);
    KAFKA_PUBLISHED.connect_async("async-receiver", move |data: Published, metadata: EventsMetadata| {
        let counter = Arc::clone(&counter);
        async move {
            if !metadata.from_event_bus() || !data.course.key.starts_with("course-v1:async+") {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            if data.n < 0 {
                return Err(format!("refused n={}", data.n));
            }
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    let producer = scratch.producer();
    for n in [1, 2, -3, 4, 5] {
        let data = Published { course: Course { key: format!("course-v1:async+{n}+x") }, n };
        produce(&producer, &KAFKA_PUBLISHED, "async", &data, Some(EventKey::String(data.course.key.clone())));
    }
    let build = || {
        KafkaConsumer::builder(scratch.settings.clone())
            .topic("async")
            .group_id(scratch.group("async"))
            .start(StartFrom::Beginning)
            .retry(RetryPolicy { max_attempts: 2, backoff: Duration::from_millis(5) })
            .property("session.timeout.ms", "6000")
            .build_async()
            .expect("an async consumer")
    };
    let mut consumer = build();
    let seen = Arc::clone(&awaited);
    let done = async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while seen.load(Ordering::SeqCst) < 4 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    consumer.run(done).await.expect("consumed");
    assert_eq!(awaited.load(Ordering::SeqCst), 4);
    assert_eq!(consumer.stats().dead_lettered, 1, "{:?}", consumer.stats());
    drop(consumer);

    // The offsets were committed: a new consumer of the group has nothing left to do.
    let produced_after = Published { course: Course { key: "course-v1:async+6+x".into() }, n: 6 };
    produce(&producer, &KAFKA_PUBLISHED, "async", &produced_after, Some(EventKey::String("k".into())));
    let mut consumer = build();
    let seen = Arc::clone(&awaited);
    let done = async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while seen.load(Ordering::SeqCst) < 5 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    consumer.run(done).await.expect("consumed");
    assert_eq!(awaited.load(Ordering::SeqCst), 5);
    assert_eq!(consumer.stats().delivered, 1, "only the new event: {:?}", consumer.stats());
}
