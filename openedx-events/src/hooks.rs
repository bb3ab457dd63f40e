//! What sending lets other code filter and observe, per thread: filters decide whether an event
//! type reaches its receivers, recorders keep the events a signal sends. [`crate::testing`] is
//! built on them; sending only consults them, and costs one atomic load while none is installed.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::metadata::EventsMetadata;

/// How many filters and recorders are installed in the whole process; while none is, sending
/// skips the thread-local look-ups altogether.
static INSTALLED: AtomicUsize = AtomicUsize::new(0);

/// Identifies an installed filter or recorder, to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HookId(u64);

/// The events a recorder keeps, oldest first.
pub(crate) type Recorded<E> = RefCell<Vec<(E, EventsMetadata)>>;

/// A recorder: its id, the address of the signal it records, and its [`Recorded`] list (behind
/// `dyn Any`, since signals differ in payload type).
type RecorderSlot = (HookId, usize, Rc<dyn Any>);

thread_local! {
    static FILTERS: RefCell<Vec<(HookId, BTreeSet<&'static str>)>> = const { RefCell::new(Vec::new()) };
    static RECORDERS: RefCell<Vec<RecorderSlot>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

fn next_id() -> HookId {
    NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id + 1);
        HookId(id)
    })
}

/// From now on this thread sends only these event types to receivers, until the filter is
/// removed; the newest filter decides.
pub(crate) fn install_filter(allowed: BTreeSet<&'static str>) -> HookId {
    let id = next_id();
    FILTERS.with(|filters| filters.borrow_mut().push((id, allowed)));
    INSTALLED.fetch_add(1, Ordering::SeqCst);
    id
}

/// From now on every event the signal at `signal_address` sends from this thread is pushed to
/// `events` (a `Recorded<E>` of the signal's payload), until the recorder is removed; the
/// newest recorder of a signal gets its events.
pub(crate) fn install_recorder(signal_address: usize, events: Rc<dyn Any>) -> HookId {
    let id = next_id();
    RECORDERS.with(|recorders| recorders.borrow_mut().push((id, signal_address, events)));
    INSTALLED.fetch_add(1, Ordering::SeqCst);
    id
}

/// Removes a filter or recorder installed on this thread.
pub(crate) fn remove(id: HookId) {
    // `try_with`: the thread may be tearing its locals down already.
    let _ = FILTERS.try_with(|filters| filters.borrow_mut().retain(|(other, _)| *other != id));
    let _ = RECORDERS.try_with(|recorders| recorders.borrow_mut().retain(|(other, _, _)| *other != id));
    INSTALLED.fetch_sub(1, Ordering::SeqCst);
}

/// Whether this thread's newest filter, if any, lets this event type through.
#[inline]
pub(crate) fn allows(event_type: &str) -> bool {
    if INSTALLED.load(Ordering::Relaxed) == 0 {
        return true;
    }
    FILTERS
        .try_with(|filters| match filters.borrow().last() {
            Some((_, allowed)) => allowed.contains(event_type),
            None => true,
        })
        .unwrap_or(true)
}

/// Hands a sent event to the newest recorder of its signal on this thread, if any.
#[inline]
pub(crate) fn record<E: 'static>(signal_address: usize, data: E, metadata: EventsMetadata) {
    if INSTALLED.load(Ordering::Relaxed) == 0 {
        return;
    }
    let events = RECORDERS
        .try_with(|recorders| {
            let recorders = recorders.borrow();
            recorders.iter().rev().find(|(_, signal, _)| *signal == signal_address).map(|(_, _, e)| Rc::clone(e))
        })
        .ok()
        .flatten();
    if let Some(events) = events.as_deref().and_then(|events| events.downcast_ref::<Recorded<E>>()) {
        events.borrow_mut().push((data, metadata));
    }
}
