//! [`Histogram`]: a distribution of `u64` observations in fixed buckets,
//! published as plain counters.
//!
//! The protocol note (slot names, units, the readers' grouping rule) is on
//! [`Histogram`] and in `docs/histogram.md`. The bucket schemes are in
//! `buckets.rs`, the slots and their names in `slots.rs`.

mod buckets;
mod slots;

use crate::cell::AddCell;
use crate::clock::{Clock, DefaultClock};
use crate::counter::Counter;
use crate::described::Described;
use crate::metric::{Metric, Metrics, Parts, Whole};
use crate::name::{Name, NameRef, Pair};
use core::fmt;
use core::time::Duration;

pub use buckets::DEFAULT_BUCKETS;
use buckets::{DEFAULT_LE, check_bounds, log_linear_index, parse_bound};
use slots::{Bucket, Names, TOTAL_ROWS, Totals};
pub(crate) use slots::{DEFAULT_SLOTS, metric_rows};

/// The key of the pair that names a histogram's bucket by its upper bound:
/// `"cantal_le": "1024"`, and `"cantal_le": "+Inf"` for the last one.
pub const LE_KEY: &str = "cantal_le";

/// The key of the pair that names a histogram's count
/// (`"cantal_histogram": "count"`) and sum (`"cantal_histogram": "sum"`)
/// slots.
pub const HISTOGRAM_KEY: &str = "cantal_histogram";

/// The bound text of the last bucket, which has no upper bound.
pub const INF_BOUND: &str = "+Inf";

