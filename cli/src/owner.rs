//! Whose files a privileged reader accepts: the ownership rule of
//! SECURITY.md ("Privileged reader"), applied by `export` and `scan`.
//!
//! A reader running as root can open any file, so it must not read a
//! publication for a user who could not have read it herself. The rule
//! depends on how the publication was found:
//!
//! - **Named by a process** (its `CANTAL_PATH` in `/proc/PID/environ`, or
//!   its default path for `--pid`): both files must belong to that
//!   process's real uid (the first field of `Uid:` in `/proc/PID/status`),
//!   read when the publication is read. When the process is gone by then,
//!   nothing is read (`owner_unknown`).
//! - **A default-path file** (`cantal.<uid>.<pid>` or `cantal.<pid>` in
//!   `/tmp` or `$XDG_RUNTIME_DIR`): when process `<pid>` runs, its real
//!   uid; else the `<uid>` of the name; else (`cantal.<pid>` of a process
//!   that is gone) the owner of the directory.
//! - **Found with `--dir DIR`**: the owner of `DIR` (the directory the
//!   operator named, symlinks followed).
//!
//! The owner is checked by `cantal_mmap`'s reader with `fstat` on the
//! descriptors it opened, so the file checked is the file read.

use crate::target::{self, Source};
use std::os::unix::fs::MetadataExt;

/// How a publication was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A process named it (environment, or `--pid`).
    Process,
    /// A file at a default path, its name carrying a pid.
    DefaultDir,
    /// A file in a directory given with `--dir`.
    Dir,
}

/// When the ownership rule applies (`--check-owner`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OwnerCheck {
    /// When running as a privileged reader: root (effective uid 0), or
    /// with CAP_DAC_READ_SEARCH.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never: read whatever this process can open.
    Never,
}

impl OwnerCheck {
    /// Whether the rule applies to this process.
    pub(crate) fn applies(self) -> bool {
        match self {
            OwnerCheck::Auto => crate::privilege::is_privileged(),
            OwnerCheck::Always => true,
            OwnerCheck::Never => false,
        }
    }
}

/// The uid that must own `source`'s files, found as `origin` says; `Err`
/// names why it cannot be told (then nothing is read).
pub(crate) fn required(source: &Source, origin: Origin) -> Result<u32, String> {
    let running = source
        .pid
        .and_then(|pid| cantal_mmap::read::owner_of_pid(pid).ok());
    match origin {
        Origin::Process => running.ok_or_else(|| {
            format!(
                "process {} that named {} is gone: its owner is unknown",
                source.pid.map_or("-".into(), |p| p.to_string()),
                source.base.display()
            )
        }),
        Origin::DefaultDir => match running {
            Some(uid) => Ok(uid),
            None => name_uid(source).map_or_else(|| directory_owner(source), Ok),
        },
        Origin::Dir => directory_owner(source),
    }
}

/// The `<uid>` of a default-path name `cantal.<uid>.<pid>`.
fn name_uid(source: &Source) -> Option<u32> {
    target::default_name(source.base.file_name()?.to_str()?)?.0
}

/// The owner of the directory holding `source`'s files.
fn directory_owner(source: &Source) -> Result<u32, String> {
    let dir = source
        .base
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::metadata(dir)
        .map(|m| m.uid())
        .map_err(|e| format!("{}: {e}: its owner is unknown", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn source(base: &str, pid: Option<u32>) -> Source {
        Source {
            base: PathBuf::from(base),
            pid,
            appname: None,
            inner: None,
        }
    }

    #[test]
    fn rules_by_origin() {
        let me = crate::procfs::my_uid();
        let pid = std::process::id();
        // A running process: its uid, whatever the name says.
        let s = source("/tmp/cantal.4242.1", Some(pid));
        assert_eq!(required(&s, Origin::Process), Ok(me));
        assert_eq!(required(&s, Origin::DefaultDir), Ok(me));
        // A process that is gone: unknown when it named the file...
        let gone = source("/tmp/cantal.4242.4294967294", Some(4_294_967_294));
        assert!(required(&gone, Origin::Process).is_err());
        // ... the uid of a default name...
        assert_eq!(required(&gone, Origin::DefaultDir), Ok(4242));
        // ... or the directory's owner.
        let tmp_owner = std::fs::metadata("/tmp").unwrap().uid();
        let short = source("/tmp/cantal.4294967294", Some(4_294_967_294));
        assert_eq!(required(&short, Origin::DefaultDir), Ok(tmp_owner));
        assert_eq!(
            required(&source("/tmp/x", None), Origin::Dir),
            Ok(tmp_owner)
        );
        assert!(required(&source("/nonexistent/dir/x", None), Origin::Dir).is_err());
    }
}
