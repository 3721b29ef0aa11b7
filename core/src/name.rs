//! Metric names: string key/value pairs, and their canonical JSON form.
//!
//! A Cantal metric is identified by a JSON object of strings, for example
//! `{"group": "main_loop", "metric": "ticks"}`. The reference Python client
//! writes it with `json.dumps(pairs, sort_keys=True)`, and so do we, byte for
//! byte: keys sorted by code point, separators `", "` and `": "`, and every
//! character outside printable ASCII escaped (`\n`, `\t`, ... or `\uXXXX`,
//! with surrogate pairs above U+FFFF). The encoding is produced lazily
//! ([`CanonicalJson`]) so that names can be compared and written without an
//! allocator.

use core::cmp::Ordering;
use core::fmt;

/// One `key = value` pair of a metric name.
pub type Pair = (&'static str, &'static str);

/// The identity of a metric: a set of string key/value pairs, fixed at
/// declaration.
///
/// `Name::new` is a `const fn`, so a metric can be a plain `static` item. A
/// key given twice is rejected when the name is built (at compile time for a
/// `static`).
///
/// # Examples
///
/// ```
/// use cantal_core::Name;
///
/// const NAME: Name = Name::new(&[("metric", "ticks"), ("group", "main_loop")]);
/// assert_eq!(NAME.to_string(), r#"{"group": "main_loop", "metric": "ticks"}"#);
/// assert_eq!(NAME.get("group"), Some("main_loop"));
/// ```
#[derive(Clone, Copy)]
pub struct Name {
    pairs: &'static [Pair],
}

impl Name {
    /// A name made of `pairs`, in any order.
    ///
    /// # Panics
    ///
    /// When a key appears twice; in a `const` or `static` initializer this
    /// is a compile-time error.
    pub const fn new(pairs: &'static [Pair]) -> Name {
        let mut i = 0;
        while i < pairs.len() {
            let mut j = i + 1;
            while j < pairs.len() {
                if str_eq(pairs[i].0, pairs[j].0) {
                    panic!("a metric name has the same key twice");
                }
                j += 1;
            }
            i += 1;
        }
        Name { pairs }
    }

    /// The pairs, in declaration order.
    pub const fn pairs(&self) -> &'static [Pair] {
        self.pairs
    }

    /// The value for `key`, if the name has it.
    pub fn get(&self, key: &str) -> Option<&'static str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// The canonical JSON encoding, byte by byte (it is pure ASCII).
    ///
    /// `Display` writes the same text.
    pub fn canonical_json(&self) -> CanonicalJson<'_> {
        CanonicalJson::new(self.pairs)
    }

    /// Compares two names the way the reference client orders slots: by
    /// their canonical JSON text.
    pub fn canonical_cmp(&self, other: &Name) -> Ordering {
        self.canonical_json().cmp(other.canonical_json())
    }
}

impl PartialEq for Name {
    /// Two names are equal when they have the same pairs, in any order.
    fn eq(&self, other: &Name) -> bool {
        self.pairs.len() == other.pairs.len()
            && self.pairs.iter().all(|(k, v)| other.get(k) == Some(*v))
    }
}

impl Eq for Name {}

impl fmt::Display for Name {
    /// Writes the canonical JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        let mut len = 0;
        for byte in self.canonical_json() {
            if len == buf.len() {
                f.write_str(ascii(&buf))?;
                len = 0;
            }
            if let Some(slot) = buf.get_mut(len) {
                *slot = byte;
            }
            len += 1;
        }
        f.write_str(ascii(buf.get(..len).unwrap_or_default()))
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// The canonical encoder only produces ASCII.
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("\u{fffd}")
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The canonical JSON text of a [`Name`], as an iterator of bytes.
///
/// Produced on the fly: no allocation, and two names compare in time
/// proportional to their common prefix.
#[derive(Clone)]
pub struct CanonicalJson<'n> {
    pairs: &'n [Pair],
    /// Index of the pair being written, `None` before the first.
    pair: Option<usize>,
    /// What comes after the bytes in `buf` and `chars` are used up.
    step: Step,
    chars: core::str::Chars<'n>,
    buf: [u8; 12],
    pos: u8,
    len: u8,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Next: `{`, then the first pair or `}`.
    Open,
    /// The key has been written; next: `": "` and the value.
    AfterKey,
    /// The value has been written; next: `"`, then `, ` and a key or `}`.
    AfterValue,
    Done,
}

impl<'n> CanonicalJson<'n> {
    fn new(pairs: &'n [Pair]) -> Self {
        CanonicalJson {
            pairs,
            pair: None,
            step: Step::Open,
            chars: "".chars(),
            buf: [0; 12],
            pos: 0,
            len: 0,
        }
    }

    /// The index of the smallest key greater than the current one.
    fn next_pair(&self) -> Option<usize> {
        let current = self.pair.and_then(|i| self.pairs.get(i)).map(|p| p.0);
        let mut best: Option<usize> = None;
        for (i, (key, _)) in self.pairs.iter().enumerate() {
            let after_current = current.is_none_or(|c| *key > c);
            let before_best = best
                .and_then(|b| self.pairs.get(b))
                .is_none_or(|(b, _)| key < b);
            if after_current && before_best {
                best = Some(i);
            }
        }
        best
    }

    fn set_literal(&mut self, text: &[u8]) {
        let n = text.len().min(self.buf.len());
        self.buf[..n].copy_from_slice(&text[..n]);
        self.pos = 0;
        self.len = n as u8;
    }

