//! Arbitrary bytes split at the first 0xFF (never in UTF-8 text) into a
//! meta file and its values: decode everything, strictly and leniently.
#![no_main]

use std::fmt::Write;

use cantal_core::decode::{Value, decode, parse_meta_lenient, read_value, total_size};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (meta, values) = match data.iter().position(|&b| b == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let total = total_size(meta);
    let mut text = String::new();
    let mut last_end = 0;
    for item in decode(meta, values) {
        text.clear();
        match item {
            Ok((entry, value)) => {
                assert!(entry.end() <= values.len() as u64);
                assert_eq!(entry.offset(), last_end);
                last_end = entry.end();
                write!(text, "{:?} {value:?}", entry.name()).unwrap();
                if let Value::State { text: t, .. } = value {
                    assert!(!t.contains(&0));
                    write!(text, "{}", value.state_text_lossy().unwrap()).unwrap();
                }
            }
            Err(e) => {
                write!(text, "{e} {}", e.line()).unwrap();
                break;
            }
        }
    }
    // Lenient: a skipped slot reads as its raw bytes, of its size.
    for entry in parse_meta_lenient(meta) {
        let Ok(entry) = entry else { break };
        let Ok(value) = read_value(&entry, values) else {
            assert!(entry.end() > values.len() as u64);
            break;
        };
        if entry.skipped().is_some() {
            assert_eq!(
                value,
                Value::Unknown(&values[entry.offset() as usize..entry.end() as usize])
            );
        }
    }
    // When everything fits, the walk ends exactly at the total size.
    if let Ok(total) = total
        && total <= values.len() as u64
    {
        assert_eq!(last_end, total);
    }
});
