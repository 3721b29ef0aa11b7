//! The canonical order of names without writing their text: most names
//! (sorted keys, plain strings) compare by their strings alone, which a
//! layout of many names does many times.

use core::cmp::Ordering;

use super::{Name, NameValue, Pair};
use crate::canonical_json::is_plain_byte;

impl Name {
    /// Whether the name is one slice of pairs (`Name::new`).
    fn is_flat(&self) -> bool {
        self.more.is_empty() && self.key.is_none()
    }

    /// Whether the keys come in sorted order (then the canonical JSON
    /// writes the pairs in the order of [`pairs`](Name::pairs)).
    fn keys_sorted(&self) -> bool {
        let mut previous = None;
        self.pairs().all(|(key, _)| {
            let sorted = after(previous, key);
            previous = Some(key);
            sorted
        })
    }
}

/// Whether `key` sorts after `previous` (byte order, which is code point
/// order).
pub(super) const fn after(previous: Option<&str>, key: &str) -> bool {
    let Some(previous) = previous else {
        return true;
    };
    let (a, b) = (previous.as_bytes(), key.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
}

/// The canonical JSON order of two names whose keys are sorted, without
/// producing the text: the same strings between the same punctuation, so
/// only the strings, and where one ends, matter, as long as the bytes that
/// decide are plain (equal bytes have equal escapes, whatever they are).
/// `None` when a name's keys are not sorted or a byte that decides is not
/// plain: then only the escaped text tells.
pub(super) fn plain_cmp(a: &Name, b: &Name) -> Option<Ordering> {
    if a.is_flat() && b.is_flat() {
        return flat_cmp((a.pairs, a.plain), (b.pairs, b.plain));
    }
    if !(a.plain || a.keys_sorted()) || !(b.plain || b.keys_sorted()) {
        return None;
    }
    let (mut pa, mut pb) = (a.pairs(), b.pairs());
    loop {
        match (pa.next(), pb.next()) {
            (None, None) => return Some(Ordering::Equal),
            // `}` (or the `}` of `{}`) against `,` (or the `"` of a key).
            (None, Some(_)) => return Some(Ordering::Greater),
            (Some(_), None) => return Some(Ordering::Less),
            (Some((ka, va)), Some((kb, vb))) => {
                let order = quoted_cmp(ka.bytes(), kb.bytes())?;
                let order = match order {
                    Ordering::Equal => quoted_cmp(value_bytes(va), value_bytes(vb))?,
                    decided => decided,
                };
                if order != Ordering::Equal {
                    return Some(order);
                }
            }
        }
    }
}

/// [`plain_cmp`] for two names of one slice each (`Name::new`, what
/// handles make), walking the slices; each with whether it is known plain.
fn flat_cmp(a: (&[Pair], bool), b: (&[Pair], bool)) -> Option<Ordering> {
    let sorted = |(pairs, plain): (&[Pair], bool)| {
        plain || pairs.windows(2).all(|w| after(Some(w[0].0), w[1].0))
    };
    if !sorted(a) || !sorted(b) {
        return None;
    }
    for ((ka, va), (kb, vb)) in a.0.iter().zip(b.0) {
        let order = match str_cmp(ka, kb)? {
            Ordering::Equal => str_cmp(va, vb)?,
            decided => decided,
        };
        if order != Ordering::Equal {
            return Some(order);
        }
    }
    // The name that ends first has `}` where the other has `,`.
    Some(b.0.len().cmp(&a.0.len()))
}

/// [`quoted_cmp`] of two strings, by their common prefix.
fn str_cmp(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    quoted_cmp(
        a.get(common..)?.iter().copied(),
        b.get(common..)?.iter().copied(),
    )
}

fn value_bytes(v: NameValue) -> impl Iterator<Item = u8> {
    let (head, tail) = v.parts();
    let dot = tail.map(|_| b'.');
    head.bytes().chain(dot).chain(tail.unwrap_or("").bytes())
}

/// Compares two strings as they appear in JSON, each followed by its
/// closing `"`; `None` when a byte that decides is not plain.
fn quoted_cmp(
    mut a: impl Iterator<Item = u8>,
    mut b: impl Iterator<Item = u8>,
) -> Option<Ordering> {
    let (x, y) = loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => {}
            (None, None) => return Some(Ordering::Equal),
            (x, y) => break (x, y),
        }
    };
    // `None`: the string's end, its closing `"`, which decides as itself.
    let decides = |byte: Option<u8>| byte.is_none_or(is_plain_byte);
    let quoted = |byte: Option<u8>| byte.unwrap_or(b'"');
    (decides(x) && decides(y)).then(|| quoted(x).cmp(&quoted(y)))
}
