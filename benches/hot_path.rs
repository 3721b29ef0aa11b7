//! The hot path: one metric update, beside the raw atomic it must match and
//! the peer crates' counters, in one run.
//!
//! `cargo bench -p cantal-benches --bench hot_path`. Figures: BENCHMARKS.md.

use cantal::{Collection, Counter, Float, Integer, ShardedCounter, State};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static RAW: AtomicU64 = AtomicU64::new(0);
static BEFORE: Counter = Counter::new(&[("bench", "before_start")]);
static AFTER: Counter = Counter::new(&[("bench", "after_start")]);
static CONTENDED: Counter = Counter::new(&[("bench", "contended")]);
static SHARDED: ShardedCounter = ShardedCounter::new(&[("bench", "sharded")]);
static INTEGER: Integer = Integer::new(&[("bench", "integer")]);
static FLOAT: Float = Float::new(&[("bench", "float")]);
static STATE: State = State::new(&[("bench", "state")]);

/// Publishes the "after start" metrics into a real mapped file.
fn start() -> cantal::Publication<'static> {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map_or_else(|| std::path::PathBuf::from("/dev/shm"), Into::into);
    let base = dir.join(format!("cantal-bench.{}", std::process::id()));
    let mut metrics = Collection::growable();
    metrics.register(&AFTER).unwrap();
    metrics.register(&CONTENDED).unwrap();
    metrics.register(&SHARDED).unwrap();
    metrics.register(&INTEGER).unwrap();
    metrics.register(&FLOAT).unwrap();
    metrics.register(&STATE).unwrap();
    cantal::Builder::new().path(base).publish(metrics).unwrap()
}

fn counter_incr(c: &mut Criterion) {
    let libcantal = libcantal::Counter::new();
    let prometheus = prometheus::IntCounter::new("bench", "help").unwrap();
    let prometheus_client = prometheus_client::metrics::counter::Counter::<u64>::default();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    metrics::set_global_recorder(recorder).unwrap();
    let metrics_handle = metrics::counter!("bench_handle");

    let mut g = c.benchmark_group("counter_incr");
    g.bench_function("raw AtomicU64::fetch_add", |b| {
        b.iter(|| RAW.fetch_add(black_box(1), Ordering::Relaxed))
    });
    g.bench_function("cantal Counter::incr after start (mapped file)", |b| {
        b.iter(|| AFTER.incr(black_box(1)))
    });
    g.bench_function("cantal Counter::incr before start", |b| {
        b.iter(|| BEFORE.incr(black_box(1)))
    });
    g.bench_function("libcantal 0.3 Counter::incr", |b| {
        b.iter(|| libcantal.incr(black_box(1)))
    });
    g.bench_function("prometheus IntCounter::inc_by", |b| {
        b.iter(|| prometheus.inc_by(black_box(1)))
    });
    g.bench_function("prometheus-client Counter::inc_by", |b| {
        b.iter(|| prometheus_client.inc_by(black_box(1)))
    });
    g.bench_function("metrics handle increment", |b| {
        b.iter(|| metrics_handle.increment(black_box(1)))
    });
    g.bench_function("metrics::counter! macro + increment", |b| {
        b.iter(|| metrics::counter!("bench_macro").increment(black_box(1)))
    });
    g.finish();
}

fn gauge_set(c: &mut Criterion) {
    let mut g = c.benchmark_group("gauge_set");
    g.bench_function("raw AtomicU64::store", |b| {
        b.iter(|| RAW.store(black_box(7), Ordering::Relaxed))
    });
    g.bench_function("cantal Integer::set", |b| {
        b.iter(|| INTEGER.set(black_box(7)))
    });
    g.bench_function("cantal Float::set", |b| {
        b.iter(|| FLOAT.set(black_box(7.5)))
    });
    g.finish();
}

fn state_enter(c: &mut Criterion) {
    let mut g = c.benchmark_group("state_enter");
    g.bench_function("SystemTime::now", |b| b.iter(std::time::SystemTime::now));
    // The clock State::enter reads: SystemTime::now as milliseconds.
    g.bench_function("cantal clock::wall_ms", |b| b.iter(cantal::clock::wall_ms));
    g.bench_function("cantal State::enter (default size)", |b| {
        b.iter(|| STATE.enter(black_box("processing request")))
    });
    // The same without the clock read: what State adds to it.
    g.bench_function("cantal State::enter_at (no clock read)", |b| {
        let mut ms = 1_700_000_000_000u64;
        b.iter(|| {
            ms += 1;
            STATE.enter_at(black_box("processing request"), ms)
        })
    });
    g.finish();
}

/// Two threads incrementing one counter: the time per increment of the
/// pair (aggregate throughput), each thread doing half of the increments.
fn two_threads(iters: u64, incr: impl Fn() + Sync) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..iters / 2 {
                    incr();
                }
            });
        }
    });
    start.elapsed()
}

fn contention(c: &mut Criterion) {
    #[repr(align(64))]
    struct Padded(AtomicU64);
    static PER_THREAD: [Padded; 2] = [Padded(AtomicU64::new(0)), Padded(AtomicU64::new(0))];
    static NEXT: AtomicU64 = AtomicU64::new(0);
    thread_local! { static MINE: usize = (NEXT.fetch_add(1, Ordering::Relaxed) % 2) as usize; }

    let mut g = c.benchmark_group("two_threads_one_counter");
    g.bench_function("raw AtomicU64::fetch_add", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, || {
                RAW.fetch_add(black_box(1), Ordering::Relaxed);
            })
        })
    });
    g.bench_function("cantal Counter::incr", |b| {
        b.iter_custom(|iters| two_threads(iters, || CONTENDED.incr(black_box(1))))
    });
    g.bench_function("cantal ShardedCounter::incr", |b| {
        b.iter_custom(|iters| two_threads(iters, || SHARDED.incr(black_box(1))))
    });
    g.bench_function("raw, one padded atomic per thread (the ideal)", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, || {
                MINE.with(|&i| PER_THREAD[i].0.fetch_add(black_box(1), Ordering::Relaxed));
            })
        })
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    let publication = start();
    counter_incr(c);
    gauge_set(c);
    state_enter(c);
    contention(c);
    drop(publication);
}

criterion_group!(benches, all);
criterion_main!(benches);
