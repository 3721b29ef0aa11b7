//! Histograms published into a region: every observation kept across
//! `start()` (also from other threads; small enough for Miri), the meta
//! decoded back with the new name pairs, and the layout deterministic.

mod common;

use cantal_core::decode::{self, Value};
use cantal_core::{
    Branch, Collection, DEFAULT_BUCKETS, Fixed, HISTOGRAM_KEY, Histogram, LE_KEY, Metrics,
    TimedFork, TimedRequestTracker, clock::ManualClock,
};
use common::LeakedRegion;
use std::collections::BTreeMap;
use std::thread;

const UPDATES: u64 = if cfg!(miri) { 20 } else { 2_000 };

/// Slot capacity for two default histograms and a few more metrics.
type Slots = Fixed<'static, 128>;

/// Starts a collection of `metrics` in a fresh region; the meta text and
/// each slot's name (canonical JSON) with its decoded counter value.
fn publish(metrics: &'static impl Metrics) -> (String, BTreeMap<String, u64>) {
    let mut collection: Collection<Slots> = Collection::fixed();
    collection.register(metrics).unwrap();
    let size = collection.layout().unwrap().size();
    let active = collection.start(LeakedRegion::new(size)).unwrap();
    let meta = active.meta().to_string();
    (meta.clone(), decoded(&meta, &active_values(&active, size)))
}

fn active_values<S: cantal_core::Storage<'static>, R: cantal_core::Region>(
    active: &cantal_core::ActiveCollection<'static, S, R>,
    size: usize,
) -> Vec<u8> {
    let mut values = vec![0u8; size];
    assert_eq!(active.read_values(&mut values), size);
    values
}

/// Every counter slot of `meta` and `values` by its name's canonical text.
fn decoded(meta: &str, values: &[u8]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for item in decode::decode(meta.as_bytes(), values) {
        let (entry, value) = item.unwrap();
        if entry.kind() == decode::SlotKind::Pad {
            continue; // before a state, which is 64-aligned
        }
        let name = entry.name().expect("a JSON name");
        assert!(name.is_canonical());
        let mut text = String::new();
        name.write_canonical(&mut text).unwrap();
        let Value::Counter(v) = value else { continue };
        assert!(out.insert(text, v).is_none());
    }
    out
}

