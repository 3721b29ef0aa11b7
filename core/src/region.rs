//! [`Region`]: the block of memory that published metrics live in.

use core::ptr::NonNull;

/// The alignment every region must have: one cache line, so that the
/// 64-byte states of the reference layout start on a line of their own.
pub const REGION_ALIGN: usize = 64;

/// A block of memory that metrics are published into: the mapped values
/// file of a Linux process, or a static buffer in firmware.
///
/// [`Collection::start`](crate::Collection::start) lays the metrics out in
/// it and points every handle at its slot. Handles are usually `static`
/// items that live as long as the program, and they keep pointing at their
/// slot after the collection is dropped: that is what makes the memory
/// requirements below so strict.
///
/// # Safety
///
/// An implementor promises, for every value it hands to `start`:
///
/// - **Alignment**: [`base`](Region::base) is aligned to [`REGION_ALIGN`]
///   (64) bytes.
/// - **Fixed length**: [`len`](Region::len) bytes from `base` are valid
///   for reads and writes, and `len` returns the same number every time.
/// - **Lifetime**: that memory stays allocated and mapped, and is never
///   reused for anything else, for the rest of the program, even after the
///   `Region` value and the collection are dropped (leak the mapping, or
///   use a `static`): a metric handle may still be updated from another
///   thread at any time.
/// - **Zero-filled**: every byte is zero when the region is handed to
///   `start`.
/// - **Exclusive, atomic-only access**: within this process nothing else
///   reads or writes the memory, and no reference (`&[u8]`, `&mut [u8]`)
///   to it ever exists; this crate only touches it through 8-byte atomic
///   operations at 8-aligned offsets. Other processes may read it (that is
///   the point), and a backend may read it through the OS (for example
///   `read(2)` of the file), never through a reference.
/// - **Unique**: no two `Region` values given to `start` overlap.
pub unsafe trait Region {
    /// The first byte.
    fn base(&self) -> NonNull<u8>;
    /// The number of bytes.
    fn len(&self) -> usize;
    /// Whether the region has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
