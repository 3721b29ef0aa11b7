//! The one place that picks the atomic types and turns region memory into
//! atomics.
//!
//! Everything else in the crate imports its atomics from here, so that:
//!
//! - targets without native 64-bit atomics (thumbv7em, riscv32i) get
//!   portable-atomic's emulation, chosen by the `critical-section` or
//!   `fallback` feature;
//! - the loom model of the start hand-over (`RUSTFLAGS="--cfg loom"`) swaps
//!   in loom's instrumented atomics without touching the metric code;
//! - the only conversion from a raw region pointer to an atomic reference,
//!   [`u64_at`], is written (and proven) once. `clippy.toml` bans
//!   `from_ptr` everywhere else.

#[cfg(all(not(loom), feature = "std"))]
pub(crate) use portable_atomic::AtomicUsize;
#[cfg(not(loom))]
pub(crate) use portable_atomic::{AtomicPtr, AtomicU8, AtomicU64, fence};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU64};

pub(crate) use core::sync::atomic::Ordering;

/// Politely wait for another thread to finish a step that takes a few
/// instructions (a hand-over in progress).
#[inline]
pub(crate) fn spin_loop() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// The 8-byte atomic word at `ptr`, which points into a region.
///
/// # Safety
///
/// The caller guarantees, for the whole lifetime `'a`:
///
/// - `ptr` is aligned to 8 bytes (`align_of::<AtomicU64>()` is 8 on every
///   target portable-atomic supports for 64-bit atomics);
/// - `ptr .. ptr + 8` lies inside memory that is valid for reads and writes
///   and is never deallocated or unmapped (the `Region` contract promises
///   this for the rest of the program);
/// - that memory is only ever accessed through 8-byte atomics at 8-aligned
///   offsets by this process (no references, no non-atomic or mixed-size
///   accesses; the `Region` contract and the 8-byte slot layout promise it).
///
/// Under `cfg(loom)` the region is an array of loom `AtomicU64` objects and
/// the pointer points at one of them.
#[inline(always)]
pub(crate) unsafe fn u64_at<'a>(ptr: *mut u64) -> &'a AtomicU64 {
    #[cfg(not(loom))]
    {
        // SAFETY: alignment, validity for 'a and atomic-only, same-size
        // access are exactly the caller's guarantees above, which are the
        // preconditions listed in `portable_atomic::AtomicU64::from_ptr`.
        #[allow(clippy::disallowed_methods)]
        unsafe {
            AtomicU64::from_ptr(ptr)
        }
    }
    #[cfg(loom)]
    {
        // SAFETY: under loom the region is made of `AtomicU64` objects (see
        // the loom tests), so `ptr` points at a live, aligned `AtomicU64`
        // that is never freed.
        unsafe { &*ptr.cast::<AtomicU64>() }
    }
}
