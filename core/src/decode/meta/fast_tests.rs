//! The fast path against the exact parser: same entries (down to the
//! name's text and flags), same errors, in strict and lenient mode.

use super::*;
use crate::decode::meta::{MetaEntries, parse_meta, parse_meta_lenient};
use std::format;
use std::string::String;
use std::vec::Vec;

/// Everything an entry or error says, the name's private flags included
/// (`MetaEntry`'s `==` compares names canonically only).
fn details(entries: MetaEntries<'_>) -> Vec<String> {
    entries
        .map(|r| match r {
            Ok(e) => {
                let name = e
                    .name
                    .map(|n| format!("{:?} {} {} {}", n.raw, n.len, n.canonical, n.sorted));
                format!(
                    "{} {:?} {} {} {:?} {:?}",
                    e.line, e.kind, e.size, e.offset, e.skip, name
                )
            }
            Err(e) => format!("error {e} {:?}", (e.line, e.column, e.kind)),
        })
        .collect()
}

/// Parses `meta` with and without the fast path, strictly and leniently,
/// and checks that both paths agree; returns the strict details.
fn agree(meta: &[u8]) -> Vec<String> {
    let strict = details(parse_meta(meta));
    assert_eq!(
        strict,
        details(parse_meta(meta).without_fast_path()),
        "strict: {:?}",
        String::from_utf8_lossy(meta)
    );
    assert_eq!(
        details(parse_meta_lenient(meta)),
        details(parse_meta_lenient(meta).without_fast_path()),
        "lenient: {:?}",
        String::from_utf8_lossy(meta)
    );
    strict
}

/// Whether the fast path takes the first line of `meta` itself.
fn fast(meta: &str) -> bool {
    canonical_line(meta.as_bytes(), 1, 0).is_some()
}

#[test]
fn canonical_lines_take_the_fast_path() {
    let lines = [
        "counter 8: {\"group\": \"http.server\", \"metric\": \"requests\", \"worker\": \"0\"}",
        "level 8 signed: {\"a\": \"1\"}",
        "level 8 float: {\"a\": \"1\"}",
        "level 8 unsigned: {\"a\": \"1\"}",
        "state 64: {\"group\": \"main\", \"state\": \"worker.1\"}",
        "state 8: {\"a\": \"\"}",
        "state 65535: {\"\": \"x\"}",
        "pad 40\ncounter 8: {}",
        "pad 65535\n",
        "counter 8: {}",
        "counter 8: {\"a\": \"1\", \"aa\": \"2\", \"b\": \"3\"}",
        "counter 8: {\"a b\": \"{}:, ~'\"}",
    ];
    for line in lines.into_iter().step_by(if cfg!(miri) { 3 } else { 1 }) {
        assert!(fast(line), "{line:?}");
        agree(line.as_bytes());
        agree(format!("{line}\n").as_bytes());
    }
    // The whole line is taken, with its `\n`, and nothing after it.
    let (entry, used) = canonical_line(b"counter 8: {}\npad 8\n", 7, 16).unwrap();
    assert_eq!(used, 14);
    assert_eq!((entry.line, entry.offset, entry.size), (7, 16, 8));
}

