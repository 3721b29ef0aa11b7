//! Metric names: a zero-copy parser for JSON objects of strings, the
//! unescaping string view and the pairs iterator. (The canonical form is in
//! `canonical.rs`.)
//!
//! A name is validated once, in one linear pass over its bytes, without
//! recursion (the grammar is flat: `{ "key": "value", ... }`; anything nested
//! is an error). Afterwards [`ParsedName`] and [`JsonStr`] only keep slices of the
//! input and re-scan them on demand; they never allocate.
//!
//! # Cost
//!
//! Work is bounded per byte of input, without allocating:
//!
//! - Names whose keys are in ascending order (every name written by the
//!   reference client and by our encoder), of any length, are linear
//!   throughout: the duplicate-key check compares each key with the
//!   previous one only, and the canonical form takes the pairs in file order
//!   (or, when spelled canonically already, is the raw text itself).
//! - Names with keys out of order need, without memory to sort into, a
//!   comparison of each key with all earlier ones (duplicate check) and a
//!   minimum search per key (canonical form): O(k) passes over the name for
//!   k keys. Such names may therefore have at most [`MAX_UNSORTED_PAIRS`]
//!   keys, which bounds the work at that many passes per byte; a longer one
//!   is an error. (Without the limit, a hostile 420 KB line of 30,000
//!   descending keys took 10 s to parse and 22 s to canonicalize.)

use core::cmp::Ordering;
use core::fmt;

use crate::canonical_json::{is_plain_byte, is_unicode_escaped, short_unescape};

/// A JSON string of a metric name (a key or a value), still escaped.
///
/// Compares, orders and displays as its unescaped text; [`chars`](Self::chars)
/// unescapes on the fly. The text is valid: it was checked when the name was
/// parsed (escapes, surrogate pairs, no raw control characters).
#[derive(Clone, Copy)]
pub struct JsonStr<'a> {
    /// The text between the quotes, escapes and all.
    raw: &'a str,
    /// Whether `raw` contains a backslash.
    escaped: bool,
}

impl<'a> JsonStr<'a> {
    /// The text as written in the file, between the quotes, escapes and all.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The text without copying, when it has no escapes.
    ///
    /// Returns `None` when the string has escapes; use
    /// [`chars`](Self::chars) or `Display` then.
    pub fn as_str(&self) -> Option<&'a str> {
        if self.escaped { None } else { Some(self.raw) }
    }

    /// The unescaped characters.
    pub fn chars(&self) -> JsonChars<'a> {
        JsonChars { rest: self.raw }
    }
}

impl PartialEq for JsonStr<'_> {
    fn eq(&self, other: &JsonStr<'_>) -> bool {
        if !self.escaped && !other.escaped {
            self.raw == other.raw
        } else {
            self.chars().eq(other.chars())
        }
    }
}

impl Eq for JsonStr<'_> {}

impl PartialEq<str> for JsonStr<'_> {
    fn eq(&self, other: &str) -> bool {
        if self.escaped {
            self.chars().eq(other.chars())
        } else {
            self.raw == other
        }
    }
}

impl PartialEq<&str> for JsonStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialOrd for JsonStr<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders by unescaped code points, as Python orders `str` (and as
/// `sort_keys=True` orders keys).
impl Ord for JsonStr<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        if !self.escaped && !other.escaped {
            // UTF-8 byte order is code point order.
            self.raw.cmp(other.raw)
        } else {
            self.chars().cmp(other.chars())
        }
    }
}

/// Writes the unescaped text.
impl fmt::Display for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.escaped {
            return f.write_str(self.raw);
        }
        for c in self.chars() {
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

/// Shows the raw (escaped) text in quotes.
impl fmt::Debug for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.raw)
    }
}

/// The unescaped characters of a [`JsonStr`].
#[derive(Clone, Debug)]
pub struct JsonChars<'a> {
    rest: &'a str,
}

impl Iterator for JsonChars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let mut it = self.rest.chars();
        let c = it.next()?;
        if c != '\\' {
            self.rest = it.as_str();
            return Some(c);
        }
        let e = it.next();
        let after = it.as_str();
        let short = e
            .and_then(|e| u8::try_from(e).ok())
            .and_then(short_unescape);
        let (c, rest) = match (e, short) {
            (_, Some(c)) => (c, after),
            (Some('/'), None) => ('/', after),
            (Some('u'), None) => decode_u_escape(after).unwrap_or(('\u{fffd}', "")),
            // Unreachable for a validated string; end the iteration safely.
            _ => ('\u{fffd}', ""),
        };
        self.rest = rest;
        Some(c)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Each char takes 1..=12 bytes (`\ud83d\ude00` is 12 bytes).
        (self.rest.len().div_ceil(12), Some(self.rest.len()))
    }
}

