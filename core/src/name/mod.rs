//! Metric names: string key/value pairs, and their canonical JSON form.
//!
//! A Cantal metric is identified by a JSON object of strings, for example
//! `{"group": "main_loop", "metric": "ticks"}`. The reference Python client
//! writes it with `json.dumps(pairs, sort_keys=True)`, and so do we, byte for
//! byte: keys sorted by code point, separators `", "` and `": "`, and every
//! character outside printable ASCII escaped (`\n`, `\t`, ... or `\uXXXX`,
//! with surrogate pairs above U+FFFF). The encoding is produced lazily
//! ([`CanonicalJson`]) so that names can be compared and written without an
//! allocator, by the crate's one canonical-JSON writer (`canonical_json.rs`),
//! which the decoder shares.

mod handle;
mod order;
mod value;

use core::cmp::Ordering;
use core::fmt;

use crate::canonical_json::{MinSorted, ObjectBytes, is_plain};

pub(crate) use handle::NameRef;
use order::{after, plain_cmp};
pub use value::NameValue;

/// One `key = value` pair of a metric name.
pub type Pair = (&'static str, &'static str);

/// The identity of a metric: a set of string key/value pairs, fixed at
/// declaration.
///
/// `Name::new` is a `const fn`, so a metric can be a plain `static` item. A
/// key given twice is rejected when the name is built (at compile time for a
/// `static`).
///
/// Groups of metrics ([`RequestTracker`](crate::RequestTracker),
/// [`Fork`](crate::Fork)) compose their names in `const` code from three
/// parts: the slice of pairs given to [`new`](Name::new) (the user's extra
/// pairs), a second slice of fixed pairs added with
/// [`with_pairs`](Name::with_pairs) (`&[("metric", "requests")]`), and one
/// pair whose strings are only known to the group's `const fn`, added with
/// [`with`](Name::with) or [`with_joined`](Name::with_joined) (whose value
/// is two strings joined by a `.`), with no allocator. A `Name` is eleven
/// words (88 bytes on a 64-bit target, 44 on a 32-bit one: five string
/// slices and a flag); metric handles keep two (the slice of pairs given to `new`, or
/// a pointer to a `static` name), and compound metrics keep the pairs
/// their parts share once, composing each part's name when a collection
/// asks for it.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::Name;
///
/// const NAME: Name = Name::new(&[("metric", "ticks"), ("group", "main_loop")]);
/// assert_eq!(NAME.to_string(), r#"{"group": "main_loop", "metric": "ticks"}"#);
/// assert_eq!(NAME.get("group"), Some("main_loop"));
///
/// const fn branch_count(state: &'static str, branch: &'static str) -> Name {
///     Name::new(&[("service", "api")])
///         .with_pairs(&[("metric", "count")])
///         .with_joined("state", state, branch)
/// }
/// const BRANCH: Name = branch_count("req", "sql");
/// assert_eq!(
///     BRANCH.to_string(),
///     r#"{"metric": "count", "service": "api", "state": "req.sql"}"#
/// );
/// assert_eq!(BRANCH.value("state").unwrap(), "req.sql");
/// ```
///
/// A key given twice does not compile:
///
/// ```compile_fail
/// # extern crate cantal_core as cantal;
/// use cantal::Name;
///
/// const NAME: Name = Name::new(&[("metric", "x")]).with("metric", "requests");
/// assert!(!NAME.is_empty());
/// ```
#[derive(Clone, Copy)]
pub struct Name {
    pairs: &'static [Pair],
    /// The pairs added by `with_pairs`.
    more: &'static [Pair],
    /// The pair added by `with` or `with_joined`: its key, and its value
    /// `head`, followed by `.tail` for a joined value.
    key: Option<&'static str>,
    head: &'static str,
    tail: Option<&'static str>,
    /// Known to be plain: every string is printable ASCII without `"` or a
    /// backslash, and the pairs come in sorted key order, so the canonical
    /// JSON is the strings between fixed punctuation, which writes without
    /// escaping. Computed by the `const` constructors (at compile time for
    /// a `static`); `false` for a name a handle makes at run time from its
    /// pairs, which `Display` classifies as it writes and comparisons
    /// check only as far as they read.
    plain: bool,
}

