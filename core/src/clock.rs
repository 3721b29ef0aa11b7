//! Where timestamps come from.
//!
//! A [`State`](crate::State) records when it was entered, in milliseconds
//! since the Unix epoch. With the `std` feature the default wall clock is
//! `SystemTime`. Firmware has no such clock: install one with
//! [`set_wall_clock`] (an RTC, or milliseconds since boot plus an offset
//! received from the host). Without one, timestamps are a sequence number
//! starting at 1, which still marks states as present and changed, but
//! their age is meaningless.

use crate::sync::{AtomicPtr, AtomicU64, Ordering};

/// The installed clock, a `fn() -> u64` stored as a pointer; null when none.
static WALL_CLOCK: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// The fallback sequence when there is neither a clock nor `std`.
#[cfg_attr(feature = "std", allow(dead_code))]
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// Installs `clock` as the source of wall-clock milliseconds since the Unix
/// epoch for every state in the program. It replaces the default clock
/// (`SystemTime` with `std`).
///
/// # Examples
///
/// ```
/// fn rtc_millis() -> u64 {
///     1_700_000_000_000 // read the RTC here
/// }
/// cantal_core::clock::set_wall_clock(rtc_millis);
/// assert_eq!(cantal_core::clock::wall_ms(), 1_700_000_000_000);
/// ```
pub fn set_wall_clock(clock: fn() -> u64) {
    WALL_CLOCK.store(clock as *mut (), Ordering::Release);
}

/// Milliseconds since the Unix epoch, from the installed clock, else the
/// default one.
pub fn wall_ms() -> u64 {
    let installed = WALL_CLOCK.load(Ordering::Acquire);
    if !installed.is_null() {
        // SAFETY: the only non-null value ever stored in `WALL_CLOCK` is a
        // `fn() -> u64` cast to a pointer by `set_wall_clock`; casting it
        // back yields that same function pointer, with the same signature.
        let clock = unsafe { core::mem::transmute::<*mut (), fn() -> u64>(installed) };
        return clock();
    }
    default_wall_ms()
}

#[cfg(feature = "std")]
fn default_wall_ms() -> u64 {
    extern crate std;
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(not(feature = "std"))]
fn default_wall_ms() -> u64 {
    SEQUENCE.fetch_add(1, Ordering::Relaxed) + 1
}
