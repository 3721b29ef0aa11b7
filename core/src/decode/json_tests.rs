//! Tests of the metric name parser (a file of its own to keep `json.rs`
//! short).

use super::*;
use std::string::{String, ToString};
use std::vec::Vec;

fn name(s: &str) -> ParsedName<'_> {
    parse_name(s, 0).unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

fn err(s: &str) -> JsonError {
    match parse_name(s, 0) {
        Ok(n) => panic!("{s}: parsed as {n:?}"),
        Err(e) => e,
    }
}

fn canonical(s: &str) -> String {
    let mut out = String::new();
    name(s).write_canonical(&mut out).unwrap();
    let bytes: Vec<u8> = name(s).canonical_bytes().collect();
    assert_eq!(out.as_bytes(), &bytes[..]);
    out
}

#[test]
fn simple() {
    let n = name(r#"{"group": "http", "metric": "requests"}"#);
    assert_eq!(n.len(), 2);
    assert!(n.is_canonical());
    let pairs: Vec<_> = n
        .pairs()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("group".into(), "http".into()),
            ("metric".into(), "requests".into())
        ]
    );
    assert_eq!(n.get("group").unwrap(), "http");
    assert!(n.get("nope").is_none());
    assert_eq!(n.get("metric").unwrap().as_str(), Some("requests"));
}

#[test]
fn empty_object() {
    let n = name("{}");
    assert!(n.is_empty());
    assert!(n.is_canonical());
    assert_eq!(canonical("{ }"), "{}");
    assert!(!name("{ }").is_canonical());
    assert_eq!(n.pairs().count(), 0);
}