#[test]
fn unusual_lines_take_the_exact_parser() {
    let lines = [
        "counter 8: {\"a\": \"\\u00e9\"}",
        "counter 8: {\"a\": \"\\n\"}",
        "counter 8: {\"a\": \"\\/\"}",
        "counter 8: {\"a\": \"\u{e9}\"}",
        "counter 8: {\"a\": \"\u{7f}\"}",
        "counter 8: {\"a\": \"\u{0}\"}",
        "counter 8: {\"a\": \"\t\"}",
        "counter 8: {\"b\": \"1\", \"a\": \"2\"}",
        "counter 8: {\"a\": \"1\", \"a\": \"2\"}",
        "counter 8: {\"\": \"1\", \"\": \"2\"}",
        "counter 8: {\"a\":\"1\"}",
        "counter 8: {\"a\" : \"1\"}",
        "counter 8: {\"a\": \"1\",\"b\": \"2\"}",
        "counter 8: { \"a\": \"1\"}",
        "counter 8: {\"a\": \"1\" }",
        "counter 8: {\"a\": \"1\"} ",
        "counter 8: {\"a\": \"1\"}\r\n",
        "counter 8:{}",
        "counter 8 : {}",
        "counter  8: {}",
        "counter 8: { }",
        "counter 8: {\"a\": 1}",
        "counter 8: {\"a\": \"1\"",
        "counter 8: {\"a\": \"1",
        "counter 8: {\"a",
        "counter 8: {",
        "counter 8: ",
        "counter 8: {}x",
        "counter 8: {}}",
        "counter 8: {\"a\": \"1\"}{}",
        "counter 4: {}",
        "counter 08: {}",
        "level 8: {}",
        "level 8 complex: {}",
        "level 16 signed: {}",
        "state 7: {}",
        "state 65536: {}",
        "state 000064: {}",
        "state : {}",
        "state 64 {}",
        "pad 0",
        "pad 8: {}",
        "pad 8 x",
        "pad 8\r",
        "pad",
        " counter 8: {}",
        "\tpad 8",
        "",
        "\n",
        "gauge 8: {}",
        "counter 8: {}\u{0}",
        "counter 8: {\"a\": \"1\"}\u{ff}",
    ];
    // Miri is slow, and the fast path has no `unsafe`: a sample is enough
    // there.
    for line in lines.into_iter().step_by(if cfg!(miri) { 5 } else { 1 }) {
        assert!(!fast(line), "{line:?}");
        agree(line.as_bytes());
        agree(format!("{line}\n").as_bytes());
        agree(format!("counter 8: {{}}\n{line}\ncounter 8: {{}}").as_bytes());
    }
}

#[test]
fn mixed_files_agree() {
    let long = "x".repeat(if cfg!(miri) { 100 } else { 1000 });
    let files = [
        format!("counter 8: {{\"a\": \"{long}\"}}\nstate 64: {{\"{long}\": \"\"}}"),
        String::from("counter 8: {}\n\n\ncounter 8: {}\n"),
        String::from("counter 8: {\"a\": \"1\"}\ncounter 8: {\"a\": \"1\"}"),
        String::from("pad 8\npad 8\r\npad 8\n pad 8\npad 8"),
        String::from("counter 8: {\"a\": \"1\"}\r\ncounter 8: {\"b\": \"\\u0031\"}\n"),
        String::from("level 8 float: {\"k\": \"\u{e9}\"}\nlevel 8 float: {\"k\": \"v\"}"),
    ];
    for file in &files {
        agree(file.as_bytes());
    }
    // Invalid UTF-8 after canonical lines: the same line and column.
    let mut bytes = b"counter 8: {\"a\": \"1\"}\ncounter 8: {\"b\": \"".to_vec();
    bytes.extend_from_slice(b"\xff\"}\n");
    let d = agree(&bytes);
    assert!(d[1].contains("(2, Some(19), InvalidUtf8)"), "{d:?}");
}

#[test]
fn offsets_near_the_end_agree() {
    let meta = b"state 65535: {}\npad 65535\ncounter 8: {}";
    for offset in [0, u64::MAX - 65535, u64::MAX - 8, u64::MAX - 7, u64::MAX] {
        let with = details(parse_meta(meta).with_offset(offset));
        let without = details(parse_meta(meta).with_offset(offset).without_fast_path());
        assert_eq!(with, without, "{offset}");
    }
}

proptest::proptest! {
    #[test]
    #[cfg_attr(miri, ignore)]
    fn both_paths_agree_on_meta_like_text(
        parts in proptest::collection::vec(
            proptest::sample::select(std::vec![
                "counter 8: ", "level 8 signed: ", "level 8 float: ", "state 64: ",
                "state ", "pad ", "pad 8", "8", "65536", "0", ": ", ":", " ", "\t",
                "{", "}", "{\"", "\"}", "\": \"", "\", \"", "\"", "a", "b", "ab",
                "\\u00e9", "\\\"", "\u{e9}", "\u{7f}", "\u{0}", "\n", "\r\n", "\r",
            ]),
            0..40,
        )
    ) {
        agree(parts.concat().as_bytes());
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn both_paths_agree_on_any_bytes(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)
    ) {
        agree(&bytes);
    }
}
