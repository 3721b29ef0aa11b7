//! Errors of the decoder: what went wrong and where.
//!
//! Each public error is a small struct (or an enum of them) that records the
//! place (1-based meta line, and the 1-based byte column where it helps) and
//! wraps a private kind, the way regex-automata's `wire.rs` does: callers get
//! `Display`, the position accessors and `core::error::Error`, and we keep
//! the freedom to refine the kinds.
//!
//! "The values are shorter than the meta says" ([`ValuesError`]) is kept apart
//! from "meta line N is malformed" ([`MetaError`]): the first is usually a
//! race with the publisher (retry), the second a broken or foreign file.
//!
//! The kinds of a bad metric name ([`JsonErrorKind`]) and their messages
//! belong to the name parser (`json.rs`); a [`MetaError`] adds the place.

use core::fmt;

use super::json::JsonErrorKind;

/// A malformed meta file: the line (and column) and what is wrong there.
///
/// Lines are counted from 1 and split at `\n`. Columns are 1-based byte
/// offsets within the line (a tab or a multi-byte character counts as its
/// bytes), and are `None` when the error concerns the line as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaError {
    pub(crate) line: usize,
    pub(crate) column: Option<usize>,
    pub(crate) kind: MetaErrorKind,
}

/// What is wrong with a meta line (private: matched only by our tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MetaErrorKind {
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// The line starts with whitespace, a colon, or is empty.
    EmptyType,
    /// The type word has characters other than `[A-Za-z0-9_.-]`.
    InvalidType,
    /// No SIZE after the type word.
    MissingSize,
    /// SIZE is not a decimal number.
    InvalidSize,
    /// SIZE does not fit in 32 bits.
    SizeOverflow,
    /// SIZE is outside what the type allows.
    BadSize {
        what: &'static str,
        size: u32,
        min: u32,
        max: u32,
    },
    /// A word after `TYPE SIZE PARAM`.
    UnexpectedWord,
    /// A counter, level or state without `: JSON`.
    MissingName,
    /// A `pad` line with `: JSON`.
    UnexpectedName,
    /// The slot would end past `u64::MAX`.
    OffsetOverflow,
    /// The metric name is not an object of strings.
    Json(JsonErrorKind),
}

impl MetaError {
    pub(crate) const fn new(line: usize, column: Option<usize>, kind: MetaErrorKind) -> Self {
        MetaError { line, column, kind }
    }

    /// The 1-based line of the meta file where the error is.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based byte column within the line, when the error has one.
    pub fn column(&self) -> Option<usize> {
        self.column
    }
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "meta line {}", self.line)?;
        if let Some(column) = self.column {
            write!(f, ", column {column}")?;
        }
        f.write_str(": ")?;
        match self.kind {
            MetaErrorKind::InvalidUtf8 => f.write_str("invalid UTF-8"),
            MetaErrorKind::EmptyType => f.write_str("missing type word"),
            MetaErrorKind::InvalidType => {
                f.write_str("type word must be ASCII letters, digits, `_`, `-` or `.`")
            }
            MetaErrorKind::MissingSize => f.write_str("missing slot size after the type"),
            MetaErrorKind::InvalidSize => f.write_str("slot size is not a decimal number"),
            MetaErrorKind::SizeOverflow => f.write_str("slot size does not fit in 32 bits"),
            MetaErrorKind::BadSize {
                what,
                size,
                min,
                max,
            } => {
                if min == max {
                    write!(f, "{what} size must be {min}, found {size}")
                } else {
                    write!(f, "{what} size must be {min}..={max}, found {size}")
                }
            }
            MetaErrorKind::UnexpectedWord => f.write_str("unexpected word after the parameter"),
            MetaErrorKind::MissingName => f.write_str("expected `: ` and the metric name"),
            MetaErrorKind::UnexpectedName => f.write_str("a pad line has no metric name"),
            MetaErrorKind::OffsetOverflow => f.write_str("slot offset overflows 64 bits"),
            MetaErrorKind::Json(kind) => write!(f, "{kind} in metric name"),
        }
    }
}

impl core::error::Error for MetaError {}

/// The values are shorter than the meta file says.
///
/// Usually a race with the publisher or a truncated transfer: the meta
/// describes slot bytes that the values do not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValuesError {
    pub(crate) line: usize,
    pub(crate) needed: u64,
    pub(crate) available: usize,
}

impl ValuesError {
    /// The error for meta line `line` (1-based), whose slot ends at
    /// `needed` when the values hold only `available` bytes: for readers
    /// that keep slot positions of their own (see [`Value::of_slot`](super::Value::of_slot)).
    pub fn new(line: usize, needed: u64, available: usize) -> ValuesError {
        ValuesError {
            line,
            needed,
            available,
        }
    }

