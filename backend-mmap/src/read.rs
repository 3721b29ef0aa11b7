//! Reading a publication from outside: the meta text and the values bytes
//! of any Cantal publisher (ours or a reference client's), copied with
//! `read(2)`.
//!
//! Another process's file is never mapped: a publisher that truncates or
//! replaces its file would make a mapped reader crash with `SIGBUS`. The
//! bytes are returned as they are, except that every `state` slot is
//! re-read until its timestamp is the same before and after its text (see
//! [`read`]); decode them with `cantal_core::decode`, or have [`load`]
//! parse the meta into a [`ParsedMeta`] and read every slot's value
//! against it.
//!
//! A privileged reader (an exporter running as root that reads paths
//! chosen by other users' processes) should use [`read_with`] and
//! [`Options::owner`], with the uid from [`owner_of_pid`].
//!
//! # Examples
//!
//! ```no_run
//! # use cantal_mmap as cantal;
//! let snapshot = cantal::read::read("/run/user/1000/myapp")?;
//! println!(
//!     "{} bytes of meta, {} of values, publisher {}",
//!     snapshot.meta.len(),
//!     snapshot.values.len(),
//!     if snapshot.alive { "alive" } else { "gone" },
//! );
//! # Ok::<(), cantal_mmap::Error>(())
//! ```

use crate::error::Error;
use crate::os::{self, FileExt, Identity, MetadataExt};
pub use crate::parsed_meta::{OwnedValue, ParsedMeta, Slot, SlotType};
use crate::path::with_suffix;
pub use crate::slot_name::{SlotName, SlotPairs};
use crate::stable_states::{meta_states, stabilise_states};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The largest meta file read: 64 MiB (a million metrics).
pub const META_LIMIT: u64 = 64 << 20;
/// The largest values file read: 256 MiB.
pub const VALUES_LIMIT: u64 = 256 << 20;
/// How many times a publication that changes under the reader is re-read.
pub const ATTEMPTS: usize = 5;
pub use crate::stable_states::STATE_ATTEMPTS;

/// What [`read_with`] accepts.
///
/// `Options::default()` is what [`read`] uses: any owner, the sizes
/// [`META_LIMIT`] and [`VALUES_LIMIT`].
///
/// # Examples
///
/// ```no_run
/// # use cantal_mmap as cantal;
/// use cantal::read::{Options, owner_of_pid, read_with};
///
/// // An exporter running as root reads the files of process 1234 only
/// // when they belong to the user running that process.
/// let options = Options::new().owner(Some(owner_of_pid(1234)?));
/// let snapshot = read_with("/run/user/1000/myapp", &options)?;
/// # drop(snapshot);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// When set, both files must be owned by this uid, else
    /// [`Error::ForeignOwner`]. Checked on the opened file (`fstat`), so a
    /// file swapped after the check is never read.
    pub owner: Option<u32>,
    /// The largest meta file read, else [`Error::TooLarge`].
    pub max_meta: u64,
    /// The largest values file read, else [`Error::TooLarge`].
    pub max_values: u64,
    /// When set, paths are resolved inside this directory, as the root of
    /// a process in another mount namespace (`/proc/PID/root`, the
    /// process's `CANTAL_PATH` being a path in its own file system): every
    /// component, an absolute symlink or `..` included, stays inside it
    /// (`openat2(2)` with `RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS`), so a
    /// container cannot make the reader open a file of the host.
    pub root: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            owner: None,
            max_meta: META_LIMIT,
            max_values: VALUES_LIMIT,
            root: None,
        }
    }
}

impl Options {
    /// The defaults: any owner, [`META_LIMIT`], [`VALUES_LIMIT`].
    pub fn new() -> Options {
        Options::default()
    }

    /// Requires both files to be owned by `uid` (or by anyone: `None`).
    pub fn owner(mut self, uid: Option<u32>) -> Options {
        self.owner = uid;
        self
    }

    /// The largest meta file read.
    pub fn max_meta(mut self, bytes: u64) -> Options {
        self.max_meta = bytes;
        self
    }

    /// The largest values file read.
    pub fn max_values(mut self, bytes: u64) -> Options {
        self.max_values = bytes;
        self
    }

