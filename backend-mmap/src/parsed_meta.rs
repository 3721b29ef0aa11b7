//! [`ParsedMeta`]: a meta file parsed once, to read any number of values
//! snapshots against.
//!
//! Meta files are immutable (a publisher that changes its layout renames a
//! new one into place), so a reader that polls a publication (a `watch`,
//! an exporter) parses the meta once and reads only the values after that.
//! The shards of a `ShardedCounter` are one [`Slot`] here, reading their
//! sum (see [`crate::shards`]).
//!
//! Parsing is lenient (`cantal_core::decode::parse_meta_lenient`): a
//! well-formed line whose slot this reader cannot interpret (`counter 4`,
//! `pad 0`, an unknown type, a second line with an earlier line's name, ...)
//! is a [`Slot`] whose [`skipped`](Slot::skipped) says why, reading as
//! [`OwnedValue::Unknown`]; it never hides the file's other slots, and
//! still occupies its declared size, so the offsets after it stay right.
//! Only a line that is really malformed fails the whole file.

use crate::error::Error;
use crate::slot_name::SlotName;
use crate::{duplicates, histogram, shards};
use cantal_core::SHARD_KEY;
use cantal_core::decode::{self, LevelKind, SlotKind, Value, ValuesError};
use std::path::Path;

/// The type of a [`Slot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlotType {
    /// `counter 8` (or the shards of a sharded counter).
    Counter,
    /// `level 8 signed`.
    Signed,
    /// `level 8 float`.
    Float,
    /// `level 8 unsigned`.
    Unsigned,
    /// `state N`.
    State,
    /// The parts of a histogram (see [`crate::histogram`]): counters
    /// `_count` and `_bucket`, a float `_sum`.
    Histogram,
    /// A slot this reader does not read: a type it does not know (its word
    /// is in [`Slot::kind`]), or a known one it cannot interpret. Its
    /// [`Slot::skipped`] says which.
    Unknown,
}

impl SlotType {
    /// The type as a meta file says it: `counter`, `level signed`, `level
    /// float`, `level unsigned`, `state`; `histogram` for the joined parts
    /// of one; empty for [`SlotType::Unknown`] (see [`Slot::kind`]).
    pub fn word(self) -> &'static str {
        match self {
            SlotType::Counter => "counter",
            SlotType::Signed => "level signed",
            SlotType::Float => "level float",
            SlotType::Unsigned => "level unsigned",
            SlotType::State => "state",
            SlotType::Histogram => "histogram",
            SlotType::Unknown => "",
        }
    }
}

/// One metric of a [`ParsedMeta`]: a named slot (pads are left out), or the
/// shards of a sharded counter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Slot {
    /// The name: its pairs in the file's order and its canonical spelling.
    name: SlotName,
    /// The type (the meta file's words: [`kind`](Self::kind)).
    pub ty: SlotType,
    /// The meta line (1-based; a sharded counter's first shard's).
    pub line: usize,
    /// For a slot the reader skips: why, and its type's words.
    skip: Option<Box<Skipped>>,
    /// Where the slot is in the values: offset and length.
    range: (usize, usize),
    /// Where the other parts of a metric of several slots are.
    more: Option<Box<More>>,
}

/// Why the reader skips a slot (see [`Slot::skipped`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Skipped {
    why: String,
    /// The type as the meta file says it (of any type).
    word: Box<str>,
}

/// The other parts of a metric of several slots. Boxed: most slots are one
/// slot, and a reader keeps a [`Slot`] for each (80 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
enum More {
    /// For the shards of a sharded counter: where the other shards'
    /// counters are.
    Shards(Box<[usize]>),
    /// For a histogram: where its parts are.
    Histogram(Parts),
}

/// Where a histogram's parts are in the values: offsets of 8-byte slots.
#[derive(Debug, Clone, PartialEq)]
struct Parts {
    shape: histogram::Shape,
    /// The sum is a float level (else a counter).
    float_sum: bool,
    count: usize,
    sum: usize,
    /// Ascending bounds, each with its counter's offset (cumulative or not,
    /// as `shape` says).
    buckets: Vec<(f64, usize)>,
    /// The `+Inf` bucket's offset ([`histogram::Shape::Exclusive`]).
    overflow: Option<usize>,
}

// The bounds are finite (never NaN): equality is reflexive.
impl Eq for Parts {}

