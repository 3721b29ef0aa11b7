//! [`Publisher`] (where and how to publish) and [`Publication`] (the files
//! of a started collection).
//!
//! The steps are described in the [crate docs](crate#how-the-files-are-made).

use crate::error::Error;
use crate::extend::{Extender, Shared, State};
use crate::os::{self, Identity};
use crate::path::{self, with_suffix};
use crate::region::MappedRegion;
use cantal_core::{ActiveCollection, Collection, Growable, Layout, Meta, MetricRef, Storage};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The default permissions of the files: read and write for our user only.
pub const DEFAULT_MODE: u32 = 0o600;

/// How many times step 2-3 is retried when another process races us.
const ACQUIRE_ATTEMPTS: usize = 8;

/// The longest file name component Linux accepts (`NAME_MAX`).
const NAME_MAX: usize = 255;

/// Distinguishes the temporary files of one process.
static NEXT_TMP: AtomicU64 = AtomicU64::new(0);

/// Where and how to publish a collection.
///
/// # Examples
///
/// ```no_run
/// use cantal_core::{Collection, Counter};
/// use cantal_mmap::Publisher;
///
/// static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
///
/// let mut metrics = Collection::growable();
/// metrics.register(&TICKS)?;
/// let publication = Publisher::new()
///     .path("/run/user/1000/myapp")
///     .mode(0o640)
///     .publish(metrics)?;
/// TICKS.incr(1);
/// println!("publishing to {}", publication.path().display());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Publisher {
    path: Option<PathBuf>,
    mode: Option<u32>,
    resume: bool,
}

impl Publisher {
    /// Publishes to the base path from the environment (see
    /// [`resolve_path`](crate::resolve_path)), files readable by our user
    /// only.
    pub fn new() -> Publisher {
        Publisher::default()
    }

    /// Publishes to `base` instead of the environment's base path: the files
    /// are `base.meta` and `base.values`.
    pub fn path(mut self, base: impl Into<PathBuf>) -> Publisher {
        self.path = Some(base.into());
        self
    }

    /// Sets the permission bits of the files (default 0600, ignoring the
    /// umask). Write permission is never given to the group or others
    /// (those bits are dropped): another user who truncated the values file
    /// would crash this process.
    pub fn mode(mut self, mode: u32) -> Publisher {
        self.mode = Some(mode);
        self
    }

    /// Starts from the values a previous publication left at the base path
    /// when its publisher is gone (the lock is free) and its meta text is
    /// identical to ours: counters add the old values, gauges and states
    /// take them (see [`Collection::restore`]). What the original Rust
    /// client calls start-with-reading: a process that re-executes itself,
    /// or restarts faster than the agent's two-second scan, does not reset
    /// its counters. Off by default; anything that does not match is
    /// logged and ignored.
    pub fn resume(mut self, resume: bool) -> Publisher {
        self.resume = resume;
        self
    }

    /// The base path this publisher will use.
    pub fn base_path(&self) -> PathBuf {
        match &self.path {
            Some(p) => p.clone(),
            None => path::resolve().0,
        }
    }

    /// Publishes `collection` into `P.values` and `P.meta`; see the
    /// [module docs](crate#how-the-files-are-made) for the steps.
    ///
    /// # Errors
    ///
    /// A bad base path or directory, another process publishing on the same
    /// path ([`Error::Locked`]), a full file system, and the collection's
    /// own [`StartError`](cantal_core::StartError)s (duplicate names). When
    /// the error comes before the metrics are moved (every case but a metric
    /// already published by another collection, or a failure to write the
    /// meta file), the metrics are untouched and may be published again.
    pub fn publish<'a, S: Storage<'a>>(
        &self,
        mut collection: Collection<'a, S>,
    ) -> Result<Publication<'a, S>, Error> {
        let (base, from_env) = match &self.path {
            Some(p) => (p.clone(), true),
            None => path::resolve(),
        };
        if !from_env {
            log::warn!(
                "CANTAL_PATH is not set: publishing metrics to {}; the Cantal agent cannot \
                 discover it",
                base.display()
            );
        }
        let mode = self.mode.unwrap_or(DEFAULT_MODE) & 0o644;
        let dir = check_base(&base)?;
        os::check_directory(&dir)?;
        if os::on_memory_fs(&dir) == Some(false) {
            log::warn!(
                "{} is not on a memory file system (tmpfs): publishing metrics there writes to \
                 disk",
                dir.display()
            );
        }
        let layout = collection.layout().map_err(|source| Error::Start {
            path: base.clone(),
            source,
        })?;
        if self.resume {
            resume_from(&base, &mut collection);
        }
        let files = Files::new(&base, &dir);

