//! What every metric handle tells a collection: its name, its slot type,
//! and how to move into a slot.

use crate::name::Name;
use core::fmt;

/// The slot type of a metric, as written in the meta file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `counter 8`: a `u64` that only grows (and wraps).
    Counter,
    /// `level 8 signed`: an `i64` gauge.
    Integer,
    /// `level 8 float`: an `f64` gauge.
    Float,
    /// `state N`: a timestamp and `N - 8` bytes of text.
    State {
        /// The whole slot, timestamp included.
        size: u16,
    },
    /// One shard of a [`ShardedCounter`](crate::ShardedCounter): a
    /// `counter 8` followed by `pad 56`, so that it has a cache line of its
    /// own (laid out among the 64-byte slots).
    CounterShard,
}

impl Kind {
    /// The bytes the slot occupies in the values (for a counter shard, its
    /// trailing pad included).
    pub const fn size(self) -> usize {
        match self {
            Kind::Counter | Kind::Integer | Kind::Float => 8,
            Kind::State { size } => size as usize,
            Kind::CounterShard => 64,
        }
    }

    /// The `pad` that follows the slot in the meta text (only a counter
    /// shard has one).
    pub(crate) const fn trailing_pad(self) -> usize {
        match self {
            Kind::CounterShard => 56,
            _ => 0,
        }
    }
}

impl fmt::Display for Kind {
    /// The type part of a meta line: `counter 8`, `level 8 signed`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Counter | Kind::CounterShard => f.write_str("counter 8"),
            Kind::Integer => f.write_str("level 8 signed"),
            Kind::Float => f.write_str("level 8 float"),
            Kind::State { size } => write!(f, "state {size}"),
        }
    }
}

/// The native-endian `u64` at `offset` of `bytes` (0 where it is short).
pub(crate) fn word(bytes: &[u8], offset: usize) -> u64 {
    bytes
        .get(offset..offset.saturating_add(8))
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_ne_bytes)
}

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A compound metric ([`RequestTracker`](crate::RequestTracker),
/// [`Fork`](crate::Fork), ...) whose parts keep only the pairs of their
/// own: it keeps the pairs they share once, and composes each part's whole
/// name when a collection asks for it.
pub(crate) trait Parts: Sync {
    /// Part number `index`'s handle.
    fn part(&self, index: usize) -> &dyn Metric;
    /// Part number `index`'s whole name.
    fn part_name(&self, index: usize) -> Name;
}

/// Part number `I` of the compound `T`, as the metric a collection
/// registers: the part's handle under its whole name.
#[repr(transparent)]
pub(crate) struct Whole<T, const I: usize>(T);

impl<T: Parts, const I: usize> Whole<T, I> {
    /// Part number `I` of `parts`.
    pub(crate) fn of(parts: &T) -> &Self {
        // SAFETY: `Whole<T, I>` is `repr(transparent)` over `T` alone, so
        // a `&T` is a valid `&Whole<T, I>` (same address, size, alignment
        // and validity), borrowed for the same lifetime.
        unsafe { &*core::ptr::from_ref(parts).cast::<Self>() }
    }
}

impl<T: Parts, const I: usize> Sealed for Whole<T, I> {}

impl<T: Parts, const I: usize> Metric for Whole<T, I> {
    fn name(&self) -> Name {
        self.0.part_name(I)
    }
    fn kind(&self) -> Kind {
        self.0.part(I).kind()
    }
    fn is_published(&self) -> bool {
        self.0.part(I).is_published()
    }
    unsafe fn publish(&self, slot: *mut u64) -> bool {
        // SAFETY: the caller's guarantees, passed on to the part's handle.
        unsafe { self.0.part(I).publish(slot) }
    }
    fn restore(&self, slot: &[u8]) {
        self.0.part(I).restore(slot)
    }
    fn help(&self) -> Option<&'static str> {
        self.0.part(I).help()
    }
    fn unit(&self) -> Option<&'static str> {
        self.0.part(I).unit()
    }
}

/// One slot's worth of metric: [`Counter`](crate::Counter),
/// [`Integer`](crate::Integer), [`Float`](crate::Float) or
/// [`State`](crate::State).
///
/// This trait is sealed: the slot types are those of the protocol. Group
/// several metrics into one registrable value with [`Metrics`].
pub trait Metric: Sync + Sealed {
    /// The metric's name (composed on each call, for the parts of compound
    /// metrics: a collection asks for it while laying out and writing the
    /// meta text, never on an update).
    fn name(&self) -> Name;
    /// The metric's slot type.
    fn kind(&self) -> Kind;
    /// Whether the metric has been moved into a region.
    fn is_published(&self) -> bool;
    /// Points the metric at its slot and moves its value there; `false`
    /// when it was already published.
    ///
    /// # Safety
    ///
    /// `slot` is 8-aligned and points at `self.kind().size()` bytes of a
    /// region (see [`Region`](crate::Region)) that are zero, belong to this
    /// metric alone, stay valid for the rest of the program, and are only
    /// accessed through this crate's 8-byte atomics.
    #[doc(hidden)]
    unsafe fn publish(&self, slot: *mut u64) -> bool;
    /// Takes over the value a previous publication left in `slot` (this
    /// metric's slot bytes): counters add it, gauges and states are set.
    #[doc(hidden)]
    fn restore(&self, slot: &[u8]);
    /// The metric's help text: `None` but for a [`Described`](crate::Described)
    /// handle.
    fn help(&self) -> Option<&'static str> {
        None
    }
    /// The unit of the metric's values (a `metrics` crate unit word such
    /// as `milliseconds`): `None` but for a [`Described`](crate::Described)
    /// handle given one.
    fn unit(&self) -> Option<&'static str> {
        None
    }
}

/// Anything that can be registered in a collection: a single metric or a
/// group of them (a [`RequestTracker`](crate::RequestTracker), or a struct of
/// your own).
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::{Collection, Counter, Fixed, Integer, Metric, Metrics};
///
/// struct Pool {
///     free: Integer,
///     used: Integer,
///     created: Counter,
/// }
///
/// impl Metrics for Pool {
///     fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
///         f(&self.free);
///         f(&self.used);
///         f(&self.created);
///     }
/// }
///
/// static POOL: Pool = Pool {
///     free: Integer::new(&[("pool", "db"), ("metric", "free")]),
///     used: Integer::new(&[("pool", "db"), ("metric", "used")]),
///     created: Counter::new(&[("pool", "db"), ("metric", "created")]),
/// };
///
/// let mut metrics: Collection<Fixed<8>> = Collection::fixed();
/// metrics.register(&POOL)?;
/// assert_eq!(metrics.len(), 3);
/// # Ok::<(), cantal_core::RegisterError>(())
/// ```
pub trait Metrics {
    /// Calls `f` with each metric of the group.
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric));
}

impl<M: Metric> Metrics for M {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        f(self)
    }
}

impl Metrics for dyn Metric + '_ {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        f(self)
    }
}

impl<M: Metrics> Metrics for [M] {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        for m in self {
            m.for_each(f);
        }
    }
}

impl<M: Metrics, const N: usize> Metrics for [M; N] {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        self.as_slice().for_each(f)
    }
}
