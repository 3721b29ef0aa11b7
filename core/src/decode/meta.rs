//! The meta file parser: one [`MetaEntry`] per line, in order.
//!
//! Grammar of a line (see PROTOCOL.md, "Meta lines"):
//!
//! ```text
//! TYPE SIZE[ PARAM]: JSON
//! pad SIZE
//! ```
//!
//! Words are separated by spaces or tabs and are made of ASCII letters,
//! digits, `_`, `-` and `.`. A `\r` at the end of a line is ignored. The
//! JSON name may be surrounded by JSON whitespace.
//!
//! Known types are `counter 8`, `level 8 signed|float|unsigned`,
//! `state 8..=65535` and `pad 1..=65535`. Everything else is kept as
//! [`SlotKind::Unknown`] so that a reader can skip it by its size
//! (1..=65535): another word, but also a known word with a parameter we do
//! not know (`level 8 complex`, `counter 8 fast`) or without the one it needs
//! (`level 8`), since new parameters are how the protocol grows. An unknown
//! line may have a name or not; if it has `:`, what follows must be a valid
//! name. [`MetaEntry::skipped`] says why such a slot cannot be read. Strict
//! and lenient parsing: see the `decode` module documentation.
//!
//! A line spelled as the reference client writes it is read by the fast
//! path of `meta/fast.rs` (one pass, no line split, no UTF-8 check of its
//! own since it proves every byte ASCII); any other line, and every error,
//! by the exact parser below. Both make the same entries.

use core::fmt;
use core::iter::FusedIterator;

use super::error::{MetaError, MetaErrorKind};
use super::json::{self, JsonErrorKind, ParsedName, parse_name};

mod fast;

/// The largest slot a `state`, `pad` or unknown line may have.
pub const MAX_SLOT_SIZE: u32 = 65535;

/// How a `level` slot's eight bytes are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LevelKind {
    /// `level 8 signed`: an `i64`.
    Signed,
    /// `level 8 float`: an `f64`.
    Float,
    /// `level 8 unsigned`: a `u64` (reserved by the protocol; accepted).
    Unsigned,
}

impl LevelKind {
    /// The parameter word in the meta file.
    pub fn word(self) -> &'static str {
        match self {
            LevelKind::Signed => "signed",
            LevelKind::Float => "float",
            LevelKind::Unsigned => "unsigned",
        }
    }
}

/// The type of a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SlotKind<'a> {
    /// `counter 8`: a `u64` that only grows (and wraps).
    Counter,
    /// `level 8 PARAM`: a gauge.
    Level(LevelKind),
    /// `state N`: a timestamp and text.
    State,
    /// `pad N`: filler without a name.
    Pad,
    /// A type this decoder does not know, or a slot it cannot read (see
    /// [`MetaEntry::skipped`]): skip it by its size.
    Unknown {
        /// The type word.
        word: &'a str,
        /// The parameter word, if any.
        param: Option<&'a str>,
    },
}

/// Writes the type as in the meta file: `counter`, `level signed`, ...
impl fmt::Display for SlotKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlotKind::Counter => f.write_str("counter"),
            SlotKind::Level(l) => write!(f, "level {}", l.word()),
            SlotKind::State => f.write_str("state"),
            SlotKind::Pad => f.write_str("pad"),
            SlotKind::Unknown { word, param: None } => f.write_str(word),
            SlotKind::Unknown {
                word,
                param: Some(p),
            } => write!(f, "{word} {p}"),
        }
    }
}

/// Why a reader skips a slot instead of reading it: see
/// [`MetaEntry::skipped`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Skip {
    /// A type word the protocol does not define (`histogram 24: {...}`).
    UnknownType,
    /// A known type with a parameter it does not have (`level 8 complex`,
    /// `counter 8 fast`).
    UnknownParameter,
    /// `level` without its parameter (`level 8: {...}`).
    MissingParameter,
    /// A known type with a size it does not allow (`counter 4`,
    /// `pad 0`); lenient parsing only.
    BadSize {
        /// The size on the line.
        size: u32,
        /// The smallest size the type allows.
        min: u32,
        /// The largest size the type allows.
        max: u32,
    },
    /// A `pad` line with a metric name; lenient parsing only.
    NamedPad,
    /// A metric name with the same key twice (otherwise valid JSON);
    /// lenient parsing only. The entry has no name.
    DuplicateKey,
}

