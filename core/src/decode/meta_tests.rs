//! Tests of the meta parser (a file of its own to keep `meta.rs` short).

use super::*;
use crate::decode::json::JsonErrorKind;
use std::string::ToString;
use std::vec::Vec;

fn entries(meta: &str) -> Vec<MetaEntry<'_>> {
    parse_meta(meta.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{meta:?}: {e}"))
}

/// The first error: line, column and kind.
fn error(meta: &[u8]) -> (usize, Option<usize>, MetaErrorKind) {
    let mut it = parse_meta(meta);
    for r in it.by_ref() {
        if let Err(e) = r {
            // Fused after the error.
            assert!(it.next().is_none());
            return (e.line, e.column, e.kind);
        }
    }
    panic!("{:?}: no error", std::string::String::from_utf8_lossy(meta));
}

const EXAMPLE: &str = "counter 8: {\"name\": \"1\"}
level 8 signed: {\"name\": \"2\"}
counter 8: {\"name\": \"3\"}
pad 40
state 64: {\"name\": \"100\"}";

#[test]
fn protocol_example() {
    let e = entries(EXAMPLE);
    assert_eq!(e.len(), 5);
    let kinds: Vec<_> = e.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            SlotKind::Counter,
            SlotKind::Level(LevelKind::Signed),
            SlotKind::Counter,
            SlotKind::Pad,
            SlotKind::State
        ]
    );
    let offsets: Vec<_> = e.iter().map(|e| e.offset).collect();
    assert_eq!(offsets, [0, 8, 16, 24, 64]);
    let lines: Vec<_> = e.iter().map(|e| e.line).collect();
    assert_eq!(lines, [1, 2, 3, 4, 5]);
    assert_eq!(e[3].name, None);
    assert_eq!(e[4].size, 64);
    assert_eq!(e[4].name.unwrap().get("name").unwrap(), "100");
    assert_eq!(total_size(EXAMPLE.as_bytes()), Ok(128));
}

#[test]
fn trailing_newline_or_not() {
    let with = std::format!("{EXAMPLE}\n");
    assert_eq!(entries(&with), entries(EXAMPLE));
    let crlf = EXAMPLE.replace('\n', "\r\n");
    assert_eq!(entries(&crlf), entries(EXAMPLE));
    assert_eq!(entries(""), []);
    // An empty line is not an entry only at the very end.
    assert_eq!(error(b"\n"), (1, Some(1), MetaErrorKind::EmptyType));
    assert_eq!(
        error(b"pad 8\n\npad 8"),
        (2, Some(1), MetaErrorKind::EmptyType)
    );
    assert_eq!(error(b"pad 8\n\n"), (2, Some(1), MetaErrorKind::EmptyType));
}

#[test]
fn every_known_kind() {
    let e = entries(
        "counter 8: {}\nlevel 8 signed: {}\nlevel 8 float: {}\nlevel 8 unsigned: {}\n\
         state 16: {}\nstate 65535: {}\npad 1\npad 65535\n",
    );
    let kinds: Vec<_> = e.iter().map(|e| (e.kind, e.size)).collect();
    assert_eq!(
        kinds,
        [
            (SlotKind::Counter, 8),
            (SlotKind::Level(LevelKind::Signed), 8),
            (SlotKind::Level(LevelKind::Float), 8),
            (SlotKind::Level(LevelKind::Unsigned), 8),
            (SlotKind::State, 16),
            (SlotKind::State, 65535),
            (SlotKind::Pad, 1),
            (SlotKind::Pad, 65535),
        ]
    );
    assert_eq!(e[7].end(), 32 + 16 + 65535 + 1 + 65535);
    assert_eq!(e[1].kind.to_string(), "level signed");
}

#[test]
fn unknown_types_are_skipped_by_size() {
    let e = entries(
        "histogram 24 foo: {\"a\": \"b\"}\ncounter 8: {}\nblob 3\n\
         level 8 complex: {}\nlevel 8: {}\ncounter 8 fast: {}\nstate 16 x\nfoo 1:{}\n",
    );
    assert_eq!(
        e[0].kind,
        SlotKind::Unknown {
            word: "histogram",
            param: Some("foo")
        }
    );
    assert_eq!(e[0].size, 24);
    assert_eq!(e[0].name.unwrap().get("a").unwrap(), "b");
    assert_eq!(e[1].kind, SlotKind::Counter);
    assert_eq!(e[1].offset, 24);
    assert_eq!(
        e[2].kind,
        SlotKind::Unknown {
            word: "blob",
            param: None
        }
    );
    assert_eq!(e[2].name, None);
    assert_eq!(e[3].offset, 35);
    assert_eq!(
        e[3].kind,
        SlotKind::Unknown {
            word: "level",
            param: Some("complex")
        }
    );
    assert_eq!(
        e[4].kind,
        SlotKind::Unknown {
            word: "level",
            param: None
        }
    );
    assert_eq!(
        e[5].kind,
        SlotKind::Unknown {
            word: "counter",
            param: Some("fast")
        }
    );
    assert_eq!(e[6].name, None);
    assert_eq!(e[7].kind.to_string(), "foo");
    assert_eq!(e[7].size, 1);
    // Unknown sizes are limited too.
    assert_eq!(
        error(b"blob 65536"),
        (
            1,
            Some(6),
            MetaErrorKind::BadSize {
                what: "unknown type",
                size: 65536,
                min: 1,
                max: 65535
            }
        )
    );
    assert!(matches!(
        error(b"blob 0: {}"),
        (1, Some(6), MetaErrorKind::BadSize { size: 0, .. })
    ));
    // A name after `:` must be valid, even for unknown types.
    assert_eq!(
        error(b"blob 8: nope"),
        (
            1,
            Some(9),
            MetaErrorKind::Json(JsonErrorKind::ExpectedObject)
        )
    );
}

#[test]
fn states_of_every_size_the_python_client_writes() {
    let e = entries("state 8: {}\nstate 9: {\"a\": \"1\"}\nstate 15: {\"a\": \"2\"}");
    let kinds: Vec<_> = e.iter().map(|e| (e.kind, e.size, e.offset)).collect();
    assert_eq!(
        kinds,
        [
            (SlotKind::State, 8, 0),
            (SlotKind::State, 9, 8),
            (SlotKind::State, 15, 17)
        ]
    );
    assert!(e.iter().all(|e| e.skipped().is_none()));
}

fn lenient(meta: &str) -> Vec<MetaEntry<'_>> {
    parse_meta_lenient(meta.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{meta:?}: {e}"))
}

#[test]
fn lenient_skips_what_it_cannot_interpret_and_keeps_offsets() {
    let meta = "counter 4: {\"a\": \"1\"}\n pad 0\n\npad 8: {\"a\": \"2\"}\n\
                counter 8: {\"a\": \"3\", \"a\": \"4\"}\nlevel 8: {}\n\
                level 8 complex: {}\nblob 0\nblob 3\ncounter 8: {\"a\": \"5\"}\n\n";
    let e = lenient(meta);
    let got: Vec<_> = e
        .iter()
        .map(|e| (e.line, e.offset, e.size, e.skipped()))
        .collect();
    let bad = |size, min, max| Some(Skip::BadSize { size, min, max });
    assert_eq!(
        got,
        [
            (1, 0, 4, bad(4, 8, 8)),
            (2, 4, 0, bad(0, 1, 65535)),
            (4, 4, 8, Some(Skip::NamedPad)),
            (5, 12, 8, Some(Skip::DuplicateKey)),
            (6, 20, 8, Some(Skip::MissingParameter)),
            (7, 28, 8, Some(Skip::UnknownParameter)),
            (8, 36, 0, Some(Skip::UnknownType)),
            (9, 36, 3, Some(Skip::UnknownType)),
            (10, 39, 8, None),
        ]
    );
    // Skipped entries are of an unknown kind; names kept where valid.
    assert!(
        e[..8]
            .iter()
            .all(|e| matches!(e.kind, SlotKind::Unknown { .. }))
    );
    assert_eq!(e[0].kind.to_string(), "counter");
    assert_eq!(e[0].name.unwrap().get("a").unwrap(), "1");
    assert_eq!(e[2].name.unwrap().get("a").unwrap(), "2");
    assert_eq!(e[3].name, None);
    assert_eq!(e[8].kind, SlotKind::Counter);
    // The strict parser refuses the first line.
    assert!(matches!(
        error(meta.as_bytes()),
        (1, Some(9), MetaErrorKind::BadSize { size: 4, .. })
    ));
    assert_eq!(
        Skip::BadSize {
            size: 4,
            min: 8,
            max: 8
        }
        .to_string(),
        "size must be 8, found 4"
    );
}

#[test]
fn lenient_still_refuses_what_is_malformed() {
    use MetaErrorKind as K;
    let err = |meta: &[u8]| {
        let e = parse_meta_lenient(meta)
            .find_map(Result::err)
            .unwrap_or_else(|| panic!("{:?}: no error", std::str::from_utf8(meta)));
        (e.line, e.column, e.kind)
    };
    assert!(matches!(
        err(b"counter 65536: {}"),
        (1, Some(9), K::BadSize { .. })
    ));
    assert_eq!(err(b"counter x: {}"), (1, Some(9), K::InvalidSize));
    assert_eq!(err(b"counter 4"), (1, Some(10), K::MissingName));
    assert_eq!(
        err(b"blob 8: 5"),
        (1, Some(9), K::Json(JsonErrorKind::ExpectedObject))
    );
    assert_eq!(
        err(b"counter 8: {\"a\": \"1\", \"a\": \"2\" x}"),
        (1, Some(32), K::Json(JsonErrorKind::ExpectedCommaOrBrace))
    );
    // Columns count the leading whitespace.
    assert_eq!(err(b"  counter 8 {}"), (1, Some(13), K::MissingName));
    assert_eq!(err(b"\xff"), (1, Some(1), K::InvalidUtf8));
}

#[test]
fn header_spacing() {
    let e = entries("counter\t8 :{\"a\":\"b\"}\nlevel  8   float  : {}\npad 8 \n");
    assert_eq!(e[0].kind, SlotKind::Counter);
    assert_eq!(e[1].kind, SlotKind::Level(LevelKind::Float));
    assert_eq!(e[2].kind, SlotKind::Pad);
}

#[test]
fn size_errors() {
    use MetaErrorKind as K;
    assert_eq!(error(b"counter"), (1, Some(8), K::MissingSize));
    assert_eq!(error(b"counter: {}"), (1, Some(8), K::MissingSize));
    assert_eq!(error(b"pad"), (1, Some(4), K::MissingSize));
    assert_eq!(error(b"counter x8: {}"), (1, Some(9), K::InvalidSize));
    assert_eq!(error(b"counter -8: {}"), (1, Some(9), K::InvalidSize));
    assert_eq!(error(b"counter +8: {}"), (1, Some(9), K::InvalidSize));
    assert_eq!(error(b"counter 8.0: {}"), (1, Some(9), K::InvalidSize));
    assert_eq!(
        error(b"counter 4294967296: {}"),
        (1, Some(9), K::SizeOverflow)
    );
    assert_eq!(
        error(b"counter 99999999999999999999: {}"),
        (1, Some(9), K::SizeOverflow)
    );
    assert!(matches!(
        error(b"counter 4294967295: {}"),
        (
            1,
            Some(9),
            K::BadSize {
                size: 4294967295,
                ..
            }
        )
    ));
    assert_eq!(
        error(b"pad 8\ncounter 16: {}"),
        (
            2,
            Some(9),
            K::BadSize {
                what: "counter",
                size: 16,
                min: 8,
                max: 8
            }
        )
    );
    assert!(matches!(
        error(b"level 8 signed: {}\nlevel 4 float: {}"),
        (
            2,
            Some(7),
            K::BadSize {
                what: "level",
                size: 4,
                ..
            }
        )
    ));
    assert!(matches!(
        error(b"state 7: {}"),
        (
            1,
            Some(7),
            K::BadSize {
                what: "state",
                size: 7,
                min: 8,
                max: 65535
            }
        )
    ));
    assert!(matches!(
        error(b"state 65536: {}"),
        (1, Some(7), K::BadSize { what: "state", .. })
    ));
    assert!(matches!(
        error(b"pad 0"),
        (
            1,
            Some(5),
            K::BadSize {
                what: "pad",
                min: 1,
                ..
            }
        )
    ));
    assert!(matches!(
        error(b"pad 65536"),
        (1, Some(5), K::BadSize { what: "pad", .. })
    ));
    // The message names all of it.
    let e = parse_meta(b"counter 16: {}").next().unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "meta line 1, column 9: counter size must be 8, found 16"
    );
}

