//! One test per row of the decision table in `cli/README.md` ("Odd lines:
//! what we read, beside the original agent"): what the strict decoder
//! does with the line, and what every reader command shows (the lenient
//! [`ParsedMeta`] they all read through).
//!
//! Each odd line sits between two good counters, `before` (1) and `after`
//! (2); the odd slot's bytes are `0xAA`. Reading `after` as 2 proves that
//! the odd slot occupied exactly its declared size.

use cantal_core::decode::{self, Skip};
use cantal_mmap::read::{OwnedValue, ParsedMeta, SlotType};
use std::path::Path;

const BEFORE: &str = "counter 8: {\"m\": \"before\"}";
const AFTER: &str = "counter 8: {\"m\": \"after\"}";

/// The meta `BEFORE \n odd \n AFTER`, and its values (`odd_size` bytes of
/// 0xAA for the odd slot).
fn file(odd: &str, odd_size: usize) -> (String, Vec<u8>) {
    let meta = format!("{BEFORE}\n{odd}\n{AFTER}");
    let mut values = 1u64.to_ne_bytes().to_vec();
    values.extend(std::iter::repeat_n(0xAA, odd_size));
    values.extend(2u64.to_ne_bytes());
    (meta, values)
}

/// The strict decoder's first error, as text, if any.
fn strict(meta: &str) -> Option<String> {
    let mut entries = Vec::new();
    for e in decode::parse_meta(meta.as_bytes()) {
        match e {
            Ok(e) => entries.push(e),
            Err(e) => return Some(e.to_string()),
        }
    }
    decode::find_duplicate(&mut entries)
        .err()
        .map(|e| e.to_string())
}

/// What the readers show: (name, type, skipped reason, value) per slot.
fn lenient(meta: &str, values: &[u8]) -> Vec<(String, String, Option<String>, OwnedValue)> {
    let layout = ParsedMeta::parse(meta.as_bytes(), "t.meta").expect("lenient parse");
    let read = layout.read(values, Path::new("t.values")).expect("values");
    for s in layout.slots() {
        assert_eq!(s.skipped().is_some(), s.ty == SlotType::Unknown, "{s:?}");
    }
    layout
        .into_slots()
        .into_iter()
        .zip(read)
        .map(|(s, v)| {
            let kind = s.kind().to_string();
            (
                s.name().to_string(),
                kind,
                s.skipped().map(str::to_string),
                v,
            )
        })
        .collect()
}

/// Checks the row of a line the readers skip: `before` and `after` read
/// right, and one row between them with `name` and `why`.
fn skipped_row(odd: &str, odd_size: usize, name: &str, why: &str) {
    let (meta, values) = file(odd, odd_size);
    let rows = lenient(&meta, &values);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0].3, OwnedValue::Counter(1));
    assert_eq!(rows[2].3, OwnedValue::Counter(2), "offset after {odd:?}");
    assert_eq!(rows[1].0, name);
    assert_eq!(rows[1].2.as_deref(), Some(why));
    assert_eq!(rows[1].3, OwnedValue::Unknown);
}

/// Checks the row of a line the readers read normally: 3 rows, `before`
/// and `after` right, and the middle one `value`.
fn read_row(odd: &str, odd_size: usize, value: OwnedValue) {
    let (meta, values) = file(odd, odd_size);
    let rows = lenient(&meta, &values);
    let got: Vec<_> = rows.iter().map(|r| (r.2.clone(), r.3.clone())).collect();
    assert_eq!(
        got,
        [
            (None, OwnedValue::Counter(1)),
            (None, value),
            (None, OwnedValue::Counter(2))
        ]
    );
}

