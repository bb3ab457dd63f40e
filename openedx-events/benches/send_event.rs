//! Criterion benchmarks of sending an event: `send_event` to 0, 1 and 10 `#[receiver]`
//! functions and to one receiver connected at run time, metadata generation, and "the floor" —
//! the same receiver functions called through a slice of fn pointers plus what a real send must
//! do at least (`Utc::now()`, then also a UUID v1) — `send_event_async` to one async and one
//! synchronous receiver, and the JSON form of metadata.
//!
//! Run with `cargo bench -p openedx-events --bench send_event -- --warm-up-time 1
//! --measurement-time 3`; results are in `benches/README.md`.

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use criterion::Criterion;
use openedx_events::{EventsMetadata, openedx_event, receiver};
use uuid::timestamp::context::ContextV1;
use uuid::{Timestamp, Uuid};

// The benched signals; their payloads are two integers, so that building one costs nothing.
// (Written out rather than through `macro_rules!`: `#[openedx_event]` wants a literal
// `event_type` token.)

/// An event without receivers.
#[openedx_event(name = NO_RECEIVER, event_type = "org.openedx.bench.receivers.zero.v1")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoReceiver {
    /// A user.
    pub user_id: i64,
    /// A course.
    pub course: i32,
}

/// An event with one `#[receiver]`.
#[openedx_event(name = ONE_RECEIVER, event_type = "org.openedx.bench.receivers.one.v1")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneReceiver {
    /// A user.
    pub user_id: i64,
    /// A course.
    pub course: i32,
}

/// An event with ten `#[receiver]`s.
#[openedx_event(name = TEN_RECEIVERS, event_type = "org.openedx.bench.receivers.ten.v1")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TenReceivers {
    /// A user.
    pub user_id: i64,
    /// A course.
    pub course: i32,
}

/// An event with one receiver connected at run time.
#[openedx_event(name = CONNECTED, event_type = "org.openedx.bench.receivers.connected.v1")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Connected {
    /// A user.
    pub user_id: i64,
    /// A course.
    pub course: i32,
}

/// An event with one `async` receiver.
#[openedx_event(name = ONE_ASYNC, event_type = "org.openedx.bench.receivers.one_async.v1")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneAsync {
    /// A user.
    pub user_id: i64,
    /// A course.
    pub course: i32,
}

// Receivers do trivial work: they only make sure the data and metadata are read.

#[receiver(ONE_ASYNC)]
async fn one_async(data: &OneAsync, metadata: &EventsMetadata) {
    black_box((data, metadata));
}

#[receiver(ONE_RECEIVER)]
fn one(data: &OneReceiver, metadata: &EventsMetadata) {
    black_box((data, metadata));
}

macro_rules! ten_receivers {
    ($($name:ident)*) => {
        $(
            #[receiver(TEN_RECEIVERS)]
            fn $name(data: &TenReceivers, metadata: &EventsMetadata) {
                black_box((data, metadata));
            }
        )*
        /// The same ten functions, for the floor.
        const TEN: &[fn(&TenReceivers, &EventsMetadata)] = &[$($name),*];
    };
}

ten_receivers!(ten_0 ten_1 ten_2 ten_3 ten_4 ten_5 ten_6 ten_7 ten_8 ten_9);

/// The one receiver, for the floor.
const ONE: &[fn(&OneReceiver, &EventsMetadata)] = &[one];

/// The node of the floor's UUIDs (send_event uses a random node chosen once per process).
const NODE: [u8; 6] = [1, 2, 3, 4, 5, 6];

/// The least a send of `data` to `receivers` can cost: take the time, call each receiver.
#[inline(never)]
fn floor<E>(receivers: &[fn(&E, &EventsMetadata)], data: &E, metadata: &EventsMetadata) {
    black_box(Utc::now());
    for receiver in black_box(receivers) {
        receiver(black_box(data), metadata);
    }
}

/// The floor plus a new UUID v1, as every sent event gets.
#[inline(never)]
fn floor_uuid<E>(receivers: &[fn(&E, &EventsMetadata)], data: &E, metadata: &EventsMetadata) {
    black_box(Uuid::now_v1(&NODE));
    floor(receivers, data, metadata);
}

/// The clock sequence of [`floor_one_read`]'s UUIDs.
static CLOCK_SEQUENCE: ContextV1 = ContextV1::new(0);