#[test]
fn header_errors() {
    use MetaErrorKind as K;
    assert_eq!(error(b" counter 8: {}"), (1, Some(1), K::EmptyType));
    assert_eq!(error(b": {}"), (1, Some(1), K::EmptyType));
    assert_eq!(error(b"\tpad 8"), (1, Some(1), K::EmptyType));
    assert_eq!(error(b"{\"a\": \"b\"}"), (1, Some(1), K::InvalidType));
    assert_eq!(
        error("c\u{f6}unter 8: {}".as_bytes()),
        (1, Some(1), K::InvalidType)
    );
    assert_eq!(error(b"counter 8 {}"), (1, Some(11), K::MissingName));
    assert_eq!(
        error(b"level 8 signed x: {}"),
        (1, Some(16), K::UnexpectedWord)
    );
    assert_eq!(error(b"pad 8 x y"), (1, Some(9), K::UnexpectedWord));
    assert_eq!(error(b"counter 8"), (1, Some(10), K::MissingName));
    assert_eq!(error(b"counter 8 "), (1, Some(11), K::MissingName));
    assert_eq!(
        error(b"state 64 {\"a\": \"b\"}"),
        (1, Some(10), K::MissingName)
    );
    assert_eq!(error(b"level 8 float"), (1, Some(14), K::MissingName));
    assert_eq!(error(b"pad 8: {}"), (1, Some(6), K::UnexpectedName));
    assert_eq!(error(b"pad 8:"), (1, Some(6), K::UnexpectedName));
    assert_eq!(
        error(b"counter 8:"),
        (1, Some(11), K::Json(JsonErrorKind::UnexpectedEnd))
    );
    assert_eq!(
        error(b"counter 8: "),
        (1, Some(12), K::Json(JsonErrorKind::UnexpectedEnd))
    );
}