/// The value of a [`Slot`], owned.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OwnedValue {
    /// `counter 8`.
    Counter(u64),
    /// `level 8 signed`.
    Signed(i64),
    /// `level 8 float`.
    Float(f64),
    /// `level 8 unsigned`.
    Unsigned(u64),
    /// `state N`: `timestamp` 0 means no state. The text is decoded
    /// lossily (the reference client may cut a character in two).
    State {
        /// Milliseconds since the Unix epoch.
        timestamp: u64,
        /// The text up to the first NUL.
        text: String,
    },
    /// A histogram: its `_count`, `_sum`, and each bucket's bound and
    /// cumulative count, in ascending bound order (no `+Inf` bucket: that
    /// is the count).
    Histogram {
        /// How many values were recorded.
        count: u64,
        /// Their sum.
        sum: f64,
        /// Each bucket's upper bound and how many values were at most it.
        buckets: Vec<(f64, u64)>,
    },
    /// A slot of a type this reader does not know.
    Unknown,
}

impl From<Value<'_>> for OwnedValue {
    fn from(value: Value<'_>) -> OwnedValue {
        match value {
            Value::Counter(v) => OwnedValue::Counter(v),
            Value::Signed(v) => OwnedValue::Signed(v),
            Value::Float(v) => OwnedValue::Float(v),
            Value::Unsigned(v) => OwnedValue::Unsigned(v),
            Value::State { timestamp, text } => OwnedValue::State {
                timestamp,
                text: String::from_utf8_lossy(text).into_owned(),
            },
            _ => OwnedValue::Unknown,
        }
    }
}

/// A parsed meta file: its metrics, and the values length it describes.
///
/// # Examples
///
/// ```
/// # use cantal_mmap as cantal;
/// use cantal::read::{ParsedMeta, OwnedValue};
///
/// let meta = b"counter 8: {\"metric\": \"requests\"}\nlevel 8 float: {\"metric\": \"load\"}";
/// let layout = ParsedMeta::parse(meta, "/run/app.meta")?;
/// assert_eq!(layout.slots()[1].name(), r#"{"metric": "load"}"#);
///
/// let mut values = 7u64.to_ne_bytes().to_vec();
/// values.extend(0.5f64.to_ne_bytes());
/// let read = layout.read(&values, "/run/app.values".as_ref())?;
/// assert_eq!(read, [OwnedValue::Counter(7), OwnedValue::Float(0.5)]);
/// # Ok::<(), cantal_mmap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMeta {
    slots: Vec<Slot>,
    /// The values length the meta describes.
    size: u64,
}

impl ParsedMeta {
    /// Parses the meta text `meta`, read from `meta_path` (which errors
    /// name), leniently: a well-formed line whose slot this reader cannot
    /// interpret (`counter 4`, `pad 0`, an unknown type, a second line with
    /// an earlier line's name, ...) is a [`Slot`] whose
    /// [`skipped`](Slot::skipped) says why, reading as
    /// [`OwnedValue::Unknown`] and occupying its declared size; it never
    /// hides the other slots.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] for a malformed line (naming the line and
    /// column); [`Error::TooLarge`] for a name longer than 4 GiB. Two
    /// lines with the same name are not an error: the second is skipped.
    pub fn parse(meta: &[u8], meta_path: impl AsRef<Path>) -> Result<ParsedMeta, Error> {
        let path = || meta_path.as_ref().to_path_buf();
        let mut size = 0;
        // At most one slot a line: no regrowth of a large layout.
        let mut slots = Vec::with_capacity(decode::meta_lines(meta));
        // Every name is written here first (see `SlotName::of_parsed_in`).
        let mut scratch = String::new();
        for entry in decode::parse_meta_lenient(meta) {
            let entry = entry.map_err(|e| Error::Decode {
                path: path(),
                source: e.into(),
            })?;
            size = entry.end();
            if entry.kind() == SlotKind::Pad {
                continue;
            }
            // Only on a target whose address space is smaller than the
            // slot's offset: it could not be read anyway.
            let too_large = || Error::TooLarge {
                path: path(),
                size: entry.end(),
                limit: usize::MAX as u64,
            };
            let start = usize::try_from(entry.offset()).map_err(|_| too_large())?;
            let end = usize::try_from(entry.end()).map_err(|_| too_large())?;
            // Only for a meta of more than 4 GiB, which no reader reads.
            let slot = Slot::of_entry(&entry, (start, end), &mut scratch).map_err(|_| {
                Error::TooLarge {
                    path: path(),
                    size: meta.len() as u64,
                    limit: u64::from(u32::MAX),
                }
            })?;
            slots.push(slot);
        }
        skip_duplicates(&mut slots);
        Ok(ParsedMeta {
            slots: join_histograms(sum_shards(slots)),
            size,
        })
    }