impl core::iter::FusedIterator for JsonChars<'_> {}

/// Decodes the text after `\u` (and a following `\uXXXX` for a surrogate
/// pair); returns the char and the rest. `None` if malformed.
fn decode_u_escape(s: &str) -> Option<(char, &str)> {
    let (hi, _) = hex4(s)?;
    let rest = s.get(4..)?;
    if is_high_surrogate(hi) {
        let low = rest.strip_prefix("\\u")?;
        let (lo, _) = hex4(low)?;
        let c = char::decode_utf16([hi, lo]).next()?.ok()?;
        Some((c, low.get(4..)?))
    } else {
        Some((char::from_u32(u32::from(hi))?, rest))
    }
}

/// Four hex digits at the start of `s`: the value, and whether no digit is
/// an uppercase letter (the canonical spelling).
fn hex4(s: &str) -> Option<(u16, bool)> {
    let digits = s.as_bytes().first_chunk::<4>()?;
    let mut value: u16 = 0;
    let mut lower = true;
    for &d in digits {
        let v = char::from(d).to_digit(16)?;
        lower &= !d.is_ascii_uppercase();
        // Four digits of at most 15 fit in 16 bits: no wrapping happens.
        value = value.wrapping_mul(16).wrapping_add(v as u16);
    }
    Some((value, lower))
}

fn is_high_surrogate(u: u16) -> bool {
    (0xd800..0xdc00).contains(&u)
}

fn is_low_surrogate(u: u16) -> bool {
    (0xdc00..0xe000).contains(&u)
}

/// The most pairs a [`ParsedName`] whose keys are not in ascending order may have.
///
/// Names with sorted keys may have any number; see the
/// [`decode`](super) module's "Bounded work".
pub const MAX_UNSORTED_PAIRS: usize = 64;

/// A metric name: a validated JSON object whose keys and values are strings,
/// with distinct keys.
///
/// Holds the object's text (from `{` to `}`) as it appears in the meta file.
/// Equality, ordering, hashing and `Display` all go by the **canonical
/// form**, the spelling of the reference client's
/// `json.dumps(name, sort_keys=True)`: keys sorted by code point, separators
/// `", "` and `": "`, ASCII only (see [`write_canonical`](Self::write_canonical)).
/// So `{"b":"1","a":"2"}` equals `{"a": "2", "b": "1"}`.
#[derive(Clone, Copy)]
pub struct ParsedName<'a> {
    /// The object's text, `{` to `}`.
    pub(super) raw: &'a str,
    /// The number of pairs.
    pub(super) len: usize,
    /// `raw` is the canonical form.
    pub(super) canonical: bool,
    /// The keys are in ascending order (so `len` is unbounded); otherwise
    /// `len <= MAX_UNSORTED_PAIRS`.
    pub(super) sorted: bool,
}

impl<'a> ParsedName<'a> {
    /// The object's text as written in the meta file, from `{` to `}`.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The number of key/value pairs.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the name has no pairs (`{}`).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether [`raw`](Self::raw) is already the canonical form (as every
    /// name written by the reference client is).
    pub fn is_canonical(&self) -> bool {
        self.canonical
    }

    /// The key/value pairs in the order of the file.
    pub fn pairs(&self) -> ParsedPairs<'a> {
        ParsedPairs {
            s: self.raw,
            pos: 1,
        }
    }

    /// The value of `key`, if the name has it.
    pub fn get(&self, key: &str) -> Option<JsonStr<'a>> {
        self.pairs().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// Shows the raw text as written in the file.
impl fmt::Debug for ParsedName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ParsedName").field(&self.raw).finish()
    }
}

/// The key/value pairs of a [`ParsedName`], in file order.
#[derive(Clone, Debug)]
pub struct ParsedPairs<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Iterator for ParsedPairs<'a> {
    type Item = (JsonStr<'a>, JsonStr<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        // The text was validated: skip whitespace and the separator, read
        // two strings. Every step advances, so this ends on any input.
        let mut c = Cursor {
            b: self.s.as_bytes(),
            pos: self.pos,
        };
        c.skip_ws();
        if c.peek() == Some(b',') {
            c.bump();
            c.skip_ws();
        }
        let key = scan_string(self.s, &mut c);
        c.skip_ws();
        if c.peek() == Some(b':') {
            c.bump();
        }
        c.skip_ws();
        let value = scan_string(self.s, &mut c);
        self.pos = c.pos;
        match (key, value) {
            (Some(k), Some(v)) => Some((k, v)),
            _ => {
                self.pos = self.s.len();
                None
            }
        }
    }
}

