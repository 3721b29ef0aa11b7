//! The default clocks the compound metrics read (issue 19): monotonic
//! across threads, at the OS clock's rate, and the wall time a `Fork` derives from the monotonic
//! clock within a millisecond of `SystemTime`.

use cantal::clock::{Clock, DefaultClock};
use cantal::{Branch, Fork};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Each thread reads the clock after seeing the latest reading of any
/// thread (acquire): its reading is never smaller.
#[test]
fn monotonic_readings_never_go_back_across_threads() {
    let latest = AtomicU64::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    let deadline = Instant::now() + Duration::from_millis(200);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut reads = 0u64;
                while reads < 10_000 || Instant::now() < deadline {
                    let seen = latest.load(Ordering::Acquire);
                    let now = DefaultClock.monotonic_ns();
                    assert!(now >= seen, "{now} after another thread's {seen}");
                    let (_, ms) = DefaultClock.wall_and_monotonic_ms();
                    assert!(ms >= now / 1_000_000, "{ms} ms after {now} ns");
                    latest.fetch_max(now, Ordering::AcqRel);
                    reads += 1;
                }
            });
        }
    });
    assert!(latest.load(Ordering::Relaxed) > 0);
}

#[test]
fn the_derived_wall_time_is_within_a_millisecond_of_system_time() {
    let deadline = Instant::now() + Duration::from_millis(1_300);
    let mut checked = 0;
    // Over more than a second, so that the offset is measured again
    // (many times: every 100 ms).
    while Instant::now() < deadline {
        let before = system_ms();
        let (wall, _) = DefaultClock.wall_and_monotonic_ms();
        let direct = DefaultClock.wall_ms();
        let after = system_ms();
        assert!(
            before <= wall + 1 && wall <= after + 1,
            "{before} {wall} {after}"
        );
        assert!(
            before <= direct && direct <= after,
            "{before} {direct} {after}"
        );
        checked += 1;
        if checked % 1_000 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    assert!(checked > 1_000);
}

#[test]
fn fork_states_are_stamped_within_a_millisecond_of_system_time() {
    const BRANCHES: [&str; 2] = ["app", "sql"];
    const SQL: Branch<2> = Branch::named(&BRANCHES, "sql");
    static FORK: Fork<2> = Fork::new(&BRANCHES, "clock_test", &[]);
    let mut ctx = FORK.context();
    for _ in 0..100 {
        let before = system_ms();
        ctx.enter(SQL);
        let after = system_ms();
        let stamp = FORK.state().get().unwrap().timestamp();
        assert!(
            before <= stamp + 1 && stamp <= after + 1,
            "{before} {stamp} {after}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The monotonic clock runs at the OS clock's rate (within 0.1 %) over a
/// tenth of a second. Each reading of ours is bracketed by two `Instant`
/// readings, so that a thread preempted between reads (a loaded machine)
/// widens the bracket instead of failing the test.
#[test]
fn monotonic_runs_at_the_os_rate() {
    let bracketed = || {
        let before = Instant::now();
        let ours = DefaultClock.monotonic_ns();
        (before, ours, Instant::now())
    };
    let (a0, a, a1) = bracketed();
    std::thread::sleep(Duration::from_millis(100));
    let (b0, b, b1) = bracketed();
    let ours = (b - a) as f64;
    let least = b0.duration_since(a1).as_nanos() as f64;
    let most = b1.duration_since(a0).as_nanos() as f64;
    assert!(
        least * (1.0 - 1e-3) <= ours && ours <= most * (1.0 + 1e-3),
        "ours {ours} ns, Instant between {least} and {most} ns"
    );
}
