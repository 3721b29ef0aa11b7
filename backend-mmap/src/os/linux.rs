//! The Linux side of [`os`](super): opening without following symlinks,
//! the `*at` calls relative to a directory descriptor, the file system
//! type, resource limits, and who holds a lock. Every `unsafe` of the
//! crate's system calls is here.

use super::Identity;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub(crate) use std::os::unix::fs::{FileExt, MetadataExt};

/// This build publishes and reads.
pub(crate) const SUPPORTED: bool = true;

/// `TMPFS_MAGIC` from `<linux/magic.h>`.
const TMPFS_MAGIC: i64 = 0x0102_1994;
/// `RAMFS_MAGIC` from `<linux/magic.h>`.
const RAMFS_MAGIC: i64 = 0x8584_58f6;

/// Opens an existing file read-only without following a symlink at its
/// last component (`O_NOFOLLOW`: a symlink is an `ELOOP` error), and
/// without blocking on a FIFO planted there (`O_NONBLOCK`, which regular
/// files ignore).
fn open_nofollow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
}

/// `struct open_how` of `openat2(2)` (linux/openat2.h).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Opens `path` as [`open_nofollow`] does, but resolved inside `root` (a
/// directory such as `/proc/PID/root`, the root of a process in another
/// mount namespace): with `openat2(2)`'s `RESOLVE_IN_ROOT`, every
/// component, an absolute symlink or `..` included, stays inside `root`,
/// and `RESOLVE_NO_MAGICLINKS` refuses `/proc/*/fd`-style links that could
/// leave it. `O_PATH` opens it for [`fstat`](File::metadata) only.
/// Without `root`, [`open_nofollow`] (or `O_PATH | O_NOFOLLOW`).
pub(crate) fn open_nofollow_in(root: Option<&Path>, path: &Path, o_path: bool) -> io::Result<File> {
    let Some(root) = root else {
        if o_path {
            return OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(path);
        }
        return open_nofollow(path);
    };
    let root = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(root)?;
    let name = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let access = if o_path {
        libc::O_PATH
    } else {
        libc::O_RDONLY | libc::O_NONBLOCK
    };
    let how = OpenHow {
        flags: (access | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: openat2(2) takes an open directory descriptor (`root` lives
    // until after the call), a NUL-terminated path (`name` outlives the
    // call), a pointer to a `struct open_how` and its size: `OpenHow` is
    // that struct (three u64, repr(C)), alive on the stack for the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            name.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = libc::c_int::try_from(fd).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    // SAFETY: openat2 returned a new descriptor that nothing else owns.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Whether an error means "there is a symlink here".
pub(crate) fn is_symlink_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// Whether the file system holding the open directory `dir` is a memory
/// file system (tmpfs or ramfs); `None` when it cannot be told.
pub(crate) fn on_memory_fs(dir: &File) -> Option<bool> {
    let mut buf = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `fstatfs(2)` needs an open descriptor (`dir` is, and outlives
    // the call; an `O_PATH` one is accepted since Linux 3.12) and a pointer
    // to a writable `struct statfs` (`buf`, properly sized and aligned).
    let rc = unsafe { libc::fstatfs(dir.as_raw_fd(), buf.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: `fstatfs` returned 0, so it filled `buf`; it was zeroed
    // before, so every byte is initialised either way.
    let st = unsafe { buf.assume_init() };
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)] // f_type's type varies by target
    let magic = i64::from(st.f_type as i64) & 0xffff_ffff;
    Some(magic == TMPFS_MAGIC || magic == RAMFS_MAGIC)
}

/// The descriptor for `*at` calls: `dir`, or the working directory.
fn dir_fd(dir: Option<&File>) -> libc::c_int {
    dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd())
}

/// `openat(2)`: opens `name` relative to `dir` (the working directory when
/// `None`) with `flags` (`O_CLOEXEC` is always added) and, when it creates
/// the file, `mode`.
fn open_at(dir: Option<&File>, name: &CStr, flags: libc::c_int, mode: u32) -> io::Result<File> {
    // SAFETY: `openat(2)` takes a directory descriptor (open, or
    // AT_FDCWD), a NUL-terminated path (`name` outlives the call) and the
    // mode as a variadic `mode_t`; it has no other preconditions.
    let fd = unsafe {
        libc::openat(
            dir_fd(dir),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `openat` returned a new descriptor that nothing else owns.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Opens what is at `name` in `dir` itself, without following a symlink
/// there (`O_PATH | O_NOFOLLOW`): a directory to walk on, or the symlink
/// to inspect with `fstat` and [`read_link`]. Needs only search permission
/// on `dir`.
pub(crate) fn open_path_at(dir: Option<&File>, name: &CStr) -> io::Result<File> {
    open_at(dir, name, libc::O_PATH | libc::O_NOFOLLOW, 0)
}

/// The file name a C string of the `*at` calls holds (the inverse of
/// [`c_name`](super::c_name)).
pub(crate) fn name_of(name: &CStr) -> OsString {
    OsStr::from_bytes(name.to_bytes()).to_os_string()
}

/// Opens `/` for a walk (`O_PATH | O_DIRECTORY`).
pub(crate) fn open_root() -> io::Result<File> {
    open_at(None, c"/", libc::O_PATH | libc::O_DIRECTORY, 0)
}

/// Creates `name` in `dir` for reading and writing, exclusively
/// (`O_CREAT | O_EXCL`: fails with `AlreadyExists`), never through a
/// symlink (`O_NOFOLLOW`), with `mode` less the umask.
pub(crate) fn create_new_at(dir: &File, name: &CStr, mode: u32) -> io::Result<File> {
    let flags = libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
    open_at(Some(dir), name, flags, mode)
}

/// Opens the existing `name` of `dir` read-only, without following a
/// symlink there (`ELOOP`, see [`is_symlink_error`]) and without blocking
/// on a FIFO.
pub(crate) fn open_read_at(dir: &File, name: &CStr) -> io::Result<File> {
    let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK;
    open_at(Some(dir), name, flags, 0)
}

/// Creates the file at `path` for writing, exclusively (fails with
/// `AlreadyExists`), never through a symlink, with `mode` less the umask.
pub(crate) fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Sets the permission bits of `file` to `mode` exactly (`fchmod(2)`, so
/// the umask does not apply).
pub(crate) fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    file.set_permissions(fs::Permissions::from_mode(mode))
}

/// The error of a walk that met too many symlinks (`ELOOP`).
pub(crate) fn too_many_links() -> io::Error {
    io::Error::from_raw_os_error(libc::ELOOP)
}

/// The target of the symlink opened with [`open_path_at`].
pub(crate) fn read_link(link: &File) -> io::Result<OsString> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `readlinkat(2)` with an empty path reads the symlink that
    // the `O_PATH` descriptor `link` refers to (Linux 2.6.39); `buf` is
    // writable for `buf.len()` bytes and outlives the call.
    let n = unsafe {
        libc::readlinkat(
            link.as_raw_fd(),
            c"".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    if n >= buf.len() {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    buf.truncate(n);
    Ok(OsString::from_vec(buf))
}

/// `linkat(2)`: a new name `new` in `dir` for the file `old` of `dir`;
/// fails with `AlreadyExists` when `new` exists.
pub(crate) fn link_at(dir: &File, old: &CStr, new: &CStr) -> io::Result<()> {
    // SAFETY: `linkat(2)` takes open directory descriptors and
    // NUL-terminated paths (both outlive the call); flags 0 do not follow
    // a symlink at `old`.
    let rc = unsafe {
        libc::linkat(
            dir.as_raw_fd(),
            old.as_ptr(),
            dir.as_raw_fd(),
            new.as_ptr(),
            0,
        )
    };
    check(rc)
}

/// `renameat(2)`: `old` of `dir` replaces `new` of `dir` atomically (a
/// symlink at `new` is replaced, not followed).
pub(crate) fn rename_at(dir: &File, old: &CStr, new: &CStr) -> io::Result<()> {
    // SAFETY: `renameat(2)` takes open directory descriptors and
    // NUL-terminated paths, which outlive the call.
    let rc =
        unsafe { libc::renameat(dir.as_raw_fd(), old.as_ptr(), dir.as_raw_fd(), new.as_ptr()) };
    check(rc)
}

/// `unlinkat(2)`: removes the name `name` of `dir` (never a directory).
pub(crate) fn unlink_at(dir: &File, name: &CStr) -> io::Result<()> {
    // SAFETY: `unlinkat(2)` takes an open directory descriptor and a
    // NUL-terminated path, which outlive the call; flags 0 remove a
    // non-directory only.
    let rc = unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) };
    check(rc)
}

/// The names in the directory `dir` (`.` and `..` left out), at most
/// `limit` of them.
pub(crate) fn list_dir(dir: &File, limit: usize) -> io::Result<Vec<OsString>> {
    // A descriptor of our own, opened for reading: `closedir` closes it.
    let listing = open_at(Some(dir), c".", libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    let fd = std::os::fd::IntoRawFd::into_raw_fd(listing);
    // SAFETY: `fdopendir(3)` takes an open directory descriptor opened for
    // reading, which it owns from now on (closed by `closedir`).
    let stream = unsafe { libc::fdopendir(fd) };
    if stream.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: `fdopendir` failed, so `fd` is still ours to close.
        drop(unsafe { OwnedFd::from_raw_fd(fd) });
        return Err(e);
    }
    let mut names = Vec::new();
    while names.len() < limit {
        // SAFETY: `stream` is the open stream from `fdopendir`, used by
        // this thread only; `readdir` returns null at the end (or on an
        // error), else a pointer valid until the next call on `stream`.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break;
        }
        // SAFETY: `entry` is non-null, so it points at a `dirent`, valid
        // until the next `readdir` on `stream`.
        let d_name = unsafe { &(*entry).d_name };
        // SAFETY: `d_name` of a `dirent` is NUL-terminated; the bytes are
        // copied before the next `readdir`.
        let name = unsafe { CStr::from_ptr(d_name.as_ptr()) };
        let name = name.to_bytes();
        if name != b"." && name != b".." {
            names.push(OsString::from_vec(name.to_vec()));
        }
    }
    // SAFETY: `stream` is open and not used again; this closes `fd` too.
    unsafe { libc::closedir(stream) };
    Ok(names)
}

/// Whether process `pid` may be alive: `kill(pid, 0)` does not say it is
/// gone (`ESRCH`).
pub(crate) fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return true; // never a process of ours: keep its files
    }
    // SAFETY: `kill(2)` with signal 0 sends nothing; it only checks that
    // the process exists (and whether we may signal it).
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// The largest file this process may write (`RLIMIT_FSIZE`, soft limit);
/// `None` when unlimited. Writing past it raises `SIGXFSZ`.
pub(crate) fn file_size_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit(2)` writes a `struct rlimit` through a valid
    // pointer to one; `RLIMIT_FSIZE` is a valid resource.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit) };
    if rc != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    #[allow(clippy::useless_conversion)] // rlim_t's type varies by target
    Some(u64::from(limit.rlim_cur))
}

/// `Ok(())` for a system call's 0, else the error of `errno`.
fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
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

/// The page size, for the offset of a mapping (which must be a multiple
/// of it).
pub(crate) fn page_size() -> usize {
    // SAFETY: `sysconf(3)` has no preconditions; `_SC_PAGESIZE` is a valid
    // name and never fails on Linux.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|s| s.is_power_of_two())
        .unwrap_or(4096)
}

/// The effective user id, for the `/tmp/cantal.<uid>.<pid>` fallback.
pub(crate) fn uid() -> u32 {
    // SAFETY: `geteuid(2)` has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::real_uid_of;

    #[test]
    fn real_uid_of_this_process() {
        let status = fs::read_to_string("/proc/self/status").unwrap();
        // SAFETY: `getuid(2)` has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        assert_eq!(real_uid_of(&status).unwrap(), uid);
    }
}
