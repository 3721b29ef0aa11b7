//! [`MappedRegion`]: bytes of a values file mapped shared, and never
//! unmapped; the one [`Region`] of this crate, for the publisher (the whole
//! file) and the extender (each new tail).

use crate::os;
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

/// The bytes `offset..offset + len` of a values file, mapped shared.
///
/// The mapping is leaked on purpose: metric handles point into it for the
/// rest of the program, also after the publication is dropped (see the
/// [`Region`] contract). Only the mapping is leaked, a few pages per
/// publication or extension; the file itself is closed by its owner.
///
/// As `memmap2::MmapRaw::as_ptr` documents, the memory is backed by a
/// file: if anyone truncated the file, touching the pages beyond its new
/// end would raise `SIGBUS`. The file is created with mode 0600 (never
/// writable by group or others) and `O_EXCL`, relative to the descriptor of
/// a directory that, like every directory above it, belongs to root or our
/// user and that others cannot write without the sticky bit (see
/// `dir.rs`), so only root or our own user could do that.
pub(crate) struct MappedRegion {
    /// `None` for an empty region (nothing to map).
    map: Option<&'static MmapRaw>,
    /// From the mapping's first byte (the start of the page that holds
    /// `offset`) to the region's.
    skip: usize,
    len: usize,
}

impl MappedRegion {
    /// Maps the bytes `offset..offset + len` of `file` read-write and
    /// shared, from the start of the page that holds `offset`, and leaks
    /// the mapping. An empty region (`len == 0`) maps nothing.
    ///
    /// # Safety
    ///
    /// The caller promises, for the file bytes `offset..offset + len`:
    ///
    /// - `offset` is a multiple of [`REGION_ALIGN`];
    /// - the file holds them, all zero, when `map` is called: the caller
    ///   wrote the zeros over them (in a file created with `O_EXCL`, or a
    ///   tail added under the publication's lock), and nothing else has
    ///   written them since;
    /// - this process never shrinks the file below `offset + len` once the
    ///   region is handed to `Collection::start` (others cannot: see the
    ///   type's docs); a caller that gives up before may shrink it and drop
    ///   the region unused;
    /// - nothing in this process reads or writes them afterwards except
    ///   through this region: no other mapping covers them (an earlier
    ///   mapping of the same file ends at or before `offset`), and the
    ///   crate does not `read`/`write` them through the file;
    /// - the region is handed to one `Collection::start` and to nothing
    ///   else.
    pub(crate) unsafe fn map(file: &File, offset: usize, len: usize) -> io::Result<MappedRegion> {
        if len == 0 {
            return Ok(MappedRegion {
                map: None,
                skip: 0,
                len: 0,
            });
        }
        let skip = offset % os::page_size();
        let map = MmapOptions::new()
            .offset((offset - skip) as u64)
            .len(skip + len)
            .map_raw(file)?;
        Ok(MappedRegion {
            map: Some(Box::leak(Box::new(map))),
            skip,
            len,
        })
    }
}

// SAFETY: each promise of the `Region` contract, from the contract of
// `MappedRegion::map` (the only constructor, `unsafe`) and what it does:
// - Alignment: `mmap(2)` returns a page-aligned address; `skip` is
//   `offset` minus a multiple of the page size, and both `offset` (by the
//   contract) and the page size (a power of two of at least 4096) are
//   multiples of 64, so `base` is 64-aligned. The empty region's dangling
//   base is 64 itself.
// - Fixed length: the mapping has `skip + len` bytes, read-write and
//   shared (`map_raw` maps with PROT_READ|PROT_WRITE, MAP_SHARED); the
//   region is its last `len` bytes, and neither changes: the `MmapRaw` is
//   behind a `&'static` and never remapped. The file holds those bytes and
//   this process never shrinks it below them once the region is started
//   (the contract), so no access raises SIGBUS unless root or our user
//   truncates it (see the type's docs).
// - Lifetime: the `MmapRaw` was leaked with `Box::leak`, so its `Drop`
//   (the `munmap`) never runs, and nothing else unmaps the range: the
//   memory stays mapped for the rest of the program.
// - Zero-filled: the caller wrote zeros over the file bytes before mapping
//   and nobody wrote them since (the contract); the region is handed to
//   `start` right after.
// - Exclusive, atomic-only access: this crate never reads or writes the
//   mapping and never makes a reference to it; it only gives its address
//   to `Collection::start`, once (the contract). The page holding `offset`
//   may also be mapped by an earlier region at another address, but only
//   for the file bytes before `offset`, which are not in this region: no
//   byte of the file is accessed through two addresses.
// - Unique: every region is a fresh `mmap`, which the kernel places at an
//   address no other live mapping uses; its file bytes are covered by no
//   other region (the contract).
unsafe impl Region for MappedRegion {
    fn base(&self) -> NonNull<u8> {
        let base = self
            .map
            .and_then(|m| NonNull::new(m.as_mut_ptr().wrapping_add(self.skip)));
        match base {
            Some(base) => base,
            None => NonNull::<Align64>::dangling().cast(),
        }
    }

    fn len(&self) -> usize {
        self.len
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
        let r = MappedRegion {
            map: None,
            skip: 0,
            len: 0,
        };
        assert_eq!(r.len(), 0);
        assert!(r.base().as_ptr().addr().is_multiple_of(REGION_ALIGN));
    }
}