/// Says why, in words: `size must be 8, found 4`.
impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Skip::UnknownType => f.write_str("unknown type"),
            Skip::UnknownParameter => f.write_str("unknown parameter"),
            Skip::MissingParameter => {
                f.write_str("missing parameter (level needs signed, float or unsigned)")
            }
            Skip::BadSize { size, min, max } if min == max => {
                write!(f, "size must be {min}, found {size}")
            }
            Skip::BadSize { size, min, max } => {
                write!(f, "size must be {min}..={max}, found {size}")
            }
            Skip::NamedPad => f.write_str("a pad with a metric name"),
            Skip::DuplicateKey => f.write_str("the same key twice in the metric name"),
        }
    }
}

/// One line of the meta file: a slot of the values file.
///
/// Made only by the parser, so its size always suits its kind and its end
/// never overflows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetaEntry<'a> {
    pub(crate) line: usize,
    pub(crate) kind: SlotKind<'a>,
    pub(crate) size: u32,
    pub(crate) offset: u64,
    pub(crate) name: Option<ParsedName<'a>>,
    pub(crate) skip: Option<Skip>,
}

impl<'a> MetaEntry<'a> {
    /// The 1-based line number in the meta file.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The slot's type.
    pub fn kind(&self) -> SlotKind<'a> {
        self.kind
    }

    /// The slot's length in bytes.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The slot's offset in the values file: the sum of the sizes of the
    /// lines before it.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The offset just past the slot (`offset + size`). The parser has
    /// checked that it does not overflow.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(u64::from(self.size))
    }

    /// The metric name; `None` for `pad` (and for unknown types written
    /// without one, and for [`Skip::DuplicateKey`]).
    pub fn name(&self) -> Option<ParsedName<'a>> {
        self.name
    }

    /// Why a reader cannot read this slot, or `None` when it can. `Some`
    /// exactly when the kind is [`SlotKind::Unknown`]: readers skip the slot
    /// (by its size) and should report the reason.
    pub fn skipped(&self) -> Option<Skip> {
        self.skip
    }
}

/// Parses a meta file: see [`parse_meta`].
#[derive(Clone, Debug)]
pub struct MetaEntries<'a> {
    rest: &'a [u8],
    line: usize,
    offset: u64,
    failed: bool,
    lenient: bool,
    /// Whether canonical lines take the fast path (`meta/fast.rs`); always, but
    /// in the tests that compare both paths.
    fast: bool,
}

/// Parses a meta file, line by line, without allocating.
///
/// Yields one entry per line, in file order, with offsets computed from the
/// sizes. Lines are separated by `\n`; a trailing `\n` after the last line
/// is optional (the reference Python client writes none, the original Rust
/// client writes one). Each line is checked to be UTF-8 on its own.
///
/// After the first error the iterator ends (it is fused), so
/// `collect::<Result<Vec<_>, _>>()` stops at the first bad line.
///
/// Work is linear in the input, apart from the per-name key checks
/// described in the [`decode`](super) module documentation.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::decode::{parse_meta, SlotKind};
///
/// let meta = b"counter 8: {\"name\": \"1\"}\npad 8\nstate 16: {\"name\": \"s\"}\n";
/// let entries: Vec<_> = parse_meta(meta).collect::<Result<_, _>>()?;
/// assert_eq!(entries.len(), 3);
/// assert_eq!(entries[2].kind(), SlotKind::State);
/// assert_eq!(entries[2].offset(), 16);
/// assert_eq!(entries[2].name().unwrap().get("name").unwrap(), "s");
/// # Ok::<(), cantal_core::decode::MetaError>(())
/// ```
pub fn parse_meta(meta: &[u8]) -> MetaEntries<'_> {
    MetaEntries {
        rest: meta,
        line: 0,
        offset: 0,
        failed: false,
        lenient: false,
        fast: true,
    }
}

