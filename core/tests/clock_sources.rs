//! The default clocks against the system's, whichever source is in use
//! (the TSC with the `tsc` feature where the kernel trusts it, else
//! `clock_gettime`): monotonic across threads, wall time within a
//! millisecond of `SystemTime`.
#![cfg(feature = "std")]

use cantal_core::clock::{self, Clock, DefaultClock, MonotonicSource};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn the_source_is_a_real_clock() {
    let source = clock::monotonic_source();
    assert!(
        matches!(source, MonotonicSource::Tsc | MonotonicSource::Os),
        "{source:?}"
    );
    if cfg!(all(
        feature = "tsc",
        target_os = "linux",
        target_arch = "x86_64"
    )) && std::fs::read_to_string(
        "/sys/devices/system/clocksource/clocksource0/current_clocksource",
    )
    .is_ok_and(|s| s.trim() == "tsc")
        && std::env::var_os("CANTAL_CLOCK").is_none()
    {
        assert_eq!(
            source,
            MonotonicSource::Tsc,
            "the kernel trusts the TSC, so should we"
        );
    }
}

/// A reading published by one thread is never above a later reading on
/// another: each thread loads the latest published value, then reads the
/// clock, which must not be below it, then publishes its own.
#[test]
fn monotonic_across_threads() {
    let latest = AtomicU64::new(0);
    let deadline = Instant::now() + Duration::from_millis(300);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut rounds = 0u64;
                while rounds < 2_000_000
                    && (!rounds.is_multiple_of(1024) || Instant::now() < deadline)
                {
                    let seen = latest.load(Ordering::Acquire);
                    let now = clock::monotonic_ns();
                    assert!(now >= seen, "went back {} ns across threads", seen - now);
                    latest.fetch_max(now, Ordering::AcqRel);
                    rounds += 1;
                }
            });
        }
    });
}

/// The monotonic clock runs at the OS clock's rate (within 0.1 %, plus a
/// microsecond of reading) over a tenth of a second.
#[test]
fn monotonic_runs_at_the_os_rate() {
    let (a, ta) = (clock::monotonic_ns(), Instant::now());
    std::thread::sleep(Duration::from_millis(100));
    let (b, tb) = (clock::monotonic_ns(), Instant::now());
    let ours = (b - a) as f64;
    let os = tb.duration_since(ta).as_nanos() as f64;
    assert!(
        (ours - os).abs() < os * 1e-3 + 1_000.0,
        "ours {ours} ns, Instant {os} ns"
    );
}

/// State timestamps (`wall_ms`) and a Fork's wall reading stay within a
/// millisecond of `SystemTime`, across the once-a-second refresh of the
/// offset, from several threads.
#[test]
fn wall_time_within_a_millisecond_of_system_time() {
    let deadline = Instant::now() + Duration::from_millis(1_300);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while Instant::now() < deadline {
                    let before = system_ms();
                    let wall = DefaultClock.wall_ms();
                    let (paired, _) = DefaultClock.wall_and_monotonic_ms();
                    let after = system_ms();
                    for w in [wall, paired] {
                        assert!(
                            before.saturating_sub(1) <= w && w <= after + 1,
                            "wall {w} ms outside [{before}, {after}] ms of SystemTime"
                        );
                    }
                }
            });
        }
    });
}
