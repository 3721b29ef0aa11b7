//! [`SlotName`]: the name of one metric a reader found, in two allocations.
//!
//! A reader holds a name for every slot of every publication it reads
//! (100,000 of them for a large publisher), so the name is stored compactly:
//! one string with the unescaped keys and values in file order followed by
//! the canonical JSON spelling, and one array of where each of them ends.
//! Owning `(String, String)` pairs instead costs a vector and two strings a
//! pair, about 600 bytes a slot and as many allocations as strings.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::iter::FusedIterator;

use cantal_core::decode::{JsonStr, ParsedName, parse_meta_lenient};

/// A metric's name as a reader found it: its pairs, unescaped, in the
/// file's order ([`pairs`](Self::pairs)), and its canonical JSON spelling
/// ([`as_str`](Self::as_str)), the reference client's `json.dumps(name,
/// sort_keys=True)`.
///
/// Two names are equal when their canonical spellings are (the same set of
/// pairs, whatever their order in the file); the hash goes by it too.
///
/// # Examples
///
/// ```
/// # use cantal_mmap as cantal;
/// use cantal::read::ParsedMeta;
///
/// let meta = br#"counter 8: {"metric": "requests", "code": "200"}"#;
/// let layout = ParsedMeta::parse(meta, "/run/app.meta")?;
/// let name = layout.slots()[0].name();
/// assert_eq!(name.as_str(), r#"{"code": "200", "metric": "requests"}"#);
/// assert_eq!(name.get("metric"), Some("requests"));
/// let pairs: Vec<(&str, &str)> = name.pairs().collect();
/// assert_eq!(pairs, [("metric", "requests"), ("code", "200")]);
/// # Ok::<(), cantal_mmap::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct SlotName {
    /// The keys and values, unescaped, one after the other in file order
    /// (key, value, key, value, ...), then the canonical JSON name.
    text: Box<str>,
    /// Where each key and each value ends in `text`: two per pair. The
    /// canonical name starts at the last one (at 0 without pairs).
    ends: Box<[u32]>,
}

impl SlotName {
    /// The name of a meta line. `None` when the name is longer than a
    /// `u32` can index (a meta file of more than 4 GiB).
    pub(crate) fn of_parsed(name: &ParsedName<'_>) -> Option<SlotName> {
        SlotName::of_parsed_in(name, &mut String::new())
    }

    /// [`of_parsed`](Self::of_parsed), written in `scratch` first (a
    /// reader's buffer for every name of a file) and then copied into an
    /// allocation of its exact size: no allocation grown or shrunk per
    /// name.
    pub(crate) fn of_parsed_in(name: &ParsedName<'_>, scratch: &mut String) -> Option<SlotName> {
        scratch.clear();
        let mut ends = Vec::with_capacity(2 * name.len());
        for (key, value) in name.pairs() {
            for s in [key, value] {
                push_unescaped(scratch, s);
                ends.push(u32::try_from(scratch.len()).ok()?);
            }
        }
        // Writing to a String cannot fail.
        let _ = name.write_canonical(scratch);
        u32::try_from(scratch.len()).ok()?;
        Some(SlotName {
            text: scratch.as_str().into(),
            ends: ends.into_boxed_slice(),
        })
    }

    /// A name made by a reader from others' (a histogram's, a sharded
    /// counter's): `canonical` must be the canonical spelling of `pairs`.
    pub(crate) fn derived<'a>(
        canonical: &str,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> SlotName {
        let mut text = String::new();
        let mut ends = Vec::new();
        for (key, value) in pairs {
            for s in [key, value] {
                text.push_str(s);
                // The parts' names are within the bound `of_parsed` checked.
                ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
            }
        }
        text.push_str(canonical);
        SlotName::new(text, ends)
    }

