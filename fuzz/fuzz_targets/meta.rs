//! Arbitrary bytes as a meta file: walk every entry, every name pair and
//! every canonical form, and check that the canonical form is stable.
//! Then parse it leniently: the strict entries are its first ones, offsets
//! follow each other, and exactly the skipped entries are of unknown kind.
#![no_main]

use std::fmt::Write;

use cantal_core::decode::{SlotKind, find_duplicate, parse_meta, parse_meta_lenient, total_size};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut named = Vec::new();
    let mut text = String::new();
    for entry in parse_meta(data) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                text.clear();
                write!(text, "{e} {:?} {:?}", e.line(), e.column()).unwrap();
                break;
            }
        };
        text.clear();
        write!(
            text,
            "{} {} {} {}",
            entry.kind(),
            entry.size(),
            entry.offset(),
            entry.end()
        )
        .unwrap();
        let Some(name) = entry.name() else { continue };
        for (k, v) in name.pairs() {
            text.clear();
            write!(text, "{k}{v}{k:?}").unwrap();
            assert_eq!(
                name.get(&k.to_string()).map(|v| v.to_string()),
                Some(v.to_string())
            );
        }
        assert_eq!(name.sorted_pairs().count(), name.len());
        // The canonical form is ASCII, parses as canonical, and is stable.
        text.clear();
        name.write_canonical(&mut text).unwrap();
        assert!(text.is_ascii());
        assert_eq!(name.canonical_bytes().collect::<Vec<u8>>(), text.as_bytes());
        let line = format!("counter 8: {text}");
        let again = parse_meta(line.as_bytes())
            .next()
            .unwrap()
            .unwrap()
            .name()
            .unwrap();
        assert!(again.is_canonical(), "{text}");
        assert!(again.canonical_eq(&name));
        assert_eq!(again.to_string(), text);
        named.push(entry);
    }
    let _ = total_size(data);
    let strict: Vec<_> = parse_meta(data).map_while(Result::ok).collect();
    let mut lenient = 0;
    let mut last_end = 0;
    for entry in parse_meta_lenient(data) {
        let Ok(entry) = entry else { break };
        if let Some(s) = strict.get(lenient) {
            assert_eq!(*s, entry);
        }
        assert_eq!(entry.offset(), last_end);
        last_end = entry.end();
        assert_eq!(
            entry.skipped().is_some(),
            matches!(entry.kind(), SlotKind::Unknown { .. })
        );
        if let Some(skip) = entry.skipped() {
            text.clear();
            write!(text, "{skip}").unwrap();
        }
        lenient += 1;
    }
    assert!(lenient >= strict.len());
    let _ = find_duplicate(&mut named);
});