impl core::iter::FusedIterator for ParsedPairs<'_> {}

/// Reads a validated string at the cursor (which must be at `"`).
fn scan_string<'a>(s: &'a str, c: &mut Cursor<'_>) -> Option<JsonStr<'a>> {
    if c.peek() != Some(b'"') {
        return None;
    }
    c.bump();
    let start = c.pos;
    let mut escaped = false;
    loop {
        match c.peek()? {
            b'"' => break,
            b'\\' => {
                escaped = true;
                c.bump();
                c.bump();
            }
            _ => c.bump(),
        }
    }
    let raw = s.get(start..c.pos)?;
    c.bump();
    Some(JsonStr { raw, escaped })
}

/// A byte cursor over one line. Positions never exceed the line length
/// (plus a few bumps past the end at most), so `saturating_add` is exact.
struct Cursor<'b> {
    b: &'b [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    /// Skips JSON whitespace; returns where it started.
    fn skip_ws(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump();
        }
        start
    }

    /// Whether the bytes from `start` to the cursor are exactly `s`.
    fn since_is(&self, start: usize, s: &[u8]) -> bool {
        self.b.get(start..self.pos) == Some(s)
    }
}

/// What is wrong with a metric name's JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JsonErrorKind {
    /// The name does not start with `{`.
    ExpectedObject,
    /// A key or value is not a string (a number, an object, `true`, ...).
    ExpectedString,
    /// No `:` after a key.
    ExpectedColon,
    /// No `,` or `}` after a value.
    ExpectedCommaOrBrace,
    /// The line ends inside a string or the object.
    UnexpectedEnd,
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter(u8),
    /// A backslash followed by something that is not an escape.
    InvalidEscape(char),
    /// `\u` not followed by four hex digits.
    InvalidUnicodeEscape,
    /// A UTF-16 surrogate escape without its other half.
    UnpairedSurrogate(u16),
    /// The same key twice in one name.
    DuplicateKey,
    /// More than `MAX_UNSORTED_PAIRS` keys in a name whose keys are not in
    /// ascending order.
    TooManyUnsortedKeys,
    /// Something after the closing `}`.
    TrailingCharacters,
}

/// The message of each kind, without the place (the line and column are
/// [`MetaError`](super::MetaError)'s, which adds "in metric name").
impl fmt::Display for JsonErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use JsonErrorKind as K;
        match *self {
            K::ExpectedObject => f.write_str("expected `{`"),
            K::ExpectedString => f.write_str("expected a string"),
            K::ExpectedColon => f.write_str("expected `:` after a key"),
            K::ExpectedCommaOrBrace => f.write_str("expected `,` or `}`"),
            K::UnexpectedEnd => f.write_str("unexpected end of line"),
            K::ControlCharacter(b) => write!(f, "raw control character U+{b:04X}"),
            K::InvalidEscape(c) => write!(f, "invalid escape \\{}", c.escape_debug()),
            K::InvalidUnicodeEscape => f.write_str("`\\u` must be followed by four hex digits"),
            K::UnpairedSurrogate(u) => write!(f, "unpaired surrogate \\u{u:04x}"),
            K::DuplicateKey => f.write_str("duplicate key"),
            K::TooManyUnsortedKeys => {
                write!(f, "more than {MAX_UNSORTED_PAIRS} keys out of sorted order")
            }
            K::TrailingCharacters => f.write_str("unexpected characters after the name"),
        }
    }
}

/// A parse error: the kind and the byte position in the line.
pub(crate) type JsonError = (JsonErrorKind, usize);

/// Checks the `len`th key of a name, `key` at `key_pos`, against the
/// earlier ones (of the object at `obj_start`): `Ok(Some(key_pos))` when it
/// repeats one. `prev` is the previous key while the keys ascend, `sorted`
/// whether they do.
fn check_key<'a>(
    line: &'a str,
    obj_start: usize,
    key: JsonStr<'a>,
    key_pos: usize,
    len: usize,
    prev: &mut Option<JsonStr<'a>>,
    sorted: &mut bool,
) -> Result<Option<usize>, JsonError> {
    if *sorted {
        match prev.map(|p| key.cmp(&p)) {
            None | Some(Ordering::Greater) => {}
            Some(Ordering::Equal) => return Ok(Some(key_pos)),
            Some(Ordering::Less) => *sorted = false,
        }
    }
    if !*sorted && len >= MAX_UNSORTED_PAIRS {
        return Err((JsonErrorKind::TooManyUnsortedKeys, key_pos));
    }
    if *sorted {
        *prev = Some(key);
    } else {
        // Out of order: compare with every earlier key.
        let earlier = line.get(obj_start..key_pos).unwrap_or("");
        let mut pairs = ParsedPairs { s: earlier, pos: 1 };
        if pairs.any(|(k, _)| k == key) {
            return Ok(Some(key_pos));
        }
    }
    Ok(None)
}

