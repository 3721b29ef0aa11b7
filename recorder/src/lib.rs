//! A [`metrics`] crate recorder that publishes into Cantal files: every
//! library that reports through `metrics::counter!`, `gauge!` and
//! `histogram!` shows up in the files the Cantal agent reads, next to the
//! program's own `cantal::metrics!` statics.
//!
//! - [`install`] / [`Builder::install`]: set the global recorder; the
//!   `cantal` crate's `start()` (feature `metrics`) then publishes it with
//!   the rest. Two lines in `main`:
//!   `cantal::recorder::install()?; let _metrics = cantal::start()?;`
//! - [`CantalRecorder`]: the recorder; [`CantalRecorder::connect`] ties it
//!   to any [`Publication`](cantal_mmap::Publication) (through its
//!   [`Extender`](cantal_mmap::Extender)).
//! - [`Builder`]: histogram buckets, the cap on metrics, the re-publication
//!   interval.
//! - [`Error`]: what installing and connecting can fail with.
//!
//! # Example
//!
//! ```
//! use cantal_mmap::{Publisher, read::{OwnedValue, load}};
//!
//! let recorder = cantal_recorder::Builder::new().build();
//! metrics::with_local_recorder(&recorder, || metrics::counter!("jobs", "queue" => "mail").increment(2));
//!
//! # let base = std::env::temp_dir().join(format!("cantal-recorder-doc-{}", std::process::id()));
//! let publication = Publisher::new().path(&base).publish(cantal_core::Collection::growable())?;
//! recorder.connect(publication.extender())?; // publishes what exists; a thread adds later ones
//!
//! metrics::with_local_recorder(&recorder, || metrics::counter!("jobs", "queue" => "mail").increment(1));
//! let loaded = load(&base)?;
//! let jobs = loaded.value(r#"{"metric": "jobs", "queue": "mail"}"#);
//! assert_eq!(jobs, Some(&OwnedValue::Counter(3)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Names
//!
//! A key `name{label="value", ...}` becomes the Cantal name
//! `{"metric": "name", "label": "value", ...}` ([`METRIC_KEY`]). A label
//! whose key is taken (a label called `metric`, a histogram's label `le`,
//! a label given twice) gets `_` in front until it is free: `_metric`.
//! Labels in another order are the same metric. Descriptions and units
//! (`describe_counter!`, `describe_gauge!`, `describe_histogram!`) go to
//! the help side file `P.help` (see `PROTOCOL-help.md` and
//! `cantal_mmap::help`), one line per published metric of a described
//! name, which `cantal export` serves as `# HELP` and `# UNIT`; the
//! original agent and the Python client never open it.
//!
//! | `metrics` | Cantal slots | update cost |
//! | --- | --- | --- |
//! | `counter!` | `counter 8` `{"metric": name, ...}` | one atomic add |
//! | `gauge!` | `level 8 float` `{"metric": name, ...}` | one atomic store (`set`) or a compare-and-swap loop (`increment`) |
//! | `histogram!` | `counter 8` `{"cantal_histogram": "count", "metric": name, ...}`, `level 8 float` `{"cantal_histogram": "sum", ...}`, a `counter 8` `{"cantal_le": bound, ...}` per bound and one `{"cantal_le": "+Inf", ...}` (`cantal_core::Histogram`'s shape: each bucket holds only its own range) | one add to the value's bucket (binary search), one add to the count, a compare-and-swap loop on the sum: three atomics whatever the number of bounds |
//!
//! Bounds are fixed for all histograms ([`Builder::buckets`], default
//! [`DEFAULT_BUCKETS`]). `NaN` is counted, added to the sum (making it
//! `NaN`) and in no bucket. Readers (`cantal read`, `watch`, `export`)
//! show a histogram as one metric with cumulative buckets; the original
//! agent shows its parts as counters and a gauge.
//! `Counter::absolute(v)` raises the counter to `v` when it is below.
//!
//! A name used by two kinds (`counter!("x")` and `gauge!("x")`, or a
//! counter `x_count` beside a histogram `x`) keeps the first; the second
//! gets a handle that does nothing, counted as dropped (below). A name that
//! the publication has already (a `cantal::metrics!` static) stays the
//! static's: the recorder's metric of that name counts in memory only, and
//! each of its slots is counted as dropped.
//!
//! # The hot path
//!
//! `counter!("x").increment(1)` looks the key up (a read lock and a hash
//! map probe, plus an `Arc` clone) every time it runs; a handle kept from
//! `counter!` (`let c = counter!("x"); c.increment(1)`) costs a virtual call
//! and the core handle's one atomic add, like a `cantal::Counter`. The
//! handles are `cantal_core` metrics: before their publication they count
//! in memory, and they move into their slot with no update lost, from any
//! thread.
//!
//! # Re-publication
//!
//! Keys used before [`CantalRecorder::connect`] (before `cantal::start()`)
//! are in the first publication, at once. Keys first used later are
//! published by a thread (`cantal-recorder`) in one batch per interval
//! ([`DEFAULT_INTERVAL`], 30 s; [`Builder::interval`]): it replaces
//! `P.meta` at most once per interval, with every key new in it coalesced
//! into that one replacement, and not at all in an interval without new
//! keys. A re-publication grows `P.values` in place (old slots never move)
//! and replaces `P.meta` with the old lines and the new ones appended: see
//! [`cantal_mmap::extend`]. The thread stops when the publication is
//! dropped (the drop joins it); the files are removed then as always.
//! [`CantalRecorder::flush`] publishes at once instead (the thread's next
//! replacement then waits a whole interval).
//!
//! What is published late is counted: the counter
//! `{"group": "cantal_recorder", "metric": "late_keys"}` (published with the
//! rest; [`CantalRecorder::late_keys`]) adds the slots of each
//! re-publication, and [`CantalRecorder::replacements`] counts the
//! replacements of `P.meta`.
//!
//! ## What the original Cantal agent does at a replacement
//!
//! The agent (tailhook/cantal, `src/scan/values.rs` and
//! `cantal_values::Metadata`) scans every process every 2 seconds and keeps
//! each process's parsed meta between scans. A scan reads the values file
//! with the cached meta (remembering the values file's device and inode in
//! a per-scan set), then checks that the meta file's identity (device,
//! inode, size, modification time) is unchanged. After a replacement it is
//! not: the agent parses the new meta and reads the values file a second
//! time in the same scan, which its set refuses ("Duplicate values file").
//! That scan returns no data for the process; the next one, with the new
//! meta cached, reads everything (the slots appended included). Each
//! replacement thus costs the agent one scan of that process: with the
//! former interval of 1 s and a new key every 700 ms, every scan was lost.
//! With replacements at most every interval `I`, the agent loses at most
//! one scan in `I / 2 s` while keys keep appearing (1 in 15, 6.7 %, with
//! the default 30 s) and none once they stop. `tests/agent_scan.rs` runs a
//! model of that scan against a recorder that keeps adding keys and checks
//! the fraction. Our own readers (`cantal read`, `watch`, `export`) re-read
//! a replaced meta in the same scan and lose nothing.
//!
//! # Limits
//!
//! The recorder's metrics may take at most [`DEFAULT_MAX_SLOTS`] slots
//! ([`Builder::max_slots`]; a counter or gauge is one, a histogram
//! 2 + bounds). A key beyond the cap gets a handle that does nothing; each
//! refused registration adds one to the counter
//! `{"group": "cantal_recorder", "metric": "dropped"}` (published with the
//! rest), and the first one logs a warning. The memory of the metrics
//! (their names are leaked `'static` strings, since handles may be used
//! from any thread forever) is bounded by the cap, as are the values and
//! meta files; keys already admitted keep working.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![deny(missing_docs, unreachable_pub)]

mod describe;
mod error;
mod global;
mod handles;
mod name;
mod recorder;

pub use crate::error::Error;
pub use crate::global::{connect_global, installed};
pub use crate::name::{BUCKET_KEY, METRIC_KEY};
pub use crate::recorder::{
    Builder, CantalRecorder, DEFAULT_BUCKETS, DEFAULT_INTERVAL, DEFAULT_MAX_SLOTS, MIN_INTERVAL,
};

/// Builds the default recorder and sets it as the global `metrics`
/// recorder: see [`Builder::install`].
///
/// # Errors
///
/// Those of [`Builder::install`].
///
/// # Examples
///
/// ```no_run
/// cantal_recorder::install()?;
/// metrics::counter!("started").increment(1); // published by cantal::start()
/// # Ok::<(), cantal_recorder::Error>(())
/// ```
pub fn install() -> Result<CantalRecorder, Error> {
    Builder::new().install()
}
