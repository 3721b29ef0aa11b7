//! The canonical JSON of a metric name, written in one place for the
//! encoder ([`Name::canonical_json`](crate::Name::canonical_json) and its
//! `Display`) and the decoder
//! ([`ParsedName::canonical_bytes`](crate::decode::ParsedName::canonical_bytes),
//! `write_canonical`, and the parser's "already canonical" check).
//!
//! The form is the reference client's `json.dumps(name, sort_keys=True)`
//! byte for byte: `{`, then `"key": "value"` pairs separated by `", "`, then
//! `}`. Inside strings, `"` and `\` are escaped with a backslash, `\n \r \t
//! \b \f` with their short escapes, printable ASCII (U+0020 to U+007E) is
//! itself, and every other character (other controls, U+007F, all of
//! non-ASCII) is a lowercase `\uXXXX`, a surrogate pair above U+FFFF
//! (Python's `ensure_ascii`). The output is pure ASCII.
//!
//! Each side sorts the pairs its own way (a [`Name`](crate::Name) by its
//! `&str` keys, a parsed name by its unescaped keys; both are code point
//! order, as Python sorts `str`) and hands them over in key order; this
//! module escapes and punctuates. Nothing allocates: [`ObjectBytes`] yields
//! the text byte by byte, with at most one escape (12 bytes) pending, so
//! two names compare in time proportional to their common prefix.
// The decoder's rules (see `decode`): this code runs on untrusted names.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used
    )
)]

use core::fmt;

/// A string of a name, as the writer reads it: its characters.
pub(crate) trait JsonText: Copy {
    /// The characters, unescaped.
    type Chars: Iterator<Item = char> + Clone;

    /// The characters of the text.
    fn text_chars(self) -> Self::Chars;

    /// Writes the text as it is, for [`write_plain`] (whose caller knows
    /// it needs no escape).
    fn write_text<W: fmt::Write + ?Sized>(self, w: &mut W) -> fmt::Result {
        self.text_chars().try_for_each(|c| w.write_char(c))
    }
}

impl<'a> JsonText for &'a str {
    type Chars = core::str::Chars<'a>;

    fn text_chars(self) -> Self::Chars {
        self.chars()
    }

    fn write_text<W: fmt::Write + ?Sized>(self, w: &mut W) -> fmt::Result {
        w.write_str(self)
    }
}

/// The text before the first key.
const OPEN_FIRST: &[u8] = b"{\"";
/// The text between a value and the next key.
const BETWEEN_PAIRS: &[u8] = b"\", \"";
/// The text between a key and its value.
const KEY_VALUE: &[u8] = b"\": \"";
/// The text after the last value.
const CLOSE_LAST: &[u8] = b"\"}";
/// An object without pairs.
const EMPTY: &[u8] = b"{}";

/// The short escapes: a character, and the letter after its backslash.
const SHORT_ESCAPES: [(char, u8); 7] = [
    ('"', b'"'),
    ('\\', b'\\'),
    ('\n', b'n'),
    ('\r', b'r'),
    ('\t', b't'),
    ('\u{8}', b'b'),
    ('\u{c}', b'f'),
];

/// The letter of `c`'s short escape (`n` for a newline), if it has one.
pub(crate) fn short_escape(c: char) -> Option<u8> {
    SHORT_ESCAPES
        .iter()
        .find(|(ch, _)| *ch == c)
        .map(|&(_, letter)| letter)
}

/// The character of the short escape `\letter`, if it is one of the
/// canonical form (JSON's `\/` is not: `/` is written as itself).
pub(crate) fn short_unescape(letter: u8) -> Option<char> {
    SHORT_ESCAPES
        .iter()
        .find(|(_, l)| *l == letter)
        .map(|&(ch, _)| ch)
}

/// Whether the canonical form writes `byte` as itself inside a string:
/// printable ASCII other than `"` and `\`.
pub(crate) const fn is_plain_byte(byte: u8) -> bool {
    byte >= b' ' && byte <= b'~' && byte != b'"' && byte != b'\\'
}

