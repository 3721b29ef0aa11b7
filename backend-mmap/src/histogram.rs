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
//! Readers show such a histogram as one metric named `{"metric": "X",
//! L...}` with its count, sum and buckets in numeric bound order:
//! [`groups`] says which slots make one histogram.
//!
//! The rule: a set of slots is one histogram when, with `X` and `L` the
//! same for all, there is exactly one `X_count` counter, exactly one
//! `X_sum` float level, and at least one `X_bucket` counter with one `le`
//! pair whose value is a finite number (as Rust's `f64` parser reads it),
//! no two with the same bound. Anything else (a missing part, two bounds
//! that are one number, a name that is not a histogram's part) is left as
//! the separate slots it is: nothing is guessed. A bucket whose `le` is not
//! a finite number (`+Inf`, `x`) is never a part. The rule looks at the
//! slots of one meta file only.
//!
//! # Examples
//!
//! ```
//! use cantal_mmap::histogram::{Group, Part, groups};
//!
//! let pairs = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
//!     pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
//! };
//! let names = [
//!     pairs(&[("metric", "latency_count")]),
//!     pairs(&[("metric", "latency_sum")]),
//!     pairs(&[("le", "10"), ("metric", "latency_bucket")]),
//!     pairs(&[("le", "2.5"), ("metric", "latency_bucket")]),
//!     pairs(&[("metric", "requests")]),
//! ];
//! let kinds = [Part::Counter, Part::Float, Part::Counter, Part::Counter, Part::Counter];
//! let slots: Vec<(Part, &[(String, String)])> =
//!     kinds.into_iter().zip(names.iter().map(|n| n.as_slice())).collect();
//! let groups = groups(&slots);
//! let Group::Histogram(h) = &groups[0] else { panic!() };
//! assert_eq!(h.pairs, pairs(&[("metric", "latency")]));
//! assert_eq!((h.count, h.sum), (0, 1));
//! // Numeric order: 2.5 before 10.
//! assert_eq!(h.buckets, [(2.5, 3), (10.0, 2)]);
//! assert_eq!(groups[1], Group::One(4));
//! ```

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

/// One histogram: where its parts are.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Its name: the parts' pairs with `metric` without its suffix and
    /// without `le`, in the `_count` slot's order.
    pub pairs: Vec<(String, String)>,
    /// The index of the `_count` counter.
    pub count: usize,
    /// The index of the `_sum` float.
    pub sum: usize,
    /// Each bucket's bound and the index of its counter, in ascending
    /// bound order.
    pub buckets: Vec<(f64, usize)>,
}

impl Histogram {
    /// Every slot index the histogram takes, the smallest first.
    pub fn slots(&self) -> Vec<usize> {
        let mut all: Vec<usize> = [self.count, self.sum]
            .into_iter()
            .chain(self.buckets.iter().map(|(_, i)| *i))
            .collect();
        all.sort_unstable();
        all
    }
}

/// One metric to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Group {
    /// A slot on its own.
    One(usize),
    /// The parts of a histogram, shown where its first part is.
    Histogram(Histogram),
}

/// Which role a slot may play, and the histogram it would belong to.
enum Role {
    Count,
    Sum,
    Bucket(f64),
}

/// The name every part of one histogram has in common: sorted pairs, with
/// `metric` the histogram's name and no `le`.
type Key = Vec<(String, String)>;

/// The role and histogram key of a slot, when it may be a part.
fn role(part: Part, pairs: &[(String, String)]) -> Option<(Role, Key)> {
    let mut metric = pairs.iter().filter(|(k, _)| k == METRIC_KEY);
    let (_, name) = metric.next()?;
    if metric.next().is_some() {
        return None;
    }
    let mut les = pairs.iter().filter(|(k, _)| k == BUCKET_KEY);
    let le = les.next();
    if les.next().is_some() {
        return None;
    }
    let (role, stem) = match (part, le) {
        (Part::Counter, None) => (Role::Count, name.strip_suffix("_count")?),
        (Part::Float, None) => (Role::Sum, name.strip_suffix("_sum")?),
        (Part::Counter, Some((_, bound))) => {
            let bound: f64 = bound.parse().ok().filter(|b: &f64| b.is_finite())?;
            (Role::Bucket(bound), name.strip_suffix("_bucket")?)
        }
        _ => return None,
    };
    let mut key: Key = pairs
        .iter()
        .filter(|(k, _)| k != BUCKET_KEY)
        .map(|(k, v)| {
            let v = if k == METRIC_KEY { stem } else { v.as_str() };
            (k.clone(), v.to_string())
        })
        .collect();
    key.sort_unstable();
    Some((role, key))
}

/// The parts found for one key.
#[derive(Default)]
struct Found {
    count: Vec<usize>,
    sum: Vec<usize>,
    buckets: Vec<(f64, usize)>,
}

