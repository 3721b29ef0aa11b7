//! Summing the shards of a `ShardedCounter` back into one metric.
//!
//! A [`ShardedCounter`](cantal_core::ShardedCounter) publishes each shard as
//! an ordinary `counter 8` slot whose name is the counter's name plus
//! `"cantal_shard": "<index>"` ([`SHARD_KEY`]). Readers that show metrics
//! to people sum them back: [`groups`] says which slots make one metric,
//! [`unsharded_name`] gives the name without the shard pair.
//!
//! The rule: counters whose names carry one [`SHARD_KEY`] pair with a
//! decimal index and are otherwise equal are one metric, shown where its
//! first shard is. When a metric that is not a shard has that same
//! remaining name, nothing is merged for that name (the file is not ours
//! to guess about), and the shards stay separate lines.
//!
//! # Examples
//!
//! ```
//! use cantal_mmap::read::SlotName;
//! use cantal_mmap::shards::{ShardMember, groups};
//!
//! let shard = |i| SlotName::from_pairs([("cantal_shard", i), ("metric", "requests")]).unwrap();
//! let (a, b) = (shard("0"), shard("1"));
//! let c = SlotName::from_pairs([("metric", "errors")]).unwrap();
//! let slots = [
//!     ShardMember { counter: true, name: &a },
//!     ShardMember { counter: true, name: &c },
//!     ShardMember { counter: true, name: &b },
//! ];
//! let groups = groups(&slots);
//! assert_eq!(groups.len(), 2);
//! assert_eq!((groups[0].slots.as_slice(), groups[0].sharded), (&[0, 2][..], true));
//! assert_eq!((groups[1].slots.as_slice(), groups[1].sharded), (&[1][..], false));
//! ```

use crate::slot_name::SlotName;
use cantal_core::SHARD_KEY;
use std::collections::{HashMap, HashSet};

/// What [`groups`] needs to know of one metric of a meta file.
#[derive(Debug, Clone, Copy)]
pub struct ShardMember<'a> {
    /// Whether its type is `counter`.
    pub counter: bool,
    /// Its name.
    pub name: &'a SlotName,
}

/// The name of a shard without its shard pair, sorted by key: what the
/// shards of one counter have in common.
type Base<'a> = Vec<(&'a str, &'a str)>;

/// The shard index of `slot`, and the rest of its name, when it is a shard.
fn shard_of<'a>(slot: &ShardMember<'a>) -> Option<Base<'a>> {
    if !slot.counter {
        return None;
    }
    let mut shard_pairs = slot.name.pairs().filter(|&(k, _)| k == SHARD_KEY);
    let (_, index) = shard_pairs.next()?;
    let decimal =
        !index.is_empty() && index.len() <= 5 && index.bytes().all(|b| b.is_ascii_digit());
    if !decimal || shard_pairs.next().is_some() {
        return None;
    }
    Some(sorted_without_shard(slot.name))
}

fn sorted_without_shard(name: &SlotName) -> Base<'_> {
    let mut base: Base<'_> = name.pairs().filter(|&(k, _)| k != SHARD_KEY).collect();
    base.sort_unstable();
    base
}

/// One metric to show: the slots it sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardGroup {
    /// Indices into the slots given to [`groups`]: one for an ordinary
    /// metric, every shard's for a sharded counter, in meta order.
    pub slots: Vec<usize>,
    /// Whether these are the shards of a sharded counter (to be summed,
    /// and named by [`unsharded_name`]); a counter with one shard is one.
    pub sharded: bool,
}