#[test]
fn json_errors_carry_line_and_column() {
    use JsonErrorKind as J;
    use MetaErrorKind as K;
    let meta = b"counter 8: {\"a\": \"b\"}\ncounter 8: {\"a\": \"x\\q\"}";
    assert_eq!(error(meta), (2, Some(20), K::Json(J::InvalidEscape('q'))));
    let e = parse_meta(meta).nth(1).unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "meta line 2, column 20: invalid escape \\q in metric name"
    );
    assert_eq!(e.line(), 2);
    assert_eq!(e.column(), Some(20));
    assert_eq!(
        error(b"counter 8: {\"a\": \"\x01\"}"),
        (1, Some(19), K::Json(J::ControlCharacter(1)))
    );
    assert_eq!(
        error(b"counter 8: {\"a\": \"\\ud800\"}"),
        (1, Some(19), K::Json(J::UnpairedSurrogate(0xd800)))
    );
    assert_eq!(
        error(b"counter 8: {\"a\": \"\\udc00\"}"),
        (1, Some(19), K::Json(J::UnpairedSurrogate(0xdc00)))
    );
    assert_eq!(
        error(b"counter 8: {\"a\": \"b\"} x"),
        (1, Some(23), K::Json(J::TrailingCharacters))
    );
    assert_eq!(
        error(b"counter 8: {\"a\": \"b\", \"a\": \"c\"}"),
        (1, Some(23), K::Json(J::DuplicateKey))
    );
    assert_eq!(
        error(b"counter 8: {\"a\": 1}"),
        (1, Some(18), K::Json(J::ExpectedString))
    );
    assert_eq!(
        error(b"counter 8: [\"a\"]"),
        (1, Some(12), K::Json(J::ExpectedObject))
    );
    assert_eq!(
        error(b"counter 8: {\"a\": {\"b\": \"c\"}}"),
        (1, Some(18), K::Json(J::ExpectedString))
    );
    // A raw newline can not be inside a name: it ends the line.
    assert_eq!(
        error(b"counter 8: {\"a\": \"b\nc\"}"),
        (1, Some(20), K::Json(J::UnexpectedEnd))
    );
}

