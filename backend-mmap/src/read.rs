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
use cantal_core::decode::{self, Value};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

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
    /// The meta file's path, for error messages.
    pub meta_path: PathBuf,
}

impl Snapshot {
    /// The metrics of the snapshot, decoded and owned, in meta order (pads
    /// left out).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] for a malformed meta file or a values file shorter
    /// than the meta says (naming the meta file and line),
    /// [`Error::Duplicate`] when two lines have the same name.
    pub fn metrics(&self) -> Result<Vec<Metric>, Error> {
        let decode_error = |source| Error::Decode {
            path: self.meta_path.clone(),
            source,
        };
        let mut entries = Vec::new();
        let mut metrics = Vec::new();
        for item in decode::decode(&self.meta, &self.values) {
            let (entry, value) = item.map_err(decode_error)?;
            let Some(name) = entry.name() else { continue };
            let mut canonical = String::new();
            // Writing to a String cannot fail.
            let _ = name.write_canonical(&mut canonical);
            let value = match value {
                Value::Counter(v) => OwnedValue::Counter(v),
                Value::Signed(v) => OwnedValue::Signed(v),
                Value::Float(v) => OwnedValue::Float(v),
                Value::Unsigned(v) => OwnedValue::Unsigned(v),
                Value::State { timestamp, text } => OwnedValue::State {
                    timestamp,
                    text: String::from_utf8_lossy(text).into_owned(),
                },
                _ => OwnedValue::Unknown,
            };
            metrics.push(Metric {
                pairs: name
                    .pairs()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                name: canonical,
                kind: entry.kind().to_string(),
                value,
                line: entry.line(),
            });
            entries.push(entry);
        }
        decode::find_duplicate(&mut entries).map_err(|source| Error::Duplicate {
            path: self.meta_path.clone(),
            source,
        })?;
        Ok(metrics)
    }
}

/// One metric of a [`Snapshot`], decoded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Metric {
    /// The name's key/value pairs, unescaped, in the file's order.
    pub pairs: Vec<(String, String)>,
    /// The name in the reference client's canonical JSON spelling.
    pub name: String,
    /// The type as the meta file says it: `counter`, `level signed`,
    /// `level float`, `level unsigned`, `state`, or an unknown type's word.
    pub kind: String,
    /// The value.
    pub value: OwnedValue,
    /// The meta line (1-based).
    pub line: usize,
}

/// The value of a decoded [`Metric`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OwnedValue {
    /// `counter 8`.
    Counter(u64),
    /// `level 8 signed`.
    Signed(i64),
    /// `level 8 float`.
    Float(f64),
    /// `level 8 unsigned`.
    Unsigned(u64),
    /// `state N`: `timestamp` 0 means no state. The text is decoded
    /// lossily (the reference client may cut a character in two).
    State {
        /// Milliseconds since the Unix epoch.
        timestamp: u64,
        /// The text up to the first NUL.
        text: String,
    },
    /// A slot of a type this reader does not know.
    Unknown,
}

/// Reads and decodes the publication at `base`: its metrics, and whether
/// its publisher is alive.
///
/// # Errors
///
/// Those of [`read`] and [`Snapshot::metrics`].
pub fn read_metrics(base: impl AsRef<Path>) -> Result<(Vec<Metric>, bool), Error> {
    let snapshot = read(base)?;
    Ok((snapshot.metrics()?, snapshot.alive))
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
                meta_path,
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
