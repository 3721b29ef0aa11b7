//! Publish your process's metrics through shared memory, for the Cantal
//! agent (or the `cantal` command) to read whenever it likes, at the cost
//! of one atomic add per update.
//!
//! This facade re-exports [`cantal_core`]: the metric handles ([`Counter`],
//! [`Integer`], [`Float`], [`State`]), [`Collection`] and the decoder. With
//! the default `mmap` feature it publishes into files under `CANTAL_PATH`
//! on Linux.
//!
//! # Example
//!
//! ```
//! use cantal::Counter;
//!
//! static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
//!
//! TICKS.incr(1); // works before anything is published
//! assert_eq!(TICKS.get(), 1);
//! ```
//!
//! # Cargo features
//!
//! - `mmap` (default): publish into memory-mapped files (Linux).
//! - `std` (implied by `mmap`): standard-library clocks and
//!   [`Growable`] collections.
//!
//! Firmware uses `cantal-core` (or this crate with
//! `default-features = false`) and `cantal-static`.
#![forbid(unsafe_code)]
#![cfg_attr(not(feature = "std"), no_std)]
#![doc(test(attr(deny(warnings))))]
#![deny(missing_docs, unreachable_pub)]

pub use cantal_core::*;
