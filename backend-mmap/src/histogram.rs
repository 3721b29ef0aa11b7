//! Putting the parts of a histogram back together as one metric.
//!
//! The `metrics` recorder (`cantal-recorder`) publishes a histogram `X`
//! with labels `L` as the Prometheus parts, each an ordinary slot:
//!
//! - a counter `{"metric": "X_count", L...}`,
//! - a float level `{"metric": "X_sum", L...}`,
//! - for each finite upper bound `B`, a cumulative counter
//!   `{"le": "B", "metric": "X_bucket", L...}` (no `+Inf` bucket: that is
//!   the `_count`).
//!
//! `cantal_core::Histogram` (and a `TimedRequestTracker`'s durations)
//! publishes a histogram named `P` as counters only, not cumulative (see
//! `docs/histogram.md`):
//!
//! - `{"cantal_histogram": "count", P...}` and `{"cantal_histogram":
//!   "sum", P...}`,
//! - for each upper bound `B` (a decimal integer), `{"cantal_le": "B",
//!   P...}` holding the observations in `(previous bound, B]`, and
//!   `{"cantal_le": "+Inf", P...}` for those above the last bound.
//!
//! Readers show either shape as one metric named `{"metric": "X", L...}`
//! (or `P`) with its count, sum and cumulative buckets in numeric bound
//! order: [`groups`] says which slots make one histogram, and [`Shape`]
//! which of the two it is.
//!
//! The rule: a set of slots is one histogram when, with `X` and `L` the
//! same for all, there is exactly one `X_count` counter, exactly one
//! `X_sum` float level, and at least one `X_bucket` counter with one `le`
//! pair whose value is a finite number (as Rust's `f64` parser reads it),
//! no two with the same bound. Anything else (a missing part, two bounds
//! that are one number, a name that is not a histogram's part) is left as
//! the separate slots it is: nothing is guessed. A bucket whose `le` is not
//! a finite number (`+Inf`, `x`) is never a part. For the core's shape,
//! the rule of `docs/histogram.md`: one count, one sum and one `+Inf`
//! bucket, every other `cantal_le` a decimal `u64`, no bound twice, all
//! counters. The rule looks at the slots of one meta file only.
//!
//! # Examples
//!
//! ```
//! use cantal_mmap::histogram::{HistogramGroup, Part, groups};
//! use cantal_mmap::read::SlotName;
//!
//! let name = |pairs: &[(&str, &str)]| SlotName::from_pairs(pairs.iter().copied()).unwrap();
//! let names = [
//!     name(&[("metric", "latency_count")]),
//!     name(&[("metric", "latency_sum")]),
//!     name(&[("le", "10"), ("metric", "latency_bucket")]),
//!     name(&[("le", "2.5"), ("metric", "latency_bucket")]),
//!     name(&[("metric", "requests")]),
//! ];
//! let kinds = [Part::Counter, Part::Float, Part::Counter, Part::Counter, Part::Counter];
//! let slots: Vec<(Part, &SlotName)> = kinds.into_iter().zip(&names).collect();
//! let groups = groups(&slots);
//! let HistogramGroup::Parts(h) = &groups[0] else { panic!() };
//! assert_eq!(h.pairs, [("metric".to_string(), "latency".to_string())]);
//! assert_eq!((h.count, h.sum), (0, 1));
//! // Numeric order: 2.5 before 10.
//! assert_eq!(h.buckets, [(2.5, 3), (10.0, 2)]);
//! assert_eq!(groups[1], HistogramGroup::One(4));
//! ```

use crate::slot_name::SlotName;
use cantal_core::{HISTOGRAM_KEY, INF_BOUND, LE_KEY};
use std::collections::HashMap;

/// The key of a bucket's upper bound.
pub const BUCKET_KEY: &str = "le";

/// The key of the pair that holds a histogram part's name.
pub const METRIC_KEY: &str = "metric";

/// What [`groups`] needs to know of a slot's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A `counter 8` (a `_count` or a `_bucket`).
    Counter,
    /// A `level 8 float` (a `_sum`).
    Float,
    /// Anything else: never a part.
    Other,
}