    /// How many of the [`slots`](Self::slots) are skipped.
    pub fn skipped(&self) -> usize {
        self.slots.iter().filter(|s| s.skip.is_some()).count()
    }

    /// The metrics, in meta order.
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// The metrics, in meta order, owned.
    pub fn into_slots(self) -> Vec<Slot> {
        self.slots
    }

    /// Where the `state` slots are in the values: offset and length.
    pub(crate) fn state_ranges(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.slots
            .iter()
            .filter(|slot| slot.ty == SlotType::State)
            .map(|slot| (slot.range.0 as u64, slot.range.1 - slot.range.0))
    }

    /// The length of the values file the meta describes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads every slot's value from `values`, read from `values_path`
    /// (which errors name): one value per [`slots`](Self::slots) entry.
    /// A values file longer than the meta says is fine (a publisher that
    /// adds metrics grows it before it replaces the meta).
    ///
    /// # Errors
    ///
    /// [`Error::ValuesTooShort`] when `values` ends before a slot does.
    pub fn read(&self, values: &[u8], values_path: &Path) -> Result<Vec<OwnedValue>, Error> {
        self.slots
            .iter()
            .map(|slot| {
                let too_short = |end: usize| Error::ValuesTooShort {
                    path: values_path.to_path_buf(),
                    source: ValuesError::new(slot.line, end as u64, values.len()),
                };
                let shards = match slot.more.as_deref() {
                    Some(More::Histogram(parts)) => {
                        return read_histogram(parts, values)
                            .ok_or_else(|| too_short(slot.range.1));
                    }
                    Some(More::Shards(shards)) => &shards[..],
                    None => &[],
                };
                let (start, end) = slot.range;
                let bytes = values.get(start..end).ok_or_else(|| too_short(end))?;
                let mut value = OwnedValue::from(Value::of_slot(slot.decode_kind(), bytes));
                if let OwnedValue::Counter(sum) = &mut value {
                    for &offset in shards {
                        let shard = values
                            .get(offset..offset + 8)
                            .ok_or_else(|| too_short(offset + 8))?;
                        let shard = Value::of_slot(SlotKind::Counter, shard);
                        if let Value::Counter(v) = shard {
                            *sum = sum.wrapping_add(v);
                        }
                    }
                }
                Ok(value)
            })
            .collect()
    }
}

impl Slot {
    /// The slot of a (non-pad) meta line, at `range` of the values; the
    /// line's number when its name is too long to store (over 4 GiB).
    fn of_entry(
        entry: &decode::MetaEntry<'_>,
        range: (usize, usize),
        scratch: &mut String,
    ) -> Result<Slot, usize> {
        let ty = match entry.kind() {
            SlotKind::Counter => SlotType::Counter,
            SlotKind::Level(LevelKind::Signed) => SlotType::Signed,
            SlotKind::Level(LevelKind::Float) => SlotType::Float,
            SlotKind::Level(LevelKind::Unsigned) => SlotType::Unsigned,
            SlotKind::State => SlotType::State,
            _ => SlotType::Unknown,
        };
        let name = entry.name().map_or(Ok(SlotName::default()), |name| {
            SlotName::of_parsed_in(&name, scratch).ok_or(entry.line())
        })?;
        let why = match (ty, entry.skipped()) {
            (_, Some(why)) => Some(why.to_string()),
            (SlotType::Unknown, None) => Some("unknown type".into()),
            _ => None,
        };
        Ok(Slot {
            name,
            ty,
            line: entry.line(),
            skip: why.map(|why| {
                let word = entry.kind().to_string().into();
                Box::new(Skipped { why, word })
            }),
            range,
            more: None,
        })
    }

    /// The name: its pairs in the file's order ([`SlotName::pairs`]) and
    /// its canonical spelling ([`SlotName::as_str`]); empty for a skipped
    /// slot that has none.
    pub fn name(&self) -> &SlotName {
        &self.name
    }