#[test]
fn invalid_utf8_reports_the_line() {
    let meta = b"counter 8: {}\ncounter 8: {\"a\": \"\xc3\x28\"}\n";
    assert_eq!(error(meta), (2, Some(19), MetaErrorKind::InvalidUtf8));
    // Valid UTF-8 in one line does not excuse another.
    assert_eq!(error(b"\xff"), (1, Some(1), MetaErrorKind::InvalidUtf8));
    let e = parse_meta(b"pad 8\n\xff").nth(1).unwrap().unwrap_err();
    assert_eq!(e.to_string(), "meta line 2, column 1: invalid UTF-8");
}

#[test]
fn offset_overflow() {
    let mut it = parse_meta(b"pad 8\npad 8").with_offset(u64::MAX - 10);
    let first = it.next().unwrap().unwrap();
    assert_eq!(first.end(), u64::MAX - 2);
    let e = it.next().unwrap().unwrap_err();
    assert_eq!(
        (e.line, e.column, e.kind),
        (2, None, MetaErrorKind::OffsetOverflow)
    );
    assert_eq!(e.to_string(), "meta line 2: slot offset overflows 64 bits");
    assert!(it.next().is_none());
}

#[test]
fn error_stops_the_iteration() {
    let meta = b"counter 8: {}\ncounter 9: {}\ncounter 8: {}";
    let all: Vec<_> = parse_meta(meta).collect();
    assert_eq!(all.len(), 2);
    assert!(all[0].is_ok());
    assert!(all[1].is_err());
    let collected: Result<Vec<_>, _> = parse_meta(meta).collect();
    assert_eq!(collected.unwrap_err().line(), 2);
    assert_eq!(total_size(meta).unwrap_err().line(), 2);
}

