//! no_std core of the Cantal metrics client (being written).
#![cfg_attr(not(test), no_std)]

pub mod decode;