    /// The type as the meta file says it: `counter`, `level signed`,
    /// `level float`, `level unsigned`, `state`, `histogram` (the joined
    /// parts of one), or the words of a type this reader skips (`counter`
    /// for a `counter 4`, an unknown type's word and parameter).
    pub fn kind(&self) -> &str {
        self.skip.as_ref().map_or(self.ty.word(), |s| &s.word)
    }

    /// Why the reader skips this slot (`size must be 8, found 4`, `the
    /// same name as meta line 3`, ...), for a slot of type
    /// [`SlotType::Unknown`]; `None` for every other. A skipped slot may
    /// have no name (an empty [`name`](Self::name)): an unknown type or a
    /// `pad 0` written without one, a name with a key twice.
    pub fn skipped(&self) -> Option<&str> {
        self.skip.as_ref().map(|s| s.why.as_str())
    }

    /// Makes this slot one the reader skips, for `why`.
    fn skip(&mut self, why: String) {
        let word = match self.skip.take() {
            Some(skipped) => skipped.word,
            None => self.ty.word().into(),
        };
        self.ty = SlotType::Unknown;
        self.skip = Some(Box::new(Skipped { why, word }));
    }

    /// The decoder's kind for this slot's type (unknown types read as
    /// `Unknown` whatever the word).
    fn decode_kind(&self) -> SlotKind<'static> {
        match self.ty {
            SlotType::Counter => SlotKind::Counter,
            SlotType::Signed => SlotKind::Level(LevelKind::Signed),
            SlotType::Float => SlotKind::Level(LevelKind::Float),
            SlotType::Unsigned => SlotKind::Level(LevelKind::Unsigned),
            SlotType::State => SlotKind::State,
            SlotType::Histogram | SlotType::Unknown => SlotKind::Unknown {
                word: "",
                param: None,
            },
        }
    }
}

/// Skips every named slot whose name an earlier slot has (a slot without
/// a name has an empty `name`: a canonical name is never empty).
fn skip_duplicates(slots: &mut [Slot]) {
    let seconds = duplicates::later_duplicates(slots, |s| s.name.as_str());
    for (later, first) in seconds {
        let Some(first) = slots.get(first).map(|s| s.line) else {
            continue;
        };
        if let Some(slot) = slots.get_mut(later) {
            slot.skip(format!("the same name as meta line {first}"));
        }
    }
}

/// Makes one slot of the shards of each sharded counter: named without the
/// shard pair, where the first shard is, reading their sum.
fn sum_shards(slots: Vec<Slot>) -> Vec<Slot> {
    // A file without a shard pays one look at each counter's keys.
    let shard_key = |s: &Slot| s.name.pairs().any(|(k, _)| k == SHARD_KEY);
    if !slots
        .iter()
        .any(|s| s.ty == SlotType::Counter && shard_key(s))
    {
        return slots;
    }
    let groups = shards::groups(
        &slots
            .iter()
            .map(|s| shards::ShardMember {
                counter: s.ty == SlotType::Counter,
                name: &s.name,
            })
            .collect::<Vec<_>>(),
    );
    if groups.iter().all(|g| !g.sharded) {
        return slots;
    }
    let offsets: Vec<usize> = slots.iter().map(|s| s.range.0).collect();
    let mut slots: Vec<Option<Slot>> = slots.into_iter().map(Some).collect();
    groups
        .into_iter()
        .filter_map(|group| {
            let (&first, rest) = group.slots.split_first()?;
            let mut slot = slots.get_mut(first)?.take()?;
            if group.sharded {
                let pairs = slot.name.pairs().filter(|&(k, _)| k != SHARD_KEY);
                slot.name = SlotName::derived(&shards::unsharded_name(slot.name.as_str()), pairs);
                let shards = rest.iter().filter_map(|&i| offsets.get(i).copied());
                slot.more = Some(Box::new(More::Shards(shards.collect())));
            }
            Some(slot)
        })
        .collect()
}

