//! The meta file parser: one [`Entry`] per line, in order.
//!
//! Grammar of a line (see PROTOCOL.md, "Meta lines"):
//!
//! ```text
//! TYPE SIZE[ PARAM]: JSON
//! pad SIZE
//! ```
//!
//! Words are separated by spaces or tabs and are made of ASCII letters,
//! digits, `_`, `-` and `.`. A `\r` at the end of a line is ignored. The JSON name may be surrounded by JSON whitespace.
//!
//! Known types are `counter 8`, `level 8 signed|float|unsigned`,
//! `state 16..=65535` and `pad 1..=65535`. Everything else is kept as
//! [`Kind::Unknown`] so that a reader can skip it by its size
//! (1..=65535): another word, but also a known word with a parameter we do
//! not know (`level 8 complex`, `counter 8 fast`) or without the one it needs
//! (`level 8`), since new parameters are how the protocol grows. An unknown
//! line may have a name or not; if it has `:`, what follows must be a valid
//! name.

use core::fmt;
use core::iter::FusedIterator;

use super::error::{MetaError, MetaErrorKind};
use super::json::{Name, parse_name};

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
pub enum Kind<'a> {
    /// `counter 8`: a `u64` that only grows (and wraps).
    Counter,
    /// `level 8 PARAM`: a gauge.
    Level(LevelKind),
    /// `state N`: a timestamp and text.
    State,
    /// `pad N`: filler without a name.
    Pad,
    /// A type this decoder does not know: skip it by its size.
    Unknown {
        /// The type word.
        word: &'a str,
        /// The parameter word, if any.
        param: Option<&'a str>,
    },
}

/// Writes the type as in the meta file: `counter`, `level signed`, ...
impl fmt::Display for Kind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Counter => f.write_str("counter"),
            Kind::Level(l) => write!(f, "level {}", l.word()),
            Kind::State => f.write_str("state"),
            Kind::Pad => f.write_str("pad"),
            Kind::Unknown { word, param: None } => f.write_str(word),
            Kind::Unknown {
                word,
                param: Some(p),
            } => write!(f, "{word} {p}"),
        }
    }
}

/// One line of the meta file: a slot of the values file.
///
/// Made only by the parser, so its size always suits its kind and its end
/// never overflows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub(crate) line: usize,
    pub(crate) kind: Kind<'a>,
    pub(crate) size: u32,
    pub(crate) offset: u64,
    pub(crate) name: Option<Name<'a>>,
}

impl<'a> Entry<'a> {
    /// The 1-based line number in the meta file.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The slot's type.
    pub fn kind(&self) -> Kind<'a> {
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
    /// without one).
    pub fn name(&self) -> Option<Name<'a>> {
        self.name
    }
}

/// Parses a meta file: see [`parse_meta`].
#[derive(Clone, Debug)]
pub struct MetaEntries<'a> {
    rest: &'a [u8],
    line: usize,
    offset: u64,
    failed: bool,
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
/// use cantal::decode::{parse_meta, Kind};
///
/// let meta = b"counter 8: {\"name\": \"1\"}\npad 8\nstate 16: {\"name\": \"s\"}\n";
/// let entries: Vec<_> = parse_meta(meta).collect::<Result<_, _>>()?;
/// assert_eq!(entries.len(), 3);
/// assert_eq!(entries[2].kind(), Kind::State);
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
    }
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
    fn with_offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
}

impl<'a> Iterator for MetaEntries<'a> {
    type Item = Result<Entry<'a>, MetaError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let (bytes, rest) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(nl) => (
                self.rest.get(..nl).unwrap_or_default(),
                self.rest.get(nl.saturating_add(1)..).unwrap_or_default(),
            ),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        self.line = self.line.saturating_add(1);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let result = match core::str::from_utf8(bytes) {
            Ok(text) => parse_line(text, self.line, self.offset),
            Err(e) => Err(MetaError::new(
                self.line,
                Some(e.valid_up_to().saturating_add(1)),
                MetaErrorKind::InvalidUtf8,
            )),
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
    let rest = s.get(pos..)?;
    let skipped = rest
        .len()
        .saturating_sub(rest.trim_start_matches([' ', '\t']).len());
    let start = pos.saturating_add(skipped);
    let word = s.get(start..)?;
    let len = word.find([' ', '\t']).unwrap_or(word.len());
    let word = word.get(..len)?;
    if word.is_empty() {
        None
    } else {
        Some((start, word))
    }
}

