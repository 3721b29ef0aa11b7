//! A static buffer Region for cantal-core (being written).
#![no_std]
