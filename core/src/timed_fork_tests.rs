use super::*;
use crate::DEFAULT_BUCKETS;
use crate::clock::ManualClock;
use crate::metric::Kind;
extern crate std;
use std::string::{String, ToString};
use std::vec::Vec;

const BRANCHES: [&str; 3] = ["app", "redis", "sql"];
const APP: Branch<3> = Branch::named(&BRANCHES, "app");
const REDIS: Branch<3> = Branch::named(&BRANCHES, "redis");
const SQL: Branch<3> = Branch::named(&BRANCHES, "sql");

/// `(count, sum)` of each branch's histogram.
fn totals<C: Clock>(f: &TimedFork<3, C>) -> [(u64, u64); 3] {
    [APP, REDIS, SQL].map(|b| (f.duration(b).count(), f.duration(b).sum()))
}

#[test]
fn each_branch_left_is_recorded_in_its_own_histogram() {
    static CLOCK: ManualClock = ManualClock::new(1_000);
    static F: TimedFork<3, &ManualClock> = TimedFork::with_clock(&BRANCHES, "req", &[], &CLOCK);
    let mut ctx = F.context();
    CLOCK.advance_ns(5_000); // before any branch: not recorded
    ctx.enter(APP);
    CLOCK.advance_ns(2_500_000); // 2.5 ms: bucket `le 3072`
    ctx.enter(SQL);
    CLOCK.advance_ns(999); // 1 µs, rounded up
    ctx.enter(REDIS);
    CLOCK.advance_ns(100_000_000_000); // 100 s: `+Inf`
    ctx.enter(SQL);
    CLOCK.advance_ns(1_000); // exactly 1 µs
    drop(ctx);
    assert_eq!(
        totals(&F),
        [(1, 2_500), (1, 100_000_000), (2, 2)],
        "app, redis, sql"
    );
    let app = F.duration(APP);
    assert_eq!(app.bucket(app.bucket_of(2_500)), 1);
    assert_eq!(app.upper_bound(app.bucket_of(2_500)), Some(3_072));
    assert_eq!(F.duration(REDIS).bucket(DEFAULT_BUCKETS - 1), 1);
    assert_eq!(F.duration(SQL).bucket(0), 2);
    // The fork counts as a plain one, in whole milliseconds.
    assert_eq!(F.fork().count(SQL).get(), 2);
    assert_eq!(F.fork().duration(APP).get(), 2);
    assert_eq!(F.fork().duration(REDIS).get(), 100_000);
    assert!(F.fork().state().get().is_none());
}

#[test]
fn the_state_shows_the_branch_at_the_one_clock_read() {
    static CLOCK: ManualClock = ManualClock::new(1_000);
    static F: TimedFork<3, &ManualClock> = TimedFork::with_clock(&BRANCHES, "req", &[], &CLOCK);
    let mut ctx = F.context();
    CLOCK.advance_ms(7);
    ctx.enter(REDIS);
    assert_eq!(ctx.current(), Some(REDIS));
    let state = F.fork().state().get().unwrap();
    assert_eq!((state.text(), state.timestamp()), ("redis", 1_007));
    drop(ctx);
    assert_eq!(totals(&F)[1], (1, 0));
}

#[test]
fn a_superseded_context_records_nothing_more() {
    static CLOCK: ManualClock = ManualClock::new(0);
    static F: TimedFork<3, &ManualClock> = TimedFork::with_clock(&BRANCHES, "req", &[], &CLOCK);
    let mut outer = F.context();
    outer.enter(APP);
    CLOCK.advance_ns(10_000);
    let mut inner = F.context();
    assert!(outer.is_superseded() && !inner.is_superseded());
    outer.enter(SQL); // does nothing
    assert_eq!(outer.current(), None);
    inner.enter(REDIS);
    CLOCK.advance_ns(3_000);
    drop(outer); // does nothing either
    assert_eq!(totals(&F), [(0, 0); 3]);
    drop(inner);
    assert_eq!(totals(&F), [(0, 0), (1, 3), (0, 0)]);
    assert_eq!(F.fork().superseded(), 1);
    assert_eq!(F.fork().count(APP).get(), 0);
    assert!(F.fork().state().get().is_none());
}

#[test]
fn the_slots_are_the_forks_and_a_histogram_per_branch() {
    static F: TimedFork<2> = TimedFork::new(&["app", "sql"], "req", &[("pid", "1")]);
    let mut names = Vec::new();
    F.for_each(&mut |m| names.push((m.name().to_string(), m.kind(), m.unit())));
    assert_eq!(names.len(), 5 + 2 * (DEFAULT_BUCKETS + 2));
    let mut plain = Vec::new();
    F.fork().for_each(&mut |m| plain.push(m.name().to_string()));
    let first: Vec<&String> = names[..5].iter().map(|(n, _, _)| n).collect();
    assert_eq!(first, plain.iter().collect::<Vec<_>>());
    let hist = |pair: &str, branch: &str| {
        std::format!(
            r#"{{{pair}, "metric": "branch_duration", "pid": "1", "state": "req.{branch}"}}"#
        )
    };
    let sql = &names[5 + DEFAULT_BUCKETS + 2..];
    assert_eq!(sql[0].0, hist(r#""cantal_le": "1""#, "sql"));
    assert_eq!(sql[51].0, hist(r#""cantal_le": "67108864""#, "sql"));
    assert_eq!(sql[52].0, hist(r#""cantal_le": "+Inf""#, "sql"));
    assert_eq!(sql[53].0, hist(r#""cantal_histogram": "count""#, "sql"));
    assert_eq!(sql[54].0, hist(r#""cantal_histogram": "sum""#, "sql"));
    assert_eq!(names[5].0, hist(r#""cantal_le": "1""#, "app"));
    // Every histogram slot is a counter; the count carries the unit.
    for (i, (_, kind, unit)) in names[5..].iter().enumerate() {
        assert_eq!(*kind, Kind::Counter);
        let is_count = i % (DEFAULT_BUCKETS + 2) == DEFAULT_BUCKETS;
        assert_eq!(*unit, is_count.then_some("microseconds"), "slot {i}");
    }
}

#[test]
#[should_panic(expected = "same key twice")]
fn a_histogram_key_in_extra_is_rejected() {
    let extra: &'static [Pair] = &[("cantal_histogram", "x")];
    let _ = TimedFork::new(&["a"], "req", std::hint::black_box(extra));
}

#[test]
fn debug_shows_each_branch_histogram() {
    static CLOCK: ManualClock = ManualClock::new(0);
    let fork = TimedFork::with_clock(&["a", "b"], "req", &[], &CLOCK);
    fork.context().enter(Branch::named(&["a", "b"], "b"));
    let text = std::format!("{fork:?}");
    assert!(text.starts_with("TimedFork { fork: Fork {"), "{text}");
    assert!(text.ends_with("a: (0, 0), b: (1, 0) }"), "{text}");
    let ctx = fork.context();
    assert!(std::format!("{ctx:?}").starts_with("TimedForkContext { context: ForkContext {"));
}
