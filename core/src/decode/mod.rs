//! Reading Cantal files: the meta parser, metric names and the values
//! reader.
//!
//! Everything here is `no_std`, allocation-free and zero-copy: entries,
//! names and state texts borrow from the input slices. The decoder trusts
//! nothing: every malformed input is a typed error with its line (and
//! column), never a panic or an out-of-bounds read.
//!
//! - [`parse_meta`] reads a meta file into [`MetaEntry`]s (type, size, offset,
//!   [`ParsedName`]), one per line; [`total_size`] gives the values length it
//!   describes. [`parse_meta_lenient`] reads the same files and also those
//!   with well-formed lines whose slots it cannot interpret (`counter 4`,
//!   `pad 0`, ...), as entries that [`MetaEntry::skipped`] explains ([`Skip`]):
//!   what readers use, so that one odd slot never hides a file's others.
//! - [`read_value`] (or [`MetaEntry::read`]) reads one slot's [`Value`] out of
//!   the values bytes.
//! - [`decode`] does both, walking the meta and values together.
//! - [`find_duplicate`] checks that no two lines share a name.
//!
//! # Examples
//!
//! ```
//! # extern crate cantal_core as cantal;
//! use cantal::decode::{decode, Value};
//!
//! let meta = b"counter 8: {\"metric\": \"requests\"}\nstate 16: {\"state\": \"main\"}";
//! let mut values = Vec::new();
//! values.extend_from_slice(&42u64.to_ne_bytes());
//! values.extend_from_slice(&1_700_000_000_000u64.to_ne_bytes());
//! values.extend_from_slice(b"serving\0");
//!
//! for item in decode(meta, &values) {
//!     let (entry, value) = item?;
//!     let name = entry.name().unwrap();
//!     match value {
//!         Value::Counter(n) => {
//!             assert_eq!(name.get("metric").unwrap(), "requests");
//!             assert_eq!(n, 42);
//!         }
//!         Value::State { timestamp, text } => {
//!             assert_eq!(name.to_string(), r#"{"state": "main"}"#);
//!             assert_eq!((timestamp, text), (1_700_000_000_000, &b"serving"[..]));
//!         }
//!         _ => unreachable!(),
//!     }
//! }
//! # Ok::<(), cantal_core::decode::DecodeError>(())
//! ```
//!
//! # Strict and lenient
//!
//! [`parse_meta`] is strict: a known type with a size it does not allow
//! (`counter 4`, `state 7`, `pad 0`), a `pad` with a name, a name with the
//! same key twice, a blank line or a line that starts with whitespace end
//! the parse with an error.
//!
//! [`parse_meta_lenient`] reads what readers show an operator: every line
//! that is well formed (a type word, a decimal size up to
//! [`MAX_SLOT_SIZE`], an optional parameter word, and a JSON object of
//! strings after `:` or nothing) is an entry; one whose type, size or
//! name this decoder cannot interpret is a [`SlotKind::Unknown`] entry whose
//! [`MetaEntry::skipped`] gives the reason, still occupying its declared size,
//! so the offsets of the lines after it stay right. Blank lines are
//! ignored (they occupy nothing) and whitespace before the type word is
//! allowed. What is really malformed is an error in both modes: invalid
//! UTF-8, a size that is not a number or is above [`MAX_SLOT_SIZE`],
//! broken JSON or JSON that is not an object of strings, a counter, level
//! or state without a name, words after the parameter.
//!
//! # Bounded work
//!
//! Parsing is one pass over the bytes without recursion (names are flat
//! objects of strings; anything nested is an error). Names whose keys are
//! in ascending order (all that the reference client writes), of any
//! length, are checked and canonicalized in linear time. Names with keys out
//! of order cost O(k) passes over the name for k keys (checking for
//! duplicate keys, and selecting keys in order for the canonical form,
//! without memory to sort into), so they may have at most
//! [`MAX_UNSORTED_PAIRS`] keys: work stays below that many passes per byte,
//! whatever the input. [`find_duplicate`] sorts: O(n log n) name
//! comparisons.
//!
//! # Errors
//!
//! [`MetaError`] is a malformed meta line; [`ValuesError`] means the values
//! are shorter than the meta says (usually a race with the publisher, worth
//! a retry); [`DecodeError`] is either. The position accessors and `Display`
//! say what and where, e.g. `meta line 3, column 17: invalid escape \q in
//! metric name`.
// These lints hold for every module of the decoder (outside tests): no
// panicking index, no overflowing arithmetic, no unwrap on input data.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used
    )
)]

