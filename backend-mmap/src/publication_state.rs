//! [`Shared`]: the state a [`Publication`](crate::Publication) shares with
//! its [`Extender`](crate::Extender)s, [`PublicationState`], behind one lock.
//!
//! The publisher makes it (`Publisher::publish`), the extender changes it
//! (`Extender::extend`), and the publication's drop closes it
//! ([`Shared::close`]): the files go, the lock on the values file is
//! released, waiters wake and attached workers are joined.

use crate::files::Files;
use crate::help::PublishedHelp;
use crate::os::Identity;
use crate::region::MappedRegion;
use cantal_core::{ActiveCollection, Growable};
use std::collections::HashSet;
use std::fs::File;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The state a [`Publication`](crate::Publication) shares with its
/// [`Extender`](crate::Extender)s, and the signal of its drop.
pub(crate) struct Shared {
    state: Mutex<PublicationState>,
    /// Notified when the publication is dropped.
    closed: Condvar,
}

/// A live publication's files and layout: what the publisher sets up and
/// each extension changes, under [`Shared`]'s lock.
pub(crate) struct PublicationState {
    pub(crate) files: Files,
    /// The permission bits of new meta files.
    pub(crate) mode: u32,
    /// The values file: open and locked while we publish; `None` once the
    /// publication is dropped (which releases the lock).
    pub(crate) values: Option<File>,
    pub(crate) values_id: Identity,
    /// The current meta file, open so that its inode number is not reused.
    pub(crate) meta: Option<File>,
    pub(crate) meta_id: Identity,
    /// The values file's length.
    pub(crate) len: usize,
    /// The whole meta text, once an extender exists (the publication's own
    /// text until the first extension).
    pub(crate) meta_text: Option<String>,
    /// The canonical names of every metric published, once an extender
    /// exists.
    pub(crate) names: HashSet<String>,
    /// The descriptions written to `P.help`.
    pub(crate) help: PublishedHelp,
    /// A failure to write `P.help` was logged.
    pub(crate) help_warned: bool,
    /// The text in `meta_text` is not yet the file's (a rename failed).
    pub(crate) dirty: bool,
    /// The added collections, each with the offset of its first slot.
    pub(crate) batches: Vec<(
        usize,
        ActiveCollection<'static, Growable<'static>, MappedRegion>,
    )>,
    /// The publication was dropped.
    pub(crate) closed: bool,
    /// Threads to join when the publication is dropped.
    pub(crate) workers: Vec<JoinHandle<()>>,
}

impl PublicationState {
    /// The state of a publication that has just started: its files, the
    /// mode of new meta files, the values and meta files (open, with their
    /// identity), the values file's length, and the help written (with
    /// whether a failure was reported). No extender yet.
    pub(crate) fn started(
        files: Files,
        mode: u32,
        (values, values_id): (File, Identity),
        (meta, meta_id): (File, Identity),
        len: usize,
        (help, help_warned): (PublishedHelp, bool),
    ) -> PublicationState {
        PublicationState {
            files,
            mode,
            values: Some(values),
            values_id,
            meta: Some(meta),
            meta_id,
            len,
            meta_text: None,
            names: HashSet::new(),
            help,
            help_warned,
            dirty: false,
            batches: Vec::new(),
            closed: false,
            workers: Vec::new(),
        }
    }
}

impl Shared {
    pub(crate) fn new(state: PublicationState) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(state),
            closed: Condvar::new(),
        })
    }

    /// The state; a panic in another holder leaves it consistent (every
    /// change is made before the fields that depend on it).
    pub(crate) fn lock(&self) -> MutexGuard<'_, PublicationState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the publication's drop does: removes the files (when they are
    /// still ours), releases the lock, wakes the waiters and joins the
    /// workers.
    pub(crate) fn close(&self) {
        let workers = {
            let mut st = self.lock();
            st.closed = true;
            st.files.remove_meta_if_same(&st.meta_id);
            st.files.remove_values_if_same(&st.values_id);
            st.values = None;
            st.meta = None;
            std::mem::take(&mut st.workers)
        };
        self.closed.notify_all();
        let me = std::thread::current().id();
        for worker in workers {
            // A worker that drops the publication itself cannot join itself.
            if worker.thread().id() != me {
                let _ = worker.join();
            }
        }
    }

    /// Waits until the publication is dropped, at most `timeout`; returns
    /// whether it is.
    pub(crate) fn wait_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        loop {
            if st.closed {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .closed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
