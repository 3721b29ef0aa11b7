//! `cantal scan`: find the publishers on this machine.
//!
//! Two sources, merged by base path:
//!
//! 1. Processes whose `/proc/<pid>/environ` has `CANTAL_PATH` (and maybe
//!    `CANTAL_APPNAME`), as the Cantal agent finds them. Processes whose
//!    environment we may not read are skipped silently; those whose files
//!    do not exist (e.g. children that inherited the variable) are left
//!    out.
//! 2. Files at the reference clients' default paths:
//!    `$XDG_RUNTIME_DIR/cantal.<pid>.meta` and `/tmp/cantal.<uid>.<pid>.meta`.

use crate::fail::Result;
use crate::json;
use crate::load;
use crate::procfs;
use crate::read::write_stdout;
use crate::target::{self, Source, with_suffix};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Where `scan` and `export` look for publications: the hermetic
/// discovery flags shared by both commands.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub(crate) struct Discovery {
    /// Also find publications by their files: every X.meta in DIR (not
    /// recursive) is the publication DIR/X, with no pid unless a process
    /// names it. Repeatable.
    #[arg(long = "dir", value_name = "DIR")]
    pub(crate) dirs: Vec<PathBuf>,
    /// Look only at these processes in /proc (their CANTAL_PATH, else
    /// their default path), and in the default directories only at files
    /// named for these pids. Repeatable.
    #[arg(long = "pid", value_name = "PID", conflicts_with = "no_proc")]
    pub(crate) pids: Vec<u32>,
    /// Do not walk /proc at all.
    #[arg(long)]
    pub(crate) no_proc: bool,
    /// Do not look for files at the default paths
    /// ($XDG_RUNTIME_DIR/cantal.PID, /tmp/cantal.UID.PID).
    #[arg(long)]
    pub(crate) no_default_dirs: bool,
}

/// Every publisher found, by base path.
pub(crate) fn discover(how: &Discovery) -> Vec<Source> {
    let mut found: BTreeMap<PathBuf, Source> = BTreeMap::new();
    if !how.no_proc {
        from_proc(how, &mut found);
    }
    if !how.no_default_dirs {
        let mut dirs = vec![PathBuf::from("/tmp")];
        if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
            dirs.insert(0, PathBuf::from(dir));
        }
        for dir in dirs {
            for stem in meta_stems(&dir) {
                let Some(pid) = default_path_pid(&stem) else {
                    continue;
                };
                if !how.pids.is_empty() && !how.pids.contains(&pid) {
                    continue;
                }
                let base = dir.join(&stem);
                found.entry(base.clone()).or_insert(Source {
                    base,
                    pid: Some(pid),
                    appname: None,
                });
            }
        }
    }
    for dir in &how.dirs {
        for stem in meta_stems(dir) {
            let base = dir.join(&stem);
            found.entry(base.clone()).or_insert(Source {
                base,
                pid: None,
                appname: None,
            });
        }
    }
    found.into_values().collect()
}

/// The publications that processes name in `/proc`: every process, or
/// those of `--pid`.
fn from_proc(how: &Discovery, found: &mut BTreeMap<PathBuf, Source>) {
    let pids = if how.pids.is_empty() {
        procfs::pids()
    } else {
        let mut pids = how.pids.clone();
        pids.sort_unstable();
        pids.dedup();
        pids
    };
    for pid in pids {
        let Ok(env) = procfs::cantal_env(pid) else {
            continue;
        };
        let source = match env.path {
            Some(base) => Source {
                base,
                pid: Some(pid),
                appname: env.appname,
            },
            // A process named by --pid may publish at its default path.
            None if !how.pids.is_empty() && !how.no_default_dirs => match target::by_pid(pid) {
                Ok(source) => source,
                Err(_) => continue,
            },
            None => continue,
        };
        if !with_suffix(&source.base, ".meta").exists()
            && !with_suffix(&source.base, ".values").exists()
        {
            continue;
        }
        // The first (lowest) pid wins; its children inherit the variable.
        found.entry(source.base.clone()).or_insert(source);
    }
}

