//! [`TrustedDir`]: the publishing directory, opened by a walk from `/` that
//! checks every directory on the way, as OpenSSH's `StrictModes` and the
//! JVM's `hsperfdata` do.
//!
//! A directory is trusted when it belongs to root or to the publishing
//! user (the effective uid) and neither its group nor others may write to
//! it, unless it has the sticky bit (`/tmp`): then others may add names but
//! not remove or rename ours. Each component is opened with `O_PATH |
//! O_NOFOLLOW` relative to the descriptor of the one before, and checked
//! with `fstat` on what was opened, so a swap of a path between the check
//! and the use changes nothing: every later file operation is relative to
//! the final descriptor.
//!
//! A symlink on the way is followed only when it belongs to root or to the
//! publishing user (inside a trusted directory no one else could have put
//! it there, or, in a sticky one, replace it), at most [`MAX_SYMLINKS`]
//! times; its target is walked and checked the same way.

use crate::error::Error;
use crate::os::{self, MetadataExt};
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};

/// How many symlinks a walk follows before it gives up (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

/// An open directory, every directory above it checked.
#[derive(Debug)]
pub(crate) struct TrustedDir {
    /// An `O_PATH` descriptor of the directory.
    pub(crate) fd: File,
    /// The directory as it was named (for messages).
    pub(crate) path: PathBuf,
}

/// Opens the absolute directory `dir` by a checked walk from `/`: see the
/// [module docs](self). `uid` is the publishing user.
pub(crate) fn open_trusted(dir: &Path, uid: u32) -> Result<TrustedDir, Error> {
    let not_found = |source| Error::Directory {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.is_absolute() {
        // The walk starts at `/`: a relative path would name another place.
        return Err(not_found(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not an absolute path",
        )));
    }
    let mut left: VecDeque<OsString> = VecDeque::new();
    push_front(&mut left, dir.as_os_str());
    let mut at = PathBuf::from("/");
    let mut cur = open_root(&at, uid)?;
    let mut links = 0;
    while let Some(name) = left.pop_front() {
        let next = at.join(&name);
        let c = os::c_name(&name).map_err(not_found)?;
        let file = os::open_path_at(Some(&cur), &c).map_err(|source| Error::Directory {
            path: next.clone(),
            source,
        })?;
        let meta = file.metadata().map_err(|e| Error::io(&next, e))?;
        if meta.file_type().is_symlink() {
            check_owner(&next, meta.uid(), uid)?;
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(not_found(os::too_many_links()));
            }
            let target = os::read_link(&file).map_err(|e| Error::io(&next, e))?;
            if target.as_encoded_bytes().first() == Some(&b'/') {
                at = PathBuf::from("/");
                cur = open_root(&at, uid)?;
            }
            push_front(&mut left, &target);
            continue;
        }
        if !meta.is_dir() {
            return Err(Error::Directory {
                path: next,
                source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
            });
        }
        check(&next, &meta, uid)?;
        if name == ".." {
            at.pop();
        } else {
            at = next;
        }
        cur = file;
    }
    Ok(TrustedDir {
        fd: cur,
        path: dir.to_path_buf(),
    })
}

/// Opens and checks `/`.
fn open_root(at: &Path, uid: u32) -> Result<File, Error> {
    let root = os::open_root().map_err(|source| Error::Directory {
        path: at.to_path_buf(),
        source,
    })?;
    let meta = root.metadata().map_err(|e| Error::io(at, e))?;
    check(at, &meta, uid)?;
    Ok(root)
}

/// Puts the components of `path` in front of `left` (a leading `/` and
/// `.` dropped, `..` kept).
fn push_front(left: &mut VecDeque<OsString>, path: &OsStr) {
    let parts: Vec<OsString> = Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    for part in parts.into_iter().rev() {
        left.push_front(part);
    }
}

/// The rule for one directory: see the [module docs](self).
fn check(path: &Path, meta: &std::fs::Metadata, uid: u32) -> Result<(), Error> {
    check_owner(path, meta.uid(), uid)?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(Error::UnsafeDirectory {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Root or the publishing user.
fn check_owner(path: &Path, owner: u32, uid: u32) -> Result<(), Error> {
    if owner == 0 || owner == uid {
        return Ok(());
    }
    Err(Error::ForeignDirectory {
        path: path.to_path_buf(),
        owner,
        expected: uid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_walked_in_order() {
        let mut left = VecDeque::new();
        push_front(&mut left, OsStr::new("/c/d"));
        push_front(&mut left, OsStr::new("a/./b/.."));
        let got: Vec<_> = left.iter().map(|s| s.to_str().unwrap()).collect();
        assert_eq!(got, ["a", "b", "..", "c", "d"]);
    }

    #[test]
    fn the_root_and_tmp_are_trusted() {
        let dir = open_trusted(Path::new("/"), os::uid()).unwrap();
        assert_eq!(dir.path, Path::new("/"));
        let dir = open_trusted(&std::env::temp_dir(), os::uid()).unwrap();
        assert!(dir.fd.metadata().unwrap().is_dir());
    }

    #[test]
    fn a_relative_directory_is_refused() {
        let err = open_trusted(Path::new("tmp"), os::uid()).unwrap_err();
        assert!(
            matches!(&err, Error::Directory { path, .. } if path == Path::new("tmp")),
            "{err}"
        );
    }

    #[test]
    fn a_missing_component_names_itself() {
        let err = open_trusted(Path::new("/nonexistent-cantal-dir/x"), os::uid()).unwrap_err();
        assert!(
            matches!(&err, Error::Directory { path, .. } if path == Path::new("/nonexistent-cantal-dir")),
            "{err}"
        );
    }
}
