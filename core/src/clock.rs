//! Where timestamps come from.
//!
//! A [`State`](crate::State) records when it was entered, in milliseconds
//! since the Unix epoch. With the `std` feature the default wall clock is
//! `SystemTime` (read as `clock_gettime(CLOCK_REALTIME)` directly on
//! 64-bit Linux, which saves the conversions through `Duration`). Firmware
//! has no such clock: install one with
//! [`set_wall_clock`] (an RTC, or milliseconds since boot plus an offset
//! received from the host). Without one, timestamps are a sequence number
//! starting at 1, which still marks states as present and changed, but
//! their age is meaningless.
//!
//! Durations ([`RequestTracker`](crate::RequestTracker),
//! [`Fork`](crate::Fork)) come from a monotonic clock: `Instant` with
//! `std` (`clock_gettime(CLOCK_MONOTONIC)` read directly on 64-bit Linux:
//! nanoseconds since boot), else the one installed with
//! [`set_monotonic_clock`]. Both clocks
//! are reached through the [`Clock`] trait: [`DefaultClock`] reads the ones
//! described here, [`ManualClock`] is moved by hand (tests, simulations),
//! and firmware may implement [`Clock`] on a type of its own.

use crate::sync::{AtomicPtr, AtomicU64, Ordering};

#[cfg(all(feature = "std", target_os = "linux", target_pointer_width = "64"))]
#[path = "clock_linux.rs"]
mod os;

/// The installed clock, a `fn() -> u64` stored as a pointer; null when none.
static WALL_CLOCK: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// The installed monotonic clock (nanoseconds), as `WALL_CLOCK`.
static MONOTONIC_CLOCK: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// The clock installed in `slot` ([`WALL_CLOCK`] or [`MONOTONIC_CLOCK`]).
#[inline]
fn installed(slot: &AtomicPtr<()>) -> Option<fn() -> u64> {
    let clock = slot.load(Ordering::Acquire);
    if clock.is_null() {
        return None;
    }
    // SAFETY: the only non-null values ever stored in the two slots are
    // `fn() -> u64` cast to a pointer, by `set_wall_clock` and
    // `set_monotonic_clock`; casting one back yields that same function
    // pointer, with the same signature.
    Some(unsafe { core::mem::transmute::<*mut (), fn() -> u64>(clock) })
}

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
/// # extern crate cantal_core as cantal;
/// fn rtc_millis() -> u64 {
///     1_700_000_000_000 // read the RTC here
/// }
/// cantal::clock::set_wall_clock(rtc_millis);
/// assert_eq!(cantal::clock::wall_ms(), 1_700_000_000_000);
/// ```
pub fn set_wall_clock(clock: fn() -> u64) {
    WALL_CLOCK.store(clock as *mut (), Ordering::Release);
}

/// Milliseconds since the Unix epoch, from the installed clock, else the
/// default one.
pub fn wall_ms() -> u64 {
    installed(&WALL_CLOCK).map_or_else(default_wall_ms, |clock| clock())
}

#[cfg(all(feature = "std", target_os = "linux", target_pointer_width = "64"))]
#[inline]
fn default_wall_ms() -> u64 {
    os::wall_ms().unwrap_or_else(system_time_ms)
}

#[cfg(all(
    feature = "std",
    not(all(target_os = "linux", target_pointer_width = "64"))
))]
fn default_wall_ms() -> u64 {
    system_time_ms()
}

#[cfg(feature = "std")]
#[cfg_attr(all(target_os = "linux", target_pointer_width = "64"), cold)]
fn system_time_ms() -> u64 {
    extern crate std;
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        // Not `as_millis()`: its u128 arithmetic costs more than the rest.
        .map_or(0, |d| {
            d.as_secs()
                .saturating_mul(1000)
                .saturating_add(u64::from(d.subsec_millis()))
        })
}

#[cfg(not(feature = "std"))]
fn default_wall_ms() -> u64 {
    SEQUENCE.fetch_add(1, Ordering::Relaxed) + 1
}

/// Installs `clock` as the source of monotonic nanoseconds (from any
/// origin, e.g. boot) that [`DefaultClock`] measures durations with. It
/// replaces the default (`Instant` with `std`; without `std` and without an
/// installed clock, the installed wall clock, and without that, durations
/// are 0).
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// fn ticks_ns() -> u64 {
///     42_000_000 // read a hardware timer here
/// }
/// cantal::clock::set_monotonic_clock(ticks_ns);
/// assert_eq!(cantal::clock::monotonic_ns(), 42_000_000);
/// ```
pub fn set_monotonic_clock(clock: fn() -> u64) {
    MONOTONIC_CLOCK.store(clock as *mut (), Ordering::Release);
}

/// Nanoseconds on a monotonic clock from an arbitrary origin: the installed
/// clock, else the default one (see [`set_monotonic_clock`]).
pub fn monotonic_ns() -> u64 {
    installed(&MONOTONIC_CLOCK).map_or_else(default_monotonic_ns, |clock| clock())
}