impl Name {
    /// A name made of `pairs`, in any order.
    ///
    /// # Panics
    ///
    /// When a key appears twice; in a `const` or `static` initializer this
    /// is a compile-time error.
    pub const fn new(pairs: &'static [Pair]) -> Name {
        let name = Name {
            pairs: &[],
            more: &[],
            key: None,
            head: "",
            tail: None,
            plain: true,
        };
        name.check(pairs);
        Name { pairs, ..name }.classified()
    }

    /// This name with the pairs `more` added.
    ///
    /// # Panics
    ///
    /// When a key appears twice, or the name has pairs added by
    /// `with_pairs` already; in a `const` or `static` initializer this is a
    /// compile-time error.
    pub const fn with_pairs(self, more: &'static [Pair]) -> Name {
        if !self.more.is_empty() {
            panic!("a metric name takes one slice of added pairs");
        }
        self.check(more);
        Name { more, ..self }.classified()
    }

    /// This name with the pair `key = value` added.
    ///
    /// # Panics
    ///
    /// When the name has `key` already, or a pair added by `with` or
    /// `with_joined` already; in a `const` or `static` initializer this is
    /// a compile-time error.
    pub const fn with(self, key: &'static str, value: &'static str) -> Name {
        self.push(key, value, None)
    }

    /// This name with the pair `key = head.tail` added (the two strings
    /// joined by a `.`).
    ///
    /// # Panics
    ///
    /// As [`with`](Name::with).
    pub const fn with_joined(
        self,
        key: &'static str,
        head: &'static str,
        tail: &'static str,
    ) -> Name {
        self.push(key, head, Some(tail))
    }

    const fn push(self, key: &'static str, head: &'static str, tail: Option<&'static str>) -> Name {
        if self.key.is_some() {
            panic!("a metric name takes one pair added by `with` or `with_joined`");
        }
        if self.has_key(key) {
            panic!("a metric name has the same key twice");
        }
        Name {
            key: Some(key),
            head,
            tail,
            ..self
        }
        .classified()
    }

    /// This name with `plain` computed (at compile time for a `static`).
    const fn classified(self) -> Name {
        let mut plain = true;
        let mut previous: Option<&str> = None;
        let mut part = 0;
        while part < 2 {
            let pairs = if part == 0 { self.pairs } else { self.more };
            let mut i = 0;
            while i < pairs.len() {
                let (k, v) = pairs[i];
                plain = plain && is_plain(k) && is_plain(v) && after(previous, k);
                previous = Some(k);
                i += 1;
            }
            part += 1;
        }
        if let Some(k) = self.key {
            let tail_plain = match self.tail {
                Some(t) => is_plain(t),
                None => true,
            };
            plain = plain && is_plain(k) && is_plain(self.head) && tail_plain && after(previous, k);
        }
        Name { plain, ..self }
    }

    /// Panics when a key of `new` appears twice in `new`, or is a key of
    /// `self`.
    const fn check(&self, new: &[Pair]) {
        let mut i = 0;
        while i < new.len() {
            if self.has_key(new[i].0) {
                panic!("a metric name has the same key twice");
            }
            let mut j = i + 1;
            while j < new.len() {
                if str_eq(new[i].0, new[j].0) {
                    panic!("a metric name has the same key twice");
                }
                j += 1;
            }
            i += 1;
        }
    }

    const fn has_key(&self, key: &str) -> bool {
        const fn in_slice(pairs: &[Pair], key: &str) -> bool {
            let mut i = 0;
            while i < pairs.len() {
                if str_eq(pairs[i].0, key) {
                    return true;
                }
                i += 1;
            }
            false
        }
        let added = match self.key {
            Some(k) => str_eq(k, key),
            None => false,
        };
        added || in_slice(self.pairs, key) || in_slice(self.more, key)
    }

