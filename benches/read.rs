//! `cantal read --json` of a 100,000-counter publication beside a naive
//! reader (lines split, each name parsed with `serde_json`, values read,
//! JSON lines written), in one run; and our read path's steps alone.
//!
//! `cargo bench -p cantal-benches --bench read`. The publication is in a
//! memory file system; both read it from there.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;

#[path = "read_fixture.rs"]
mod fixture;

fn read(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("cantal-bench-read.{}", std::process::id()));
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from(format!("/dev/shm/cantal-bench-read.{}", std::process::id()))
    } else {
        dir
    };
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let base = dir.join("counters");
    fixture::write(&base).unwrap();
    let target = base.to_str().unwrap().to_owned();

    let ours = cantal_cli::bench::read_json(&target).unwrap();
    let naive = fixture::naive_read(&target).unwrap();
    assert_eq!(ours.lines().count(), fixture::COUNTERS);
    assert_eq!(naive.split(|&b| b == b'\n').count(), fixture::COUNTERS + 1);
    let meta = std::fs::read(dir.join("counters.meta")).unwrap();
    let values = std::fs::read(dir.join("counters.values")).unwrap();
    eprintln!("meta {} bytes, values {} bytes", meta.len(), values.len());

    let mut g = c.benchmark_group("read_100k_counters");
    g.sample_size(20)
        .throughput(Throughput::Bytes(meta.len() as u64));
    g.bench_function("cantal read --json", |b| {
        b.iter(|| {
            cantal_cli::bench::read_json(black_box(&target))
                .unwrap()
                .len()
        })
    });
    g.bench_function("naive serde_json reader", |b| {
        b.iter(|| fixture::naive_read(black_box(&target)).unwrap().len())
    });
    g.bench_function("ParsedMeta::parse", |b| {
        b.iter(|| cantal_mmap::read::ParsedMeta::parse(black_box(&meta), "x.meta").unwrap())
    });
    g.bench_function("ParsedMeta::parse without drop", |b| {
        b.iter_with_large_drop(|| {
            cantal_mmap::read::ParsedMeta::parse(black_box(&meta), "x.meta").unwrap()
        })
    });
    g.bench_function("parse_meta_lenient", |b| {
        b.iter(|| {
            cantal_core::decode::parse_meta_lenient(black_box(&meta))
                .map(|e| e.unwrap().size())
                .map(u64::from)
                .sum::<u64>()
        })
    });
    let layout = cantal_mmap::read::ParsedMeta::parse(&meta, "x.meta").unwrap();
    g.bench_function("ParsedMeta::read", |b| {
        b.iter(|| {
            layout
                .read(black_box(&values), "x.values".as_ref())
                .unwrap()
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, read);
criterion_main!(benches);