/// Whether a type or parameter word has only the characters we accept in
/// one: ASCII letters, digits, `_`, `-` and `.`.
fn is_word(w: &str) -> bool {
    w.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn parse_line(text: &str, line: usize, offset: u64) -> Result<Entry<'_>, MetaError> {
    let err = |column: usize, kind| MetaError::new(line, Some(column.saturating_add(1)), kind);
    let colon = text.find(':');
    let header = match colon {
        Some(c) => text.get(..c).unwrap_or_default(),
        None => text,
    };

    let word = match next_word(header, 0) {
        Some((0, word)) if is_word(word) => word,
        Some((0, _)) => return Err(err(0, MetaErrorKind::InvalidType)),
        _ => return Err(err(0, MetaErrorKind::EmptyType)),
    };
    let Some((size_at, size_word)) = next_word(header, word.len()) else {
        return Err(err(header.len(), MetaErrorKind::MissingSize));
    };
    let size = parse_size(size_word).map_err(|kind| err(size_at, kind))?;
    let after_size = size_at.saturating_add(size_word.len());
    let param = next_word(header, after_size);
    if let Some((at, p)) = param {
        if !is_word(p) {
            // Most likely `TYPE SIZE {...}`: the colon is missing.
            return Err(err(at, MetaErrorKind::MissingName));
        }
        if let Some((extra, _)) = next_word(header, at.saturating_add(p.len())) {
            return Err(err(extra, MetaErrorKind::UnexpectedWord));
        }
    }
    let param = param.map(|(_, p)| p);

    let kind = match (word, param) {
        ("counter", None) => Kind::Counter,
        ("level", Some("signed")) => Kind::Level(LevelKind::Signed),
        ("level", Some("float")) => Kind::Level(LevelKind::Float),
        ("level", Some("unsigned")) => Kind::Level(LevelKind::Unsigned),
        ("state", None) => Kind::State,
        ("pad", None) => Kind::Pad,
        (word, param) => Kind::Unknown { word, param },
    };
    let (what, min, max) = match kind {
        Kind::Counter => ("counter", 8, 8),
        Kind::Level(_) => ("level", 8, 8),
        Kind::State => ("state", 16, MAX_SLOT_SIZE),
        Kind::Pad => ("pad", 1, MAX_SLOT_SIZE),
        Kind::Unknown { .. } => ("unknown type", 1, MAX_SLOT_SIZE),
    };
    if !(min..=max).contains(&size) {
        return Err(err(
            size_at,
            MetaErrorKind::BadSize {
                what,
                size,
                min,
                max,
            },
        ));
    }

    let name = match (kind, colon) {
        (Kind::Pad, Some(c)) => return Err(err(c, MetaErrorKind::UnexpectedName)),
        (Kind::Pad | Kind::Unknown { .. }, None) => None,
        (_, None) => return Err(err(text.len(), MetaErrorKind::MissingName)),
        (_, Some(c)) => Some(
            parse_name(text, c.saturating_add(1))
                .map_err(|(kind, at)| err(at, MetaErrorKind::Json(kind)))?,
        ),
    };

    if offset.checked_add(u64::from(size)).is_none() {
        return Err(MetaError::new(line, None, MetaErrorKind::OffsetOverflow));
    }
    Ok(Entry {
        line,
        kind,
        size,
        offset,
        name,
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
mod tests {
    use super::*;
    use crate::decode::error::JsonErrorKind;
    use std::string::ToString;
    use std::vec::Vec;

    fn entries(meta: &str) -> Vec<Entry<'_>> {
        parse_meta(meta.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_else(|e| panic!("{meta:?}: {e}"))
    }

    /// The first error: line, column and kind.
    fn error(meta: &[u8]) -> (usize, Option<usize>, MetaErrorKind) {
        let mut it = parse_meta(meta);
        for r in it.by_ref() {
            if let Err(e) = r {
                // Fused after the error.
                assert!(it.next().is_none());
                return (e.line, e.column, e.kind);
            }
        }
        panic!("{:?}: no error", std::string::String::from_utf8_lossy(meta));
    }

    const EXAMPLE: &str = "counter 8: {\"name\": \"1\"}
level 8 signed: {\"name\": \"2\"}
counter 8: {\"name\": \"3\"}
pad 40
state 64: {\"name\": \"100\"}";

    #[test]
    fn protocol_example() {
        let e = entries(EXAMPLE);
        assert_eq!(e.len(), 5);
        let kinds: Vec<_> = e.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Counter,
                Kind::Level(LevelKind::Signed),
                Kind::Counter,
                Kind::Pad,
                Kind::State
            ]
        );
        let offsets: Vec<_> = e.iter().map(|e| e.offset).collect();
        assert_eq!(offsets, [0, 8, 16, 24, 64]);
        let lines: Vec<_> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5]);
        assert_eq!(e[3].name, None);
        assert_eq!(e[4].size, 64);
        assert_eq!(e[4].name.unwrap().get("name").unwrap(), "100");
        assert_eq!(total_size(EXAMPLE.as_bytes()), Ok(128));
    }

    #[test]
    fn trailing_newline_or_not() {
        let with = std::format!("{EXAMPLE}\n");
        assert_eq!(entries(&with), entries(EXAMPLE));
        let crlf = EXAMPLE.replace('\n', "\r\n");
        assert_eq!(entries(&crlf), entries(EXAMPLE));
        assert_eq!(entries(""), []);
        // An empty line is not an entry only at the very end.
        assert_eq!(error(b"\n"), (1, Some(1), MetaErrorKind::EmptyType));
        assert_eq!(
            error(b"pad 8\n\npad 8"),
            (2, Some(1), MetaErrorKind::EmptyType)
        );
        assert_eq!(error(b"pad 8\n\n"), (2, Some(1), MetaErrorKind::EmptyType));
    }

    #[test]
    fn every_known_kind() {
        let e = entries(
            "counter 8: {}\nlevel 8 signed: {}\nlevel 8 float: {}\nlevel 8 unsigned: {}\n\
             state 16: {}\nstate 65535: {}\npad 1\npad 65535\n",
        );
        let kinds: Vec<_> = e.iter().map(|e| (e.kind, e.size)).collect();
        assert_eq!(
            kinds,
            [
                (Kind::Counter, 8),
                (Kind::Level(LevelKind::Signed), 8),
                (Kind::Level(LevelKind::Float), 8),
                (Kind::Level(LevelKind::Unsigned), 8),
                (Kind::State, 16),
                (Kind::State, 65535),
                (Kind::Pad, 1),
                (Kind::Pad, 65535),
            ]
        );
        assert_eq!(e[7].end(), 32 + 16 + 65535 + 1 + 65535);
        assert_eq!(e[1].kind.to_string(), "level signed");
    }

    #[test]
    fn unknown_types_are_skipped_by_size() {
        let e = entries(
            "histogram 24 foo: {\"a\": \"b\"}\ncounter 8: {}\nblob 3\n\
             level 8 complex: {}\nlevel 8: {}\ncounter 8 fast: {}\nstate 16 x\nfoo 1:{}\n",
        );
        assert_eq!(
            e[0].kind,
            Kind::Unknown {
                word: "histogram",
                param: Some("foo")
            }
        );
        assert_eq!(e[0].size, 24);
        assert_eq!(e[0].name.unwrap().get("a").unwrap(), "b");
        assert_eq!(e[1].kind, Kind::Counter);
        assert_eq!(e[1].offset, 24);
        assert_eq!(
            e[2].kind,
            Kind::Unknown {
                word: "blob",
                param: None
            }
        );
        assert_eq!(e[2].name, None);
        assert_eq!(e[3].offset, 35);
        assert_eq!(
            e[3].kind,
            Kind::Unknown {
                word: "level",
                param: Some("complex")
            }
        );
        assert_eq!(
            e[4].kind,
            Kind::Unknown {
                word: "level",
                param: None
            }
        );
        assert_eq!(
            e[5].kind,
            Kind::Unknown {
                word: "counter",
                param: Some("fast")
            }
        );
        assert_eq!(e[6].name, None);
        assert_eq!(e[7].kind.to_string(), "foo");
        assert_eq!(e[7].size, 1);
        // Unknown sizes are limited too.
        assert_eq!(
            error(b"blob 65536"),
            (
                1,
                Some(6),
                MetaErrorKind::BadSize {
                    what: "unknown type",
                    size: 65536,
                    min: 1,
                    max: 65535
                }
            )
        );
        assert!(matches!(
            error(b"blob 0: {}"),
            (1, Some(6), MetaErrorKind::BadSize { size: 0, .. })
        ));
        // A name after `:` must be valid, even for unknown types.
        assert_eq!(
            error(b"blob 8: nope"),
            (
                1,
                Some(9),
                MetaErrorKind::Json(JsonErrorKind::ExpectedObject)
            )
        );
    }

    #[test]
    fn header_spacing() {
        let e = entries("counter\t8 :{\"a\":\"b\"}\nlevel  8   float  : {}\npad 8 \n");
        assert_eq!(e[0].kind, Kind::Counter);
        assert_eq!(e[1].kind, Kind::Level(LevelKind::Float));
        assert_eq!(e[2].kind, Kind::Pad);
    }

    #[test]
    fn size_errors() {
        use MetaErrorKind as K;
        assert_eq!(error(b"counter"), (1, Some(8), K::MissingSize));
        assert_eq!(error(b"counter: {}"), (1, Some(8), K::MissingSize));
        assert_eq!(error(b"pad"), (1, Some(4), K::MissingSize));
        assert_eq!(error(b"counter x8: {}"), (1, Some(9), K::InvalidSize));
        assert_eq!(error(b"counter -8: {}"), (1, Some(9), K::InvalidSize));
        assert_eq!(error(b"counter +8: {}"), (1, Some(9), K::InvalidSize));
        assert_eq!(error(b"counter 8.0: {}"), (1, Some(9), K::InvalidSize));
        assert_eq!(
            error(b"counter 4294967296: {}"),
            (1, Some(9), K::SizeOverflow)
        );
        assert_eq!(
            error(b"counter 99999999999999999999: {}"),
            (1, Some(9), K::SizeOverflow)
        );
        assert!(matches!(
            error(b"counter 4294967295: {}"),
            (
                1,
                Some(9),
                K::BadSize {
                    size: 4294967295,
                    ..
                }
            )
        ));
        assert_eq!(
            error(b"pad 8\ncounter 16: {}"),
            (
                2,
                Some(9),
                K::BadSize {
                    what: "counter",
                    size: 16,
                    min: 8,
                    max: 8
                }
            )
        );
        assert!(matches!(
            error(b"level 8 signed: {}\nlevel 4 float: {}"),
            (
                2,
                Some(7),
                K::BadSize {
                    what: "level",
                    size: 4,
                    ..
                }
            )
        ));
        assert!(matches!(
            error(b"state 15: {}"),
            (
                1,
                Some(7),
                K::BadSize {
                    what: "state",
                    size: 15,
                    min: 16,
                    max: 65535
                }
            )
        ));
        assert!(matches!(
            error(b"state 65536: {}"),
            (1, Some(7), K::BadSize { what: "state", .. })
        ));
        assert!(matches!(
            error(b"pad 0"),
            (
                1,
                Some(5),
                K::BadSize {
                    what: "pad",
                    min: 1,
                    ..
                }
            )
        ));
        assert!(matches!(
            error(b"pad 65536"),
            (1, Some(5), K::BadSize { what: "pad", .. })
        ));
        // The message names all of it.
        let e = parse_meta(b"counter 16: {}").next().unwrap().unwrap_err();
        assert_eq!(
            e.to_string(),
            "meta line 1, column 9: counter size must be 8, found 16"
        );
    }

    #[test]
    fn header_errors() {
        use MetaErrorKind as K;
        assert_eq!(error(b" counter 8: {}"), (1, Some(1), K::EmptyType));
        assert_eq!(error(b": {}"), (1, Some(1), K::EmptyType));
        assert_eq!(error(b"\tpad 8"), (1, Some(1), K::EmptyType));
        assert_eq!(error(b"{\"a\": \"b\"}"), (1, Some(1), K::InvalidType));
        assert_eq!(
            error("c\u{f6}unter 8: {}".as_bytes()),
            (1, Some(1), K::InvalidType)
        );
        assert_eq!(error(b"counter 8 {}"), (1, Some(11), K::MissingName));
        assert_eq!(
            error(b"level 8 signed x: {}"),
            (1, Some(16), K::UnexpectedWord)
        );
        assert_eq!(error(b"pad 8 x y"), (1, Some(9), K::UnexpectedWord));
        assert_eq!(error(b"counter 8"), (1, Some(10), K::MissingName));
        assert_eq!(error(b"counter 8 "), (1, Some(11), K::MissingName));
        assert_eq!(
            error(b"state 64 {\"a\": \"b\"}"),
            (1, Some(10), K::MissingName)
        );
        assert_eq!(error(b"level 8 float"), (1, Some(14), K::MissingName));
        assert_eq!(error(b"pad 8: {}"), (1, Some(6), K::UnexpectedName));
        assert_eq!(error(b"pad 8:"), (1, Some(6), K::UnexpectedName));
        assert_eq!(
            error(b"counter 8:"),
            (1, Some(11), K::Json(JsonErrorKind::UnexpectedEnd))
        );
        assert_eq!(
            error(b"counter 8: "),
            (1, Some(12), K::Json(JsonErrorKind::UnexpectedEnd))
        );
    }

    #[test]
    fn json_errors_carry_line_and_column() {
        use JsonErrorKind as J;
        use MetaErrorKind as K;
        let meta = b"counter 8: {\"a\": \"b\"}\ncounter 8: {\"a\": \"x\\q\"}";
        assert_eq!(error(meta), (2, Some(20), K::Json(J::InvalidEscape('q'))));
        let e = parse_meta(meta).nth(1).unwrap().unwrap_err();
        assert_eq!(
            e.to_string(),
            "meta line 2, column 20: invalid escape \\q in metric name"
        );
        assert_eq!(e.line(), 2);
        assert_eq!(e.column(), Some(20));
        assert_eq!(
            error(b"counter 8: {\"a\": \"\x01\"}"),
            (1, Some(19), K::Json(J::ControlCharacter(1)))
        );
        assert_eq!(
            error(b"counter 8: {\"a\": \"\\ud800\"}"),
            (1, Some(19), K::Json(J::UnpairedSurrogate(0xd800)))
        );
        assert_eq!(
            error(b"counter 8: {\"a\": \"\\udc00\"}"),
            (1, Some(19), K::Json(J::UnpairedSurrogate(0xdc00)))
        );
        assert_eq!(
            error(b"counter 8: {\"a\": \"b\"} x"),
            (1, Some(23), K::Json(J::TrailingCharacters))
        );
        assert_eq!(
            error(b"counter 8: {\"a\": \"b\", \"a\": \"c\"}"),
            (1, Some(23), K::Json(J::DuplicateKey))
        );
        assert_eq!(
            error(b"counter 8: {\"a\": 1}"),
            (1, Some(18), K::Json(J::ExpectedString))
        );
        assert_eq!(
            error(b"counter 8: [\"a\"]"),
            (1, Some(12), K::Json(J::ExpectedObject))
        );
        assert_eq!(
            error(b"counter 8: {\"a\": {\"b\": \"c\"}}"),
            (1, Some(18), K::Json(J::ExpectedString))
        );
        // A raw newline can not be inside a name: it ends the line.
        assert_eq!(
            error(b"counter 8: {\"a\": \"b\nc\"}"),
            (1, Some(20), K::Json(J::UnexpectedEnd))
        );
    }

    #[test]
    fn invalid_utf8_reports_the_line() {
        let meta = b"counter 8: {}\ncounter 8: {\"a\": \"\xc3\x28\"}\n";
        assert_eq!(error(meta), (2, Some(19), MetaErrorKind::InvalidUtf8));
        // Valid UTF-8 in one line does not excuse another.
        assert_eq!(error(b"\xff"), (1, Some(1), MetaErrorKind::InvalidUtf8));
        let e = parse_meta(b"pad 8\n\xff").nth(1).unwrap().unwrap_err();
        assert_eq!(e.to_string(), "meta line 2, column 1: invalid UTF-8");
    }

    #[test]
    fn offset_overflow() {
        let mut it = parse_meta(b"pad 8\npad 8").with_offset(u64::MAX - 10);
        let first = it.next().unwrap().unwrap();
        assert_eq!(first.end(), u64::MAX - 2);
        let e = it.next().unwrap().unwrap_err();
        assert_eq!(
            (e.line, e.column, e.kind),
            (2, None, MetaErrorKind::OffsetOverflow)
        );
        assert_eq!(e.to_string(), "meta line 2: slot offset overflows 64 bits");
        assert!(it.next().is_none());
    }

    #[test]
    fn error_stops_the_iteration() {
        let meta = b"counter 8: {}\ncounter 9: {}\ncounter 8: {}";
        let all: Vec<_> = parse_meta(meta).collect();
        assert_eq!(all.len(), 2);
        assert!(all[0].is_ok());
        assert!(all[1].is_err());
        let collected: Result<Vec<_>, _> = parse_meta(meta).collect();
        assert_eq!(collected.unwrap_err().line(), 2);
        assert_eq!(total_size(meta).unwrap_err().line(), 2);
    }

    #[test]
    fn non_ascii_names() {
        let meta =
            "counter 8: {\"k\": \"é😀中\"}\ncounter 8: {\"k\": \"\\u00e9\\ud83d\\ude00\\u4e2d\"}";
        let e = entries(meta);
        assert_eq!(e[0].name.unwrap().get("k").unwrap(), "é😀中");
        assert_eq!(e[0].name, e[1].name);
        assert!(e[1].name.unwrap().is_canonical());
        assert!(!e[0].name.unwrap().is_canonical());
    }

    proptest::proptest! {
        #[test]
        #[cfg_attr(miri, ignore)]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut last_end = 0;
            for r in parse_meta(&bytes) {
                match r {
                    Ok(e) => {
                        proptest::prop_assert_eq!(e.offset, last_end);
                        last_end = e.end();
                        if let Some(n) = e.name {
                            let _ = n.to_string();
                        }
                    }
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
        }

        #[test]
        #[cfg_attr(miri, ignore)]
        fn never_panics_on_meta_like_text(
            parts in proptest::collection::vec(
                proptest::sample::select(std::vec![
                    "counter", "level", "state", "pad", "signed", "float", "x", " ", "\t",
                    "8", "16", "64", "0", "70000", ":", ": ", "{", "}", "\"a\"", "\"b\"", ",",
                    "\"\\u00e9\"", "\"\\ud800\"", "\n", "\r\n", "\u{e9}", "\\", "\u{0}",
                ]),
                0..40,
            )
        ) {
            let s: String = parts.concat();
            let n = parse_meta(s.as_bytes()).count();
            proptest::prop_assert!(n <= s.len());
            let _ = total_size(s.as_bytes());
        }
    }
}
