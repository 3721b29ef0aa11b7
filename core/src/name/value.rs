//! [`NameValue`]: the value of one pair of a [`Name`](super::Name), one
//! string or two joined by a `.`, which composes in `const` code.

use core::fmt;
use core::iter::Chain;
use core::option;
use core::str::Chars;

use crate::canonical_json::JsonText;

/// The value of one pair of a [`Name`](super::Name): a string, or two
/// strings joined by a `.` (as in `"req.sql"`, the name of a
/// [`Fork`](crate::Fork) branch), kept apart so that names compose in
/// `const` code without an allocator.
///
/// Compare it with a `&str`, or print it.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::NameValue;
///
/// assert_eq!(NameValue::joined("req", "sql"), "req.sql");
/// assert_eq!(NameValue::joined("req", "sql"), NameValue::new("req.sql"));
/// assert_eq!(NameValue::new("api").as_str(), Some("api"));
/// ```
#[derive(Clone, Copy)]
pub struct NameValue {
    head: &'static str,
    tail: Option<&'static str>,
}

impl NameValue {
    /// The value `text`.
    pub const fn new(text: &'static str) -> NameValue {
        NameValue {
            head: text,
            tail: None,
        }
    }

    /// The value `head.tail`.
    pub const fn joined(head: &'static str, tail: &'static str) -> NameValue {
        NameValue {
            head,
            tail: Some(tail),
        }
    }

    /// The text when the value is a single string; `None` when it is
    /// joined (print it, or compare it, instead).
    pub const fn as_str(&self) -> Option<&'static str> {
        match self.tail {
            None => Some(self.head),
            Some(_) => None,
        }
    }

    /// The value `head`, or `head.tail` when there is a tail.
    pub(super) const fn from_parts(head: &'static str, tail: Option<&'static str>) -> NameValue {
        NameValue { head, tail }
    }

    /// The parts: the text before the `.` and, for a joined value, after.
    pub const fn parts(&self) -> (&'static str, Option<&'static str>) {
        (self.head, self.tail)
    }

    /// The characters of the text, the `.` of a joined value included.
    pub fn chars(&self) -> impl Iterator<Item = char> + Clone + 'static {
        self.text_chars()
    }
}

/// The characters of a [`NameValue`]: the head, the `.` and the tail.
type ValueChars = Chain<Chain<Chars<'static>, option::IntoIter<char>>, Chars<'static>>;

impl JsonText for NameValue {
    type Chars = ValueChars;

    fn text_chars(self) -> ValueChars {
        let (dot, tail) = match self.tail {
            Some(tail) => (Some('.'), tail),
            None => (None, ""),
        };
        self.head.chars().chain(dot).chain(tail.chars())
    }

    fn write_text<W: fmt::Write + ?Sized>(self, w: &mut W) -> fmt::Result {
        w.write_str(self.head)?;
        if let Some(tail) = self.tail {
            w.write_str(".")?;
            w.write_str(tail)?;
        }
        Ok(())
    }
}

impl PartialEq for NameValue {
    /// Equal when the texts are: `joined("a", "b") == new("a.b")`.
    fn eq(&self, other: &NameValue) -> bool {
        self.chars().eq(other.chars())
    }
}

impl Eq for NameValue {}

impl PartialEq<str> for NameValue {
    fn eq(&self, other: &str) -> bool {
        self.chars().eq(other.chars())
    }
}

impl PartialEq<&str> for NameValue {
    fn eq(&self, other: &&str) -> bool {
        self.chars().eq(other.chars())
    }
}

impl fmt::Display for NameValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f)
    }
}

impl fmt::Debug for NameValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tail {
            None => fmt::Debug::fmt(self.head, f),
            Some(tail) => write!(f, "{:?}.{:?}", self.head, tail),
        }
    }
}