#[test]
fn unknown_level_parameter() {
    let odd = "level 8 complex: {\"m\": \"odd\"}";
    assert_eq!(strict(&file(odd, 8).0), None, "an unknown entry");
    skipped_row(odd, 8, r#"{"m": "odd"}"#, "unknown parameter");
}

#[test]
fn level_without_parameter() {
    let odd = "level 8: {\"m\": \"odd\"}";
    assert_eq!(strict(&file(odd, 8).0), None);
    skipped_row(
        odd,
        8,
        r#"{"m": "odd"}"#,
        "missing parameter (level needs signed, float or unsigned)",
    );
}

#[test]
fn unknown_type_with_json() {
    let odd = "histogram 24 x: {\"m\": \"odd\"}";
    assert_eq!(strict(&file(odd, 24).0), None);
    skipped_row(odd, 24, r#"{"m": "odd"}"#, "unknown type");
}

#[test]
fn unknown_type_without_json() {
    let odd = "blob 3";
    assert_eq!(strict(&file(odd, 3).0), None);
    skipped_row(odd, 3, "", "unknown type");
}

#[test]
fn unknown_type_with_a_non_object_refuses_the_file() {
    let (meta, _) = file("blob 8: 5", 8);
    let e = strict(&meta).unwrap();
    assert!(e.starts_with("meta line 2, column 9: "), "{e}");
    let e = ParsedMeta::parse(meta.as_bytes(), "t.meta").unwrap_err();
    assert!(
        e.to_string().starts_with("t.meta: meta line 2, column 9: "),
        "{e}"
    );
}

#[test]
fn counter_of_size_4() {
    let odd = "counter 4: {\"m\": \"odd\"}";
    let e = strict(&file(odd, 4).0).unwrap();
    assert_eq!(e, "meta line 2, column 9: counter size must be 8, found 4");
    skipped_row(odd, 4, r#"{"m": "odd"}"#, "size must be 8, found 4");
}

#[test]
fn counter_of_size_16() {
    let odd = "counter 16: {\"m\": \"odd\"}";
    assert!(strict(&file(odd, 16).0).is_some());
    skipped_row(odd, 16, r#"{"m": "odd"}"#, "size must be 8, found 16");
}

#[test]
fn state_8_reads_a_timestamp_and_no_text() {
    let odd = "state 8: {\"m\": \"odd\"}";
    assert_eq!(strict(&file(odd, 8).0), None);
    read_row(
        odd,
        8,
        OwnedValue::State {
            timestamp: u64::from_ne_bytes([0xAA; 8]),
            text: String::new(),
        },
    );
}

#[test]
fn state_12_reads_four_bytes_of_text() {
    let odd = "state 12: {\"m\": \"odd\"}";
    assert_eq!(strict(&file(odd, 12).0), None);
    read_row(
        odd,
        12,
        OwnedValue::State {
            timestamp: u64::from_ne_bytes([0xAA; 8]),
            text: "\u{fffd}".repeat(4),
        },
    );
}

#[test]
fn pad_with_json() {
    let odd = "pad 8: {\"m\": \"odd\"}";
    assert!(strict(&file(odd, 8).0).is_some());
    skipped_row(odd, 8, r#"{"m": "odd"}"#, "a pad with a metric name");
}

#[test]
fn pad_0() {
    let odd = "pad 0";
    assert!(strict(&file(odd, 0).0).is_some());
    skipped_row(odd, 0, "", "size must be 1..=65535, found 0");
}

#[test]
fn duplicate_key_in_one_object() {
    let odd = "counter 8: {\"m\": \"odd\", \"m\": \"again\"}";
    assert!(strict(&file(odd, 8).0).unwrap().contains("duplicate key"));
    skipped_row(odd, 8, "", "the same key twice in the metric name");
    // The decoder's reason, for callers of the decoder itself.
    let (meta, _) = file(odd, 8);
    let e = decode::parse_meta_lenient(meta.as_bytes()).nth(1).unwrap();
    assert_eq!(e.unwrap().skipped(), Some(Skip::DuplicateKey));
}

#[test]
fn the_same_name_on_two_lines_keeps_the_first() {
    let odd = "level 8 signed: {\"m\": \"before\"}";
    let e = strict(&file(odd, 8).0).unwrap();
    assert_eq!(e, "meta lines 1 and 2 have the same metric name");
    skipped_row(odd, 8, r#"{"m": "before"}"#, "the same name as meta line 1");
}

#[test]
fn a_double_space_after_the_type() {
    let odd = "counter  8: {\"m\": \"odd\"}";
    assert_eq!(strict(&file(odd, 8).0), None);
    read_row(odd, 8, OwnedValue::Counter(u64::from_ne_bytes([0xAA; 8])));
}

#[test]
fn a_leading_space() {
    let odd = " counter 8: {\"m\": \"odd\"}";
    let e = strict(&file(odd, 8).0).unwrap();
    assert_eq!(e, "meta line 2, column 1: missing type word");
    read_row(odd, 8, OwnedValue::Counter(u64::from_ne_bytes([0xAA; 8])));
}

#[test]
fn two_trailing_newlines() {
    let meta = format!("{BEFORE}\n{AFTER}\n\n");
    let values = [1u64.to_ne_bytes(), 2u64.to_ne_bytes()].concat();
    assert_eq!(
        strict(&meta).unwrap(),
        "meta line 3, column 1: missing type word"
    );
    let rows = lenient(&meta, &values);
    let got: Vec<_> = rows.iter().map(|r| r.3.clone()).collect();
    assert_eq!(got, [OwnedValue::Counter(1), OwnedValue::Counter(2)]);
    let layout = ParsedMeta::parse(meta.as_bytes(), "t.meta").unwrap();
    assert_eq!((layout.size(), layout.skipped()), (16, 0));
}

#[test]
fn a_blank_line_between_lines() {
    let meta = format!("{BEFORE}\n\n{AFTER}");
    let values = [1u64.to_ne_bytes(), 2u64.to_ne_bytes()].concat();
    assert!(strict(&meta).is_some());
    let layout = ParsedMeta::parse(meta.as_bytes(), "t.meta").unwrap();
    let lines: Vec<_> = layout.slots().iter().map(|s| s.line).collect();
    assert_eq!(lines, [1, 3], "lines keep their numbers");
    let read = layout.read(&values, Path::new("t.values")).unwrap();
    assert_eq!(read, [OwnedValue::Counter(1), OwnedValue::Counter(2)]);
}
