//! RequestTracker and Fork over a clock the tests move by hand.

mod common;

use cantal_core::clock::{DefaultClock, ManualClock};
use cantal_core::{
    Branch, Collection, Fixed, Fork, ForkContext, Metric, Metrics, Region, Request, RequestTracker,
    StartError,
};
use common::LeakedRegion;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::task::{Context, Poll, Waker};

const T0: u64 = 1_700_000_000_000;

/// `(requests, total_duration, errors, in_progress)`.
fn counts<C: cantal_core::clock::Clock>(t: &RequestTracker<C>) -> (u64, u64, u64, i64) {
    (
        t.requests().get(),
        t.total_duration().get(),
        t.errors().get(),
        t.in_progress().get(),
    )
}

fn names(m: &dyn Metrics) -> Vec<String> {
    let mut out = Vec::new();
    m.for_each(&mut |metric| out.push(format!("{}: {}", metric.kind(), metric.name())));
    out
}

#[test]
fn tracker_names_are_the_reference_clients() {
    static HTTP: RequestTracker = RequestTracker::new("http", &[("service", "api")]);
    assert_eq!(
        names(&HTTP),
        [
            r#"counter 8: {"group": "http", "metric": "requests", "service": "api"}"#,
            r#"counter 8: {"group": "http", "metric": "total_duration", "service": "api"}"#,
            r#"counter 8: {"group": "http", "metric": "errors", "service": "api"}"#,
            r#"level 8 signed: {"group": "http", "metric": "in_progress", "service": "api"}"#,
        ]
    );
    assert_eq!(HTTP.errors().name().get("metric"), Some("errors"));
}

#[test]
fn a_request_counts_on_drop() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static T: RequestTracker<&ManualClock> = RequestTracker::with_clock("t", &[], &CLOCK);
    let request = T.request();
    assert_eq!(counts(&T), (0, 0, 0, 1));
    CLOCK.advance_ms(120);
    assert_eq!(request.elapsed_ms(), 120);
    assert!(!request.is_failed());
    drop(request);
    assert_eq!(counts(&T), (1, 120, 0, 0));
}

#[test]
fn failed_requests_count_as_errors() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static T: RequestTracker<&ManualClock> = RequestTracker::with_clock("t", &[], &CLOCK);
    for status in [200, 500, 404, 200] {
        let mut request = T.request();
        CLOCK.advance_ms(10);
        if status != 200 {
            request.fail();
            assert!(request.is_failed());
        }
    }
    assert_eq!(counts(&T), (4, 40, 2, 0));
    // Errors of your own, as the reference client's docs show.
    T.errors().incr(1);
    assert_eq!(counts(&T), (4, 40, 3, 0));
}

#[test]
fn a_panic_counts_as_an_error() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static T: RequestTracker<&ManualClock> = RequestTracker::with_clock("t", &[], &CLOCK);
    let result = catch_unwind(|| {
        let _request = T.request();
        CLOCK.advance_ms(7);
        panic!("handler failed");
    });
    assert!(result.is_err());
    // Panics are seen with `std` only (`std::thread::panicking`).
    let e = u64::from(cfg!(feature = "std"));
    assert_eq!(counts(&T), (1, 7, e, 0));
    let result = catch_unwind(|| T.track(|| -> Result<(), ()> { panic!("in track") }));
    assert!(result.is_err());
    assert_eq!(counts(&T), (2, 7, 2 * e, 0));
}

#[test]
fn nested_requests_count_each() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static HTTP: RequestTracker<&ManualClock> = RequestTracker::with_clock("http", &[], &CLOCK);
    static SQL: RequestTracker<&ManualClock> = RequestTracker::with_clock("http.sql", &[], &CLOCK);
    let outer = HTTP.request();
    CLOCK.advance_ms(1);
    {
        let _again = HTTP.request();
        let mut query = SQL.request();
        assert_eq!(counts(&HTTP), (0, 0, 0, 2));
        CLOCK.advance_ms(5);
        query.fail();
    }
    assert_eq!(counts(&SQL), (1, 5, 1, 0));
    assert_eq!(counts(&HTTP), (1, 5, 0, 1));
    CLOCK.advance_ms(2);
    drop(outer);
    assert_eq!(counts(&HTTP), (2, 13, 0, 0));
}