    fn set_escaped(&mut self, c: char) {
        let mut tmp = [0u8; 12];
        let n = escape(c, &mut tmp);
        self.set_literal(&tmp[..n]);
    }

    /// Starts writing the key of the next pair, or closes the object.
    /// `first`: nothing has been written yet; otherwise a value's closing
    /// quote is due.
    fn open_next_pair(&mut self, first: bool) {
        match self.next_pair() {
            Some(i) => {
                self.pair = Some(i);
                self.set_literal(if first { b"{\"" } else { b"\", \"" });
                self.chars = self.pairs[i].0.chars();
                self.step = Step::AfterKey;
            }
            None => {
                self.set_literal(if first { b"{}" } else { b"\"}" });
                self.step = Step::Done;
            }
        }
    }
}

impl Iterator for CanonicalJson<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        loop {
            if self.pos < self.len {
                let byte = self.buf[usize::from(self.pos)];
                self.pos += 1;
                return Some(byte);
            }
            if let Some(c) = self.chars.next() {
                self.set_escaped(c);
                continue;
            }
            match self.step {
                Step::Open => self.open_next_pair(true),
                Step::AfterKey => {
                    self.set_literal(b"\": \"");
                    let i = self.pair.unwrap_or(0);
                    self.chars = self.pairs[i].1.chars();
                    self.step = Step::AfterValue;
                }
                Step::AfterValue => self.open_next_pair(false),
                Step::Done => return None,
            }
        }
    }
}

/// Writes the escaped form of `c` as Python's `json.dumps` (with
/// `ensure_ascii`) does; returns the number of bytes.
fn escape(c: char, out: &mut [u8; 12]) -> usize {
    let short = match c {
        '"' => Some(b'"'),
        '\\' => Some(b'\\'),
        '\n' => Some(b'n'),
        '\r' => Some(b'r'),
        '\t' => Some(b't'),
        '\u{8}' => Some(b'b'),
        '\u{c}' => Some(b'f'),
        _ => None,
    };
    if let Some(s) = short {
        out[0] = b'\\';
        out[1] = s;
        return 2;
    }
    if (' '..='~').contains(&c) {
        out[0] = c as u8;
        return 1;
    }
    let mut units = [0u16; 2];
    let mut n = 0;
    for unit in c.encode_utf16(&mut units).iter() {
        let chunk = &mut out[n * 6..n * 6 + 6];
        chunk[0] = b'\\';
        chunk[1] = b'u';
        for (k, shift) in [12u32, 8, 4, 0].iter().enumerate() {
            let nibble = ((unit >> shift) & 0xf) as u8;
            chunk[2 + k] = if nibble < 10 {
                b'0' + nibble
            } else {
                b'a' + nibble - 10
            };
        }
        n += 1;
    }
    n * 6
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::{String, ToString};

    fn json(pairs: &'static [Pair]) -> String {
        let bytes: std::vec::Vec<u8> = Name::new(pairs).canonical_json().collect();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn sorts_keys_and_uses_python_separators() {
        assert_eq!(
            json(&[("metric", "ticks"), ("group", "main_loop")]),
            r#"{"group": "main_loop", "metric": "ticks"}"#
        );
    }

    #[test]
    fn empty_name_and_empty_strings() {
        assert_eq!(json(&[]), "{}");
        assert_eq!(json(&[("", "")]), r#"{"": ""}"#);
    }

    #[test]
    fn escapes_like_json_dumps() {
        assert_eq!(
            json(&[("k", "q\"b\\n\nt\tr\rb\u{8}f\u{c}z\0d\u{7f}/")]),
            r#"{"k": "q\"b\\n\nt\tr\rb\bf\fz\u0000d\u007f/"}"#
        );
        assert_eq!(json(&[("é", "日本")]), r#"{"\u00e9": "\u65e5\u672c"}"#);
        assert_eq!(json(&[("e", "😀")]), r#"{"e": "\ud83d\ude00"}"#);
    }

    #[test]
    fn sorts_by_code_point_not_by_escaped_text() {
        // 'é' (U+00E9) sorts after 'z' although its escape starts with '\'.
        assert_eq!(
            json(&[("é", "1"), ("z", "2")]),
            r#"{"z": "2", "\u00e9": "1"}"#
        );
    }

    #[test]
    fn display_matches_iterator_for_long_names() {
        static LONG: [Pair; 3] = [
            ("a", "x"),
            ("b", "0123456789abcdef0123456789abcdef0123456789abcdef"),
            ("c", "é"),
        ];
        let name = Name::new(&LONG);
        assert_eq!(name.to_string(), json(&LONG));
    }

    #[test]
    fn equality_ignores_order_and_cmp_follows_text() {
        let a = Name::new(&[("a", "1"), ("b", "2")]);
        let b = Name::new(&[("b", "2"), ("a", "1")]);
        let c = Name::new(&[("a", "1"), ("b", "3")]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.canonical_cmp(&b), Ordering::Equal);
        assert_eq!(a.canonical_cmp(&c), Ordering::Less);
    }

    #[test]
    #[should_panic(expected = "same key twice")]
    fn duplicate_keys_panic() {
        let pairs: &'static [Pair] = &[("a", "1"), ("a", "2")];
        let _ = Name::new(std::hint::black_box(pairs));
    }
}