#[test]
fn whitespace_variants() {
    for s in [
        r#"{ "a" : "b" }"#,
        "{\t\"a\"\t:\t\"b\"\t}",
        r#"  {"a":"b"}  "#,
        "{\"a\":\"b\"}\r",
        "{\"a\" :\"b\" }",
    ] {
        let n = name(s);
        assert!(!n.is_canonical(), "{s}");
        assert_eq!(n.get("a").unwrap(), "b");
        assert_eq!(canonical(s), r#"{"a": "b"}"#);
    }
    assert!(name(r#"{"a": "b"}"#).is_canonical());
    // Leading/trailing whitespace is outside the raw object.
    assert!(name(r#"  {"a": "b"}  "#).is_canonical());
    assert_eq!(name(r#"  {"a": "b"}  "#).raw(), r#"{"a": "b"}"#);
}

#[test]
fn escapes() {
    let n = name(r#"{"k": "q\" b\\ s\/ \b\f\n\r\t \u0041 \u00e9 \ud83d\ude00"}"#);
    let v = n.get("k").unwrap();
    assert_eq!(v, "q\" b\\ s/ \u{8}\u{c}\n\r\t A \u{e9} \u{1f600}");
    assert_eq!(v.as_str(), None);
    assert_eq!(
        v.to_string(),
        "q\" b\\ s/ \u{8}\u{c}\n\r\t A \u{e9} \u{1f600}"
    );
    assert!(!n.is_canonical());
    assert_eq!(
        canonical(r#"{"k": "q\" b\\ s\/ \b\f\n\r\t \u0041 \u00e9 \ud83d\ude00"}"#),
        r#"{"k": "q\" b\\ s/ \b\f\n\r\t A \u00e9 \ud83d\ude00"}"#
    );
    // Raw non-ASCII is escaped in the canonical form.
    assert_eq!(
        canonical("{\"k\": \"é😀中\u{7f}\"}"),
        r#"{"k": "\u00e9\ud83d\ude00\u4e2d\u007f"}"#
    );
    // Uppercase hex is not canonical.
    assert!(!name(r#"{"k": "\u00E9"}"#).is_canonical());
    assert!(name(r#"{"k": "\u00e9"}"#).is_canonical());
    assert!(name(r#"{"k": "\u0000\u001f\u007f"}"#).is_canonical());
    assert!(!name(r#"{"k": "\u000a"}"#).is_canonical());
    assert_eq!(canonical(r#"{"k": "\u000a\u0022"}"#), r#"{"k": "\n\""}"#);
    // Every spelling of a surrogate pair.
    assert_eq!(name(r#"{"k": "\uD83D\uDE00"}"#).get("k").unwrap(), "😀");
    assert_eq!(name(r#"{"\ud83d\ude00": "x"}"#).get("😀").unwrap(), "x");
}

#[test]
fn errors_with_positions() {
    use JsonErrorKind as K;
    assert_eq!(err(""), (K::UnexpectedEnd, 0));
    assert_eq!(err("  ["), (K::ExpectedObject, 2));
    assert_eq!(err(r#"{"a": 1}"#), (K::ExpectedString, 6));
    assert_eq!(err(r#"{"a": {"b": "c"}}"#), (K::ExpectedString, 6));
    assert_eq!(err(r#"{"a": ["b"]}"#), (K::ExpectedString, 6));
    assert_eq!(err(r#"{"a": null}"#), (K::ExpectedString, 6));
    assert_eq!(err(r#"{a: "b"}"#), (K::ExpectedString, 1));
    assert_eq!(err(r#"{"a" "b"}"#), (K::ExpectedColon, 5));
    assert_eq!(err(r#"{"a": "b" "c": "d"}"#), (K::ExpectedCommaOrBrace, 10));
    assert_eq!(err(r#"{"a": "b",}"#), (K::ExpectedString, 10));
    assert_eq!(err(r#"{"a": "b""#), (K::UnexpectedEnd, 9));
    assert_eq!(err(r#"{"a": "b"#), (K::UnexpectedEnd, 8));
    assert_eq!(err(r#"{"a": "b\"#), (K::UnexpectedEnd, 9));
    assert_eq!(err("{\"a\": \"b\u{1}\"}"), (K::ControlCharacter(1), 8));
    assert_eq!(err("{\"a\": \"\0\"}"), (K::ControlCharacter(0), 7));
    assert_eq!(err(r#"{"a": "x\q"}"#), (K::InvalidEscape('q'), 8));
    assert_eq!(err(r#"{"a": "x\é"}"#), (K::InvalidEscape('é'), 8));
    assert_eq!(err(r#"{"a": "\u12"}"#), (K::InvalidUnicodeEscape, 7));
    assert_eq!(err(r#"{"a": "\u+123"}"#), (K::InvalidUnicodeEscape, 7));
    assert_eq!(err(r#"{"a": "\ud800"}"#), (K::UnpairedSurrogate(0xd800), 7));
    assert_eq!(
        err(r#"{"a": "\ud800x"}"#),
        (K::UnpairedSurrogate(0xd800), 7)
    );
    assert_eq!(
        err(r#"{"a": "\ud800\u0041"}"#),
        (K::UnpairedSurrogate(0xd800), 7)
    );
    assert_eq!(
        err(r#"{"a": "\ud800\ud800"}"#),
        (K::UnpairedSurrogate(0xd800), 7)
    );
    assert_eq!(
        err(r#"{"a": "\ud800\uzzzz"}"#),
        (K::InvalidUnicodeEscape, 13)
    );
    assert_eq!(err(r#"{"a": "\udc00"}"#), (K::UnpairedSurrogate(0xdc00), 7));
    assert_eq!(
        err(r#"{"a": "\ude00\ud83d"}"#),
        (K::UnpairedSurrogate(0xde00), 7)
    );
    assert_eq!(err(r#"{"a": "b", "a": "c"}"#), (K::DuplicateKey, 11));
    assert_eq!(
        err(r#"{"b": "1", "a": "2", "b": "3"}"#),
        (K::DuplicateKey, 21)
    );
    assert_eq!(err(r#"{"a": "1", "\u0061": "2"}"#), (K::DuplicateKey, 11));
    assert_eq!(err(r#"{"a": "b"} x"#), (K::TrailingCharacters, 11));
    assert_eq!(err(r#"{"a": "b"}}"#), (K::TrailingCharacters, 10));
    assert_eq!(err("{"), (K::UnexpectedEnd, 1));
    assert_eq!(err(r#"{"a""#), (K::UnexpectedEnd, 4));
    assert_eq!(err(r#"{"a":"#), (K::UnexpectedEnd, 5));
}

#[test]
fn starts_at_offset() {
    let line = r#"counter 8: {"a": "b"}"#;
    let n = parse_name(line, 10).unwrap();
    assert_eq!(n.raw(), r#"{"a": "b"}"#);
    assert_eq!(
        parse_name(r#"counter 8: {"a": 1}"#, 10),
        Err((JsonErrorKind::ExpectedString, 17))
    );
}

#[test]
fn many_unsorted_keys() {
    // Descending keys: every key is checked against all earlier ones.
    let n: usize = MAX_UNSORTED_PAIRS;
    let mut s = String::from("{");
    for i in (0..n).rev() {
        if i != n - 1 {
            s.push_str(", ");
        }
        s.push_str(&std::format!("\"k{i:03}\": \"{i}\""));
    }
    s.push('}');
    let parsed = name(&s);
    assert_eq!(parsed.len(), n);
    assert!(!parsed.is_canonical());
    let c = canonical(&s);
    assert!(c.starts_with(r#"{"k000": "0", "k001": "1""#), "{c}");
    assert!(name(&c).is_canonical());
    assert!(name(&c).canonical_eq(&parsed));
}

#[test]
fn many_sorted_keys_are_fine_but_unsorted_are_limited() {
    let keys = |order: &mut dyn Iterator<Item = usize>| {
        let body: Vec<String> = order.map(|i| std::format!("\"k{i:05}\":\"\"")).collect();
        std::format!("{{{}}}", body.join(","))
    };
    // Sorted: any number, and the canonical form keeps the file order.
    let many = if cfg!(miri) { 300 } else { 5000 };
    let s = keys(&mut (0..many));
    let n = name(&s);
    assert_eq!(n.len(), many);
    assert!(!n.is_canonical());
    assert!(canonical(&s).starts_with(r#"{"k00000": "", "k00001": """#));
    // Unsorted: at most MAX_UNSORTED_PAIRS.
    let s = keys(&mut (0..MAX_UNSORTED_PAIRS).rev());
    assert_eq!(name(&s).len(), MAX_UNSORTED_PAIRS);
    let s = keys(&mut (0..=MAX_UNSORTED_PAIRS).rev());
    let at = s.rfind("\"k00000\"").unwrap();
    assert_eq!(err(&s), (JsonErrorKind::TooManyUnsortedKeys, at));
    // Out of order late in a long name: caught where it happens.
    let s = keys(&mut (1..200).chain(0..1));
    let at = s.rfind("\"k00000\"").unwrap();
    assert_eq!(err(&s), (JsonErrorKind::TooManyUnsortedKeys, at));
    // Out of order early, within the limit: fine.
    let s = keys(&mut (1..MAX_UNSORTED_PAIRS).chain(0..1));
    assert_eq!(name(&s).len(), MAX_UNSORTED_PAIRS);
}

/// Walks everything a name offers (as the fuzz target does).
fn walk(n: &ParsedName<'_>) -> String {
    for (k, v) in n.pairs() {
        let _ = (k.chars().count(), v.to_string(), k == "x", k.cmp(&v));
    }
    assert_eq!(n.sorted_pairs().count(), n.len());
    assert_eq!(n.pairs().count(), n.len());
    let c = n.to_string();
    assert!(c.is_ascii());
    c
}

proptest::proptest! {
    #[test]
    #[cfg_attr(miri, ignore)]
    fn never_panics_on_any_text(s in "(?s).*") {
        if let Ok(n) = parse_name(&s, 0) {
            walk(&n);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn never_panics_on_json_like_text(
        parts in proptest::collection::vec(
            proptest::sample::select(std::vec![
                "{", "}", "\"", "\\", ":", ",", " ", "a", "b", "\\u", "d83d", "de00",
                "D800", "dc00", "0041", "00e9", "\\n", "\\\"", "é", "\u{1}", "\t", "[",
            ]),
            0..40,
        )
    ) {
        let s: String = parts.concat();
        if let Ok(n) = parse_name(&s, 0) {
            let c = walk(&n);
            let again = parse_name(&c, 0).unwrap();
            proptest::prop_assert!(again.is_canonical());
            proptest::prop_assert!(again.canonical_eq(&n));
        }
    }
}

#[test]
fn word_scans_find_the_first_byte_as_a_byte_loop_does() {
    let plain = |x: u8| x != b'"' && x != b'\\' && (0x20..0x7f).contains(&x);
    // Every byte value at every place of lines of up to 19 bytes, after
    // plain bytes and before bytes that are anything.
    // Under Miri (about a thousand times slower) the byte values at the
    // edges of each class only.
    let all: std::vec::Vec<u8> = if cfg!(miri) {
        std::vec![0, b'\n', 0x1f, 0x20, b'"', b'\\', 0x7e, 0x7f, 0x80, 0xff]
    } else {
        (0..=255u8).collect()
    };
    for len in 0..20usize {
        for at in 0..len {
            for &x in &all {
                for fill in [b'a', 0xff, b'\n', 0] {
                    let mut b = std::vec![b'x'; len];
                    b[at] = x;
                    for y in b.iter_mut().skip(at + 1) {
                        *y = fill;
                    }
                    let run = b.iter().position(|&y| !plain(y)).unwrap_or(len);
                    assert_eq!(plain_run(&b, 0), run, "{b:?}");
                    let nl = b.iter().position(|&y| y == b'\n');
                    assert_eq!(find_newline(&b), nl, "{b:?}");
                }
            }
        }
    }
}
