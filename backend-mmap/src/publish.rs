//! [`Publisher`] (where and how to publish) and [`Publication`] (the files
//! of a started collection).
//!
//! The steps are described in the [crate docs](crate#how-the-files-are-made).

use crate::dir;
use crate::error::Error;
use crate::extend::Extender;
use crate::files::{self, Files};
use crate::help::PublishedHelp;
use crate::os::{self, Identity};
use crate::path;
use crate::publication_state::{PublicationState, Shared};
use crate::region::MappedRegion;
use crate::resume;
use cantal_core::{ActiveCollection, Collection, Growable, Layout, Meta, MetricRef, Storage};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The default permissions of the files: read and write for our user only.
pub const DEFAULT_MODE: u32 = 0o600;

/// How many times step 2-3 is retried when another process races us.
const ACQUIRE_ATTEMPTS: usize = 8;

/// The longest file name component Linux accepts (`NAME_MAX`).
const NAME_MAX: usize = 255;

/// The environment variable that silences the warnings printed on stderr
/// (when set to `1`).
pub const CANTAL_QUIET: &str = "CANTAL_QUIET";

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
    quiet: bool,
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
    /// when its publisher is gone (the lock is free), its meta text is
    /// identical to ours, and both files are ours: regular files of our
    /// effective uid, with one link and no write bit for group or others
    /// (a pair another user planted in a shared directory is never
    /// adopted). Counters add the old values, gauges and states take them
    /// (see [`Collection::restore`]), once the files are in place: a start
    /// that fails leaves the metrics' values as they were. What the original Rust
    /// client calls start-with-reading: a process that re-executes itself,
    /// or restarts faster than the agent's two-second scan, does not reset
    /// its counters. Off by default; anything that does not match is
    /// logged (with the reason) and ignored: a fresh start.
    pub fn resume(mut self, resume: bool) -> Publisher {
        self.resume = resume;
        self
    }

    /// Does not print the warnings about the fallback path (no
    /// `CANTAL_PATH`, or a directory that is not on tmpfs) on stderr; they
    /// still go to the `log` crate's logger when one is installed. The
    /// environment variable `CANTAL_QUIET=1` does the same.
    pub fn quiet(mut self, quiet: bool) -> Publisher {
        self.quiet = quiet;
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
    /// A bad base path (a relative `CANTAL_PATH` among them) or directory
    /// (an untrusted one: [`Error::ForeignDirectory`],
    /// [`Error::UnsafeDirectory`]), another process publishing on the same
    /// path ([`Error::Locked`]), a full file system or a file size limit
    /// ([`Error::FileSizeLimit`]), and the collection's own
    /// [`StartError`](cantal_core::StartError)s (duplicate names). When the
    /// error comes before the metrics are moved (every case but a metric
    /// already published by another collection, or a failure to rename the
    /// meta file), the metrics are untouched, their values included, and
    /// may be published again. No temporary file is left behind. Off
    /// Linux, always [`Error::Unsupported`].
    pub fn publish<'a, S: Storage<'a>>(
        &self,
        mut collection: Collection<'a, S>,
    ) -> Result<Publication<'a, S>, Error> {
        let files = self.open_files()?;
        let (base, mode, quiet) = (files.base.clone(), self.file_mode(), self.quiet);
        let start_error = |source| Error::Start {
            path: base.clone(),
            source,
        };
        let layout = collection.layout().map_err(start_error)?;
        let meta_text = collection.meta().map_err(start_error)?.to_string();
        files::check_size(&files.values, layout.size())?;
        let resumed = self
            .resume
            .then(|| resume::resume_values(&files, &meta_text, layout.size()))
            .flatten();
        files.remove_leftovers();

        // The meta text goes to its temporary file first: a file system too
        // full for it fails here, before any metric depends on a mapping.
        let (meta_tmp, meta, meta_id) = files.write_meta_tmp(meta_text.as_bytes(), mode)?;
        let (values, values_id, region) = create_values(&files, layout.size(), mode)?;
        let active = match collection.start(region) {
            Ok(active) => active,
            Err(source) => {
                files.remove_values_if_same(&values_id);
                return Err(Error::Start { path: base, source });
            }
        };
        if let Some(values) = resumed {
            resume::restore(&active, &values, &meta_text, &base);
        }
        // The help before the meta: a reader of the meta finds its help.
        let (help, help_warned) = write_help(&active, &base, quiet);
        if let Err(e) = files.install_meta(meta_tmp) {
            files.remove_values_if_same(&values_id);
            return Err(e);
        }
        let shared = Shared::new(PublicationState::started(
            files.clone(),
            mode,
            (values, values_id),
            (meta, meta_id),
            layout.size(),
            (help, help_warned),
        ));
        Ok(Publication {
            active,
            files,
            shared,
        })
    }

    /// Step 1: the base path, absolute and well formed, in its directory
    /// opened by a checked walk (with a warning when it is not on a memory
    /// file system), with nothing but a regular file at `P` itself.
    fn open_files(&self) -> Result<Files, Error> {
        os::supported(&self.base_path(), "publish")?;
        let base = self.absolute_base(self.quiet)?;
        let (dir, name) = check_base(&base)?;
        let trusted = dir::open_trusted(&dir, os::uid())?;
        if os::on_memory_fs(&trusted.fd) == Some(false) {
            static WARNED: AtomicBool = AtomicBool::new(false);
            let msg = format!(
                "{} is not on a memory file system (tmpfs): publishing metrics there writes to \
                 disk",
                dir.display()
            );
            warn_visibly(&WARNED, self.quiet, &msg);
        }
        let files = Files::new(&base, &name, trusted)?;
        files.check_base()?;
        Ok(files)
    }

    /// The permission bits of the files: never write for group or others.
    fn file_mode(&self) -> u32 {
        self.mode.unwrap_or(DEFAULT_MODE) & 0o644
    }

    /// The base path, absolute: an explicit relative one is resolved
    /// against the working directory; a relative `CANTAL_PATH` is refused
    /// (the agent, reading it from `/proc/<pid>/environ`, cannot know our
    /// working directory). Warns about the fallback path.
    fn absolute_base(&self, quiet: bool) -> Result<PathBuf, Error> {
        if let Some(p) = &self.path {
            if p.is_absolute() || p.as_os_str().is_empty() {
                return Ok(p.clone());
            }
            let cwd = std::env::current_dir().map_err(|e| Error::io(p, e))?;
            return Ok(cwd.join(p));
        }
        let (base, from_env) = path::resolve();
        if from_env && !base.is_absolute() {
            return Err(Error::BadBasePath {
                path: base,
                reason: "is relative: the Cantal agent reads CANTAL_PATH from /proc/<pid>/environ \
                         and cannot know our working directory; use an absolute path",
            });
        }
        if !from_env {
            static WARNED: AtomicBool = AtomicBool::new(false);
            let msg = format!(
                "CANTAL_PATH is not set: publishing metrics to {}; the Cantal agent cannot \
                 discover it",
                base.display()
            );
            warn_visibly(&WARNED, quiet, &msg);
        }
        Ok(base)
    }
}

