//! A consumer's close, bounded in time. librdkafka closes a group member by committing what is
//! stored and leaving the group through its coordinator, and while no broker answers it waits
//! for one, with no limit (rdkafka's `Drop` polls until the close is done). A service told to stop
//! during an outage would never exit. So the librdkafka consumer is dropped on a thread of its
//! own, and the owner waits for that at most [`CLOSE_WAIT`]; after that the close goes on in the
//! background, ending when a broker answers or with the process.
//!
//! Nothing is lost either way: offsets are committed before the close (the consumers commit what
//! they stored when they stop and when they are dropped), and what was not committed is
//! dispatched again by the group's next member.

use std::ops::Deref;
use std::sync::mpsc;
use std::time::Duration;

/// How long dropping a consumer waits for librdkafka's close.
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// A librdkafka consumer whose drop waits at most [`CLOSE_WAIT`] for its close.
pub(crate) struct Closing<T: Send + 'static> {
    consumer: Option<T>,
    /// The full topic, for the log.
    topic: String,
}

impl<T: Send + 'static> Closing<T> {
    pub(crate) fn new(consumer: T, topic: &str) -> Self {
        Closing { consumer: Some(consumer), topic: topic.to_owned() }
    }
}

impl<T: Send + 'static> Deref for Closing<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.consumer {
            Some(consumer) => consumer,
            // Taken only by `drop`, after which nothing can borrow it.
            None => unreachable!("the consumer is taken only when it is dropped"),
        }
    }
}

impl<T: Send + 'static> Drop for Closing<T> {
    fn drop(&mut self) {
        let Some(consumer) = self.consumer.take() else { return };
        if !close_within(consumer, CLOSE_WAIT) {
            tracing::warn!(
                "the Kafka consumer of `{}` is still closing after {} s (no broker answers); it goes on \
                 closing in the background. What it committed stays committed; the rest is dispatched \
                 again by the group's next member",
                self.topic,
                CLOSE_WAIT.as_secs()
            );
        }
    }
}

/// Drops `consumer` on a thread of its own; whether that finished within `wait`.
pub(crate) fn close_within<T: Send + 'static>(consumer: T, wait: Duration) -> bool {
    let (closed, done) = mpsc::channel();
    let spawned = std::thread::Builder::new().name("kafka-close".to_owned()).spawn(move || {
        drop(consumer);
        let _ = closed.send(());
    });
    match spawned {
        // The closure, with the consumer, was dropped here when no thread could be made.
        Err(_) => true,
        Ok(_) => wait_for(&done, wait),
    }
}

fn wait_for(done: &mpsc::Receiver<()>, wait: Duration) -> bool {
    // Dropped on a tokio worker (the async consumer), the wait lets the runtime move its other
    // tasks to other workers meanwhile.
    #[cfg(feature = "tokio")]
    if let Ok(handle) = tokio::runtime::Handle::try_current()
        && handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
    {
        return tokio::task::block_in_place(|| done.recv_timeout(wait).is_ok());
    }
    done.recv_timeout(wait).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Stands for a consumer whose close takes `0`.
    struct SlowToClose(Duration);

    impl Drop for SlowToClose {
        fn drop(&mut self) {
            std::thread::sleep(self.0);
        }
    }

    #[test]
    fn a_close_in_time_is_waited_for() {
        let start = Instant::now();
        assert!(close_within(SlowToClose(Duration::from_millis(50)), Duration::from_secs(5)));
        assert!(start.elapsed() >= Duration::from_millis(50), "waited for the close");
    }

    #[test]
    fn a_close_that_hangs_is_left_to_finish_alone() {
        let start = Instant::now();
        assert!(!close_within(SlowToClose(Duration::from_secs(30)), Duration::from_millis(100)));
        assert!(start.elapsed() < Duration::from_secs(5), "did not wait for the close");
    }

    #[test]
    fn the_consumer_is_reachable_until_dropped() {
        let closing = Closing::new(vec![1, 2, 3], "t");
        assert_eq!(closing.len(), 3);
        drop(closing);
    }
}
