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
/// and the kernel's own clocksource.
fn trusted() -> bool {
    if std::env::var_os("CANTAL_CLOCK").is_some_and(|v| v == "os") {
        return false;
    }
    std::fs::read_to_string(CLOCKSOURCE).is_ok_and(|s| s.trim() == TRUSTED_SOURCE)
}

/// Calibrates the counter (quanta: at least 500 rounds of 1 µs, at most
/// 200 ms; under a millisecond on an idle machine) when it is trusted.
#[cold]
fn init(reference_ns: fn() -> u64) -> Option<Tsc> {
    if !trusted() {
        return None;
    }
    let clock = quanta::Clock::new();
    let base_raw = clock.raw();
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
    ordered();
    let progress = tsc.clock.delta_as_nanos(tsc.base_raw, tsc.clock.raw());
    Some(tsc.base_ns.wrapping_add(progress))
}

/// Keeps the counter read after everything before it, as the kernel's
/// `rdtsc_ordered` does: `rdtsc` alone may run before an earlier load
/// completes, so a thread that has seen another's reading could read a
/// smaller count (the test `monotonic_across_threads` catches that: 150 ns
/// back without the fence). Intel SDM vol. 2B, RDTSC: "If software
/// requires RDTSC to be executed only after all previous instructions have
/// executed and all previous loads are globally visible, it can execute
/// LFENCE immediately before RDTSC." quanta's read has no fence, so we
/// add it.
#[inline(always)]
fn ordered() {
    // SAFETY: `_mm_lfence` requires the `sse2` target feature, which every
    // x86-64 target has (it is part of the x86-64 baseline; this module is
    // compiled only for `target_arch = "x86_64"`). It only orders
    // instructions and touches no memory.
    unsafe { core::arch::x86_64::_mm_lfence() };
}

/// Whether the counter is in use (calibrating it on the first call).
pub(crate) fn active(reference_ns: fn() -> u64) -> bool {
    TSC.get_or_init(|| init(reference_ns)).is_some()
}