    /// The number of pairs.
    pub const fn len(&self) -> usize {
        self.pairs.len() + self.more.len() + self.key.is_some() as usize
    }

    /// Whether the name has no pair (`{}`).
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pair number `i`, in the order of [`pairs`](Name::pairs).
    fn pair(&self, i: usize) -> Option<(&'static str, NameValue)> {
        if let Some(&(k, v)) = self.pairs.get(i) {
            return Some((k, NameValue::new(v)));
        }
        let i = i - self.pairs.len();
        if let Some(&(k, v)) = self.more.get(i) {
            return Some((k, NameValue::new(v)));
        }
        if i != self.more.len() {
            return None;
        }
        let value = NameValue::from_parts(self.head, self.tail);
        self.key.map(|k| (k, value))
    }

    /// The pairs: those of the slice given to [`new`](Name::new) in their
    /// order, then those added by [`with_pairs`](Name::with_pairs), then the
    /// one added by [`with`](Name::with) or
    /// [`with_joined`](Name::with_joined).
    pub fn pairs(&self) -> Pairs<'_> {
        Pairs {
            name: self,
            next: 0,
        }
    }

    /// The value for `key`, if the name has it, when it is a single string.
    ///
    /// A joined value (see [`with_joined`](Name::with_joined)) is not one
    /// `&str`: `get` answers `None` for it; [`value`](Name::value) answers
    /// for every pair.
    pub fn get(&self, key: &str) -> Option<&'static str> {
        self.value(key).and_then(|v| v.as_str())
    }

    /// The value for `key`, if the name has it.
    pub fn value(&self, key: &str) -> Option<NameValue> {
        self.pairs().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The canonical JSON encoding, byte by byte (it is pure ASCII).
    ///
    /// `Display` writes the same text.
    pub fn canonical_json(&self) -> CanonicalJson<'_> {
        CanonicalJson::new(self)
    }

    /// Compares two names the way the reference client orders slots: by
    /// their canonical JSON text.
    pub fn canonical_cmp(&self, other: &Name) -> Ordering {
        if let Some(order) = plain_cmp(self, other) {
            return order;
        }
        self.canonical_json().cmp(other.canonical_json())
    }
}

/// The pairs of a [`Name`]; see [`Name::pairs`].
#[derive(Clone)]
pub struct Pairs<'n> {
    name: &'n Name,
    next: usize,
}

impl Iterator for Pairs<'_> {
    type Item = (&'static str, NameValue);

    fn next(&mut self) -> Option<Self::Item> {
        let pair = self.name.pair(self.next)?;
        self.next += 1;
        Some(pair)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.name.len().saturating_sub(self.next);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

impl PartialEq for Name {
    /// Two names are equal when they have the same pairs, in any order.
    fn eq(&self, other: &Name) -> bool {
        self.len() == other.len() && self.pairs().all(|(k, v)| other.value(k) == Some(v))
    }
}

impl Eq for Name {}

impl fmt::Display for Name {
    /// Writes the canonical JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.plain || self.classified().plain {
            // The strings need no escaping and the pairs are in order.
            return crate::canonical_json::write_plain(f, self.pairs());
        }
        crate::canonical_json::write_bytes(f, self.canonical_json())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
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
    bytes: ObjectBytes<&'static str, NameValue, MinSorted<Pairs<'n>, &'static str>>,
}

impl<'n> CanonicalJson<'n> {
    fn new(name: &'n Name) -> Self {
        CanonicalJson {
            bytes: ObjectBytes::new(MinSorted::new(name.pairs(), name.len())),
        }
    }
}

impl Iterator for CanonicalJson<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        self.bytes.next()
    }
}

