//! Receivers: the `#[receiver]` functions registered at link time, the closures connected at run
//! time, and what a receiver may return.

use std::any::Any;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::data::EventData;
use crate::dispatch::BoxError;
use crate::metadata::EventsMetadata;
use crate::signal::OpenEdxPublicSignal;

/// What a receiver may return: `()` or `Result<(), E>` with `E` convertible into a boxed error.
#[diagnostic::on_unimplemented(
    message = "a receiver must return `()` or `Result<(), E>`, not `{Self}`",
    label = "this return type is not allowed for a receiver",
    note = "`E` may be any type that converts into `Box<dyn std::error::Error + Send + Sync>`, such as `String`, `&'static str` or an error type"
)]
pub trait ReceiverReturn {
    /// The receiver's outcome as a `Result`.
    fn into_receiver_result(self) -> Result<(), BoxError>;
}

impl ReceiverReturn for () {
    fn into_receiver_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

// Not recommended, so that `Result<(), i32>` is reported with `ReceiverReturn`'s message rather
// than as a missing `From<i32>` for `Box<dyn Error>`.
#[diagnostic::do_not_recommend]
impl<E: Into<BoxError>> ReceiverReturn for Result<(), E> {
    fn into_receiver_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// What an async receiver returns: its outcome, later. It is `Send`, so that an event sent from a
/// task on a multi-threaded runtime can be awaited there.
pub type ReceiverFuture<'a> = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'a>>;

/// The handler `#[receiver]` generates around a receiver function: a call for a plain function,
/// a boxed future for an `async fn`.
#[doc(hidden)]
pub(crate) enum Handler<E: 'static> {
    /// A synchronous receiver.
    Sync(fn(&E, &EventsMetadata) -> Result<(), BoxError>),
    /// An `async` receiver.
    Async(for<'a> fn(&'a E, &'a EventsMetadata) -> ReceiverFuture<'a>),
}

impl<E> Clone for Handler<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Handler<E> {}

/// Not public API. Boxes an async receiver's future; the bound makes a future that is not
/// `Send` an error at the receiver.
#[doc(hidden)]
pub fn box_receiver_future<'a, F>(future: F) -> ReceiverFuture<'a>
where
    F: Future<Output = Result<(), BoxError>> + Send + 'a,
{
    Box::pin(future)
}

/// Not public API. A `#[receiver]` function with its payload type known, kept in a `static`
/// next to the function.
#[doc(hidden)]
pub struct TypedReceiver<E: 'static> {
    // Only compared by address, to find the receivers of a signal.
    signal: &'static (dyn Any + Sync),
    name: &'static str,
    handler: Handler<E>,
}

/// Not public API. Implemented by a signal whose payload is `E`; the bound on
/// [`TypedReceiver::new`] reports a receiver whose payload type is not the signal's.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "this receiver takes `&{E}`, but its signal is `{Self}`",
    label = "the receiver's payload type does not match the signal",
    note = "a receiver's first argument must be a reference to its signal's payload type"
)]
pub trait CarriesPayload<E> {}

impl<E: EventData> CarriesPayload<E> for OpenEdxPublicSignal<E> {}

impl<E: 'static> TypedReceiver<E> {
    /// Not public API. Used by generated code for a synchronous receiver.
    pub const fn new<S>(
        signal: &'static S,
        name: &'static str,
        handler: fn(&E, &EventsMetadata) -> Result<(), BoxError>,
    ) -> Self
    where
        S: CarriesPayload<E> + Any + Sync,
    {
        TypedReceiver { signal, name, handler: Handler::Sync(handler) }
    }

    /// Not public API. Used by generated code for an `async` receiver.
    pub const fn new_async<S>(
        signal: &'static S,
        name: &'static str,
        handler: for<'a> fn(&'a E, &'a EventsMetadata) -> ReceiverFuture<'a>,
    ) -> Self
    where
        S: CarriesPayload<E> + Any + Sync,
    {
        TypedReceiver { signal, name, handler: Handler::Async(handler) }
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn handler(&self) -> Handler<E> {
        self.handler
    }
}

/// A [`TypedReceiver`] of any payload type, as `inventory` collects them.
trait ErasedReceiver: Sync {
    fn signal_addr(&self) -> *const ();
    fn as_any(&self) -> &dyn Any;
}

