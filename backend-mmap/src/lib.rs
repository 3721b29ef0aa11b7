//! Publish Cantal metrics into memory-mapped files under `CANTAL_PATH`, and
//! read such files back.
//!
//! A publishing process owns two files sharing a base path `P`: `P.meta`
//! (the layout, as text) and `P.values` (the slots, which the metrics
//! update in place through a shared mapping). The Cantal agent finds `P` in
//! the process's `CANTAL_PATH` environment variable.
//!
//! - [`Publisher`]: where (base path) and how (file mode) to publish a
//!   [`Collection`](cantal_core::Collection); [`Publisher::publish`]
//!   returns the [`Publication`], which deletes the files when dropped.
//! - [`Extender`]: adds metrics to a live publication (the values file
//!   grows in place, the meta file is replaced); see [`extend`].
//! - [`resolve_path`]: `CANTAL_PATH`, or the per-process fallback.
//! - [`read`]: the reader side, copying another process's files with
//!   `read(2)` and telling whether their publisher is alive.
//! - [`Error`]: every failure, naming the file concerned.
//!
//! Most programs use the `cantal` crate's `start()` instead, which
//! publishes every metric declared with `cantal::metrics!`.
//!
//! # Example
//!
//! ```no_run
//! use cantal_core::{Collection, Counter};
//!
//! static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
//!
//! let mut metrics = Collection::growable();
//! metrics.register(&TICKS)?;
//! let publication = cantal_mmap::Publisher::new().publish(metrics)?;
//! TICKS.incr(1); // one atomic add in the shared mapping
//! let snapshot = cantal_mmap::read::read(publication.path())?;
//! assert!(snapshot.alive);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How the files are made
//!
//! For a base path `P`, the order follows the reference client's (values
//! first, meta last, both moved into place atomically), with a lock that
//! makes a live publication recognisable:
//!
//! 1. Make `P` absolute (an explicit relative path is resolved against the
//!    working directory; a relative `CANTAL_PATH` is refused, since the
//!    agent cannot know our working directory), then open its directory by
//!    a walk from `/` (`O_PATH | O_NOFOLLOW`, `fstat` of each descriptor):
//!    every directory on the way must belong to root or to our effective
//!    uid and not be writable by group or others unless sticky
//!    ([`Error::ForeignDirectory`], [`Error::UnsafeDirectory`]); a symlink
//!    on the way is followed only when root or we own it. Every later file
//!    operation is relative to that descriptor (`openat`, `linkat`,
//!    `renameat`, `unlinkat`), so no path lookup can be redirected. Refuse
//!    a `P` that is a directory or a symlink; check the planned sizes
//!    against `RLIMIT_FSIZE` ([`Error::FileSizeLimit`] rather than a
//!    `SIGXFSZ`); warn when the directory is not on a memory file system
//!    (tmpfs, ramfs). Remove the temporary files `P.<pid>.<n>.tmp` of our
//!    user whose process is gone and whose lock is free (left by a
//!    publisher killed during its start).
//! 2. If `P.values` exists, open it without following symlinks and take its
//!    `flock`. Held: another process publishes here, stop with
//!    [`Error::Locked`]. Free: the files are stale (their process is gone),
//!    so, still holding that lock, delete `P.meta` then `P.values`. A
//!    symlink at `P.values` is deleted, never followed.
//! 3. Create `P.<pid>.<n>.tmp` exclusively (`O_EXCL`, `O_NOFOLLOW`) and lock
//!    it at once, write zeros over its full size (every page is allocated
//!    now: a full tmpfs fails here with [`Error::NoSpace`] instead of a
//!    `SIGBUS` later), map it shared, and `linkat(2)` it to `P.values`.
//!    Unlike `rename`, `link` fails when `P.values` exists, so two
//!    processes starting at the same moment cannot replace each other's
//!    file: the loser goes back to step 2 and finds the winner's lock. The
//!    temporary name is unlinked.
//! 4. Move the metrics into the mapping (`Collection::start`). With
//!    [`Publisher::resume`], then add the values of the stale pair read
//!    before step 2 (only a pair that is ours: see there).
//! 5. `renameat(2)` the meta text to `P.meta` (which replaces whatever is
//!    there, a symlink included, without following it). The text was
//!    written to its own locked `P.<pid>.<n>.tmp` before step 3, so that a
//!    file system too full for it fails before any metric depends on a
//!    mapping. We own `P` now, so a reference client's leftover `P.tmp` is
//!    deleted too.
//!
//! Temporary names carry our pid and a counter, so they never collide with
//! another live process's, and every error path removes them. The
//! reference's shared `P.tmp` would only be safe under the lock, and the
//! lock lives on a file that does not exist yet while the values are
//! prepared.
//!
//! The values file stays open and locked for the life of the
//! [`Publication`]; the kernel drops the lock when the process exits, so the
//! files of a crashed process are recognised as stale. (The reference
//! Python client takes no lock: its live files look stale to us.)
//!
//! # Memory
//!
//! The mapping is never unmapped, so that a metric updated from another
//! thread after the publication is dropped still writes to valid memory:
//! each publication leaks the address space of its values file (a few
//! pages). Publish once per process.
//!
//! Unlike the reference client, `CANTAL_PATH` is not removed from the
//! environment (`std::env::remove_var` is unsound while other threads
//! run). Start child processes that publish on their own with
//! `Command::env_remove("CANTAL_PATH")` (or their own path).
//!
//! # Platforms
//!
//! Linux only: the files rely on `openat(2)`-style calls relative to a
//! checked directory, `O_PATH`, `openat2(2)`, `flock(2)` and `/proc`. On
//! any other target the crate still builds (so that a portable program can
//! depend on `cantal`), but every operation fails with
//! [`Error::Unsupported`]: publishing, reading, the help file.
#![deny(missing_docs, unreachable_pub, unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

mod dir;
mod duplicates;
mod error;
pub mod extend;
mod files;
pub mod help;
pub mod histogram;
mod os;
mod parsed_meta;
mod path;
mod publication_state;
mod publish;
pub mod read;
mod region;
mod resume;
pub mod shards;
mod slot_name;
mod stable_states;

pub use crate::error::Error;
pub use crate::extend::Extender;
pub use crate::path::{CANTAL_PATH, resolve as resolve_path, with_suffix};
pub use crate::publish::{CANTAL_QUIET, DEFAULT_MODE, Publication, Publisher, warn_visibly};
