//! [`Files`]: the file operations of one publication, every one relative to
//! its [`TrustedDir`]'s descriptor, so that no later path lookup can be
//! redirected; temporary files that nothing leaves behind ([`Tmp`]); and
//! the removal of those a crashed publisher left.

use crate::dir::TrustedDir;
use crate::error::Error;
use crate::os::{self, FileExt, Identity, MetadataExt};
use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many names of a directory are looked at for leftover temporary
/// files (a shared `/tmp` may hold many).
const LIST_LIMIT: usize = 100_000;

/// Distinguishes the temporary files of one process.
static NEXT_TMP: AtomicU64 = AtomicU64::new(0);

/// The files of one publication, in its trusted directory.
#[derive(Debug, Clone)]
pub(crate) struct Files {
    /// The base path `P` (absolute).
    pub(crate) base: PathBuf,
    pub(crate) dir: Arc<TrustedDir>,
    /// The last component of `P`.
    name: Vec<u8>,
    pub(crate) values: PathBuf,
    pub(crate) meta: PathBuf,
    pub(crate) values_name: CString,
    pub(crate) meta_name: CString,
    /// `P.help`, the side file of descriptions (see [`crate::help`]).
    help_name: CString,
}

/// A temporary file's name in the directory, removed when dropped unless
/// it was [`keep`](Tmp::keep)t (renamed or linked away meanwhile): no error
/// path leaves one behind.
pub(crate) struct Tmp {
    dir: Arc<TrustedDir>,
    name: CString,
    pub(crate) path: PathBuf,
    armed: bool,
}

impl Tmp {
    /// The name is gone (renamed): nothing to remove.
    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        if self.armed {
            let _ = os::unlink_at(&self.dir.fd, &self.name);
        }
    }
}

impl Files {
    /// The files of base path `base` (absolute, its last component `name`)
    /// in `dir`.
    pub(crate) fn new(base: &Path, name: &OsStr, dir: TrustedDir) -> Result<Files, Error> {
        let c = |suffix: &str| {
            let mut bytes = name.as_encoded_bytes().to_vec();
            bytes.extend_from_slice(suffix.as_bytes());
            CString::new(bytes).map_err(|_| Error::BadBasePath {
                path: base.to_path_buf(),
                reason: "contains a NUL byte",
            })
        };
        Ok(Files {
            base: base.to_path_buf(),
            values: crate::path::with_suffix(base, ".values"),
            meta: crate::path::with_suffix(base, ".meta"),
            values_name: c(".values")?,
            meta_name: c(".meta")?,
            help_name: c(".help")?,
            name: name.as_encoded_bytes().to_vec(),
            dir: Arc::new(dir),
        })
    }

    /// `name` of the directory, for messages.
    fn path_of(&self, name: &CStr) -> PathBuf {
        self.dir.path.join(os::name_of(name))
    }

    /// Classifies an error creating or writing a file in our directory.
    pub(crate) fn create_error(&self, path: &Path, source: io::Error) -> Error {
        match source.kind() {
            io::ErrorKind::NotFound
            | io::ErrorKind::PermissionDenied
            | io::ErrorKind::ReadOnlyFilesystem
            | io::ErrorKind::NotADirectory => Error::Directory {
                path: self.dir.path.clone(),
                source,
            },
            io::ErrorKind::InvalidFilename => Error::PathTooLong {
                path: self.base.clone(),
            },
            _ => Error::io(path, source),
        }
    }

    /// What is at the base path itself: refused when a directory or a
    /// symlink.
    pub(crate) fn check_base(&self) -> Result<(), Error> {
        let name = CString::new(self.name.clone()).unwrap_or_default();
        let Ok(meta) = os::open_path_at(Some(&self.dir.fd), &name).and_then(|f| f.metadata())
        else {
            return Ok(());
        };
        let reason = if meta.is_dir() {
            "is a directory"
        } else if meta.file_type().is_symlink() {
            "is a symlink"
        } else {
            return Ok(());
        };
        Err(Error::BadBasePath {
            path: self.base.clone(),
            reason,
        })
    }