impl core::iter::FusedIterator for CanonicalJson<'_> {}

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
    fn composed_names_encode_sort_and_compare() {
        static EXTRA: [Pair; 2] = [("zone", "b"), ("app", "x")];
        const N: Name = Name::new(&EXTRA)
            .with_pairs(&[("metric", "count")])
            .with_joined("state", "req", "sql");
        let text = r#"{"app": "x", "metric": "count", "state": "req.sql", "zone": "b"}"#;
        assert_eq!(N.to_string(), text);
        let bytes: std::vec::Vec<u8> = N.canonical_json().collect();
        assert_eq!(bytes, text.as_bytes());
        assert_eq!(N.len(), 4);
        assert_eq!(N.get("metric"), Some("count"));
        assert_eq!(N.get("state"), None);
        assert_eq!(N.value("state").unwrap(), "req.sql");
        assert_eq!(N.value("state").unwrap().to_string(), "req.sql");
        let keys: std::vec::Vec<&str> = N.pairs().map(|(k, _)| k).collect();
        assert_eq!(keys, ["zone", "app", "metric", "state"]);
        // The same pairs spelled as one slice: equal, and the same text.
        let flat = Name::new(&[
            ("state", "req.sql"),
            ("metric", "count"),
            ("app", "x"),
            ("zone", "b"),
        ]);
        assert_eq!(N, flat);
        assert_eq!(flat, N);
        assert_eq!(N.canonical_cmp(&flat), Ordering::Equal);
        let other = Name::new(&EXTRA)
            .with_pairs(&[("metric", "count")])
            .with_joined("state", "req", "sq");
        assert_ne!(N, other);
        assert_eq!(other.canonical_cmp(&N), Ordering::Less);
        // Joined and escaped, with no slice at all.
        let escaped = Name::new(&[]).with_joined("k", "é", "a\"nb");
        assert_eq!(escaped.to_string(), r#"{"k": "\u00e9.a\"nb"}"#);
        assert_eq!(Name::new(&[]).with("a", "").to_string(), r#"{"a": ""}"#);
    }

    #[test]
    #[should_panic(expected = "same key twice")]
    fn duplicate_keys_across_parts_panic() {
        let pairs: &'static [Pair] = &[("a", "1"), ("metric", "2")];
        let _ = Name::new(std::hint::black_box(pairs)).with("metric", "x");
    }

    #[test]
    #[should_panic(expected = "same key twice")]
    fn duplicate_keys_across_slices_panic() {
        let _ = Name::new(&[("k", "1")]).with_pairs(&[("a", "2"), ("k", "3")]);
    }

    #[test]
    #[should_panic(expected = "same key twice")]
    fn duplicate_keys_within_added_slice_panic() {
        let _ = Name::new(&[]).with_pairs(&[("a", "2"), ("a", "3")]);
    }

    #[test]
    #[should_panic(expected = "same key twice")]
    fn added_slice_after_pair_checks_keys() {
        let _ = Name::new(&[]).with("a", "1").with_pairs(&[("a", "2")]);
    }

    #[test]
    #[should_panic(expected = "one pair added")]
    fn two_added_pairs_panic() {
        let _ = Name::new(&[]).with("a", "1").with_joined("b", "3", "4");
    }

    #[test]
    #[should_panic(expected = "one slice")]
    fn two_added_slices_panic() {
        let _ = Name::new(&[])
            .with_pairs(&[("a", "1")])
            .with_pairs(&[("b", "2")]);
    }

    #[test]
    fn a_name_stays_small() {
        // Five string slices and the `plain` flag (which makes sorting
        // 100,000 names ten times faster) round up to eleven words, as
        // the type's documentation says (`tests/sizes.rs` pins the 88
        // bytes of a 64-bit target with the handles' sizes).
        assert_eq!(size_of::<Name>(), 11 * size_of::<usize>());
    }

    #[test]
    #[should_panic(expected = "same key twice")]
    fn duplicate_keys_panic() {
        let pairs: &'static [Pair] = &[("a", "1"), ("a", "2")];
        let _ = Name::new(std::hint::black_box(pairs));
    }
}
