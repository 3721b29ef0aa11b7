//! The memory every handle takes (issue 19: a `Counter` at most 32 bytes on
//! 64-bit targets). The figures are recorded in BENCHMARKS.md ("Handle
//! sizes"); a change here belongs there too.

use cantal_core::{
    Counter, Described, Float, Fork, Histogram, Integer, Name, RequestTracker, ShardedCounter,
    State, TimedFork, TimedRequestTracker,
};
use std::mem::size_of;

/// `(handle, bytes on a 64-bit target)`, as in BENCHMARKS.md.
const SIZES_64: [(&str, usize); 12] = [
    ("Counter", 32),
    ("Integer", 32),
    ("Float", 32),
    ("State", 104),
    ("Described<Counter>", 64),
    ("ShardedCounter<8>", 512),
    ("RequestTracker", 160),
    ("Fork<3>", 496),
    ("Histogram", 3_952),
    ("TimedRequestTracker", 4_112),
    ("TimedFork<3>", 12_496),
    ("Name (a value, kept by no handle)", 88),
];

fn measured() -> [usize; 12] {
    [
        size_of::<Counter>(),
        size_of::<Integer>(),
        size_of::<Float>(),
        size_of::<State>(),
        size_of::<Described<Counter>>(),
        size_of::<ShardedCounter<8>>(),
        size_of::<RequestTracker>(),
        size_of::<Fork<3>>(),
        size_of::<Histogram>(),
        size_of::<TimedRequestTracker>(),
        size_of::<TimedFork<3>>(),
        size_of::<Name>(),
    ]
}

#[test]
fn handles_are_as_small_as_recorded() {
    if size_of::<usize>() != 8 {
        return;
    }
    let got = measured();
    for ((handle, want), got) in SIZES_64.iter().zip(got) {
        assert_eq!(
            got, *want,
            "size_of::<{handle}>() changed: update BENCHMARKS.md"
        );
    }
}

#[test]
fn a_counter_is_at_most_four_words() {
    // Two words of name (the pairs given to `new`) and two of cell (the
    // slot pointer and the value before publication), on any target.
    assert!(size_of::<Counter>() <= 4 * size_of::<usize>().max(8));
    assert!(size_of::<Integer>() <= 4 * size_of::<usize>().max(8));
    assert!(size_of::<Float>() <= 4 * size_of::<usize>().max(8));
}

#[test]
fn a_compound_keeps_its_shared_pairs_once() {
    // A tracker is its four handles and its group and extra pairs, plus
    // the clock (a zero-sized `DefaultClock`).
    assert_eq!(
        size_of::<RequestTracker>(),
        3 * size_of::<Counter>() + size_of::<Integer>() + 2 * 2 * size_of::<usize>()
    );
    // A timed fork is the fork, and per branch a histogram and the three
    // strings that name its slots.
    assert_eq!(
        size_of::<TimedFork<3>>(),
        size_of::<Fork<3>>() + 3 * (size_of::<Histogram>() + 3 * 2 * size_of::<usize>())
    );
    // Each shard has a cache line of its own.
    assert_eq!(size_of::<ShardedCounter<8>>(), 8 * 64);
}