/// Whether the stderr warnings are silenced: `quiet`, or the environment's
/// `CANTAL_QUIET=1`.
fn is_quiet(quiet: bool) -> bool {
    quiet || std::env::var_os(CANTAL_QUIET).is_some_and(|v| v == "1")
}

/// Logs `msg` as a warning through the `log` crate when a logger takes it;
/// else prints it on stderr, once per `warned` flag, unless `quiet` (or
/// `CANTAL_QUIET=1`). For the `cantal` facade's warnings too; not public
/// API.
#[doc(hidden)]
pub fn warn_visibly(warned: &AtomicBool, quiet: bool, msg: &str) {
    let quiet = is_quiet(quiet);
    let metadata = log::Metadata::builder()
        .level(log::Level::Warn)
        .target(module_path!())
        .build();
    if log::Level::Warn <= log::max_level() && log::logger().enabled(&metadata) {
        log::warn!("{msg}");
    } else if !quiet && !warned.swap(true, Ordering::Relaxed) {
        let _ = writeln!(
            io::stderr(),
            "cantal: warning: {msg} (set {CANTAL_QUIET}=1 to silence)"
        );
    }
}

/// Writes `P.help` when a metric of `active` is
/// [`Described`](cantal_core::Described); a failure is a warning (the help
/// is optional). The descriptions, and whether a failure was reported.
fn write_help<'a, S: Storage<'a>, R: cantal_core::Region>(
    active: &ActiveCollection<'a, S, R>,
    base: &Path,
    quiet: bool,
) -> (PublishedHelp, bool) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let mut help = PublishedHelp::default();
    let failed = help.add_described(active.metrics())
        && help
            .write(base)
            .inspect_err(|e| {
                let msg = format!("cannot write the help file of {}: {e}", base.display());
                warn_visibly(&WARNED, quiet, &msg);
            })
            .is_err();
    (help, failed)
}

/// Checks the base path's form and returns its directory and file name.
fn check_base(base: &Path) -> Result<(PathBuf, std::ffi::OsString), Error> {
    let bad = |reason| Error::BadBasePath {
        path: base.to_path_buf(),
        reason,
    };
    let bytes = base.as_os_str().as_encoded_bytes();
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
    let dir = match base.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("/"),
    };
    Ok((dir, name.to_os_string()))
}

/// Steps 2 and 3: a zero-filled, locked, mapped values file, linked at
/// `P.values`.
fn create_values(
    files: &Files,
    size: usize,
    mode: u32,
) -> Result<(File, Identity, MappedRegion), Error> {
    let (tmp, file) = files.create_tmp(mode)?;
    let prepared = files::fill_zeros(&file, 0, size)
        .map_err(|e| Error::io(&tmp.path, e))
        .and_then(|()| {
            // SAFETY: the contract of `MappedRegion::map`: offset 0 is a
            // multiple of 64; `file` was just created with `O_EXCL` (no one
            // else wrote it) and holds `size` zero bytes (`fill_zeros`
            // above); it is shrunk only on the error path below, where the
            // region is dropped unstarted, and never after `start`; the
            // crate reads and writes those bytes only through the region,
            // which goes to one `Collection::start`.
            let region = unsafe { MappedRegion::map(&file, 0, size) };
            let region = region.map_err(|source| Error::Map {
                path: tmp.path.clone(),
                source,
            })?;
            let id = Identity::of(&file.metadata().map_err(|e| Error::io(&tmp.path, e))?);
            Ok((id, region))
        });
    let (id, region) =
        match prepared.and_then(|p| files.link_values(tmp, ACQUIRE_ATTEMPTS).map(|()| p)) {
            Ok(p) => p,
            Err(e) => {
                // Give the pages back now: a child forked meanwhile by another
                // thread may hold the descriptor for a moment.
                let _ = file.set_len(0);
                return Err(e);
            }
        };
    Ok((file, id, region))
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
