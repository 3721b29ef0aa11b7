//! Publish your process's metrics through shared memory, for the Cantal
//! agent (or the `cantal` command) to read whenever it likes, at the cost
//! of one atomic add per update.
//!
//! This facade re-exports [`cantal_core`]: the metric handles ([`Counter`],
//! [`Integer`], [`Float`], [`State`]), [`Collection`] and the decoder. With
//! the default `mmap` feature it publishes into files under `CANTAL_PATH`
//! on Linux: declare metrics with `metrics!` anywhere in the program and
//! call `start()` once in `main`.
//!
//! # Example
//!
//! **Declare every metric inside `cantal::metrics!`**: that is how
//! `start()` finds it. A plain `static TICKS: Counter = ...;` outside the
//! macro counts in memory but is never published (after `start()`, its
//! first update prints a warning saying so).
//!
//! ```no_run
//! # #[cfg(feature = "mmap")] {
//! use cantal::{Counter, State};
//!
//! cantal::metrics! {
//!     /// Iterations of the main loop.
//!     static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
//!     pub static PHASE: State = State::new(&[("group", "main_loop"), ("metric", "phase")]);
//! }
//!
//! // In `main`: publishes TICKS and PHASE, until `publication` is dropped.
//! let publication = cantal::start()?;
//! println!("metrics at {}", publication.path().display());
//! PHASE.enter("running");
//! TICKS.incr(1);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Metrics work before anything is published (and in tests, or without
//! the `mmap` feature); `start()` moves their values into the files:
//!
//! ```
//! use cantal::Counter;
//!
//! static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
//!
//! TICKS.incr(1); // counts in memory; not published: it is not in `metrics!`
//! assert_eq!(TICKS.get(), 1);
//! ```
//!
//! `fn main() -> Result<(), cantal::Error>` prints the error's message
//! (its `Debug` form is its `Display` form), such as
//! `Error: Cantal file /run/app.values is in use by another process (pid 42)`.
//!
//! # Warnings
//!
//! Without `CANTAL_PATH` (the agent cannot find the files), on a directory
//! that is not tmpfs, and for a metric updated after `start()` that no
//! publication holds (unless the `metrics` feature's recorder is
//! installed: its metrics are published an interval after their first
//! update), a warning goes to the `log` crate's logger when one
//! is installed, else once to stderr. [`Builder::quiet`] or the
//! environment variable `CANTAL_QUIET=1` silence the stderr copy.
//!
//! # Cargo features
//!
//! - `mmap` (default): publish into memory-mapped files (Linux): `start()`,
//!   `Builder`, `metrics!` and `read`.
//! - `std` (implied by `mmap`): standard-library clocks and
//!   [`Growable`] collections.
//! - `metrics`: `cantal::recorder`, a recorder for the `metrics` crate:
//!   every `metrics::counter!`, `gauge!` and `histogram!` of the program
//!   publishes into the same files as `start()` (the `cantal-recorder`
//!   crate).
//! - `tower`: `cantal::tower`, a tower `Layer` that counts a service's
//!   requests with a [`RequestTracker`] (the `cantal-tower` crate).
//!
//! Firmware uses `cantal-core` (or this crate with
//! `default-features = false`) and `cantal-static`.
#![forbid(unsafe_code)]
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![deny(missing_docs, unreachable_pub)]

pub use cantal_core::*;

#[cfg(feature = "mmap")]
mod start;

#[cfg(feature = "mmap")]
pub use crate::start::{Builder, start};
#[cfg(feature = "mmap")]
#[cfg_attr(docsrs, doc(cfg(feature = "mmap")))]
pub use cantal_mmap::{CANTAL_PATH, CANTAL_QUIET, Error, Publication, read, resolve_path};
/// A `metrics` crate recorder publishing into the files of [`start()`]: the
/// `cantal-recorder` crate.
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use cantal_recorder as recorder;
/// A tower `Layer` counting requests with a [`RequestTracker`]: the `cantal-tower` crate.
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use cantal_tower as tower;

/// Declares `static` metrics that [`start()`] publishes without listing
/// them again.
///
/// Each item is an ordinary `static` (any visibility, attributes and doc
/// comments allowed) whose type implements [`Metrics`] and `Sync`: a
/// [`Counter`], [`Integer`], [`Float`], [`State`], or a group of metrics
/// such as a struct of your own. The macro adds a reference to it to a
/// list the linker assembles from the whole program (with the `linkme`
/// crate; your crate needs no dependency on it).
///
/// # Examples
///
/// ```
/// use cantal::{Counter, Integer};
///
/// cantal::metrics! {
///     /// Requests served.
///     pub static REQUESTS: Counter = Counter::new(&[("group", "http"), ("metric", "requests")]);
///     static QUEUE: Integer = Integer::new(&[("group", "http"), ("metric", "queue")]);
/// }
///
/// REQUESTS.incr(1);
/// QUEUE.set(3);
/// assert_eq!(REQUESTS.get(), 1);
/// ```
#[cfg(feature = "mmap")]
#[cfg_attr(docsrs, doc(cfg(feature = "mmap")))]
#[macro_export]
macro_rules! metrics {
    () => {};
    (
        $(#[$attr:meta])*
        $vis:vis static $name:ident : $ty:ty = $init:expr;
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        $vis static $name: $ty = $init;

        const _: () = {
            #[$crate::__private::linkme::distributed_slice($crate::__private::METRICS)]
            #[linkme(crate = $crate::__private::linkme)]
            static ENTRY: &'static (dyn $crate::Metrics + ::core::marker::Sync) = &$name;
        };

        $crate::metrics! { $($rest)* }
    };
}

/// Support for [`metrics!`]; not public API.
#[cfg(feature = "mmap")]
#[doc(hidden)]
pub mod __private {
    pub use linkme;

    /// Every metric declared with [`metrics!`](crate::metrics), in the whole
    /// program.
    #[linkme::distributed_slice]
    pub static METRICS: [&'static (dyn crate::Metrics + Sync)];
}

/// The README's examples compile.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
