//! [`start()`] and [`Builder`]: publishing the metrics of [`metrics!`](crate::metrics).

use crate::__private::METRICS;
use cantal_core::{Collection, Storage};
use cantal_mmap::{Error, Publication, Publisher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the first successful [`Builder::start`] of the process.
static STARTED: AtomicBool = AtomicBool::new(false);

/// Publishes every metric declared with [`metrics!`](crate::metrics) (and,
/// with the `metrics` feature, those of the `metrics` crate recorder set
/// by `cantal::recorder::install()`) to the
/// base path in `CANTAL_PATH` (else `$XDG_RUNTIME_DIR/cantal.<pid>`, else
/// `/tmp/cantal.<uid>.<pid>`, with a warning that the agent will not find
/// it: to the `log` logger when one is installed, else once on stderr;
/// see [`Builder::quiet`]), files readable by our user only. A relative
/// `CANTAL_PATH` is refused ([`Error::BadBasePath`]): the agent cannot know
/// our working directory.
///
/// Only metrics declared inside [`metrics!`](crate::metrics) are
/// published: after a successful start, the first update of a metric that
/// no publication holds prints a warning (once).
///
/// Keep the returned [`Publication`] for as long as the metrics should be
/// visible (usually: bind it in `main`); dropping it deletes the files. The
/// metrics keep working either way.
///
/// # Errors
///
/// A second call in the same process after a success
/// ([`Error::AlreadyStarted`]), and those of [`Builder::start`]: an
/// untrusted directory ([`Error::ForeignDirectory`],
/// [`Error::UnsafeDirectory`]), another live publisher on the path
/// ([`Error::Locked`]), a full file system or a file size limit. The
/// error's `Debug` form is its message, so `main` returning it prints a
/// sentence.
///
/// # Examples
///
/// ```no_run
/// use cantal::Counter;
///
/// cantal::metrics! {
///     static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
/// }
///
/// let _publication = cantal::start()?;
/// TICKS.incr(1);
/// # Ok::<(), cantal::Error>(())
/// ```
pub fn start() -> Result<Publication<'static>, Error> {
    Builder::new().start()
}

/// Where and how to publish: a base path other than `CANTAL_PATH`, a file
/// mode other than 0600, or an explicit [`Collection`].
///
/// # Examples
///
/// ```no_run
/// let _publication = cantal::Builder::new()
///     .path("/run/myapp/metrics")
///     .mode(0o640)
///     .start()?;
/// # Ok::<(), cantal::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    publisher: Publisher,
    quiet: bool,
}

impl Builder {
    /// The defaults of [`start()`].
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Publishes to `base` (files `base.meta` and `base.values`) instead of
    /// the environment's base path.
    pub fn path(self, base: impl Into<PathBuf>) -> Builder {
        Builder {
            publisher: self.publisher.path(base),
            ..self
        }
    }

    /// Sets the files' permission bits (default 0600); write permission is
    /// never given to the group or others.
    pub fn mode(self, mode: u32) -> Builder {
        Builder {
            publisher: self.publisher.mode(mode),
            ..self
        }
    }

    /// Starts from the values a previous run left at the same path, when
    /// its publisher is gone and its meta text is identical to ours (the
    /// same declarations): counters go on from where they were instead of
    /// falling back to zero. For a process that re-executes itself, or
    /// restarts faster than the agent's two-second scan. Off by default.
    pub fn resume(self, resume: bool) -> Builder {
        Builder {
            publisher: self.publisher.resume(resume),
            ..self
        }
    }

    /// Prints no warning on stderr: neither about the fallback path (no
    /// `CANTAL_PATH`; a directory not on tmpfs) nor about a metric updated
    /// after start that no publication holds. With a `log` logger
    /// installed the warnings go there instead, quiet or not. The
    /// environment variable `CANTAL_QUIET=1` does the same.
    pub fn quiet(self, quiet: bool) -> Builder {
        Builder {
            publisher: self.publisher.quiet(quiet),
            quiet,
        }
    }