/// Parses a meta file like [`parse_meta`], but leniently: a well-formed
/// line whose slot this decoder cannot interpret is an entry that
/// [`MetaEntry::skipped`] explains, blank lines are ignored, and whitespace
/// may come before the type word. See "Strict and lenient" in the
/// [`decode`](super) module documentation.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::decode::{parse_meta, parse_meta_lenient, Skip};
///
/// let meta = b"counter 4: {\"a\": \"1\"}\n\ncounter 8: {\"a\": \"2\"}\n";
/// assert!(parse_meta(meta).next().unwrap().is_err());
/// let entries: Vec<_> = parse_meta_lenient(meta).collect::<Result<_, _>>()?;
/// assert_eq!(
///     entries[0].skipped(),
///     Some(Skip::BadSize { size: 4, min: 8, max: 8 })
/// );
/// assert_eq!((entries[1].line(), entries[1].offset()), (3, 4));
/// assert_eq!(entries[1].skipped(), None);
/// # Ok::<(), cantal_core::decode::MetaError>(())
/// ```
pub fn parse_meta_lenient(meta: &[u8]) -> MetaEntries<'_> {
    MetaEntries {
        lenient: true,
        ..parse_meta(meta)
    }
}

/// How many lines the meta text `meta` has: its newlines plus one (the
/// text after the last newline is a line, if empty), as a reader counts
/// them for its limits and to size what it keeps per line.
///
/// Counted in byte-wide lanes, 255 bytes at a time, which the compiler
/// vectorises: a large meta file is counted at memory speed, where a
/// count into a `usize` per byte is several times slower.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::decode::meta_lines;
///
/// assert_eq!(meta_lines(b""), 1);
/// assert_eq!(meta_lines(b"counter 8: {}\ncounter 8: {\"a\": \"1\"}\n"), 3);
/// ```
pub fn meta_lines(meta: &[u8]) -> usize {
    let newlines: usize = meta
        .chunks(255)
        .map(|chunk| {
            // At most 255 newlines: a `u8` cannot overflow.
            let n = chunk
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'\n')));
            usize::from(n)
        })
        .sum();
    // At most `meta.len()` newlines: adding one cannot overflow.
    newlines.saturating_add(1)
}

/// The total length of the values file that `meta` describes: the end of
/// its last slot.
///
/// # Errors
///
/// The first malformed line.
pub fn total_size(meta: &[u8]) -> Result<u64, MetaError> {
    let mut end = 0;
    for entry in parse_meta(meta) {
        end = entry?.end();
    }
    Ok(end)
}

impl MetaEntries<'_> {
    #[cfg(test)]
    pub(super) fn with_offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// The same parse with every line read by the exact parser, none by the
    /// fast path: what the tests and the `meta_fast` fuzz target compare
    /// the fast path with.
    #[cfg(any(test, fuzzing))]
    #[doc(hidden)]
    pub fn without_fast_path(mut self) -> Self {
        self.fast = false;
        self
    }
}