impl<E: 'static> ErasedReceiver for TypedReceiver<E> {
    fn signal_addr(&self) -> *const () {
        (self.signal as *const (dyn Any + Sync)).cast()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Not public API. A `#[receiver]` function, as registered.
#[doc(hidden)]
pub struct StaticReceiver(&'static dyn ErasedReceiver);

impl StaticReceiver {
    /// Not public API. Used by generated code.
    pub const fn new<E: 'static>(receiver: &'static TypedReceiver<E>) -> Self {
        StaticReceiver(receiver)
    }
}

inventory::collect!(StaticReceiver);

/// The `#[receiver]` functions of one signal, sorted by name so that runs are reproducible.
pub(crate) fn receivers_of<E: EventData>(signal: &'static OpenEdxPublicSignal<E>) -> Box<[&'static TypedReceiver<E>]> {
    let address = (signal as *const OpenEdxPublicSignal<E>).cast::<()>();
    let mut found: Vec<&'static TypedReceiver<E>> = inventory::iter::<StaticReceiver>
        .into_iter()
        .filter(|r| r.0.signal_addr() == address)
        .filter_map(|r| r.0.as_any().downcast_ref::<TypedReceiver<E>>())
        .collect();
    found.sort_by_key(|r| r.name);
    found.into_boxed_slice()
}

/// Identifies a receiver connected with [`connect`](OpenEdxPublicSignal::connect), to
/// [`disconnect`](OpenEdxPublicSignal::disconnect) it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiverId(u64);

/// A receiver that takes any signal's payload as `&dyn Any`, for code that works across
/// signals, such as the event bus producer.
pub type ErasedReceiverFn = Arc<dyn Fn(&dyn Any, &EventsMetadata) -> Result<(), BoxError> + Send + Sync>;

/// A synchronous receiver connected at run time.
pub(crate) type SyncFn<E> = dyn Fn(&E, &EventsMetadata) -> Result<(), BoxError> + Send + Sync;

/// An async receiver connected at run time.
pub(crate) type AsyncFn<E> = dyn for<'a> Fn(&'a E, &'a EventsMetadata) -> ReceiverFuture<'a> + Send + Sync;

/// A receiver connected at run time.
pub(crate) enum DynHandler<E> {
    Sync(Arc<SyncFn<E>>),
    Async(Arc<AsyncFn<E>>),
}

impl<E> Clone for DynHandler<E> {
    fn clone(&self) -> Self {
        match self {
            DynHandler::Sync(handler) => DynHandler::Sync(Arc::clone(handler)),
            DynHandler::Async(handler) => DynHandler::Async(Arc::clone(handler)),
        }
    }
}

/// A receiver connected at run time: its id, its name and the closure.
type DynamicReceiver<E> = (ReceiverId, Cow<'static, str>, DynHandler<E>);

/// The receivers of one signal connected at run time.
pub(crate) struct DynamicReceivers<E> {
    // Lets a send skip the lock entirely while nothing is connected at run time.
    count: AtomicUsize,
    list: RwLock<Vec<DynamicReceiver<E>>>,
}

impl<E> DynamicReceivers<E> {
    pub(crate) const fn new() -> Self {
        DynamicReceivers { count: AtomicUsize::new(0), list: RwLock::new(Vec::new()) }
    }

    pub(crate) fn connect(&self, name: Cow<'static, str>, handler: DynHandler<E>) -> ReceiverId {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = ReceiverId(NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let mut list = self.list.write().unwrap_or_else(PoisonError::into_inner);
        list.push((id, name, handler));
        self.count.store(list.len(), Ordering::Release);
        id
    }

    pub(crate) fn disconnect(&self, id: ReceiverId) -> bool {
        let mut list = self.list.write().unwrap_or_else(PoisonError::into_inner);
        let before = list.len();
        list.retain(|(other, _, _)| *other != id);
        self.count.store(list.len(), Ordering::Release);
        list.len() != before
    }

    pub(crate) fn names(&self) -> Vec<Cow<'static, str>> {
        let list = self.list.read().unwrap_or_else(PoisonError::into_inner);
        list.iter().map(|(_, name, _)| name.clone()).collect()
    }

    /// A copy of the receivers, to call outside the lock (so that a receiver may connect or
    /// disconnect receivers); empty without taking the lock when there are none.
    #[inline]
    pub(crate) fn snapshot(&self) -> Vec<(Cow<'static, str>, DynHandler<E>)> {
        if self.count.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let list = self.list.read().unwrap_or_else(PoisonError::into_inner);
        list.iter().map(|(_, name, handler)| (name.clone(), handler.clone())).collect()
    }
}
