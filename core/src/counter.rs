//! [`Counter`]: an ever-growing `u64`.

use crate::cell::AddCell;
use crate::metric::{Kind, Metric, Sealed};
use crate::name::{Name, NameRef, Pair};
use core::fmt;

/// A 64-bit counter that only grows (and wraps on overflow); readers derive
/// per-second rates from it. Count requests, bytes, accepted connections,
/// total milliseconds spent (for average latency).
///
/// Incrementing costs one relaxed pointer load and one relaxed `fetch_add`,
/// before and after publication alike, so there is no need to aggregate in
/// your own code.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::Counter;
///
/// static REQUESTS: Counter = Counter::new(&[("group", "http"), ("metric", "requests")]);
///
/// REQUESTS.incr(1);
/// REQUESTS.incr(2);
/// assert_eq!(REQUESTS.get(), 3);
/// ```
pub struct Counter {
    name: NameRef,
    cell: AddCell,
}

impl Counter {
    /// A counter named by `pairs`, starting at zero.
    ///
    /// # Panics
    ///
    /// When a key appears twice (a compile-time error for a `static`).
    pub const fn new(pairs: &'static [Pair]) -> Counter {
        Counter::with_name(Name::new(pairs))
    }

    /// A counter named `name`, made by [`Name::new`], starting at zero.
    ///
    /// # Panics
    ///
    /// When `name` is composed (has pairs added with `with_pairs`, `with`
    /// or `with_joined`): a handle keeps two words of name, and a composed
    /// one needs eleven. Put such a name in a `static` and use
    /// [`with_static_name`](Counter::with_static_name).
    pub const fn with_name(name: Name) -> Counter {
        Counter {
            name: NameRef::of(name),
            cell: AddCell::new(),
        }
    }

    /// A counter named by the `static` `name`, which may be composed.
    ///
    /// # Examples
    ///
    /// ```
    /// # extern crate cantal_core as cantal;
    /// use cantal::{Counter, Name};
    ///
    /// static NAME: Name = Name::new(&[("service", "api")]).with("metric", "hits");
    /// static HITS: Counter = Counter::with_static_name(&NAME);
    /// assert_eq!(HITS.name().to_string(), r#"{"metric": "hits", "service": "api"}"#);
    /// ```
    pub const fn with_static_name(name: &'static Name) -> Counter {
        Counter {
            name: NameRef::Static(name),
            cell: AddCell::new(),
        }
    }

    /// A part of a compound metric, named by its own pairs.
    pub(crate) const fn part(pairs: &'static [Pair]) -> Counter {
        Counter {
            name: NameRef::Pairs(pairs),
            cell: AddCell::new(),
        }
    }

    /// Adds `n` (wrapping on overflow).
    #[inline(always)]
    pub fn incr(&self, n: u64) {
        self.cell.add(n, &self.name)
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.cell.get()
    }

    /// The counter's name.
    ///
    /// For a part of a compound metric (a
    /// [`RequestTracker`](crate::RequestTracker)'s `requests`, a
    /// [`Fork`](crate::Fork)'s `count`), the pairs the part adds
    /// (`{"metric": "requests"}`): the compound keeps the pairs its parts
    /// share once, and gives the whole names to the collection it is
    /// registered in.
    pub fn name(&self) -> Name {
        self.name.get()
    }
}

impl fmt::Debug for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counter")
            .field("name", &self.name)
            .field("value", &self.get())
            .finish()
    }
}

impl Sealed for Counter {}

impl Metric for Counter {
    fn name(&self) -> Name {
        self.name.get()
    }
    fn kind(&self) -> Kind {
        Kind::Counter
    }
    fn is_published(&self) -> bool {
        self.cell.is_published()
    }
    fn restore(&self, slot: &[u8]) {
        self.incr(crate::metric::word(slot, 0));
    }
    unsafe fn publish(&self, slot: *mut u64) -> bool {
        // SAFETY: the trait's contract is `AddCell::publish`'s.
        unsafe { self.cell.publish(slot) }.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_wraps() {
        let c = Counter::new(&[("metric", "x")]);
        c.incr(u64::MAX);
        c.incr(2);
        assert_eq!(c.get(), 1);
        assert_eq!(c.kind(), Kind::Counter);
        assert!(!c.is_published());
    }
}
