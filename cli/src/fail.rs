//! [`Failure`]: a one-line error message for stderr.

use std::fmt;

/// An error of a command: printed as `cantal: MESSAGE`, exit status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure(pub(crate) String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<cantal_mmap::Error> for Failure {
    fn from(e: cantal_mmap::Error) -> Failure {
        Failure(e.to_string())
    }
}

impl From<String> for Failure {
    fn from(s: String) -> Failure {
        Failure(s)
    }
}

/// A command's result.
pub(crate) type Result<T> = std::result::Result<T, Failure>;