    /// Resolves paths inside `root` (see [`Options::root`]), or as they
    /// are (`None`).
    pub fn root(mut self, root: Option<PathBuf>) -> Options {
        self.root = root;
        self
    }
}

/// The files of one publication, read at (nearly) one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// `P.meta`, as read.
    pub meta: Vec<u8>,
    /// `P.values`, as read, with every `state` slot re-read until whole
    /// (see [`read`]).
    pub values: Vec<u8>,
    /// Whether a process holds the values file's lock (publishes it now).
    /// `false` means the files are stale, left by a process that is gone,
    /// or written by a client that does not lock (the reference Python
    /// client).
    pub alive: bool,
    /// The meta file's path, for error messages.
    pub meta_path: PathBuf,
    /// The values file's path, for error messages.
    pub values_path: PathBuf,
}

/// A publication read once: its meta file parsed, every slot's value, and
/// whether its publisher is alive; from [`load`] or [`load_with`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Loaded {
    /// The meta file, parsed: the slots, in meta order (pads left out).
    pub meta: ParsedMeta,
    /// One value per slot of [`meta`](Self::meta), in the same order.
    pub values: Vec<OwnedValue>,
    /// Whether a process holds the values file's lock (see
    /// [`Snapshot::alive`]).
    pub alive: bool,
}

impl Loaded {
    /// Each slot with its value, in meta order.
    pub fn iter(&self) -> impl Iterator<Item = (&Slot, &OwnedValue)> + '_ {
        self.meta.slots().iter().zip(&self.values)
    }

    /// The value of the slot whose canonical name is `name` (as in
    /// [`Slot::name`]), if there is one.
    pub fn value(&self, name: &str) -> Option<&OwnedValue> {
        self.iter()
            .find(|(slot, _)| slot.name() == name)
            .map(|(_, v)| v)
    }
}

/// Reads and decodes the publication at `base`: [`open_with`], then
/// [`ParsedMeta::parse`] of the meta file and [`Opened::read_values`], the
/// meta parsed once. Like [`read`] it tries again when the publication is
/// replaced meanwhile. The shards of a `ShardedCounter` come back as one
/// counter holding their sum, the parts of a histogram as one histogram
/// (see [`ParsedMeta`]).
///
/// # Examples
///
/// ```no_run
/// # use cantal_mmap as cantal;
/// let loaded = cantal::read::load("/run/user/1000/myapp")?;
/// for (slot, value) in loaded.meta.slots().iter().zip(&loaded.values) {
///     println!("{} {:?}", slot.name(), value);
/// }
/// # Ok::<(), cantal_mmap::Error>(())
/// ```
///
/// # Errors
///
/// Those of [`read`]; [`Error::Decode`] for a malformed meta file (naming
/// the meta file and line), [`Error::ValuesTooShort`] for a values file
/// shorter than the meta says. A well-formed line the reader cannot
/// interpret (two lines with the same name among them) is no error: its
/// slot's [`skipped`](Slot::skipped) says why.
pub fn load(base: impl AsRef<Path>) -> Result<Loaded, Error> {
    load_with(base, &Options::default())
}

/// [`load`] with the checks of `options` (see [`read_with`]).
///
/// # Errors
///
/// Those of [`load`] and [`read_with`].
pub fn load_with(base: impl AsRef<Path>, options: &Options) -> Result<Loaded, Error> {
    with_attempts(base.as_ref(), options, |opened| {
        let meta = ParsedMeta::parse(&opened.read_meta()?, &opened.meta_path)?;
        let (values, alive) = opened.values_of(&meta)?;
        Ok(Loaded {
            meta,
            values,
            alive,
        })
    })
}

