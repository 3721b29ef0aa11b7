//! The hot path: one metric update, beside the raw atomic it must match.
//!
//! `cargo bench --bench hot_path`. Figures and ratios: BENCHMARKS.md.

use cantal::{Collection, Counter, Fixed, Float, Integer, State};
use cantal_static::StaticBuffer;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

static RAW: AtomicU64 = AtomicU64::new(0);
static BEFORE: Counter = Counter::new(&[("bench", "before_start")]);
static AFTER: Counter = Counter::new(&[("bench", "after_start")]);
static INTEGER: Integer = Integer::new(&[("bench", "integer")]);
static FLOAT: Float = Float::new(&[("bench", "float")]);
static STATE: State = State::new(&[("bench", "state")]);
static BUFFER: StaticBuffer<256> = StaticBuffer::new();

fn start() {
    let mut metrics: Collection<Fixed<8>> = Collection::fixed();
    metrics.register(&AFTER).unwrap();
    metrics.register(&INTEGER).unwrap();
    metrics.register(&FLOAT).unwrap();
    metrics.register(&STATE).unwrap();
    let active = metrics.start(BUFFER.claim().unwrap()).unwrap();
    std::mem::forget(active);
}

fn hot_path(c: &mut Criterion) {
    start();
    let mut g = c.benchmark_group("counter_incr");
    g.bench_function("raw AtomicU64::fetch_add", |b| {
        b.iter(|| RAW.fetch_add(black_box(1), Ordering::Relaxed))
    });
    g.bench_function("Counter::incr before start", |b| {
        b.iter(|| BEFORE.incr(black_box(1)))
    });
    g.bench_function("Counter::incr after start", |b| {
        b.iter(|| AFTER.incr(black_box(1)))
    });
    g.finish();

    let mut g = c.benchmark_group("gauge_set");
    g.bench_function("raw AtomicU64::store", |b| {
        b.iter(|| RAW.store(black_box(7), Ordering::Relaxed))
    });
    g.bench_function("Integer::set", |b| b.iter(|| INTEGER.set(black_box(7))));
    g.bench_function("Float::set", |b| b.iter(|| FLOAT.set(black_box(7.5))));
    g.finish();

    let mut g = c.benchmark_group("state_enter");
    g.bench_function("SystemTime::now", |b| b.iter(std::time::SystemTime::now));
    g.bench_function("State::enter (default size)", |b| {
        b.iter(|| STATE.enter(black_box("processing request")))
    });
    g.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
