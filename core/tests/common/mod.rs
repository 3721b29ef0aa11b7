//! A heap region for tests: leaked, so it lives forever as `Region` asks.

use cantal_core::Region;
use std::ptr::NonNull;

#[repr(C, align(64))]
struct Line([u64; 8]);

/// A zeroed, 64-aligned, leaked region of `lines` cache lines.
pub(crate) struct LeakedRegion {
    base: NonNull<u8>,
    len: usize,
}

impl LeakedRegion {
    pub(crate) fn new(bytes: usize) -> LeakedRegion {
        let lines: Vec<Line> = (0..bytes.div_ceil(64)).map(|_| Line([0; 8])).collect();
        let leaked: &'static mut [Line] = lines.leak();
        LeakedRegion {
            base: NonNull::from(leaked).cast(),
            len: bytes,
        }
    }
}

// SAFETY: `Line` is 64-aligned; the vector is leaked (never freed) and
// zero-filled; `base` is its only pointer and no reference to the contents
// is kept (the `&mut` from `leak` is consumed by `NonNull::from`); each
// `LeakedRegion` owns a fresh allocation.
unsafe impl Region for LeakedRegion {
    fn base(&self) -> NonNull<u8> {
        self.base
    }
    fn len(&self) -> usize {
        self.len
    }
}