/// Reads the publication at base path `base` (`base.meta` and
/// `base.values`).
///
/// The meta file is read, then the values file, then the meta file's
/// identity (device, inode, size, modification time) is checked again;
/// when it changed (the publisher restarted meanwhile), everything is read
/// again, up to [`ATTEMPTS`] times.
///
/// # State slots are never torn
///
/// The publisher writes a `state` slot like a seqlock: timestamp 0, the
/// text, then a new timestamp (always different from the previous one),
/// with release ordering. A bulk copy taken while it writes could hold
/// half of each of two texts. So after the copy, every `state` slot the
/// meta describes is read again with `pread(2)`: timestamp, text,
/// timestamp. When the two timestamps agree, that text was whole, and it
/// is patched into [`Snapshot::values`]; else it is read again, up to
/// [`STATE_ATTEMPTS`] times. A slot that never settles reads as "no
/// state". A slot with no state (timestamp 0) has its text bytes
/// zeroed in the snapshot: they may be half rewritten, and carry no value.
///
/// `counter` and `level` slots are single 8-byte words, copied by the
/// bulk read only; see the comment of `stabilise_states`
/// (`stable_states.rs`) on why an aligned word is not torn.
///
/// Testing liveness takes the values file's lock for an instant when it is
/// free, and releases it at once.
///
/// # Errors
///
/// A missing publication ([`Error::Io`] with `NotFound` for the meta file),
/// one file of the pair without the other ([`Error::HalfPresent`]), a symlink or other
/// non-regular file ([`Error::NotRegularFile`]), a file larger than
/// [`META_LIMIT`] or [`VALUES_LIMIT`], a publication that keeps changing
/// ([`Error::Unstable`]), a values file that shrinks while its states are
/// re-read ([`Error::Io`] with `UnexpectedEof`); off Linux, always
/// [`Error::Unsupported`].
pub fn read(base: impl AsRef<Path>) -> Result<Snapshot, Error> {
    read_with(base, &Options::default())
}

/// [`read`], with the checks of `options`: for a reader that does not
/// trust the publisher, see [`Options::owner`].
///
/// # Errors
///
/// Those of [`read`]; [`Error::ForeignOwner`] when [`Options::owner`] is
/// set and a file belongs to someone else; [`Error::TooLarge`] for the
/// limits of `options`.
pub fn read_with(base: impl AsRef<Path>, options: &Options) -> Result<Snapshot, Error> {
    with_attempts(base.as_ref(), options, |opened| {
        let meta = opened.read_meta()?;
        let (values, alive) = opened.values(&meta_states(&meta), None)?;
        Ok(Snapshot {
            meta,
            values,
            alive,
            meta_path: opened.meta_path.clone(),
            values_path: opened.values_path.clone(),
        })
    })
}

/// Opens the publication at `base` and reads it with `once`, up to
/// [`ATTEMPTS`] times while it is replaced meanwhile.
fn with_attempts<T>(
    base: &Path,
    options: &Options,
    mut once: impl FnMut(&Opened) -> Result<T, Changed>,
) -> Result<T, Error> {
    let meta_path = with_suffix(base, ".meta");
    let values_path = with_suffix(base, ".values");
    // Set when the last attempt found the meta file but no values file.
    let mut values_missing = false;
    for _ in 0..ATTEMPTS {
        // Kept open until the values are read, so that its inode number
        // cannot be given to a new meta file meanwhile.
        let opened = match open_with(base, options) {
            Ok(opened) => opened,
            Err(e) if is_not_found(&e) && lstat(options.root.as_deref(), &values_path).is_ok() => {
                return Err(Error::HalfPresent {
                    path: meta_path,
                    present: values_path,
                });
            }
            Err(e) => return Err(e),
        };
        match once(&opened) {
            Ok(read) => return Ok(read),
            // Replaced between the two reads (try again), or missing.
            Err(Changed::Missing) => {
                values_missing = true;
                std::thread::yield_now();
            }
            // Replaced meanwhile: try again.
            Err(Changed::Yes) => values_missing = false,
            Err(Changed::No(e)) => return Err(e),
        }
    }
    if values_missing {
        return Err(Error::HalfPresent {
            path: values_path,
            present: meta_path,
        });
    }
    Err(Error::Unstable {
        path: meta_path,
        attempts: ATTEMPTS,
    })
}

/// What identifies one version of a file, taken with `fstat` on the
/// descriptor that was opened: device, inode, size and modification time.
///
/// Meta files are immutable (a publisher renames a new one into place), so
/// a reader that keeps a [`ParsedMeta`] between reads keys it by the meta
/// file's `FileId` ([`Opened::meta_id`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId(Identity);

impl FileId {
    /// Device and inode: the same file, whatever its content.
    pub fn file(&self) -> (u64, u64) {
        (self.0.dev, self.0.ino)
    }
}

