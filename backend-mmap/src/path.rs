//! Where a process publishes: `CANTAL_PATH`, or a per-process fallback.

use crate::os;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// The environment variable the agent looks for in `/proc/<pid>/environ`.
pub const CANTAL_PATH: &str = "CANTAL_PATH";

/// Where the agent (and its discovery) expects the files: the base path in
/// `CANTAL_PATH`; without it, `$XDG_RUNTIME_DIR/cantal.<pid>`, else
/// `/tmp/cantal.<uid>.<pid>`.
///
/// The second value tells whether the path came from `CANTAL_PATH` (the
/// agent finds only such publishers). A relative `CANTAL_PATH` is returned
/// as it is (and refused by [`Publisher::publish`](crate::Publisher::publish):
/// the agent, reading it from `/proc/<pid>/environ`, cannot resolve it); a
/// relative `XDG_RUNTIME_DIR` is ignored, as the XDG specification says.
pub fn resolve() -> (PathBuf, bool) {
    resolve_from(
        std::env::var_os(CANTAL_PATH),
        std::env::var_os("XDG_RUNTIME_DIR"),
        std::process::id(),
        os::uid(),
    )
}

fn resolve_from(
    cantal: Option<OsString>,
    xdg: Option<OsString>,
    pid: u32,
    uid: u32,
) -> (PathBuf, bool) {
    if let Some(p) = cantal.filter(|p| !p.is_empty()) {
        return (PathBuf::from(p), true);
    }
    let path = match xdg.filter(|d| std::path::Path::new(d).is_absolute()) {
        Some(dir) => PathBuf::from(dir).join(format!("cantal.{pid}")),
        None => PathBuf::from(format!("/tmp/cantal.{uid}.{pid}")),
    };
    (path, false)
}

/// `base` with `suffix` appended to its last component (not `with_extension`,
/// which would replace a dot in the name): the files of the publication at
/// `base` are `with_suffix(base, ".meta")`, `".values"` and `".help"`.
///
/// ```
/// # use cantal_mmap as cantal;
/// use std::path::Path;
/// let meta = cantal::with_suffix(Path::new("/run/app.v2"), ".meta");
/// assert_eq!(meta, Path::new("/run/app.v2.meta"));
/// ```
pub fn with_suffix(base: &std::path::Path, suffix: &str) -> PathBuf {
    let mut s = base.as_os_str().to_os_string();
    s.push(OsStr::new(suffix));
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn fallbacks() {
        let (p, env) = resolve_from(Some("/run/x/app".into()), Some("/run/u".into()), 7, 9);
        assert_eq!(p, PathBuf::from("/run/x/app"));
        assert!(env);
        let (p, env) = resolve_from(None, Some("/run/u".into()), 7, 9);
        assert_eq!(p, PathBuf::from("/run/u/cantal.7"));
        assert!(!env);
        let (p, _) = resolve_from(Some("".into()), None, 7, 9);
        assert_eq!(p, PathBuf::from("/tmp/cantal.9.7"));
        let (p, _) = resolve_from(None, Some("run/u".into()), 7, 9);
        assert_eq!(p, PathBuf::from("/tmp/cantal.9.7"));
    }

    #[test]
    fn non_utf8_paths_are_kept() {
        let raw = OsString::from_vec(b"/tmp/caf\xe9".to_vec());
        let (p, _) = resolve_from(Some(raw.clone()), None, 1, 1);
        assert_eq!(p.as_os_str(), raw.as_os_str());
        let meta = with_suffix(&p, ".meta");
        assert_eq!(meta.as_os_str().len(), raw.len() + 5);
    }

    #[test]
    fn suffix_keeps_dots() {
        let p = with_suffix(std::path::Path::new("/run/app.v2"), ".values");
        assert_eq!(p, PathBuf::from("/run/app.v2.values"));
    }
}
