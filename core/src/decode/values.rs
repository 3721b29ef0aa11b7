//! Reading a slot's value out of the values bytes.
//!
//! Slots are read from a plain byte slice at any alignment: the bytes are
//! copied into arrays and converted with `from_ne_bytes` (the values file is
//! in the publisher's byte order, which is the host's). Nothing here touches
//! a live shared mapping: the caller copies the values first (see the
//! backends).

use core::fmt;

use super::error::ValuesError;
use super::meta::{LevelKind, MetaEntry, SlotKind};

/// The value of one slot.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// `counter 8`.
    Counter(u64),
    /// `level 8 signed`.
    Signed(i64),
    /// `level 8 float`.
    Float(f64),
    /// `level 8 unsigned`.
    Unsigned(u64),
    /// `state N`.
    State {
        /// Milliseconds since the Unix epoch when the state was entered;
        /// 0 means "no state" (the text is then left over from an earlier
        /// state, or empty).
        timestamp: u64,
        /// The text: the bytes after the timestamp up to the first NUL or
        /// the end of the slot. Usually UTF-8, but the reference client
        /// truncates long text in the middle of a character; display it
        /// with [`LossyText`] (or `String::from_utf8_lossy`).
        text: &'a [u8],
    },
    /// `pad N`: carries nothing.
    Pad,
    /// A slot of a type this decoder does not know: its raw bytes.
    Unknown(&'a [u8]),
}

impl<'a> Value<'a> {
    /// The value of a slot of type `kind` whose bytes are `slot` (its
    /// whole length, as the meta line says): for readers that keep slot
    /// positions and types of their own between reads of the values. A
    /// `slot` too short for its type reads as `Unknown`.
    pub fn of_slot(kind: SlotKind<'_>, slot: &'a [u8]) -> Value<'a> {
        slot_value(kind, slot)
    }

    /// The state's text as a lossy `Display` (U+FFFD for invalid UTF-8),
    /// for a `State`; `None` otherwise.
    pub fn state_text_lossy(&self) -> Option<LossyText<'a>> {
        match *self {
            Value::State { text, .. } => Some(LossyText(text)),
            _ => None,
        }
    }
}

/// Displays bytes as UTF-8, writing U+FFFD for each invalid sequence, like
/// `String::from_utf8_lossy` but without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LossyText<'a>(pub &'a [u8]);

impl fmt::Display for LossyText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                fmt::Write::write_char(f, char::REPLACEMENT_CHARACTER)?;
            }
        }
        Ok(())
    }
}

/// Reads the value of `entry`'s slot from `values`.
///
/// `values` is the whole values file (or a copy of it), at any alignment.
///
/// # Errors
///
/// A [`ValuesError`] naming the line, the length needed and the length
/// available, when the slot ends past the end of `values`.
pub fn read_value<'v>(entry: &MetaEntry<'_>, values: &'v [u8]) -> Result<Value<'v>, ValuesError> {
    let too_short = || ValuesError {
        line: entry.line(),
        needed: entry.end(),
        available: values.len(),
    };
    let start = usize::try_from(entry.offset()).map_err(|_| too_short())?;
    let end = usize::try_from(entry.end()).map_err(|_| too_short())?;
    let slot = values.get(start..end).ok_or_else(too_short)?;
    Ok(slot_value(entry.kind(), slot))
}

impl MetaEntry<'_> {
    /// Reads this slot's value from `values`; see [`read_value`].
    ///
    /// # Errors
    ///
    /// When `values` is too short for the slot.
    pub fn read<'v>(&self, values: &'v [u8]) -> Result<Value<'v>, ValuesError> {
        read_value(self, values)
    }
}

