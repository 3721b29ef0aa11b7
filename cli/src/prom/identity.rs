//! Which publisher a series belongs to: the labels `appname` and `path`
//! (and `pid` when asked), chosen so that a restarted process continues
//! its series and two processes running at once never share one.

use crate::target::Source;
use std::path::Path;

/// The `path` label of a publication at `base` published by `pid`: the
/// base path, except for the per-process default paths, whose pid part is
/// left out (`/tmp/cantal.<uid>.<pid>` → `/tmp/cantal.<uid>`,
/// `<dir>/cantal.<pid>` → `<dir>/cantal`), so that a restart keeps it. A
/// name of that shape whose number is not the known pid of its process is
/// a path the user chose (`CANTAL_PATH`) and is kept.
pub(crate) fn normalised_path(base: &Path, pid: Option<u32>) -> Option<String> {
    let name = base.file_name()?.to_str()?;
    let dir = base.parent()?;
    let rest = name.strip_prefix("cantal.")?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit());
    let (kept, number) = match rest.split_once('.') {
        Some((uid, n)) if dir == Path::new("/tmp") && digits(uid) && digits(n) => {
            (format!("cantal.{uid}"), n)
        }
        None if digits(rest) => ("cantal".to_string(), rest),
        _ => return None,
    };
    if pid.is_some_and(|pid| number.parse::<u32>().ok() != Some(pid)) {
        return None;
    }
    Some(dir.join(kept).to_string_lossy().into_owned())
}

/// One publisher's identity labels, unsorted: `appname` (when known),
/// `path`, `pid` (when known and asked for).
pub(crate) fn labels(source: &Source, path: String, label_pid: bool) -> Vec<(String, String)> {
    let mut labels = Vec::with_capacity(3);
    if let Some(app) = &source.appname {
        labels.push(("appname".to_string(), app.clone()));
    }
    labels.push(("path".to_string(), path));
    if label_pid && let Some(pid) = source.pid {
        labels.push(("pid".to_string(), pid.to_string()));
    }
    labels
}

/// The `path` label of each publisher in `sources` (with whether it is
/// up): the normalised path of a default path (the process's own path for
/// one in another mount namespace), unless another publisher
/// of the same `appname` would get the same one; then only the first (up
/// before not up, then the smallest pid, then the smallest path) keeps it
/// and the others keep their full path. So a lone restarted process keeps
/// its series, and two running at once never collide.
pub(crate) fn paths(sources: &[(&Source, bool)]) -> Vec<String> {
    let raw = |s: &Source| s.base.to_string_lossy().into_owned();
    // A publication in another mount namespace is named by its own path
    // there (its `/proc/PID/root/...` path changes at each restart).
    let normal: Vec<Option<String>> = sources
        .iter()
        .map(|(s, _)| match &s.inner {
            Some(inner) => Some(inner.to_string_lossy().into_owned()),
            None => normalised_path(&s.base, s.pid),
        })
        .collect();
    let mut order: Vec<usize> = (0..sources.len()).collect();
    order.sort_by_key(|&i| {
        let (s, up) = sources[i];
        (!up, s.pid, raw(s))
    });
    let mut taken: std::collections::HashSet<(Option<&str>, &str)> = Default::default();
    let mut out = vec![String::new(); sources.len()];
    // Full paths first: a normalised path may not take one of those.
    for (i, (s, _)) in sources.iter().enumerate() {
        if normal[i].is_none() {
            out[i] = raw(s);
        }
    }
    let full: std::collections::HashSet<(Option<&str>, String)> = sources
        .iter()
        .zip(&normal)
        .filter(|(_, n)| n.is_none())
        .map(|((s, _), _)| (s.appname.as_deref(), raw(s)))
        .collect();
    for i in order {
        let (s, _) = sources[i];
        let Some(n) = &normal[i] else { continue };
        let app = s.appname.as_deref();
        if !full.contains(&(app, n.clone())) && taken.insert((app, n.as_str())) {
            out[i] = n.clone();
        } else {
            out[i] = raw(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn source(base: &str, pid: Option<u32>, app: Option<&str>) -> Source {
        Source {
            base: PathBuf::from(base),
            pid,
            appname: app.map(String::from),
            inner: None,
        }
    }

    #[test]
    fn default_paths_lose_their_pid() {
        let n = |p: &str, pid| normalised_path(Path::new(p), pid);
        assert_eq!(
            n("/tmp/cantal.1000.4242", Some(4242)).as_deref(),
            Some("/tmp/cantal.1000")
        );
        assert_eq!(
            n("/tmp/cantal.1000.4242", None).as_deref(),
            Some("/tmp/cantal.1000")
        );
        assert_eq!(
            n("/run/user/1000/cantal.77", Some(77)).as_deref(),
            Some("/run/user/1000/cantal")
        );
        // Chosen paths are kept.
        assert_eq!(n("/tmp/cantal.1000.4242", Some(5)), None);
        assert_eq!(n("/run/app/cantal.1000.4242", Some(4242)), None);
        assert_eq!(n("/run/app", Some(1)), None);
        assert_eq!(n("/tmp/cantal.x.1", None), None);
    }

    #[test]
    fn a_restart_keeps_the_path_and_two_at_once_never_share_it() {
        let old = source("/tmp/cantal.1000.10", Some(10), Some("web"));
        let new = source("/tmp/cantal.1000.20", Some(20), Some("web"));
        let other_app = source("/tmp/cantal.1000.30", Some(30), Some("db"));
        assert_eq!(paths(&[(&new, true)]), ["/tmp/cantal.1000"]);
        // The dead one's files are still there: the live one keeps the path.
        assert_eq!(
            paths(&[(&old, false), (&new, true), (&other_app, true)]),
            [
                "/tmp/cantal.1000.10",
                "/tmp/cantal.1000",
                "/tmp/cantal.1000"
            ]
        );
        // Two live ones: the smaller pid keeps it.
        assert_eq!(
            paths(&[(&new, true), (&old, true)]),
            ["/tmp/cantal.1000.20", "/tmp/cantal.1000"]
        );
        // A CANTAL_PATH that is the normalised path of another: never shared.
        let chosen = source("/tmp/cantal.1000", Some(40), Some("web"));
        assert_eq!(
            paths(&[(&new, true), (&chosen, true)]),
            ["/tmp/cantal.1000.20", "/tmp/cantal.1000"]
        );
    }

    #[test]
    fn pid_is_a_label_only_when_asked() {
        let s = source("/run/app", Some(7), Some("web"));
        assert_eq!(labels(&s, "/run/app".into(), false).len(), 2);
        assert_eq!(
            labels(&s, "/run/app".into(), true)[2],
            ("pid".into(), "7".into())
        );
    }
}