/// Parses the metric name that fills `line` from byte `start` to the end
/// (whitespace allowed around the object).
pub(crate) fn parse_name(line: &str, start: usize) -> Result<ParsedName<'_>, JsonError> {
    use JsonErrorKind as K;
    let mut c = Cursor {
        b: line.as_bytes(),
        pos: start,
    };
    c.skip_ws();
    let obj_start = c.pos;
    match c.peek() {
        Some(b'{') => c.bump(),
        None => return Err((K::UnexpectedEnd, c.pos)),
        Some(_) => return Err((K::ExpectedObject, c.pos)),
    }
    let ws = c.skip_ws();
    let mut canonical = c.pos == ws;
    let mut len: usize = 0;
    // The previous key while the keys are ascending; `None` once they are
    // not (or before the first key).
    let mut prev: Option<JsonStr<'_>> = None;
    let mut sorted = true;
    let mut duplicate = None;
    if c.peek() == Some(b'}') {
        c.bump();
    } else {
        loop {
            let key_pos = c.pos;
            let (key, key_canonical) = parse_string(line, &mut c)?;
            let ws = c.skip_ws();
            canonical &= key_canonical && c.pos == ws;
            match c.peek() {
                Some(b':') => c.bump(),
                None => return Err((K::UnexpectedEnd, c.pos)),
                Some(_) => return Err((K::ExpectedColon, c.pos)),
            }
            let ws = c.skip_ws();
            canonical &= c.since_is(ws, b" ");
            let (_value, value_canonical) = parse_string(line, &mut c)?;
            let ws = c.skip_ws();
            canonical &= value_canonical && c.pos == ws;

            // After a duplicate key, only the syntax is checked (so that
            // a lenient reader knows the line is otherwise well formed).
            if duplicate.is_none() {
                duplicate = check_key(line, obj_start, key, key_pos, len, &mut prev, &mut sorted)?;
            }
            len = len.saturating_add(1);

            match c.peek() {
                Some(b',') => {
                    c.bump();
                    let ws = c.skip_ws();
                    canonical &= c.since_is(ws, b" ");
                }
                Some(b'}') => {
                    c.bump();
                    break;
                }
                None => return Err((K::UnexpectedEnd, c.pos)),
                Some(_) => return Err((K::ExpectedCommaOrBrace, c.pos)),
            }
        }
    }
    let raw = line.get(obj_start..c.pos).unwrap_or("");
    c.skip_ws();
    if c.peek().is_some() {
        return Err((K::TrailingCharacters, c.pos));
    }
    if let Some(at) = duplicate {
        return Err((K::DuplicateKey, at));
    }
    Ok(ParsedName {
        raw,
        len,
        canonical: canonical && sorted,
        sorted,
    })
}

/// Parses and validates a string at the cursor; returns it and whether it
/// is spelled canonically.
fn parse_string<'a>(line: &'a str, c: &mut Cursor<'_>) -> Result<(JsonStr<'a>, bool), JsonError> {
    use JsonErrorKind as K;
    match c.peek() {
        Some(b'"') => c.bump(),
        None => return Err((K::UnexpectedEnd, c.pos)),
        Some(_) => return Err((K::ExpectedString, c.pos)),
    }
    let start = c.pos;
    let mut escaped = false;
    let mut canonical = true;
    loop {
        c.pos = plain_run(c.b, c.pos);
        let at = c.pos;
        match c.peek() {
            None => return Err((K::UnexpectedEnd, at)),
            Some(b'"') => break,
            Some(b'\\') => {
                escaped = true;
                c.bump();
                match c.peek() {
                    None => return Err((K::UnexpectedEnd, c.pos)),
                    // Canonical when the canonical form has this short
                    // escape (all but `\/`).
                    Some(letter) if short_unescape(letter).is_some() => c.bump(),
                    Some(b'/') => {
                        canonical = false;
                        c.bump();
                    }
                    Some(b'u') => {
                        c.bump();
                        let (code, lower) = parse_u(line, c, at)?;
                        // Canonical when the character has no shorter
                        // spelling and the digits are lowercase.
                        let long = char::from_u32(code).is_some_and(is_unicode_escaped);
                        canonical &= lower && long;
                    }
                    Some(_) => {
                        let bad = line
                            .get(c.pos..)
                            .and_then(|r| r.chars().next())
                            .unwrap_or('\u{fffd}');
                        return Err((K::InvalidEscape(bad), at));
                    }
                }
            }
            Some(b) if b < 0x20 => return Err((K::ControlCharacter(b), at)),
            Some(b) => {
                // Not plain (DEL, or non-ASCII): escaped in the canonical
                // form.
                canonical &= is_plain_byte(b);
                c.bump();
            }
        }
    }
    let raw = line.get(start..c.pos).unwrap_or("");
    c.bump();
    Ok((JsonStr { raw, escaped }, canonical))
}

