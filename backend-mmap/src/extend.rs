//! [`Extender`]: adding metrics to a live publication, without moving the
//! ones already published.
//!
//! A publication's layout is fixed at start, but a program that learns its
//! metrics as it runs (the `metrics` crate's `counter!("x", "label" =>
//! value)` makes a new one for every label value) needs to add some later.
//! An extension:
//!
//! 1. writes zeros over the new tail of `P.values` (`pwrite(2)`, so a full
//!    tmpfs fails here with [`Error::NoSpace`], never with a `SIGBUS`
//!    later), first a `pad` up to the next multiple of 64 bytes, then the
//!    new slots;
//! 2. maps the grown range (a new mapping of the same file, from the page
//!    that holds the new tail's first byte; the earlier mappings stay, since
//!    handles point into them, and the new one is never unmapped either);
//! 3. moves the new metrics into their slots (`Collection::start`: no update
//!    made before is lost, from any thread);
//! 4. writes the whole meta text, the old lines unchanged and the new ones
//!    appended, to a temporary file and `rename(2)`s it over `P.meta`.
//!
//! The values file keeps its inode and every old slot keeps its offset, so
//! nothing that an updating thread or a reader holds is invalidated. A reader
//! that read the old meta and then the longer values sees bytes past the
//! end of its layout: the Cantal agent (`cantal_values::Metadata::read_data`
//! reads the slots the meta lists one after the other from a copy of the
//! whole file) and our decoder (`cantal_core::decode::decode`) both ignore
//! them. Readers that check the meta file's identity after reading (ours,
//! the agent) then see that it changed and read again.
//!
//! # Memory
//!
//! Each extension leaks one more mapping (the new slots' pages, plus the
//! page it shares with the previous tail): address space grows with the
//! values file and the number of extensions, never beyond. Extend in
//! batches (the `metrics` recorder gathers the metrics of one interval).
//!
//! # Why not a new values file
//!
//! Publishing the grown layout into a new file and re-pointing every handle
//! there would need each handle to move a second time. A counter could be
//! drained again, but a gauge's `set` cannot be redirected without either a
//! grace period (a writer that loaded the old slot pointer may store into
//! the old file after the copy, and that store is lost) or an extra atomic
//! on every update to register the writer. Extending in place moves only
//! the new metrics, with the core's inline-to-slot hand-over, and leaves the
//! hot path of every published metric at one atomic operation.

use crate::error::Error;
use crate::files;
use crate::help::HelpLine;
use crate::publication_state::{PublicationState, Shared};
use crate::region::MappedRegion;
use cantal_core::{Collection, Growable, Metric, REGION_ALIGN};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Adds metrics to a live [`Publication`](crate::Publication); from
/// [`Publication::extender`](crate::Publication::extender).
///
/// Cheap to clone, and usable from any thread. Once the publication is
/// dropped every call fails (and the files are gone).
///
/// # Examples
///
/// ```no_run
/// use cantal_core::{Collection, Counter};
///
/// static EARLY: Counter = Counter::new(&[("metric", "early")]);
/// static LATE: Counter = Counter::new(&[("metric", "late")]);
///
/// let mut metrics = Collection::growable();
/// metrics.register(&EARLY)?;
/// let publication = cantal_mmap::Publisher::new().publish(metrics)?;
/// LATE.incr(1); // counts inline until it is published
///
/// let left_out = publication.extender().extend(&[&LATE])?; // P.values grows, P.meta is replaced
/// assert!(left_out.is_empty());
/// assert!(publication.meta_text().ends_with("counter 8: {\"metric\": \"late\"}"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Extender {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Extender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("Extender")
            .field("path", &st.files.base)
            .field("len", &st.len)
            .field("closed", &st.closed)
            .finish_non_exhaustive()
    }
}

impl Extender {
    pub(crate) fn new(shared: Arc<Shared>) -> Extender {
        Extender { shared }
    }