/// A histogram: how many observed values fell in each of `N` buckets, their
/// count and their sum, each an ordinary counter slot (names and bucket
/// schemes below).
///
/// Recording costs three relaxed atomic adds (bucket, count, sum), each
/// after one pointer load, and no lock, allocation or system call. Like
/// every handle it works before publication and keeps every observation
/// when it is published, also one recorded by another thread during
/// `start()`.
///
/// Values are integers in a unit of your choice; durations measured by
/// [`start_timer`](Self::start_timer) and
/// [`record_duration`](Self::record_duration) are in **microseconds**,
/// rounded up. Floats go through [`record_f64`](Self::record_f64).
///
/// Each slot is a [`Counter`] (its name and cell): a default histogram
/// takes about 6 KiB of memory in the program (on 64-bit targets) and 55
/// slots (440 bytes) of the region.
///
/// Many threads recording into one histogram at once share its count and
/// sum cache lines, as with a [`Counter`](crate::Counter); give each hot
/// thread group a histogram of its own (with an extra name pair) when
/// that shows.
///
/// # On the wire (protocol note)
///
/// A histogram named `{P}` (its pairs) with buckets `b1 < b2 < ... < bk`
/// publishes `k + 3` ordinary `counter 8` slots, each distinguished from
/// the histogram's name by exactly one extra pair:
///
/// | slot | name | value |
/// | --- | --- | --- |
/// | bucket `i` | `{P, "cantal_le": "<bi>"}` | observations `v` with `b(i-1) < v <= bi` |
/// | overflow bucket | `{P, "cantal_le": "+Inf"}` | observations above `bk` |
/// | count | `{P, "cantal_histogram": "count"}` | all observations |
/// | sum | `{P, "cantal_histogram": "sum"}` | the sum of the observed values (wrapping) |
///
/// - The buckets are **not cumulative**: each observation adds 1 to exactly
///   one bucket. A reader that wants Prometheus' cumulative `le` buckets
///   sums them in bound order. Bounds are decimal integers (no sign, no
///   leading zero) in the histogram's own unit, and the last bucket's bound
///   is the text `+Inf`.
/// - The sum is an integer in the same unit as the bounds (microseconds for
///   the durations of [`Timer`] and
///   [`TimedRequestTracker`](crate::TimedRequestTracker)); like every
///   counter it wraps at 2^64.
/// - Grouping rule for readers: the counters whose names have a
///   `cantal_le` pair, or a `cantal_histogram` pair whose value is `count`
///   or `sum`, and are equal once that pair is removed, form one histogram
///   named by what remains. It is complete when it has a count, a sum and
///   a `+Inf` bucket; a reader shows anything else as the plain counters
///   it is.
/// - The count is bumped right after the bucket and the sum right after
///   the count, by separate atomic adds: a reader that reads while values
///   are observed may see the count differ from the sum of the buckets by
///   the observations in flight.
///
/// A reader that knows only counters sees a set of counters with ordinary
/// names (the original agent shows them as such).
///
/// # Bucket schemes
///
/// - **Default** ([`Histogram::new`], [`DEFAULT_BUCKETS`] buckets):
///   log-linear, two buckets per power of two: the bounds are 1, 2, 3, 4,
///   6, 8, 12, 16, 24, ... up to 2^26 = 67,108,864, then `+Inf`; in
///   microseconds that is 1 µs to 67 s. Consecutive bounds differ by a
///   factor of at most 1.5 (above 2), so a quantile read from the buckets
///   is off by less than 50% of its value (less than 23% when the reader
///   interpolates geometrically inside the bucket). Finding the bucket is a
///   `leading_zeros`, two shifts and a minimum, with no branch.
/// - **Given bounds** ([`Histogram::with_bounds`]): any strictly increasing
///   list of integers, written as decimal text (the text is the name pair's
///   value, which a `const` initializer cannot format), checked at compile
///   time for a `static`; the bucket is found by binary search.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::Histogram;
///
/// static LATENCY: Histogram = Histogram::new(&[("group", "db"), ("metric", "query_us")]);
///
/// LATENCY.record(3); // in the bucket `le 3`
/// LATENCY.record(100); // in the bucket `le 128`
/// assert_eq!(LATENCY.count(), 2);
/// assert_eq!(LATENCY.sum(), 103);
/// assert_eq!(LATENCY.bucket_of(100), 13);
/// assert_eq!(LATENCY.upper_bound(13), Some(128));
/// assert_eq!(LATENCY.bucket(13), 1);
/// ```
///
/// Bounds of your own (`N` is their number plus one, for `+Inf`):
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::Histogram;
///
/// static SIZES: Histogram<4> =
///     Histogram::with_bounds(&[("metric", "body_bytes")], &["1024", "65536", "1048576"]);
///
/// SIZES.record(1024);
/// SIZES.record(70_000);
/// SIZES.record(u64::MAX);
/// assert_eq!([SIZES.bucket(0), SIZES.bucket(1), SIZES.bucket(2), SIZES.bucket(3)], [1, 0, 1, 1]);
/// ```
///
/// Bounds that do not increase do not compile:
///
/// ```compile_fail
/// # extern crate cantal_core as cantal;
/// use cantal::Histogram;
///
/// static BAD: Histogram<3> = Histogram::with_bounds(&[("metric", "x")], &["10", "5"]);
/// BAD.record(1);
/// ```
pub struct Histogram<const N: usize = DEFAULT_BUCKETS> {
    buckets: [Bucket; N],
    totals: Totals,
    /// The buckets' upper bounds (`u64::MAX` for the last).
    bounds: [u64; N],
    /// The default scheme, whose bucket is computed, not searched.
    log_linear: bool,
}

impl Histogram<DEFAULT_BUCKETS> {
    /// A histogram named by `pairs`, with the default log-linear buckets.
    ///
    /// # Panics
    ///
    /// When a key appears twice or is [`LE_KEY`] or [`HISTOGRAM_KEY`] (a
    /// compile-time error for a `static`).
    pub const fn new(pairs: &'static [Pair]) -> Self {
        Self::with_name(Name::new(pairs))
    }

    /// A histogram with a composed `name` (see [`Name`]) and the default
    /// buckets.
    ///
    /// # Panics
    ///
    /// As [`new`](Self::new), and when `name` has a pair added with
    /// `Name::with` already (each slot adds its own).
    pub const fn with_name(name: Name) -> Self {
        Self::named(name, &DEFAULT_LE)
    }

    /// The `duration` histogram of a
    /// [`TimedRequestTracker`](crate::TimedRequestTracker).
    pub(crate) const fn duration(group: &'static str, extra: &'static [Pair]) -> Self {
        let names = Names::Duration { extra, group };
        names.check(Name::new(extra));
        Self::build(names, &DEFAULT_LE).with_unit("microseconds")
    }
}