/// A publication whose meta file is open and checked (a regular file, of
/// the required owner, within the size limit, all with `fstat` on the
/// opened descriptor), not yet read: for a reader that keeps parsed
/// layouts between reads, such as an exporter.
///
/// # Examples
///
/// ```no_run
/// # use cantal_mmap as cantal;
/// use cantal::read::{ParsedMeta, Options, open_with};
///
/// let opened = open_with("/run/user/1000/myapp", &Options::new())?;
/// // A reader keeps `layout` by `opened.meta_id()` and parses again only
/// // when the id changes.
/// let layout = ParsedMeta::parse(&opened.read_meta()?, opened.meta_path())?;
/// let (values, alive) = opened.read_values(&layout)?;
/// # drop((values, alive));
/// # Ok::<(), cantal_mmap::Error>(())
/// ```
#[derive(Debug)]
pub struct Opened {
    meta: File,
    meta_id: FileId,
    meta_path: PathBuf,
    values_path: PathBuf,
    options: Options,
}

/// Opens the meta file of the publication at `base` with the checks of
/// `options` (see [`Opened`]); nothing is read yet.
///
/// # Errors
///
/// A missing file ([`Error::Io`] with `NotFound`), a symlink or other
/// non-regular file ([`Error::NotRegularFile`]), a file of another owner
/// ([`Error::ForeignOwner`]), a file larger than [`Options::max_meta`]
/// ([`Error::TooLarge`]).
pub fn open_with(base: impl AsRef<Path>, options: &Options) -> Result<Opened, Error> {
    let base = base.as_ref();
    os::supported(base, "read")?;
    let meta_path = with_suffix(base, ".meta");
    let (meta, identity) = open_in(
        options.root.as_deref(),
        &meta_path,
        options.owner,
        options.max_meta,
    )?;
    Ok(Opened {
        meta,
        meta_id: FileId(identity),
        meta_path,
        values_path: with_suffix(base, ".values"),
        options: options.clone(),
    })
}

/// Why [`Opened::values`] read nothing.
enum Changed {
    /// The meta file was replaced meanwhile: read again.
    Yes,
    /// The values file is missing (replaced between the two opens, or
    /// only the meta file is there).
    Missing,
    /// Another error.
    No(Error),
}

impl From<Error> for Changed {
    fn from(e: Error) -> Changed {
        Changed::No(e)
    }
}

impl Opened {
    /// The identity of the meta file opened.
    pub fn meta_id(&self) -> FileId {
        self.meta_id
    }

    /// `P.meta`.
    pub fn meta_path(&self) -> &Path {
        &self.meta_path
    }

    /// `P.values`.
    pub fn values_path(&self) -> &Path {
        &self.values_path
    }

    /// The meta file's text, read from the opened descriptor (at most
    /// [`Options::max_meta`] bytes).
    ///
    /// # Errors
    ///
    /// [`Error::Io`], or [`Error::TooLarge`] for a file that grew past the
    /// limit.
    pub fn read_meta(&self) -> Result<Vec<u8>, Error> {
        read_file(&self.meta, &self.meta_path, self.options.max_meta, None)
    }

    /// Reads the values file against `layout` (the meta file's, parsed):
    /// one value per slot, and whether a process holds the lock. The
    /// values file is opened and checked as the meta file was; only the
    /// bytes `layout` describes are read; every `state` slot is re-read
    /// until whole (see [`read`]). Then the meta file's path must still
    /// name the file opened.
    ///
    /// # Errors
    ///
    /// Those of [`open_with`] for the values file; [`Error::HalfPresent`]
    /// when it is missing; [`Error::Unstable`] when the meta file was
    /// replaced meanwhile (open it again); [`Error::ValuesTooShort`].
    pub fn read_values(&self, layout: &ParsedMeta) -> Result<(Vec<OwnedValue>, bool), Error> {
        self.values_of(layout).map_err(|changed| match changed {
            Changed::Yes => Error::Unstable {
                path: self.meta_path.clone(),
                attempts: 1,
            },
            Changed::Missing => Error::HalfPresent {
                path: self.values_path.clone(),
                present: self.meta_path.clone(),
            },
            Changed::No(e) => e,
        })
    }

