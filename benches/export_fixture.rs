//! The publishers of the exporter benchmarks: shared by the criterion bench
//! (`export.rs`, in-process) and the `export-publishers` program that the
//! peak-memory measurement (`export-memory`) scrapes with a real
//! `cantal export`.

use cantal::{Collection, Counter, Float, Pair, State};

/// Publishers in one scrape.
pub(crate) const PUBLISHERS: usize = 100;
/// Metrics per publisher.
pub(crate) const METRICS: usize = 1_000;

/// Publisher `p`: 990 counters, 9 float levels and a state, with values.
pub(crate) fn publish(dir: &std::path::Path, p: usize) -> cantal::Publication<'static> {
    let mut collection = Collection::growable();
    let group: &'static str = format!("service_{p}").leak();
    for i in 0..METRICS {
        let pairs: &'static [Pair] =
            vec![("group", group), ("metric", format!("metric_{i}").leak())].leak();
        if i == METRICS - 1 {
            let s: &'static State = Box::leak(Box::new(State::new(pairs)));
            s.enter("serving requests");
            collection.register(s).unwrap();
        } else if i % 100 == 99 {
            let f: &'static Float = Box::leak(Box::new(Float::new(pairs)));
            f.set(i as f64 / 7.0);
            collection.register(f).unwrap();
        } else {
            let c: &'static Counter = Box::leak(Box::new(Counter::new(pairs)));
            c.incr((p * METRICS + i) as u64);
            collection.register(c).unwrap();
        }
    }
    cantal::Builder::new()
        .path(dir.join(format!("publisher_{p}")))
        .publish(collection)
        .unwrap()
}
