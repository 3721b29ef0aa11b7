//! [`Error`]: everything that can go wrong publishing or reading files.

use cantal_core::StartError;
use cantal_core::decode::{DecodeError, DuplicateName, ValuesError};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a publication could not start, or a publication could not be read.
///
/// Every variant names the file or directory concerned. `Debug` shows the
/// same message as `Display`, so that `fn main() -> Result<(), Error>`
/// prints a sentence rather than a struct.
#[non_exhaustive]
pub enum Error {
    /// The directory of the base path is missing or not writable (or
    /// another I/O error while creating the files).
    Directory {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file system is full: the values file could not be filled.
    NoSpace {
        /// The file being written.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// A file name built from the base path is too long for the OS.
    PathTooLong {
        /// The base path.
        path: PathBuf,
    },
    /// The base path (`CANTAL_PATH`) itself is a directory, a symlink or
    /// empty; it must be a prefix like `/run/user/1000/myapp`.
    BadBasePath {
        /// The base path.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Other users could replace our files: the directory is writable by
    /// others (or by the group) and has no sticky bit.
    UnsafeDirectory {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A directory on the way to the base path (or a symlink there)
    /// belongs to another user than root or the publisher, who could swap
    /// the files or the directory under it.
    ForeignDirectory {
        /// The directory or symlink.
        path: PathBuf,
        /// The uid owning it.
        owner: u32,
        /// The publisher's effective uid.
        expected: u32,
    },
    /// A file to be written would exceed the process's file size limit
    /// (`RLIMIT_FSIZE`, `ulimit -f`), which would kill it with `SIGXFSZ`.
    FileSizeLimit {
        /// The file.
        path: PathBuf,
        /// The bytes it needs.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Another process publishes on this base path (it holds the lock on
    /// the values file).
    Locked {
        /// The values file.
        path: PathBuf,
        /// The process holding the lock, when it could be found.
        pid: Option<u32>,
    },
    /// `cantal::start()` was called before in this process, successfully.
    AlreadyStarted {
        /// The base path of the call that failed.
        path: PathBuf,
    },
    /// The values file could not be mapped.
    Map {
        /// The values file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The metrics could not be laid out or published.
    Start {
        /// The base path.
        path: PathBuf,
        /// Why.
        source: StartError,
    },
    /// A file to be read is not a regular file (a symlink, a directory...).
    NotRegularFile {
        /// The file.
        path: PathBuf,
    },
    /// A file to be read belongs to another user than the one required
    /// (`read::Options::owner`): a publisher pointing a privileged reader
    /// at someone else's file.
    ForeignOwner {
        /// The file.
        path: PathBuf,
        /// The uid owning it.
        owner: u32,
        /// The uid required.
        expected: u32,
    },
    /// A file to be read is larger than a sane publication.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The publication was dropped (its files are gone): it cannot be
    /// extended any more.
    Closed {
        /// The base path it had.
        path: PathBuf,
    },
    /// The publication kept changing while it was being read.
    Unstable {
        /// The meta file.
        path: PathBuf,
        /// How many times it was read.
        attempts: usize,
    },
    /// A file read is not a valid publication.
    Decode {
        /// The meta file.
        path: PathBuf,
        /// What is wrong, and on which line.
        source: DecodeError,
    },
    /// A values file is shorter than its meta file says (a publication
    /// half written, or replaced between the two reads).
    ValuesTooShort {
        /// The values file.
        path: PathBuf,
        /// The first slot that does not fit.
        source: ValuesError,
    },
    /// Two lines of a meta file have the same name.
    Duplicate {
        /// The meta file.
        path: PathBuf,
        /// The two lines.
        source: DuplicateName,
    },
    /// One file of the pair exists and the other does not: a publication
    /// half created or half removed (a publisher starting or exiting while
    /// it was read), or a file removed by hand.
    HalfPresent {
        /// The file that is missing.
        path: PathBuf,
        /// The file of the pair that exists.
        present: PathBuf,
    },
    /// This build's platform cannot publish or read Cantal files (they
    /// need Linux: see the crate docs); every operation fails with it.
    Unsupported {
        /// The base path or file concerned.
        path: PathBuf,
        /// What was asked, a verb: "publish", "read"...
        action: &'static str,
    },
    /// Any other I/O error.
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}

impl Error {
    /// The file or directory the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Error::Directory { path, .. }
            | Error::NoSpace { path, .. }
            | Error::PathTooLong { path }
            | Error::BadBasePath { path, .. }
            | Error::UnsafeDirectory { path, .. }
            | Error::ForeignDirectory { path, .. }
            | Error::FileSizeLimit { path, .. }
            | Error::Locked { path, .. }
            | Error::AlreadyStarted { path }
            | Error::Map { path, .. }
            | Error::Start { path, .. }
            | Error::NotRegularFile { path }
            | Error::ForeignOwner { path, .. }
            | Error::TooLarge { path, .. }
            | Error::Unstable { path, .. }
            | Error::Closed { path }
            | Error::Decode { path, .. }
            | Error::Duplicate { path, .. }
            | Error::ValuesTooShort { path, .. }
            | Error::HalfPresent { path, .. }
            | Error::Unsupported { path, .. }
            | Error::Io { path, .. } => path,
        }
    }

    /// Classifies an I/O error while creating or writing `path`.
    pub(crate) fn io(path: &Path, source: io::Error) -> Error {
        let path = path.to_path_buf();
        match source.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                Error::NoSpace { path, source }
            }
            io::ErrorKind::InvalidFilename => Error::PathTooLong { path },
            _ => Error::Io { path, source },
        }
    }
}

impl fmt::Display for Error {
    /// One sentence naming the file or directory; the messages are written
    /// per group of variants (where the files go, making them, reading
    /// them), each group in a function of its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Directory { .. }
            | Error::PathTooLong { .. }
            | Error::BadBasePath { .. }
            | Error::UnsafeDirectory { .. }
            | Error::ForeignDirectory { .. } => self.fmt_place(f),
            Error::NoSpace { .. }
            | Error::FileSizeLimit { .. }
            | Error::Locked { .. }
            | Error::AlreadyStarted { .. }
            | Error::Map { .. }
            | Error::Start { .. }
            | Error::Closed { .. }
            | Error::Unsupported { .. } => self.fmt_publishing(f),
            Error::NotRegularFile { .. }
            | Error::ForeignOwner { .. }
            | Error::TooLarge { .. }
            | Error::Unstable { .. }
            | Error::Decode { .. }
            | Error::Duplicate { .. }
            | Error::ValuesTooShort { .. }
            | Error::HalfPresent { .. }
            | Error::Io { .. } => self.fmt_reading(f),
        }
    }
}

