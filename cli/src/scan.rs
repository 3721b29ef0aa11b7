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

use crate::fail::{Failure, Result};
use crate::json_lines;
use crate::owner::{self, Origin, OwnerCheck};
use crate::procfs;
use crate::read::write_stdout;
use crate::select::{self, Rule};
use crate::table::{Align, Cell, Column, Fit, Table};
use crate::target::{self, Source};
use cantal_mmap::read;
use cantal_mmap::with_suffix;
use std::collections::BTreeMap;
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
    /// When to read a publication only if its files belong to the user
    /// who published it (see SECURITY.md): auto (when running as root or
    /// with CAP_DAC_READ_SEARCH), always, never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = OwnerCheck::Auto)]
    pub(crate) check_owner: OwnerCheck,
    /// Keep only publishers matching one of these rules, KEY=GLOB with
    /// KEY appname, user (name or uid) or path; `*` is any run of
    /// characters, `?` one. Repeatable.
    #[arg(long, value_name = "KEY=GLOB", value_parser = select::parse_rule)]
    pub(crate) include: Vec<Rule>,
    /// Leave out publishers matching any of these rules (as --include).
    /// Repeatable.
    #[arg(long, value_name = "KEY=GLOB", value_parser = select::parse_rule)]
    pub(crate) exclude: Vec<Rule>,
}

/// A publication found, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// Where, and who publishes it.
    pub(crate) source: Source,
    /// How it was found: what the ownership rule asks of its files.
    pub(crate) origin: Origin,
}

impl Found {
    /// The reader's options for this publication under `check`: the
    /// owner its files must have (see `owner.rs`), or why it cannot be
    /// told.
    pub(crate) fn read_options(
        &self,
        check: OwnerCheck,
    ) -> std::result::Result<read::Options, String> {
        // A publication in another mount namespace is read inside its root.
        let options = read::Options::new().root(self.source.root());
        if check.applies() {
            Ok(options.owner(Some(owner::required(&self.source, self.origin)?)))
        } else {
            Ok(options)
        }
    }
}

/// Every publisher found, by base path.
pub(crate) fn discover(how: &Discovery) -> Vec<Found> {
    let mut found: BTreeMap<PathBuf, Found> = BTreeMap::new();
    let add = |found: &mut BTreeMap<PathBuf, Found>, source: Source, origin| {
        found
            .entry(source.base.clone())
            .or_insert(Found { source, origin });
    };
    if !how.no_proc {
        for source in from_proc(how) {
            add(&mut found, source, Origin::Process);
        }
    }
    if !how.no_default_dirs {
        let mut dirs = vec![PathBuf::from("/tmp")];
        if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
            dirs.insert(0, PathBuf::from(dir));
        }
        for dir in dirs {
            for stem in meta_stems(&dir) {
                let Some((_, pid)) = target::default_name(&stem) else {
                    continue;
                };
                if !how.pids.is_empty() && !how.pids.contains(&pid) {
                    continue;
                }
                let source = Source {
                    base: dir.join(&stem),
                    pid: Some(pid),
                    appname: None,
                    inner: None,
                };
                add(&mut found, source, Origin::DefaultDir);
            }
        }
    }
    for dir in &how.dirs {
        for stem in meta_stems(dir) {
            let source = Source {
                base: dir.join(&stem),
                pid: None,
                appname: None,
                inner: None,
            };
            add(&mut found, source, Origin::Dir);
        }
    }
    found
        .into_values()
        .filter(|f| select::keeps(&f.source, &how.include, &how.exclude))
        .collect()
}

/// The publications that processes name in `/proc` (every process, or
/// those of `--pid`), lowest pid first.
fn from_proc(how: &Discovery) -> Vec<Source> {
    let mut found = Vec::new();
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
            Some(base) => target::named_by(pid, base, env.appname),
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
        found.push(source);
    }
    found
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
    for found in discover(how) {
        let loaded = found
            .read_options(how.check_owner)
            .map_err(Failure)
            .and_then(|options| {
                Ok(cantal_mmap::read::load_with(
                    found.source.read_path(),
                    &options,
                )?)
            });
        let source = found.source;
        let (metrics, status) = match loaded {
            Ok(loaded) => (
                Some(loaded.meta.slots().len()),
                status(&source, loaded.alive),
            ),
            Err(e) => (None, Status::Broken(e.0)),
        };
        rows.push((source, metrics, status));
    }
    let out = if as_json {
        json_rows(&rows)
    } else {
        table_rows(&rows)
    };
    write_stdout(&out);
    Ok(())
}

/// One row of `scan`: a publisher, its metric count when read, its status.
type Row = (Source, Option<usize>, Status);

/// The rows as JSON lines: `{"pid", "appname", "path", "metrics",
/// "status"}`, plus `"error"` for a broken one.
fn json_rows(rows: &[Row]) -> String {
    #[derive(serde::Serialize)]
    struct JsonRow<'a> {
        pid: Option<u32>,
        appname: Option<&'a str>,
        path: std::borrow::Cow<'a, str>,
        metrics: Option<usize>,
        status: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
    }
    let mut out = String::new();
    let records = rows.iter().map(|(source, metrics, status)| JsonRow {
        pid: source.pid,
        appname: source.appname.as_deref(),
        path: source.base.to_string_lossy(),
        metrics: *metrics,
        status: status.word(),
        error: match status {
            Status::Broken(e) => Some(e.as_str()),
            _ => None,
        },
    });
    json_lines::push_lines(&mut out, records);
    out
}

/// The rows as an aligned table with a header (as wide as its cells).
fn table_rows(rows: &[Row]) -> String {
    let column = |header| Column {
        header,
        align: Align::Left,
        fit: Fit::Keep,
    };
    let mut table = Table::new(&["PID", "APPNAME", "METRICS", "PATH", "STATUS"].map(column));
    for (source, metrics, status) in rows {
        table.push(vec![
            Cell::new(source.pid.map_or("-".into(), |p| p.to_string())),
            Cell::new(source.appname.as_deref().unwrap_or("-")),
            Cell::new(metrics.map_or("-".into(), |n| n.to_string())),
            Cell::new(display(&source.base)),
            Cell::new(match status {
                Status::Broken(e) => format!("broken: {e}"),
                s => s.word().into(),
            }),
        ]);
    }
    table.render(None)
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
