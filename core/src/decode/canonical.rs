//! The canonical form of a metric name: the spelling of the reference
//! client's `json.dumps(name, sort_keys=True)`, and the equality, order and
//! hash of [`ParsedName`]s that go by it.
//!
//! A name already spelled canonically (detected while parsing; every name
//! the reference client writes) is used as its raw text. Otherwise the form
//! is produced byte by byte, without allocating, by [`CanonicalBytes`]: keys
//! in file order when they are sorted there, else by a minimum search per
//! key (see [`MAX_UNSORTED_PAIRS`](super::MAX_UNSORTED_PAIRS)), escaped and
//! punctuated by the crate's one canonical-JSON writer (`canonical_json.rs`),
//! the same that spells the names declared in code.

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};

use super::json::{JsonChars, JsonStr, ParsedName, ParsedPairs};
use crate::canonical_json::{self, JsonText, MinSorted, ObjectBytes};

impl<'a> JsonText for JsonStr<'a> {
    type Chars = JsonChars<'a>;

    fn text_chars(self) -> JsonChars<'a> {
        self.chars()
    }
}

impl<'a> ParsedName<'a> {
    /// The pairs sorted by key (code point order).
    ///
    /// When the file has them in order, this is [`pairs`](Self::pairs).
    /// Otherwise each step is a minimum search over all pairs: O(k²) key
    /// comparisons for k pairs (at most
    /// [`MAX_UNSORTED_PAIRS`](super::MAX_UNSORTED_PAIRS)), without
    /// allocation.
    pub fn sorted_pairs(&self) -> SortedPairs<'a> {
        SortedPairs {
            in_order: self.sorted.then(|| self.pairs()),
            searched: MinSorted::new(self.pairs(), self.len),
        }
    }

    /// The canonical form, byte by byte (ASCII).
    pub fn canonical_bytes(&self) -> CanonicalBytes<'a> {
        let inner = if self.canonical {
            Inner::Raw(self.raw.bytes())
        } else {
            Inner::Sorted(ObjectBytes::new(self.sorted_pairs()))
        };
        CanonicalBytes { inner }
    }

    /// Writes the canonical form, the reference client's
    /// `json.dumps(name, sort_keys=True)`.
    ///
    /// Keys are sorted by unescaped code points; separators are `", "` and
    /// `": "`; `{}` when empty. Inside strings, `"` and `\` are escaped with a
    /// backslash, `\n \r \t \b \f` with their short escapes, other characters
    /// below U+0020, U+007F and every non-ASCII character as lowercase
    /// `\uXXXX` (a surrogate pair above U+FFFF). The output is pure ASCII.
    ///
    /// # Errors
    ///
    /// Only those of `w`.
    pub fn write_canonical<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        if self.canonical {
            return w.write_str(self.raw);
        }
        canonical_json::write_bytes(w, self.canonical_bytes())
    }

    /// Whether the two names are the same metric name (same set of pairs,
    /// however spelled).
    pub fn canonical_eq(&self, other: &ParsedName<'_>) -> bool {
        if self.canonical && other.canonical {
            self.raw == other.raw
        } else {
            self.len == other.len && self.canonical_cmp(other) == Ordering::Equal
        }
    }

    /// Compares the canonical forms as strings (byte order; they are ASCII).
    ///
    /// This is the order in which the reference client lays out slots of
    /// the same size.
    pub fn canonical_cmp(&self, other: &ParsedName<'_>) -> Ordering {
        if self.canonical && other.canonical {
            self.raw.cmp(other.raw)
        } else {
            self.canonical_bytes().cmp(other.canonical_bytes())
        }
    }
}

impl PartialEq for ParsedName<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.canonical_eq(other)
    }
}

impl Eq for ParsedName<'_> {}

impl PartialOrd for ParsedName<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders by [`canonical_cmp`](ParsedName::canonical_cmp).
impl Ord for ParsedName<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.canonical_cmp(other)
    }
}

/// Hashes the canonical form, consistently with `Eq`.
impl Hash for ParsedName<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Feed the same 64-byte chunks whichever way the bytes are produced,
        // so that equal names hash equally with any hasher.
        let fed: Result<(), core::convert::Infallible> =
            canonical_json::for_each_chunk(self.canonical_bytes(), |chunk| {
                state.write(chunk);
                Ok(())
            });
        let Ok(()) = fed;
        // Never part of the ASCII canonical form: makes the encoding
        // prefix-free.
        state.write_u8(0xff);
    }
}

/// Writes the canonical form (see [`ParsedName::write_canonical`]).
impl fmt::Display for ParsedName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_canonical(f)
    }
}

