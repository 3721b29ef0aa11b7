//! The errors of declaring and starting a collection.

use crate::name::Name;
use core::fmt;

/// Why a metric could not be registered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RegisterError {
    /// A fixed-capacity collection is full.
    CapacityExceeded {
        /// The metric that did not fit.
        name: Name,
        /// The collection's capacity.
        capacity: usize,
    },
    /// The collection has been started: its layout is fixed.
    AlreadyStarted {
        /// The metric that came too late.
        name: Name,
    },
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterError::CapacityExceeded { name, capacity } => write!(
                f,
                "cannot register metric {name}: the collection holds at most {capacity} metrics \
                 (use a larger capacity)"
            ),
            RegisterError::AlreadyStarted { name } => write!(
                f,
                "cannot register metric {name}: metrics cannot be added after start()"
            ),
        }
    }
}

impl core::error::Error for RegisterError {}

/// Why a collection could not be started.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StartError {
    /// Two metrics have the same name (the same set of key/value pairs).
    Duplicate {
        /// The name registered twice.
        name: Name,
    },
    /// The region has fewer bytes than the layout needs.
    RegionTooSmall {
        /// Bytes the layout needs.
        needed: usize,
        /// Bytes the region has.
        available: usize,
    },
    /// The region's base address is not aligned to 64 bytes.
    RegionMisaligned {
        /// The base address.
        address: usize,
    },
    /// A metric is already published, by this collection or another one.
    AlreadyPublished {
        /// The metric.
        name: Name,
    },
    /// The layout does not fit in the address space.
    TooLarge,
    /// The values given to [`Collection::restore`](crate::Collection::restore)
    /// are shorter than the layout.
    ValuesTooShort {
        /// Bytes the layout needs.
        needed: usize,
        /// Bytes given.
        available: usize,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Duplicate { name } => {
                write!(f, "metric {name} is declared twice")
            }
            StartError::RegionTooSmall { needed, available } => write!(
                f,
                "the region has {available} bytes but the metrics need {needed}"
            ),
            StartError::RegionMisaligned { address } => {
                write!(f, "the region at {address:#x} is not aligned to 64 bytes")
            }
            StartError::AlreadyPublished { name } => write!(
                f,
                "metric {name} is already published (a metric can be started once)"
            ),
            StartError::TooLarge => f.write_str("the metrics' layout overflows the address space"),
            StartError::ValuesTooShort { needed, available } => write!(
                f,
                "the values to restore have {available} bytes but the layout needs {needed}"
            ),
        }
    }
}

impl core::error::Error for StartError {}