impl Error {
    /// The messages about where the files go: the base path and the
    /// directories on the way to it. (Any other variant shows its path
    /// only: `Display::fmt` sends none here.)
    fn fmt_place(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path().display();
        match self {
            Error::Directory { source, .. } => {
                write!(
                    f,
                    "cannot create Cantal files in directory {path}: {source}"
                )
            }
            Error::PathTooLong { .. } => {
                write!(f, "Cantal base path {path} is too long for a file name")
            }
            Error::BadBasePath { reason, .. } => write!(
                f,
                "Cantal base path (CANTAL_PATH) {path} {reason}; it must be a file name prefix \
                 such as /run/user/1000/myapp"
            ),
            Error::UnsafeDirectory { mode, .. } => write!(
                f,
                "refusing to publish in {path} (mode {mode:o}): other users can write to it and \
                 it has no sticky bit"
            ),
            Error::ForeignDirectory {
                owner, expected, ..
            } => write!(
                f,
                "refusing to publish under {path}: it belongs to uid {owner}, neither root nor \
                 the publisher's uid {expected}, so that user could replace the files"
            ),
            _ => write!(f, "{path}"),
        }
    }

    /// The messages about making and keeping the files, and the platform
    /// that cannot. (Any other variant
    /// shows its path only: `Display::fmt` sends none here.)
    fn fmt_publishing(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path().display();
        match self {
            Error::NoSpace { source, .. } => {
                write!(f, "no space left for Cantal file {path}: {source}")
            }
            Error::FileSizeLimit { size, limit, .. } => write!(
                f,
                "Cantal file {path} needs {size} bytes, more than the file size limit \
                 (RLIMIT_FSIZE, ulimit -f) of {limit} bytes"
            ),
            Error::Locked { pid, .. } => {
                write!(f, "Cantal file {path} is in use by another process")?;
                pid.map_or(Ok(()), |pid| write!(f, " (pid {pid})"))
            }
            Error::AlreadyStarted { .. } => write!(
                f,
                "cannot publish to {path}: cantal::start() was already called in this process"
            ),
            Error::Map { source, .. } => write!(f, "cannot map Cantal file {path}: {source}"),
            Error::Start { source, .. } => write!(f, "cannot publish to {path}: {source}"),
            Error::Closed { .. } => {
                write!(f, "{path}: the publication was dropped, its files are gone")
            }
            Error::Unsupported { action, .. } => write!(
                f,
                "cannot {action} {path}: Cantal files need Linux (this build is for {})",
                std::env::consts::OS
            ),
            _ => write!(f, "{path}"),
        }
    }

    /// The messages about reading a publication, and other I/O errors.
    /// (Any other variant shows its path only: `Display::fmt` sends none
    /// here.)
    fn fmt_reading(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path().display();
        match self {
            Error::NotRegularFile { .. } => write!(f, "{path} is not a regular file"),
            Error::ForeignOwner {
                owner, expected, ..
            } => write!(
                f,
                "{path} belongs to uid {owner}, not to the publisher's uid {expected}"
            ),
            Error::TooLarge { size, limit, .. } => {
                write!(f, "{path} has {size} bytes, more than the limit of {limit}")
            }
            Error::Unstable { attempts, .. } => {
                write!(
                    f,
                    "{path} changed during each of {attempts} attempts to read it"
                )
            }
            Error::Decode { source, .. } => write!(f, "{path}: {source}"),
            Error::Duplicate { source, .. } => write!(f, "{path}: {source}"),
            Error::ValuesTooShort { source, .. } => {
                write!(
                    f,
                    "{path}: {source} (half-written or replaced publication?)"
                )
            }
            Error::HalfPresent { present, .. } => write!(
                f,
                "{path}: no such file, but {} exists: a publication half created or half \
                 removed (its publisher starting or exiting), or a file removed by hand",
                present.display()
            ),
            Error::Io { source, .. } => write!(f, "{path}: {source}"),
            _ => write!(f, "{path}"),
        }
    }
}

impl fmt::Debug for Error {
    /// The `Display` message: what `main` prints for an `Err`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Directory { source, .. }
            | Error::NoSpace { source, .. }
            | Error::Map { source, .. }
            | Error::Io { source, .. } => Some(source),
            Error::Start { source, .. } => Some(source),
            Error::Decode { source, .. } => Some(source),
            Error::Duplicate { source, .. } => Some(source),
            Error::ValuesTooShort { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
