//! The values that repeat on nearly every message a consumer reads (the source, the host, the
//! sending library's version), kept once for the life of the process, so that
//! reading a message's metadata allocates nothing for them.
//!
//! Bounded, because the values come from the network: at most [`LIMIT`] values of each kind, of
//! at most [`LONGEST`] bytes each, are ever kept. Any other value is owned by its metadata, as
//! it would be without this, so a stream of ever-new values costs what it did before and holds
//! no more than a few kilobytes for good.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::{PoisonError, RwLock};
use std::thread::LocalKey;

/// How many values of one kind are kept.
const LIMIT: usize = 64;
/// The longest text kept, in bytes.
const LONGEST: usize = 256;

/// The values of one kind, and, per thread, the one found last (consecutive messages mostly
/// share it, so most lookups take no lock).
pub(crate) struct Interner<T: ?Sized + 'static> {
    kept: RwLock<Vec<&'static T>>,
    last: &'static LocalKey<Cell<Option<&'static T>>>,
}

macro_rules! interner {
    ($vis:vis $name:ident: $ty:ty) => {
        $vis static $name: Interner<$ty> = {
            thread_local! {
                static LAST: Cell<Option<&'static $ty>> = const { Cell::new(None) };
            }
            Interner { kept: RwLock::new(Vec::new()), last: &LAST }
        };
    };
}

interner!(pub(crate) SOURCES: str);
interner!(pub(crate) HOSTS: str);
interner!(pub(crate) LIBRARY_VERSIONS: [u32]);

impl<T> Interner<T>
where
    T: ?Sized + PartialEq + ToOwned + Length + 'static,
    Box<T>: for<'a> From<&'a T>,
{
    /// `value`, borrowed from the kept copy when there is one or room for one, else owned.
    pub(crate) fn get(&'static self, value: &T) -> Cow<'static, T> {
        let last = self.last.try_with(Cell::get).ok().flatten();
        if let Some(last) = last
            && last == value
        {
            return Cow::Borrowed(last);
        }
        let found = self.find(value).or_else(|| self.keep(value));
        match found {
            Some(kept) => {
                let _ = self.last.try_with(|last| last.set(Some(kept)));
                Cow::Borrowed(kept)
            }
            None => Cow::Owned(value.to_owned()),
        }
    }

    fn find(&self, value: &T) -> Option<&'static T> {
        self.kept.read().unwrap_or_else(PoisonError::into_inner).iter().copied().find(|kept| *kept == value)
    }

    fn keep(&self, value: &T) -> Option<&'static T> {
        if value.length() > LONGEST {
            return None;
        }
        let mut kept = self.kept.write().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have kept it since `find` looked.
        if let Some(found) = kept.iter().copied().find(|kept| *kept == value) {
            return Some(found);
        }
        if kept.len() >= LIMIT {
            return None;
        }
        let leaked: &'static T = Box::leak(Box::from(value));
        kept.push(leaked);
        Some(leaked)
    }
}

/// The size of a value, to bound what is kept.
pub(crate) trait Length {
    fn length(&self) -> usize;
}

impl Length for str {
    fn length(&self) -> usize {
        self.len()
    }
}

impl Length for [u32] {
    fn length(&self) -> usize {
        self.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    interner!(TEST_TEXTS: str);

    #[test]
    fn a_value_is_kept_once_and_borrowed_after() {
        let first = TEST_TEXTS.get("openedx/lms/web");
        let second = TEST_TEXTS.get(&String::from("openedx/lms/web"));
        let (Cow::Borrowed(first), Cow::Borrowed(second)) = (first, second) else { panic!("both borrowed") };
        assert!(std::ptr::eq(first, second), "the same kept copy");
        assert_eq!(TEST_TEXTS.get("openedx/cms/web"), "openedx/cms/web");
        assert!(matches!(TEST_TEXTS.get("openedx/lms/web"), Cow::Borrowed("openedx/lms/web")));
    }

    #[test]
    fn what_is_kept_is_bounded() {
        interner!(BOUNDED: str);
        let long = "x".repeat(LONGEST + 1);
        assert!(matches!(BOUNDED.get(&long), Cow::Owned(text) if text == long), "too long to keep");
        for i in 0..LIMIT {
            assert!(matches!(BOUNDED.get(&format!("host-{i}")), Cow::Borrowed(_)));
        }
        let one_more = BOUNDED.get("host-new");
        assert!(matches!(&one_more, Cow::Owned(text) if text == "host-new"), "the table is full");
        assert!(matches!(BOUNDED.get("host-3"), Cow::Borrowed("host-3")), "kept ones are still found");
        assert_eq!(BOUNDED.kept.read().unwrap().len(), LIMIT);
    }

    #[test]
    fn versions_are_kept_too() {
        interner!(VERSIONS: [u32]);
        let first = VERSIONS.get(&[11, 2, 0]);
        let parsed: Vec<u32> = "11.2.0".split('.').map(|part| part.parse().unwrap()).collect();
        let (Cow::Borrowed(first), Cow::Borrowed(again)) = (first, VERSIONS.get(&parsed)) else { panic!("both kept") };
        assert!(std::ptr::eq(first, again));
        assert_eq!(again, [11, 2, 0]);
    }
}