/// Which of the two histogram shapes a [`HistogramParts`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The `metrics` recorder's: a float `_sum`, cumulative buckets, no
    /// `+Inf` bucket (that is the `_count`).
    Cumulative,
    /// `cantal_core::Histogram`'s: an integer sum, each bucket holding only
    /// its own range, and a `+Inf` bucket ([`HistogramParts::overflow`]).
    Exclusive,
}

/// One histogram: where its parts are.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramParts {
    /// Its name: the parts' pairs with `metric` without its suffix and
    /// without `le` (the core's shape: without `cantal_le` or
    /// `cantal_histogram`), in the count slot's order.
    pub pairs: Vec<(String, String)>,
    /// Which shape its parts have.
    pub shape: Shape,
    /// The index of the count counter.
    pub count: usize,
    /// The index of the sum slot.
    pub sum: usize,
    /// Whether the sum is a float level (the recorder's); else a counter
    /// (the core's integer sum).
    pub float_sum: bool,
    /// Each finite bucket's bound and the index of its counter, in
    /// ascending bound order.
    pub buckets: Vec<(f64, usize)>,
    /// The index of the `+Inf` bucket's counter ([`Shape::Exclusive`]).
    pub overflow: Option<usize>,
}

impl HistogramParts {
    /// Every slot index the histogram takes, the smallest first.
    pub fn slots(&self) -> Vec<usize> {
        let mut all: Vec<usize> = [self.count, self.sum]
            .into_iter()
            .chain(self.buckets.iter().map(|(_, i)| *i))
            .chain(self.overflow)
            .collect();
        all.sort_unstable();
        all
    }
}

/// One metric to show.
#[derive(Debug, Clone, PartialEq)]
pub enum HistogramGroup {
    /// A slot on its own.
    One(usize),
    /// The parts of a histogram, shown where its first part is.
    Parts(HistogramParts),
}

/// Which role a slot may play, and the histogram it would belong to.
enum Role {
    Count,
    /// Whether the sum is a float.
    Sum(bool),
    Bucket(f64),
    /// The core's `+Inf` bucket.
    Overflow,
    /// A core bucket whose bound is not a canonical decimal: its group is
    /// no histogram.
    Bad,
}

/// The role of a core histogram's part: a counter with exactly one
/// `cantal_le` or `cantal_histogram` pair (and not both).
fn exclusive_role(part: Part, name: &SlotName) -> Option<(Role, Key)> {
    if part == Part::Other {
        return None;
    }
    let mut extra = name
        .pairs()
        .filter(|&(k, _)| k == LE_KEY || k == HISTOGRAM_KEY);
    let (key, value) = extra.next()?;
    if extra.next().is_some() {
        return None;
    }
    let role = match (part, key, value) {
        (Part::Counter, HISTOGRAM_KEY, "count") => Role::Count,
        // An integer sum (the core's) or a float one (the recorder's).
        (_, HISTOGRAM_KEY, "sum") => Role::Sum(part == Part::Float),
        (Part::Counter, LE_KEY, INF_BOUND) => Role::Overflow,
        (Part::Counter, LE_KEY, bound) => finite_bound(bound).map_or(Role::Bad, Role::Bucket),
        _ => return None,
    };
    let mut rest: Key = name
        .pairs()
        .filter(|&(k, _)| k != key)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    rest.sort_unstable();
    Some((role, rest))
}

/// Whether a slot of type `part` named `pairs` may be a histogram's part
/// (of either shape), as [`groups`] would consider it: a cheap test that
/// allocates nothing, so that a file without histograms skips [`groups`].
/// Never `false` for a slot that [`groups`] would put in a histogram.
pub fn may_be_part(part: Part, name: &SlotName) -> bool {
    part != Part::Other
        && name.pairs().any(|(k, v)| {
            k == LE_KEY
                || k == HISTOGRAM_KEY
                || (k == METRIC_KEY
                    && (v.ends_with("_count") || v.ends_with("_sum") || v.ends_with("_bucket")))
        })
}

