//! Command-line TARGETs: a base path, a `.meta` or `.values` file, or a
//! process id.

use crate::fail::{Failure, Result};
use crate::procfs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A publication to read: its base path, and what we know of its process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    /// The base path `P` of `P.meta` and `P.values`.
    pub(crate) base: PathBuf,
    /// The publishing process, when known.
    pub(crate) pid: Option<u32>,
    /// Its `CANTAL_APPNAME`, when known.
    pub(crate) appname: Option<String>,
    /// For a process in another mount namespace (a container): its
    /// `CANTAL_PATH` as it names it, to be resolved inside its root
    /// `/proc/PID/root` ([`Source::root`]); `base` is then that path under
    /// `/proc/PID/root`, which keys and messages use.
    pub(crate) inner: Option<PathBuf>,
}

impl Source {
    /// The directory the reader resolves [`Source::read_path`] in: the
    /// root of a process in another mount namespace.
    pub(crate) fn root(&self) -> Option<PathBuf> {
        self.inner.as_ref()?;
        Some(PathBuf::from(format!("/proc/{}/root", self.pid?)))
    }

    /// The base path as the reader opens it (inside [`Source::root`] when
    /// there is one).
    pub(crate) fn read_path(&self) -> &Path {
        self.inner.as_deref().unwrap_or(&self.base)
    }
}

/// The publication that process `pid` names with `CANTAL_PATH` = `path`:
/// in our file system, or, when the process has a root of its own (another
/// mount namespace), inside that root.
pub(crate) fn named_by(pid: u32, path: PathBuf, appname: Option<String>) -> Source {
    let root = PathBuf::from(format!("/proc/{pid}/root"));
    // Another root (chroot, pivot_root) or another mount namespace (where
    // "/" may be the same directory with other mounts under it).
    let id = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    // Ours, once: every process naming a path is compared with them.
    static OURS: std::sync::OnceLock<[Option<(u64, u64)>; 2]> = std::sync::OnceLock::new();
    let [our_root, our_ns] =
        *OURS.get_or_init(|| [id(Path::new("/")), id(Path::new("/proc/self/ns/mnt"))]);
    let differ = |theirs: &Path, ours: Option<(u64, u64)>| matches!((id(theirs), ours), (Some(t), Some(o)) if t != o);
    let foreign =
        differ(&root, our_root) || differ(Path::new(&format!("/proc/{pid}/ns/mnt")), our_ns);
    if !foreign || !path.is_absolute() {
        return Source {
            base: path,
            pid: Some(pid),
            appname,
            inner: None,
        };
    }
    let under = path.strip_prefix("/").unwrap_or(&path);
    Source {
        base: root.join(under),
        pid: Some(pid),
        appname,
        inner: Some(path),
    }
}

/// The uid (when there is one) and pid of a default file name without its
/// suffix: `cantal.<pid>` or `cantal.<uid>.<pid>`.
pub(crate) fn default_name(stem: &str) -> Option<(Option<u32>, u32)> {
    let rest = stem.strip_prefix("cantal.")?;
    let number = |s: &str| {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    match rest.split_once('.') {
        None => Some((None, number(rest)?)),
        Some((uid, pid)) => Some((Some(number(uid)?), number(pid)?)),
    }
}

/// Whether the process of a publication whose lock is not held is gone:
/// its known pid, else the pid of its default-path name. `None` when no
/// pid is known (a path given by hand: the reference Python client takes
/// no lock, so a missing lock alone does not make it stale).
pub(crate) fn process_gone(source: &Source) -> Option<bool> {
    let pid = source.pid.or_else(|| {
        let name = source.base.file_name()?.to_str()?;
        Some(default_name(name)?.1)
    })?;
    Some(!procfs::exists(pid))
}

/// Resolves one TARGET.
///
/// All digits is a process id, unless `TARGET.meta` exists (then it is a
/// base path in the working directory). A trailing `.meta` or `.values` is
/// removed.
///
/// # Errors
///
/// A process that does not exist, whose environment we may not read, or
/// that has no `CANTAL_PATH` and no files at the default paths.
pub(crate) fn resolve(target: &str) -> Result<Source> {
    let is_pid = !target.is_empty() && target.bytes().all(|b| b.is_ascii_digit());
    if is_pid && !cantal_mmap::with_suffix(Path::new(target), ".meta").exists() {
        let pid: u32 = target
            .parse()
            .map_err(|_| Failure(format!("{target} is not a process id")))?;
        return by_pid(pid);
    }
    let base = target
        .strip_suffix(".meta")
        .or_else(|| target.strip_suffix(".values"))
        .unwrap_or(target);
    Ok(Source {
        base: PathBuf::from(base),
        pid: None,
        appname: None,
        inner: None,
    })
}

/// Where process `pid` publishes: its `CANTAL_PATH`, else the first of
/// its default paths whose files exist.
pub(crate) fn by_pid(pid: u32) -> Result<Source> {
    let environ = format!("/proc/{pid}/environ");
    let env = procfs::cantal_env(pid).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Failure(format!("no process with id {pid}"))
        } else {
            Failure(format!("{environ}: {e}"))
        }
    })?;
    if let Some(base) = env.path {
        return Ok(named_by(pid, base, env.appname));
    }
    let mut tried = Vec::new();
    if let Some(dir) = &env.runtime_dir {
        tried.push(dir.join(format!("cantal.{pid}")));
    }
    let uid = procfs::owner(pid).unwrap_or_else(procfs::my_uid);
    tried.push(PathBuf::from(format!("/tmp/cantal.{uid}.{pid}")));
    for base in &tried {
        if cantal_mmap::with_suffix(base, ".meta").exists()
            || cantal_mmap::with_suffix(base, ".values").exists()
        {
            return Ok(Source {
                base: base.clone(),
                pid: Some(pid),
                appname: env.appname,
                inner: None,
            });
        }
    }
    let tried: Vec<String> = tried
        .iter()
        .map(|p| format!("{}.meta", p.display()))
        .collect();
    Err(Failure(format!(
        "process {pid} has no CANTAL_PATH in {environ}, and there is no {}",
        tried.join(" nor ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_removed() {
        for t in ["/run/x.y", "/run/x.y.meta", "/run/x.y.values"] {
            assert_eq!(resolve(t).unwrap().base, PathBuf::from("/run/x.y"));
        }
    }

    #[test]
    fn default_names() {
        assert_eq!(default_name("cantal.123"), Some((None, 123)));
        assert_eq!(default_name("cantal.1000.77"), Some((Some(1000), 77)));
        assert_eq!(default_name("cantal.x"), None);
        assert_eq!(default_name("cantal.1.2.3"), None);
        assert_eq!(default_name("other.1"), None);
    }

    #[test]
    fn missing_process() {
        let e = resolve("4294967294").unwrap_err();
        assert!(e.0.contains("no process"), "{e}");
    }
}