/// The floor with a UUID v1 made from the same clock read as the time, as `send_event` does:
/// one `SystemTime::now()`, a `DateTime` and a UUID v1 from it, then the receivers.
#[inline(never)]
fn floor_one_read<E>(receivers: &[fn(&E, &EventsMetadata)], data: &E, metadata: &EventsMetadata) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    black_box(DateTime::from_timestamp(now.as_secs().cast_signed(), now.subsec_nanos()));
    let timestamp = Timestamp::from_unix(&CLOCK_SEQUENCE, now.as_secs(), now.subsec_nanos());
    black_box(Uuid::new_v1(timestamp, &NODE));
    for receiver in black_box(receivers) {
        receiver(black_box(data), metadata);
    }
}

fn check_setup() {
    assert!(NO_RECEIVER.receivers().is_empty());
    assert_eq!(ONE_RECEIVER.receivers().len(), 1);
    assert_eq!(TEN_RECEIVERS.receivers().len(), 10);
    assert_eq!(CONNECTED.receivers().len(), 1);
    assert!(ONE_RECEIVER.send_event(OneReceiver { user_id: 1, course: 2 }).iter().all(|r| r.is_ok()));
}

fn send(c: &mut Criterion) {
    CONNECTED.connect("bench::connected", |data: &Connected, metadata: &EventsMetadata| {
        black_box((data, metadata));
    });
    check_setup();

    let mut group = c.benchmark_group("send_event");
    group.bench_function("send_event/0_receivers", |b| {
        b.iter(|| NO_RECEIVER.send_event(black_box(NoReceiver { user_id: 7, course: 42 })));
    });
    group.bench_function("send_event/1_receiver", |b| {
        b.iter(|| ONE_RECEIVER.send_event(black_box(OneReceiver { user_id: 7, course: 42 })));
    });
    group.bench_function("send_event/10_receivers", |b| {
        b.iter(|| TEN_RECEIVERS.send_event(black_box(TenReceivers { user_id: 7, course: 42 })));
    });
    group.bench_function("send_event/1_connected", |b| {
        b.iter(|| CONNECTED.send_event(black_box(Connected { user_id: 7, course: 42 })));
    });

    // Awaited on `futures`' executor, the least an async send can run on; `block_on` of a ready
    // future is measured too, to tell the executor's part from the send's.
    group.bench_function("send_event_async/1_async_receiver", |b| {
        b.iter(|| {
            futures::executor::block_on(ONE_ASYNC.send_event_async(black_box(OneAsync { user_id: 7, course: 42 })))
        });
    });
    group.bench_function("send_event_async/1_sync_receiver", |b| {
        b.iter(|| {
            futures::executor::block_on(
                ONE_RECEIVER.send_event_async(black_box(OneReceiver { user_id: 7, course: 42 })),
            )
        });
    });
    group.bench_function("floor/block_on_ready", |b| b.iter(|| futures::executor::block_on(black_box(async { 1 }))));

    group.bench_function("metadata/generate_signal_metadata", |b| {
        b.iter(|| black_box(&ONE_RECEIVER).generate_signal_metadata(None));
    });
    group.bench_function("metadata/EventsMetadata::new", |b| {
        b.iter(|| EventsMetadata::new(black_box("org.openedx.bench.receivers.one.v1")));
    });

    let one_data = OneReceiver { user_id: 7, course: 42 };
    let ten_data = TenReceivers { user_id: 7, course: 42 };
    let metadata = ONE_RECEIVER.generate_signal_metadata(None);
    group.bench_function("floor/1_fn+now", |b| b.iter(|| floor(ONE, &one_data, &metadata)));
    group.bench_function("floor/1_fn+now+uuid_v1", |b| b.iter(|| floor_uuid(ONE, &one_data, &metadata)));
    group.bench_function("floor/10_fn+now+uuid_v1", |b| b.iter(|| floor_uuid(TEN, &ten_data, &metadata)));
    group.bench_function("floor/1_fn+one_clock_read+uuid_v1", |b| b.iter(|| floor_one_read(ONE, &one_data, &metadata)));
    group.finish();
}

fn json(c: &mut Criterion) {
    let metadata = ONE_RECEIVER.generate_signal_metadata(None);
    let text = metadata.to_json();
    assert_eq!(EventsMetadata::from_json(&text).expect("round trip"), metadata);

    let mut group = c.benchmark_group("metadata_json");
    group.bench_function("to_json", |b| b.iter(|| black_box(&metadata).to_json()));
    group.bench_function("from_json", |b| b.iter(|| EventsMetadata::from_json(black_box(&text))));
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    send(&mut c);
    json(&mut c);
    c.final_summary();
}