    /// [`read_values`](Self::read_values), telling a replaced or missing
    /// file apart from other errors.
    fn values_of(&self, layout: &ParsedMeta) -> Result<(Vec<OwnedValue>, bool), Changed> {
        let states: Vec<(u64, usize)> = layout.state_ranges().collect();
        let (values, alive) = self.values(&states, Some(layout.size()))?;
        Ok((layout.read(&values, &self.values_path)?, alive))
    }

    /// Reads the values file (at most `want` bytes of it), re-reading the
    /// `state` slots at `states` (offset, length) until whole; then checks
    /// that the meta file's path still names the file opened.
    fn values(
        &self,
        states: &[(u64, usize)],
        want: Option<u64>,
    ) -> Result<(Vec<u8>, bool), Changed> {
        let path = &self.values_path;
        let root = self.options.root.as_deref();
        let (file, _) = match open_in(root, path, self.options.owner, self.options.max_values) {
            Ok(opened) => opened,
            Err(e) if is_not_found(&e) => return Err(Changed::Missing),
            Err(e) => return Err(e.into()),
        };
        let mut values = read_file(&file, path, self.options.max_values, want)?;
        stabilise_states(&file, states, &mut values).map_err(|e| Error::io(path, e))?;
        let alive = is_locked(&file).map_err(|e| Error::io(path, e))?;
        let after = lstat(root, &self.meta_path).map(|m| Identity::of(&m));
        if after.is_ok_and(|after| after == self.meta_id.0) {
            Ok((values, alive))
        } else {
            Err(Changed::Yes)
        }
    }
}

/// `lstat(2)` of `path`, resolved inside `root` when given (an `O_PATH`
/// descriptor's `fstat`).
pub(crate) fn lstat(root: Option<&Path>, path: &Path) -> io::Result<fs::Metadata> {
    match root {
        None => fs::symlink_metadata(path),
        Some(_) => os::open_nofollow_in(root, path, true)?.metadata(),
    }
}

/// Whether `e` says a file does not exist.
fn is_not_found(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
}

/// Whether a process other than us holds the lock of the values file at
/// `base.values`: `Ok(false)` for stale files.
///
/// # Errors
///
/// As for [`read`], for the values file only.
pub fn is_alive(base: impl AsRef<Path>) -> Result<bool, Error> {
    let path = with_suffix(base.as_ref(), ".values");
    os::supported(&path, "read")?;
    let (file, _) = open(&path, None, u64::MAX)?;
    is_locked(&file).map_err(|e| Error::io(&path, e))
}

/// The real user id of process `pid`, from the `Uid:` line of
/// `/proc/<pid>/status`: the user whose files [`Options::owner`] should
/// accept when reading what that process publishes.
///
/// A pid can be reused once its process exits; the files of a process that
/// is gone are then checked against the new process's user, which at worst
/// refuses them.
///
/// # Errors
///
/// The process does not exist (`NotFound`), or its status has no readable
/// `Uid:` line (`InvalidData`).
pub fn owner_of_pid(pid: u32) -> io::Result<u32> {
    let status = format!("/proc/{pid}/status");
    os::supported(Path::new(&status), "read")
        .map_err(|e| io::Error::new(io::ErrorKind::Unsupported, e))?;
    os::real_uid_of(&fs::read_to_string(status)?)
}

/// Opens a regular file without following symlinks and without blocking
/// on a FIFO; checks with `fstat` on the opened descriptor that it is a
/// regular file, of `owner` when set, of at most `limit` bytes. Returns it
/// with its identity.
pub(crate) fn open(path: &Path, owner: Option<u32>, limit: u64) -> Result<(File, Identity), Error> {
    open_in(None, path, owner, limit)
}

/// [`open`], with `path` resolved inside `root` when given (see
/// [`Options::root`]).
pub(crate) fn open_in(
    root: Option<&Path>,
    path: &Path,
    owner: Option<u32>,
    limit: u64,
) -> Result<(File, Identity), Error> {
    let file = os::open_nofollow_in(root, path, false).map_err(|e| {
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
    // `meta` comes from `fstat` on the open file, not from the path: the
    // file checked is the file read.
    if let Some(expected) = owner
        && meta.uid() != expected
    {
        return Err(Error::ForeignOwner {
            path: path.to_path_buf(),
            owner: meta.uid(),
            expected,
        });
    }
    if meta.len() > limit {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit,
        });
    }
    Ok((file, Identity::of(&meta)))
}