/// A bucket bound of the core's shape: a finite number as Rust's `f64`
/// parser reads it (the core writes decimal integers, the recorder
/// shortest round-trip floats such as `0.005`).
fn finite_bound(text: &str) -> Option<f64> {
    text.parse().ok().filter(|b: &f64| b.is_finite())
}

/// The name every part of one histogram has in common: sorted pairs, with
/// `metric` the histogram's name and no `le`.
type Key = Vec<(String, String)>;

/// The role and histogram key of a slot, when it may be a part.
fn role(part: Part, name: &SlotName) -> Option<(Role, Key)> {
    let mut metric = name.pairs().filter(|&(k, _)| k == METRIC_KEY);
    let (_, metric_value) = metric.next()?;
    if metric.next().is_some() {
        return None;
    }
    let mut les = name.pairs().filter(|&(k, _)| k == BUCKET_KEY);
    let le = les.next();
    if les.next().is_some() {
        return None;
    }
    let (role, stem) = match (part, le) {
        (Part::Counter, None) => (Role::Count, metric_value.strip_suffix("_count")?),
        (Part::Float, None) => (Role::Sum(true), metric_value.strip_suffix("_sum")?),
        (Part::Counter, Some((_, bound))) => {
            let bound: f64 = bound.parse().ok().filter(|b: &f64| b.is_finite())?;
            (Role::Bucket(bound), metric_value.strip_suffix("_bucket")?)
        }
        _ => return None,
    };
    let mut key: Key = name
        .pairs()
        .filter(|&(k, _)| k != BUCKET_KEY)
        .map(|(k, v)| {
            let v = if k == METRIC_KEY { stem } else { v };
            (k.to_string(), v.to_string())
        })
        .collect();
    key.sort_unstable();
    Some((role, key))
}

/// The parts found for one key.
#[derive(Default)]
struct Found {
    count: Vec<usize>,
    /// Each sum slot, and whether it is a float.
    sum: Vec<(usize, bool)>,
    buckets: Vec<(f64, usize)>,
    overflow: Vec<usize>,
    bad: bool,
}

impl Found {
    fn add(&mut self, role: Role, i: usize) {
        match role {
            Role::Count => self.count.push(i),
            Role::Sum(float) => self.sum.push((i, float)),
            Role::Bucket(bound) => self.buckets.push((bound, i)),
            Role::Overflow => self.overflow.push(i),
            Role::Bad => self.bad = true,
        }
    }

