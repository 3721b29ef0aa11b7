//! Resuming from a stale publication ([`Publisher::resume`](crate::Publisher::resume)):
//! the values a publisher that is gone left at the base path, taken over
//! by the same metrics started again, when the pair is ours to adopt.
//!
//! Before the stale files are cleared, [`resume_values`] reads them when
//! both are regular files of our user, with one link, not writable by
//! group or others, the lock free and the meta text identical to ours
//! (a pair another user planted in a shared directory is never adopted).
//! Once the metrics are in their slots, [`restore`] hands the values to
//! them (`Collection::restore`: counters add, gauges and states take).
//! Anything that does not match is logged with its reason: a fresh start.

use crate::files::Files;
use crate::os::{self, FileExt, MetadataExt};
use crate::region::MappedRegion;
use cantal_core::{ActiveCollection, Collection, Storage};
use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::path::Path;

/// The values of the stale publication at the base path when it is ours
/// to adopt (see [`adoptable`]); `None`, with the reason logged,
/// otherwise.
pub(crate) fn resume_values(files: &Files, meta_text: &str, size: usize) -> Option<Vec<u8>> {
    let base = files.base.display();
    match adoptable(files, meta_text.as_bytes(), size) {
        Ok(values) => return Some(values),
        Err(NotAdopted::Nothing(why)) => log::info!("not resuming from {base}: {why}"),
        Err(NotAdopted::Refused(why)) => {
            log::warn!("not resuming from {base}, starting afresh: {why}")
        }
    }
    None
}

/// Takes over `values` into the metrics of `active`, now in their slots
/// (counters add, gauges and states take them): the same metrics laid out
/// again give the same slots, which the meta text confirms.
pub(crate) fn restore<'a, S: Storage<'a>>(
    active: &ActiveCollection<'a, S, MappedRegion>,
    values: &[u8],
    meta_text: &str,
    base: &Path,
) {
    let mut again = Collection::growable();
    for metric in active.metrics() {
        // Cannot fail: a growable collection has no capacity limit.
        let _ = again.register(metric);
    }
    if !again.meta().is_ok_and(|m| m.to_string() == meta_text) {
        log::warn!("not resuming from {}: the layout changed", base.display());
        return;
    }
    match again.restore(values) {
        Ok(()) => log::info!("resumed metrics from {}", base.display()),
        Err(e) => log::warn!("not resuming from {}: {e}", base.display()),
    }
}

/// Why a stale pair is not resumed from.
#[derive(Debug)]
enum NotAdopted {
    /// Nothing to resume: no pair, a live one, or other metrics.
    Nothing(String),
    /// A pair that is not ours (or not readable): worth a warning.
    Refused(String),
}

/// The meta and values bytes of a stale publication at `P` that is ours
/// to adopt: both regular files of our user, one link each, not writable
/// by group or others, the meta text `meta`, the values `size` bytes, the
/// lock free. `Err` says why not.
fn adoptable(files: &Files, meta: &[u8], size: usize) -> Result<Vec<u8>, NotAdopted> {
    let values = open_ours(files, &files.values_name, &files.values)?;
    match os::try_lock(&values) {
        Ok(true) => {}
        Ok(false) => return Err(NotAdopted::Nothing("its publisher is alive".into())),
        Err(e) => return Err(NotAdopted::Refused(e.to_string())),
    }
    let old_meta = read_exact(
        &open_ours(files, &files.meta_name, &files.meta)?,
        meta.len(),
    )
    .map_err(|e| NotAdopted::Refused(format!("{}: {e}", files.meta.display())))?;
    if old_meta != meta {
        return Err(NotAdopted::Nothing("its metrics differ from ours".into()));
    }
    read_exact(&values, size)
        .map_err(|e| NotAdopted::Refused(format!("{}: {e}", files.values.display())))
}

/// Opens `name` of the publication's directory for reading when it is a
/// regular file of our user with one link and no write bit for group or
/// others.
fn open_ours(files: &Files, name: &CStr, path: &Path) -> Result<File, NotAdopted> {
    let file = os::open_read_at(&files.dir.fd, name).map_err(|e| {
        let why = format!("{}: {e}", path.display());
        if e.kind() == io::ErrorKind::NotFound {
            NotAdopted::Nothing(why)
        } else {
            NotAdopted::Refused(why)
        }
    })?;
    let m = file
        .metadata()
        .map_err(|e| NotAdopted::Refused(format!("{}: {e}", path.display())))?;
    let why = if !m.is_file() {
        "is not a regular file".to_string()
    } else if m.uid() != os::uid() {
        format!("belongs to uid {}, not to us ({})", m.uid(), os::uid())
    } else if m.nlink() != 1 {
        format!("has {} links", m.nlink())
    } else if m.mode() & 0o022 != 0 {
        format!("is writable by others (mode {:o})", m.mode() & 0o7777)
    } else {
        return Ok(file);
    };
    Err(NotAdopted::Refused(format!("{} {why}", path.display())))
}

/// Exactly `len` bytes of `file`, which must have that size.
fn read_exact(file: &File, len: usize) -> io::Result<Vec<u8>> {
    let size = file.metadata()?.len();
    if size != len as u64 {
        return Err(io::Error::other(format!("has {size} bytes, not {len}")));
    }
    let mut buf = vec![0; len];
    file.read_exact_at(&mut buf, 0)?;
    Ok(buf)
}