#[test]
fn durations_add_up_without_rounding_loss() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static T: RequestTracker<&ManualClock> = RequestTracker::with_clock("t", &[], &CLOCK);
    // Ten requests of 0.4 ms back to back: 4 ms of requests in all, not 0.
    for _ in 0..10 {
        let _request = T.request();
        CLOCK.advance_ns(400_000);
    }
    assert_eq!(counts(&T), (10, 4, 0, 0));
}

#[test]
fn track_counts_err_as_error() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static T: RequestTracker<&ManualClock> = RequestTracker::with_clock("t", &[], &CLOCK);
    let ok: Result<u8, &str> = T.track(|| {
        assert_eq!(T.in_progress().get(), 1);
        CLOCK.advance_ms(3);
        Ok(1)
    });
    assert_eq!(ok, Ok(1));
    assert_eq!(counts(&T), (1, 3, 0, 0));
    let err: Result<u8, &str> = T.track(|| Err("refused"));
    assert_eq!(err, Err("refused"));
    assert_eq!(counts(&T), (2, 3, 1, 0));
}

/// Polls `future` to completion with a waker that does nothing; returns
/// the output and the number of polls.
fn block_on<F: Future>(future: F) -> (F::Output, usize) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return (out, polls);
        }
    }
}

/// Pending `n` times, advancing the clock by 1 ms each time, then ready.
struct Ticks<'c> {
    clock: &'c ManualClock,
    left: u32,
    fail: bool,
}

impl Future for Ticks<'_> {
    type Output = Result<u32, u32>;
    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        if self.left == 0 {
            return Poll::Ready(if self.fail { Err(7) } else { Ok(42) });
        }
        self.left -= 1;
        self.clock.advance_ms(1);
        Poll::Pending
    }
}

#[test]
fn track_async_measures_across_polls() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static T: RequestTracker<&ManualClock> = RequestTracker::with_clock("t", &[], &CLOCK);
    let future = T.track_async(Ticks {
        clock: &CLOCK,
        left: 3,
        fail: false,
    });
    assert_eq!(counts(&T), (0, 0, 0, 0), "starts at the first poll");
    assert_eq!(block_on(future), (Ok(42), 4));
    assert_eq!(counts(&T), (1, 3, 0, 0));
    let failed = block_on(T.track_async(Ticks {
        clock: &CLOCK,
        left: 2,
        fail: true,
    }));
    assert_eq!(failed, (Err(7), 3));
    assert_eq!(counts(&T), (2, 5, 1, 0));
    // Cancelled after one poll: a finished request, not an error.
    {
        let mut cancelled = pin!(T.track_async(Ticks {
            clock: &CLOCK,
            left: 5,
            fail: true,
        }));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(cancelled.as_mut().poll(&mut cx).is_pending());
        assert_eq!(counts(&T), (2, 5, 1, 1));
    }
    assert_eq!(counts(&T), (3, 6, 1, 0));
}

#[test]
fn guards_and_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    fn send_type<T: Send>() {}
    send_type::<Request<'static, DefaultClock>>();
    send_type::<Request<'static, &'static ManualClock>>();
    send_type::<ForkContext<'static, 3, DefaultClock>>();
    static T: RequestTracker = RequestTracker::new("t", &[]);
    send(&T.track_async(async { Ok::<(), ()>(()) }));
    // And a request may finish on another thread.
    let request = T.request();
    std::thread::spawn(move || drop(request)).join().unwrap();
    assert_eq!(T.requests().get(), 1);
    assert_eq!(T.in_progress().get(), 0);
}

#[test]
#[should_panic(expected = "same key twice")]
fn a_fixed_key_in_extra_is_rejected() {
    let extra: &'static [(&str, &str)] = &[("metric", "x")];
    let _ = RequestTracker::new("http", std::hint::black_box(extra));
}

