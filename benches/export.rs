//! `cantal export`: one scrape of 100 publishers with 1,000 metrics each,
//! rendered in the Prometheus text format, with the meta cache warm (every
//! scrape after the first) and cold (the first, parsing every meta file,
//! on as many threads as `cantal export` uses, and on one).
//!
//! `cargo bench -p cantal-benches --bench export`. The publishers are
//! publications of this process in a memory file system; the exporter
//! reads them exactly as it reads other processes' files (`read(2)`, lock
//! test, meta identity check), minus discovery in `/proc` and HTTP.

use cantal_cli::bench::Exporter;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::path::PathBuf;
use std::time::Duration;

#[path = "export_fixture.rs"]
mod fixture;
use fixture::{METRICS, PUBLISHERS, publish};

fn export(c: &mut Criterion) {
    let runtime =
        std::env::var_os("XDG_RUNTIME_DIR").map_or_else(|| PathBuf::from("/dev/shm"), Into::into);
    let dir = runtime.join(format!("cantal-bench-export.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let publications: Vec<_> = (0..PUBLISHERS).map(|p| publish(&dir, p)).collect();
    let bases: Vec<PathBuf> = publications
        .iter()
        .map(|p| p.path().to_path_buf())
        .collect();
    let pid = std::process::id();

    // What is measured is a real scrape: every metric of every publisher.
    let body = Exporter::new().scrape(&bases, pid);
    // (Less the exporter's own `cantal_exporter_*` series and the
    // `process_*` ones of the publishers' process.)
    let samples = body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("cantal_exporter_"))
        .filter(|l| !l.starts_with("process_"))
        .count();
    assert_eq!(
        samples,
        PUBLISHERS * (METRICS + 1),
        "one sample per metric, one up per publisher"
    );

    let mut g = c.benchmark_group("export_scrape_100x1000");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.bench_function("warm meta cache", |b| {
        let mut exporter = Exporter::new();
        exporter.scrape(&bases, pid);
        b.iter(|| exporter.scrape(&bases, pid).len())
    });
    // The exporter is returned, so criterion drops it (its whole cache)
    // outside the measured time: a running exporter never drops its cache
    // after its first scrape.
    g.bench_function("cold (first scrape)", |b| {
        b.iter_batched(
            Exporter::new,
            |mut exporter| {
                let body = exporter.scrape(&bases, pid);
                (exporter, body)
            },
            BatchSize::PerIteration,
        )
    });
    // The same on one thread: the first scrape parses its meta files on up
    // to `--max-parse-threads` threads (as many as the CPUs, at most 4).
    g.bench_function("cold, one parse thread", |b| {
        b.iter_batched(
            || Exporter::from_args(&["--max-parse-threads", "1"]).unwrap(),
            |mut exporter| {
                let body = exporter.scrape(&bases, pid);
                (exporter, body)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
    drop(publications);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, export);
criterion_main!(benches);
