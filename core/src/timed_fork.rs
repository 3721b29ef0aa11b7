//! [`TimedFork`]: a [`Fork`] that also keeps the distribution of each
//! branch's durations in a [`Histogram`].

use crate::clock::{Clock, DefaultClock};
use crate::fork::{Branch, Fork, ForkContext};
use crate::histogram::{DEFAULT_SLOTS, Histogram, elapsed_us, metric_rows};
use crate::metric::{Metric, Metrics, Parts, Whole};
use crate::name::{Name, Pair};
use core::fmt;

/// The `metric` value of the branch histograms.
const METRIC: &str = "branch_duration";

/// Each slot's fixed pairs: its histogram pair and `"metric": METRIC`.
static ROWS: [[Pair; 2]; DEFAULT_SLOTS] = metric_rows(METRIC);

/// One branch's histogram and the pairs that name its slots, kept once
/// here (each slot's name is composed when a collection asks).
struct BranchDurations {
    extra: &'static [Pair],
    state: &'static str,
    branch: &'static str,
    histogram: Histogram,
}

impl BranchDurations {
    /// `{"metric": "branch_duration", "state": "S.B", <the slot's pair>,
    /// ...extra}`.
    const fn name(&self, slot: usize) -> Name {
        let row: &'static [Pair] = &ROWS[slot];
        Name::new(self.extra)
            .with_pairs(row)
            .with_joined("state", self.state, self.branch)
    }
}

impl Parts for BranchDurations {
    fn part(&self, index: usize) -> &dyn Metric {
        self.histogram.slot(index)
    }
    fn part_name(&self, index: usize) -> Name {
        self.name(index.min(DEFAULT_SLOTS - 1))
    }
}

/// Calls `$f` with slot `I` of `$d` under its whole name for each listed
/// `I`, which must be `0..DEFAULT_SLOTS` in order (checked at compile
/// time): a `Whole` needs its index as a constant.
macro_rules! each_slot {
    ($d:expr, $f:expr, [$($i:literal),* $(,)?]) => {{
        const _: () = {
            let listed: &[usize] = &[$($i),*];
            assert!(listed.len() == DEFAULT_SLOTS);
            let mut k = 0;
            while k < listed.len() {
                assert!(listed[k] == k);
                k += 1;
            }
        };
        $( $f(Whole::<_, $i>::of($d)); )*
    }};
}

/// A [`Fork`], with the same names, plus for each branch B a
/// `branch_duration` [`Histogram`] of the times spent in it, in
/// microseconds (its unit set, so `cantal export` serves
/// `cantal_branch_duration_seconds{state="S.B"}`) (default buckets, 1 µs
/// to 67 s):
///
/// | slots | name |
/// | --- | --- |
/// | buckets | `{"metric": "branch_duration", "state": "S.B", "cantal_le": "<bound>", ...}` |
/// | count | `{"metric": "branch_duration", "state": "S.B", "cantal_histogram": "count", ...}` |
/// | sum (µs) | `{"metric": "branch_duration", "state": "S.B", "cantal_histogram": "sum", ...}` |
///
/// Replace `Fork::new(...)` by `TimedFork::new(...)` with the same
/// arguments to get them; a plain [`Fork`] keeps the reference client's
/// slots. The context ([`TimedForkContext`]) counts as a [`ForkContext`]
/// does (superseded contexts included) and reads the clock once per
/// switch, as the fork does: [`Clock::wall_ms_and_monotonic_ns`], whose
/// monotonic nanoseconds give both the fork's whole milliseconds (as
/// `monotonic_ms` does by default) and the histogram's microseconds
/// (rounded up). Each switch costs the fork's plus one
/// [`Histogram::record`].
///
/// Each branch's histogram takes about 4 KiB of memory and 55 slots.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::{Branch, TimedFork, clock::ManualClock};
///
/// const BRANCHES: [&str; 2] = ["app", "sql"];
/// const APP: Branch<2> = Branch::named(&BRANCHES, "app");
/// const SQL: Branch<2> = Branch::named(&BRANCHES, "sql");
/// static CLOCK: ManualClock = ManualClock::new(0);
/// static FORK: TimedFork<2, &ManualClock> =
///     TimedFork::with_clock(&BRANCHES, "request", &[], &CLOCK);
///
/// let mut ctx = FORK.context();
/// ctx.enter(SQL);
/// CLOCK.advance_ns(1_500_000); // 1.5 ms in `sql`
/// ctx.enter(APP);
/// drop(ctx);
/// assert_eq!(FORK.fork().count(SQL).get(), 1);
/// assert_eq!(FORK.fork().duration(SQL).get(), 1); // whole milliseconds
/// assert_eq!(FORK.duration(SQL).sum(), 1_500); // microseconds
/// assert_eq!(FORK.duration(APP).count(), 1); // left at once: 0 µs
/// ```
pub struct TimedFork<const N: usize, C = DefaultClock> {
    fork: Fork<N, C>,
    durations: [BranchDurations; N],
}

