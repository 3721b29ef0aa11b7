//! Which slots of a meta file repeat an earlier slot's name: see
//! [`later_duplicates`].
//!
//! A publisher of this crate writes its slots sorted by size and name, so
//! its meta file is a few runs of ascending names (one per slot size), and
//! a name can repeat only across runs. Those files are checked by looking
//! up the names of the short runs in the long ones: a compare per slot
//! and a binary search per short-run name, where a hash map costs a keyed
//! hash of every name. Any other file (the reference client writes in
//! registration order) goes to the hash map, whose random keys a hostile
//! publisher cannot aim collisions at.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::Range;

/// Of `names`, canonical spellings in file order (empty for a slot without
/// a name, which repeats nothing), each that an earlier one has: its index
/// and the index of the first slot with that name, in ascending order of
/// the first.
pub(crate) fn later_duplicates(names: &[&str]) -> Vec<(usize, usize)> {
    match by_runs(names) {
        Some(found) => found,
        None => by_hash(names),
    }
}

/// The most runs [`by_runs`] merges: the work grows with their square.
const MAX_RUNS: usize = 8;

/// [`later_duplicates`] for names made of at most [`MAX_RUNS`] strictly
/// ascending runs (in byte order) whose lookups cost at most a compare a
/// name; `None` for any other list.
fn by_runs(names: &[&str]) -> Option<Vec<(usize, usize)>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut start = 0;
    for (i, pair) in names.windows(2).enumerate() {
        if pair[0].is_empty() || pair[1].is_empty() {
            return None;
        }
        if pair[0] >= pair[1] {
            runs.push(start..i + 1);
            start = i + 1;
            if runs.len() == MAX_RUNS {
                return None;
            }
        }
    }
    if names.first().is_some_and(|n| n.is_empty()) {
        return None;
    }
    runs.push(start..names.len());
    // Each pair of runs: every name of the shorter looked up in the longer.
    let depth = usize::BITS - names.len().leading_zeros();
    let mut lookups = 0usize;
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            lookups = lookups.saturating_add(a.len().min(b.len()).saturating_mul(depth as usize));
        }
    }
    if lookups > names.len() {
        return None;
    }
    let mut found = Vec::new();
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
            let sorted = names.get(long.clone()).unwrap_or_default();
            for (at, name) in names.iter().enumerate().take(short.end).skip(short.start) {
                if let Ok(j) = sorted.binary_search(name) {
                    let other = long.start + j;
                    found.push((at.max(other), at.min(other)));
                }
            }
        }
    }
    // A name in several runs: each later slot repeats the first one.
    found.sort_unstable();
    found.dedup_by_key(|&mut (later, _)| later);
    Some(found)
}

/// [`later_duplicates`] for any list: a hash map of first occurrences.
fn by_hash(names: &[&str]) -> Vec<(usize, usize)> {
    let mut firsts: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    let mut found = Vec::new();
    for (i, &name) in names.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        match firsts.entry(name) {
            Entry::Occupied(first) => found.push((i, *first.get())),
            Entry::Vacant(v) => {
                v.insert(i);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_find_what_the_hash_map_finds() {
        // Runs of ascending names with repeats across them, in every
        // shape a small generator gives (a fixed xorshift: reproducible).
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let words: Vec<String> = (0..40).map(|i| format!("{{\"m\": \"{i:02}\"}}")).collect();
        let mut by_runs_count = 0;
        for _ in 0..2000 {
            let mut names: Vec<&str> = Vec::new();
            for _ in 0..=next(4) {
                let mut run: Vec<&str> = (0..=next(12))
                    .map(|_| words[next(40) as usize].as_str())
                    .collect();
                run.sort_unstable();
                run.dedup();
                names.extend(run);
            }
            if next(10) == 0 {
                let at = next(names.len() as u64) as usize;
                names.insert(at, "");
            }
            let expected = by_hash(&names);
            if let Some(found) = by_runs(&names) {
                by_runs_count += 1;
                assert_eq!(found, expected, "{names:?}");
            }
            assert_eq!(later_duplicates(&names), expected, "{names:?}");
        }
        // The generator reaches the run path, not only the fallback.
        assert!(by_runs_count > 500, "{by_runs_count}");
    }

    #[test]
    fn one_ascending_run_has_no_duplicates_and_others_fall_back() {
        assert_eq!(by_runs(&["a", "b", "c"]), Some(vec![]));
        assert_eq!(by_runs(&[]), Some(vec![]));
        // Three times one name: both later ones repeat the first.
        assert_eq!(later_duplicates(&["a", "b", "a", "a"]), [(2, 0), (3, 0)]);
        // An unnamed slot repeats nothing; with one, the hash map decides.
        assert_eq!(by_runs(&["", "a"]), None);
        assert_eq!(later_duplicates(&["", "a", "", "a"]), [(3, 1)]);
        // Many runs (a file in no order): the hash map.
        let descending: Vec<String> = (0..100).rev().map(|i| format!("{i:03}")).collect();
        let names: Vec<&str> = descending.iter().map(String::as_str).collect();
        assert_eq!(by_runs(&names), None);
        assert_eq!(later_duplicates(&names), []);
    }
}
