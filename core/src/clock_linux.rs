//! The default clocks on 64-bit Linux: `clock_gettime(2)` (a vDSO call,
//! no system call) read directly, without `Instant`'s and `SystemTime`'s
//! conversions through `Duration` and `u128`.
//!
//! std links the C library on Linux, so the symbol is there; it is
//! declared by hand because the core crate does not depend on `libc`.

/// `struct timespec` on 64-bit Linux (x86-64, AArch64, RISC-V 64, ...):
/// `time_t` and `long` are both 64 bits.
#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

unsafe extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// `CLOCK_REALTIME` (`<linux/time.h>`).
const CLOCK_REALTIME: i32 = 0;
/// `CLOCK_MONOTONIC` (`<linux/time.h>`): what `Instant` reads.
const CLOCK_MONOTONIC: i32 = 1;

/// `(seconds, nanoseconds)` of `clock`; `None` when the call fails (it
/// does not for these two clocks) or the time is before 1970.
#[inline(always)]
fn read(clock: i32) -> Option<(u64, u64)> {
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `clock_gettime(2)` writes one `struct timespec`, whose layout
    // on 64-bit Linux is `Timespec`'s (two 64-bit fields), through a valid,
    // aligned, exclusive pointer to a local; it has no other effect.
    let status = unsafe { clock_gettime(clock, &mut ts) };
    if status != 0 {
        return None;
    }
    Some((u64::try_from(ts.sec).ok()?, u64::try_from(ts.nsec).ok()?))
}

/// Milliseconds since the Unix epoch (`SystemTime`'s clock).
#[inline]
pub(crate) fn wall_ms() -> Option<u64> {
    let (sec, nsec) = read(CLOCK_REALTIME)?;
    Some(sec.saturating_mul(1000).saturating_add(nsec / 1_000_000))
}

/// Nanoseconds since boot (`Instant`'s clock).
#[inline]
pub(crate) fn monotonic_ns() -> Option<u64> {
    let (sec, nsec) = read(CLOCK_MONOTONIC)?;
    Some(sec.saturating_mul(1_000_000_000).saturating_add(nsec))
}