    /// Creates a new temporary file `P.<pid>.<n>.tmp` with `mode`,
    /// exclusively, and locks it at once: a later start removes it only
    /// when its process is gone and the lock is free.
    pub(crate) fn create_tmp(&self, mode: u32) -> Result<(Tmp, File), Error> {
        let n = NEXT_TMP.fetch_add(1, Ordering::Relaxed);
        let mut bytes = self.name.clone();
        bytes.extend_from_slice(format!(".{}.{n}.tmp", std::process::id()).as_bytes());
        let name = CString::new(bytes).unwrap_or_default();
        let path = self.path_of(&name);
        let open = || os::create_new_at(&self.dir.fd, &name, mode);
        let file = match open() {
            Ok(f) => f,
            // Our pid is ours alone while we live: this is a leftover of a
            // dead process that had the same pid. Anything else fails again.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let _ = os::unlink_at(&self.dir.fd, &name);
                open().map_err(|e| self.create_error(&path, e))?
            }
            Err(e) => return Err(self.create_error(&path, e)),
        };
        let tmp = Tmp {
            dir: self.dir.clone(),
            name,
            path,
            armed: true,
        };
        // The umask may have removed bits the caller asked for.
        os::set_mode(&file, mode).map_err(|e| Error::io(&tmp.path, e))?;
        if !os::try_lock(&file).map_err(|e| Error::io(&tmp.path, e))? {
            return Err(Error::Io {
                path: tmp.path.clone(),
                source: io::Error::other("a fresh temporary file is locked"),
            });
        }
        Ok((tmp, file))
    }

    /// Removes the temporary files `P.<pid>.<n>.tmp` of our user whose
    /// process is gone and whose lock is free: what a publisher killed in
    /// the middle of its start left. Best effort (a directory we cannot
    /// list is left alone).
    pub(crate) fn remove_leftovers(&self) {
        let names = match os::list_dir(&self.dir.fd, LIST_LIMIT) {
            Ok(names) => names,
            Err(e) => {
                log::debug!("cannot list {}: {e}", self.dir.path.display());
                return;
            }
        };
        let me = std::process::id();
        for name in names {
            let Some(pid) = tmp_pid(&self.name, name.as_encoded_bytes()) else {
                continue;
            };
            if pid == me || os::pid_alive(pid) {
                continue;
            }
            let Ok(c) = os::c_name(&name) else { continue };
            self.remove_leftover(&c);
        }
    }

    /// Removes the temporary file `name` if it is a regular file of ours
    /// that nobody holds locked.
    fn remove_leftover(&self, name: &CStr) {
        let Ok(file) = os::open_read_at(&self.dir.fd, name) else {
            return;
        };
        let Ok(meta) = file.metadata() else { return };
        if !meta.is_file() || meta.uid() != os::uid() || file.try_lock().is_err() {
            return;
        }
        if self.is_same(name, &Identity::of(&meta)) {
            log::info!(
                "removing {}, left by a publisher that is gone",
                self.path_of(name).display()
            );
            let _ = os::unlink_at(&self.dir.fd, name);
        }
    }

    /// Links the prepared values file `tmp` at `P.values`, exclusively
    /// (after clearing stale files); the temporary name goes away.
    pub(crate) fn link_values(&self, tmp: Tmp, attempts: usize) -> Result<(), Error> {
        for _ in 0..attempts {
            self.clear_stale()?;
            match os::link_at(&self.dir.fd, &tmp.name, &self.values_name) {
                Ok(()) => {
                    // We own the base path: the reference client's temporary
                    // name can go too.
                    let mut reference = self.name.clone();
                    reference.extend_from_slice(b".tmp");
                    if let Ok(reference) = CString::new(reference) {
                        let _ = os::unlink_at(&self.dir.fd, &reference);
                    }
                    return Ok(()); // `tmp` removes the temporary name
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(self.create_error(&self.values, e)),
            }
        }
        // Someone keeps creating and deleting the file.
        Err(Error::Locked {
            path: self.values.clone(),
            pid: None,
        })
    }

    /// Makes `P.values` absent, unless a live process owns it.
    fn clear_stale(&self) -> Result<(), Error> {
        let old = match os::open_read_at(&self.dir.fd, &self.values_name) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if os::is_symlink_error(&e) => {
                // Never ours (we make regular files): remove the link only.
                return match os::unlink_at(&self.dir.fd, &self.values_name) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(self.create_error(&self.values, e)),
                };
            }
            Err(e) => return Err(self.create_error(&self.values, e)),
        };
        let meta = old.metadata().map_err(|e| Error::io(&self.values, e))?;
        if !meta.is_file() {
            return Err(Error::NotRegularFile {
                path: self.values.clone(),
            });
        }
        let old_id = Identity::of(&meta);
        if !os::try_lock(&old).map_err(|e| Error::io(&self.values, e))? {
            return Err(Error::Locked {
                path: self.values.clone(),
                pid: os::lock_holder(&old_id),
            });
        }
        // Stale. Holding its lock, check it is still the file at the path
        // (another starter may have replaced it meanwhile), then delete the
        // meta before the values, as a reader expects.
        if !self.is_same(&self.values_name, &old_id) {
            return Ok(()); // the caller's link decides
        }
        log::info!("replacing stale Cantal files at {}", self.base.display());
        for (name, path) in [
            (&self.meta_name, &self.meta),
            (&self.values_name, &self.values),
        ] {
            match os::unlink_at(&self.dir.fd, name) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.create_error(path, e)),
            }
        }
        Ok(())
    }

    /// The meta text, in a temporary file (see [`install_meta`](Files::install_meta)).
    pub(crate) fn write_meta_tmp(
        &self,
        meta: &[u8],
        mode: u32,
    ) -> Result<(Tmp, File, Identity), Error> {
        check_size(&self.meta, meta.len())?;
        let (tmp, mut file) = self.create_tmp(mode)?;
        let written = file.write_all(meta).and_then(|()| file.metadata());
        match written {
            Ok(m) => Ok((tmp, file, Identity::of(&m))),
            Err(e) => {
                let _ = file.set_len(0);
                Err(Error::io(&tmp.path, e))
            }
        }
    }

    /// The meta file moves into place (`renameat(2)`, which replaces a
    /// symlink there without following it), after the values file (the
    /// protocol's order).
    pub(crate) fn install_meta(&self, tmp: Tmp) -> Result<(), Error> {
        os::rename_at(&self.dir.fd, &tmp.name, &self.meta_name)
            .map_err(|e| self.create_error(&self.meta, e))?;
        tmp.keep();
        Ok(())
    }

    /// Whether `name` is (still) the file `id`, not following symlinks.
    fn is_same(&self, name: &CStr, id: &Identity) -> bool {
        os::open_path_at(Some(&self.dir.fd), name)
            .and_then(|f| f.metadata())
            .is_ok_and(|m| Identity::of(&m).same_file(id))
    }

    /// Deletes `P.meta` if it is still the file `id`.
    pub(crate) fn remove_meta_if_same(&self, id: &Identity) {
        if self.is_same(&self.meta_name, id) {
            let _ = os::unlink_at(&self.dir.fd, &self.meta_name);
        }
    }

    /// Deletes `P.values` if it is still the file `id`, and with it
    /// `P.help`: the descriptions our recorder wrote for it. (A help file
    /// names the values file it describes, so one left behind would never
    /// describe another publication; removing it leaves nothing behind.)
    pub(crate) fn remove_values_if_same(&self, id: &Identity) {
        if self.is_same(&self.values_name, id) {
            let _ = os::unlink_at(&self.dir.fd, &self.help_name);
            let _ = os::unlink_at(&self.dir.fd, &self.values_name);
        }
    }
}

