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

/// Of `slots` in file order, named by `name` with their canonical
/// spellings (empty for a slot without a name, which repeats nothing),
/// each whose name an earlier one has: its index and the index of the
/// first slot with that name, in ascending order of its index.
pub(crate) fn later_duplicates<T>(slots: &[T], name: impl Fn(&T) -> &str) -> Vec<(usize, usize)> {
    let names = Names { slots, name };
    match by_runs(&names) {
        Some(found) => found,
        None => by_hash(&names),
    }
}

/// The names of a list of slots, looked up where they are (no list of
/// them is made: a large file's would be megabytes).
struct Names<'s, T, F> {
    slots: &'s [T],
    name: F,
}

impl<'s, T, F: Fn(&T) -> &str> Names<'s, T, F> {
    fn len(&self) -> usize {
        self.slots.len()
    }

    fn get(&self, i: usize) -> &'s str {
        self.slots.get(i).map_or("", |s| (self.name)(s))
    }
}

/// The most runs [`by_runs`] merges: the work grows with their square.
const MAX_RUNS: usize = 8;

/// [`later_duplicates`] for names made of at most [`MAX_RUNS`] strictly
/// ascending runs (in byte order) whose lookups cost at most a compare a
/// name; `None` for any other list.
fn by_runs<T, F: Fn(&T) -> &str>(names: &Names<'_, T, F>) -> Option<Vec<(usize, usize)>> {
    let n = names.len();
    if n > 0 && names.get(0).is_empty() {
        return None;
    }
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut start = 0;
    for i in 1..n {
        let (before, here) = (names.get(i - 1), names.get(i));
        if here.is_empty() {
            return None;
        }
        if before >= here {
            runs.push(start..i);
            start = i;
            if runs.len() == MAX_RUNS {
                return None;
            }
        }
    }
    runs.push(start..n);
    // Each pair of runs: every name of the shorter looked up in the longer.
    let depth = (usize::BITS - n.leading_zeros()) as usize;
    let mut lookups = 0usize;
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            lookups = lookups.saturating_add(a.len().min(b.len()).saturating_mul(depth));
        }
    }
    if lookups > n {
        return None;
    }
    let mut found = Vec::new();
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
            for at in short.clone() {
                let name = names.get(at);
                // The first of `long` not below `name`: it, if equal.
                let (mut lo, mut hi) = (long.start, long.end);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if names.get(mid) < name {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                if lo < long.end && names.get(lo) == name {
                    found.push((at.max(lo), at.min(lo)));
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
fn by_hash<T, F: Fn(&T) -> &str>(names: &Names<'_, T, F>) -> Vec<(usize, usize)> {
    let mut firsts: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    let mut found = Vec::new();
    for i in 0..names.len() {
        let name = names.get(i);
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

    /// A list of names names itself.
    fn same<'r>(name: &'r &str) -> &'r str {
        name
    }

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
            let list = Names {
                slots: &names[..],
                name: same,
            };
            let expected = by_hash(&list);
            if let Some(found) = by_runs(&list) {
                by_runs_count += 1;
                assert_eq!(found, expected, "{names:?}");
            }
            assert_eq!(later_duplicates(&names, same), expected, "{names:?}");
        }
        // The generator reaches the run path, not only the fallback.
        assert!(by_runs_count > 500, "{by_runs_count}");
    }

    #[test]
    fn one_ascending_run_has_no_duplicates_and_others_fall_back() {
        let runs = |names: &[&str]| {
            by_runs(&Names {
                slots: names,
                name: same,
            })
        };
        let all = |names: &[&str]| later_duplicates(names, same);
        assert_eq!(runs(&["a", "b", "c"]), Some(vec![]));
        assert_eq!(runs(&[]), Some(vec![]));
        // Three times one name: both later ones repeat the first.
        assert_eq!(all(&["a", "b", "a", "a"]), [(2, 0), (3, 0)]);
        // An unnamed slot repeats nothing; with one, the hash map decides.
        assert_eq!(runs(&["", "a"]), None);
        assert_eq!(runs(&["a", ""]), None);
        assert_eq!(all(&["", "a", "", "a"]), [(3, 1)]);
        // Many runs (a file in no order): the hash map.
        let descending: Vec<String> = (0..100).rev().map(|i| format!("{i:03}")).collect();
        let names: Vec<&str> = descending.iter().map(String::as_str).collect();
        assert_eq!(runs(&names), None);
        assert_eq!(all(&names), []);
    }
}
