//! Reading a publication from outside: the meta text and the values bytes
//! of any Cantal publisher (ours or a reference client's), copied with
//! `read(2)`.
//!
//! Another process's file is never mapped: a publisher that truncates or
//! replaces its file would make a mapped reader crash with `SIGBUS`. The
//! bytes are returned as they are; decode them with `cantal_core::decode`.
//!
//! # Examples
//!
//! ```no_run
//! let snapshot = cantal_mmap::read::read("/run/user/1000/myapp")?;
//! println!(
//!     "{} bytes of meta, {} of values, publisher {}",
//!     snapshot.meta.len(),
//!     snapshot.values.len(),
//!     if snapshot.alive { "alive" } else { "gone" },
//! );
//! # Ok::<(), cantal_mmap::Error>(())
//! ```

use crate::error::Error;
use crate::os::{self, Identity};
use crate::path::with_suffix;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

/// The largest meta file read: 64 MiB (a million metrics).
pub const META_LIMIT: u64 = 64 << 20;
/// The largest values file read: 256 MiB.
pub const VALUES_LIMIT: u64 = 256 << 20;
/// How many times a publication that changes under the reader is re-read.
pub const ATTEMPTS: usize = 5;

/// The files of one publication, read at (nearly) one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// `P.meta`, as read.
    pub meta: Vec<u8>,
    /// `P.values`, as read.
    pub values: Vec<u8>,
    /// Whether a process holds the values file's lock (publishes it now).
    /// `false` means the files are stale, left by a process that is gone,
    /// or written by a client that does not lock (the reference Python
    /// client).
    pub alive: bool,
}

/// Reads the publication at base path `base` (`base.meta` and
/// `base.values`).
///
/// The meta file is read, then the values file, then the meta file's
/// identity (device, inode, size, modification time) is checked again;
/// when it changed (the publisher restarted meanwhile), everything is read
/// again, up to [`ATTEMPTS`] times.
///
/// Testing liveness takes the values file's lock for an instant when it is
/// free, and releases it at once.
///
/// # Errors
///
/// A missing file ([`Error::Io`] with `NotFound`), a symlink or other
/// non-regular file ([`Error::NotRegularFile`]), a file larger than
/// [`META_LIMIT`] or [`VALUES_LIMIT`], a publication that keeps changing
/// ([`Error::Unstable`]).
pub fn read(base: impl AsRef<Path>) -> Result<Snapshot, Error> {
    let base = base.as_ref();
    let meta_path = with_suffix(base, ".meta");
    let values_path = with_suffix(base, ".values");
    for _ in 0..ATTEMPTS {
        // Kept open until the check below, so that its inode number cannot
        // be given to a new meta file meanwhile.
        let meta_file = open(&meta_path)?;
        let (meta, before) = read_file(&meta_file, &meta_path, META_LIMIT)?;
        let file = match open(&values_path) {
            Ok(file) => file,
            // Replaced between the two reads: try again.
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let (values, _) = read_file(&file, &values_path, VALUES_LIMIT)?;
        let alive = is_locked(&file).map_err(|e| Error::io(&values_path, e))?;
        let after = fs::symlink_metadata(&meta_path).map(|m| Identity::of(&m));
        drop(meta_file);
        if after.is_ok_and(|after| after == before) {
            return Ok(Snapshot {
                meta,
                values,
                alive,
            });
        }
    }
    Err(Error::Unstable {
        path: meta_path,
        attempts: ATTEMPTS,
    })
}

/// Whether a process other than us holds the lock of the values file at
/// `base.values`: `Ok(false)` for stale files.
///
/// # Errors
///
/// As for [`read`], for the values file only.
pub fn is_alive(base: impl AsRef<Path>) -> Result<bool, Error> {
    let path = with_suffix(base.as_ref(), ".values");
    let file = open(&path)?;
    is_locked(&file).map_err(|e| Error::io(&path, e))
}

/// Opens a regular file without following symlinks.
fn open(path: &Path) -> Result<File, Error> {
    let file = os::open_nofollow(path).map_err(|e| {
        if os::is_symlink_error(&e) {
            Error::NotRegularFile {
                path: path.to_path_buf(),
            }
        } else {
            Error::io(path, e)
        }
    })?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::NotRegularFile {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

/// Reads a whole regular file of at most `limit` bytes; returns its bytes
/// and its identity when opened.
fn read_file(file: &File, path: &Path, limit: u64) -> Result<(Vec<u8>, Identity), Error> {
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    let too_large = |size| Error::TooLarge {
        path: path.to_path_buf(),
        size,
        limit,
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // One byte more than the limit tells a file that grew past it.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok((bytes, Identity::of(&meta)))
}

/// Whether another open file description holds the lock on `file`.
fn is_locked(file: &File) -> io::Result<bool> {
    match file.try_lock_shared() {
        Ok(()) => {
            file.unlock()?;
            Ok(false)
        }
        Err(fs::TryLockError::WouldBlock) => Ok(true),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}
