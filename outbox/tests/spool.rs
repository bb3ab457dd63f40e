//! The spool against a Redis of the test's own: events sent while the bus is down wait in the
//! SQLite file and reach the bus, in order, once it is back; a process killed with SIGKILL while
//! the bus is down loses none of what it accepted.
#![allow(missing_docs, reason = "tests")]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use openedx_events::EventsMetadata;
use openedx_events::event_bus::{EventBusProducer, EventKey, OutgoingMessage};
use openedx_events_outbox::SpoolingProducer;
use openedx_events_redis::{RedisProducer, RedisSettings};
use openedx_events_test_support::{OwnRedis, free_port, unique_name};

fn producer_at(port: u16, prefix: &str) -> Arc<RedisProducer> {
    let settings = RedisSettings::default().with_url(format!("redis://127.0.0.1:{port}")).with_topic_prefix(prefix);
    Arc::new(RedisProducer::new(settings).expect("a producer"))
}

fn send_order(producer: &dyn EventBusProducer, key: &str, seq: i64) {
    let data = OrderPlaced { order_id: key.to_owned(), seq };
    let bytes = ORDER_PLACED.encode_avro(&data).expect("encodes");
    let metadata = EventsMetadata::new(ORDER_PLACED.event_type());
    let event_key = EventKey::String(key.to_owned());
    let message =
        OutgoingMessage::new(&ORDER_PLACED, "orders", Some("order_id"), &bytes, &metadata).with_key(Some(&event_key));
    producer.send(&message).expect("the spool accepts it");
}

fn spool_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{}.sqlite", unique_name("oe-spool")))
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[test]
fn events_sent_while_the_bus_is_down_arrive_in_order_once_it_is_back() {
    let port = free_port();
    let prefix = unique_name("oe-test-spool");
    let path = spool_path();
    let spool = SpoolingProducer::builder(&path, producer_at(port, &prefix))
        .retry_pause(Duration::from_millis(50))
        .open()
        .expect("the spool opens");
    let mut expected = Vec::new();
    for seq in 0..200 {
        let key = format!("key-{}", seq % 3);
        send_order(&spool, &key, seq);
        expected.push((key, seq));
    }
    assert_eq!(spool.stats().waiting, 200, "{:?}", spool.stats());
    let bus = OwnRedis::start_on(port, false);
    for seq in 200..300 {
        let key = format!("key-{}", seq % 3);
        send_order(&spool, &key, seq);
        expected.push((key, seq));
    }
    let client = redis::Client::open(bus.url()).unwrap();
    let mut connection = client.get_connection().unwrap();
    let arrived = wait_for_stream(&mut connection, &format!("{prefix}-orders"), 300, Duration::from_secs(20));
    assert_complete_and_ordered(&arrived, &expected);
    let seqs: Vec<i64> = arrived.iter().map(|a| a.data.seq).collect();
    assert_eq!(seqs, (0..300).collect::<Vec<_>>(), "one sender: the stream has its order exactly");
    spool.shutdown();
    remove(&path);
}

/// The sending child process of `a_crash_while_the_bus_is_down_loses_nothing_accepted`, killed by it.
fn spool_child(path: String) {
    let port: u16 = std::env::var("SPOOL_CHILD_PORT").expect("the port").parse().expect("a port");
    let prefix = std::env::var("SPOOL_CHILD_PREFIX").expect("the prefix");
    let spool = SpoolingProducer::open(path, producer_at(port, &prefix)).expect("the spool opens");
    for seq in 0..500 {
        send_order(&spool, &format!("key-{}", seq % 4), seq);
        println!("accepted {seq}");
    }
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_crash_while_the_bus_is_down_loses_nothing_accepted() {
    // Run again by itself as the sender it kills.
    if let Ok(path) = std::env::var("SPOOL_CHILD_PATH") {
        return spool_child(path);
    }
    let port = free_port();
    let prefix = unique_name("oe-test-spool-crash");
    let path = spool_path();
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", "a_crash_while_the_bus_is_down_loses_nothing_accepted", "--nocapture"])
        .env("SPOOL_CHILD_PATH", &path)
        .env("SPOOL_CHILD_PORT", port.to_string())
        .env("SPOOL_CHILD_PREFIX", &prefix)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().expect("its stdout");
    let mut accepted = -1;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        if let Some(seq) = line.strip_prefix("accepted ") {
            accepted = seq.parse().expect("a number");
            if accepted >= 300 {
                break;
            }
        }
    }
    // SIGKILL in the middle of sending: what was accepted is on disk.
    child.kill().expect("SIGKILL");
    child.wait().expect("the child ends");
    assert!(accepted >= 300, "the child accepted {accepted}");

    let bus = OwnRedis::start_on(port, false);
    let spool = SpoolingProducer::open(&path, producer_at(port, &prefix)).expect("the spool opens again");
    let client = redis::Client::open(bus.url()).unwrap();
    let mut connection = client.get_connection().unwrap();
    let stream = format!("{prefix}-orders");
    let deadline = Instant::now() + Duration::from_secs(20);
    while spool.stats().waiting > 0 {
        assert!(Instant::now() < deadline, "{:?}", spool.stats());
        std::thread::sleep(Duration::from_millis(20));
    }
    let arrived = read_stream(&mut connection, &stream);
    let seqs: Vec<i64> = arrived.iter().map(|a| a.data.seq).collect();
    assert!(seqs.len() as i64 > accepted, "{} arrived, {accepted} accepted", seqs.len());
    assert_eq!(seqs, (0..seqs.len() as i64).collect::<Vec<_>>(), "every accepted event, in order");
    spool.shutdown();
    remove(&path);
}
