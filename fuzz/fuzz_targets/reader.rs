//! The one reader's layout (`cantal_mmap::read::ParsedMeta`): arbitrary bytes
//! split at the first 0xFF into a meta file and its values, parsed and
//! read as every command reads them, with sharded counters summed and
//! histograms of both shapes grouped. Nothing may panic; every histogram
//! has its bounds in ascending order.
#![no_main]

use cantal_mmap::read::{ParsedMeta, OwnedValue};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let (meta, values) = match data.iter().position(|&b| b == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(layout) = ParsedMeta::parse(meta, "fuzz.meta") else {
        return;
    };
    let Ok(read) = layout.read(values, Path::new("fuzz.values")) else {
        return;
    };
    assert_eq!(read.len(), layout.slots().len());
    for value in read {
        if let OwnedValue::Histogram { buckets, .. } = value {
            assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0), "{buckets:?}");
        }
    }
});
