//! Concurrent dispatch that keeps each key's order: the messages of one batch are put in lanes
//! by key (a key's messages in one lane, in stream order; a message without a key in a lane of
//! its own), and up to `concurrency` threads take lanes and dispatch each lane's messages one
//! after the other.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

/// The lanes of these messages (their index in the batch and their key), each lane in order;
/// lanes in the order of their first message.
pub(crate) fn lanes(keyed: impl IntoIterator<Item = (usize, Option<String>)>) -> Vec<Vec<usize>> {
    let mut lanes: Vec<Vec<usize>> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (index, key) in keyed {
        match key {
            Some(key) => match by_key.get(&key) {
                Some(&lane) => lanes[lane].push(index),
                None => {
                    by_key.insert(key, lanes.len());
                    lanes.push(vec![index]);
                }
            },
            None => lanes.push(vec![index]),
        }
    }
    lanes
}

/// Runs the lanes on up to `concurrency` threads of a scope: `dispatch(index)` handles one
/// message and says whether its lane may go on (false when stopping: the rest of the lane is
/// left alone, so that no later message of the key overtakes it). Returns each message's
/// outcome by its index, `None` for those not run; `len` is the batch's length.
pub(crate) fn run_lanes<T: Send>(
    lanes: Vec<Vec<usize>>,
    len: usize,
    concurrency: usize,
    dispatch: impl Fn(usize) -> (T, bool) + Sync,
) -> Vec<Option<T>> {
    let threads = concurrency.clamp(1, lanes.len().max(1));
    let queue = Mutex::new(VecDeque::from(lanes));
    let outcomes: Mutex<Vec<Option<T>>> = Mutex::new((0..len).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let Some(lane) = queue.lock().unwrap_or_else(PoisonError::into_inner).pop_front() else { return };
                    for index in lane {
                        let (outcome, go_on) = dispatch(index);
                        if let Some(slot) = outcomes.lock().unwrap_or_else(PoisonError::into_inner).get_mut(index) {
                            *slot = Some(outcome);
                        }
                        if !go_on {
                            break;
                        }
                    }
                }
            });
        }
    });
    outcomes.into_inner().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn key(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn a_key_keeps_one_lane_and_keyless_messages_go_alone() {
        let keyed = [(0, key("a")), (1, key("b")), (2, None), (3, key("a")), (4, None), (6, key("b"))];
        assert_eq!(lanes(keyed), vec![vec![0, 3], vec![1, 6], vec![2], vec![4]]);
    }

    #[test]
    fn lanes_run_concurrently_up_to_the_limit_each_in_order() {
        let order = Mutex::new(Vec::new());
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let keyed = (0..12).map(|index| (index, Some(format!("k{}", index % 4))));
        let outcomes = run_lanes(lanes(keyed), 12, 3, |index| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            order.lock().unwrap().push(index);
            running.fetch_sub(1, Ordering::SeqCst);
            (index * 10, true)
        });
        assert_eq!(outcomes, (0..12).map(|index| Some(index * 10)).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 3);
        let order = order.into_inner().unwrap();
        for lane in 0..4 {
            let seen: Vec<usize> = order.iter().copied().filter(|index| index % 4 == lane).collect();
            assert_eq!(seen, vec![lane, lane + 4, lane + 8], "key k{lane} in order");
        }
    }

    #[test]
    fn a_stopped_lane_leaves_the_rest_of_its_key_alone() {
        let outcomes = run_lanes(vec![vec![0, 1, 2], vec![3]], 4, 2, |index| ((), index != 0));
        assert_eq!(outcomes, vec![Some(()), None, None, Some(())]);
    }
}