/// Whether every byte of `s` is plain (see [`is_plain_byte`]): the
/// canonical form writes `s` as itself.
pub(crate) const fn is_plain(s: &str) -> bool {
    let mut rest = s.as_bytes();
    while let [first, tail @ ..] = rest {
        if !is_plain_byte(*first) {
            return false;
        }
        rest = tail;
    }
    true
}

/// Whether the canonical form writes `c` as a `\uXXXX` escape (neither as
/// itself nor with a short escape).
pub(crate) fn is_unicode_escaped(c: char) -> bool {
    !(' '..='~').contains(&c) && short_escape(c).is_none()
}

/// Writes an object of plain strings whose pairs come in key order: the
/// canonical form without escaping.
///
/// The caller knows every key and value is plain (see [`is_plain`]) and the
/// keys ascend; otherwise the text is not canonical (use [`ObjectBytes`]).
pub(crate) fn write_plain<W, K, V>(w: &mut W, pairs: impl Iterator<Item = (K, V)>) -> fmt::Result
where
    W: fmt::Write + ?Sized,
    K: JsonText,
    V: JsonText,
{
    let mut before = OPEN_FIRST;
    for (key, value) in pairs {
        w.write_str(ascii(before))?;
        key.write_text(w)?;
        w.write_str(ascii(KEY_VALUE))?;
        value.write_text(w)?;
        before = BETWEEN_PAIRS;
    }
    w.write_str(ascii(if before == OPEN_FIRST {
        EMPTY
    } else {
        CLOSE_LAST
    }))
}

/// Writes the ASCII `bytes` (of an [`ObjectBytes`]) to `w`, 64 at a time.
pub(crate) fn write_bytes<W: fmt::Write + ?Sized>(
    w: &mut W,
    bytes: impl Iterator<Item = u8>,
) -> fmt::Result {
    for_each_chunk(bytes, |chunk| w.write_str(ascii(chunk)))
}

/// Feeds `bytes` to `f` in chunks of 64, the last one shorter (perhaps
/// empty): the same chunks for the same bytes, however they are produced.
pub(crate) fn for_each_chunk<E>(
    mut bytes: impl Iterator<Item = u8>,
    mut f: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut buf = [0u8; 64];
    loop {
        let mut n: usize = 0;
        for (slot, b) in buf.iter_mut().zip(&mut bytes) {
            *slot = b;
            // At most `buf.len()`: no wrapping.
            n = n.wrapping_add(1);
        }
        f(buf.get(..n).unwrap_or_default())?;
        if n < buf.len() {
            return Ok(());
        }
    }
}

/// The canonical writer only produces ASCII.
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("\u{fffd}")
}

/// The pairs of `I` (a name's pairs, distinct keys in any order) in key
/// order, without memory to sort into: each step is a minimum search over
/// all pairs, O(k²) key comparisons for k pairs.
#[derive(Clone, Debug)]
pub(crate) struct MinSorted<I, K> {
    pairs: I,
    /// The key of the last pair yielded.
    last: Option<K>,
    /// How many pairs are still to come.
    left: usize,
}

impl<I, K, V> MinSorted<I, K>
where
    I: Iterator<Item = (K, V)> + Clone,
    K: Ord + Copy,
{
    /// The `len` pairs of `pairs`, in key order.
    pub(crate) fn new(pairs: I, len: usize) -> Self {
        MinSorted {
            pairs,
            last: None,
            left: len,
        }
    }
}