impl<const N: usize> TimedFork<N, DefaultClock> {
    /// A fork with the branches `branches` of the state named
    /// `{"state": state, ...extra}`, measuring with the [`DefaultClock`].
    ///
    /// # Panics
    ///
    /// As [`Fork::new`], and when `extra` has a `cantal_le` or
    /// `cantal_histogram` key.
    pub const fn new(
        branches: &[&'static str; N],
        state: &'static str,
        extra: &'static [Pair],
    ) -> Self {
        Self::with_clock(branches, state, extra, DefaultClock)
    }
}

impl<const N: usize, C: Clock> TimedFork<N, C> {
    /// As [`new`](TimedFork::new), measuring with `clock`.
    ///
    /// # Panics
    ///
    /// As [`new`](TimedFork::new).
    pub const fn with_clock(
        branches: &[&'static str; N],
        state: &'static str,
        extra: &'static [Pair],
        clock: C,
    ) -> Self {
        let fork = Fork::with_clock(branches, state, extra, clock);
        let mut durations = [const {
            BranchDurations {
                extra: &[],
                state: "",
                branch: "",
                histogram: Histogram::new(&[("metric", METRIC)]).with_unit("microseconds"),
            }
        }; N];
        let mut i = 0;
        while i < N {
            durations[i].extra = extra;
            durations[i].state = state;
            durations[i].branch = branches[i];
            // Composing a bucket's and the count's names checks the keys.
            let _ = durations[i].name(0);
            let _ = durations[i].name(DEFAULT_SLOTS - 2);
            i += 1;
        }
        TimedFork { fork, durations }
    }

    /// Enters the fork, as [`Fork::context`] does; the context also
    /// records each branch it leaves in that branch's histogram.
    pub fn context(&self) -> TimedForkContext<'_, N, C> {
        TimedForkContext {
            context: self.fork.context(),
            durations: &self.durations,
            since_ns: 0,
        }
    }

    /// The fork: its state, `count` and `duration` counters, branches.
    pub fn fork(&self) -> &Fork<N, C> {
        &self.fork
    }

    /// The microseconds of each time `branch` was left (the fork's
    /// [`duration`](Fork::duration) counter sums its milliseconds).
    pub fn duration(&self, branch: Branch<N>) -> &Histogram {
        &self.durations[branch.index()].histogram
    }
}

impl<const N: usize, C: Clock> Metrics for TimedFork<N, C> {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        self.fork.for_each(f);
        for d in &self.durations {
            each_slot!(
                d,
                f,
                [
                    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
                    42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54,
                ]
            );
        }
    }
}

impl<const N: usize, C> fmt::Debug for TimedFork<N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("TimedFork");
        s.field("fork", &self.fork);
        for d in &self.durations {
            s.field(d.branch, &(d.histogram.count(), d.histogram.sum()));
        }
        s.finish()
    }
}

/// A request going through a [`TimedFork`]'s branches; returned by
/// [`TimedFork::context`]. It counts as a [`ForkContext`] does, and
/// records each branch it leaves (switching, or dropped) in the branch's
/// histogram.
#[must_use = "the context ends when it is dropped"]
pub struct TimedForkContext<'f, const N: usize, C: Clock = DefaultClock> {
    context: ForkContext<'f, N, C>,
    durations: &'f [BranchDurations; N],
    /// The monotonic nanosecond the current branch was entered.
    since_ns: u64,
}

impl<const N: usize, C: Clock> TimedForkContext<'_, N, C> {
    /// Enters `branch`, as [`ForkContext::enter`] does, and records the
    /// microseconds spent in the branch left.
    pub fn enter(&mut self, branch: Branch<N>) {
        if !self.context.still_owns() {
            return;
        }
        // One clock read, for the state, the counters and the histogram.
        let (wall, now_ns) = self.context.clock().wall_ms_and_monotonic_ns();
        if let Some(left) = self.context.switch(branch, wall, now_ns / 1_000_000) {
            self.record(left, now_ns);
        }
        self.since_ns = now_ns;
    }

    /// The branch the context is in, if any.
    pub fn current(&self) -> Option<Branch<N>> {
        self.context.current()
    }

    /// Whether a newer context superseded this one: then it counts and
    /// records nothing more.
    pub fn is_superseded(&self) -> bool {
        self.context.is_superseded()
    }

    fn record(&self, left: usize, now_ns: u64) {
        if let Some(d) = self.durations.get(left) {
            d.histogram.record(elapsed_us(self.since_ns, now_ns));
        }
    }
}

impl<const N: usize, C: Clock> Drop for TimedForkContext<'_, N, C> {
    fn drop(&mut self) {
        if !self.context.still_owns() {
            return;
        }
        let now_ns = self.context.clock().monotonic_ns();
        if let Some(left) = self.context.finish(now_ns / 1_000_000) {
            self.record(left, now_ns);
        }
        // The inner context's own drop then finds the fork released and
        // does nothing.
    }
}

impl<const N: usize, C: Clock> fmt::Debug for TimedForkContext<'_, N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimedForkContext")
            .field("context", &self.context)
            .field("since_ns", &self.since_ns)
            .finish()
    }
}

#[cfg(test)]
#[path = "timed_fork_tests.rs"]
mod tests;