        // The meta text goes to its temporary file first: a file system too
        // full for it fails here, before any metric depends on a mapping.
        let meta_text = collection.meta().map_err(|source| Error::Start {
            path: base.clone(),
            source,
        })?;
        let (meta_tmp, meta, meta_id) = files.write_meta_tmp(&meta_text, mode)?;
        let (values, values_id, region) = match files.create_values(layout.size(), mode) {
            Ok(created) => created,
            Err(e) => {
                let _ = fs::remove_file(&meta_tmp);
                return Err(e);
            }
        };
        let active = match collection.start(region) {
            Ok(active) => active,
            Err(source) => {
                let _ = fs::remove_file(&meta_tmp);
                files.remove_if_same(&files.values, &values_id);
                return Err(Error::Start { path: base, source });
            }
        };
        if let Err(e) = files.install_meta(&meta_tmp) {
            let _ = fs::remove_file(&meta_tmp);
            files.remove_if_same(&files.values, &values_id);
            return Err(e);
        }
        let shared = Shared::new(State {
            files: files.clone(),
            mode,
            values: Some(values),
            values_id,
            meta: Some(meta),
            meta_id,
            len: layout.size(),
            meta_text: None,
            names: Default::default(),
            dirty: false,
            batches: Vec::new(),
            closed: false,
            workers: Vec::new(),
        });
        Ok(Publication {
            active,
            files,
            shared,
        })
    }
}

/// Restores into `collection` the values of the stale publication at
/// `base`, when its meta text is ours. Best effort: a live, missing or
/// different publication is left alone (a live one makes `publish` fail
/// with [`Error::Locked`] next).
fn resume_from<'a, S: Storage<'a>>(base: &Path, collection: &mut Collection<'a, S>) {
    let snapshot = match crate::read::read(base) {
        Ok(snapshot) if !snapshot.alive => snapshot,
        Ok(_) => return,
        Err(e) => {
            log::debug!("nothing to resume at {}: {e}", base.display());
            return;
        }
    };
    let same = match collection.meta() {
        Ok(meta) => snapshot.meta == meta.to_string().as_bytes(),
        Err(_) => return, // `publish` reports the layout error
    };
    if !same {
        log::info!(
            "not resuming from {}: its metrics differ from ours",
            base.display()
        );
        return;
    }
    match collection.restore(&snapshot.values) {
        Ok(()) => log::info!("resumed metrics from {}", base.display()),
        Err(e) => log::warn!("not resuming from {}: {e}", base.display()),
    }
}

/// Checks the base path and returns its directory.
fn check_base(base: &Path) -> Result<PathBuf, Error> {
    let bad = |reason| Error::BadBasePath {
        path: base.to_path_buf(),
        reason,
    };
    let bytes = base.as_os_str().as_bytes();
    if bytes.is_empty() {
        return Err(bad("is empty"));
    }
    if bytes.ends_with(b"/") {
        return Err(bad("ends with a slash"));
    }
    let name = match base.file_name() {
        Some(name) => name,
        None => return Err(bad("has no file name")),
    };
    // The longest name we make: "<name>.<pid>.<n>.tmp".
    if name.len() + ".4294967295.18446744073709551615.tmp".len() > NAME_MAX {
        return Err(Error::PathTooLong {
            path: base.to_path_buf(),
        });
    }
    match fs::symlink_metadata(base) {
        Ok(m) if m.is_dir() => return Err(bad("is a directory")),
        Ok(m) if m.file_type().is_symlink() => return Err(bad("is a symlink")),
        _ => {}
    }
    let dir = match base.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(dir)
}

/// The file names of one publication.
#[derive(Debug, Clone)]
pub(crate) struct Files {
    pub(crate) base: PathBuf,
    dir: PathBuf,
    pub(crate) values: PathBuf,
    pub(crate) meta: PathBuf,
}

impl Files {
    fn new(base: &Path, dir: &Path) -> Files {
        Files {
            base: base.to_path_buf(),
            dir: dir.to_path_buf(),
            values: with_suffix(base, ".values"),
            meta: with_suffix(base, ".meta"),
        }
    }

    /// A temporary name no other live process uses.
    fn tmp_name(&self) -> PathBuf {
        let n = NEXT_TMP.fetch_add(1, Ordering::Relaxed);
        with_suffix(&self.base, &format!(".{}.{n}.tmp", std::process::id()))
    }

    /// Classifies an error creating or writing a file in our directory.
    fn create_error(&self, path: &Path, source: io::Error) -> Error {
        match source.kind() {
            io::ErrorKind::NotFound
            | io::ErrorKind::PermissionDenied
            | io::ErrorKind::ReadOnlyFilesystem
            | io::ErrorKind::NotADirectory => Error::Directory {
                path: self.dir.clone(),
                source,
            },
            io::ErrorKind::InvalidFilename => Error::PathTooLong {
                path: self.base.clone(),
            },
            _ => Error::io(path, source),
        }
    }