impl<I, K, V> Iterator for MinSorted<I, K>
where
    I: Iterator<Item = (K, V)> + Clone,
    K: Ord + Copy,
{
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        self.left = self.left.checked_sub(1)?;
        let mut best: Option<(K, V)> = None;
        for (key, value) in self.pairs.clone() {
            let after_last = self.last.is_none_or(|last| key > last);
            if after_last && best.as_ref().is_none_or(|(b, _)| key < *b) {
                best = Some((key, value));
            }
        }
        self.last = best.as_ref().map(|(key, _)| *key);
        if best.is_none() {
            self.left = 0;
        }
        best
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

impl<I, K, V> core::iter::FusedIterator for MinSorted<I, K>
where
    I: Iterator<Item = (K, V)> + Clone,
    K: Ord + Copy,
{
}

/// The canonical JSON of an object, byte by byte, from its pairs in key
/// order (`P` yields them sorted; the caller sorts).
#[derive(Clone)]
pub(crate) struct ObjectBytes<K: JsonText, V: JsonText, P> {
    pairs: P,
    step: Step<K::Chars, V>,
    pending: Pending,
}

#[derive(Clone)]
enum Step<KeyChars, V: JsonText> {
    /// Next: `{"` and the first key, or `{}`.
    Open,
    /// Writing a key; its value comes next.
    Key(KeyChars, V),
    /// Writing a value; next: `", "` and a key, or `"}`.
    Value(V::Chars),
    Done,
}

/// Shows where the writer is, and what is pending.
impl<K: JsonText, V: JsonText, P> fmt::Debug for ObjectBytes<K, V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.step {
            Step::Open => "open",
            Step::Key(..) => "key",
            Step::Value(_) => "value",
            Step::Done => "done",
        };
        f.debug_struct("ObjectBytes")
            .field("step", &step)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl<K: JsonText, V: JsonText, P: Iterator<Item = (K, V)>> ObjectBytes<K, V, P> {
    /// The canonical text of the object whose pairs, in key order, `pairs`
    /// yields.
    pub(crate) fn new(pairs: P) -> Self {
        ObjectBytes {
            pairs,
            step: Step::Open,
            pending: Pending::default(),
        }
    }

    /// Starts the next pair after `before` (the text in front of its key),
    /// or ends the object with `end`.
    fn next_pair(&mut self, before: &[u8], end: &[u8]) {
        match self.pairs.next() {
            Some((key, value)) => {
                self.pending.set(before);
                self.step = Step::Key(key.text_chars(), value);
            }
            None => {
                self.pending.set(end);
                self.step = Step::Done;
            }
        }
    }
}

impl<K: JsonText, V: JsonText, P: Iterator<Item = (K, V)>> Iterator for ObjectBytes<K, V, P> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        loop {
            if let Some(byte) = self.pending.next() {
                return Some(byte);
            }
            let c = match &mut self.step {
                Step::Open => {
                    self.next_pair(OPEN_FIRST, EMPTY);
                    continue;
                }
                Step::Key(chars, value) => match chars.next() {
                    Some(c) => c,
                    None => {
                        let value = *value;
                        self.pending.set(KEY_VALUE);
                        self.step = Step::Value(value.text_chars());
                        continue;
                    }
                },
                Step::Value(chars) => match chars.next() {
                    Some(c) => c,
                    None => {
                        self.next_pair(BETWEEN_PAIRS, CLOSE_LAST);
                        continue;
                    }
                },
                Step::Done => return None,
            };
            match u8::try_from(c) {
                Ok(byte) if is_plain_byte(byte) => return Some(byte),
                _ => self.pending.escape(c),
            }
        }
    }
}

impl<K: JsonText, V: JsonText, P: Iterator<Item = (K, V)>> core::iter::FusedIterator
    for ObjectBytes<K, V, P>
{
}

/// Bytes still to yield: punctuation, or the escape of one character (at
/// most 12 bytes, `\ud83d\ude00`).
#[derive(Clone, Debug, Default)]
struct Pending {
    buf: [u8; 12],
    pos: u8,
    len: u8,
}

impl Pending {
    fn next(&mut self) -> Option<u8> {
        if self.pos >= self.len {
            return None;
        }
        let byte = self.buf.get(usize::from(self.pos)).copied();
        self.pos = self.pos.wrapping_add(1);
        byte
    }

    /// Makes `text` (at most 12 bytes) pending.
    fn set(&mut self, text: &[u8]) {
        let mut n = 0u8;
        for (slot, &b) in self.buf.iter_mut().zip(text) {
            *slot = b;
            n = n.wrapping_add(1);
        }
        self.pos = 0;
        self.len = n;
    }