    /// Appends `metrics` to the publication: see the [module docs](self)
    /// for the steps. The metrics already published keep their slots; the
    /// new ones keep every update made before.
    ///
    /// A metric whose name the publication has already (or that comes
    /// twice in `metrics`: the later ones) is left out, since readers
    /// refuse a meta file with a name twice: the metrics left out are
    /// returned, unpublished (they keep counting in their own memory).
    /// With no metric to add, the call only retries writing the meta file,
    /// when an earlier extension's failed.
    ///
    /// # Errors
    ///
    /// - [`Error::Closed`] once the publication is dropped;
    /// - [`Error::Start`] for a metric published elsewhere already;
    /// - [`Error::NoSpace`] or [`Error::Io`] growing the values file, and
    ///   [`Error::Map`] mapping it: nothing is published then, and the
    ///   metrics may be given again;
    /// - an error writing or renaming the meta file: the metrics are
    ///   published then (they update their slots) but readers do not see
    ///   them yet; the next call to `extend` writes the meta file again.
    pub fn extend(
        &self,
        metrics: &[&'static dyn Metric],
    ) -> Result<Vec<&'static dyn Metric>, Error> {
        let mut st = self.shared.lock();
        let st = &mut *st;
        if st.closed {
            return Err(closed(&st.files.base));
        }
        let mut collection = Collection::growable();
        let mut left_out = Vec::new();
        let mut added = HashSet::new();
        for metric in metrics {
            let name = metric.name().to_string();
            if st.names.contains(&name) || !added.insert(name) {
                left_out.push(*metric);
            } else {
                // Cannot fail: a growable collection has no capacity limit.
                let _ = collection.register(*metric);
            }
        }
        let layout = collection.layout().map_err(|source| Error::Start {
            path: st.files.base.clone(),
            source,
        })?;
        if layout.size() > 0 {
            self.append(st, collection, layout.size())?;
            st.names.extend(added);
            // The help first: a reader of the new meta finds its help.
            let batch = st.batches.last().map(|(_, active)| active.metrics());
            if st.help.add_described(batch.into_iter().flatten()) {
                write_help(st);
            }
        }
        if st.dirty {
            write_meta(st)?;
        }
        Ok(left_out)
    }

    /// Steps 1-3, and the new meta text.
    fn append(
        &self,
        st: &mut PublicationState,
        collection: Collection<'static, Growable<'static>>,
        size: usize,
    ) -> Result<(), Error> {
        let values_path = st.files.values.clone();
        let file = st.values.as_ref().ok_or_else(|| closed(&st.files.base))?;
        let start = st.len.next_multiple_of(REGION_ALIGN);
        let end = start.checked_add(size).ok_or_else(|| Error::Io {
            path: values_path.clone(),
            source: io::Error::other("the values file would exceed the address space"),
        })?;
        files::check_size(&values_path, end)?;
        if let Err(e) = files::fill_zeros(file, st.len, end - st.len) {
            // Give the pages back; nothing points past the old end.
            let _ = file.set_len(st.len as u64);
            return Err(Error::io(&values_path, e));
        }
        // SAFETY: the contract of `MappedRegion::map`: `start` is a
        // multiple of 64 (`next_multiple_of` above); the file holds zeros
        // from its old end to `end` (`fill_zeros` above, under the
        // publication's lock, held by every extension); it is
        // shrunk only when the mapping fails (no region then), and never
        // once the region is started; earlier regions end at or before the
        // old end, and the crate touches these bytes only through this
        // region, which goes to one `Collection::start` below.
        let region = match unsafe { MappedRegion::map(file, start, size) } {
            Ok(region) => region,
            Err(source) => {
                let _ = file.set_len(st.len as u64);
                return Err(Error::Map {
                    path: values_path,
                    source,
                });
            }
        };
        // From here on the tail is mapped for good: the file never shrinks
        // below `end` again.
        let text = st.meta_text.get_or_insert_with(String::new);
        let pad = start - st.len;
        let old_len = st.len;
        st.len = end;
        let active = match collection.start(region) {
            Ok(active) => active,
            Err(source) => {
                // Nothing moved (or, if another collection published one of
                // ours meantime, what moved stays in memory that lives
                // forever): describe the tail as padding.
                push_pads(text, end - old_len);
                st.dirty = true;
                return Err(Error::Start {
                    path: st.files.base.clone(),
                    source,
                });
            }
        };
        push_pads(text, pad);
        push_line(text, format_args!("{}", active.meta()));
        st.batches.push((start, active));
        st.dirty = true;
        Ok(())
    }