/// The value of a slot of `kind` whose bytes are `slot`. The parser
/// guarantees the sizes; a short slot (impossible) reads as `Unknown`.
fn slot_value<'v>(kind: SlotKind<'_>, slot: &'v [u8]) -> Value<'v> {
    let word = slot.first_chunk::<8>().copied();
    match (kind, word) {
        (SlotKind::Counter, Some(w)) => Value::Counter(u64::from_ne_bytes(w)),
        (SlotKind::Level(LevelKind::Signed), Some(w)) => Value::Signed(i64::from_ne_bytes(w)),
        (SlotKind::Level(LevelKind::Float), Some(w)) => Value::Float(f64::from_ne_bytes(w)),
        (SlotKind::Level(LevelKind::Unsigned), Some(w)) => Value::Unsigned(u64::from_ne_bytes(w)),
        (SlotKind::State, Some(w)) => {
            let rest = slot.get(8..).unwrap_or_default();
            let text = rest.split(|&b| b == 0).next().unwrap_or(rest);
            Value::State {
                timestamp: u64::from_ne_bytes(w),
                text,
            }
        }
        (SlotKind::Pad, _) => Value::Pad,
        _ => Value::Unknown(slot),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::parse_meta;
    use std::string::ToString;
    use std::vec::Vec;

    fn entries(meta: &str) -> Vec<MetaEntry<'_>> {
        parse_meta(meta.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    #[test]
    fn every_type() {
        let meta = "counter 8: {}\nlevel 8 signed: {\"a\": \"1\"}\nlevel 8 float: {\"a\": \"2\"}\n\
                    level 8 unsigned: {\"a\": \"3\"}\npad 3\nblob 5\nstate 16: {}";
        let mut values = Vec::new();
        values.extend_from_slice(&7u64.to_ne_bytes());
        values.extend_from_slice(&(-5i64).to_ne_bytes());
        values.extend_from_slice(&1.5f64.to_ne_bytes());
        values.extend_from_slice(&u64::MAX.to_ne_bytes());
        values.extend_from_slice(b"ppp");
        values.extend_from_slice(b"bbbbb");
        values.extend_from_slice(&1234u64.to_ne_bytes());
        values.extend_from_slice(b"hi\0garbage");
        let read: Vec<_> = entries(meta)
            .iter()
            .map(|e| e.read(&values).unwrap())
            .collect();
        assert_eq!(
            read,
            [
                Value::Counter(7),
                Value::Signed(-5),
                Value::Float(1.5),
                Value::Unsigned(u64::MAX),
                Value::Pad,
                Value::Unknown(b"bbbbb"),
                Value::State {
                    timestamp: 1234,
                    text: b"hi"
                },
            ]
        );
    }

    #[test]
    fn unaligned_slices() {
        let meta = "counter 8: {}\nlevel 8 float: {}\nstate 16: {}";
        let entries = entries(meta);
        let mut buf = [0u8; 8 + 32];
        for shift in 0..8 {
            let values = &mut buf[shift..shift + 32];
            values[..8].copy_from_slice(&0x0102_0304_0506_0708u64.to_ne_bytes());
            values[8..16].copy_from_slice(&(-0.25f64).to_ne_bytes());
            values[16..24].copy_from_slice(&99u64.to_ne_bytes());
            values[24..].copy_from_slice(b"12345678");
            let values = &buf[shift..shift + 32];
            assert_eq!(
                entries[0].read(values),
                Ok(Value::Counter(0x0102_0304_0506_0708))
            );
            assert_eq!(entries[1].read(values), Ok(Value::Float(-0.25)));
            // Text that fills the slot has no NUL.
            assert_eq!(
                entries[2].read(values),
                Ok(Value::State {
                    timestamp: 99,
                    text: b"12345678"
                })
            );
        }
    }

    #[test]
    fn truncated_values() {
        let entries = entries("counter 8: {}\npad 40\nstate 64: {}");
        let values = [0u8; 100];
        assert_eq!(entries[0].read(&values), Ok(Value::Counter(0)));
        assert_eq!(entries[1].read(&values), Ok(Value::Pad));
        let e = entries[2].read(&values).unwrap_err();
        assert_eq!((e.line(), e.needed(), e.available()), (3, 112, 100));
        assert_eq!(
            e.to_string(),
            "values too short for meta line 3: need 112 bytes, have 100"
        );
        assert!(entries[0].read(&values[..7]).is_err());
        assert!(entries[0].read(&[]).is_err());
    }

    #[test]
    fn state_timestamp_zero_and_leftovers() {
        let e = entries("state 16: {}")[0];
        // Never entered: all zero.
        assert_eq!(
            e.read(&[0u8; 16]),
            Ok(Value::State {
                timestamp: 0,
                text: b""
            })
        );
        // Left: timestamp 0, text left over.
        let mut v = [0u8; 16];
        v[8..13].copy_from_slice(b"idle\0");
        assert_eq!(
            e.read(&v),
            Ok(Value::State {
                timestamp: 0,
                text: b"idle"
            })
        );
    }

    #[test]
    fn lossy_state_text() {
        let e = entries("state 16: {}")[0];
        let mut v = [0u8; 16];
        v[..8].copy_from_slice(&5u64.to_ne_bytes());
        // "abcdeé" truncated in the middle of "é" (c3 a9), plus a bad byte.
        v[8..16].copy_from_slice(b"ab\xffcdef\xc3");
        let value = e.read(&v).unwrap();
        let lossy = value.state_text_lossy().unwrap().to_string();
        assert_eq!(lossy, "ab\u{fffd}cdef\u{fffd}");
        assert_eq!(
            lossy,
            std::string::String::from_utf8_lossy(b"ab\xffcdef\xc3")
        );
        assert_eq!(Value::Counter(1).state_text_lossy(), None);
        assert_eq!(LossyText("é中😀".as_bytes()).to_string(), "é中😀");
        assert_eq!(LossyText(b"\xf0\x9f\x98").to_string(), "\u{fffd}");
    }
}
