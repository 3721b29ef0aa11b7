//! [`Fork`]: where the time of a request goes, branch by branch, as the
//! reference client's `Fork` publishes it.

use crate::clock::{Clock, DefaultClock};
use crate::counter::Counter;
use crate::metric::{Metric, Metrics, Parts, Whole};
use crate::name::{Name, Pair, str_eq};
use crate::state::State;
use crate::sync::{AtomicU64, Ordering};
use core::fmt;

/// One branch of a [`Fork`]: an index that is known to exist.
///
/// Get it with [`Branch::named`], a `const fn` that fails to compile when
/// the list has no such branch, or at run time from [`Fork::branches`] and
/// [`Fork::find_branch`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Branch<const N: usize> {
    index: usize,
}

impl<const N: usize> Branch<N> {
    /// The branch called `name` in `names`, the list a [`Fork`] is made
    /// with.
    ///
    /// # Panics
    ///
    /// When `names` has no such branch; in a `const` initializer (`const
    /// SQL: Branch<3> = Branch::named(&BRANCHES, "sql");`) this is a
    /// compile-time error.
    pub const fn named(names: &[&str; N], name: &str) -> Branch<N> {
        let mut index = 0;
        while index < N {
            if str_eq(names[index], name) {
                return Branch { index };
            }
            index += 1;
        }
        panic!("the Fork has no branch of that name")
    }

    /// The branch's position in the list the fork was made with.
    pub const fn index(self) -> usize {
        self.index
    }
}

/// The `metric` pair of a branch's `count` and `duration` counters.
const METRIC: [&[Pair]; 2] = [&[("metric", "count")], &[("metric", "duration")]];

/// The two counters of a branch, each named by its `metric` pair alone,
/// and the pairs they share.
struct BranchMetrics {
    extra: &'static [Pair],
    state: &'static str,
    branch: &'static str,
    count: Counter,
    duration: Counter,
}

impl BranchMetrics {
    /// `{"metric": M, "state": "S.B", ...extra}`.
    const fn name(&self, metric: &'static [Pair]) -> Name {
        Name::new(self.extra)
            .with_pairs(metric)
            .with_joined("state", self.state, self.branch)
    }
}

impl Parts for BranchMetrics {
    fn part(&self, index: usize) -> &dyn Metric {
        if index == 0 {
            &self.count
        } else {
            &self.duration
        }
    }
    fn part_name(&self, index: usize) -> Name {
        self.name(METRIC[index.min(1)])
    }
}

/// The fork's state, named by no pair of its own, and its name's pairs.
struct ForkState {
    extra: &'static [Pair],
    key: &'static str,
    state: State,
}

impl ForkState {
    /// `{"state": S, ...extra}`.
    const fn name(&self) -> Name {
        Name::new(self.extra).with("state", self.key)
    }
}

impl Parts for ForkState {
    fn part(&self, _: usize) -> &dyn Metric {
        &self.state
    }
    fn part_name(&self, _: usize) -> Name {
        self.name()
    }
}

/// A state whose value is the branch a request is in, plus, for each of
/// `N` branches, how many times it was left (`count`) and the
/// milliseconds spent in it (`duration`). For instance the time a request
/// handler spends in its own code, waiting for Redis, and waiting for SQL.
///
/// Its metrics are named as by the reference client's
/// `Fork(branches, state=S, **extra)`:
///
/// - `state 64`: `{"state": S, ...}`, whose value is `_` in a context
///   before any branch, then the branch's name;
/// - for each branch B, counters `{"metric": "count", "state": "S.B", ...}`
///   and `{"metric": "duration", "state": "S.B", ...}`.
///
/// Register the fork in a collection as one value (it implements
/// [`Metrics`]).
///
/// A fork follows **one context at a time**: the state slot shows one
/// value. Use one fork per worker thread (or per kind of task that does
/// not overlap). See [`context`](Self::context) for what happens when
/// contexts overlap.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::{Branch, Fork};
///
/// const BRANCHES: [&str; 3] = ["app", "redis", "sql"];
/// static FORK: Fork<3> = Fork::new(&BRANCHES, "myapp.request_processing", &[]);
/// const APP: Branch<3> = Branch::named(&BRANCHES, "app");
/// const SQL: Branch<3> = Branch::named(&BRANCHES, "sql");
///
/// fn handle() {
///     let mut ctx = FORK.context(); // state `_`
///     ctx.enter(APP); // state `app`
///     // ... our own code ...
///     ctx.enter(SQL); // `app` counted: count +1, duration + its ms
///     // ... a query ...
///     ctx.enter(APP);
/// } // `app` counted again, the state is left
///
/// handle();
/// assert_eq!(FORK.count(APP).get(), 2);
/// assert_eq!(FORK.count(SQL).get(), 1);
/// assert!(FORK.state().get().is_none());
/// ```
///
/// A branch the fork does not have does not compile:
///
/// ```compile_fail
/// # extern crate cantal_core as cantal;
/// use cantal::{Branch, Fork};
///
/// const BRANCHES: [&str; 2] = ["app", "sql"];
/// const REDIS: Branch<2> = Branch::named(&BRANCHES, "redis");
/// assert_eq!(REDIS.index(), 2);
/// ```
pub struct Fork<const N: usize, C = DefaultClock> {
    state: ForkState,
    branches: [BranchMetrics; N],
    /// The epoch of the context that owns the fork; 0 when none does.
    owner: AtomicU64,
    /// The last epoch handed out.
    epochs: AtomicU64,
    /// Contexts that were superseded by a newer one.
    superseded: AtomicU64,
    clock: C,
}

