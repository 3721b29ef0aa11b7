//! With `std`, a `ShardedCounter` gives each thread the next shard in turn:
//! up to N threads running at once each count on a shard of their own.
//!
//! A test binary of its own, with one test: no other thread of the process
//! takes a shard number, so the four threads here take four consecutive
//! numbers.
#![forbid(unsafe_code)]

use cantal::{Collection, Fixed, ShardedCounter};
use cantal_static::StaticBuffer;
use std::sync::Barrier;

static HITS: ShardedCounter<4> = ShardedCounter::new(&[("metric", "hits")]);
static BUFFER: StaticBuffer<256> = StaticBuffer::new();

#[test]
fn four_threads_count_on_four_shards() {
    let mut collection: Collection<Fixed<4>> = Collection::fixed();
    collection.register(&HITS).unwrap();
    let active = collection.start(BUFFER.claim().unwrap()).unwrap();
    let barrier = Barrier::new(4);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for _ in 0..1000 + t {
                    HITS.incr(1);
                }
            });
        }
    });
    assert_eq!(HITS.get(), 4006);
    let mut bytes = [0u8; 256];
    active.read_values(&mut bytes);
    let mut per_shard: Vec<u64> = bytes
        .chunks_exact(64)
        .map(|line| u64::from_ne_bytes(line[..8].try_into().unwrap()))
        .collect();
    // Each thread's whole count is on one shard, each on another.
    per_shard.sort();
    assert_eq!(per_shard, [1000, 1001, 1002, 1003]);
}