    /// The name of `pairs` (in this order), as a reader would find it in a
    /// meta file: for tests and for callers of the grouping functions in
    /// [`shards`](crate::shards) and [`histogram`](crate::histogram).
    ///
    /// `None` when no meta file can hold the name: a key twice, more than
    /// [`MAX_UNSORTED_PAIRS`](cantal_core::decode::MAX_UNSORTED_PAIRS)
    /// pairs out of key order, or a name over 4 GiB.
    ///
    /// # Examples
    ///
    /// ```
    /// use cantal_mmap::read::SlotName;
    ///
    /// let name = SlotName::from_pairs([("metric", "caf\u{e9}"), ("code", "200")]).unwrap();
    /// assert_eq!(name.as_str(), r#"{"code": "200", "metric": "caf\u00e9"}"#);
    /// assert!(SlotName::from_pairs([("a", "1"), ("a", "2")]).is_none());
    /// ```
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<SlotName> {
        let mut line = String::from("counter 8: {");
        for (i, (key, value)) in pairs.into_iter().enumerate() {
            if i > 0 {
                line.push_str(", ");
            }
            push_json_string(&mut line, key);
            line.push_str(": ");
            push_json_string(&mut line, value);
        }
        line.push('}');
        let entry = parse_meta_lenient(line.as_bytes()).next()?.ok()?;
        SlotName::of_parsed(&entry.name()?)
    }

    fn new(text: String, ends: Vec<u32>) -> SlotName {
        SlotName {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    /// The canonical JSON spelling: keys sorted, `", "` and `": "`
    /// separators, non-ASCII escaped as `\uXXXX`; empty for a slot without
    /// a name (a skipped one), never empty otherwise (`{}` at least).
    pub fn as_str(&self) -> &str {
        let start = self.ends.last().map_or(0, |&end| end as usize);
        self.text.get(start..).unwrap_or_default()
    }

    /// The pairs, unescaped, in the file's order.
    pub fn pairs(&self) -> SlotPairs<'_> {
        SlotPairs {
            text: &self.text,
            ends: &self.ends[..self.ends.len() & !1],
            start: 0,
        }
    }

    /// How many pairs the name has.
    pub fn len(&self) -> usize {
        self.ends.len() / 2
    }

    /// Whether the name has no pairs (`{}`, or no name at all).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The value of the first pair whose key is `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs().find(|&(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Appends `s` unescaped, without the formatting machinery when it has no
/// escape.
fn push_unescaped(text: &mut String, s: JsonStr<'_>) {
    match s.as_str() {
        Some(plain) => text.push_str(plain),
        None => text.extend(s.chars()),
    }
}

impl PartialEq for SlotName {
    fn eq(&self, other: &SlotName) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SlotName {}

impl Hash for SlotName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for SlotName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SlotName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for SlotName {
    /// The canonical JSON spelling.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SlotName {
    /// The canonical JSON spelling, quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The pairs of a [`SlotName`], in the file's order: see
/// [`SlotName::pairs`].
#[derive(Debug, Clone)]
pub struct SlotPairs<'a> {
    text: &'a str,
    /// The ends of the pairs not yet given, two a pair.
    ends: &'a [u32],
    /// Where the next pair's key starts.
    start: usize,
}

impl<'a> SlotPairs<'a> {
    /// The pair whose key starts at `start` and whose key and value end
    /// at `ends`.
    fn pair(&self, start: usize, ends: [u32; 2]) -> (&'a str, &'a str) {
        let [key_end, value_end] = ends.map(|end| end as usize);
        let text = self.text;
        (
            text.get(start..key_end).unwrap_or_default(),
            text.get(key_end..value_end).unwrap_or_default(),
        )
    }
}

impl<'a> Iterator for SlotPairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let (&[key_end, value_end], rest) = self.ends.split_first_chunk::<2>()?;
        let pair = self.pair(self.start, [key_end, value_end]);
        self.ends = rest;
        self.start = value_end as usize;
        Some(pair)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.ends.len() / 2;
        (left, Some(left))
    }
}

impl DoubleEndedIterator for SlotPairs<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let (rest, &[key_end, value_end]) = self.ends.split_last_chunk::<2>()?;
        // The key starts where the pair before ends (or where the
        // iteration started).
        let start = match rest.last() {
            Some(&end) => end as usize,
            None => self.start,
        };
        self.ends = rest;
        Some(self.pair(start, [key_end, value_end]))
    }
}

impl ExactSizeIterator for SlotPairs<'_> {}

impl FusedIterator for SlotPairs<'_> {}