    /// Makes the canonical spelling of `c` pending.
    fn escape(&mut self, c: char) {
        if let Some(letter) = short_escape(c) {
            return self.set(&[b'\\', letter]);
        }
        if let Ok(byte @ b' '..=b'~') = u8::try_from(c) {
            return self.set(&[byte]);
        }
        let mut units = [0u16; 2];
        let mut out = [0u8; 12];
        let mut n: usize = 0;
        for (&unit, chunk) in c
            .encode_utf16(&mut units)
            .iter()
            .zip(out.chunks_exact_mut(6))
        {
            if let [backslash, u, digits @ ..] = chunk {
                *backslash = b'\\';
                *u = b'u';
                for (digit, shift) in digits.iter_mut().zip([12u32, 8, 4, 0]) {
                    *digit = hex_digit(unit.wrapping_shr(shift));
                }
                n = n.wrapping_add(6);
            }
        }
        self.set(out.get(..n).unwrap_or_default());
    }
}

/// The lowercase hex digit of the low four bits of `n`.
fn hex_digit(n: u16) -> u8 {
    b"0123456789abcdef"
        .get(usize::from(n & 0xf))
        .copied()
        .unwrap_or(b'0')
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    fn text(pairs: &[(&'static str, &'static str)]) -> String {
        let bytes: Vec<u8> = ObjectBytes::new(pairs.iter().copied()).collect();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn min_sorted_orders_by_key() {
        let pairs = [("b", 1), ("c", 2), ("a", 3)];
        let sorted: Vec<_> = MinSorted::new(pairs.iter().copied(), 3).collect();
        assert_eq!(sorted, [("a", 3), ("b", 1), ("c", 2)]);
        let mut fused = MinSorted::new(pairs.iter().copied(), 3);
        assert_eq!(fused.by_ref().count(), 3);
        assert_eq!(fused.next(), None);
        // A length longer than the pairs ends when they do.
        assert_eq!(MinSorted::new(pairs.iter().copied(), 9).count(), 3);
    }

    #[test]
    fn punctuation_is_pythons() {
        assert_eq!(text(&[]), "{}");
        assert_eq!(text(&[("", "")]), r#"{"": ""}"#);
        assert_eq!(text(&[("a", "1"), ("b", "2")]), r#"{"a": "1", "b": "2"}"#);
    }

    #[test]
    fn escapes_are_json_dumps_ensure_ascii() {
        assert_eq!(
            text(&[("k", "q\"b\\n\nt\tr\rb\u{8}f\u{c}z\0d\u{7f}/~ ")]),
            r#"{"k": "q\"b\\n\nt\tr\rb\bf\fz\u0000d\u007f/~ "}"#
        );
        assert_eq!(text(&[("é", "日本")]), r#"{"\u00e9": "\u65e5\u672c"}"#);
        assert_eq!(text(&[("e", "😀\u{1f}")]), r#"{"e": "\ud83d\ude00\u001f"}"#);
    }

    #[test]
    fn plain_writer_matches_the_bytes() {
        for pairs in [&[][..], &[("a", "x")], &[("a", "x"), ("b", "")]] {
            let mut out = String::new();
            write_plain(&mut out, pairs.iter().copied()).unwrap();
            assert_eq!(out, text(pairs));
        }
    }

    #[test]
    fn chunks_and_classes() {
        let long: String = "x".repeat(130);
        let mut out = String::new();
        write_bytes(&mut out, long.bytes()).unwrap();
        assert_eq!(out, long);
        let mut sizes = Vec::new();
        for_each_chunk::<()>("y".repeat(128).bytes(), |c| {
            sizes.push(c.len());
            Ok(())
        })
        .unwrap();
        assert_eq!(sizes, [64, 64, 0]);
        assert!(is_plain(" ~az09/") && !is_plain("a\"") && !is_plain("\\") && !is_plain("é"));
        assert!(is_unicode_escaped('\0') && is_unicode_escaped('\u{7f}'));
        assert!(!is_unicode_escaped('\n') && !is_unicode_escaped('"') && !is_unicode_escaped('a'));
        assert_eq!(short_unescape(b'n'), Some('\n'));
        assert_eq!(short_unescape(b'/'), None);
        assert_eq!(short_escape('\u{c}'), Some(b'f'));
    }
}
