//! Cantal metrics for Rust (being written).
#![forbid(unsafe_code)]
pub use cantal_core::*;