    /// The histogram, when the parts make exactly one of `shape`.
    fn histogram(mut self, slots: &[(Part, &SlotName)], shape: Shape) -> Option<HistogramParts> {
        let (&[count], &[(sum, float_sum)]) = (self.count.as_slice(), self.sum.as_slice()) else {
            return None;
        };
        if self.bad {
            return None;
        }
        let overflow = match (shape, self.overflow.as_slice()) {
            (Shape::Cumulative, []) if !self.buckets.is_empty() => None,
            (Shape::Exclusive, &[inf]) => Some(inf),
            _ => return None,
        };
        self.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        if self.buckets.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        let count_pairs = slots.get(count)?.1.pairs();
        let pairs = match shape {
            Shape::Cumulative => count_pairs
                .map(|(k, v)| {
                    let stem = v.strip_suffix("_count").filter(|_| k == METRIC_KEY);
                    (k.to_string(), stem.unwrap_or(v).to_string())
                })
                .collect(),
            Shape::Exclusive => count_pairs
                .filter(|&(k, _)| k != HISTOGRAM_KEY)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        Some(HistogramParts {
            pairs,
            shape,
            count,
            sum,
            float_sum,
            buckets: self.buckets,
            overflow,
        })
    }
}

/// Which slots make one metric: a [`HistogramGroup`] for every metric to show, in
/// the order of its first slot. Every index appears in exactly one group.
/// O(n log n) for n slots.
pub fn groups(slots: &[(Part, &SlotName)]) -> Vec<HistogramGroup> {
    let mut cumulative: HashMap<Key, Found> = HashMap::new();
    let mut exclusive: HashMap<Key, Found> = HashMap::new();
    for (i, (part, pairs)) in slots.iter().enumerate() {
        // A slot with one of the core's keys is a candidate of its shape
        // only (the recorder never writes them).
        if let Some((role, key)) = exclusive_role(*part, pairs) {
            exclusive.entry(key).or_default().add(role, i);
        } else if let Some((role, key)) = role(*part, pairs) {
            cumulative.entry(key).or_default().add(role, i);
        }
    }
    // Each histogram, by its first slot.
    let mut first: HashMap<usize, HistogramParts> = HashMap::new();
    let mut taken = vec![false; slots.len()];
    let found = (cumulative.into_values().map(|f| (f, Shape::Cumulative)))
        .chain(exclusive.into_values().map(|f| (f, Shape::Exclusive)));
    for (parts, shape) in found {
        if let Some(h) = parts.histogram(slots, shape) {
            let all = h.slots();
            for &i in &all {
                taken[i] = true;
            }
            first.insert(all[0], h);
        }
    }
    let mut out = Vec::with_capacity(slots.len());
    for (i, taken) in taken.iter().enumerate() {
        if let Some(h) = first.remove(&i) {
            out.push(HistogramGroup::Parts(h));
        } else if !taken {
            out.push(HistogramGroup::One(i));
        }
    }
    out
}

/// The `q`-quantile (0 to 1) of a histogram of `count` observations with
/// the cumulative `buckets` (upper bound, observations at most it; in
/// ascending bound order; the `+Inf` bucket is `count`), estimated as
/// Prometheus's `histogram_quantile` does: the bucket that holds the
/// observation of rank `q * count` is found, and the value interpolated
/// linearly between its lower bound (the previous bound, 0 for the first
/// bucket when its bound is positive) and its upper bound. The true
/// quantile lies in that bucket, so the estimate is off by at most the
/// bucket's width: with the default log-linear bounds (adjacent bounds a
/// factor of at most 1.5 apart above 2) by less than half the true value.
/// A rank in the `+Inf` bucket gives the last finite bound (a lower bound
/// of the true value). `None` without observations or for `q` outside
/// 0..=1.
///
/// # Examples
///
/// ```
/// use cantal_mmap::histogram::quantile;
///
/// // 10 observations: 4 at most 1, 4 more at most 2, 2 above 2.
/// let buckets = [(1.0, 4), (2.0, 8)];
/// assert_eq!(quantile(0.5, 10, &buckets), Some(1.25));
/// assert_eq!(quantile(0.99, 10, &buckets), Some(2.0));
/// assert_eq!(quantile(0.5, 0, &buckets), None);
/// ```
pub fn quantile(q: f64, count: u64, buckets: &[(f64, u64)]) -> Option<f64> {
    if count == 0 || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let rank = q * count as f64;
    let mut lower = (0.0, 0u64);
    for &(bound, n) in buckets {
        if n as f64 >= rank {
            let (low, below) = lower;
            let low = if low == 0.0 && bound <= 0.0 {
                bound
            } else {
                low
            };
            let inside = n.saturating_sub(below) as f64;
            if inside == 0.0 {
                return Some(bound);
            }
            return Some(low + (bound - low) * (rank - below as f64) / inside);
        }
        lower = (bound, n);
    }
    Some(buckets.last().map_or(f64::INFINITY, |&(bound, _)| bound))
}

/// The canonical JSON name of a histogram of the core's shape, from its
/// count slot's canonical name: without the `"cantal_histogram": "count"`
/// pair.
///
/// # Examples
///
/// ```
/// use cantal_mmap::histogram::exclusive_histogram_name;
///
/// assert_eq!(
///     exclusive_histogram_name(r#"{"cantal_histogram": "count", "metric": "latency"}"#),
///     r#"{"metric": "latency"}"#,
/// );
/// ```
pub fn exclusive_histogram_name(count_canonical: &str) -> String {
    crate::shards::without_pair(count_canonical, HISTOGRAM_KEY)
}

/// The canonical JSON name of a histogram (as `cantal_core`'s
/// `write_canonical` spells names), from its `_count` slot's canonical
/// name: the `metric` value without its `_count` suffix. A name without
/// such a pair is returned as it is.
///
/// # Examples
///
/// ```
/// use cantal_mmap::histogram::histogram_name;
///
/// assert_eq!(
///     histogram_name(r#"{"code": "200", "metric": "latency_count"}"#),
///     r#"{"code": "200", "metric": "latency"}"#,
/// );
/// ```
pub fn histogram_name(count_canonical: &str) -> String {
    let key = format!("\"{METRIC_KEY}\": \"");
    let starts = count_canonical.match_indices(&key).map(|(at, _)| at);
    for at in starts {
        let before = &count_canonical[..at];
        if !(before.ends_with('{') || before.ends_with(", ")) {
            continue;
        }
        let value_start = at + key.len();
        // The closing quote: the first one not escaped.
        let mut escaped = false;
        let end = count_canonical[value_start..]
            .char_indices()
            .find(|&(_, c)| {
                let close = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                close
            });
        if let Some((len, _)) = end {
            let value = &count_canonical[value_start..value_start + len];
            if let Some(stem) = value.strip_suffix("_count") {
                let rest = &count_canonical[value_start + len..];
                return format!("{}{stem}{rest}", &count_canonical[..value_start]);
            }
        }
        break;
    }
    count_canonical.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    use crate::slot_name::test_name as name;

    type Owned = Vec<(Part, SlotName)>;

    fn run(slots: &[(Part, SlotName)]) -> Vec<HistogramGroup> {
        let slots: Vec<(Part, &SlotName)> = slots.iter().map(|(p, n)| (*p, n)).collect();
        let groups = groups(&slots);
        // The layout's shortcut: every part passes `may_be_part`.
        for group in &groups {
            if let HistogramGroup::Parts(h) = group {
                for i in h.slots() {
                    assert!(may_be_part(slots[i].0, slots[i].1), "{:?}", slots[i]);
                }
            }
        }
        groups
    }

    #[test]
    fn a_recorder_histogram_with_labels_is_one_group_in_numeric_order() {
        let slots = [
            (Part::Counter, name(&[("metric", "other")])),
            (
                Part::Counter,
                name(&[("code", "200"), ("metric", "h_count")]),
            ),
            (Part::Float, name(&[("code", "200"), ("metric", "h_sum")])),
            (
                Part::Counter,
                name(&[("code", "200"), ("le", "10"), ("metric", "h_bucket")]),
            ),
            (
                Part::Counter,
                name(&[("code", "200"), ("le", "1"), ("metric", "h_bucket")]),
            ),
            (
                Part::Counter,
                name(&[("code", "200"), ("le", "2.5"), ("metric", "h_bucket")]),
            ),
            // Another label value: another histogram, incomplete.
            (
                Part::Counter,
                name(&[("code", "500"), ("metric", "h_count")]),
            ),
        ];
        let g = run(&slots);
        assert_eq!(g.len(), 3, "{g:?}");
        assert_eq!(g[0], HistogramGroup::One(0));
        let HistogramGroup::Parts(h) = &g[1] else {
            panic!("{g:?}")
        };
        assert_eq!(h.pairs, owned(&[("code", "200"), ("metric", "h")]));
        assert_eq!(h.buckets, [(1.0, 4), (2.5, 5), (10.0, 3)]);
        assert_eq!(g[2], HistogramGroup::One(6));
    }

    #[test]
    fn incomplete_or_odd_parts_stay_separate() {
        let cases: Vec<Owned> = vec![
            // No sum.
            vec![
                (Part::Counter, name(&[("metric", "h_count")])),
                (Part::Counter, name(&[("le", "1"), ("metric", "h_bucket")])),
            ],
            // The sum is a counter, not a float.
            vec![
                (Part::Counter, name(&[("metric", "h_count")])),
                (Part::Counter, name(&[("metric", "h_sum")])),
                (Part::Counter, name(&[("le", "1"), ("metric", "h_bucket")])),
            ],
            // No bucket.
            vec![
                (Part::Counter, name(&[("metric", "h_count")])),
                (Part::Float, name(&[("metric", "h_sum")])),
            ],
            // A bound that is not a finite number.
            vec![
                (Part::Counter, name(&[("metric", "h_count")])),
                (Part::Float, name(&[("metric", "h_sum")])),
                (
                    Part::Counter,
                    name(&[("le", "+Inf"), ("metric", "h_bucket")]),
                ),
            ],
            // Two buckets with one bound.
            vec![
                (Part::Counter, name(&[("metric", "h_count")])),
                (Part::Float, name(&[("metric", "h_sum")])),
                (Part::Counter, name(&[("le", "1"), ("metric", "h_bucket")])),
                (
                    Part::Counter,
                    name(&[("le", "1.0"), ("metric", "h_bucket")]),
                ),
            ],
        ];
        assert_eq!(
            histogram_name(r#"{"a": "\\\"metric\": \"", "metric": "x\\\\_count"}"#),
            r#"{"a": "\\\"metric\": \"", "metric": "x\\\\"}"#
        );
        assert_eq!(histogram_name(r#"{"metric": "x"}"#), r#"{"metric": "x"}"#);
        for slots in cases {
            let g = run(&slots);
            let ones: Vec<HistogramGroup> = (0..slots.len()).map(HistogramGroup::One).collect();
            // Every slot is alone.
            assert_eq!(g, ones, "{slots:?}");
        }
    }

    #[test]
    fn a_core_histogram_is_one_group_and_odd_ones_stay_counters() {
        let core = |extra: (&str, &str)| (Part::Counter, name(&[extra, ("metric", "d")]));
        let whole = vec![
            core(("cantal_histogram", "count")),
            core(("cantal_histogram", "sum")),
            core(("cantal_le", "+Inf")),
            core(("cantal_le", "16")),
            core(("cantal_le", "2")),
        ];
        let g = run(&whole);
        let [HistogramGroup::Parts(h)] = g.as_slice() else {
            panic!("{g:?}")
        };
        assert_eq!(h.shape, Shape::Exclusive);
        assert_eq!(h.pairs, owned(&[("metric", "d")]));
        assert_eq!((h.count, h.sum, h.overflow), (0, 1, Some(2)));
        assert_eq!(h.buckets, [(2.0, 4), (16.0, 3)]);
        // The recorder's variant: a float sum, float bounds.
        let float_sum = (
            Part::Float,
            name(&[("cantal_histogram", "sum"), ("metric", "d")]),
        );
        let recorder = [
            &whole[..1],
            &[float_sum],
            &whole[2..4],
            &[core(("cantal_le", "0.005"))],
        ]
        .concat();
        let g = run(&recorder);
        let [HistogramGroup::Parts(h)] = g.as_slice() else {
            panic!("{g:?}")
        };
        assert!(h.float_sum);
        assert_eq!(h.buckets, [(0.005, 4), (16.0, 3)]);
        let broken: Vec<Owned> = vec![
            // No +Inf bucket.
            whole
                .iter()
                .filter(|(_, n)| n.pairs().next().map(|(_, v)| v) != Some("+Inf"))
                .cloned()
                .collect(),
            // A bound that is not a number.
            [&whole[..4], &[core(("cantal_le", "x"))]].concat(),
            // The count is a float.
            [
                &[(
                    Part::Float,
                    name(&[("cantal_histogram", "count"), ("metric", "d")]),
                )],
                &whole[1..],
            ]
            .concat(),
            // One bound twice, in two spellings.
            [&whole[..], &[core(("cantal_le", "16.0"))]].concat(),
        ];
        for slots in broken {
            let g = run(&slots);
            let ones: Vec<HistogramGroup> = (0..slots.len()).map(HistogramGroup::One).collect();
            assert_eq!(g, ones, "{slots:?}");
        }
    }
}
