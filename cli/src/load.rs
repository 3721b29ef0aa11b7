//! Reading a publication into owned rows: the meta parsed once into a
//! [`Layout`], the values read against it.
//!
//! The meta is parsed with `cantal_core::decode` (`parse_meta`,
//! `find_duplicate`); a [`Layout`] then reads any number of values
//! snapshots without parsing the meta again, which is what `export` caches
//! per publisher (meta files are immutable).

use crate::fail::{Failure, Result};
use crate::target::with_suffix;
use cantal_core::SHARD_KEY;
use cantal_core::decode::{Kind, LevelKind, find_duplicate, parse_meta, total_size};
use cantal_mmap::shards;
use std::path::Path;

/// The type of a slot, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SlotKind {
    /// `counter`.
    Counter,
    /// `level signed`.
    Signed,
    /// `level float`.
    Float,
    /// `level unsigned`.
    Unsigned,
    /// `state`.
    State,
    /// A type we do not know.
    Unknown,
}

/// One named slot of a meta file (pads are left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    /// The meta line (1-based).
    pub(crate) line: usize,
    /// The name's canonical JSON text.
    pub(crate) name: String,
    /// The name's pairs, unescaped, in file order.
    pub(crate) pairs: Vec<(String, String)>,
    /// The type.
    pub(crate) kind: SlotKind,
    /// The type as in the meta file: `counter`, `level signed`, ...
    pub(crate) type_word: String,
    /// Where the slot starts in the values file.
    offset: usize,
    /// Its length.
    size: usize,
    /// For the shards of a sharded counter: where the other shards'
    /// counters are (their sum is the value; see `cantal_mmap::shards`).
    more_shards: Vec<usize>,
}

/// The value of one slot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reading {
    /// A counter.
    Counter(u64),
    /// A signed level.
    Signed(i64),
    /// A float level.
    Float(f64),
    /// An unsigned level.
    Unsigned(u64),
    /// A state: start time (ms since the epoch, 0 for none) and text,
    /// decoded lossily.
    State {
        /// Milliseconds since the Unix epoch; 0 means no state.
        timestamp: u64,
        /// The text (U+FFFD for invalid UTF-8).
        text: String,
    },
    /// A slot of an unknown type.
    Unknown,
}

/// A parsed meta file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The named slots, in file order.
    pub(crate) slots: Vec<Slot>,
    /// The values length the meta describes.
    size: u64,
}

impl Layout {
    /// Parses a meta file; errors name `meta_path` and the line.
    pub(crate) fn parse(meta: &[u8], meta_path: &Path) -> Result<Layout> {
        let fail = |e: &dyn std::fmt::Display| Failure(format!("{}: {e}", meta_path.display()));
        let mut entries = Vec::new();
        for entry in parse_meta(meta) {
            entries.push(entry.map_err(|e| fail(&e))?);
        }
        let size = total_size(meta).map_err(|e| fail(&e))?;
        let mut slots = Vec::with_capacity(entries.len());
        for entry in &entries {
            let Some(name) = entry.name() else { continue };
            let kind = match entry.kind() {
                Kind::Counter => SlotKind::Counter,
                Kind::Level(LevelKind::Signed) => SlotKind::Signed,
                Kind::Level(LevelKind::Float) => SlotKind::Float,
                Kind::Level(LevelKind::Unsigned) => SlotKind::Unsigned,
                Kind::State => SlotKind::State,
                Kind::Pad => continue,
                _ => SlotKind::Unknown,
            };
            let too_large = || fail(&format_args!("meta line {}: slot too large", entry.line()));
            slots.push(Slot {
                line: entry.line(),
                name: name.to_string(),
                pairs: name
                    .pairs()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                kind,
                type_word: entry.kind().to_string(),
                offset: usize::try_from(entry.offset()).map_err(|_| too_large())?,
                size: entry.size() as usize,
                more_shards: Vec::new(),
            });
        }
        find_duplicate(&mut entries).map_err(|e| fail(&e))?;
        Ok(Layout {
            slots: sum_shards(slots),
            size,
        })
    }