impl<const N: usize> Fork<N, DefaultClock> {
    /// A fork with the branches `branches` of the state named
    /// `{"state": state, ...extra}`, measuring with the [`DefaultClock`].
    ///
    /// # Panics
    ///
    /// When two branches have the same name, or `extra` has the key
    /// `state` or `metric`, or a key twice; in a `const` or `static`
    /// initializer this is a compile-time error.
    pub const fn new(
        branches: &[&'static str; N],
        state: &'static str,
        extra: &'static [Pair],
    ) -> Self {
        Self::with_clock(branches, state, extra, DefaultClock)
    }
}

impl<const N: usize, C: Clock> Fork<N, C> {
    /// As [`new`](Fork::new), measuring with `clock` (see
    /// [`RequestTracker::with_clock`](crate::RequestTracker::with_clock)).
    ///
    /// # Panics
    ///
    /// As [`new`](Fork::new).
    pub const fn with_clock(
        branches: &[&'static str; N],
        state: &'static str,
        extra: &'static [Pair],
        clock: C,
    ) -> Self {
        let mut metrics = [const {
            BranchMetrics {
                extra: &[],
                state: "",
                branch: "",
                count: Counter::part(METRIC[0]),
                duration: Counter::part(METRIC[1]),
            }
        }; N];
        let mut i = 0;
        while i < N {
            let mut j = 0;
            while j < i {
                if str_eq(branches[i], branches[j]) {
                    panic!("a Fork has the same branch twice");
                }
                j += 1;
            }
            metrics[i] = BranchMetrics {
                extra,
                state,
                branch: branches[i],
                count: Counter::part(METRIC[0]),
                duration: Counter::part(METRIC[1]),
            };
            // Composing a name checks its keys (the two differ in the
            // `metric` value alone).
            let _ = metrics[i].name(METRIC[0]);
            i += 1;
        }
        let state = ForkState {
            extra,
            key: state,
            state: State::part(),
        };
        let _ = state.name();
        Fork {
            state,
            branches: metrics,
            owner: AtomicU64::new(0),
            epochs: AtomicU64::new(0),
            superseded: AtomicU64::new(0),
            clock,
        }
    }

    /// The branch called `name`, if the fork has it. In code that knows
    /// its branches, prefer the compile-time check of [`Branch::named`].
    pub fn find_branch(&self, name: &str) -> Option<Branch<N>> {
        self.branches
            .iter()
            .position(|b| b.branch == name)
            .map(|index| Branch { index })
    }

    /// The branches, in the order the fork was made with.
    pub fn branches(&self) -> impl Iterator<Item = Branch<N>> + use<N, C> {
        (0..N).map(|index| Branch { index })
    }

    /// The name of `branch`.
    pub fn branch_name(&self, branch: Branch<N>) -> &'static str {
        self.branches[branch.index].branch
    }

    /// How many times `branch` was left (switched from, or left with the
    /// context).
    pub fn count(&self, branch: Branch<N>) -> &Counter {
        &self.branches[branch.index].count
    }

    /// The milliseconds spent in `branch`.
    pub fn duration(&self, branch: Branch<N>) -> &Counter {
        &self.branches[branch.index].duration
    }

    /// The fork's state: the current branch's name.
    pub fn state(&self) -> &State {
        &self.state.state
    }

    /// How many contexts were superseded by a newer one (see
    /// [`context`](Self::context)). Not published: the reference client
    /// logs these; here they are counted for you to check or log.
    pub fn superseded(&self) -> u64 {
        self.superseded.load(Ordering::Relaxed)
    }

    /// Enters the fork: the state becomes `_` until a branch is entered
    /// with [`ForkContext::enter`]. Dropping the context counts the branch
    /// it is in and leaves the state.
    ///
    /// A fork follows one context at a time. A context started while
    /// another is active (nested, or on another thread) **supersedes** it,
    /// as the reference client resets the fork (and logs an error): the
    /// older context's current branch is not counted, and from then on it
    /// does nothing (entering branches or dropping it changes no counter
    /// and not the state). [`superseded`](Self::superseded) counts these
    /// events. So every counted duration is time really spent in one
    /// branch of one context, and no time is counted twice.
    pub fn context(&self) -> ForkContext<'_, N, C> {
        let epoch = self
            .epochs
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
            .max(1);
        if self.owner.swap(epoch, Ordering::AcqRel) != 0 {
            self.superseded.fetch_add(1, Ordering::Relaxed);
        }
        self.state.state.enter_at("_", self.clock.wall_ms());
        ForkContext {
            fork: self,
            epoch,
            current: None,
        }
    }

