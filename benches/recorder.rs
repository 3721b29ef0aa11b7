//! The `metrics` crate through our recorder: `counter!("x").increment(1)`
//! (a key lookup on every call) beside metrics-exporter-prometheus's
//! recorder, and a registered handle's `increment(1)` beside a raw atomic,
//! in one run.
//!
//! `cargo bench -p cantal-benches --bench recorder`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

static RAW: AtomicU64 = AtomicU64::new(0);

fn recorder(c: &mut Criterion) {
    // Ours, connected to a real mapped file, its metrics published.
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map_or_else(|| std::path::PathBuf::from("/dev/shm"), Into::into);
    let base = dir.join(format!("cantal-bench-recorder.{}", std::process::id()));
    let publication = cantal::Builder::new()
        .path(base)
        .publish(cantal::Collection::growable())
        .unwrap();
    let ours = cantal_recorder::Builder::new().build();
    ours.connect(publication.extender()).unwrap();
    let handle = metrics::with_local_recorder(&ours, || {
        metrics::counter!("x").increment(1);
        metrics::counter!("handle")
    });
    ours.flush().unwrap();
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    metrics::with_local_recorder(&prometheus, || metrics::counter!("x").increment(1));

    let mut g = c.benchmark_group("recorder");
    g.bench_function("counter!(\"x\").increment(1), cantal recorder", |b| {
        metrics::with_local_recorder(&ours, || {
            b.iter(|| metrics::counter!("x").increment(black_box(1)))
        })
    });
    g.bench_function(
        "counter!(\"x\").increment(1), metrics-exporter-prometheus",
        |b| {
            metrics::with_local_recorder(&prometheus, || {
                b.iter(|| metrics::counter!("x").increment(black_box(1)))
            })
        },
    );
    g.bench_function("registered handle increment(1), cantal recorder", |b| {
        b.iter(|| handle.increment(black_box(1)))
    });
    g.bench_function("raw AtomicU64::fetch_add", |b| {
        b.iter(|| RAW.fetch_add(black_box(1), Ordering::Relaxed))
    });
    g.finish();
    drop(publication);
}

criterion_group!(benches, recorder);
criterion_main!(benches);