    /// The 1-based meta line whose slot does not fit.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The length the values need to hold that slot (its end offset).
    pub fn needed(&self) -> u64 {
        self.needed
    }

    /// The length of the values that were given.
    pub fn available(&self) -> usize {
        self.available
    }
}

impl fmt::Display for ValuesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "values too short for meta line {}: need {} bytes, have {}",
            self.line, self.needed, self.available
        )
    }
}

impl core::error::Error for ValuesError {}

/// Two meta lines with the same metric name (compared canonically).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateName {
    pub(crate) first: usize,
    pub(crate) second: usize,
}

impl DuplicateName {
    /// The earlier of the two lines (1-based).
    pub fn first_line(&self) -> usize {
        self.first
    }

    /// The later of the two lines (1-based).
    pub fn second_line(&self) -> usize {
        self.second
    }
}

impl fmt::Display for DuplicateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "meta lines {} and {} have the same metric name",
            self.first, self.second
        )
    }
}

impl core::error::Error for DuplicateName {}

/// An error of [`decode`](super::decode): a bad meta line, or values that
/// are too short for it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The meta file is malformed.
    Meta(MetaError),
    /// The values are shorter than the meta says.
    Values(ValuesError),
}

impl DecodeError {
    /// The 1-based meta line the error is about.
    pub fn line(&self) -> usize {
        match self {
            DecodeError::Meta(e) => e.line(),
            DecodeError::Values(e) => e.line(),
        }
    }

    /// The 1-based byte column within the line, for meta errors that have one.
    pub fn column(&self) -> Option<usize> {
        match self {
            DecodeError::Meta(e) => e.column(),
            DecodeError::Values(_) => None,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Meta(e) => e.fmt(f),
            DecodeError::Values(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            DecodeError::Meta(e) => Some(e),
            DecodeError::Values(e) => Some(e),
        }
    }
}

impl From<MetaError> for DecodeError {
    fn from(e: MetaError) -> Self {
        DecodeError::Meta(e)
    }
}

impl From<ValuesError> for DecodeError {
    fn from(e: ValuesError) -> Self {
        DecodeError::Values(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_names_what_and_where() {
        let e = MetaError::new(
            3,
            Some(17),
            MetaErrorKind::Json(JsonErrorKind::InvalidEscape('q')),
        );
        assert_eq!(
            e.to_string(),
            "meta line 3, column 17: invalid escape \\q in metric name"
        );
        let e = MetaError::new(
            2,
            Some(9),
            MetaErrorKind::BadSize {
                what: "counter",
                size: 16,
                min: 8,
                max: 8,
            },
        );
        assert_eq!(
            e.to_string(),
            "meta line 2, column 9: counter size must be 8, found 16"
        );
        let e = ValuesError {
            line: 5,
            needed: 136,
            available: 128,
        };
        assert_eq!(
            e.to_string(),
            "values too short for meta line 5: need 136 bytes, have 128"
        );
        let d = DecodeError::from(e);
        assert_eq!(d.line(), 5);
        assert_eq!(d.column(), None);
        let d = DuplicateName {
            first: 1,
            second: 4,
        };
        assert_eq!(
            d.to_string(),
            "meta lines 1 and 4 have the same metric name"
        );
    }

    #[test]
    fn every_kind_displays() {
        use JsonErrorKind as J;
        use MetaErrorKind as M;
        let kinds = [
            M::InvalidUtf8,
            M::EmptyType,
            M::InvalidType,
            M::MissingSize,
            M::InvalidSize,
            M::SizeOverflow,
            M::BadSize {
                what: "state",
                size: 8,
                min: 16,
                max: 65535,
            },
            M::UnexpectedWord,
            M::MissingName,
            M::UnexpectedName,
            M::OffsetOverflow,
            M::Json(J::ExpectedObject),
            M::Json(J::ExpectedString),
            M::Json(J::ExpectedColon),
            M::Json(J::ExpectedCommaOrBrace),
            M::Json(J::UnexpectedEnd),
            M::Json(J::ControlCharacter(1)),
            M::Json(J::InvalidEscape('\u{1}')),
            M::Json(J::InvalidUnicodeEscape),
            M::Json(J::UnpairedSurrogate(0xd800)),
            M::Json(J::DuplicateKey),
            M::Json(J::TooManyUnsortedKeys),
            M::Json(J::TrailingCharacters),
        ];
        for kind in kinds {
            let s = MetaError::new(1, None, kind).to_string();
            assert!(s.starts_with("meta line 1: "), "{s}");
            assert!(s.len() > "meta line 1: ".len() + 5, "{s}");
        }
        assert_eq!(
            MetaError::new(1, None, M::Json(J::ControlCharacter(1))).to_string(),
            "meta line 1: raw control character U+0001 in metric name"
        );
    }
}
