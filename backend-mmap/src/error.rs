//! [`Error`]: everything that can go wrong publishing or reading files.

use cantal_core::StartError;
use cantal_core::decode::{DecodeError, DuplicateName, ValuesError};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a publication could not start, or a publication could not be read.
///
/// Every variant names the file or directory concerned.
#[derive(Debug)]
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Directory { path, source } => write!(
                f,
                "cannot create Cantal files in directory {}: {source}",
                path.display()
            ),
            Error::NoSpace { path, source } => write!(
                f,
                "no space left for Cantal file {}: {source}",
                path.display()
            ),
            Error::PathTooLong { path } => write!(
                f,
                "Cantal base path {} is too long for a file name",
                path.display()
            ),
            Error::BadBasePath { path, reason } => write!(
                f,
                "Cantal base path (CANTAL_PATH) {} {reason}; it must be a file name prefix \
                 such as /run/user/1000/myapp",
                path.display()
            ),
            Error::UnsafeDirectory { path, mode } => write!(
                f,
                "refusing to publish in {} (mode {mode:o}): other users can write to it and it \
                 has no sticky bit",
                path.display()
            ),
            Error::Locked {
                path,
                pid: Some(pid),
            } => write!(
                f,
                "Cantal file {} is in use by another process (pid {pid})",
                path.display()
            ),
            Error::Locked { path, pid: None } => write!(
                f,
                "Cantal file {} is in use by another process",
                path.display()
            ),
            Error::AlreadyStarted { path } => write!(
                f,
                "cannot publish to {}: cantal::start() was already called in this process",
                path.display()
            ),
            Error::Map { path, source } => {
                write!(f, "cannot map Cantal file {}: {source}", path.display())
            }
            Error::Start { path, source } => {
                write!(f, "cannot publish to {}: {source}", path.display())
            }
            Error::NotRegularFile { path } => {
                write!(f, "{} is not a regular file", path.display())
            }
            Error::ForeignOwner {
                path,
                owner,
                expected,
            } => write!(
                f,
                "{} belongs to uid {owner}, not to the publisher's uid {expected}",
                path.display()
            ),
            Error::TooLarge { path, size, limit } => write!(
                f,
                "{} has {size} bytes, more than the limit of {limit}",
                path.display()
            ),
            Error::Closed { path } => write!(
                f,
                "{}: the publication was dropped, its files are gone",
                path.display()
            ),
            Error::Unstable { path, attempts } => write!(
                f,
                "{} changed during each of {attempts} attempts to read it",
                path.display()
            ),
            Error::Decode { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Duplicate { path, source } => write!(f, "{}: {source}", path.display()),
            Error::ValuesTooShort { path, source } => write!(
                f,
                "{}: {source} (half-written or replaced publication?)",
                path.display()
            ),
            Error::HalfPresent { path, present } => write!(
                f,
                "{}: no such file, but {} exists: a publication half created or half \
                 removed (its publisher starting or exiting), or a file removed by hand",
                path.display(),
                present.display()
            ),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
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