/// The pairs of a [`ParsedName`] sorted by key; see [`ParsedName::sorted_pairs`].
#[derive(Clone, Debug)]
pub struct SortedPairs<'a> {
    /// The pairs, when the file has them sorted already.
    in_order: Option<ParsedPairs<'a>>,
    /// Otherwise, by a minimum search per key.
    searched: MinSorted<ParsedPairs<'a>, JsonStr<'a>>,
}

impl<'a> Iterator for SortedPairs<'a> {
    type Item = (JsonStr<'a>, JsonStr<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.in_order {
            Some(pairs) => pairs.next(),
            None => self.searched.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.searched.size_hint()
    }
}

impl core::iter::FusedIterator for SortedPairs<'_> {}

/// The canonical form of a [`ParsedName`], byte by byte; see
/// [`ParsedName::canonical_bytes`].
#[derive(Clone, Debug)]
pub struct CanonicalBytes<'a> {
    inner: Inner<'a>,
}

#[derive(Clone, Debug)]
enum Inner<'a> {
    /// The name is canonical as written.
    Raw(core::str::Bytes<'a>),
    /// The name must be re-spelled.
    Sorted(ObjectBytes<JsonStr<'a>, JsonStr<'a>, SortedPairs<'a>>),
}

impl Iterator for CanonicalBytes<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        match &mut self.inner {
            Inner::Raw(bytes) => bytes.next(),
            Inner::Sorted(bytes) => bytes.next(),
        }
    }
}