mod canonical;
mod error;
mod json;
mod meta;
mod values;

use core::cmp::Ordering;
use core::iter::FusedIterator;

pub use canonical::{CanonicalBytes, SortedPairs};
pub use error::{DecodeError, DuplicateName, MetaError, ValuesError};
pub use json::{JsonChars, JsonStr, MAX_UNSORTED_PAIRS, ParsedName, ParsedPairs};
pub use meta::{
    LevelKind, MAX_SLOT_SIZE, MetaEntries, MetaEntry, Skip, SlotKind, meta_lines, parse_meta,
    parse_meta_lenient, total_size,
};
pub use values::{LossyText, Value, read_value};

/// Decodes a meta file and its values together: see [`decode`].
#[derive(Clone, Debug)]
pub struct Decode<'m, 'v> {
    entries: MetaEntries<'m>,
    values: &'v [u8],
    failed: bool,
}

/// Walks `meta` and reads each slot's value from `values`.
///
/// Yields the entries in file order with their values, `pad` and unknown
/// types included (as [`Value::Pad`] and [`Value::Unknown`]). Ends after the
/// first error: a bad meta line, or a slot that `values` is too short for.
/// Bytes of `values` past the last slot are ignored; compare
/// [`total_size`] with the values length to insist on an exact fit.
///
/// # Examples
///
/// See the [module documentation](self).
pub fn decode<'m, 'v>(meta: &'m [u8], values: &'v [u8]) -> Decode<'m, 'v> {
    Decode {
        entries: parse_meta(meta),
        values,
        failed: false,
    }
}

impl<'m, 'v> Iterator for Decode<'m, 'v> {
    type Item = Result<(MetaEntry<'m>, Value<'v>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = match self.entries.next()? {
            Ok(entry) => match read_value(&entry, self.values) {
                Ok(value) => Ok((entry, value)),
                Err(e) => Err(DecodeError::Values(e)),
            },
            Err(e) => Err(DecodeError::Meta(e)),
        };
        self.failed = result.is_err();
        Some(result)
    }
}

impl FusedIterator for Decode<'_, '_> {}