#[cfg(all(feature = "std", target_os = "linux", target_pointer_width = "64"))]
#[inline]
fn default_monotonic_ns() -> u64 {
    os::monotonic_ns().unwrap_or_else(instant_ns)
}

#[cfg(all(
    feature = "std",
    not(all(target_os = "linux", target_pointer_width = "64"))
))]
fn default_monotonic_ns() -> u64 {
    instant_ns()
}

#[cfg(feature = "std")]
#[cfg_attr(all(target_os = "linux", target_pointer_width = "64"), cold)]
fn instant_ns() -> u64 {
    extern crate std;
    use std::{sync::OnceLock, time::Instant};
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let now = Instant::now();
    let origin = *ORIGIN.get_or_init(|| now);
    u64::try_from(now.saturating_duration_since(origin).as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(not(feature = "std"))]
fn default_monotonic_ns() -> u64 {
    if WALL_CLOCK.load(Ordering::Acquire).is_null() {
        0
    } else {
        wall_ms().saturating_mul(1_000_000)
    }
}

/// Where compound metrics read the time: wall-clock milliseconds for state
/// timestamps, a monotonic clock for durations.
///
/// Implementations must be cheap (they are read on every request and
/// branch switch) and callable from any thread.
///
/// # Examples
///
/// A firmware clock over a millisecond tick counter:
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::clock::Clock;
/// use core::sync::atomic::{AtomicU64, Ordering};
///
/// static TICKS_MS: AtomicU64 = AtomicU64::new(0); // advanced by SysTick
///
/// struct SysTick;
///
/// impl Clock for SysTick {
///     fn wall_ms(&self) -> u64 {
///         1_700_000_000_000 + TICKS_MS.load(Ordering::Relaxed)
///     }
///     fn monotonic_ns(&self) -> u64 {
///         TICKS_MS.load(Ordering::Relaxed) * 1_000_000
///     }
/// }
///
/// static HTTP: cantal::RequestTracker<SysTick> =
///     cantal::RequestTracker::with_clock("http", &[], SysTick);
///
/// let request = HTTP.request();
/// TICKS_MS.fetch_add(3, Ordering::Relaxed);
/// drop(request);
/// assert_eq!(HTTP.total_duration().get(), 3);
/// ```
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn wall_ms(&self) -> u64;

    /// Nanoseconds from an arbitrary but fixed origin, never going back.
    fn monotonic_ns(&self) -> u64;

    /// Whole milliseconds since the same origin: durations are differences
    /// of these, so that consecutive durations add up to the total time
    /// (no rounding is lost at each step).
    fn monotonic_ms(&self) -> u64 {
        self.monotonic_ns() / 1_000_000
    }

    /// `(wall_ms(), monotonic_ms())` at one instant: what a
    /// [`Fork`](crate::Fork) reads on each branch switch. The default reads
    /// both clocks; [`DefaultClock`] reads the monotonic clock alone and
    /// adds the wall clock's offset from it, read again every 100 ms
    /// (so the wall time stays within a millisecond of [`wall_ms`] while
    /// the system clock is slewed by up to 1 % against the monotonic one,
    /// save for a step of the system clock in those 100 ms).
    fn wall_and_monotonic_ms(&self) -> (u64, u64) {
        (self.wall_ms(), self.monotonic_ms())
    }

    /// `(wall_ms(), monotonic_ns())` at one instant: what a
    /// [`TimedFork`](crate::TimedFork) reads on each branch switch (its
    /// histograms are in microseconds). The default reads both clocks;
    /// [`DefaultClock`] reads the monotonic clock alone, as in
    /// [`wall_and_monotonic_ms`](Self::wall_and_monotonic_ms).
    fn wall_ms_and_monotonic_ns(&self) -> (u64, u64) {
        (self.wall_ms(), self.monotonic_ns())
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn wall_ms(&self) -> u64 {
        (**self).wall_ms()
    }
    fn monotonic_ns(&self) -> u64 {
        (**self).monotonic_ns()
    }
    fn monotonic_ms(&self) -> u64 {
        (**self).monotonic_ms()
    }
    fn wall_and_monotonic_ms(&self) -> (u64, u64) {
        (**self).wall_and_monotonic_ms()
    }
    fn wall_ms_and_monotonic_ns(&self) -> (u64, u64) {
        (**self).wall_ms_and_monotonic_ns()
    }
}

/// The program's clocks: [`wall_ms`] and [`monotonic_ns`] (`SystemTime`
/// and `Instant` with `std`, else the clocks installed with
/// [`set_wall_clock`] and [`set_monotonic_clock`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultClock;

impl Clock for DefaultClock {
    #[inline]
    fn wall_ms(&self) -> u64 {
        wall_ms()
    }
    #[inline]
    fn monotonic_ns(&self) -> u64 {
        monotonic_ns()
    }
    #[inline]
    fn wall_and_monotonic_ms(&self) -> (u64, u64) {
        let (wall_ms, now_ns) = wall_ms_and_monotonic_ns();
        (wall_ms, now_ns / 1_000_000)
    }
    #[inline]
    fn wall_ms_and_monotonic_ns(&self) -> (u64, u64) {
        wall_ms_and_monotonic_ns()
    }
}

/// The wall clock's offset from the monotonic one, in nanoseconds
/// (wrapping), as of [`OFFSET_AT`].
static OFFSET_NS: AtomicU64 = AtomicU64::new(0);

/// The monotonic nanosecond [`OFFSET_NS`] was measured at; 0 before the
/// first measurement.
static OFFSET_AT: AtomicU64 = AtomicU64::new(0);

/// How long an offset is used before it is measured again. The wall clock
/// may be slewed against the monotonic one: NTP slews at most 500 ppm, but
/// on 2026-12-03 this project's VM showed CLOCK_REALTIME gaining 5 ms a
/// second (5,000 ppm) on CLOCK_MONOTONIC, which a one-second refresh turned
/// into a wall time 2 ms off. At 100 ms the error stays under a millisecond
/// up to 10,000 ppm; the cost is one wall read per 100 ms per process.
const OFFSET_TTL_NS: u64 = 100_000_000;

/// [`DefaultClock::wall_ms_and_monotonic_ns`] (and so
/// [`DefaultClock::wall_and_monotonic_ms`]): one monotonic read, plus a
/// wall read every [`OFFSET_TTL_NS`].
///
/// Threads racing on the two statics see an offset at most 100 ms (and
/// a refresh) old, or measure it again: either is a valid offset.
fn wall_ms_and_monotonic_ns() -> (u64, u64) {
    let installed = !WALL_CLOCK.load(Ordering::Relaxed).is_null()
        || !MONOTONIC_CLOCK.load(Ordering::Relaxed).is_null();
    if installed || cfg!(not(feature = "std")) {
        return (wall_ms(), monotonic_ns());
    }
    let now = default_monotonic_ns();
    let at = OFFSET_AT.load(Ordering::Relaxed);
    let offset = if at == 0 || now.wrapping_sub(at) >= OFFSET_TTL_NS {
        measure_offset()
    } else {
        OFFSET_NS.load(Ordering::Relaxed)
    };
    let wall_ns = now.wrapping_add(offset);
    (wall_ns / 1_000_000, now)
}

/// Reads the wall clock between two monotonic reads, and records the
/// offset against their midpoint.
#[cold]
fn measure_offset() -> u64 {
    let before = default_monotonic_ns();
    let wall_ns = default_wall_ns();
    let after = default_monotonic_ns();
    let mid = before.wrapping_add(after.wrapping_sub(before) / 2);
    let offset = wall_ns.wrapping_sub(mid);
    OFFSET_NS.store(offset, Ordering::Relaxed);
    OFFSET_AT.store(mid.max(1), Ordering::Relaxed);
    offset
}

/// Nanoseconds since the Unix epoch on the default wall clock.
#[cfg(feature = "std")]
fn default_wall_ns() -> u64 {
    extern crate std;
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            d.as_secs()
                .saturating_mul(1_000_000_000)
                .saturating_add(u64::from(d.subsec_nanos()))
        })
}

