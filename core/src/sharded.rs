//! [`ShardedCounter`]: a counter that many threads increment at once.

use crate::cell::AddCell;
use crate::metric::{Kind, Metric, Metrics, Sealed};
use crate::name::{Name, NameRef, Pair};
use core::fmt;

/// The most shards a counter can have.
pub const MAX_SHARDS: usize = 64;

/// The name key that tells the shards of a [`ShardedCounter`] apart: each
/// shard's name is the counter's name plus `"cantal_shard": "<index>"`.
///
/// Readers sum the counters whose names differ only in this pair back into
/// one value (`cantal_mmap::read` and the `cantal` command do). The key is
/// this specific so that an application's own `shard` label (a database
/// shard, say) is never mistaken for one.
pub const SHARD_KEY: &str = "cantal_shard";

/// The values of the `shard` name pair.
static SHARD_INDEX: [&str; MAX_SHARDS] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32",
    "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48",
    "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63",
];

/// A counter for hot paths that many threads run at once: increments are
/// spread over `N` shards, each on a cache line of its own, so that cores
/// do not fight over one line.
///
/// When to use it: a plain [`Counter`](crate::Counter) costs one atomic add
/// as long as one core increments it at a time; when several cores
/// increment the same counter continuously (a request counter in a
/// multi-threaded server), the cache line holding it bounces between them
/// and every increment waits for it (measured here: several times slower).
/// A sharded counter keeps each thread on its own line. It costs `N` slots
/// of 64 bytes and a sum to read.
///
/// On the wire each shard is an ordinary `counter 8` slot whose name is the
/// counter's name plus the pair `"cantal_shard": "<index>"` ([`SHARD_KEY`]),
/// followed by `pad 56`, so any Cantal reader can read it; our reader
/// (`cantal_mmap::read`), the `cantal` command and its exporter sum the
/// shards back into one value (drop the `cantal_shard` pair and add).
///
/// Which shard a thread uses:
///
/// - with the `std` feature, each thread takes the next number in turn the
///   first time it increments any sharded counter, and uses shard `number
///   % N` of every counter: up to `N` threads each have a shard of their
///   own, and more spread evenly (a thread-local read per increment);
/// - without it (firmware), a thread picks its shard from the address of
///   its stack (no thread-locals: this works in interrupt handlers too).
///   Threads that run at the same time have different stacks and spread
///   over the shards, though two of them may share one.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::ShardedCounter;
///
/// static REQUESTS: ShardedCounter = ShardedCounter::new(&[("group", "http"), ("metric", "requests")]);
///
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for _ in 0..1000 {
///                 REQUESTS.incr(1);
///             }
///         });
///     }
/// });
/// assert_eq!(REQUESTS.get(), 4000);
/// ```
pub struct ShardedCounter<const N: usize = 8> {
    shards: [Shard; N],
}

/// One shard: a counter cell on a cache line of its own (before
/// publication, when the cell itself is the counter), with the counter's
/// name and the shard's number, which make the shard's name.
#[repr(align(64))]
struct Shard {
    base: NameRef,
    cell: AddCell,
    index: u8,
}

impl Shard {
    /// The counter's name plus `"cantal_shard": "<index>"`.
    fn name(&self) -> Name {
        let index = SHARD_INDEX
            .get(usize::from(self.index))
            .copied()
            .unwrap_or("0");
        self.base.get().with(SHARD_KEY, index)
    }
}

impl<const N: usize> ShardedCounter<N> {
    const SHARDS_OK: () = assert!(
        N.is_power_of_two() && N <= MAX_SHARDS,
        "a ShardedCounter has a power of two of shards, at most 64"
    );

    /// A counter named by `pairs` (plus [`SHARD_KEY`] on each shard), starting
    /// at zero.
    ///
    /// # Panics
    ///
    /// When a key appears twice or is [`SHARD_KEY`] (a compile-time error for a
    /// `static`).
    pub const fn new(pairs: &'static [Pair]) -> Self {
        Self::with_name(Name::new(pairs))
    }

    /// A counter named `name`, made by [`Name::new`] (plus [`SHARD_KEY`]
    /// on each shard).
    ///
    /// # Panics
    ///
    /// When `name` has a [`SHARD_KEY`] key, or is composed (see
    /// [`Counter::with_name`](crate::Counter::with_name)).
    pub const fn with_name(name: Name) -> Self {
        let () = Self::SHARDS_OK;
        // Checks that the shards' names have no key twice.
        let _ = name.with(SHARD_KEY, SHARD_INDEX[0]);
        let base = NameRef::of(name);
        let mut shards = [const {
            Shard {
                base: NameRef::Pairs(&[]),
                cell: AddCell::new(),
                index: 0,
            }
        }; N];
        let mut i = 0;
        while i < N {
            shards[i].base = base;
            shards[i].index = i as u8;
            i += 1;
        }
        ShardedCounter { shards }
    }

    /// Adds `n` (wrapping on overflow) to this thread's shard.
    #[inline(always)]
    pub fn incr(&self, n: u64) {
        let index = thread_number() & (N - 1);
        match self.shards.get(index) {
            Some(shard) => shard.cell.add(n, &shard.base),
            None => self.shards[0].cell.add(n, &self.shards[0].base),
        }
    }

    /// The current value: the sum of the shards (wrapping).
    pub fn get(&self) -> u64 {
        self.shards
            .iter()
            .fold(0u64, |sum, shard| sum.wrapping_add(shard.cell.get()))
    }

    /// The counter's name (without the [`SHARD_KEY`] pair).
    pub fn name(&self) -> Name {
        self.shards[0].base.get()
    }
}

/// This thread's number: taken in turn at its first increment (`std`).
#[cfg(feature = "std")]
#[inline(always)]
fn thread_number() -> usize {
    extern crate std;
    use crate::sync::{AtomicUsize, Ordering};
    use core::cell::Cell;

    /// The next thread's number.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::thread_local! {
        /// `usize::MAX` until this thread's first increment.
        static NUMBER: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    #[cold]
    fn take(number: &Cell<usize>) -> usize {
        let taken = NEXT.fetch_add(1, Ordering::Relaxed) & (MAX_SHARDS - 1);
        number.set(taken);
        taken
    }
    // A thread-local without a destructor never goes away; `try_with`
    // only keeps this panic-free in any case (stack hash as fallback).
    NUMBER
        .try_with(|number| match number.get() {
            usize::MAX => take(number),
            taken => taken,
        })
        .unwrap_or_else(|_| stack_hash())
}

/// This thread's number: a hash of its stack's address (`no_std`).
#[cfg(not(feature = "std"))]
#[inline(always)]
fn thread_number() -> usize {
    stack_hash()
}

/// A hash of the page of the caller's stack: threads' stacks are far
/// apart, and the same thread lands on the same number.
#[inline(always)]
fn stack_hash() -> usize {
    let marker = 0u8;
    let page = (core::ptr::from_ref(&marker).addr() >> 12) as u64;
    // Stacks lie at regular strides; fold the higher bits in before the
    // Fibonacci multiply, or some strides land on one number.
    let hash = (page ^ (page >> 7) ^ (page >> 13)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    // The top bits of the product are the well-mixed ones.
    (hash >> (64 - MAX_SHARDS.trailing_zeros())) as usize
}

impl<const N: usize> fmt::Debug for ShardedCounter<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedCounter")
            .field("name", &self.name())
            .field("shards", &N)
            .field("value", &self.get())
            .finish()
    }
}