#[test]
fn two_trackers_of_one_group_collide() {
    static A: RequestTracker = RequestTracker::new("http", &[("service", "api")]);
    static B: RequestTracker = RequestTracker::new("http", &[("service", "api")]);
    static C: RequestTracker = RequestTracker::new("http", &[("service", "web")]);
    let mut c: Collection<Fixed<12>> = Collection::fixed();
    c.register(&A).unwrap();
    c.register(&C).unwrap();
    assert_eq!(c.layout().unwrap().size(), 64);
    c.register(&B).unwrap();
    match c.layout() {
        Err(StartError::Duplicate { name }) => {
            assert_eq!(name.get("group"), Some("http"));
            assert_eq!(name.get("service"), Some("api"));
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
    // The region outlives the failed start: keep it reachable (for Miri's
    // leak check).
    static KEEP: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
    let region = LeakedRegion::new(128);
    KEEP.store(region.base().as_ptr(), Ordering::Relaxed);
    assert!(matches!(c.start(region), Err(StartError::Duplicate { .. })));
}

const BRANCHES: [&str; 3] = ["app", "redis", "sql"];
const APP: Branch<3> = Branch::named(&BRANCHES, "app");
const REDIS: Branch<3> = Branch::named(&BRANCHES, "redis");
const SQL: Branch<3> = Branch::named(&BRANCHES, "sql");

/// `(count, duration)` of each branch.
fn branches<C: cantal_core::clock::Clock>(f: &Fork<3, C>) -> [(u64, u64); 3] {
    [APP, REDIS, SQL].map(|b| (f.count(b).get(), f.duration(b).get()))
}

fn state<C: cantal_core::clock::Clock>(f: &Fork<3, C>) -> Option<(String, u64)> {
    f.state()
        .get()
        .map(|v| (v.text().to_string(), v.timestamp()))
}

#[test]
fn fork_names_are_the_reference_clients() {
    static F: Fork<3> = Fork::new(&BRANCHES, "myapp.request_processing", &[("pid", "1")]);
    let names = names(&F);
    assert_eq!(names.len(), 7);
    assert_eq!(
        names[0],
        r#"state 64: {"pid": "1", "state": "myapp.request_processing"}"#
    );
    assert_eq!(
        names[5],
        r#"counter 8: {"metric": "count", "pid": "1", "state": "myapp.request_processing.sql"}"#
    );
    assert_eq!(
        names[6],
        r#"counter 8: {"metric": "duration", "pid": "1", "state": "myapp.request_processing.sql"}"#
    );
    assert_eq!(F.find_branch("redis"), Some(REDIS));
    assert_eq!(F.find_branch("nope"), None);
    assert_eq!(F.branches().collect::<Vec<_>>(), [APP, REDIS, SQL]);
    assert_eq!(F.branch_name(SQL), "sql");
    assert_eq!(SQL.index(), 2);
}

#[test]
fn fork_counts_each_branch_left() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static F: Fork<3, &ManualClock> = Fork::with_clock(&BRANCHES, "req", &[], &CLOCK);
    {
        let mut ctx = F.context();
        assert_eq!(state(&F), Some(("_".into(), T0)));
        assert_eq!(ctx.current(), None);
        CLOCK.advance_ms(2); // before any branch: not counted
        ctx.enter(APP);
        assert_eq!(state(&F), Some(("app".into(), T0 + 2)));
        CLOCK.advance_ms(5);
        ctx.enter(SQL);
        assert_eq!(ctx.current(), Some(SQL));
        assert_eq!(state(&F), Some(("sql".into(), T0 + 7)));
        assert_eq!(branches(&F), [(1, 5), (0, 0), (0, 0)]);
        CLOCK.advance_ms(30);
        ctx.enter(APP);
        CLOCK.advance_ms(1);
        ctx.enter(APP); // re-entering counts too, as the reference does
        CLOCK.advance_ms(4);
    }
    assert_eq!(branches(&F), [(3, 10), (0, 0), (1, 30)]);
    assert_eq!(state(&F), None);
    // The text stays; the timestamp is 0 ("no state").
    assert_eq!(F.superseded(), 0);
    // A context left before any branch counts nothing.
    drop(F.context());
    assert_eq!(branches(&F), [(3, 10), (0, 0), (1, 30)]);
}

#[test]
fn fork_durations_telescope() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static F: Fork<3, &ManualClock> = Fork::with_clock(&BRANCHES, "req", &[], &CLOCK);
    let mut ctx = F.context();
    for _ in 0..10 {
        ctx.enter(REDIS);
        CLOCK.advance_ns(300_000);
        ctx.enter(APP);
        CLOCK.advance_ns(300_000);
    }
    drop(ctx);
    let [(app_n, app_ms), (redis_n, redis_ms), _] = branches(&F);
    assert_eq!((app_n, redis_n), (10, 10));
    assert_eq!(app_ms + redis_ms, 6, "6 ms in all, none lost to rounding");
}

