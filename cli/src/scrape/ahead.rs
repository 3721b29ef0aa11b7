//! Parsing ahead: the meta files of publishers a scrape has never seen
//! (all of them in the first scrape) parsed on several threads before the
//! scrape reads its publishers one by one (see [`Cache::parse_ahead`]).

use super::{Cache, Down, HelpId, help_id};
use crate::prom::{self, Options, Prepared};
use crate::scan::Found;
use crate::target::Source;
use cantal_mmap::read::{self, FileId, ParsedMeta};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

/// A meta file read and checked, to parse (see [`Cache::parse_job`]).
pub(super) struct ParseJob {
    /// The meta file's identity.
    pub(super) id: FileId,
    pub(super) meta: Vec<u8>,
    pub(super) path: PathBuf,
    pub(super) source: Source,
    /// How the help side file is read.
    pub(super) options: read::Options,
    pub(super) hash: u64,
    pub(super) bytes: u64,
}

impl ParseJob {
    /// Parses the meta text and prepares it for rendering with `options`
    /// (reading the help side file): what [`Cache::keep`] keeps.
    pub(super) fn run(
        &self,
        options: &Options,
    ) -> Result<(ParsedMeta, Prepared, Option<HelpId>), Down> {
        let layout = ParsedMeta::parse(&self.meta, &self.path)?;
        let help = help_id(&self.source.base);
        let prepared = prom::prepare(&self.source, &layout, &self.options, options);
        Ok((layout, prepared, help))
    }
}

impl Cache {
    /// Before a scrape reads its publishers one by one: parses the meta
    /// files of those never seen before (a first scrape, new processes) on
    /// up to `--max-parse-threads` threads, and keeps their layouts, or
    /// why they failed, for the reads that follow. Any other publisher,
    /// and any error before the parse (a file that cannot be opened, a
    /// limit), is left to the read, which reports it.
    pub(super) fn parse_ahead(&mut self, sources: &[Found], deadline: Instant) {
        if self.config.limits.max_parse_threads < 2 {
            return;
        }
        let mut jobs = Vec::new();
        // The meta files already taken (several publishers may name one).
        let mut queued = HashSet::new();
        let mut pending = 0u64;
        let max = self.config.limits.max_publishers;
        for found in sources.iter().take(max) {
            if Instant::now() >= deadline {
                break;
            }
            let source = &found.source;
            if self.last.contains_key(&source.base) {
                continue;
            }
            let Ok(options) = self.read_options(found) else {
                continue;
            };
            let Ok(opened) = read::open_with(source.read_path(), &options) else {
                continue;
            };
            let id = opened.meta_id();
            if self.parsed.contains_key(&id) || queued.contains(&id) {
                continue;
            }
            if let Ok(Some(job)) = self.parse_job(&opened, source, &options, pending) {
                pending = pending.saturating_add(job.bytes);
                queued.insert(id);
                jobs.push(job);
            }
        }
        if jobs.is_empty() {
            return;
        }
        // Only now: it reads the process's cgroup files.
        let threads = self.config.limits.parse_threads();
        let options = self.config.options;
        let parsed = crate::workers::map(jobs, threads, |job| {
            let parsed = job.run(&options);
            (job, parsed)
        });
        for (job, parsed) in parsed {
            match parsed {
                Ok(parsed) => self.keep(job, parsed),
                Err(down) => {
                    self.failed_ahead.insert(job.id, down);
                }
            }
        }
    }
}