    /// Reads every slot's value; errors name `values_path`.
    pub(crate) fn read(&self, values: &[u8], values_path: &Path) -> Result<Vec<Reading>> {
        if (values.len() as u64) < self.size {
            // Name the first slot that does not fit, as the decoder does.
            let line = self
                .slots
                .iter()
                .find(|s| s.offset + s.size > values.len())
                .map_or(String::new(), |s| format!(" for meta line {}", s.line));
            return Err(Failure(format!(
                "{}: values too short{line}: need {} bytes, have {} (half-written or \
                 replaced publication?)",
                values_path.display(),
                self.size,
                values.len()
            )));
        }
        self.slots
            .iter()
            .map(|slot| {
                let bytes = values
                    .get(slot.offset..slot.offset + slot.size)
                    .ok_or_else(|| {
                        Failure(format!(
                            "{}: values too short for meta line {}",
                            values_path.display(),
                            slot.line
                        ))
                    })?;
                let mut reading = read_slot(&slot.kind, bytes);
                if let Reading::Counter(sum) = &mut reading {
                    for &offset in &slot.more_shards {
                        let shard = values.get(offset..offset + 8).unwrap_or_default();
                        *sum = sum.wrapping_add(word(shard));
                    }
                }
                Ok(reading)
            })
            .collect()
    }
}

/// Makes one slot of the shards of each sharded counter: named without the
/// shard pair, where the first shard is, reading their sum.
fn sum_shards(slots: Vec<Slot>) -> Vec<Slot> {
    let groups = shards::groups(
        &slots
            .iter()
            .map(|s| shards::Slot {
                counter: s.kind == SlotKind::Counter,
                pairs: &s.pairs,
            })
            .collect::<Vec<_>>(),
    );
    if groups.iter().all(|g| !g.sharded) {
        return slots;
    }
    let offsets: Vec<usize> = slots.iter().map(|s| s.offset).collect();
    let mut slots: Vec<Option<Slot>> = slots.into_iter().map(Some).collect();
    groups
        .into_iter()
        .filter_map(|group| {
            let (&first, rest) = group.slots.split_first()?;
            let mut slot = slots.get_mut(first)?.take()?;
            if group.sharded {
                slot.name = shards::unsharded_name(&slot.name);
                slot.pairs.retain(|(k, _)| k != SHARD_KEY);
                slot.more_shards = rest
                    .iter()
                    .filter_map(|&i| offsets.get(i).copied())
                    .collect();
            }
            Some(slot)
        })
        .collect()
}

/// The first 8 bytes as a `u64` in host order (the parser guarantees at
/// least 8 bytes for every typed slot).
fn word(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    if let Some(head) = bytes.get(..8) {
        b.copy_from_slice(head);
    }
    u64::from_ne_bytes(b)
}

fn read_slot(kind: &SlotKind, bytes: &[u8]) -> Reading {
    match kind {
        SlotKind::Counter => Reading::Counter(word(bytes)),
        SlotKind::Signed => Reading::Signed(word(bytes) as i64),
        SlotKind::Float => Reading::Float(f64::from_bits(word(bytes))),
        SlotKind::Unsigned => Reading::Unsigned(word(bytes)),
        SlotKind::State => {
            let text = bytes.get(8..).unwrap_or_default();
            let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
            Reading::State {
                timestamp: word(bytes),
                text: String::from_utf8_lossy(&text[..end]).into_owned(),
            }
        }
        SlotKind::Unknown => Reading::Unknown,
    }
}

/// A publication read once.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    /// Its layout.
    pub(crate) layout: Layout,
    /// One reading per slot of the layout.
    pub(crate) readings: Vec<Reading>,
    /// Whether a process holds its lock.
    pub(crate) alive: bool,
}

