//! A `cantal_core::Histogram` published into files and read back through
//! the one reader: one metric, cumulative buckets in bound order.
#![forbid(unsafe_code)]

use cantal_core::{Collection, Counter, Histogram};
use cantal_mmap::Publisher;
use cantal_mmap::read::{OwnedValue, load};
use cantal_testkit::TempDir;

static SIZE: Histogram<4> = Histogram::with_bounds(&[("metric", "size")], &["2", "10", "512"]);
static OTHER: Counter = Counter::new(&[("metric", "other")]);

#[test]
fn a_core_histogram_reads_as_one_metric_with_cumulative_buckets() {
    let dir = TempDir::new("core-histogram");
    let base = dir.path("app");
    let mut collection = Collection::growable();
    collection.register(&SIZE).unwrap();
    collection.register(&OTHER).unwrap();
    let publication = Publisher::new().path(&base).publish(collection).unwrap();
    // 0, 2 -> le 2; 3, 10 -> le 10; 11 -> le 512; 600, 1000 -> +Inf.
    for v in [0, 2, 3, 10, 11, 600, 1000] {
        SIZE.record(v);
    }
    OTHER.incr(5);
    let loaded = load(&base).unwrap();
    assert!(loaded.alive);
    let names: Vec<&str> = loaded
        .iter()
        .map(|(slot, _)| slot.name().as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let h = loaded
        .value(r#"{"metric": "size"}"#)
        .unwrap_or_else(|| panic!("no histogram among {names:?}"));
    assert_eq!(
        *h,
        OwnedValue::Histogram {
            count: 7,
            sum: 1626.0,
            buckets: vec![(2.0, 2), (10.0, 4), (512.0, 5)],
        }
    );
    drop(publication);
}