#[test]
fn non_ascii_names() {
    let meta =
        "counter 8: {\"k\": \"é😀中\"}\ncounter 8: {\"k\": \"\\u00e9\\ud83d\\ude00\\u4e2d\"}";
    let e = entries(meta);
    assert_eq!(e[0].name.unwrap().get("k").unwrap(), "é😀中");
    assert_eq!(e[0].name, e[1].name);
    assert!(e[1].name.unwrap().is_canonical());
    assert!(!e[0].name.unwrap().is_canonical());
}

proptest::proptest! {
    #[test]
    #[cfg_attr(miri, ignore)]
    fn never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        let mut last_end = 0;
        for r in parse_meta(&bytes) {
            match r {
                Ok(e) => {
                    proptest::prop_assert_eq!(e.offset, last_end);
                    last_end = e.end();
                    if let Some(n) = e.name {
                        let _ = n.to_string();
                    }
                }
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn never_panics_on_meta_like_text(
        parts in proptest::collection::vec(
            proptest::sample::select(std::vec![
                "counter", "level", "state", "pad", "signed", "float", "x", " ", "\t",
                "8", "16", "64", "0", "70000", ":", ": ", "{", "}", "\"a\"", "\"b\"", ",",
                "\"\\u00e9\"", "\"\\ud800\"", "\n", "\r\n", "\u{e9}", "\\", "\u{0}",
            ]),
            0..40,
        )
    ) {
        let s: String = parts.concat();
        let n = parse_meta(s.as_bytes()).count();
        proptest::prop_assert!(n <= s.len());
        let _ = total_size(s.as_bytes());
    }
}

#[test]
fn meta_lines_counts_newlines_plus_one_in_every_chunk() {
    // Across the 255-byte chunks: none, every byte, and runs that reach
    // and cross a chunk's end.
    let naive = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count() + 1;
    let mut all = Vec::new();
    for len in [0usize, 1, 254, 255, 256, 510, 511, 4096] {
        all.push(std::vec![b'\n'; len]);
        all.push(std::vec![b'x'; len]);
        all.push(
            (0..len)
                .map(|i| if i % 3 == 0 { b'\n' } else { b'a' })
                .collect(),
        );
    }
    for text in &all {
        assert_eq!(meta_lines(text), naive(text), "{} bytes", text.len());
    }
    assert_eq!(meta_lines(b"counter 8: {}"), 1);
}