impl Sealed for Shard {}

impl Metric for Shard {
    fn name(&self) -> Name {
        Shard::name(self)
    }
    fn kind(&self) -> Kind {
        Kind::CounterShard
    }
    fn is_published(&self) -> bool {
        self.cell.is_published()
    }
    fn restore(&self, slot: &[u8]) {
        self.cell.add(crate::metric::word(slot, 0), &self.base);
    }
    unsafe fn publish(&self, slot: *mut u64) -> bool {
        // SAFETY: the trait's contract is `AddCell::publish`'s (the slot's
        // first 8 bytes are the counter; the pad after it is never touched).
        unsafe { self.cell.publish(slot) }.is_ok()
    }
}

impl<const N: usize> Metrics for ShardedCounter<N> {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        for shard in &self.shards {
            f(shard);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_sum_and_are_named() {
        static C: ShardedCounter<4> = ShardedCounter::new(&[("metric", "x")]);
        C.incr(3);
        C.incr(u64::MAX);
        assert_eq!(C.get(), 2);
        let mut names = [""; 4];
        let mut i = 0;
        C.for_each(&mut |m| {
            assert_eq!(m.kind(), Kind::CounterShard);
            assert_eq!(m.name().get("metric"), Some("x"));
            names[i] = match m.name().value(SHARD_KEY).and_then(|v| v.as_str()) {
                Some(s) => s,
                None => "?",
            };
            i += 1;
        });
        assert_eq!(names, ["0", "1", "2", "3"]);
    }
}