/// Reads a histogram's parts; `None` when `values` is too short.
fn read_histogram(parts: &Parts, values: &[u8]) -> Option<OwnedValue> {
    let word = |offset: usize| -> Option<[u8; 8]> {
        values.get(offset..offset.checked_add(8)?)?.try_into().ok()
    };
    let count = u64::from_ne_bytes(word(parts.count)?);
    let mut buckets = parts
        .buckets
        .iter()
        .map(|&(bound, offset)| Some((bound, u64::from_ne_bytes(word(offset)?))))
        .collect::<Option<Vec<_>>>()?;
    let sum = word(parts.sum)?;
    let (count, sum) = match parts.shape {
        histogram::Shape::Cumulative => (count, f64::from_ne_bytes(sum)),
        histogram::Shape::Exclusive => {
            // Each bucket holds its own range: add them up in bound order.
            let mut total = 0u64;
            for (_, n) in &mut buckets {
                total = total.wrapping_add(*n);
                *n = total;
            }
            let overflow = u64::from_ne_bytes(word(parts.overflow?)?);
            // A bucket is added before the count: while observations are
            // in flight the buckets are ahead, and they are the truth.
            let count = count.max(total.wrapping_add(overflow));
            let sum = if parts.float_sum {
                f64::from_ne_bytes(sum)
            } else {
                u64::from_ne_bytes(sum) as f64
            };
            (count, sum)
        }
    };
    Some(OwnedValue::Histogram {
        count,
        sum,
        buckets,
    })
}