impl<'a> Iterator for MetaEntries<'a> {
    type Item = Result<MetaEntry<'a>, MetaError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let line = self.line.saturating_add(1);
        if self.fast
            && let Some((entry, used)) = fast::canonical_line(self.rest, line, self.offset)
        {
            self.rest = self.rest.get(used..).unwrap_or_default();
            self.line = line;
            self.offset = entry.end();
            return Some(Ok(entry));
        }
        let result = loop {
            if self.failed || self.rest.is_empty() {
                return None;
            }
            let (bytes, rest) = match json::find_newline(self.rest) {
                Some(nl) => (
                    self.rest.get(..nl).unwrap_or_default(),
                    self.rest.get(nl.saturating_add(1)..).unwrap_or_default(),
                ),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            self.line = self.line.saturating_add(1);
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            let text = match core::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    break Err(MetaError::new(
                        self.line,
                        Some(e.valid_up_to().saturating_add(1)),
                        MetaErrorKind::InvalidUtf8,
                    ));
                }
            };
            if !self.lenient {
                break parse_line(text, 0, self.line, self.offset, false);
            }
            let trimmed = text.trim_start_matches([' ', '\t']);
            if !trimmed.is_empty() {
                let lead = text.len().saturating_sub(trimmed.len());
                break parse_line(text, lead, self.line, self.offset, true);
            }
            // A blank line, in lenient mode: not a slot.
        };
        match &result {
            Ok(entry) => self.offset = entry.end(),
            Err(_) => {
                self.failed = true;
                self.rest = &[];
            }
        }
        Some(result)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.rest.is_empty() {
            (0, Some(0))
        } else {
            // Every line but the last has at least `\n`.
            (1, Some(self.rest.len()))
        }
    }
}

impl FusedIterator for MetaEntries<'_> {}

/// The next word of `s` at or after `pos`: its start and text.
fn next_word(s: &str, pos: usize) -> Option<(usize, &str)> {
    let b = s.as_bytes();
    let mut start = pos;
    while matches!(b.get(start), Some(b' ' | b'\t')) {
        start = start.saturating_add(1);
    }
    let mut end = start;
    while matches!(b.get(end), Some(&c) if c != b' ' && c != b'\t') {
        end = end.saturating_add(1);
    }
    if end == start {
        None
    } else {
        Some((start, s.get(start..end)?))
    }
}

/// Whether a type or parameter word has only the characters we accept in
/// one: ASCII letters, digits, `_`, `-` and `.`.
fn is_word(w: &str) -> bool {
    w.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The words before the `:` of a line.
struct Header<'a> {
    word: &'a str,
    size: u32,
    /// Where the size starts (0-based byte column).
    size_at: usize,
    param: Option<&'a str>,
}

/// An error's 0-based column and kind, before the line is known.
type At = (usize, MetaErrorKind);

/// Parses `header` (the line before its `:`), whose type word starts at
/// byte `lead`.
fn parse_header(header: &str, lead: usize) -> Result<Header<'_>, At> {
    let word = match next_word(header, 0) {
        Some((at, word)) if at == lead && is_word(word) => word,
        Some((at, _)) if at == lead => return Err((lead, MetaErrorKind::InvalidType)),
        _ => return Err((0, MetaErrorKind::EmptyType)),
    };
    let Some((size_at, size_word)) = next_word(header, lead.saturating_add(word.len())) else {
        return Err((header.len(), MetaErrorKind::MissingSize));
    };
    let size = parse_size(size_word).map_err(|kind| (size_at, kind))?;
    let after_size = size_at.saturating_add(size_word.len());
    let param = next_word(header, after_size);
    if let Some((at, p)) = param {
        if !is_word(p) {
            // Most likely `TYPE SIZE {...}`: the colon is missing.
            return Err((at, MetaErrorKind::MissingName));
        }
        if let Some((extra, _)) = next_word(header, at.saturating_add(p.len())) {
            return Err((extra, MetaErrorKind::UnexpectedWord));
        }
    }
    Ok(Header {
        word,
        size,
        size_at,
        param: param.map(|(_, p)| p),
    })
}

