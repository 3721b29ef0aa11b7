//! Small Linux helpers: opening without following symlinks, file identity,
//! directory safety, the file system type, and who holds a lock.

use crate::error::Error;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

/// How many times a busy lock is tried before it counts as held: a reader
/// (`read::read`) takes a stale file's lock for an instant to test it.
const LOCK_TRIES: u32 = 5;

/// `TMPFS_MAGIC` from `<linux/magic.h>`.
const TMPFS_MAGIC: i64 = 0x0102_1994;
/// `RAMFS_MAGIC` from `<linux/magic.h>`.
const RAMFS_MAGIC: i64 = 0x8584_58f6;

/// Opens an existing file read-only without following a symlink at its
/// last component (`O_NOFOLLOW`: a symlink is an `ELOOP` error), and
/// without blocking on a FIFO planted there (`O_NONBLOCK`, which regular
/// files ignore).
pub(crate) fn open_nofollow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
}

/// Whether an error means "there is a symlink here".
pub(crate) fn is_symlink_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

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

/// Refuses a directory where other users could replace or remove our
/// files: writable by others or by the group, without the sticky bit.
pub(crate) fn check_directory(dir: &Path) -> Result<(), Error> {
    let meta = fs::metadata(dir).map_err(|source| Error::Directory {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(Error::Directory {
            path: dir.to_path_buf(),
            source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    let mode = meta.mode() & 0o7777;
    let sticky = mode & 0o1000 != 0;
    if mode & 0o022 != 0 && !sticky {
        return Err(Error::UnsafeDirectory {
            path: dir.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Whether `dir` lies on a memory file system (tmpfs or ramfs); `None`
/// when it cannot be told.
pub(crate) fn on_memory_fs(dir: &Path) -> Option<bool> {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = dir.as_os_str().as_bytes().to_vec();
    if bytes.contains(&0) {
        return None;
    }
    bytes.push(0);
    let mut buf = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `statfs(2)` needs a NUL-terminated path (`bytes` has no NUL
    // inside and one at the end, and outlives the call) and a pointer to a
    // writable `struct statfs` (`buf`, properly sized and aligned).
    let rc = unsafe { libc::statfs(bytes.as_ptr().cast(), buf.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: `statfs` returned 0, so it filled `buf`; it was zeroed before,
    // so every byte is initialised either way.
    let st = unsafe { buf.assume_init() };
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)] // f_type's type varies by target
    let magic = i64::from(st.f_type as i64) & 0xffff_ffff;
    Some(magic == TMPFS_MAGIC || magic == RAMFS_MAGIC)
}

/// The process holding a `flock` on the file with `identity`, from
/// `/proc/locks`.
pub(crate) fn lock_holder(identity: &Identity) -> Option<u32> {
    let locks = fs::read_to_string("/proc/locks").ok()?;
    // Linux's new_encode_dev/MAJOR/MINOR split of a 64-bit dev_t.
    let dev = identity.dev;
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let want = format!("{major:02x}:{minor:02x}:{}", identity.ino);
    locks.lines().find_map(|line| {
        // "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF"
        let fields: Vec<&str> = line.split_whitespace().collect();
        let pos = fields.iter().position(|f| *f == "FLOCK")?;
        let pid = fields.get(pos + 3)?;
        let file = fields.get(pos + 4)?;
        (*file == want).then(|| pid.parse().ok()).flatten()
    })
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

/// The effective user id, for the `/tmp/cantal.<uid>.<pid>` fallback.
pub(crate) fn uid() -> u32 {
    // SAFETY: `geteuid(2)` has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn real_uid_of_this_process() {
        let status = fs::read_to_string("/proc/self/status").unwrap();
        // SAFETY: `getuid(2)` has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        assert_eq!(real_uid_of(&status).unwrap(), uid);
    }
}
