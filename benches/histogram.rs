//! One histogram observation: cantal's `Histogram::record` beside
//! `Counter::incr`, a raw atomic and the peer crates' histograms, in one
//! run.
//!
//! `cargo bench -p cantal-benches --bench histogram`. Figures: BENCHMARKS.md.
//! The assembly of `record` is that of `histogram_record` below:
//! `cargo rustc --release -p cantal-benches --bench histogram -- --emit asm`.

use cantal::{Collection, Counter, Histogram};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static RAW: AtomicU64 = AtomicU64::new(0);
static COUNTER: Counter = Counter::new(&[("bench", "counter")]);
static AFTER: Histogram = Histogram::new(&[("bench", "after_start")]);
static BEFORE: Histogram = Histogram::new(&[("bench", "before_start")]);
static CONTENDED: Histogram = Histogram::new(&[("bench", "contended")]);
/// Prometheus' default buckets, in microseconds.
static GIVEN: Histogram<12> = Histogram::with_bounds(
    &[("bench", "given_bounds")],
    &[
        "5000", "10000", "25000", "50000", "100000", "250000", "500000", "1000000", "2500000",
        "5000000", "10000000",
    ],
);

/// Prometheus' default buckets, in seconds.
const PROMETHEUS_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The observed value: 1.5 ms, in microseconds and in seconds.
const VALUE_US: u64 = 1_500;
const VALUE_S: f64 = 0.0015;

/// What `record` compiles to, for `--emit asm`.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn histogram_record(h: &Histogram, value: u64) {
    h.record(value)
}

/// Where the bench publishes: a memory file system.
fn publication_dir() -> std::path::PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map_or_else(|| std::path::PathBuf::from("/dev/shm"), Into::into)
}

/// Publishes the "after start" metrics into a real mapped file.
fn start() -> cantal::Publication<'static> {
    let base = publication_dir().join(format!("cantal-bench-histogram.{}", std::process::id()));
    let mut metrics = Collection::growable();
    metrics.register(&COUNTER).unwrap();
    metrics.register(&AFTER).unwrap();
    metrics.register(&CONTENDED).unwrap();
    metrics.register(&GIVEN).unwrap();
    cantal::Builder::new().path(base).publish(metrics).unwrap()
}

fn record(c: &mut Criterion) {
    let prometheus = prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new("bench", "help").buckets(PROMETHEUS_BUCKETS.to_vec()),
    )
    .unwrap();
    let prometheus_client =
        prometheus_client::metrics::histogram::Histogram::new(PROMETHEUS_BUCKETS);
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&PROMETHEUS_BUCKETS)
        .unwrap()
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).unwrap();
    let metrics_histogram = metrics::histogram!("bench_handle");
    // The same `metrics` handle on our recorder, connected to a
    // publication (its slots mapped, as after `start()`).
    let ours = cantal_recorder::Builder::new()
        .buckets(&PROMETHEUS_BUCKETS)
        .build();
    let ours_histogram = metrics::with_local_recorder(&ours, || metrics::histogram!("bench_ours"));
    let ours_publication = cantal::Builder::new()
        .path(publication_dir().join(format!("cantal-bench-histogram-rec.{}", std::process::id())))
        .publish(Collection::growable())
        .unwrap();
    ours.connect(ours_publication.extender()).unwrap();

    let mut g = c.benchmark_group("histogram_record");
    g.bench_function("raw AtomicU64::fetch_add", |b| {
        b.iter(|| RAW.fetch_add(black_box(1), Ordering::Relaxed))
    });
    g.bench_function("cantal Counter::incr after start", |b| {
        b.iter(|| COUNTER.incr(black_box(1)))
    });
    g.bench_function(
        "cantal Histogram::record after start (default buckets)",
        |b| b.iter(|| AFTER.record(black_box(VALUE_US))),
    );
    g.bench_function(
        "cantal Histogram::record after start (11 given bounds)",
        |b| b.iter(|| GIVEN.record(black_box(VALUE_US))),
    );
    g.bench_function("cantal Histogram::record before start", |b| {
        b.iter(|| BEFORE.record(black_box(VALUE_US)))
    });
    g.bench_function("cantal Histogram::record_f64 after start", |b| {
        b.iter(|| AFTER.record_f64(black_box(VALUE_S * 1e6)))
    });
    g.bench_function("prometheus Histogram::observe", |b| {
        b.iter(|| prometheus.observe(black_box(VALUE_S)))
    });
    g.bench_function("prometheus-client Histogram::observe", |b| {
        b.iter(|| prometheus_client.observe(black_box(VALUE_S)))
    });
    // The exporter keeps raw samples until its upkeep folds them into the
    // buckets; run the upkeep between batches, outside the timing, so that
    // memory stays bounded.
    g.bench_function("metrics handle record (metrics-exporter-prometheus)", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let batch = left.min(1 << 20);
                let start = Instant::now();
                for _ in 0..batch {
                    metrics_histogram.record(black_box(VALUE_S));
                }
                timed += start.elapsed();
                handle.run_upkeep();
                left -= batch;
            }
            timed
        })
    });
    g.bench_function("metrics handle record (cantal_recorder)", |b| {
        b.iter(|| ours_histogram.record(black_box(VALUE_S)))
    });
    g.finish();
    drop(ours_publication);
}

/// Two threads recording into one histogram: the time per observation of
/// the pair (aggregate throughput), each thread doing half of them; ours
/// beside prometheus-client's, whose observe takes a lock.
fn two_threads(c: &mut Criterion) {
    fn pair(iters: u64, record: impl Fn() + Sync) -> Duration {
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..iters / 2 {
                        record();
                    }
                });
            }
        });
        start.elapsed()
    }
    let prometheus_client =
        prometheus_client::metrics::histogram::Histogram::new(PROMETHEUS_BUCKETS);
    let mut g = c.benchmark_group("two_threads_one_histogram");
    g.bench_function("cantal Histogram::record", |b| {
        b.iter_custom(|iters| pair(iters, || CONTENDED.record(black_box(VALUE_US))))
    });
    g.bench_function("prometheus-client Histogram::observe", |b| {
        b.iter_custom(|iters| pair(iters, || prometheus_client.observe(black_box(VALUE_S))))
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    let publication = start();
    record(c);
    two_threads(c);
    drop(publication);
}

criterion_group!(benches, all);
criterion_main!(benches);