#[test]
fn a_nested_context_supersedes_the_outer_one() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static F: Fork<3, &ManualClock> = Fork::with_clock(&BRANCHES, "req", &[], &CLOCK);
    let mut outer = F.context();
    outer.enter(APP);
    CLOCK.advance_ms(3);
    {
        let mut inner = F.context();
        assert_eq!(F.superseded(), 1);
        assert!(outer.is_superseded());
        assert!(!inner.is_superseded());
        assert_eq!(state(&F), Some(("_".into(), T0 + 3)));
        inner.enter(SQL);
        CLOCK.advance_ms(4);
        // The superseded context changes nothing.
        outer.enter(REDIS);
        assert_eq!(outer.current(), None);
        // Entered at T0 + 3 like `_`: the state's timestamp moves on by 1.
        assert_eq!(state(&F), Some(("sql".into(), T0 + 4)));
        CLOCK.advance_ms(1);
    }
    assert_eq!(branches(&F), [(0, 0), (0, 0), (1, 5)]);
    assert_eq!(state(&F), None);
    CLOCK.advance_ms(10);
    drop(outer);
    // The outer's 3 ms of `app` were dropped, as the reference does.
    assert_eq!(branches(&F), [(0, 0), (0, 0), (1, 5)]);
    assert_eq!(state(&F), None);
    // The fork works normally afterwards.
    let mut ctx = F.context();
    ctx.enter(APP);
    CLOCK.advance_ms(2);
    drop(ctx);
    assert_eq!(branches(&F), [(1, 2), (0, 0), (1, 5)]);
    assert_eq!(F.superseded(), 1);
}

#[test]
fn a_context_dropped_by_a_panic_still_counts() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static F: Fork<3, &ManualClock> = Fork::with_clock(&BRANCHES, "req", &[], &CLOCK);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut ctx = F.context();
        ctx.enter(REDIS);
        CLOCK.advance_ms(9);
        panic!("redis went away");
    }));
    assert!(result.is_err());
    assert_eq!(branches(&F), [(0, 0), (1, 9), (0, 0)]);
    assert_eq!(state(&F), None);
}

#[test]
#[should_panic(expected = "same branch twice")]
fn duplicate_branches_are_rejected() {
    let names: &[&'static str; 2] = std::hint::black_box(&["a", "a"]);
    let _ = Fork::new(names, "req", &[]);
}

#[test]
fn compound_metrics_publish_and_keep_counting() {
    static CLOCK: ManualClock = ManualClock::new(T0);
    static HTTP: RequestTracker<&ManualClock> =
        RequestTracker::with_clock("http", &[("service", "api")], &CLOCK);
    static F: Fork<2, &ManualClock> = Fork::with_clock(&["app", "sql"], "req", &[], &CLOCK);
    const SQL2: Branch<2> = Branch::named(&["app", "sql"], "sql");
    let request = HTTP.request();
    let mut ctx = F.context();
    ctx.enter(SQL2);
    let mut c: Collection<Fixed<16>> = Collection::fixed();
    c.register(&HTTP).unwrap();
    c.register(&F).unwrap();
    let size = c.layout().unwrap().size();
    assert_eq!(size, 128);
    let active = c.start(LeakedRegion::new(size)).unwrap();
    assert!(active.metrics().all(|m: &dyn Metric| m.is_published()));
    CLOCK.advance_ms(8);
    drop(ctx);
    drop(request);
    assert_eq!(counts(&HTTP), (1, 8, 0, 0));
    assert_eq!(F.count(SQL2).get(), 1);
    assert_eq!(F.duration(SQL2).get(), 8);
    assert_eq!(
        active.meta().to_string(),
        [
            r#"counter 8: {"group": "http", "metric": "errors", "service": "api"}"#,
            r#"level 8 signed: {"group": "http", "metric": "in_progress", "service": "api"}"#,
            r#"counter 8: {"group": "http", "metric": "requests", "service": "api"}"#,
            r#"counter 8: {"group": "http", "metric": "total_duration", "service": "api"}"#,
            r#"counter 8: {"metric": "count", "state": "req.app"}"#,
            r#"counter 8: {"metric": "count", "state": "req.sql"}"#,
            r#"counter 8: {"metric": "duration", "state": "req.app"}"#,
            r#"counter 8: {"metric": "duration", "state": "req.sql"}"#,
            r#"state 64: {"state": "req"}"#,
        ]
        .join("\n")
    );
    // The values the reader sees: requests = 1 at offset 16.
    let mut values = [0u8; 128];
    assert_eq!(active.read_values(&mut values), 128);
    assert_eq!(values[16..24], 1u64.to_ne_bytes());
    assert_eq!(values[64..72], [0; 8], "state left");
    assert_eq!(&values[72..76], b"sql\0");
}