/// The kind of a line with header `h`, whose `:` is at `colon` (if any)
/// and whose length is `len`, and why it is skipped, if it is.
fn classify<'a>(
    h: &Header<'a>,
    colon: Option<usize>,
    len: usize,
    lenient: bool,
) -> Result<(SlotKind<'a>, Option<Skip>), At> {
    let known = match (h.word, h.param) {
        ("counter", None) => Some((SlotKind::Counter, "counter", 8, 8)),
        ("level", Some("signed")) => Some((SlotKind::Level(LevelKind::Signed), "level", 8, 8)),
        ("level", Some("float")) => Some((SlotKind::Level(LevelKind::Float), "level", 8, 8)),
        ("level", Some("unsigned")) => Some((SlotKind::Level(LevelKind::Unsigned), "level", 8, 8)),
        ("state", None) => Some((SlotKind::State, "state", 8, MAX_SLOT_SIZE)),
        ("pad", None) => Some((SlotKind::Pad, "pad", 1, MAX_SLOT_SIZE)),
        _ => None,
    };
    let size = h.size;
    let bad_size = |what, min, max| {
        let kind = MetaErrorKind::BadSize {
            what,
            size,
            min,
            max,
        };
        (h.size_at, kind)
    };
    let Some((kind, what, min, max)) = known else {
        let min = u32::from(!lenient);
        if !(min..=MAX_SLOT_SIZE).contains(&size) {
            return Err(bad_size("unknown type", min, MAX_SLOT_SIZE));
        }
        let skip = match (h.word, h.param) {
            ("level", None) => Skip::MissingParameter,
            ("counter" | "level" | "state" | "pad", _) => Skip::UnknownParameter,
            _ => Skip::UnknownType,
        };
        return Ok((
            SlotKind::Unknown {
                word: h.word,
                param: h.param,
            },
            Some(skip),
        ));
    };
    let size_ok = (min..=max).contains(&size);
    if !size_ok && (!lenient || size > MAX_SLOT_SIZE) {
        return Err(bad_size(what, min, max));
    }
    let skip = match (kind, colon) {
        (SlotKind::Pad, Some(c)) if !lenient => return Err((c, MetaErrorKind::UnexpectedName)),
        (SlotKind::Pad, Some(_)) => Some(Skip::NamedPad),
        (SlotKind::Pad, None) => None,
        (_, None) => return Err((len, MetaErrorKind::MissingName)),
        (_, Some(_)) => None,
    };
    let skip = if size_ok {
        skip
    } else {
        Some(Skip::BadSize { size, min, max })
    };
    Ok((kind, skip))
}

/// Parses one line, `text`, whose type word starts at byte `lead`: the
/// `line`th, whose slot starts at `offset`.
fn parse_line(
    text: &str,
    lead: usize,
    line: usize,
    offset: u64,
    lenient: bool,
) -> Result<MetaEntry<'_>, MetaError> {
    let err = |(column, kind): At| MetaError::new(line, Some(column.saturating_add(1)), kind);
    let colon = text.find(':');
    let header = match colon {
        Some(c) => text.get(..c).unwrap_or_default(),
        None => text,
    };
    let h = parse_header(header, lead).map_err(err)?;
    let (kind, mut skip) = classify(&h, colon, text.len(), lenient).map_err(err)?;
    let name = match colon {
        None => None,
        Some(c) => match parse_name(text, c.saturating_add(1)) {
            Ok(name) => Some(name),
            Err((JsonErrorKind::DuplicateKey, _)) if lenient => {
                skip = Some(Skip::DuplicateKey);
                None
            }
            Err((kind, at)) => return Err(err((at, MetaErrorKind::Json(kind)))),
        },
    };
    // A slot that is skipped is of a kind readers do not read.
    let kind = match skip {
        Some(_) => SlotKind::Unknown {
            word: h.word,
            param: h.param,
        },
        None => kind,
    };
    if offset.checked_add(u64::from(h.size)).is_none() {
        return Err(MetaError::new(line, None, MetaErrorKind::OffsetOverflow));
    }
    Ok(MetaEntry {
        line,
        kind,
        size: h.size,
        offset,
        name,
        skip,
    })
}

/// A decimal size: digits only.
fn parse_size(word: &str) -> Result<u32, MetaErrorKind> {
    let mut size: u32 = 0;
    for c in word.chars() {
        let d = c.to_digit(10).ok_or(MetaErrorKind::InvalidSize)?;
        size = size
            .checked_mul(10)
            .and_then(|s| s.checked_add(d))
            .ok_or(MetaErrorKind::SizeOverflow)?;
    }
    Ok(size)
}

#[cfg(test)]
#[path = "meta_tests.rs"]
mod tests;