    /// Publishes every metric declared with [`metrics!`](crate::metrics);
    /// see [`start()`].
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyStarted`] after a successful start in this process;
    /// otherwise those of [`publish`](Builder::publish). After a failure
    /// the process may try again (with another path, say).
    pub fn start(self) -> Result<Publication<'static>, Error> {
        if STARTED.swap(true, Ordering::AcqRel) {
            return Err(Error::AlreadyStarted {
                path: self.publisher.base_path(),
            });
        }
        let mut collection = Collection::growable();
        for metrics in METRICS {
            // Cannot fail: a growable collection has no capacity limit.
            let _ = collection.register(*metrics);
        }
        let result = self
            .publisher
            .publish(collection)
            .and_then(connect_recorder);
        match &result {
            Ok(_) => watch_unpublished(self.quiet),
            Err(_) => STARTED.store(false, Ordering::Release),
        }
        result
    }

    /// Publishes an explicit `collection` (the metrics of [`metrics!`](crate::metrics)
    /// are not added). Any number of collections may be published, each to
    /// its own path.
    ///
    /// # Errors
    ///
    /// A bad base path or directory, another process publishing on the same
    /// path ([`Error::Locked`]), a full file system, and the collection's
    /// own errors (two metrics with the same name, a metric already
    /// published).
    pub fn publish<'a, S: Storage<'a>>(
        self,
        collection: Collection<'a, S>,
    ) -> Result<Publication<'a, S>, Error> {
        self.publisher.publish(collection)
    }
}

/// Whether the stderr warnings are silenced, for the hook.
static QUIET: AtomicBool = AtomicBool::new(false);

/// After a successful start: warn once when a metric that no publication
/// holds is updated (a `static` declared without `metrics!`). The check is
/// on the cold path an unpublished handle takes anyway.
fn watch_unpublished(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    cantal_core::set_unpublished_hook(Some(warn_unpublished));
}

/// With the `metrics` feature: whether the recorder is installed, whose
/// metrics are published an interval after their first update (so an
/// unpublished update is expected, and the hook stands down).
#[cfg(feature = "metrics")]
fn recorder_installed() -> bool {
    cantal_recorder::installed().is_some()
}

/// Without the `metrics` feature there is no recorder.
#[cfg(not(feature = "metrics"))]
fn recorder_installed() -> bool {
    false
}

/// The hook of [`watch_unpublished`].
fn warn_unpublished(name: &dyn std::fmt::Display) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if WARNED.load(Ordering::Relaxed) {
        return;
    }
    if recorder_installed() {
        cantal_core::set_unpublished_hook(None);
        return;
    }
    let msg = format!(
        "metric {name} was updated after cantal::start() but no publication holds it: it \
         counts in memory only. Declare each static metric inside `cantal::metrics! {{ ... }}` \
         (or publish it with Builder::publish or an Extender)"
    );
    cantal_mmap::warn_visibly(&WARNED, QUIET.load(Ordering::Relaxed), &msg);
    WARNED.store(true, Ordering::Relaxed);
    // Once is enough: the cold path goes back to costing one load.
    cantal_core::set_unpublished_hook(None);
}

/// With the `metrics` feature: hands the publication to the recorder of
/// `cantal::recorder::install()` (now, or when it is
/// installed later), which adds its metrics to the same files.
#[cfg(feature = "metrics")]
fn connect_recorder(publication: Publication<'static>) -> Result<Publication<'static>, Error> {
    use cantal_recorder::Error as RecorderError;
    match cantal_recorder::connect_global(publication.extender()) {
        Ok(()) => Ok(publication),
        Err(RecorderError::Publish(e)) => Err(e),
        Err(e) => Err(Error::Io {
            path: publication.path().to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        }),
    }
}

/// Without the `metrics` feature there is no recorder to connect.
#[cfg(not(feature = "metrics"))]
fn connect_recorder(publication: Publication<'static>) -> Result<Publication<'static>, Error> {
    Ok(publication)
}