/// `0x01` in every byte of a word.
const ONES: u64 = u64::from_ne_bytes([1; 8]);
/// The high bit of every byte of a word.
const HIGHS: u64 = ONES << 7;

/// The high bit of each byte of `w` (read little-endian) that is zero.
/// A borrow only runs upwards, so the lowest bit set is exact (higher ones
/// may be false): `trailing_zeros() / 8` is the first zero byte.
const fn zeros(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// The 8 bytes at `pos` of `b` as a little-endian word, when there are 8.
fn word_at(b: &[u8], pos: usize) -> Option<u64> {
    let word = b.get(pos..pos.saturating_add(8))?;
    Some(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])))
}

/// Where the first byte of `b` at or after `pos` is that `mask` (per
/// word, exact in its lowest bit, as [`zeros`]) or, in the last few bytes,
/// `is` marks; `b.len()` when none is.
fn scan(b: &[u8], mut pos: usize, mask: impl Fn(u64) -> u64, is: impl Fn(u8) -> bool) -> usize {
    while let Some(w) = word_at(b, pos) {
        let m = mask(w);
        if m != 0 {
            return pos.saturating_add((m.trailing_zeros() / 8) as usize);
        }
        pos = pos.saturating_add(8);
    }
    while let Some(&x) = b.get(pos) {
        if is(x) {
            break;
        }
        pos = pos.saturating_add(1);
    }
    pos.min(b.len())
}

/// Where the run of plain string bytes (printable ASCII other than `"`
/// and `\\`: each stands for itself and is canonical) that starts at `pos`
/// of `b` ends.
pub(super) fn plain_run(b: &[u8], pos: usize) -> usize {
    // A byte with its high bit, below 0x20, `"`, `\\` or DEL. Where no
    // lower byte has its high bit, `w - 0x20 * ONES` borrows exactly at the
    // first byte below 0x20.
    let mask = |w: u64| {
        (w & HIGHS)
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGHS)
            | zeros(w ^ (ONES * u64::from(b'"')))
            | zeros(w ^ (ONES * u64::from(b'\\')))
            | zeros(w ^ (ONES * 0x7f))
    };
    scan(b, pos, mask, |x| !is_plain_byte(x))
}

/// Where the first `\n` of `b` is.
pub(crate) fn find_newline(b: &[u8]) -> Option<usize> {
    let at = scan(
        b,
        0,
        |w| zeros(w ^ (ONES * u64::from(b'\n'))),
        |x| x == b'\n',
    );
    (at < b.len()).then_some(at)
}

/// Parses the hex digits of a `\u` escape (the cursor is after `\u`; `at` is
/// the backslash), and the low half of a surrogate pair. Returns the code
/// point and whether all digits were lowercase.
fn parse_u(line: &str, c: &mut Cursor<'_>, at: usize) -> Result<(u32, bool), JsonError> {
    use JsonErrorKind as K;
    let rest = line.get(c.pos..).unwrap_or("");
    let (hi, lower) = hex4(rest).ok_or((K::InvalidUnicodeEscape, at))?;
    c.pos = c.pos.saturating_add(4);
    if is_low_surrogate(hi) {
        return Err((K::UnpairedSurrogate(hi), at));
    }
    if !is_high_surrogate(hi) {
        return Ok((u32::from(hi), lower));
    }
    let second = c.pos;
    let rest = line.get(second..).unwrap_or("");
    let Some(digits) = rest.strip_prefix("\\u") else {
        return Err((K::UnpairedSurrogate(hi), at));
    };
    let (lo, lower_lo) = hex4(digits).ok_or((K::InvalidUnicodeEscape, second))?;
    if !is_low_surrogate(lo) {
        return Err((K::UnpairedSurrogate(hi), at));
    }
    c.pos = c.pos.saturating_add(6);
    let code = char::decode_utf16([hi, lo])
        .next()
        .and_then(Result::ok)
        .map_or(0xfffd, u32::from);
    Ok((code, lower && lower_lo))
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