/// Reads a regular file opened by [`open`] from its start: at most `want`
/// bytes when given, and never more than `limit`.
pub(crate) fn read_file(
    file: &File,
    path: &Path,
    limit: u64,
    want: Option<u64>,
) -> Result<Vec<u8>, Error> {
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    let take = want.map_or(limit, |w| w.min(limit));
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len().min(take)).unwrap_or(0));
    // One byte more than the limit tells a file that grew past it.
    let extra = u64::from(want.is_none_or(|w| w > limit));
    At { file, pos: 0 }
        .take(take + extra)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// A file read from an offset with `pread(2)`, whatever its descriptor's
/// position.
struct At<'f> {
    file: &'f File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stable_states::tests::{META, file_with, state_slot};

    /// The cached path (`Opened::read_values` against a kept layout)
    /// re-reads states as `read` does: a slot with no state has no text,
    /// whatever bytes a half-finished write left in it.
    #[test]
    fn read_values_re_reads_the_states_of_the_layout() {
        let mut file_bytes = 9u64.to_ne_bytes().to_vec();
        file_bytes.extend(state_slot(77, b"serving\0"));
        file_bytes.extend(state_slot(0, b"left over"));
        let (_, dir) = file_with("opened", &file_bytes);
        let base = dir.join("p");
        fs::write(dir.join("p.values"), &file_bytes).unwrap();
        fs::write(dir.join("p.meta"), META).unwrap();
        let opened = open_with(&base, &Options::new()).unwrap();
        let layout = ParsedMeta::parse(&opened.read_meta().unwrap(), opened.meta_path()).unwrap();
        let (values, alive) = opened.read_values(&layout).unwrap();
        assert!(!alive);
        let text = |timestamp, text: &str| OwnedValue::State {
            timestamp,
            text: text.into(),
        };
        assert_eq!(
            values,
            [OwnedValue::Counter(9), text(77, "serving"), text(0, "")]
        );
        // The meta file replaced after it was opened: `Unstable`.
        fs::remove_file(dir.join("p.meta")).unwrap();
        fs::write(dir.join("p.meta"), META).unwrap();
        let err = opened.read_values(&layout).unwrap_err();
        assert!(matches!(err, Error::Unstable { .. }), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn metrics_sum_the_shards_of_a_sharded_counter() {
        let meta = "counter 8: {\"cantal_shard\": \"0\", \"metric\": \"r\"}\npad 56\n\
            counter 8: {\"metric\": \"plain\"}\n\
            counter 8: {\"cantal_shard\": \"1\", \"metric\": \"r\"}\npad 56\n\
            level 8 signed: {\"cantal_shard\": \"0\", \"metric\": \"level\"}";
        let mut values = vec![0u8; 64 + 8 + 64 + 8];
        values[..8].copy_from_slice(&u64::MAX.to_ne_bytes());
        values[64..72].copy_from_slice(&5u64.to_ne_bytes());
        values[72..80].copy_from_slice(&3u64.to_ne_bytes());
        values[136..144].copy_from_slice(&(-2i64).to_ne_bytes());
        let layout = ParsedMeta::parse(meta.as_bytes(), "x.meta").unwrap();
        let read = layout.read(&values, "x.values".as_ref()).unwrap();
        let seen: Vec<(&str, &OwnedValue, usize)> = layout
            .slots()
            .iter()
            .zip(&read)
            .map(|(slot, value)| (slot.name().as_str(), value, slot.line))
            .collect();
        assert_eq!(
            seen,
            [
                // u64::MAX + 3, wrapping, where the first shard is.
                (r#"{"metric": "r"}"#, &OwnedValue::Counter(2), 1),
                (r#"{"metric": "plain"}"#, &OwnedValue::Counter(5), 3),
                // Not a counter: not a shard.
                (
                    r#"{"cantal_shard": "0", "metric": "level"}"#,
                    &OwnedValue::Signed(-2),
                    6
                ),
            ]
        );
        let pairs: Vec<_> = layout.slots()[0].name().pairs().collect();
        assert_eq!(pairs, [("metric", "r")]);
    }
}
