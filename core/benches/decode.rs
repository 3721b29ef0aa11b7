//! Decoder throughput on a 100,000-line meta file with realistic names.
//!
//! Run: `cargo bench -p cantal-core --bench decode`. Lines per second are
//! 100,000 divided by the reported time of `parse_meta` or `decode`.

use std::fmt::Write;
use std::hint::black_box;

use cantal_core::decode::{Value, decode, find_duplicate, parse_meta};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const LINES: usize = 100_000;
const GROUPS: [&str; 5] = [
    "http.server",
    "http.client",
    "db.pool",
    "cache",
    "queue.worker",
];
const METRICS: [&str; 4] = ["requests", "errors", "total_duration", "bytes"];

/// A meta file in the reference client's layout (8-byte slots, then 64-byte
/// states on a 64-byte boundary) and its values.
fn files() -> (Vec<u8>, Vec<u8>) {
    let states = LINES / 10;
    let eights = LINES - states - 1; // one line is the pad
    let mut meta = String::new();
    let mut values = Vec::new();
    for i in 0..eights {
        let group = GROUPS[i % GROUPS.len()];
        let metric = METRICS[(i / GROUPS.len()) % METRICS.len()];
        let worker = i / (GROUPS.len() * METRICS.len());
        let kind = match i % 10 {
            0..=5 => "counter 8",
            6..=8 => "level 8 signed",
            _ => "level 8 float",
        };
        writeln!(
            meta,
            r#"{kind}: {{"group": "{group}", "metric": "{metric}", "worker": "{worker}"}}"#
        )
        .unwrap();
        values.extend_from_slice(&(i as u64 * 7919).to_ne_bytes());
    }
    let pad = 64 - values.len() % 64;
    writeln!(meta, "pad {pad}").unwrap();
    values.resize(values.len() + pad, 0);
    for i in 0..states {
        writeln!(
            meta,
            r#"state 64: {{"group": "main", "state": "worker.{i}"}}"#
        )
        .unwrap();
        let start = values.len();
        values.extend_from_slice(&1_700_000_000_000u64.to_ne_bytes());
        values.extend_from_slice(b"processing request\0");
        values.resize(start + 64, 0);
    }
    (meta.into_bytes(), values)
}

fn bench(c: &mut Criterion) {
    let (meta, values) = files();
    eprintln!(
        "{LINES} lines: meta {} bytes, values {} bytes",
        meta.len(),
        values.len()
    );
    assert_eq!(parse_meta(&meta).count(), LINES);
    assert_eq!(
        cantal_core::decode::total_size(&meta),
        Ok(values.len() as u64)
    );

    let mut g = c.benchmark_group("decode_100k_lines");
    g.throughput(Throughput::Bytes(meta.len() as u64));
    g.bench_function("parse_meta", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for e in parse_meta(black_box(&meta)) {
                n = n.wrapping_add(e.unwrap().size() as u64);
            }
            n
        })
    });
    g.throughput(Throughput::Bytes((meta.len() + values.len()) as u64));
    g.bench_function("decode_meta_and_values", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for item in decode(black_box(&meta), black_box(&values)) {
                let (_, v) = item.unwrap();
                n = n.wrapping_add(match v {
                    Value::Counter(x) | Value::Unsigned(x) => x,
                    Value::Signed(x) => x as u64,
                    Value::Float(x) => x as u64,
                    Value::State { timestamp, text } => timestamp ^ text.len() as u64,
                    _ => 1,
                });
            }
            n
        })
    });
    g.finish();

    let entries: Vec<_> = parse_meta(&meta).map(Result::unwrap).collect();
    let mut g = c.benchmark_group("duplicates_100k_lines");
    g.throughput(Throughput::Elements(LINES as u64));
    g.bench_function("find_duplicate", |b| {
        b.iter_batched_ref(
            || entries.clone(),
            |e| find_duplicate(e).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
