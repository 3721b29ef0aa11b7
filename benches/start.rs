//! `start()` for 1,000, 10,000 and 100,000 metrics: layout, files in a
//! memory file system, and the hand-over of every value.
//!
//! `cargo bench -p cantal-benches --bench start`. Each iteration publishes
//! fresh metrics (a metric is published once) and leaks them with their
//! mapping, as `start()` does for good: the sample count is kept small.

use cantal::{Collection, Counter, Pair};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use std::path::PathBuf;
use std::time::Duration;

fn names(n: usize) -> Vec<&'static [Pair]> {
    (0..n)
        .map(|i| {
            let worker: &'static str = format!("{}", i % 64).leak();
            let metric: &'static str = format!("metric_{i}").leak();
            let pairs: &'static [Pair] = vec![
                ("group", "bench.start"),
                ("metric", metric),
                ("worker", worker),
            ]
            .leak();
            pairs
        })
        .collect()
}

fn start(c: &mut Criterion) {
    let dir =
        std::env::var_os("XDG_RUNTIME_DIR").map_or_else(|| PathBuf::from("/dev/shm"), Into::into);
    let base = dir.join(format!("cantal-bench-start.{}", std::process::id()));
    let mut g = c.benchmark_group("start");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for n in [1_000, 10_000, 100_000] {
        let names = names(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_batched(
                || {
                    let metrics: &'static [Counter] = names
                        .iter()
                        .map(|pairs| {
                            let c = Counter::new(pairs);
                            c.incr(1); // a value to hand over
                            c
                        })
                        .collect::<Vec<_>>()
                        .leak();
                    metrics
                },
                |metrics| {
                    let mut collection = Collection::growable();
                    collection.register(metrics).unwrap();
                    let publication = cantal::Builder::new()
                        .path(&base)
                        .publish(collection)
                        .unwrap();
                    drop(publication);
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, start);
criterion_main!(benches);