/// Refuses to write `size` bytes into `path` beyond `RLIMIT_FSIZE`, which
/// would raise `SIGXFSZ`.
pub(crate) fn check_size(path: &Path, size: usize) -> Result<(), Error> {
    match os::file_size_limit() {
        Some(limit) if size as u64 > limit => Err(Error::FileSizeLimit {
            path: path.to_path_buf(),
            size: size as u64,
            limit,
        }),
        _ => Ok(()),
    }
}

/// Writes `len` zero bytes at `offset` of `file` (`pwrite(2)`, whatever
/// the descriptor's position): every page is allocated now, so a full
/// file system fails here with `StorageFull` rather than with a `SIGBUS`
/// when a slot is first touched.
pub(crate) fn fill_zeros(file: &File, mut offset: usize, len: usize) -> io::Result<()> {
    static CHUNK: [u8; 64 * 1024] = [0; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(CHUNK.len());
        file.write_all_at(&CHUNK[..n], offset as u64)?;
        offset += n;
        left -= n;
    }
    Ok(())
}

/// The pid of a temporary name `<base>.<pid>.<n>.tmp`.
fn tmp_pid(base: &[u8], name: &[u8]) -> Option<u32> {
    let rest = name.strip_prefix(base)?.strip_prefix(b".")?;
    let rest = rest.strip_suffix(b".tmp")?;
    let dot = rest.iter().position(|&b| b == b'.')?;
    let (pid, n) = (&rest[..dot], &rest[dot + 1..]);
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if !digits(pid) || !digits(n) {
        return None;
    }
    std::str::from_utf8(pid).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised() {
        assert_eq!(tmp_pid(b"app", b"app.123.0.tmp"), Some(123));
        assert_eq!(tmp_pid(b"app", b"app.7.99.tmp"), Some(7));
        for other in [
            &b"app.tmp"[..],
            b"app.values",
            b"app.meta",
            b"app.x.1.tmp",
            b"app.1..tmp",
            b"app.1.2.3.tmp",
            b"apps.1.2.tmp",
            b"other.1.2.tmp",
            b"app.1.2.tmp2",
        ] {
            assert_eq!(tmp_pid(b"app", other), None, "{other:?}");
        }
    }
}