/// Makes one slot of the parts of each histogram (see
/// [`crate::histogram`]), where its first part is. Parts are 8-byte
/// slots that are not sharded counters.
fn join_histograms(slots: Vec<Slot>) -> Vec<Slot> {
    let part_of = |s: &Slot| {
        let whole = s.more.is_none() && s.range.1 - s.range.0 == 8;
        match s.ty {
            SlotType::Counter if whole => histogram::Part::Counter,
            SlotType::Float if whole => histogram::Part::Float,
            _ => histogram::Part::Other,
        }
    };
    // A file without a histogram pays one look at each slot's keys.
    if !slots
        .iter()
        .any(|s| histogram::may_be_part(part_of(s), &s.name))
    {
        return slots;
    }
    let kinds: Vec<(histogram::Part, &SlotName)> =
        slots.iter().map(|s| (part_of(s), &s.name)).collect();
    let groups = histogram::groups(&kinds);
    if groups.len() == slots.len() {
        return slots;
    }
    let mut slots: Vec<Option<Slot>> = slots.into_iter().map(Some).collect();
    groups
        .into_iter()
        .filter_map(|group| match group {
            histogram::HistogramGroup::One(i) => slots.get_mut(i)?.take(),
            histogram::HistogramGroup::Parts(h) => {
                let offset = |i: usize| slots.get(i)?.as_ref().map(|s| s.range.0);
                let parts = Parts {
                    shape: h.shape,
                    float_sum: h.float_sum,
                    overflow: h.overflow.and_then(offset),
                    count: offset(h.count)?,
                    sum: offset(h.sum)?,
                    buckets: h
                        .buckets
                        .iter()
                        .map(|&(bound, i)| Some((bound, offset(i)?)))
                        .collect::<Option<_>>()?,
                };
                let count = slots.get(h.count)?.as_ref()?;
                let line = count.line;
                let canonical = match h.shape {
                    histogram::Shape::Cumulative => histogram::histogram_name(count.name.as_str()),
                    histogram::Shape::Exclusive => {
                        histogram::exclusive_histogram_name(count.name.as_str())
                    }
                };
                let pairs = h.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                let name = SlotName::derived(&canonical, pairs);
                let end = h
                    .slots()
                    .iter()
                    .filter_map(|&i| slots.get(i)?.as_ref().map(|s| s.range.1))
                    .max()?;
                for i in h.slots() {
                    slots[i] = None;
                }
                Some(Slot {
                    name,
                    ty: SlotType::Histogram,
                    line,
                    skip: None,
                    range: (parts.count, end),
                    more: Some(Box::new(More::Histogram(parts))),
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn reads_every_type_and_keeps_file_order_of_pairs() {
        let layout = ParsedMeta::parse(META.as_bytes(), "x.meta").unwrap();
        assert_eq!(layout.size(), 64);
        let kinds: Vec<(&str, SlotType, usize)> = layout
            .slots()
            .iter()
            .map(|s| (s.kind(), s.ty, s.line))
            .collect();
        assert_eq!(
            kinds,
            [
                ("counter", SlotType::Counter, 1),
                ("level signed", SlotType::Signed, 2),
                ("level float", SlotType::Float, 3),
                ("foo bar", SlotType::Unknown, 5),
                ("state", SlotType::State, 6),
            ]
        );
        let pairs: Vec<_> = layout.slots()[2].name().pairs().collect();
        assert_eq!(pairs, [("b", "é"), ("a", "x")]);
        assert_eq!(layout.slots()[2].name(), r#"{"a": "x", "b": "\u00e9"}"#);
        let read = layout.read(&values(), Path::new("x.values")).unwrap();
        assert_eq!(
            read,
            [
                OwnedValue::Counter(u64::MAX),
                OwnedValue::Signed(i64::MIN),
                OwnedValue::Float(0.1),
                OwnedValue::Unknown,
                OwnedValue::State {
                    timestamp: 1_700_000_000_123,
                    text: "café\u{fffd}".into()
                },
            ]
        );
        // Longer values (a publisher that has grown its file): fine.
        let mut longer = values();
        longer.extend([1; 64]);
        assert_eq!(layout.read(&longer, Path::new("x.values")).unwrap(), read);
    }

    #[test]
    fn a_slot_is_small() {
        // A reader keeps one for every slot of every publication it reads
        // (issue 19: `read --json` of 100,000 counters at most twice the
        // naive reader's peak memory).
        if size_of::<usize>() == 8 {
            assert_eq!(size_of::<SlotName>(), 32);
            assert_eq!(size_of::<Slot>(), 80);
        }
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e = ParsedMeta::parse(b"counter 8: {}\ncounter 8 {}", "/run/x.meta").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/run/x.meta: meta line 2, column 11: "),
            "{e}"
        );
        // The same name twice: the second line is skipped, not an error.
        let layout = ParsedMeta::parse(
            b"counter 8: {\"a\":\"1\"}\ncounter 8: {\"a\": \"1\"}\ncounter 8: {}",
            "/run/x.meta",
        )
        .unwrap();
        let skipped: Vec<_> = layout.slots().iter().map(Slot::skipped).collect();
        assert_eq!(skipped, [None, Some("the same name as meta line 1"), None]);
        assert_eq!(layout.slots()[1].ty, SlotType::Unknown);
        assert_eq!(layout.skipped(), 1);
        let layout = ParsedMeta::parse(META.as_bytes(), "x.meta").unwrap();
        let e = layout
            .read(&values()[..60], Path::new("/run/x.values"))
            .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "/run/x.values: values too short for meta line 6: need 64 bytes, have 60"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_recorder_histogram_is_one_slot_with_buckets_in_bound_order() {
        let meta = "counter 8: {\"le\": \"1\", \"metric\": \"h_bucket\"}\n\
            counter 8: {\"le\": \"10\", \"metric\": \"h_bucket\"}\n\
            counter 8: {\"le\": \"2.5\", \"metric\": \"h_bucket\"}\n\
            counter 8: {\"metric\": \"h_count\"}\n\
            level 8 float: {\"metric\": \"h_sum\"}\n\
            counter 8: {\"metric\": \"other\"}";
        let layout = ParsedMeta::parse(meta.as_bytes(), "h.meta").unwrap();
        let slots = layout.slots();
        assert_eq!(slots.len(), 2);
        assert_eq!(
            (slots[0].name.as_str(), slots[0].kind(), slots[0].ty),
            (r#"{"metric": "h"}"#, "histogram", SlotType::Histogram)
        );
        assert_eq!(slots[0].name.pairs().collect::<Vec<_>>(), [("metric", "h")]);
        assert_eq!(slots[1].name, r#"{"metric": "other"}"#);
        let mut values = Vec::new();
        for v in [1u64, 5, 3, 6] {
            values.extend(v.to_ne_bytes());
        }
        values.extend(12.5f64.to_ne_bytes());
        values.extend(9u64.to_ne_bytes());
        let read = layout.read(&values, Path::new("h.values")).unwrap();
        assert_eq!(
            read,
            [
                OwnedValue::Histogram {
                    count: 6,
                    sum: 12.5,
                    buckets: vec![(1.0, 1), (2.5, 3), (10.0, 5)],
                },
                OwnedValue::Counter(9),
            ]
        );
        let e = layout
            .read(&values[..40], Path::new("h.values"))
            .unwrap_err();
        assert!(e.to_string().contains("values too short"), "{e}");
    }
}
