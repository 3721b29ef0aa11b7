//! A `TimedFork` published into files and read back through the one
//! reader (`cantal::read`, that is `cantal_mmap::read`): the fork's state
//! and counters as a plain `Fork` publishes them, and one histogram per
//! branch, in microseconds (the unit in `P.help`), kept across `start()`.
#![forbid(unsafe_code)]

use cantal::clock::ManualClock;
use cantal::read::{OwnedValue, load};
use cantal::{Branch, Collection, TimedFork};
use cantal_testkit::TempDir;

const BRANCHES: [&str; 3] = ["app", "redis", "sql"];
const APP: Branch<3> = Branch::named(&BRANCHES, "app");
const REDIS: Branch<3> = Branch::named(&BRANCHES, "redis");
const SQL: Branch<3> = Branch::named(&BRANCHES, "sql");
static CLOCK: ManualClock = ManualClock::new(1_700_000_000_000);
static WORKER: TimedFork<3, &ManualClock> =
    TimedFork::with_clock(&BRANCHES, "worker", &[("service", "api")], &CLOCK);

/// The histogram of `branch` as the reader names it.
fn histogram_name(branch: &str) -> String {
    format!(r#"{{"metric": "branch_duration", "service": "api", "state": "worker.{branch}"}}"#)
}

#[test]
fn a_timed_fork_reads_back_as_its_fork_and_one_histogram_per_branch() {
    let dir = TempDir::new("timed-fork");
    let base = dir.path("app");
    // Before start: 40 µs in `redis`, counted inline.
    let mut ctx = WORKER.context();
    ctx.enter(REDIS);
    CLOCK.advance_ns(40_000);
    ctx.enter(APP);
    let mut collection = Collection::growable();
    collection.register(&WORKER).unwrap();
    let publication = cantal::Builder::new()
        .path(&base)
        .publish(collection)
        .unwrap();
    // After start: 3 ms in `app`, then 50 ms and 120 µs in `sql`.
    CLOCK.advance_ms(3);
    ctx.enter(SQL);
    CLOCK.advance_ms(50);
    ctx.enter(SQL);
    CLOCK.advance_ns(120_000);
    drop(ctx);

    let loaded = load(&base).unwrap();
    let names: Vec<&str> = loaded
        .iter()
        .map(|(slot, _)| slot.name().as_str())
        .collect();
    // The state, two counters per branch and three histograms.
    assert_eq!(names.len(), 1 + 2 * 3 + 3, "{names:?}");
    let value = |name: &str| {
        loaded
            .value(name)
            .unwrap_or_else(|| panic!("no {name} among {names:?}"))
    };
    let cumulative = |h: &OwnedValue, bound: f64| match h {
        OwnedValue::Histogram { buckets, .. } => {
            buckets.iter().find(|(b, _)| *b == bound).map(|(_, n)| *n)
        }
        other => panic!("not a histogram: {other:?}"),
    };
    let sql = value(&histogram_name("sql"));
    let OwnedValue::Histogram { count, sum, .. } = sql else {
        panic!("{sql:?}")
    };
    assert_eq!((*count, *sum), (2, 50_120.0));
    // 120 µs in (96, 128]; 50 ms in (49152, 65536].
    assert_eq!(cumulative(sql, 96.0), Some(0));
    assert_eq!(cumulative(sql, 128.0), Some(1));
    assert_eq!(cumulative(sql, 49_152.0), Some(1));
    assert_eq!(cumulative(sql, 65_536.0), Some(2));
    let redis = value(&histogram_name("redis"));
    assert!(matches!(redis, OwnedValue::Histogram { count: 1, sum, .. } if *sum == 40.0));
    let app = value(&histogram_name("app"));
    assert!(matches!(app, OwnedValue::Histogram { count: 1, sum, .. } if *sum == 3_000.0));
    // The fork's counters, in whole milliseconds, as a plain Fork's.
    let counter = |metric: &str, branch: &str| {
        value(&format!(
            r#"{{"metric": "{metric}", "service": "api", "state": "worker.{branch}"}}"#
        ))
        .clone()
    };
    assert_eq!(counter("count", "sql"), OwnedValue::Counter(2));
    assert_eq!(counter("duration", "sql"), OwnedValue::Counter(50));
    assert_eq!(counter("duration", "redis"), OwnedValue::Counter(0));
    let state = value(r#"{"service": "api", "state": "worker"}"#);
    assert!(
        matches!(state, OwnedValue::State { timestamp: 0, .. }),
        "{state:?}"
    );

    // Each histogram's unit, under the histogram's name.
    let help = std::fs::read_to_string(dir.path("app.help")).unwrap();
    for branch in BRANCHES {
        let line = format!("{}\tmicroseconds\t", histogram_name(branch));
        assert!(help.lines().any(|l| l == line), "{help}");
    }
    drop(publication);
}