    /// Creates a new temporary file with `mode`, exclusively.
    fn create_tmp(&self, mode: u32) -> Result<(PathBuf, File), Error> {
        let tmp = self.tmp_name();
        let open = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(mode)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&tmp)
        };
        let file = match open() {
            Ok(f) => f,
            // Our pid is ours alone while we live: this is a leftover of a
            // dead process that had the same pid. Anything else fails again.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let _ = fs::remove_file(&tmp);
                open().map_err(|e| self.create_error(&tmp, e))?
            }
            Err(e) => return Err(self.create_error(&tmp, e)),
        };
        // The umask may have removed bits the caller asked for.
        if let Err(e) = file.set_permissions(fs::Permissions::from_mode(mode)) {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io(&tmp, e));
        }
        Ok((tmp, file))
    }

    /// Steps 2 and 3: a zero-filled, locked, mapped values file, linked at
    /// `P.values`.
    fn create_values(
        &self,
        size: usize,
        mode: u32,
    ) -> Result<(File, Identity, MappedRegion), Error> {
        let (tmp, file) = self.create_tmp(mode)?;
        let result = self.prepare_values(&tmp, &file, size);
        if result.is_err() {
            // Give the pages back now: a child forked meanwhile by another
            // thread may hold the descriptor for a moment, and the file
            // system may be full.
            let _ = file.set_len(0);
        }
        let _ = fs::remove_file(&tmp);
        let (id, region) = result?;
        Ok((file, id, region))
    }

    fn prepare_values(
        &self,
        tmp: &Path,
        file: &File,
        size: usize,
    ) -> Result<(Identity, MappedRegion), Error> {
        fill_zeros(file, size).map_err(|e| Error::io(tmp, e))?;
        if !os::try_lock(file).map_err(|e| Error::io(tmp, e))? {
            return Err(Error::Io {
                path: tmp.to_path_buf(),
                source: io::Error::other("a fresh temporary file is locked"),
            });
        }
        let region = MappedRegion::map(file, size).map_err(|source| Error::Map {
            path: tmp.to_path_buf(),
            source,
        })?;
        let id = Identity::of(&file.metadata().map_err(|e| Error::io(tmp, e))?);
        for _ in 0..ACQUIRE_ATTEMPTS {
            self.clear_stale()?;
            match fs::hard_link(tmp, &self.values) {
                Ok(()) => {
                    // We own the base path: the reference client's temporary
                    // name can go too.
                    let _ = fs::remove_file(with_suffix(&self.base, ".tmp"));
                    return Ok((id, region));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(self.create_error(&self.values, e)),
            }
        }
        // Someone keeps creating and deleting the file: say who, if we can.
        Err(Error::Locked {
            path: self.values.clone(),
            pid: None,
        })
    }

    /// Step 2: makes `P.values` absent, unless a live process owns it.
    fn clear_stale(&self) -> Result<(), Error> {
        let old = match os::open_nofollow(&self.values) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if os::is_symlink_error(&e) => {
                // Never ours (we make regular files): remove the link only.
                return match fs::remove_file(&self.values) {
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
        if !self.is_same(&self.values, &old_id) {
            return Ok(()); // the caller's link decides
        }
        log::info!("replacing stale Cantal files at {}", self.base.display());
        for stale in [&self.meta, &self.values] {
            match fs::remove_file(stale) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.create_error(stale, e)),
            }
        }
        Ok(())
    }

    /// Step 5, first half: the meta text, in a temporary file.
    pub(crate) fn write_meta_tmp(
        &self,
        meta: &impl std::fmt::Display,
        mode: u32,
    ) -> Result<(PathBuf, File, Identity), Error> {
        let (tmp, mut file) = self.create_tmp(mode)?;
        let result = (|| {
            // Buffered: the meta text is written in many small pieces.
            let mut out = io::BufWriter::with_capacity(1 << 16, &mut file);
            write!(out, "{meta}")
                .and_then(|()| out.flush())
                .map_err(|e| Error::io(&tmp, e))?;
            drop(out);
            Ok(Identity::of(
                &file.metadata().map_err(|e| Error::io(&tmp, e))?,
            ))
        })();
        match result {
            Ok(id) => Ok((tmp, file, id)),
            Err(e) => {
                let _ = file.set_len(0);
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    /// Step 5, second half: the meta file moves into place, after the
    /// values file (the protocol's order).
    pub(crate) fn install_meta(&self, tmp: &Path) -> Result<(), Error> {
        fs::rename(tmp, &self.meta).map_err(|e| self.create_error(&self.meta, e))
    }

    /// Whether `path` is (still) the file `id`, not following symlinks.
    fn is_same(&self, path: &Path, id: &Identity) -> bool {
        fs::symlink_metadata(path).is_ok_and(|m| Identity::of(&m).same_file(id))
    }

    /// Deletes `path` if it is still the file `id`.
    pub(crate) fn remove_if_same(&self, path: &Path, id: &Identity) {
        if self.is_same(path, id) {
            let _ = fs::remove_file(path);
        }
    }
}

/// Writes `size` zero bytes from the start of `file`.
fn fill_zeros(mut file: &File, size: usize) -> io::Result<()> {
    static CHUNK: [u8; 64 * 1024] = [0; 64 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(CHUNK.len());
        file.write_all(&CHUNK[..n])?;
        left -= n;
    }
    Ok(())
}

/// A published collection: its files exist while this value lives.
///
/// Dropping it deletes `P.meta` and `P.values` (if they are still the files
/// it made) and releases the lock. The metrics keep working afterwards:
/// their memory stays mapped, it is only no longer visible to readers.
/// Files left by a process that exits without dropping it (`process::exit`,
/// a crash) are recognised as stale by the next publisher and by readers.
///
/// More metrics can be added later with an [`Extender`]
/// ([`extender`](Publication::extender)); the drop waits for an extension
/// in progress, and joins the worker threads attached to the extender.
pub struct Publication<'a, S: Storage<'a> = Growable<'a>> {
    active: ActiveCollection<'a, S, MappedRegion>,
    files: Files,
    /// The files, and what extensions added; shared with the extenders.
    shared: Arc<Shared>,
}

impl<'a, S: Storage<'a>> Publication<'a, S> {
    /// The base path `P`.
    pub fn path(&self) -> &Path {
        &self.files.base
    }

    /// `P.values`.
    pub fn values_path(&self) -> &Path {
        &self.files.values
    }

    /// `P.meta`.
    pub fn meta_path(&self) -> &Path {
        &self.files.meta
    }

    /// The meta text of the collection published at start (without the
    /// lines [`Extender::extend`] appended since: see
    /// [`meta_text`](Publication::meta_text)).
    pub fn meta(&self) -> Meta<'_, 'a> {
        self.active.meta()
    }

    /// The whole meta text of the publication now: the collection's, then
    /// the lines appended by extensions (what `P.meta` holds, unless the
    /// last extension could not write it).
    pub fn meta_text(&self) -> String {
        match &self.shared.lock().meta_text {
            Some(text) => text.clone(),
            None => self.active.meta().to_string(),
        }
    }

    /// The layout of the collection published at start (extensions make
    /// the values file longer: see [`values_len`](Publication::values_len)).
    pub fn layout(&self) -> Layout {
        self.active.layout()
    }

    /// The values file's length now, extensions included.
    pub fn values_len(&self) -> usize {
        self.shared.lock().len
    }

    /// The metrics published at start, in layout order (not those added by
    /// extensions).
    pub fn metrics(&self) -> impl Iterator<Item = MetricRef<'a>> + '_ {
        self.active.metrics()
    }

    /// Copies the current values bytes (extensions included) into `out`,
    /// up to its length or [`values_len`](Publication::values_len),
    /// whichever is smaller, rounded down to whole 8-byte words; returns the
    /// bytes copied. Pads read as zero. See
    /// [`ActiveCollection::read_values`].
    pub fn read_values(&self, out: &mut [u8]) -> usize {
        let st = self.shared.lock();
        let end = out.len().min(st.len) / 8 * 8;
        let Some(out) = out.get_mut(..end) else {
            return 0;
        };
        let first = self.active.read_values(out);
        out.get_mut(first..).unwrap_or_default().fill(0);
        for (offset, batch) in &st.batches {
            if let Some(part) = out.get_mut(*offset..) {
                batch.read_values(part);
            }
        }
        end
    }

    /// A handle that adds metrics to this publication from any thread,
    /// while it lives; see [`Extender`].
    pub fn extender(&self) -> Extender {
        let mut st = self.shared.lock();
        if st.meta_text.is_none() {
            st.meta_text = Some(self.active.meta().to_string());
            st.names = self
                .active
                .metrics()
                .map(|m| m.name().to_string())
                .collect();
        }
        drop(st);
        Extender::new(self.shared.clone())
    }
}

impl<'a, S: Storage<'a>> Drop for Publication<'a, S> {
    fn drop(&mut self) {
        // Removes the files, closes the values file (releasing the lock)
        // and joins the extenders' workers.
        self.shared.close();
    }
}

impl<'a, S: Storage<'a>> std::fmt::Debug for Publication<'a, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publication")
            .field("path", &self.files.base)
            .field("size", &self.values_len())
            .finish_non_exhaustive()
    }
}