    /// The clock durations are measured with.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    fn owned_by(&self, epoch: u64) -> bool {
        self.owner.load(Ordering::Acquire) == epoch
    }
}

impl<const N: usize, C: Clock> Metrics for Fork<N, C> {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        f(Whole::<_, 0>::of(&self.state));
        for branch in &self.branches {
            f(Whole::<_, 0>::of(branch));
            f(Whole::<_, 1>::of(branch));
        }
    }
}

impl<const N: usize, C> fmt::Debug for Fork<N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Fork");
        s.field("state", &self.state.state);
        for branch in &self.branches {
            s.field(branch.branch, &(branch.count.get(), branch.duration.get()));
        }
        s.finish_non_exhaustive()
    }
}

/// A request going through a [`Fork`]'s branches; returned by
/// [`Fork::context`]. Dropping it counts the current branch and leaves the
/// state.
///
/// It is `Send` (when the clock is `Sync`).
#[must_use = "the context ends when it is dropped"]
pub struct ForkContext<'f, const N: usize, C: Clock = DefaultClock> {
    fork: &'f Fork<N, C>,
    epoch: u64,
    /// The current branch and the monotonic millisecond it was entered.
    current: Option<(usize, u64)>,
}

impl<const N: usize, C: Clock> ForkContext<'_, N, C> {
    /// Enters `branch`: the branch the context was in is counted (`count`
    /// +1, `duration` + the milliseconds since it was entered), and the
    /// state becomes `branch`'s name. Entering the current branch again
    /// counts it too and starts it anew, as the reference client does.
    pub fn enter(&mut self, branch: Branch<N>) {
        if !self.still_owns() {
            return;
        }
        // One clock read: the wall time comes with the monotonic one.
        let (wall, now) = self.fork.clock.wall_and_monotonic_ms();
        self.switch(branch, wall, now);
    }

    /// Whether the context still owns the fork; when it does not, it
    /// forgets its branch (a superseded context counts nothing more).
    #[inline]
    pub(crate) fn still_owns(&mut self) -> bool {
        let owns = self.fork.owned_by(self.epoch);
        if !owns {
            self.current = None;
        }
        owns
    }

    /// [`enter`](Self::enter) at the wall millisecond `wall` and the
    /// monotonic millisecond `now`, once [`still_owns`](Self::still_owns)
    /// said yes; returns the index of the branch left, if any.
    #[inline]
    pub(crate) fn switch(&mut self, branch: Branch<N>, wall: u64, now: u64) -> Option<usize> {
        let fork = self.fork;
        let left = self.commit(now);
        fork.state
            .state
            .enter_at(fork.branches[branch.index].branch, wall);
        self.current = Some((branch.index, now));
        left
    }

    /// What dropping the context does, at the monotonic millisecond `now`,
    /// once [`still_owns`](Self::still_owns) said yes: counts the current
    /// branch, whose index it returns, and leaves the state.
    #[inline]
    pub(crate) fn finish(&mut self, now: u64) -> Option<usize> {
        let fork = self.fork;
        let left = self.commit(now);
        if fork
            .owner
            .compare_exchange(self.epoch, 0, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            fork.state.state.exit();
        }
        left
    }

    /// The clock of the context's fork.
    pub(crate) fn clock(&self) -> &C {
        &self.fork.clock
    }

    /// The branch the context is in, if any.
    pub fn current(&self) -> Option<Branch<N>> {
        self.current.map(|(index, _)| Branch { index })
    }

    /// Whether a newer context superseded this one (see
    /// [`Fork::context`]): then it counts nothing more.
    pub fn is_superseded(&self) -> bool {
        !self.fork.owned_by(self.epoch)
    }

    /// Counts the current branch as left at the monotonic millisecond
    /// `now`; returns its index.
    fn commit(&mut self, now: u64) -> Option<usize> {
        let (index, since) = self.current.take()?;
        let branch = &self.fork.branches[index];
        branch.count.incr(1);
        branch.duration.incr(now.saturating_sub(since));
        Some(index)
    }
}

impl<const N: usize, C: Clock> Drop for ForkContext<'_, N, C> {
    fn drop(&mut self) {
        if !self.fork.owned_by(self.epoch) {
            return;
        }
        self.finish(self.fork.clock.monotonic_ms());
    }
}

impl<const N: usize, C: Clock> fmt::Debug for ForkContext<'_, N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForkContext")
            .field("epoch", &self.epoch)
            .field(
                "branch",
                &self.current.map(|(i, _)| self.fork.branches[i].branch),
            )
            .finish_non_exhaustive()
    }
}