/// Checks that no two entries have the same name (compared canonically,
/// so `{"a":"1","b":"2"}` and `{"b": "2", "a": "1"}` are the same).
///
/// Entries without a name (`pad`) are ignored. The entries are the
/// caller's scratch space: they are **sorted in place** (by name, then by
/// line), which takes O(n log n) name comparisons and no allocation. Collect
/// them first, e.g. into a `Vec` or a `heapless::Vec`.
///
/// # Errors
///
/// The two lines of a duplicate name. When several names are duplicated,
/// the one reported is the first in canonical order.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::decode::{find_duplicate, parse_meta};
///
/// let meta = b"counter 8: {\"a\": \"1\"}\npad 8\nlevel 8 signed: {\"a\":\"1\"}";
/// let mut entries: Vec<_> = parse_meta(meta).collect::<Result<_, _>>()?;
/// let dup = find_duplicate(&mut entries).unwrap_err();
/// assert_eq!((dup.first_line(), dup.second_line()), (1, 3));
/// # Ok::<(), cantal_core::decode::MetaError>(())
/// ```
pub fn find_duplicate(entries: &mut [MetaEntry<'_>]) -> Result<(), DuplicateName> {
    entries.sort_unstable_by(|a, b| match (a.name(), b.name()) {
        (Some(x), Some(y)) => x.canonical_cmp(&y).then(a.line().cmp(&b.line())),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => a.line().cmp(&b.line()),
    });
    for pair in entries.windows(2) {
        if let [a, b] = pair
            && let (Some(x), Some(y)) = (a.name(), b.name())
            && x.canonical_eq(&y)
        {
            return Err(DuplicateName {
                first: a.line(),
                second: b.line(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    /// The layout of PROTOCOL.md's example.
    const EXAMPLE: &str = "counter 8: {\"name\": \"1\"}
level 8 signed: {\"name\": \"2\"}
counter 8: {\"name\": \"3\"}
pad 40
state 64: {\"name\": \"100\"}";

    fn example_values() -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&11u64.to_ne_bytes());
        v.extend_from_slice(&(-22i64).to_ne_bytes());
        v.extend_from_slice(&33u64.to_ne_bytes());
        v.extend_from_slice(&[0xaa; 40]);
        v.extend_from_slice(&1_700_000_000_123u64.to_ne_bytes());
        v.extend_from_slice(b"working\0old text");
        v.resize(128, 0);
        v
    }

    #[test]
    fn protocol_example() {
        let values = example_values();
        assert_eq!(values.len(), 128);
        assert_eq!(total_size(EXAMPLE.as_bytes()), Ok(128));
        let all: Vec<_> = decode(EXAMPLE.as_bytes(), &values)
            .collect::<Result<_, _>>()
            .unwrap();
        let names: Vec<String> = all
            .iter()
            .map(|(e, _)| e.name().map(|n| n.to_string()).unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            [
                r#"{"name": "1"}"#,
                r#"{"name": "2"}"#,
                r#"{"name": "3"}"#,
                "",
                r#"{"name": "100"}"#
            ]
        );
        let vals: Vec<_> = all.iter().map(|(_, v)| *v).collect();
        assert_eq!(
            vals,
            [
                Value::Counter(11),
                Value::Signed(-22),
                Value::Counter(33),
                Value::Pad,
                Value::State {
                    timestamp: 1_700_000_000_123,
                    text: b"working"
                }
            ]
        );
        // Unaligned copy of the same values.
        let mut shifted = std::vec![0u8; 129];
        shifted[1..].copy_from_slice(&values);
        let again: Vec<_> = decode(EXAMPLE.as_bytes(), &shifted[1..])
            .map(|r| r.unwrap().1)
            .collect();
        assert_eq!(again, vals);
    }

    #[test]
    fn short_values_are_their_own_error() {
        let values = example_values();
        let mut it = decode(EXAMPLE.as_bytes(), &values[..100]);
        for _ in 0..4 {
            assert!(it.next().unwrap().is_ok());
        }
        let e = it.next().unwrap().unwrap_err();
        assert!(matches!(e, DecodeError::Values(_)));
        assert_eq!(e.line(), 5);
        assert_eq!(
            e.to_string(),
            "values too short for meta line 5: need 128 bytes, have 100"
        );
        assert!(it.next().is_none());
        // A meta error is a meta error.
        let e = decode(b"counter 8: {}\ncounter 8 {}", &values)
            .nth(1)
            .unwrap()
            .unwrap_err();
        assert!(matches!(e, DecodeError::Meta(_)));
        assert_eq!((e.line(), e.column()), (2, Some(11)));
        // Extra values bytes are ignored.
        assert_eq!(decode(b"counter 8: {}", &values).count(), 1);
    }

    #[test]
    fn duplicates() {
        let meta = "counter 8: {\"a\": \"1\", \"b\": \"2\"}\npad 8\npad 8\n\
                    counter 8: {\"a\": \"2\"}\nlevel 8 float: {\"b\":\"2\",\"a\":\"\\u0031\"}";
        let mut e: Vec<_> = parse_meta(meta.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        let d = find_duplicate(&mut e).unwrap_err();
        assert_eq!((d.first_line(), d.second_line()), (1, 5));
        let mut e: Vec<_> = parse_meta(EXAMPLE.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(find_duplicate(&mut e), Ok(()));
        assert_eq!(find_duplicate(&mut []), Ok(()));
    }

    #[test]
    fn duplicates_in_many_lines() {
        let lines = if cfg!(miri) { 1300 } else { 2000 };
        let mut meta = String::new();
        for i in 0..lines {
            meta.push_str(&std::format!("counter 8: {{\"i\": \"{i}\"}}\n"));
        }
        meta.push_str("counter 8: {\"i\": \"1234\"}\n");
        let mut e: Vec<_> = parse_meta(meta.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        let d = find_duplicate(&mut e).unwrap_err();
        assert_eq!((d.first_line(), d.second_line()), (1235, lines + 1));
    }
}
