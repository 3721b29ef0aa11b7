//! The TSC clock (feature `tsc`): the CPU's time-stamp counter, read in
//! user space without a vDSO call, through [`quanta`], which checks the
//! CPU (invariant TSC and `rdtscp`) and calibrates the counter against `CLOCK_MONOTONIC`.
//!
//! The counter is used only when the kernel uses it too: Linux makes the
//! TSC its clocksource only after checking that it is synchronised across
//! CPUs and stable (its clocksource watchdog switches away from a TSC that
//! drifts), so a reading taken on one core and compared with one taken on
//! another keeps its order. Otherwise, and when `CANTAL_CLOCK=os` is set,
//! the default clocks stay `clock_gettime`.
//!
//! Readings are nanoseconds on `CLOCK_MONOTONIC`'s scale: the monotonic
//! clock's value when the TSC was calibrated plus the calibrated counter's
//! progress since, so switching between this clock and the OS's keeps one
//! origin.

extern crate std;

use std::sync::OnceLock;

/// A calibrated counter and where it started.
struct Tsc {
    clock: quanta::Clock,
    /// The counter's raw value at `base_ns`.
    base_raw: u64,
    /// The monotonic clock (nanoseconds) when `base_raw` was read.
    base_ns: u64,
}

static TSC: OnceLock<Option<Tsc>> = OnceLock::new();

/// The kernel clocksource that says the counter is trustworthy.
const TRUSTED_SOURCE: &str = "tsc";

const CLOCKSOURCE: &str = "/sys/devices/system/clocksource/clocksource0/current_clocksource";

/// Whether the counter is to be used: not refused by `CANTAL_CLOCK=os`,
/// the kernel's own clocksource, invariant (`nonstop_tsc`) and readable
/// with `rdtscp`, the two CPU features quanta checks too.
fn trusted() -> bool {
    if std::env::var_os("CANTAL_CLOCK").is_some_and(|v| v == "os") {
        return false;
    }
    std::fs::read_to_string(CLOCKSOURCE).is_ok_and(|s| s.trim() == TRUSTED_SOURCE)
        && std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|info| {
            info.lines()
                .find(|l| l.starts_with("flags"))
                .is_some_and(|l| {
                    let has = |w: &str| l.split_whitespace().any(|x| x == w);
                    has("nonstop_tsc") && has("rdtscp")
                })
        })
}

/// Calibrates the counter (quanta: at least 500 rounds of 1 µs, at most
/// 200 ms; under a millisecond on an idle machine) when it is trusted.
#[cold]
fn init(reference_ns: fn() -> u64) -> Option<Tsc> {
    if !trusted() {
        return None;
    }
    let clock = quanta::Clock::new();
    // quanta falls back to the OS clock (raw values in nanoseconds) when
    // its own check fails; then its raw reading is not the counter's, and
    // scaling our counter readings by it would be wrong.
    let (ours, its) = (read_counter(), clock.raw());
    if its.abs_diff(ours) > 1 << 24 {
        return None;
    }
    let base_raw = read_counter();
    let base_ns = reference_ns();
    Some(Tsc {
        clock,
        base_raw,
        base_ns,
    })
}

/// Nanoseconds on the monotonic clock's scale, from the counter; `None`
/// when it is not used. `reference_ns` is the OS clock it starts from.
#[inline]
pub(crate) fn monotonic_ns(reference_ns: fn() -> u64) -> Option<u64> {
    let tsc = TSC.get_or_init(|| init(reference_ns)).as_ref()?;
    // `delta_as_nanos` gives 0 for a counter below its base, so a reading
    // never falls before the calibration instant.
    let progress = tsc.clock.delta_as_nanos(tsc.base_raw, read_counter());
    Some(tsc.base_ns.wrapping_add(progress))
}

/// The counter, read after every earlier load is globally visible, as
/// the kernel's `rdtsc_ordered` does: plain `rdtsc` (what quanta reads)
/// may run before an earlier load completes, so a thread that has seen
/// another's reading could read a smaller count (a test like
/// `monotonic_readings_never_go_back_across_threads` in `tests/clocks.rs`
/// saw a reading 157 ns behind with plain `rdtsc`). Intel SDM vol. 2B, RDTSCP: "The RDTSCP instruction is not a
/// serializing instruction, but it does wait until all previous
/// instructions have executed and all previous loads are globally
/// visible." It costs less than `lfence; rdtsc` (18 against 23 ns here).
#[inline(always)]
fn read_counter() -> u64 {
    let mut processor = 0u32;
    // SAFETY: `__rdtscp` requires the `rdtscp` instruction, which `init`
    // checked is there (the CPU's `rdtscp` flag, and quanta's own cpuid
    // check that chose the counter) before any `Tsc` exists; this is
    // reached only through a `Tsc`. It writes the processor id through a
    // valid, exclusive pointer to a local and touches no other memory.
    unsafe { core::arch::x86_64::__rdtscp(&mut processor) }
}

/// Whether the counter is in use (calibrating it on the first call).
pub(crate) fn active(reference_ns: fn() -> u64) -> bool {
    TSC.get_or_init(|| init(reference_ns)).is_some()
}