impl<const N: usize> Histogram<N> {
    /// A histogram named by `pairs` whose buckets end at `bounds` (strictly
    /// increasing decimal integers), then `+Inf`; `N` is `bounds.len() + 1`.
    ///
    /// # Panics
    ///
    /// When `N` is not `bounds.len() + 1`, a bound is not a decimal integer
    /// without leading zeros, the bounds do not increase, or as
    /// [`new`](Histogram::new) (a compile-time error for a `static`).
    pub const fn with_bounds(pairs: &'static [Pair], bounds: &'static [&'static str]) -> Self {
        Self::with_name_and_bounds(Name::new(pairs), bounds)
    }

    /// As [`with_bounds`](Self::with_bounds) with a composed `name`.
    ///
    /// # Panics
    ///
    /// As [`with_bounds`](Self::with_bounds) and
    /// [`with_name`](Histogram::with_name).
    pub const fn with_name_and_bounds(name: Name, bounds: &'static [&'static str]) -> Self {
        if bounds.len() + 1 != N {
            panic!("a Histogram<N> has N - 1 bounds");
        }
        check_bounds(bounds);
        let mut histogram = Self::named(name, bounds);
        histogram.log_linear = false;
        histogram
    }

    /// The histogram named `name` plus each slot's pair.
    const fn named(name: Name, le: &'static [&'static str]) -> Self {
        let names = Names::Added(NameRef::of(name));
        names.check(name);
        Self::build(names, le)
    }

    /// The same histogram, its values in `unit` (a `metrics` crate unit
    /// word, as [`Described`] takes): the Linux publisher writes it into
    /// the help side file `P.help`, and `cantal export` serves the
    /// histogram in base units (`microseconds`: bounds and sum divided by
    /// 10^6, a `_seconds` family). Durations from [`start_timer`] and
    /// [`record_duration`] are microseconds, so a latency histogram says
    /// `.with_unit("microseconds")`; a
    /// [`TimedRequestTracker`](crate::TimedRequestTracker)'s does so itself.
    ///
    /// [`start_timer`]: Self::start_timer
    /// [`record_duration`]: Self::record_duration
    #[must_use]
    pub const fn with_unit(mut self, unit: &'static str) -> Self {
        self.totals.count.unit = Some(unit);
        self
    }

    /// The histogram's unit, when it was given one ([`with_unit`](Self::with_unit)).
    pub const fn unit(&self) -> Option<&'static str> {
        self.totals.count.unit
    }

    /// The histogram with slots named by `names`: bucket `i` by the text
    /// `le[i]` (`+Inf` past the end of `le`).
    const fn build(names: Names, le: &'static [&'static str]) -> Self {
        let mut buckets = [const {
            Bucket {
                names: Names::Added(NameRef::Pairs(&[])),
                le: "",
                cell: AddCell::new(),
            }
        }; N];
        let mut bounds = [u64::MAX; N];
        let mut i = 0;
        while i < N {
            let text = if i < le.len() && i + 1 < N {
                le[i]
            } else {
                INF_BOUND
            };
            buckets[i].names = names;
            buckets[i].le = text;
            if i + 1 < N {
                bounds[i] = parse_bound(text);
            }
            i += 1;
        }
        Histogram {
            buckets,
            totals: Totals {
                names,
                count: Described::unit_only(Counter::part(TOTAL_ROWS[0]), None),
                sum: Counter::part(TOTAL_ROWS[1]),
            },
            bounds,
            log_linear: true,
        }
    }

    /// Records `value`: one more observation in its bucket, `value` more in
    /// the sum (wrapping).
    #[inline(always)]
    pub fn record(&self, value: u64) {
        self.observe(self.bucket_of(value), value);
    }

    /// Records a float observation, in the histogram's unit:
    ///
    /// - a finite `value >= 0` is rounded up to an integer (so that the
    ///   bucket `le b` holds exactly the values `<= b`) and recorded;
    /// - a negative value (and `-0.0`, `-inf`) is recorded as 0: counted
    ///   in the first bucket, nothing added to the sum;
    /// - NaN, `+inf` and values of 2^64 or more are counted in the `+Inf`
    ///   bucket and the count, and add nothing to the sum.
    ///
    /// To observe seconds in a microsecond histogram, pass `secs * 1e6`.
    pub fn record_f64(&self, value: f64) {
        // 2^64 exactly; every f64 below it truncates into a u64.
        const LIMIT: f64 = 18_446_744_073_709_551_616.0;
        if value.is_nan() || value >= LIMIT {
            self.observe(N - 1, 0);
        } else if value > 0.0 {
            let whole = value as u64;
            self.record(whole + u64::from((whole as f64) < value));
        } else {
            self.record(0);
        }
    }

    /// Records `duration` as whole microseconds, rounded up (saturating).
    pub fn record_duration(&self, duration: Duration) {
        let micros = duration
            .as_secs()
            .saturating_mul(1_000_000)
            .saturating_add(u64::from(duration.subsec_nanos().div_ceil(1000)));
        self.record(micros);
    }

    /// Starts timing on the [`DefaultClock`]: dropping the returned guard
    /// records the microseconds elapsed.
    ///
    /// # Examples
    ///
    /// ```
    /// # extern crate cantal_core as cantal;
    /// use cantal::Histogram;
    ///
    /// static PARSE: Histogram = Histogram::new(&[("metric", "parse_us")]);
    ///
    /// let n: u32 = {
    ///     let _timer = PARSE.start_timer();
    ///     "42".parse().unwrap()
    /// };
    /// assert_eq!(n, 42);
    /// assert_eq!(PARSE.count(), 1);
    /// ```
    pub fn start_timer(&self) -> Timer<'_, DefaultClock, N> {
        self.start_timer_on(DefaultClock)
    }

    /// Starts timing on `clock` (a firmware timer, a
    /// [`ManualClock`](crate::clock::ManualClock) in tests).
    pub fn start_timer_on<C: Clock>(&self, clock: C) -> Timer<'_, C, N> {
        let start_ns = clock.monotonic_ns();
        Timer {
            histogram: self,
            clock,
            start_ns,
        }
    }

    /// Counts one observation in bucket `index` and adds `amount` to the
    /// sum.
    #[inline(always)]
    fn observe(&self, index: usize, amount: u64) {
        if let Some(bucket) = self.buckets.get(index) {
            bucket.cell.add(1, bucket);
        }
        self.totals.count.incr(1);
        self.totals.sum.incr(amount);
    }

    /// Slot `index` as a metric, in the order of [`Metrics::for_each`]:
    /// the buckets, then the count, then the sum (also past the end). For
    /// a compound that names the slots itself
    /// ([`TimedFork`](crate::TimedFork)).
    pub(crate) fn slot(&self, index: usize) -> &dyn Metric {
        match self.buckets.get(index) {
            Some(bucket) => bucket,
            None if index == N => &self.totals.count,
            None => &self.totals.sum,
        }
    }

    /// The index of the bucket `value` falls in: the first whose upper
    /// bound is `>= value`.
    #[inline(always)]
    pub fn bucket_of(&self, value: u64) -> usize {
        if self.log_linear {
            log_linear_index(value)
        } else {
            self.bounds.partition_point(|&bound| bound < value)
        }
    }

    /// The upper bound of bucket `index`; `None` for the last (`+Inf`) and
    /// past the end.
    pub fn upper_bound(&self, index: usize) -> Option<u64> {
        if index + 1 < N {
            self.bounds.get(index).copied()
        } else {
            None
        }
    }

    /// The observations in bucket `index` alone (not cumulative); 0 past
    /// the end.
    pub fn bucket(&self, index: usize) -> u64 {
        self.buckets
            .get(index)
            .map_or(0, |bucket| bucket.cell.get())
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.totals.count.get()
    }

    /// The sum of the observed values (wrapping), in their unit.
    pub fn sum(&self) -> u64 {
        self.totals.sum.get()
    }
}