/// JSON text of `s` as a string (quoted, with `"`, `\` and control
/// characters escaped): any spelling will do, the decoder makes it
/// canonical.
fn push_json_string(json: &mut String, s: &str) {
    json.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                json.push('\\');
                json.push(c);
            }
            c if u32::from(c) < 0x20 => json.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => json.push(c),
        }
    }
    json.push('"');
}

/// The name of `pairs` for tests ([`SlotName::from_pairs`], which must
/// make one).
#[cfg(test)]
pub(crate) fn test_name(pairs: &[(&str, &str)]) -> SlotName {
    SlotName::from_pairs(pairs.iter().copied()).expect("pairs a meta file can hold")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_in_file_order_and_the_canonical_spelling() {
        let meta = "counter 8: {\"b\":\"\\u00e9\\n\",\"a\":\"x\",\"\":\"\"}";
        let entry = parse_meta_lenient(meta.as_bytes()).next().unwrap().unwrap();
        let name = SlotName::of_parsed(&entry.name().unwrap()).unwrap();
        assert_eq!(SlotName::from_pairs(name.pairs()), Some(name.clone()));
        assert_eq!(name.as_str(), r#"{"": "", "a": "x", "b": "\u00e9\n"}"#);
        let pairs: Vec<_> = name.pairs().collect();
        assert_eq!(pairs, [("b", "é\n"), ("a", "x"), ("", "")]);
        let mut both_ends = name.pairs();
        assert_eq!(both_ends.next(), Some(("b", "é\n")));
        assert_eq!(both_ends.next_back(), Some(("", "")));
        assert_eq!(both_ends.len(), 1);
        assert_eq!(both_ends.next_back(), Some(("a", "x")));
        assert_eq!((both_ends.next(), both_ends.next_back()), (None, None));
        let backwards: Vec<_> = name.pairs().rev().collect();
        assert_eq!(backwards, [("", ""), ("a", "x"), ("b", "é\n")]);
        assert_eq!(name.pairs().len(), 3);
        assert_eq!((name.len(), name.is_empty()), (3, false));
        assert_eq!(
            (name.get("a"), name.get("b"), name.get("c")),
            (Some("x"), Some("é\n"), None)
        );
        assert_eq!(
            format!("{name} {name:?}"),
            format!("{0} {0:?}", name.as_str())
        );
    }

    #[test]
    fn any_pairs_round_trip() {
        let odd = [("k\"\\", "\u{1}\n\u{7f}é😀"), ("", "")];
        let name = SlotName::from_pairs(odd).unwrap();
        assert_eq!(name.pairs().collect::<Vec<_>>(), odd);
        assert_eq!(
            name.as_str(),
            r#"{"": "", "k\"\\": "\u0001\n\u007f\u00e9\ud83d\ude00"}"#
        );
        assert!(SlotName::from_pairs([("a", "1"), ("b", ""), ("a", "")]).is_none());
    }

    #[test]
    fn names_without_pairs() {
        let empty = test_name(&[]);
        assert_eq!(
            (empty.as_str(), empty.len(), empty.pairs().next()),
            ("{}", 0, None)
        );
        let none = SlotName::default();
        assert_eq!((none.as_str(), none.is_empty()), ("", true));
        assert_ne!(none, empty);
    }

    #[test]
    fn equal_by_the_canonical_spelling_whatever_the_order() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |n: &SlotName| {
            let mut h = DefaultHasher::new();
            n.hash(&mut h);
            h.finish()
        };
        let ab = test_name(&[("a", "1"), ("b", "2")]);
        let ba = test_name(&[("b", "2"), ("a", "1")]);
        assert_eq!(ab, ba);
        assert_eq!(hash(&ab), hash(&ba));
        assert_ne!(ab, test_name(&[("a", "1"), ("b", "3")]));
        assert_eq!(ab, r#"{"a": "1", "b": "2"}"#);
        let derived = SlotName::derived(r#"{"a": "1", "b": "2"}"#, [("b", "2"), ("a", "1")]);
        assert_eq!(derived, ab);
        assert_eq!(
            derived.pairs().collect::<Vec<_>>(),
            [("b", "2"), ("a", "1")]
        );
    }
}