/// The names without `.meta` of the `*.meta` entries of `dir` (not
/// recursive); nothing when it cannot be listed.
fn meta_stems(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut stems: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            Some(name.to_str()?.strip_suffix(".meta")?.to_string())
        })
        .filter(|stem| !stem.is_empty())
        .collect();
    stems.sort();
    stems
}

/// The pid in a default file name: `cantal.<pid>` or `cantal.<uid>.<pid>`.
fn default_path_pid(stem: &str) -> Option<u32> {
    let rest = stem.strip_prefix("cantal.")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match rest.split_once('.') {
        None if digits(rest) => rest.parse().ok(),
        Some((uid, pid)) if digits(uid) && digits(pid) => pid.parse().ok(),
        _ => None,
    }
}

/// The state of a publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    /// A process holds the values file's lock.
    Alive,
    /// No lock, but its process runs (the reference Python client takes
    /// no lock).
    Running,
    /// No lock and no process: files left behind.
    Stale,
    /// The files could not be read.
    Broken(String),
}

impl Status {
    /// One word.
    pub(crate) fn word(&self) -> &'static str {
        match self {
            Status::Alive => "alive",
            Status::Running => "running",
            Status::Stale => "stale",
            Status::Broken(_) => "broken",
        }
    }
}

/// The status of `source`, given whether its lock is held.
pub(crate) fn status(source: &Source, alive: bool) -> Status {
    if alive {
        Status::Alive
    } else if source.pid.is_some_and(procfs::exists) {
        Status::Running
    } else {
        Status::Stale
    }
}

/// Lists the publishers found.
pub(crate) fn run(how: &Discovery, as_json: bool) -> Result<()> {
    let mut rows = Vec::new();
    for source in discover(how) {
        let (metrics, status) = match load::load(&source.base) {
            Ok(loaded) => (
                Some(loaded.layout.slots().len()),
                status(&source, loaded.alive),
            ),
            Err(e) => (None, Status::Broken(e.0)),
        };
        rows.push((source, metrics, status));
    }
    let mut out = String::new();
    if as_json {
        for (source, metrics, status) in &rows {
            out.push_str("{\"pid\": ");
            match source.pid {
                Some(p) => {
                    let _ = write!(out, "{p}");
                }
                None => out.push_str("null"),
            }
            out.push_str(", \"appname\": ");
            match &source.appname {
                Some(a) => json::string(&mut out, a),
                None => out.push_str("null"),
            }
            out.push_str(", \"path\": ");
            json::string(&mut out, &source.base.to_string_lossy());
            out.push_str(", \"metrics\": ");
            match metrics {
                Some(n) => {
                    let _ = write!(out, "{n}");
                }
                None => out.push_str("null"),
            }
            out.push_str(", \"status\": ");
            json::string(&mut out, status.word());
            if let Status::Broken(e) = status {
                out.push_str(", \"error\": ");
                json::string(&mut out, e);
            }
            out.push_str("}\n");
        }
    } else {
        let header = ["PID", "APPNAME", "METRICS", "PATH", "STATUS"].map(String::from);
        let table: Vec<[String; 5]> = std::iter::once(header)
            .chain(rows.iter().map(|(source, metrics, status)| {
                [
                    source.pid.map_or("-".into(), |p| p.to_string()),
                    source.appname.clone().unwrap_or_else(|| "-".into()),
                    metrics.map_or("-".into(), |n| n.to_string()),
                    display(&source.base),
                    match status {
                        Status::Broken(e) => format!("broken: {e}"),
                        s => s.word().into(),
                    },
                ]
            }))
            .collect();
        let mut width = [0usize; 5];
        for row in &table {
            for (w, cell) in width.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in &table {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.extend(std::iter::repeat_n(
                        ' ',
                        width[i].saturating_sub(cell.chars().count()),
                    ));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    write_stdout(&out);
    Ok(())
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names() {
        assert_eq!(default_path_pid("cantal.123"), Some(123));
        assert_eq!(default_path_pid("cantal.1000.77"), Some(77));
        assert_eq!(default_path_pid("cantal.x"), None);
        assert_eq!(default_path_pid("cantal.1.2.3"), None);
        assert_eq!(default_path_pid("other.1"), None);
    }
}