#[test]
fn observations_racing_with_start_are_kept() {
    let h: &'static Histogram = Box::leak(Box::new(Histogram::new(&[("m", "h")])));
    h.record(5); // before start, in bucket `le 6`
    let mut metrics: Collection<Slots> = Collection::fixed();
    metrics.register(h).unwrap();
    let size = metrics.layout().unwrap().size();
    let active = thread::scope(|s| {
        for t in 0..2u64 {
            s.spawn(move || {
                for i in 0..UPDATES {
                    // Thread 0 in the first bucket, thread 1 past the last bound.
                    h.record(if t == 0 { i % 2 } else { (1 << 26) + 1 + i });
                }
            });
        }
        metrics.start(LeakedRegion::new(size)).unwrap()
    });
    h.record(6); // after start, in bucket `le 6` too
    let expected_sum =
        5 + UPDATES / 2 + UPDATES * ((1 << 26) + 1) + UPDATES * (UPDATES - 1) / 2 + 6;
    assert_eq!(h.count(), 2 * UPDATES + 2);
    assert_eq!(h.sum(), expected_sum);
    assert_eq!(h.bucket(0), UPDATES);
    assert_eq!(h.bucket(4), 2);
    assert_eq!(h.bucket(DEFAULT_BUCKETS - 1), UPDATES);
    let meta = active.meta().to_string();
    let slots = decoded(&meta, &active_values(&active, size));
    assert_eq!(slots.len(), DEFAULT_BUCKETS + 2);
    assert_eq!(
        slots[r#"{"cantal_histogram": "count", "m": "h"}"#],
        2 * UPDATES + 2
    );
    assert_eq!(
        slots[r#"{"cantal_histogram": "sum", "m": "h"}"#],
        expected_sum
    );
    assert_eq!(slots[r#"{"cantal_le": "1", "m": "h"}"#], UPDATES);
    assert_eq!(slots[r#"{"cantal_le": "6", "m": "h"}"#], 2);
    assert_eq!(slots[r#"{"cantal_le": "+Inf", "m": "h"}"#], UPDATES);
    let in_buckets: u64 = slots
        .iter()
        .filter(|(k, _)| k.contains(LE_KEY))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(in_buckets, 2 * UPDATES + 2);
}

#[test]
fn every_slot_decodes_with_its_one_pair_and_value() {
    static H: Histogram<4> = Histogram::with_bounds(
        &[("group", "io"), ("metric", "size")],
        &["0", "512", "4096"],
    );
    for v in [0, 0, 1, 512, 513, 4096, 4097, u64::MAX] {
        H.record(v);
    }
    H.record_f64(f64::NAN);
    H.record_f64(-1.0);
    let (meta, slots) = publish(&H);
    let want: BTreeMap<String, u64> = [
        (r#"{"cantal_le": "0", "group": "io", "metric": "size"}"#, 3),
        (
            r#"{"cantal_le": "512", "group": "io", "metric": "size"}"#,
            2,
        ),
        (
            r#"{"cantal_le": "4096", "group": "io", "metric": "size"}"#,
            2,
        ),
        (
            r#"{"cantal_le": "+Inf", "group": "io", "metric": "size"}"#,
            3,
        ),
        (
            r#"{"cantal_histogram": "count", "group": "io", "metric": "size"}"#,
            10,
        ),
        (
            r#"{"cantal_histogram": "sum", "group": "io", "metric": "size"}"#,
            (1 + 512 + 513 + 4096 + 4097u64).wrapping_add(u64::MAX),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(slots, want);
    // Plain counter lines, in canonical name order.
    assert_eq!(meta.lines().count(), 6);
    for line in meta.lines() {
        assert!(line.starts_with("counter 8: {"), "{line}");
    }
    assert!(meta.contains(HISTOGRAM_KEY));
}

#[test]
fn the_same_declarations_give_the_same_meta() {
    fn meta_of(h: &'static Histogram) -> String {
        h.record(7); // values do not change the meta
        publish(h).0
    }
    let a = meta_of(Box::leak(Box::new(Histogram::new(&[
        ("metric", "x"),
        ("a", "b"),
    ]))));
    let b = meta_of(Box::leak(Box::new(Histogram::new(&[
        ("a", "b"),
        ("metric", "x"),
    ]))));
    assert_eq!(a, b);
    assert_eq!(
        a.lines().filter(|l| l.starts_with("counter 8:")).count(),
        DEFAULT_BUCKETS + 2
    );
}

#[test]
fn a_timed_tracker_adds_its_histogram_to_the_four_reference_slots() {
    static CLOCK: ManualClock = ManualClock::new(0);
    static HTTP: TimedRequestTracker<&ManualClock> =
        TimedRequestTracker::with_clock("http", &[("service", "api")], &CLOCK);
    {
        let _ok = HTTP.request();
        CLOCK.advance_ns(2_500_000); // 2.5 ms: bucket `le 3072` µs
    }
    let failed = HTTP.track(|| {
        CLOCK.advance_ns(999); // 1 µs, rounded up
        Err::<(), _>("refused")
    });
    assert_eq!(failed, Err("refused"));
    let (_, slots) = publish(&HTTP);
    let g = r#""group": "http""#;
    let s = r#""service": "api""#;
    assert_eq!(slots[&format!(r#"{{{g}, "metric": "requests", {s}}}"#)], 2);
    assert_eq!(slots[&format!(r#"{{{g}, "metric": "errors", {s}}}"#)], 1);
    assert_eq!(
        slots[&format!(r#"{{{g}, "metric": "total_duration", {s}}}"#)],
        2
    );
    let duration = |pair: &str| format!(r#"{{{pair}, {g}, "metric": "request_duration", {s}}}"#);
    assert_eq!(slots[&duration(r#""cantal_histogram": "count""#)], 2);
    assert_eq!(slots[&duration(r#""cantal_histogram": "sum""#)], 2_501);
    assert_eq!(slots[&duration(r#""cantal_le": "3072""#)], 1);
    assert_eq!(slots[&duration(r#""cantal_le": "1""#)], 1);
    // `in_progress` is a level, which `decoded` leaves out.
    assert_eq!(slots.len(), 3 + DEFAULT_BUCKETS + 2);
}

#[test]
fn a_timed_fork_adds_a_histogram_per_branch_and_keeps_them_across_start() {
    const BRANCHES: [&str; 2] = ["app", "sql"];
    const APP: Branch<2> = Branch::named(&BRANCHES, "app");
    const SQL: Branch<2> = Branch::named(&BRANCHES, "sql");
    static CLOCK: ManualClock = ManualClock::new(0);
    static FORK: TimedFork<2, &ManualClock> =
        TimedFork::with_clock(&BRANCHES, "req", &[("service", "api")], &CLOCK);
    let mut ctx = FORK.context();
    ctx.enter(SQL);
    CLOCK.advance_ns(2_500_000); // 2.5 ms: bucket `le 3072` µs
    ctx.enter(APP);
    // Published while the context is in `app`: the switch before start
    // and the one after are both kept.
    let mut collection: Collection<Slots> = Collection::fixed();
    collection.register(&FORK).unwrap();
    let size = collection.layout().unwrap().size();
    let active = collection.start(LeakedRegion::new(size)).unwrap();
    CLOCK.advance_ns(999); // 1 µs, rounded up
    ctx.enter(SQL);
    drop(ctx);
    let meta = active.meta().to_string();
    let slots = decoded(&meta, &active_values(&active, size));
    let s = r#""service": "api""#;
    let hist = |pair: &str, branch: &str| {
        format!(r#"{{{pair}, "metric": "branch_duration", {s}, "state": "req.{branch}"}}"#)
    };
    assert_eq!(slots[&hist(r#""cantal_histogram": "count""#, "sql")], 2);
    assert_eq!(slots[&hist(r#""cantal_histogram": "sum""#, "sql")], 2_500);
    assert_eq!(slots[&hist(r#""cantal_le": "3072""#, "sql")], 1);
    assert_eq!(slots[&hist(r#""cantal_le": "1""#, "sql")], 1);
    assert_eq!(slots[&hist(r#""cantal_histogram": "sum""#, "app")], 1);
    assert_eq!(
        slots[&format!(r#"{{"metric": "count", {s}, "state": "req.sql"}}"#)],
        2
    );
    assert_eq!(
        slots[&format!(r#"{{"metric": "duration", {s}, "state": "req.sql"}}"#)],
        2
    );
    // The fork's four counters and two histograms (the state is left out).
    assert_eq!(slots.len(), 4 + 2 * (DEFAULT_BUCKETS + 2));
    assert!(meta.contains(r#"state 64: {"service": "api", "state": "req"}"#));
}

#[test]
fn the_meta_is_as_docs_histogram_md_shows() {
    static SIZE: Histogram<3> = Histogram::with_bounds(&[("metric", "size")], &["512", "4096"]);
    let (meta, _) = publish(&SIZE);
    let lines: Vec<&str> = meta.lines().filter(|l| l.starts_with("counter")).collect();
    assert_eq!(
        lines,
        [
            r#"counter 8: {"cantal_histogram": "count", "metric": "size"}"#,
            r#"counter 8: {"cantal_histogram": "sum", "metric": "size"}"#,
            r#"counter 8: {"cantal_le": "+Inf", "metric": "size"}"#,
            r#"counter 8: {"cantal_le": "4096", "metric": "size"}"#,
            r#"counter 8: {"cantal_le": "512", "metric": "size"}"#,
        ]
    );
}
