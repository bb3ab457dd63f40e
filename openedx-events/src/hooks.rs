//! What sending lets other code filter and observe: filters decide whether an event type reaches
//! its receivers, recorders keep the events a signal sends. [`crate::testing`] is built on them;
//! sending only consults them, and costs one atomic load while none exists.
//!
//! Hooks belong to the thread that installs them, and to the futures [`Bound`] to it: a bound
//! future carries the hooks of the thread that made it to whichever thread polls it.

use std::any::Any;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use crate::metadata::EventsMetadata;

/// How many hooks exist in the whole process, installed on a thread or carried by a bound
/// future; while none does, sending skips the thread-local look-ups altogether.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Identifies an installed filter or recorder, to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HookId(u64);

/// The events a recorder keeps, oldest first.
pub(crate) type Recorded<E> = Mutex<Vec<(E, EventsMetadata)>>;

enum Hook {
    /// Only these event types reach their receivers.
    Filter(BTreeSet<&'static str>),
    /// The events of the signal at this address go to a `Recorded<E>` of its payload.
    Recorder(usize, Arc<dyn Any + Send + Sync>),
}

/// A hook, counted in [`LIVE`] for as long as anything holds it.
struct Live(Hook);

impl Live {
    fn new(hook: Hook) -> Arc<Live> {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Arc::new(Live(hook))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A thread's hooks, oldest first.
type Stack = Vec<(HookId, Arc<Live>)>;

thread_local! {
    static STACK: RefCell<Stack> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

fn install(hook: Hook) -> HookId {
    let id = NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id + 1);
        HookId(id)
    });
    let live = Live::new(hook);
    STACK.with(|stack| stack.borrow_mut().push((id, live)));
    id
}

/// From now on this thread sends only these event types to receivers, until the filter is
/// removed; the newest filter decides.
pub(crate) fn install_filter(allowed: BTreeSet<&'static str>) -> HookId {
    install(Hook::Filter(allowed))
}

/// From now on every event the signal at `signal_address` sends from this thread is pushed to
/// `events` (a `Recorded<E>` of the signal's payload), until the recorder is removed; the
/// newest recorder of a signal gets its events.
pub(crate) fn install_recorder(signal_address: usize, events: Arc<dyn Any + Send + Sync>) -> HookId {
    install(Hook::Recorder(signal_address, events))
}

/// Removes a filter or recorder installed on this thread (or in the bound future being polled).
pub(crate) fn remove(id: HookId) {
    // `try_with`: the thread may be tearing its locals down already.
    let _ = STACK.try_with(|stack| stack.borrow_mut().retain(|(other, _)| *other != id));
}

/// The hooks in force where an event is being sent, taken once per send: an async send keeps
/// them across its `.await`s, whichever thread it ends on.
pub(crate) struct Hooks(Option<Stack>);

impl Hooks {
    /// This thread's hooks; nothing to copy, and no thread-local touched, while no hook exists.
    #[inline]
    pub(crate) fn current() -> Hooks {
        if LIVE.load(Ordering::Relaxed) == 0 {
            return Hooks(None);
        }
        Hooks(STACK.try_with(|stack| stack.borrow().clone()).ok().filter(|stack| !stack.is_empty()))
    }

    /// Whether the newest filter, if any, lets this event type through.
    #[inline]
    pub(crate) fn allows(&self, event_type: &str) -> bool {
        let Some(stack) = &self.0 else { return true };
        stack
            .iter()
            .rev()
            .find_map(|(_, live)| match &live.0 {
                Hook::Filter(allowed) => Some(allowed.contains(event_type)),
                Hook::Recorder(..) => None,
            })
            .unwrap_or(true)
    }

    /// Hands a sent event to the newest recorder of its signal, if any. The metadata is copied
    /// only when a recorder takes it, so that a consumer dispatching borrowed metadata pays
    /// nothing for this outside tests.
    #[inline]
    pub(crate) fn record<E: 'static>(&self, signal_address: usize, data: E, metadata: Cow<'_, EventsMetadata>) {
        let Some(stack) = &self.0 else { return };
        let recorder = stack.iter().rev().find_map(|(_, live)| match &live.0 {
            Hook::Recorder(address, events) if *address == signal_address => Some(events),
            _ => None,
        });
        if let Some(events) = recorder.and_then(|events| events.downcast_ref::<Recorded<E>>()) {
            events.lock().unwrap_or_else(PoisonError::into_inner).push((data, metadata.into_owned()));
        }
    }
}

/// A future that carries the hooks of the thread that made it: while it is polled, on any
/// thread, they are that thread's hooks, and hooks installed or removed inside it stay with it.
#[must_use = "a future does nothing unless polled"]
pub struct Bound<F> {
    inner: Pin<Box<F>>,
    stack: Stack,
}

impl<F> Bound<F> {
    pub(crate) fn new(inner: F) -> Self {
        let stack = if LIVE.load(Ordering::Relaxed) == 0 {
            Vec::new()
        } else {
            STACK.try_with(|stack| stack.borrow().clone()).unwrap_or_default()
        };
        Bound { inner: Box::pin(inner), stack }
    }
}

impl<F: Future> Future for Bound<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let theirs = STACK.with(|stack| std::mem::replace(&mut *stack.borrow_mut(), std::mem::take(&mut this.stack)));
        // Put the thread's own hooks back even if the future panics.
        struct Restore<'a> {
            theirs: Option<Stack>,
            ours: &'a mut Stack,
        }
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                let theirs = self.theirs.take().unwrap_or_default();
                let _ = STACK.try_with(|stack| *self.ours = std::mem::replace(&mut *stack.borrow_mut(), theirs));
            }
        }
        let restore = Restore { theirs: Some(theirs), ours: &mut this.stack };
        let polled = this.inner.as_mut().poll(cx);
        drop(restore);
        polled
    }
}

impl<F> std::fmt::Debug for Bound<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound").field("hooks", &self.stack.len()).finish_non_exhaustive()
    }
}
