//! Compound metrics: a whole `request()` cycle and a `Fork` branch switch
//! (and a `TimedFork`'s, which also records a histogram), beside the clock
//! reads they contain (group `clocks`).
//!
//! `cargo bench --bench compound`.

use cantal::clock::{self, Clock, DefaultClock, ManualClock};
use cantal::{Branch, Collection, Fixed, Fork, RequestTracker, TimedFork};
use cantal_static::StaticBuffer;
use criterion::{Bencher, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static HTTP: RequestTracker = RequestTracker::new("http", &[("service", "api")]);
static MANUAL: ManualClock = ManualClock::new(1_700_000_000_000);
static HTTP_MANUAL: RequestTracker<&ManualClock> =
    RequestTracker::with_clock("http_manual", &[], &MANUAL);

const BRANCHES: [&str; 3] = ["app", "redis", "sql"];
const APP: Branch<3> = Branch::named(&BRANCHES, "app");
const SQL: Branch<3> = Branch::named(&BRANCHES, "sql");
static FORK: Fork<3> = Fork::new(&BRANCHES, "bench.request", &[]);
static FORK_MANUAL: Fork<3, &ManualClock> =
    Fork::with_clock(&BRANCHES, "bench.manual", &[], &MANUAL);
static TIMED_FORK: TimedFork<3> = TimedFork::new(&BRANCHES, "bench.timed", &[]);
static TIMED_FORK_MANUAL: TimedFork<3, &ManualClock> =
    TimedFork::with_clock(&BRANCHES, "bench.timed_manual", &[], &MANUAL);

static BUFFER: StaticBuffer<4096> = StaticBuffer::new();

fn start() {
    let mut metrics: Collection<Fixed<512>> = Collection::fixed();
    metrics.register(&HTTP).unwrap();
    metrics.register(&HTTP_MANUAL).unwrap();
    metrics.register(&FORK).unwrap();
    metrics.register(&FORK_MANUAL).unwrap();
    metrics.register(&TIMED_FORK).unwrap();
    metrics.register(&TIMED_FORK_MANUAL).unwrap();
    let active = metrics.start(BUFFER.claim().unwrap()).unwrap();
    std::mem::forget(active);
}

/// `clock_gettime` with the coarse clocks, declared by hand: the benches do
/// not depend on `libc` (std links the C library anyway).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod coarse {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }

    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }

    const CLOCK_REALTIME_COARSE: i32 = 5;
    const CLOCK_MONOTONIC_COARSE: i32 = 6;

    fn read(clock: i32) -> u64 {
        let mut ts = Timespec { sec: 0, nsec: 0 };
        // SAFETY: `clock_gettime(2)` writes one `struct timespec` (two
        // 64-bit fields on 64-bit Linux, matching `Timespec`) through a
        // valid, exclusive pointer to a local.
        unsafe { clock_gettime(clock, &mut ts) };
        (ts.sec as u64) * 1_000_000_000 + ts.nsec as u64
    }

    pub(crate) fn realtime_ms() -> u64 {
        read(CLOCK_REALTIME_COARSE) / 1_000_000
    }

    pub(crate) fn monotonic_ns() -> u64 {
        read(CLOCK_MONOTONIC_COARSE)
    }
}

fn clocks(c: &mut Criterion) {
    let mut g = c.benchmark_group("clocks");
    g.bench_function("SystemTime::now as ms", |b| {
        b.iter(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        })
    });
    g.bench_function("Instant::now", |b| b.iter(Instant::now));
    g.bench_function("DefaultClock::wall_ms", |b| {
        b.iter(|| black_box(DefaultClock).wall_ms())
    });
    g.bench_function("DefaultClock::monotonic_ms", |b| {
        b.iter(|| black_box(DefaultClock).monotonic_ms())
    });
    // What a Fork branch switch reads: one monotonic read plus an offset.
    g.bench_function("DefaultClock::wall_and_monotonic_ms", |b| {
        b.iter(|| black_box(DefaultClock).wall_and_monotonic_ms())
    });
    // What a TimedFork branch switch reads.
    g.bench_function("DefaultClock::wall_ms_and_monotonic_ns", |b| {
        b.iter(|| black_box(DefaultClock).wall_ms_and_monotonic_ns())
    });
    g.bench_function("clock::wall_ms (global)", |b| b.iter(clock::wall_ms));
    g.bench_function("ManualClock::monotonic_ms", |b| {
        b.iter(|| black_box(&MANUAL).monotonic_ms())
    });
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        g.bench_function("CLOCK_REALTIME_COARSE as ms", |b| {
            b.iter(coarse::realtime_ms)
        });
        g.bench_function("CLOCK_MONOTONIC_COARSE", |b| b.iter(coarse::monotonic_ns));
    }
    g.finish();
}

fn request(c: &mut Criterion) {
    let mut g = c.benchmark_group("request");
    g.bench_function("request() + drop, DefaultClock", |b| {
        b.iter(|| drop(black_box(HTTP.request())))
    });
    g.bench_function("request() + fail + drop, DefaultClock", |b| {
        b.iter(|| {
            let mut r = HTTP.request();
            r.fail();
            drop(black_box(r))
        })
    });
    g.bench_function("track(Ok), DefaultClock", |b| {
        b.iter(|| HTTP.track(|| Ok::<u32, ()>(black_box(1))))
    });
    g.bench_function("request() + drop, ManualClock", |b| {
        b.iter(|| drop(black_box(HTTP_MANUAL.request())))
    });
    // What a request updates (in_progress +1, then requests, total_duration
    // and in_progress -1) as raw atomics: the floor under the line above.
    g.bench_function("raw: 4 x AtomicU64::fetch_add", |b| {
        static RAW: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
        b.iter(|| {
            RAW[0].fetch_add(1, Ordering::Relaxed);
            RAW[1].fetch_add(black_box(1), Ordering::Relaxed);
            RAW[2].fetch_add(black_box(3), Ordering::Relaxed);
            RAW[0].fetch_sub(1, Ordering::Relaxed);
        })
    });
    g.finish();
}

/// Switches between `app` and `sql` with `enter`, once per iteration.
fn switching(b: &mut Bencher<'_>, mut enter: impl FnMut(Branch<3>)) {
    let mut which = false;
    b.iter(|| {
        which = !which;
        enter(if which { APP } else { SQL })
    })
}

fn fork(c: &mut Criterion) {
    let mut g = c.benchmark_group("fork");
    g.bench_function("branch switch, DefaultClock", |b| {
        let mut ctx = FORK.context();
        switching(b, |branch| ctx.enter(branch))
    });
    g.bench_function("branch switch, ManualClock", |b| {
        let mut ctx = FORK_MANUAL.context();
        switching(b, |branch| ctx.enter(branch))
    });
    // The same switches recorded in the branches' histograms too.
    g.bench_function("TimedFork branch switch, DefaultClock", |b| {
        let mut ctx = TIMED_FORK.context();
        switching(b, |branch| ctx.enter(branch))
    });
    g.bench_function("TimedFork branch switch, ManualClock", |b| {
        let mut ctx = TIMED_FORK_MANUAL.context();
        switching(b, |branch| ctx.enter(branch))
    });
    g.bench_function("context + 2 branches + drop, DefaultClock", |b| {
        b.iter(|| {
            let mut ctx = FORK.context();
            ctx.enter(APP);
            ctx.enter(SQL);
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    start();
    clocks(c);
    request(c);
    fork(c);
}

criterion_group!(compound, benches);
criterion_main!(compound);