impl core::iter::FusedIterator for CanonicalBytes<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::json::parse_name;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn name(s: &str) -> ParsedName<'_> {
        parse_name(s, 0).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    fn canonical(s: &str) -> String {
        let mut out = String::new();
        name(s).write_canonical(&mut out).unwrap();
        let bytes: Vec<u8> = name(s).canonical_bytes().collect();
        assert_eq!(out.as_bytes(), &bytes[..]);
        out
    }

    #[test]
    fn canonical_sorting_is_by_code_point() {
        // U+FFFD sorts before U+1F600 by code point (but not in UTF-16).
        let s = r#"{"😀": "1", "\ufffd": "2", "z": "3", "é": "4", "A": "5"}"#;
        assert_eq!(
            canonical(s),
            r#"{"A": "5", "z": "3", "\u00e9": "4", "\ufffd": "2", "\ud83d\ude00": "1"}"#
        );
        let keys: Vec<String> = name(s).sorted_pairs().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, ["A", "z", "é", "\u{fffd}", "😀"]);
    }

    #[test]
    fn canonical_eq_and_cmp() {
        let a = name(r#"{"b":"1","a":"2"}"#);
        let b = name(r#"{"a": "2", "b": "1"}"#);
        let c = name(r#"{"a": "2", "b": "2"}"#);
        assert!(a.canonical_eq(&b));
        assert_eq!(a, b);
        assert_eq!(a.canonical_cmp(&b), Ordering::Equal);
        assert!(!a.canonical_eq(&c));
        assert_eq!(a.canonical_cmp(&c), Ordering::Less);
        assert_eq!(c.canonical_cmp(&a), Ordering::Greater);
        assert_eq!(a.to_string(), r#"{"a": "2", "b": "1"}"#);
        let e = name(r#"{"a": "\u0032", "b": "1"}"#);
        assert_eq!(e, b);
        // Ordered as the canonical strings: `}` sorts after `,`.
        assert!(name(r#"{"a": "2"}"#) > b);
        assert!(name("{}") > name(r#"{"a": "2"}"#));
    }

    #[test]
    fn hash_agrees_with_eq() {
        use std::hash::{BuildHasher, RandomState};
        let s = RandomState::new();
        let long = "x".repeat(200);
        let a_text = std::format!(r#"{{"b":"{long}","a":"2"}}"#);
        let b_text = std::format!(r#"{{"a": "2", "b": "{long}"}}"#);
        let a = name(&a_text);
        let b = name(&b_text);
        assert!(b.is_canonical() && !a.is_canonical());
        assert_eq!(s.hash_one(a), s.hash_one(b));
    }

    /// Python's `json.dumps(d, sort_keys=True)`, written independently.
    fn python_dumps(map: &std::collections::BTreeMap<String, String>) -> String {
        fn esc(out: &mut String, s: &str) {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    ' '..='~' => out.push(c),
                    _ => {
                        let mut buf = [0u16; 2];
                        for u in c.encode_utf16(&mut buf) {
                            out.push_str(&std::format!("\\u{u:04x}"));
                        }
                    }
                }
            }
            out.push('"');
        }
        let mut out = String::from("{");
        // BTreeMap<String, _> iterates in byte order, which is code point
        // order, as Python sorts `str`.
        for (i, (k, v)) in map.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            esc(&mut out, k);
            out.push_str(": ");
            esc(&mut out, v);
        }
        out.push('}');
        out
    }

    /// A valid but arbitrary JSON spelling of `s`, driven by `seed`.
    fn spell(out: &mut String, s: &str, seed: &mut u64) {
        let mut next = || {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*seed >> 33) as u32
        };
        out.push('"');
        for c in s.chars() {
            let pick = next() % 4;
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '/' => Some("\\/"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                _ => None,
            };
            let raw_ok = !matches!(c, '"' | '\\') && c >= ' ';
            if pick == 0 && raw_ok {
                out.push(c);
            } else if pick == 1 && short.is_some() {
                out.push_str(short.unwrap());
            } else if pick == 2 || !raw_ok {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    if next() % 2 == 0 {
                        out.push_str(&std::format!("\\u{u:04X}"));
                    } else {
                        out.push_str(&std::format!("\\u{u:04x}"));
                    }
                }
            } else {
                out.push(c);
            }
        }
        out.push('"');
    }

    fn spell_object(pairs: &[(String, String)], seed: u64) -> String {
        let mut seed = seed;
        let ws = |seed: &mut u64| {
            *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            [" ", "", "\t", "  ", "\r"][((*seed >> 33) % 5) as usize]
        };
        let mut out = String::new();
        out.push_str(ws(&mut seed));
        out.push('{');
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(ws(&mut seed));
            spell(&mut out, k, &mut seed);
            out.push_str(ws(&mut seed));
            out.push(':');
            out.push_str(ws(&mut seed));
            spell(&mut out, v, &mut seed);
            out.push_str(ws(&mut seed));
        }
        out.push('}');
        out.push_str(ws(&mut seed));
        out
    }

    proptest::proptest! {
        #[test]
        #[cfg_attr(miri, ignore)]
        fn any_spelling_parses_to_its_pairs(
            map in proptest::collection::btree_map("(?s).{0,6}", "(?s).{0,6}", 0..6),
            seed in proptest::prelude::any::<u64>(),
            rotate in 0usize..6,
        ) {
            let mut pairs: Vec<(String, String)> = map.clone().into_iter().collect();
            if !pairs.is_empty() {
                let r = rotate % pairs.len();
                pairs.rotate_left(r);
            }
            let text = spell_object(&pairs, seed);
            let n = parse_name(&text, 0).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
            let got: Vec<(String, String)> =
                n.pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            proptest::prop_assert_eq!(&got, &pairs);
            for (k, v) in &pairs {
                proptest::prop_assert_eq!(n.get(k).unwrap(), v.as_str());
            }
            let canonical = n.to_string();
            proptest::prop_assert_eq!(&canonical, &python_dumps(&map));
            let bytes: Vec<u8> = n.canonical_bytes().collect();
            proptest::prop_assert_eq!(&bytes[..], canonical.as_bytes());
            // Stable: canonical(parse(canonical(x))) == canonical(x).
            let again = parse_name(&canonical, 0).unwrap();
            proptest::prop_assert!(again.is_canonical());
            proptest::prop_assert_eq!(again.raw(), canonical.as_str());
            proptest::prop_assert_eq!(again.to_string(), canonical.clone());
            proptest::prop_assert!(again.canonical_eq(&n));
            proptest::prop_assert_eq!(again.canonical_cmp(&n), Ordering::Equal);
            // Only the canonical spelling is flagged canonical.
            proptest::prop_assert_eq!(n.is_canonical(), n.raw() == canonical);
        }

        #[test]
        #[cfg_attr(miri, ignore)]
        fn canonical_cmp_is_string_order(
            a in proptest::collection::btree_map("(?s).{0,3}", "(?s).{0,3}", 0..4),
            b in proptest::collection::btree_map("(?s).{0,3}", "(?s).{0,3}", 0..4),
            seed in proptest::prelude::any::<u64>(),
        ) {
            let (ca, cb) = (python_dumps(&a), python_dumps(&b));
            let ta = spell_object(&a.clone().into_iter().collect::<Vec<_>>(), seed);
            let tb = spell_object(&b.clone().into_iter().rev().collect::<Vec<_>>(), !seed);
            let (na, nb) = (parse_name(&ta, 0).unwrap(), parse_name(&tb, 0).unwrap());
            proptest::prop_assert_eq!(na.canonical_cmp(&nb), ca.cmp(&cb));
            proptest::prop_assert_eq!(na.canonical_eq(&nb), ca == cb);
        }
    }
}