#[cfg(not(feature = "std"))]
fn default_wall_ns() -> u64 {
    wall_ms().saturating_mul(1_000_000)
}

/// A clock that moves only when told to: for tests and simulations.
///
/// Both clocks start where [`new`](ManualClock::new) puts them and move
/// together with [`advance_ms`](ManualClock::advance_ms).
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::{RequestTracker, clock::ManualClock};
///
/// static CLOCK: ManualClock = ManualClock::new(1_700_000_000_000);
/// static HTTP: RequestTracker<&ManualClock> = RequestTracker::with_clock("http", &[], &CLOCK);
///
/// let request = HTTP.request();
/// CLOCK.advance_ms(250);
/// drop(request);
/// assert_eq!(HTTP.total_duration().get(), 250);
/// ```
#[derive(Debug)]
pub struct ManualClock {
    wall_ms: AtomicU64,
    monotonic_ns: AtomicU64,
}

impl ManualClock {
    /// A clock showing `wall_ms` milliseconds since the Unix epoch, whose
    /// monotonic side starts at 0.
    pub const fn new(wall_ms: u64) -> ManualClock {
        ManualClock {
            wall_ms: AtomicU64::new(wall_ms),
            monotonic_ns: AtomicU64::new(0),
        }
    }

    /// Moves both clocks forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: u64) {
        self.advance_ns(ms.saturating_mul(1_000_000));
    }

    /// Moves both clocks forward by `ns` nanoseconds (the wall clock shows
    /// whole milliseconds of the monotonic progress).
    pub fn advance_ns(&self, ns: u64) {
        let before = self.monotonic_ns.fetch_add(ns, Ordering::Relaxed);
        let after = before.wrapping_add(ns);
        let ms = (after / 1_000_000).wrapping_sub(before / 1_000_000);
        self.wall_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Sets the wall clock alone (as an NTP step would).
    pub fn set_wall_ms(&self, ms: u64) {
        self.wall_ms.store(ms, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn wall_ms(&self) -> u64 {
        self.wall_ms.load(Ordering::Relaxed)
    }
    fn monotonic_ns(&self) -> u64 {
        self.monotonic_ns.load(Ordering::Relaxed)
    }
}
