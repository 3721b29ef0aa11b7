//! Arbitrary bytes as a meta file, parsed with and without the fast path
//! of canonical lines (strictly and leniently): the entries (names by
//! their text, pair count and canonical flag) and the errors (message,
//! line and column) must be the same.
#![no_main]

use cantal_core::decode::{MetaEntries, parse_meta, parse_meta_lenient};
use libfuzzer_sys::fuzz_target;

fn details(entries: MetaEntries<'_>) -> Vec<String> {
    entries
        .map(|r| match r {
            Ok(e) => {
                let name = e
                    .name()
                    .map(|n| format!("{:?} {} {}", n.raw(), n.len(), n.is_canonical()));
                format!(
                    "{} {:?} {} {} {:?} {name:?}",
                    e.line(),
                    e.kind(),
                    e.size(),
                    e.offset(),
                    e.skipped()
                )
            }
            Err(e) => format!("error {e} {} {:?}", e.line(), e.column()),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(
        details(parse_meta(data)),
        details(parse_meta(data).without_fast_path())
    );
    assert_eq!(
        details(parse_meta_lenient(data)),
        details(parse_meta_lenient(data).without_fast_path())
    );
});
