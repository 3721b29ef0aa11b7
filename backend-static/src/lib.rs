//! A static, 64-byte-aligned buffer that cantal-core metrics can be
//! published into: metrics without a heap, a file system or an operating
//! system.
//!
//! Firmware declares a [`StaticBuffer`] as a `static` item, claims it once,
//! and starts its collection over it. It then ships the meta text to the
//! host once and the values bytes ([`ActiveCollection::read_values`])
//! whenever it likes, over whatever link it has; the host decodes them with
//! [`cantal_core::decode`].
//!
//! [`ActiveCollection::read_values`]: cantal_core::ActiveCollection::read_values
//!
//! # Example
//!
//! ```
//! use cantal_core::{Collection, Counter, Fixed, Integer};
//! use cantal_static::StaticBuffer;
//!
//! static BUFFER: StaticBuffer<64> = StaticBuffer::new();
//! static PACKETS: Counter = Counter::new(&[("metric", "packets")]);
//! static QUEUE: Integer = Integer::new(&[("metric", "queue")]);
//!
//! let mut metrics: Collection<Fixed<4>> = Collection::fixed();
//! metrics.register(&PACKETS)?;
//! metrics.register(&QUEUE)?;
//! let active = metrics.start(BUFFER.claim().expect("claimed once"))?;
//!
//! PACKETS.incr(3);
//! let mut values = [0u8; 64];
//! let n = active.read_values(&mut values);
//! assert_eq!(n, 16);
//! assert_eq!(values[..8], 3u64.to_ne_bytes());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![no_std]
#![doc(test(attr(deny(warnings))))]
#![deny(missing_docs, unreachable_pub, unsafe_op_in_unsafe_fn)]

use cantal_core::{REGION_ALIGN, Region};
use core::cell::UnsafeCell;
use core::fmt;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

/// `N` bytes of zeroed, 64-byte-aligned memory for metrics, usable as a
/// `static` item.
///
/// Size it with [`Collection::layout`](cantal_core::Collection::layout)
/// (`start` reports the bytes needed when it is too small).
#[repr(C, align(64))]
pub struct StaticBuffer<const N: usize> {
    bytes: UnsafeCell<[u8; N]>,
    claimed: AtomicBool,
}

// SAFETY: the bytes are never accessed through a reference: only through
// the raw pointer that `claim` hands out once, which cantal-core uses
// exclusively for atomic operations. `claimed` is an atomic. So sharing the
// buffer between threads cannot cause a data race.
unsafe impl<const N: usize> Sync for StaticBuffer<N> {}

impl<const N: usize> StaticBuffer<N> {
    const ALIGN_OK: () = assert!(
        core::mem::align_of::<Self>() >= REGION_ALIGN,
        "StaticBuffer must be 64-byte aligned"
    );

    /// A zeroed buffer.
    pub const fn new() -> Self {
        let () = Self::ALIGN_OK;
        StaticBuffer {
            bytes: UnsafeCell::new([0; N]),
            claimed: AtomicBool::new(false),
        }
    }

    /// The buffer as a [`Region`], the first time; `None` afterwards (the
    /// metrics of one collection own it for the rest of the program).
    pub fn claim(&'static self) -> Option<StaticRegion> {
        if self.claimed.swap(true, Ordering::AcqRel) {
            return None;
        }
        Some(StaticRegion {
            base: NonNull::new(self.bytes.get().cast::<u8>())?,
            len: N,
        })
    }

    /// The buffer's size in bytes.
    pub const fn len(&self) -> usize {
        N
    }

    /// Whether the buffer has no bytes.
    pub const fn is_empty(&self) -> bool {
        N == 0
    }
}

impl<const N: usize> Default for StaticBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for StaticBuffer<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticBuffer")
            .field("len", &N)
            .field("claimed", &self.claimed.load(Ordering::Relaxed))
            .finish()
    }
}

/// A claimed [`StaticBuffer`], to hand to
/// [`Collection::start`](cantal_core::Collection::start).
#[derive(Debug)]
pub struct StaticRegion {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the region is a pointer to a `'static` buffer whose memory is only
// accessed atomically; moving or sharing the pointer between threads is
// harmless.
unsafe impl Send for StaticRegion {}
// SAFETY: as for `Send`: `StaticRegion` exposes no access to the memory.
unsafe impl Sync for StaticRegion {}

// SAFETY: each promise of the `Region` contract:
// - alignment: `StaticBuffer` is `repr(C, align(64))` and `bytes` is its
//   first field, so `base` is 64-aligned (checked by `ALIGN_OK` too);
// - fixed length: `len` is the constant `N`, the size of the array;
// - lifetime: `claim` takes `&'static self`, so the memory is never freed;
// - zero-filled: `new` is the only constructor and zeroes the bytes, and
//   nothing writes them before they are claimed (no reference escapes);
// - exclusive, atomic-only access: `bytes` is private and never borrowed;
//   the only pointer to it is the one `claim` hands out, once;
// - unique: `claimed` makes `claim` succeed at most once per buffer.
unsafe impl Region for StaticRegion {
    fn base(&self) -> NonNull<u8> {
        self.base
    }
    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_once_and_is_aligned() {
        static BUF: StaticBuffer<128> = StaticBuffer::new();
        let region = BUF.claim().unwrap();
        assert_eq!(region.len(), 128);
        assert_eq!(region.base().as_ptr().addr() % 64, 0);
        assert!(BUF.claim().is_none());
    }
}