impl<const N: usize> fmt::Debug for Histogram<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.totals.part_name(0))
            .field("buckets", &N)
            .field("observations", &self.count())
            .field("sum", &self.sum())
            .finish()
    }
}

impl<const N: usize> Metrics for Histogram<N> {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        for bucket in &self.buckets {
            f(bucket);
        }
        f(Whole::<_, 0>::of(&self.totals));
        f(Whole::<_, 1>::of(&self.totals));
    }
}

/// A running measurement; returned by [`Histogram::start_timer`]. Dropping
/// it records the time since it started, in microseconds rounded up.
#[must_use = "the duration is recorded when the timer is dropped"]
pub struct Timer<'h, C: Clock = DefaultClock, const N: usize = DEFAULT_BUCKETS> {
    histogram: &'h Histogram<N>,
    clock: C,
    start_ns: u64,
}

impl<C: Clock, const N: usize> Timer<'_, C, N> {
    /// Microseconds since the timer started, as it would record them now.
    pub fn elapsed_us(&self) -> u64 {
        elapsed_us(self.start_ns, self.clock.monotonic_ns())
    }
}

/// Whole microseconds from `start_ns` to `now_ns`, rounded up.
pub(crate) const fn elapsed_us(start_ns: u64, now_ns: u64) -> u64 {
    now_ns.saturating_sub(start_ns).div_ceil(1000)
}