    /// Replaces the help lines given through this call before (canonical
    /// name, unit word, text; see [`help`](crate::help)) and rewrites the
    /// publication's `P.help` with them and the descriptions of its
    /// [`Described`](cantal_core::Described) handles, which win over a
    /// given line of the same name. The `metrics` recorder gives its
    /// `describe_*!` texts this way.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] once the publication is dropped, and those of
    /// [`help::write`](crate::help::write).
    pub fn set_help(&self, lines: Vec<HelpLine>) -> Result<(), Error> {
        let mut st = self.shared.lock();
        if st.closed {
            return Err(closed(&st.files.base));
        }
        st.help.set_given(lines);
        st.help.write(&st.files.base)
    }

    /// Waits until the publication is dropped, at most `timeout`; returns
    /// whether it is (a worker thread's sleep that ends with the
    /// publication).
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        self.shared.wait_closed(timeout)
    }

    /// Whether the publication was dropped.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Has the publication's drop join `worker` (after waking
    /// [`wait_closed`](Extender::wait_closed)): a thread that extends the
    /// publication stops before the files are gone for good. When the
    /// publication is already dropped, `worker` is joined at once.
    pub fn attach_worker(&self, worker: JoinHandle<()>) {
        let mut st = self.shared.lock();
        if st.closed {
            drop(st);
            if worker.thread().id() != std::thread::current().id() {
                let _ = worker.join();
            }
            return;
        }
        st.workers.push(worker);
    }

    /// The values file's length now.
    pub fn values_len(&self) -> usize {
        self.shared.lock().len
    }

    /// The publication's base path `P`.
    pub fn path(&self) -> std::path::PathBuf {
        self.shared.lock().files.base.clone()
    }
}

/// Rewrites `P.help` with the new descriptions. The help is optional (the
/// metrics are published all the same), so a failure is logged, once per
/// publication, and the next extension that adds a description tries
/// again.
fn write_help(st: &mut PublicationState) {
    if let Err(e) = st.help.write(&st.files.base)
        && !std::mem::replace(&mut st.help_warned, true)
    {
        log::warn!(
            "cantal: cannot write the help file of {}: {e}",
            st.files.base.display()
        );
    }
}

/// Step 4: the whole meta text to a temporary file, renamed over `P.meta`.
fn write_meta(st: &mut PublicationState) -> Result<(), Error> {
    let text = st.meta_text.as_deref().unwrap_or_default();
    let (tmp, file, id) = st.files.write_meta_tmp(text.as_bytes(), st.mode)?;
    st.files.install_meta(tmp)?;
    st.meta = Some(file);
    st.meta_id = id;
    st.dirty = false;
    Ok(())
}

/// Appends a line to a meta text (no trailing newline, as the publisher
/// writes it).
fn push_line(text: &mut String, line: std::fmt::Arguments<'_>) {
    if !text.is_empty() {
        text.push('\n');
    }
    // Writing to a String cannot fail.
    let _ = text.write_fmt(line);
}

/// Appends `pad` lines for `n` bytes (each at most 65528, a multiple of 8
/// below the protocol's 65535).
fn push_pads(text: &mut String, mut n: usize) {
    while n > 0 {
        let pad = n.min(65528);
        push_line(text, format_args!("pad {pad}"));
        n -= pad;
    }
}

/// The error of a publication that was dropped.
fn closed(base: &std::path::Path) -> Error {
    Error::Closed {
        path: base.to_path_buf(),
    }
}