impl Found {
    /// The histogram, when the parts make exactly one.
    fn histogram(mut self, slots: &[(Part, &[(String, String)])]) -> Option<Histogram> {
        let (&[count], &[sum]) = (self.count.as_slice(), self.sum.as_slice()) else {
            return None;
        };
        if self.buckets.is_empty() {
            return None;
        }
        self.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        if self.buckets.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        let stem_of = |name: &str| name.strip_suffix("_count").map(str::to_string);
        let pairs = slots
            .get(count)?
            .1
            .iter()
            .map(|(k, v)| {
                let v = if k == METRIC_KEY {
                    stem_of(v).unwrap_or_else(|| v.clone())
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect();
        Some(Histogram {
            pairs,
            count,
            sum,
            buckets: self.buckets,
        })
    }
}

/// Which slots make one metric: a [`Group`] for every metric to show, in
/// the order of its first slot. Every index appears in exactly one group.
/// O(n log n) for n slots.
pub fn groups(slots: &[(Part, &[(String, String)])]) -> Vec<Group> {
    let mut found: HashMap<Key, Found> = HashMap::new();
    for (i, (part, pairs)) in slots.iter().enumerate() {
        let Some((role, key)) = role(*part, pairs) else {
            continue;
        };
        let entry = found.entry(key).or_default();
        match role {
            Role::Count => entry.count.push(i),
            Role::Sum => entry.sum.push(i),
            Role::Bucket(bound) => entry.buckets.push((bound, i)),
        }
    }
    // Each histogram, by its first slot.
    let mut first: HashMap<usize, Histogram> = HashMap::new();
    let mut taken = vec![false; slots.len()];
    for (_, parts) in found {
        if let Some(h) = parts.histogram(slots) {
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
            out.push(Group::Histogram(h));
        } else if !taken {
            out.push(Group::One(i));
        }
    }
    out
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

    type Owned = Vec<(Part, Vec<(String, String)>)>;

    fn run(slots: &[(Part, Vec<(String, String)>)]) -> Vec<Group> {
        let slots: Vec<(Part, &[(String, String)])> =
            slots.iter().map(|(p, n)| (*p, n.as_slice())).collect();
        groups(&slots)
    }

    #[test]
    fn a_recorder_histogram_with_labels_is_one_group_in_numeric_order() {
        let slots = [
            (Part::Counter, owned(&[("metric", "other")])),
            (
                Part::Counter,
                owned(&[("code", "200"), ("metric", "h_count")]),
            ),
            (Part::Float, owned(&[("code", "200"), ("metric", "h_sum")])),
            (
                Part::Counter,
                owned(&[("code", "200"), ("le", "10"), ("metric", "h_bucket")]),
            ),
            (
                Part::Counter,
                owned(&[("code", "200"), ("le", "1"), ("metric", "h_bucket")]),
            ),
            (
                Part::Counter,
                owned(&[("code", "200"), ("le", "2.5"), ("metric", "h_bucket")]),
            ),
            // Another label value: another histogram, incomplete.
            (
                Part::Counter,
                owned(&[("code", "500"), ("metric", "h_count")]),
            ),
        ];
        let g = run(&slots);
        assert_eq!(g.len(), 3, "{g:?}");
        assert_eq!(g[0], Group::One(0));
        let Group::Histogram(h) = &g[1] else {
            panic!("{g:?}")
        };
        assert_eq!(h.pairs, owned(&[("code", "200"), ("metric", "h")]));
        assert_eq!(h.buckets, [(1.0, 4), (2.5, 5), (10.0, 3)]);
        assert_eq!(g[2], Group::One(6));
    }

    #[test]
    fn incomplete_or_odd_parts_stay_separate() {
        let cases: Vec<Owned> = vec![
            // No sum.
            vec![
                (Part::Counter, owned(&[("metric", "h_count")])),
                (Part::Counter, owned(&[("le", "1"), ("metric", "h_bucket")])),
            ],
            // The sum is a counter, not a float.
            vec![
                (Part::Counter, owned(&[("metric", "h_count")])),
                (Part::Counter, owned(&[("metric", "h_sum")])),
                (Part::Counter, owned(&[("le", "1"), ("metric", "h_bucket")])),
            ],
            // No bucket.
            vec![
                (Part::Counter, owned(&[("metric", "h_count")])),
                (Part::Float, owned(&[("metric", "h_sum")])),
            ],
            // A bound that is not a finite number.
            vec![
                (Part::Counter, owned(&[("metric", "h_count")])),
                (Part::Float, owned(&[("metric", "h_sum")])),
                (
                    Part::Counter,
                    owned(&[("le", "+Inf"), ("metric", "h_bucket")]),
                ),
            ],
            // Two buckets with one bound.
            vec![
                (Part::Counter, owned(&[("metric", "h_count")])),
                (Part::Float, owned(&[("metric", "h_sum")])),
                (Part::Counter, owned(&[("le", "1"), ("metric", "h_bucket")])),
                (
                    Part::Counter,
                    owned(&[("le", "1.0"), ("metric", "h_bucket")]),
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
            let ones: Vec<Group> = (0..slots.len()).map(Group::One).collect();
            // Every slot is alone.
            assert_eq!(g, ones, "{slots:?}");
        }
    }
}