impl<C: Clock, const N: usize> Drop for Timer<'_, C, N> {
    fn drop(&mut self) {
        self.histogram.record(self.elapsed_us());
    }
}

impl<C: Clock, const N: usize> fmt::Debug for Timer<'_, C, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("start_ns", &self.start_ns)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::Kind;
    extern crate std;
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    fn every_default_bound_and_its_neighbours_land_right() {
        let h = Histogram::new(&[("metric", "x")]);
        for (i, text) in DEFAULT_LE.iter().enumerate().take(DEFAULT_BUCKETS - 1) {
            let b = h.upper_bound(i).unwrap();
            assert_eq!(h.bucket_of(b), i, "bound {b}");
            assert_eq!(h.bucket_of(b + 1), i + 1, "bound {b} + 1");
            if i > 0 {
                let below = h.upper_bound(i - 1).unwrap();
                assert_eq!(h.bucket_of(below + 1), i);
            }
            assert_eq!(*text, b.to_string());
        }
        assert_eq!(h.bucket_of(0), 0);
        assert_eq!(h.bucket_of(u64::MAX), DEFAULT_BUCKETS - 1);
        assert_eq!(h.upper_bound(DEFAULT_BUCKETS - 1), None);
        assert_eq!(h.upper_bound(51), Some(1 << 26));
    }

    #[test]
    fn search_matches_the_computed_index() {
        let h = Histogram::new(&[("metric", "x")]);
        let mut v = 0u64;
        while v < (1 << 28) {
            let searched = h.bounds.partition_point(|&b| b < v);
            assert_eq!(h.bucket_of(v), searched, "value {v}");
            v = v * 5 / 4 + 1;
        }
    }

    #[test]
    fn record_counts_bucket_count_and_sum() {
        let h = Histogram::new(&[("metric", "x")]);
        for v in [0, 1, 2, 3, 4, 5, 67_108_864, 67_108_865, u64::MAX] {
            h.record(v);
        }
        assert_eq!(h.count(), 9);
        // 0 + ... + 5 + 2^26 + 2^26 + 1 + (2^64 - 1), wrapping.
        assert_eq!(h.sum(), 15 + (1 << 27));
        let got: Vec<u64> = (0..DEFAULT_BUCKETS).map(|i| h.bucket(i)).collect();
        let mut want = [0u64; DEFAULT_BUCKETS];
        want[0] = 2; // 0, 1
        want[1] = 1;
        want[2] = 1;
        want[3] = 1;
        want[4] = 1; // 5 <= 6
        want[51] = 1;
        want[52] = 2;
        assert_eq!(got, want);
    }

    #[test]
    fn floats_round_up_and_odd_values_are_documented() {
        let h = Histogram::new(&[("metric", "x")]);
        h.record_f64(2.5); // -> 3
        h.record_f64(3.0); // -> 3
        h.record_f64(-7.0); // -> 0
        h.record_f64(-0.0);
        h.record_f64(f64::NEG_INFINITY);
        h.record_f64(f64::NAN);
        h.record_f64(f64::INFINITY);
        h.record_f64(1e30);
        h.record_f64(0.1); // -> 1
        assert_eq!(h.count(), 9);
        assert_eq!(h.sum(), 3 + 3 + 1);
        assert_eq!(h.bucket(0), 4);
        assert_eq!(h.bucket(2), 2);
        assert_eq!(h.bucket(DEFAULT_BUCKETS - 1), 3);
        h.record_f64(18_446_744_073_709_549_568.0); // the largest f64 below 2^64
        assert_eq!(h.bucket(DEFAULT_BUCKETS - 1), 4);
        assert_eq!(h.sum(), 7 + 18_446_744_073_709_549_568);
    }

    #[test]
    fn a_default_histogram_is_four_words_a_bucket() {
        // A bucket keeps its counter cell (two words), its bound's text
        // (two) and what names the histogram (four); the bounds as numbers
        // take one word more each.
        assert_eq!(size_of::<Bucket>(), 8 * size_of::<usize>().max(8));
        let size = size_of::<Histogram>();
        assert_eq!(
            size,
            DEFAULT_BUCKETS * (size_of::<Bucket>() + 8) + size_of::<Totals>() + 8
        );
        if size_of::<usize>() == 8 {
            assert!(size <= 4 * 1024, "{size} bytes");
        }
    }

    #[test]
    fn durations_are_microseconds_rounded_up() {
        let h = Histogram::new(&[("metric", "x")]);
        h.record_duration(Duration::from_nanos(1));
        h.record_duration(Duration::from_nanos(2_001));
        h.record_duration(Duration::new(1, 999_999_999));
        assert_eq!(h.sum(), 1 + 3 + 2_000_000);
        assert_eq!(elapsed_us(10, 5), 0);
        assert_eq!(elapsed_us(0, 1_000), 1);
        assert_eq!(elapsed_us(0, 1_001), 2);
    }

    #[test]
    fn given_bounds_are_searched_and_named() {
        static H: Histogram<4> = Histogram::with_bounds(&[("metric", "x")], &["0", "10", "100"]);
        for v in [0, 1, 10, 11, 100, 101, u64::MAX] {
            H.record(v);
        }
        let got: Vec<u64> = (0..4).map(|i| H.bucket(i)).collect();
        assert_eq!(got, [1, 2, 2, 2]);
        assert_eq!(H.upper_bound(2), Some(100));
        assert_eq!(H.upper_bound(3), None);
        let mut names = Vec::new();
        H.for_each(&mut |m| {
            assert_eq!(m.kind(), Kind::Counter);
            names.push(m.name().to_string());
        });
        assert_eq!(
            names,
            [
                r#"{"cantal_le": "0", "metric": "x"}"#,
                r#"{"cantal_le": "10", "metric": "x"}"#,
                r#"{"cantal_le": "100", "metric": "x"}"#,
                r#"{"cantal_le": "+Inf", "metric": "x"}"#,
                r#"{"cantal_histogram": "count", "metric": "x"}"#,
                r#"{"cantal_histogram": "sum", "metric": "x"}"#,
            ]
        );
    }

    #[test]
    #[should_panic(expected = "increase strictly")]
    fn equal_bounds_panic() {
        let _ = Histogram::<3>::with_bounds(&[], std::hint::black_box(&["5", "5"]));
    }

    #[test]
    #[should_panic(expected = "N - 1 bounds")]
    fn wrong_bucket_number_panics() {
        let _ = Histogram::<3>::with_bounds(&[], std::hint::black_box(&["5"]));
    }

    #[test]
    #[should_panic(expected = "leading zeros")]
    fn non_decimal_bound_panics() {
        let _ = Histogram::<2>::with_bounds(&[], std::hint::black_box(&["05"]));
    }

    #[test]
    #[should_panic(expected = "same key twice")]
    fn a_reserved_key_in_the_name_panics() {
        let pairs: &'static [Pair] = &[(LE_KEY, "1")];
        let _ = Histogram::new(std::hint::black_box(pairs));
    }

    #[test]
    fn duration_histogram_names() {
        let h = Histogram::duration("http", &[("service", "api")]);
        let mut names = Vec::new();
        h.for_each(&mut |m| names.push(m.name().to_string()));
        assert_eq!(names.len(), DEFAULT_BUCKETS + 2);
        assert_eq!(
            names[0],
            r#"{"cantal_le": "1", "group": "http", "metric": "request_duration", "service": "api"}"#
        );
        assert_eq!(
            names[DEFAULT_BUCKETS - 1],
            r#"{"cantal_le": "+Inf", "group": "http", "metric": "request_duration", "service": "api"}"#
        );
        assert_eq!(
            names[DEFAULT_BUCKETS + 1],
            r#"{"cantal_histogram": "sum", "group": "http", "metric": "request_duration", "service": "api"}"#
        );
    }
}
