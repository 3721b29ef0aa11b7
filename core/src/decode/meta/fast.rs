//! The meta parser's fast path: one tight pass over a line spelled as the
//! reference client writes it.
//!
//! A canonical line (`counter 8: {"a": "1", "b": "2"}`, `level 8 signed: ...`,
//! `state 64: ...`, `pad 40`) is checked word by word against a few
//! literals, then its name: the `"` delimiters, the plain runs between them
//! (printable ASCII without `"` or `\`, eight bytes at a time), the `": "`
//! and `", "` separators and each key against the previous one. The line
//! ends at the `\n` (or the end of the input) right after the name, so the
//! line is never split or scanned twice.
//!
//! Anything unusual (an escape, a byte that is not printable ASCII, other
//! spacing, keys not strictly ascending, a size out of range, `\r`, an
//! unknown type, an error of any kind) makes [`canonical_line`] return
//! `None`, and the exact parser of `meta.rs` reads the line instead: every
//! error comes from there, and every entry accepted here is the one the
//! exact parser makes (same kind, size, name text, pair count, canonical
//! and sorted flags), in strict and in lenient mode alike.

use super::{LevelKind, MAX_SLOT_SIZE, MetaEntry, SlotKind};
use crate::decode::json::{ParsedName, plain_run};

/// Parses the canonical line at the start of `rest`, the `line`th, whose
/// slot starts at `offset`: the entry and the length of the line with its
/// `\n`. `None` when the line is not canonical (see the module docs).
pub(super) fn canonical_line(
    rest: &[u8],
    line: usize,
    offset: u64,
) -> Option<(MetaEntry<'_>, usize)> {
    let (kind, size, after) = header(rest)?;
    let (name, end) = match kind {
        SlotKind::Pad => (None, after),
        _ => {
            let (name, end) = name(rest, after)?;
            (Some(name), end)
        }
    };
    let used = match rest.get(end) {
        None => end,
        Some(b'\n') => end.saturating_add(1),
        Some(_) => return None,
    };
    offset.checked_add(u64::from(size))?;
    let entry = MetaEntry {
        line,
        kind,
        size,
        offset,
        name,
        skip: None,
    };
    Some((entry, used))
}

/// The header of a known type with a size it allows: the kind, the size
/// and where the name's `{` is (after `: `) or, for `pad`, where the line
/// must end.
fn header(b: &[u8]) -> Option<(SlotKind<'static>, u32, usize)> {
    match b.first_chunk::<8>()? {
        b"counter " if is(b, 8, b"8: ") => Some((SlotKind::Counter, 8, 11)),
        b"level 8 " => {
            let (kind, brace) = if is(b, 8, b"signed: ") {
                (LevelKind::Signed, 16)
            } else if is(b, 8, b"float: ") {
                (LevelKind::Float, 15)
            } else if is(b, 8, b"unsigned: ") {
                (LevelKind::Unsigned, 18)
            } else {
                return None;
            };
            Some((SlotKind::Level(kind), 8, brace))
        }
        [b's', b't', b'a', b't', b'e', b' ', ..] => {
            let (size, end) = size(b, 6, 8)?;
            let brace = end.saturating_add(2);
            is(b, end, b": ").then_some((SlotKind::State, size, brace))
        }
        [b'p', b'a', b'd', b' ', ..] => {
            let (size, end) = size(b, 4, 1)?;
            Some((SlotKind::Pad, size, end))
        }
        _ => None,
    }
}

/// Whether the bytes of `b` at `at` are `lit`.
#[inline(always)]
fn is<const N: usize>(b: &[u8], at: usize, lit: &[u8; N]) -> bool {
    b.get(at..).and_then(<[u8]>::first_chunk::<N>) == Some(lit)
}

/// Whether `key` comes after `prev` in byte (so code point) order: `key >
/// prev`, written out because the slice comparison (a `memcmp` call for
/// keys of a few bytes) made `parse_meta` 3-4 % slower (alternating runs of
/// the decode bench, 5.32-5.33 ms against 5.49-5.57 ms, load 0.3-0.5).
#[inline(always)]
fn ascends(prev: &[u8], key: &[u8]) -> bool {
    for (p, k) in prev.iter().zip(key) {
        if p != k {
            return k > p;
        }
    }
    key.len() > prev.len()
}

/// The decimal size of at most five digits at `at` of `b`, when it is in
/// `min..=MAX_SLOT_SIZE`, and where its digits end.
fn size(b: &[u8], at: usize, min: u32) -> Option<(u32, usize)> {
    let mut size: u32 = 0;
    let mut end = at;
    while let Some(&digit @ b'0'..=b'9') = b.get(end) {
        if end.wrapping_sub(at) == 5 {
            return None;
        }
        // At most five digits: at most 99,999, no overflow.
        size = size
            .wrapping_mul(10)
            .wrapping_add(u32::from(digit.wrapping_sub(b'0')));
        end = end.saturating_add(1);
    }
    (end != at && (min..=MAX_SLOT_SIZE).contains(&size)).then_some((size, end))
}

/// The canonical name whose `{` is at `start` of `b`: plain strings, keys
/// strictly ascending, `": "` and `", "` between them. The name and where
/// it ends (just past its `}`).
fn name(b: &[u8], start: usize) -> Option<(ParsedName<'_>, usize)> {
    let mut pos = start.saturating_add(1);
    let mut len: usize = 0;
    match b.get(start..)?.first_chunk::<2>()? {
        b"{}" => pos = pos.saturating_add(1),
        b"{\"" => {
            // `pos` is at the `"` that opens a key; `prev` is the key
            // before it (none for the first, `len == 0`).
            let mut prev: &[u8] = &[];
            loop {
                let key_start = pos.saturating_add(1);
                let key_end = plain_run(b, key_start);
                let key = b.get(key_start..key_end)?;
                if len != 0 && !ascends(prev, key) || !is(b, key_end, b"\": \"") {
                    return None;
                }
                let value_start = key_end.saturating_add(4);
                let value_end = plain_run(b, value_start);
                prev = key;
                len = len.saturating_add(1);
                let after = value_end.saturating_add(2);
                if is(b, value_end, b"\", \"") {
                    pos = after.saturating_add(1);
                } else if is(b, value_end, b"\"}") {
                    pos = after;
                    break;
                } else {
                    return None;
                }
            }
        }
        _ => return None,
    }
    // Every byte from `{` to `}` was matched as ASCII above.
    let raw = core::str::from_utf8(b.get(start..pos)?).ok()?;
    let name = ParsedName {
        raw,
        len,
        canonical: true,
        sorted: true,
    };
    Some((name, pos))
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
