//! [`MappedRegion`]: a values file mapped shared, and never unmapped.

use cantal_core::{REGION_ALIGN, Region};
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::io;
use std::ptr::NonNull;

// The agent reads our memory from another process. An atomic emulated with a
// lock that only this process knows about would be read half-written there,
// so the handles' 64-bit atomics must be real instructions on this target.
const _: () = assert!(
    portable_atomic::AtomicU64::is_always_lock_free(),
    "cantal-mmap needs native 64-bit atomics: another process reads the slots"
);

/// The shared mapping of a values file.
///
/// The mapping is leaked on purpose: metric handles point into it for the
/// rest of the program, also after the publication is dropped (see the
/// [`Region`] contract). Only the mapping is leaked, a few pages per
/// publication; the file itself is closed by its owner.
///
/// As `memmap2::MmapRaw::as_ptr` documents, the memory is backed by a
/// file: if anyone truncated the file, touching the pages beyond its new
/// end would raise `SIGBUS`. The file is created with mode 0600 (never
/// writable by group or others) and `O_EXCL`, relative to the descriptor of
/// a directory that, like every directory above it, belongs to root or our
/// user and that others cannot write without the sticky bit (see
/// `dir.rs`), so only root or our own user could do that.
pub(crate) struct MappedRegion {
    /// `None` for an empty layout (nothing to map).
    map: Option<&'static MmapRaw>,
}

impl MappedRegion {
    /// Maps `len` bytes of `file` (which must already hold `len` zero
    /// bytes) read-write and shared, and leaks the mapping.
    pub(crate) fn map(file: &File, len: usize) -> io::Result<MappedRegion> {
        if len == 0 {
            return Ok(MappedRegion { map: None });
        }
        let map = MmapOptions::new().len(len).map_raw(file)?;
        Ok(MappedRegion {
            map: Some(Box::leak(Box::new(map))),
        })
    }
}

// SAFETY: each promise of the `Region` contract:
// - Alignment: `mmap(2)` returns page-aligned addresses (4096 or more, a
//   multiple of 64); the empty region's dangling base is 64 itself.
// - Fixed length: the mapping has exactly `len()` bytes, read-write
//   (`map_raw` maps with PROT_READ|PROT_WRITE, MAP_SHARED), and neither
//   changes: the `MmapRaw` is behind a `&'static` and never remapped. The
//   file holds those bytes (written by `Publisher` before mapping) so no
//   access raises SIGBUS, as long as nobody truncates it (see above).
// - Lifetime: the `MmapRaw` was leaked with `Box::leak`, so its `Drop`
//   (the `munmap`) never runs, and nothing else unmaps the range: the
//   memory stays mapped for the rest of the program.
// - Zero-filled: `Publisher` writes zeros over the whole new file (created
//   with O_EXCL, so nobody else wrote it before) before mapping it, and
//   hands the region to `start` before renaming it into place, so no other
//   writer has had a chance to open it (mode 0600, our own user aside).
// - Exclusive, atomic-only access: this crate never reads or writes the
//   mapping and never makes a reference to it; it only gives its address
//   to `Collection::start`. The `MappedRegion` is created by `Publisher`
//   for one collection and not handed out.
// - Unique: every `MappedRegion` is a fresh `mmap` of a fresh file, which
//   the kernel places at an address no other live mapping uses.
unsafe impl Region for MappedRegion {
    fn base(&self) -> NonNull<u8> {
        match self.map.and_then(|m| NonNull::new(m.as_mut_ptr())) {
            Some(base) => base,
            None => NonNull::<Align64>::dangling().cast(),
        }
    }

    fn len(&self) -> usize {
        self.map.map_or(0, |m| m.len())
    }
}

/// A type whose dangling pointer is 64-aligned, for the empty region.
#[repr(align(64))]
struct Align64;

const _: () = assert!(align_of::<Align64>() == REGION_ALIGN);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_region_is_aligned() {
        let r = MappedRegion { map: None };
        assert_eq!(r.len(), 0);
        assert!(r.base().as_ptr().addr().is_multiple_of(REGION_ALIGN));
    }
}
