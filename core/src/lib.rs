//! The `no_std` core of the Cantal metrics client.
//!
//! An application declares its metrics, usually as `static` items, and
//! publishes them into a block of shared memory (a [`Region`]) that a
//! monitoring agent reads whenever it likes, without ever asking the
//! application anything. Updating a metric costs about one atomic add.
//!
//! This crate holds everything that does not need an operating system:
//!
//! - the metric handles [`Counter`], [`Integer`], [`Float`] and [`State`]
//!   (and [`ShardedCounter`] for counters many cores increment at once),
//!   which work before publication (counting into their own storage) and
//!   keep every update when they are published;
//! - [`Histogram`]: a distribution in fixed buckets (a default log-linear
//!   scheme or bounds of your own), three atomic adds per observation,
//!   published as plain counters (see its module's protocol note);
//! - the compound utilities of the reference client: [`RequestTracker`]
//!   (requests, total duration, errors, in progress) and [`Fork`] (which
//!   [`Branch`] of its work a process is in, and for how long), timed by a
//!   [`clock::Clock`], and [`TimedRequestTracker`] and [`TimedFork`], the
//!   same with histograms of request and branch durations;
//! - [`Described`]: a handle with a `const` help text and unit, which the
//!   Linux publisher writes into the help side file `P.help`;
//! - metric [`Name`]s and their canonical JSON form;
//! - [`Collection`] → [`ActiveCollection`]: the deterministic slot layout of
//!   the reference client, the hand-over of values into the [`Region`], and
//!   the meta text;
//! - [`decode`]: the reader side, for files written by any Cantal client
//!   (its [`decode::ParsedName`] is a name parsed from a file, where
//!   [`Name`] is one declared in code).
//!
//! Linux processes publish into files with the `cantal` crate (feature
//! `mmap`); firmware publishes into a static buffer from `cantal-static`.
//!
//! # Example
//!
//! ```
//! use cantal_core::{Collection, Counter, Fixed, State};
//! # use core::ptr::NonNull;
//! # #[repr(C, align(64))] struct Buf([u64; 16]);
//! # struct R(NonNull<u8>);
//! # // SAFETY: a leaked, zeroed, 64-aligned buffer used by this region only.
//! # unsafe impl cantal_core::Region for R {
//! #     fn base(&self) -> NonNull<u8> { self.0 }
//! #     fn len(&self) -> usize { 128 }
//! # }
//! # let region = R(NonNull::from(Box::leak(Box::new(Buf([0; 16])))).cast());
//!
//! static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
//! static PHASE: State = State::new(&[("group", "main_loop"), ("metric", "phase")]);
//!
//! let mut metrics: Collection<Fixed<8>> = Collection::fixed();
//! metrics.register(&TICKS)?;
//! metrics.register(&PHASE)?;
//! assert_eq!(metrics.layout()?.size(), 128);
//! let active = metrics.start(region)?; // a cantal-static buffer, a mapped file...
//!
//! PHASE.enter("running");
//! TICKS.incr(1);
//! println!("{}", active.meta()); // what the agent parses
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Cargo features
//!
//! - `fallback` (default): on targets without native 64-bit atomics
//!   (thumbv7em, riscv32), provide them with portable-atomic's fallback.
//!   By default it takes global **spin locks**, which deadlock when an
//!   interrupt handler updates a metric whose lock the interrupted code
//!   holds. Firmware with such handlers makes the fallback disable
//!   interrupts instead, with portable-atomic's own
//!   `unsafe-assume-single-core` feature (single-core chips, e.g. a
//!   Cortex-M4: `portable-atomic = { version = "1", features =
//!   ["unsafe-assume-single-core"] }` in the firmware's `Cargo.toml`) or
//!   `unsafe-assume-privileged` (multi-core, privileged mode), with the
//!   obligations their documentation lists. Targets with native 64-bit
//!   atomics (x86-64, AArch64) use them whatever the features.
//! - `critical-section`: for targets without any compare-and-swap
//!   (riscv32i, thumbv6m): portable-atomic implements every atomic inside
//!   `critical_section::with`, and the firmware links an implementation.
//!   Use it together with `fallback`.
//! - `alloc`: `Growable` collections without a capacity limit.
//! - `std` (implies `alloc`): `SystemTime` as the default state clock.
//!
//! # Publishing and interrupts
//!
//! An integer, float or state updated at the very moment `start()` moves
//! it waits for that move (a copy of one slot) to finish. On a single-core
//! chip, call `start()` before enabling interrupt handlers that update
//! metrics, as for any initialisation. Counters never wait.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![deny(missing_docs, unreachable_pub, unsafe_op_in_unsafe_fn)]

#[cfg(feature = "alloc")]
extern crate alloc;

#[cfg(not(any(target_has_atomic = "64", feature = "fallback")))]
compile_error!(
    "this target has no 64-bit atomics: enable cantal-core's `fallback` feature (and read \
     its documentation about interrupt handlers)"
);

#[cfg(not(loom))]
mod canonical_json;
mod cell;
mod sync;

#[cfg(not(loom))]
pub mod clock;
#[cfg(not(loom))]
mod collection;
#[cfg(not(loom))]
mod counter;
#[cfg(not(loom))]
pub mod decode;
#[cfg(not(loom))]
mod described;
#[cfg(not(loom))]
mod error;
#[cfg(not(loom))]
mod fork;
#[cfg(not(loom))]
mod histogram;
#[cfg(not(loom))]
mod layout;
#[cfg(not(loom))]
mod level;
#[cfg(not(loom))]
mod metric;
#[cfg(not(loom))]
mod name;
#[cfg(not(loom))]
mod region;
#[cfg(not(loom))]
mod request;
#[cfg(not(loom))]
mod sharded;
#[cfg(not(loom))]
mod state;
#[cfg(not(loom))]
mod timed;
#[cfg(not(loom))]
mod timed_fork;
mod unpublished;

#[doc(hidden)]
pub use crate::unpublished::set_unpublished_hook;
#[cfg(not(loom))]
pub use crate::{
    collection::{ActiveCollection, Collection, Fixed, Meta, MetricRef, Storage},
    counter::Counter,
    described::Described,
    error::{RegisterError, StartError},
    fork::{Branch, Fork, ForkContext},
    histogram::{DEFAULT_BUCKETS, HISTOGRAM_KEY, Histogram, INF_BOUND, LE_KEY, Timer},
    layout::Layout,
    level::{Float, Integer, IntegerGuard},
    metric::{Kind, Metric, Metrics},
    name::{CanonicalJson, Name, NameValue, Pair, Pairs},
    region::{REGION_ALIGN, Region},
    request::{Request, RequestTracker},
    sharded::{MAX_SHARDS, SHARD_KEY, ShardedCounter},
    state::{State, StateGuard, StateValue},
    timed::TimedRequestTracker,
    timed_fork::{TimedFork, TimedForkContext},
};

#[cfg(all(feature = "alloc", not(loom)))]
pub use crate::collection::Growable;