/// Which slots make one metric: a [`ShardGroup`] for every metric to show, in
/// the order of its first slot.
///
/// Every index appears in exactly one group. Runs in O(n) hash operations
/// for n slots.
pub fn groups(slots: &[ShardMember<'_>]) -> Vec<ShardGroup> {
    let bases: Vec<Option<Base<'_>>> = slots.iter().map(shard_of).collect();
    // Names of metrics that are not shards: a shard group with one of
    // these names is ambiguous and left unmerged.
    let plain: HashSet<Base<'_>> = slots
        .iter()
        .zip(&bases)
        .filter(|(_, base)| base.is_none())
        .map(|(slot, _)| sorted_without_shard(slot.name))
        .collect();
    let mut members: HashMap<&Base<'_>, Vec<usize>> = HashMap::new();
    for (i, base) in bases.iter().enumerate() {
        if let Some(base) = base.as_ref().filter(|b| !plain.contains(*b)) {
            members.entry(base).or_default().push(i);
        }
    }
    let mut out = Vec::with_capacity(slots.len());
    for (i, base) in bases.iter().enumerate() {
        match base.as_ref().and_then(|b| members.get_mut(b)) {
            // The group's first shard brings the group.
            Some(group) if group.first() == Some(&i) => out.push(ShardGroup {
                slots: std::mem::take(group),
                sharded: true,
            }),
            Some(_) => {}
            None => out.push(ShardGroup {
                slots: vec![i],
                sharded: false,
            }),
        }
    }
    out
}

/// `canonical`, the canonical JSON name of a shard (keys sorted, `", "` and
/// `": "` separators, as [`cantal_core::decode::ParsedName::write_canonical`]
/// writes it), without its [`SHARD_KEY`] pair. A name without one is
/// returned as it is.
///
/// # Examples
///
/// ```
/// use cantal_mmap::shards::unsharded_name;
///
/// assert_eq!(
///     unsharded_name(r#"{"cantal_shard": "3", "metric": "requests"}"#),
///     r#"{"metric": "requests"}"#,
/// );
/// assert_eq!(unsharded_name(r#"{"a": "x", "cantal_shard": "0"}"#), r#"{"a": "x"}"#);
/// assert_eq!(unsharded_name(r#"{"cantal_shard": "0"}"#), "{}");
/// ```
pub fn unsharded_name(canonical: &str) -> String {
    without_pair(canonical, SHARD_KEY)
}

/// `canonical` (a name in canonical JSON) without its pair of key `key`
/// (a key that needs no escaping), when it has one.
pub(crate) fn without_pair(canonical: &str, key: &str) -> String {
    // In the canonical form every `"` inside a key or value is escaped, so
    // `"<key>": "` right after `{` or `, ` can only be the pair.
    let key = format!("\"{key}\": \"");
    let Some(at) = canonical
        .match_indices(&key)
        .map(|(at, _)| at)
        .find(|&at| canonical[..at].ends_with('{') || canonical[..at].ends_with(", "))
    else {
        return canonical.to_string();
    };
    let value_start = at + key.len();
    let Some(value_len) = canonical[value_start..].find('"') else {
        return canonical.to_string();
    };
    let end = value_start + value_len + 1;
    let (before, after) = (&canonical[..at], &canonical[end..]);
    // Drop the separator in front of the pair, or, for the first pair,
    // the one behind it (none for the only pair).
    match before.strip_suffix(", ") {
        Some(before) => format!("{before}{after}"),
        None => format!("{before}{}", after.strip_prefix(", ").unwrap_or(after)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::slot_name::test_name as name;

    #[test]
    fn shards_are_grouped_in_order_of_their_first_slot() {
        let names = [
            name(&[("metric", "a")]),
            name(&[("cantal_shard", "1"), ("metric", "r")]),
            name(&[("metric", "b")]),
            // Same name, other key order: the same metric.
            name(&[("metric", "r"), ("cantal_shard", "0")]),
            name(&[("cantal_shard", "0"), ("metric", "s")]),
        ];
        let slots: Vec<ShardMember<'_>> = names
            .iter()
            .map(|name| ShardMember {
                counter: true,
                name,
            })
            .collect();
        let groups: Vec<(Vec<usize>, bool)> = groups(&slots)
            .into_iter()
            .map(|g| (g.slots, g.sharded))
            .collect();
        assert_eq!(
            groups,
            [
                (vec![0], false),
                (vec![1, 3], true),
                (vec![2], false),
                // One shard is still a sharded counter.
                (vec![4], true)
            ]
        );
    }

    #[test]
    fn what_is_not_a_shard_stays_alone() {
        let names = [
            // A level is never a shard.
            name(&[("cantal_shard", "0"), ("metric", "level")]),
            name(&[("cantal_shard", "1"), ("metric", "level")]),
            // Not a decimal index.
            name(&[("cantal_shard", "x"), ("metric", "c")]),
            name(&[("cantal_shard", ""), ("metric", "c")]),
            // An application's own `shard` label is not ours.
            name(&[("metric", "q"), ("shard", "0")]),
            name(&[("metric", "q"), ("shard", "1")]),
            // A plain metric with the shards' remaining name: ambiguous.
            name(&[("metric", "amb")]),
            name(&[("cantal_shard", "0"), ("metric", "amb")]),
            name(&[("cantal_shard", "1"), ("metric", "amb")]),
        ];
        let slots: Vec<ShardMember<'_>> = names
            .iter()
            .enumerate()
            .map(|(i, name)| ShardMember {
                counter: i >= 2,
                name,
            })
            .collect();
        let groups = groups(&slots);
        assert_eq!(groups.len(), names.len());
        assert!(
            groups
                .iter()
                .enumerate()
                .all(|(i, g)| g.slots == [i] && !g.sharded),
            "{groups:?}"
        );
    }

    #[test]
    fn the_shard_pair_is_cut_out_of_canonical_names() {
        let cases = [
            (
                r#"{"a": "1", "cantal_shard": "12", "z": "2"}"#,
                r#"{"a": "1", "z": "2"}"#,
            ),
            (
                r#"{"cantal_shard": "0", "metric": "x"}"#,
                r#"{"metric": "x"}"#,
            ),
            (r#"{"a": "b", "cantal_shard": "63"}"#, r#"{"a": "b"}"#),
            (r#"{"cantal_shard": "7"}"#, "{}"),
            // Inside a value the quotes are escaped: not the pair.
            (
                r#"{"a": "\"cantal_shard\": \"1\"", "cantal_shard": "2"}"#,
                r#"{"a": "\"cantal_shard\": \"1\""}"#,
            ),
            (r#"{"metric": "x"}"#, r#"{"metric": "x"}"#),
        ];
        for (shard, base) in cases {
            assert_eq!(unsharded_name(shard), base, "{shard}");
        }
    }
}
