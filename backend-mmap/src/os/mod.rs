//! The operating system under the crate: Linux in `linux.rs`; any other
//! target gets `stub.rs`, whose every operation fails, so that the crate
//! (and the `cantal` facade) builds there and its entry points return
//! [`Error::Unsupported`] (see [`supported`]), as memmap2's `stub.rs`
//! does for targets without mappings.
//!
//! Here: what both have in common (file identity, the lock's retries, C
//! names, the `/proc/<pid>/status` parser) and the choice of the two.

use crate::error::Error;
use std::ffi::{CString, OsStr};
use std::fs::{self, File, TryLockError};
use std::io;
use std::path::Path;
use std::time::Duration;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(not(target_os = "linux"))]
mod stub;
#[cfg(not(target_os = "linux"))]
pub(crate) use stub::*;

/// `Ok(())` when this build can `action` (a verb: "publish", "read") the
/// file or base path `path`; else [`Error::Unsupported`]. The first
/// check of every public entry point, so that no stub is ever reached.
pub(crate) fn supported(path: &Path, action: &'static str) -> Result<(), Error> {
    if SUPPORTED {
        return Ok(());
    }
    Err(Error::Unsupported {
        path: path.to_path_buf(),
        action,
    })
}

/// How many times a busy lock is tried before it counts as held: a reader
/// (`read::read`) takes a stale file's lock for an instant to test it.
const LOCK_TRIES: u32 = 5;

/// What identifies a file's content for a reader: device, inode, size and
/// modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    size: u64,
    mtime: (i64, i64),
}

impl Identity {
    pub(crate) fn of(m: &fs::Metadata) -> Identity {
        Identity {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
        }
    }

    /// Same file (device and inode), whatever its content.
    pub(crate) fn same_file(&self, other: &Identity) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

/// Takes the exclusive lock on `file` without blocking; retries a few
/// times over some milliseconds, since readers test locks briefly.
/// `Ok(false)` when another process holds it.
pub(crate) fn try_lock(file: &File) -> io::Result<bool> {
    for attempt in 0..LOCK_TRIES {
        match file.try_lock() {
            Ok(()) => return Ok(true),
            Err(TryLockError::WouldBlock) => {
                if attempt + 1 < LOCK_TRIES {
                    std::thread::sleep(Duration::from_millis(2 << attempt));
                }
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
    Ok(false)
}

/// A file name as the C string the `*at` calls take.
pub(crate) fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_encoded_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidFilename, "a NUL byte in a file name"))
}

/// The real uid in the text of a `/proc/<pid>/status` file: the first
/// number of its `Uid:` line (real, effective, saved, file system).
pub(crate) fn real_uid_of(status: &str) -> io::Result<u32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|uid| uid.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Uid: line in the status"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_pass_on_linux_only() {
        let checked = supported(Path::new("/x/y"), "publish");
        if cfg!(target_os = "linux") {
            assert!(checked.is_ok());
        } else {
            let err = checked.unwrap_err();
            assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        }
    }

    #[test]
    fn real_uid_is_the_first_number_of_the_uid_line() {
        let status = "Name:\tcat\nUmask:\t0022\nState:\tR (running)\n\
                      Uid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\n";
        assert_eq!(real_uid_of(status).unwrap(), 1000);
        for bad in ["", "Name: x\n", "Uid:\n", "Uid:\tabc\t0\n", "Uid:\t-1\t0\n"] {
            let err = real_uid_of(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{bad:?}");
        }
    }
}
