//! The side of [`os`](super) for targets other than Linux: the same
//! functions, every one failing (`io::ErrorKind::Unsupported`) or giving
//! the answer that refuses, so that the crate builds everywhere.
//!
//! None of it is reached in practice: every public entry point checks
//! [`supported`](super::supported) first and returns
//! [`Error::Unsupported`](crate::Error::Unsupported). Publishing needs
//! `openat`-style calls relative to a checked directory, `flock` seen by
//! other processes, `O_NOFOLLOW`, and readers that find us through
//! `/proc`: Linux.

use super::Identity;
use std::ffi::{CStr, OsString};
use std::fs::{self, File};
use std::io;
use std::path::Path;

/// This build neither publishes nor reads.
pub(crate) const SUPPORTED: bool = false;

/// The error of every operation here.
fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "Cantal files need Linux (this build is for {})",
            std::env::consts::OS
        ),
    )
}

/// What `std::os::unix::fs::MetadataExt` gives on Linux. The values
/// refuse: an owner that is nobody, every permission bit set, no link.
pub(crate) trait MetadataExt {
    /// The owner's uid (`u32::MAX`, nobody's).
    fn uid(&self) -> u32;
    /// The mode bits (all set: writable by anyone).
    fn mode(&self) -> u32;
    /// The number of hard links (0).
    fn nlink(&self) -> u64;
    /// The device (0).
    fn dev(&self) -> u64;
    /// The inode number (0).
    fn ino(&self) -> u64;
    /// The length in bytes.
    fn size(&self) -> u64;
    /// The modification time's seconds (0).
    fn mtime(&self) -> i64;
    /// The modification time's nanoseconds (0).
    fn mtime_nsec(&self) -> i64;
}

impl MetadataExt for fs::Metadata {
    fn uid(&self) -> u32 {
        u32::MAX
    }
    fn mode(&self) -> u32 {
        0o7777
    }
    fn nlink(&self) -> u64 {
        0
    }
    fn dev(&self) -> u64 {
        0
    }
    fn ino(&self) -> u64 {
        0
    }
    fn size(&self) -> u64 {
        self.len()
    }
    fn mtime(&self) -> i64 {
        0
    }
    fn mtime_nsec(&self) -> i64 {
        0
    }
}

/// What `std::os::unix::fs::FileExt` gives on Linux: reads and writes at
/// an offset, here all failing.
pub(crate) trait FileExt {
    /// `pread(2)`.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// `pread(2)` until `buf` is full.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// `pwrite(2)` until `buf` is written.
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
}

impl FileExt for File {
    fn read_at(&self, _: &mut [u8], _: u64) -> io::Result<usize> {
        Err(unsupported())
    }
    fn read_exact_at(&self, _: &mut [u8], _: u64) -> io::Result<()> {
        Err(unsupported())
    }
    fn write_all_at(&self, _: &[u8], _: u64) -> io::Result<()> {
        Err(unsupported())
    }
}

/// The file name a C string holds, for messages (lossy: no name is ever
/// made here).
pub(crate) fn name_of(name: &CStr) -> OsString {
    OsString::from(String::from_utf8_lossy(name.to_bytes()).into_owned())
}

/// Opening without following symlinks, inside a root or not: unsupported.
pub(crate) fn open_nofollow_in(_: Option<&Path>, _: &Path, _: bool) -> io::Result<File> {
    Err(unsupported())
}

/// No error here means a symlink.
pub(crate) fn is_symlink_error(_: &io::Error) -> bool {
    false
}

/// The file system type cannot be told.
pub(crate) fn on_memory_fs(_: &File) -> Option<bool> {
    None
}

/// `O_PATH` opens: unsupported.
pub(crate) fn open_path_at(_: Option<&File>, _: &CStr) -> io::Result<File> {
    Err(unsupported())
}

/// Opening `/` for a walk: unsupported.
pub(crate) fn open_root() -> io::Result<File> {
    Err(unsupported())
}

/// Exclusive creation in a directory: unsupported.
pub(crate) fn create_new_at(_: &File, _: &CStr, _: u32) -> io::Result<File> {
    Err(unsupported())
}

/// Opening in a directory: unsupported.
pub(crate) fn open_read_at(_: &File, _: &CStr) -> io::Result<File> {
    Err(unsupported())
}

/// Exclusive creation without following symlinks: unsupported.
pub(crate) fn create_new(_: &Path, _: u32) -> io::Result<File> {
    Err(unsupported())
}

/// Permission bits: unsupported.
pub(crate) fn set_mode(_: &File, _: u32) -> io::Result<()> {
    Err(unsupported())
}

/// The error of a walk that met too many symlinks.
pub(crate) fn too_many_links() -> io::Error {
    unsupported()
}

/// Reading a symlink through a descriptor: unsupported.
pub(crate) fn read_link(_: &File) -> io::Result<OsString> {
    Err(unsupported())
}

/// `linkat(2)`: unsupported.
pub(crate) fn link_at(_: &File, _: &CStr, _: &CStr) -> io::Result<()> {
    Err(unsupported())
}

/// `renameat(2)`: unsupported.
pub(crate) fn rename_at(_: &File, _: &CStr, _: &CStr) -> io::Result<()> {
    Err(unsupported())
}

/// `unlinkat(2)`: unsupported.
pub(crate) fn unlink_at(_: &File, _: &CStr) -> io::Result<()> {
    Err(unsupported())
}

/// Listing a directory descriptor: unsupported.
pub(crate) fn list_dir(_: &File, _: usize) -> io::Result<Vec<OsString>> {
    Err(unsupported())
}

/// Every process may be alive (its files are kept).
pub(crate) fn pid_alive(_: u32) -> bool {
    true
}

/// No file size limit is known.
pub(crate) fn file_size_limit() -> Option<u64> {
    None
}

/// The lock holder cannot be found.
pub(crate) fn lock_holder(_: &Identity) -> Option<u32> {
    None
}

/// The usual page size, for the offset of a mapping.
pub(crate) fn page_size() -> usize {
    4096
}

/// No user ids here: nobody's (`u32::MAX`), for the fallback path's name.
pub(crate) fn uid() -> u32 {
    u32::MAX
}