/// Reads and decodes the publication at `base`.
pub(crate) fn load(base: &Path) -> Result<Loaded> {
    let snapshot = cantal_mmap::read::read(base)?;
    let layout = Layout::parse(&snapshot.meta, &with_suffix(base, ".meta"))?;
    let readings = layout.read(&snapshot.values, &with_suffix(base, ".values"))?;
    Ok(Loaded {
        layout,
        readings,
        alive: snapshot.alive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cantal_core::decode::{Value, decode};

    const META: &str = "counter 8: {\"name\": \"1\"}\nlevel 8 signed: {\"name\": \"2\"}\n\
        level 8 float: {\"b\":\"\\u00e9\",\"a\":\"x\"}\npad 8\nfoo 8 bar: {\"name\": \"4\"}\n\
        state 24: {\"name\": \"100\"}";

    fn values() -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&u64::MAX.to_ne_bytes());
        v.extend_from_slice(&i64::MIN.to_ne_bytes());
        v.extend_from_slice(&0.1f64.to_ne_bytes());
        v.extend_from_slice(&[7; 16]);
        v.extend_from_slice(&1_700_000_000_123u64.to_ne_bytes());
        v.extend_from_slice(b"caf\xc3\xa9\xff\0old text");
        v.resize(80, 0);
        v
    }

    /// The layout reads what `cantal_core::decode::decode` reads.
    #[test]
    fn agrees_with_the_decoder() {
        let layout = Layout::parse(META.as_bytes(), Path::new("x.meta")).unwrap();
        let readings = layout.read(&values(), Path::new("x.values")).unwrap();
        let values = values();
        let decoded: Vec<_> = decode(META.as_bytes(), &values)
            .map(|r| r.unwrap())
            .filter(|(e, _)| e.name().is_some())
            .collect();
        assert_eq!(decoded.len(), readings.len());
        for ((entry, value), (slot, reading)) in
            decoded.iter().zip(layout.slots.iter().zip(&readings))
        {
            assert_eq!(entry.line(), slot.line);
            assert_eq!(entry.kind().to_string(), slot.type_word);
            assert_eq!(entry.name().unwrap().to_string(), slot.name);
            let same = match (value, reading) {
                (Value::Counter(a), Reading::Counter(b)) => a == b,
                (Value::Signed(a), Reading::Signed(b)) => a == b,
                (Value::Float(a), Reading::Float(b)) => a.to_bits() == b.to_bits(),
                (
                    Value::State { timestamp, text },
                    Reading::State {
                        timestamp: t,
                        text: s,
                    },
                ) => timestamp == t && String::from_utf8_lossy(text) == *s,
                (Value::Unknown(_), Reading::Unknown) => true,
                _ => false,
            };
            assert!(same, "{value:?} vs {reading:?}");
        }
        assert_eq!(
            layout.slots[2].pairs,
            [("b".into(), "é".into()), ("a".into(), "x".into())]
        );
        assert_eq!(
            readings[4],
            Reading::State {
                timestamp: 1_700_000_000_123,
                text: "café\u{fffd}".into()
            }
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let e =
            Layout::parse(b"counter 8: {}\ncounter 8 {}", Path::new("/run/x.meta")).unwrap_err();
        assert!(
            e.0.starts_with("/run/x.meta: meta line 2, column 11: "),
            "{e}"
        );
        let e = Layout::parse(
            b"counter 8: {\"a\":\"1\"}\ncounter 8: {\"a\": \"1\"}",
            Path::new("/run/x.meta"),
        )
        .unwrap_err();
        assert_eq!(
            e.0,
            "/run/x.meta: meta lines 1 and 2 have the same metric name"
        );
        let layout = Layout::parse(META.as_bytes(), Path::new("x.meta")).unwrap();
        let e = layout
            .read(&values()[..60], Path::new("/run/x.values"))
            .unwrap_err();
        assert!(
            e.0.starts_with(
                "/run/x.values: values too short for meta line 6: need 64 bytes, have 60"
            ),
            "{e}"
        );
    }
}
