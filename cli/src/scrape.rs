//! The exporter's scrape: every publisher found, read with `cantal_mmap`'s
//! reader ([`cantal_mmap::read::open_with`]) and rendered for Prometheus.
//!
//! Meta files are immutable, so each parsed [`ParsedMeta`] is kept between
//! scrapes, keyed by the identity (device, inode, size, modification time)
//! that `fstat` gives for the meta file the reader opened: a scrape then
//! opens the meta file (to learn that identity), and reads only the values
//! file, with the reader's checks and its torn-free state re-reads. The
//! reader also checks that the meta file's path still names the file it
//! opened once the values are read; when not, the publication is opened
//! once more.

use crate::fail::Failure;
use crate::health::{self, Stats};
use crate::procfs::{self, ProcessStats};
use crate::prom::{self, Format, Options, Prepared, Scraped};
use crate::scan::{self, Discovery, Found, Status};
use crate::target::Source;
use cantal_mmap::Error;
use cantal_mmap::read::{self, FileId};
use cantal_mmap::read::{OwnedValue, ParsedMeta};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod ahead;
use ahead::ParseJob;

/// What the exporter serves, and where it finds it.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// How samples are rendered.
    pub(crate) options: Options,
    /// Where publishers are found.
    pub(crate) discovery: Discovery,
    /// What one publisher and one scrape may cost.
    pub(crate) limits: Limits,
}

/// `--max-meta-bytes`: 16 MiB.
const MAX_META_BYTES: u64 = 16 << 20;
/// `--max-meta-lines`.
const MAX_META_LINES: usize = 100_000;
/// `--max-values-bytes`: 64 MiB.
const MAX_VALUES_BYTES: u64 = 64 << 20;
/// `--max-layout-bytes`: 256 MiB.
const MAX_LAYOUT_BYTES: u64 = 256 << 20;
/// `--max-publishers`.
const MAX_PUBLISHERS: usize = 2_000;
/// `--max-reparses-per-minute`.
const MAX_REPARSES: usize = 6;
/// `--scrape-timeout`: below Prometheus's default scrape timeout (10 s).
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(8);

/// `--max-parse-threads`.
const MAX_PARSE_THREADS: usize = 4;

/// `--stale-grace`: 5 minutes.
const STALE_GRACE: Duration = Duration::from_secs(300);

/// The bounds of `cantal export` (flags; defaults in cli/README.md).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub(crate) struct Limits {
    /// The largest meta file read per publisher, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = MAX_META_BYTES)]
    pub(crate) max_meta_bytes: u64,
    /// The most lines of a meta file read per publisher.
    #[arg(long, value_name = "N", default_value_t = MAX_META_LINES)]
    pub(crate) max_meta_lines: usize,
    /// The largest values file read per publisher, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = MAX_VALUES_BYTES)]
    pub(crate) max_values_bytes: u64,
    /// The most memory kept for parsed meta files, all publishers
    /// together, in bytes (estimated: 4 bytes per byte of meta text and
    /// 256 per line).
    #[arg(long, value_name = "BYTES", default_value_t = MAX_LAYOUT_BYTES)]
    pub(crate) max_layout_bytes: u64,
    /// The most publishers read in one scrape (the others are
    /// cantal_up{reason="publisher_limit"} 0).
    #[arg(long, value_name = "N", default_value_t = MAX_PUBLISHERS)]
    pub(crate) max_publishers: usize,
    /// The most times one publisher's changed meta file is parsed in a
    /// minute; past that it is cantal_up{reason="reparse_limit"} 0. A meta
    /// file touched but not changed is never parsed again.
    #[arg(long, value_name = "N", default_value_t = MAX_REPARSES)]
    pub(crate) max_reparses_per_minute: usize,
    /// The most threads that parse the meta files of publishers seen for
    /// the first time (all of them in the first scrape), and never more
    /// than the CPUs available; 1 parses in the scrape's own thread.
    #[arg(long, value_name = "N", default_value_t = MAX_PARSE_THREADS)]
    pub(crate) max_parse_threads: usize,
    /// Seconds a scrape may spend reading publishers; those not read in
    /// time are cantal_up{reason="deadline"} 0. A scraper's
    /// X-Prometheus-Scrape-Timeout-Seconds lowers it (less half a second).
    #[arg(long, value_name = "SECONDS", default_value = "8", value_parser = parse_seconds)]
    pub(crate) scrape_timeout: Duration,
    /// Seconds a stale publication (no lock held, no process) is still
    /// shown as cantal_up{reason="stale"} 0 before it is left out.
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_seconds)]
    pub(crate) stale_grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_meta_bytes: MAX_META_BYTES,
            max_meta_lines: MAX_META_LINES,
            max_values_bytes: MAX_VALUES_BYTES,
            max_layout_bytes: MAX_LAYOUT_BYTES,
            max_publishers: MAX_PUBLISHERS,
            max_reparses_per_minute: MAX_REPARSES,
            max_parse_threads: MAX_PARSE_THREADS,
            scrape_timeout: SCRAPE_TIMEOUT,
            stale_grace: STALE_GRACE,
        }
    }
}

impl Limits {
    /// How many threads parse new meta files: `--max-parse-threads`, at
    /// most the CPUs this process may use.
    fn parse_threads(&self) -> usize {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        self.max_parse_threads.min(cpus)
    }
}

/// A finite number of seconds, 0 or more.
fn parse_seconds(s: &str) -> std::result::Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|v| Duration::try_from_secs_f64(v).ok())
        .filter(|d| *d <= Duration::from_secs(86_400))
        .ok_or_else(|| format!("{s:?} is not a number of seconds in [0, 86400]"))
}

/// The time a scrape may take: `limit`, lowered by the scraper's own
/// timeout less half a second (but never below half of it).
fn budget(limit: Duration, scraper: Option<Duration>) -> Duration {
    scraper.map_or(limit, |t| {
        limit.min(t.saturating_sub(Duration::from_millis(500)).max(t / 2))
    })
}

/// The estimated memory of a layout parsed from `meta` of `lines` lines
/// (and its rendering templates).
fn estimate(meta: &[u8], lines: usize) -> u64 {
    meta.len() as u64 * 4 + lines as u64 * 256
}

/// A meta file parsed, and made ready to render for a source.
struct Parsed {
    layout: Arc<ParsedMeta>,
    prepared: Arc<Prepared>,
    /// The source it was prepared for.
    source: Source,
    /// The help side file's identity when it was prepared (the recorder
    /// may rewrite it while the meta file stays).
    help: Option<HelpId>,
    /// The scrape that last used it.
    used: u64,
    /// A hash of the meta text, to recognise it under a new identity (a
    /// meta file touched, or copied unchanged).
    hash: u64,
    /// Its estimated memory.
    bytes: u64,
}

/// What identifies a version of a help side file: device, inode,
/// modification time.
type HelpId = (u64, u64, i64, i64);

fn help_id(base: &Path) -> Option<HelpId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(cantal_mmap::with_suffix(base, ".help")).ok()?;
    Some((m.dev(), m.ino(), m.mtime(), m.mtime_nsec()))
}

/// The exporter's state between scrapes: parsed layouts by meta file
/// identity, and what was logged.
pub(crate) struct Cache {
    config: Config,
    parsed: HashMap<FileId, Parsed>,
    /// The last error logged per base path, so a broken publisher is
    /// logged once per change, not once per scrape.
    logged: HashMap<PathBuf, String>,
    /// Scrapes so far.
    scrapes: u64,
    /// The meta file identity each base path was last read with.
    last: HashMap<PathBuf, FileId>,
    /// When each base path's meta files were parsed in the last minute.
    parses: HashMap<PathBuf, VecDeque<Instant>>,
    /// Keys the hash of meta texts (a random key: a publisher cannot make
    /// two texts collide on purpose).
    hasher: RandomState,
    /// What the last scrape did, with totals.
    stats: Stats,
    /// When each stale publication was first seen stale.
    stale_since: HashMap<PathBuf, Instant>,
    /// The length of the last body.
    body_len: usize,
    /// Why the meta files that [`Cache::parse_ahead`] parsed in this
    /// scrape and could not parse failed, by identity (taken by the read).
    failed_ahead: HashMap<FileId, Down>,
    /// What `--remote-write` did, when it runs.
    pub(crate) push_stats: Option<Arc<health::RemoteWriteStats>>,
}

/// A publisher as read for one scrape.
struct Scrape {
    prepared: Arc<Prepared>,
    readings: Vec<OwnedValue>,
    alive: bool,
}

/// Why a publisher is down: the `reason` label of its `cantal_up`, and
/// the message logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Down {
    /// One word (`foreign_owner`, `stale`, ...).
    pub(crate) reason: &'static str,
    /// What was wrong, naming the file.
    pub(crate) message: String,
}

impl Down {
    fn new(reason: &'static str, message: impl Into<String>) -> Down {
        Down {
            reason,
            message: message.into(),
        }
    }
}

impl From<Error> for Down {
    fn from(e: Error) -> Down {
        let reason = match &e {
            Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => "missing",
            Error::HalfPresent { .. } => "missing",
            Error::NotRegularFile { .. } => "not_regular_file",
            Error::ForeignOwner { .. } => "foreign_owner",
            Error::TooLarge { .. } => "too_large",
            Error::Unstable { .. } => "unstable",
            Error::Decode { .. } | Error::Duplicate { .. } | Error::ValuesTooShort { .. } => {
                "malformed"
            }
            _ => "io",
        };
        Down::new(reason, Failure::from(e).0)
    }
}

/// One publisher's result in a scrape.
type Outcome = Result<Scrape, Down>;

impl Cache {
    /// A cache that has read nothing yet.
    pub(crate) fn new(config: Config) -> Cache {
        Cache {
            config,
            parsed: HashMap::new(),
            logged: HashMap::new(),
            scrapes: 0,
            last: HashMap::new(),
            parses: HashMap::new(),
            hasher: RandomState::new(),
            stats: Stats::default(),
            stale_since: HashMap::new(),
            body_len: 0,
            failed_ahead: HashMap::new(),
            push_stats: None,
        }
    }

    /// Reads one publisher, reusing the layout parsed for its meta file
    /// when that file is unchanged. `seen` holds the meta files already
    /// read in this scrape: a second publisher naming the same file is a
    /// duplicate, not read again.
    fn read(&mut self, found: &Found, seen: &mut HashSet<(u64, u64)>) -> Outcome {
        let source = &found.source;
        let options = self.read_options(found)?;
        for attempt in 0..2 {
            let opened = read::open_with(source.read_path(), &options)?;
            let id = opened.meta_id();
            if attempt == 0 && !seen.insert(id.file()) {
                return Err(Down::new(
                    "duplicate",
                    format!(
                        "{} is the meta file of another publisher",
                        opened.meta_path().display()
                    ),
                ));
            }
            let (layout, prepared) = self.layout(&opened, source, &options)?;
            match opened.read_values(&layout) {
                Ok((readings, alive)) => {
                    return Ok(Scrape {
                        prepared,
                        readings,
                        alive,
                    });
                }
                // Replaced meanwhile: once more, with the new meta file.
                Err(Error::Unstable { .. } | Error::HalfPresent { .. }) if attempt == 0 => {
                    self.parsed.remove(&id);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Down::new(
            "unstable",
            format!("{}: kept changing while read", source.base.display()),
        ))
    }

    /// How the files of `found` are read: its owner check and the size
    /// limits.
    fn read_options(&self, found: &Found) -> Result<read::Options, Down> {
        Ok(found
            .read_options(self.config.discovery.check_owner)
            .map_err(|e| Down::new("owner_unknown", e))?
            .max_meta(self.config.limits.max_meta_bytes)
            .max_values(self.config.limits.max_values_bytes))
    }

    /// The layout of the meta file `opened`, prepared for `source`: from
    /// the cache (by identity, or by content when the same text is there
    /// under another identity), else read and parsed within the limits.
    fn layout(
        &mut self,
        opened: &read::Opened,
        source: &Source,
        options: &read::Options,
    ) -> Result<(Arc<ParsedMeta>, Arc<Prepared>), Down> {
        let id = opened.meta_id();
        let base = &source.base;
        if !self.parsed.contains_key(&id) {
            self.parse(opened, source, options)?;
        }
        self.last.insert(base.clone(), id);
        let Some(parsed) = self.parsed.get_mut(&id) else {
            return Err(Down::new("io", "layout lost"));
        };
        let help = help_id(base);
        if parsed.source != *source || parsed.help != help {
            parsed.prepared = Arc::new(prom::prepare(
                source,
                &parsed.layout,
                options,
                &self.config.options,
            ));
            parsed.source = source.clone();
            parsed.help = help;
        }
        parsed.used = self.scrapes;
        Ok((Arc::clone(&parsed.layout), Arc::clone(&parsed.prepared)))
    }

    /// Reads the meta file `opened` of `base` and keeps its layout under
    /// its identity: moved from the previous identity of `base` when the
    /// text is the same, else parsed, when the limits allow.
    fn parse(
        &mut self,
        opened: &read::Opened,
        source: &Source,
        options: &read::Options,
    ) -> Result<(), Down> {
        if let Some(down) = self.failed_ahead.remove(&opened.meta_id()) {
            return Err(down);
        }
        let Some(job) = self.parse_job(opened, source, options, 0)? else {
            return Ok(());
        };
        let parsed = job.run(&self.config.options)?;
        self.keep(job, parsed);
        Ok(())
    }

    /// Reads the meta file `opened` and checks it against the limits, with
    /// `pending` bytes of layouts being parsed already: what is left to
    /// parse, or `None` when its text is that of the previous identity of
    /// `source.base` (whose layout is now kept under this one).
    fn parse_job(
        &mut self,
        opened: &read::Opened,
        source: &Source,
        options: &read::Options,
        pending: u64,
    ) -> Result<Option<ParseJob>, Down> {
        let base = &source.base;
        let meta = opened.read_meta()?;
        let path = opened.meta_path();
        let lines = cantal_core::decode::meta_lines(&meta);
        self.check_lines(lines, path)?;
        let hash = self.hasher.hash_one(&meta);
        if self.keep_same_text(base, hash, opened.meta_id()) {
            return Ok(None);
        }
        let now = Instant::now();
        let reparse = self.check_reparses(base, path, now)?;
        let bytes = estimate(&meta, lines);
        self.check_memory(bytes.saturating_add(pending), path)?;
        if reparse {
            self.parses.entry(base.clone()).or_default().push_back(now);
        }
        self.stats.parses_total += 1;
        Ok(Some(ParseJob {
            id: opened.meta_id(),
            meta,
            path: path.to_path_buf(),
            source: source.clone(),
            options: options.clone(),
            hash,
            bytes,
        }))
    }

    /// Keeps the layout `parsed` of `job`.
    fn keep(&mut self, job: ParseJob, parsed: (ParsedMeta, Prepared, Option<HelpId>)) {
        let (layout, prepared, help) = parsed;
        self.parsed.insert(
            job.id,
            Parsed {
                layout: Arc::new(layout),
                prepared: Arc::new(prepared),
                source: job.source,
                help,
                used: self.scrapes,
                hash: job.hash,
                bytes: job.bytes,
            },
        );
    }

    /// `--max-meta-lines`: the meta text of `path`, of `lines` lines, has
    /// no more.
    fn check_lines(&self, lines: usize, path: &Path) -> Result<(), Down> {
        let max = self.config.limits.max_meta_lines;
        if lines > max {
            return Err(Down::new(
                "too_large",
                format!(
                    "{}: {lines} lines, more than the limit of {max}",
                    path.display()
                ),
            ));
        }
        Ok(())
    }

    /// The same text under a new identity `id`: keeps the layout of the
    /// previous identity of `base` under `id` (true), else changes nothing.
    fn keep_same_text(&mut self, base: &Path, hash: u64, id: read::FileId) -> bool {
        let Some(old) = self.last.get(base).copied() else {
            return false;
        };
        let Some((old, parsed)) = self.parsed.remove_entry(&old) else {
            return false;
        };
        if parsed.hash == hash {
            self.parsed.insert(id, parsed);
            true
        } else {
            self.parsed.insert(old, parsed);
            false
        }
    }

    /// `--max-reparses-per-minute`: whether parsing `base` now is a
    /// re-parse (its first parse is not), or an error when it has been
    /// re-parsed that often in the last minute already.
    fn check_reparses(&mut self, base: &Path, path: &Path, now: Instant) -> Result<bool, Down> {
        let max = self.config.limits.max_reparses_per_minute;
        let times = self.parses.entry(base.to_path_buf()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            times.pop_front();
        }
        let reparse = self.last.contains_key(base);
        if reparse && times.len() >= max {
            return Err(Down::new(
                "reparse_limit",
                format!(
                    "{}: changed more than {max} times in a minute",
                    path.display()
                ),
            ));
        }
        Ok(reparse)
    }

    /// `--max-layout-bytes`: a new layout of about `bytes` fits beside the
    /// ones kept.
    fn check_memory(&self, bytes: u64, path: &Path) -> Result<(), Down> {
        let max = self.config.limits.max_layout_bytes;
        let kept: u64 = self.parsed.values().map(|p| p.bytes).sum();
        if kept.saturating_add(bytes) > max {
            return Err(Down::new(
                "memory_limit",
                format!(
                    "{}: its layout (about {bytes} bytes) would pass --max-layout-bytes {max}",
                    path.display()
                ),
            ));
        }
        Ok(())
    }

    /// Logs `error` for `base` unless it is what was logged last time.
    fn log(&mut self, base: &Path, error: Option<&str>) {
        match error {
            Some(e) => {
                if self.logged.get(base).map(String::as_str) != Some(e) {
                    eprintln!("cantal export: skipping {}: {e}", base.display());
                    self.logged.insert(base.to_path_buf(), e.to_string());
                }
            }
            None => {
                self.logged.remove(base);
            }
        }
    }

    /// One scrape: every publisher found, rendered in `format`, then the
    /// exporter's own series. `timeout` is the scraper's
    /// (`X-Prometheus-Scrape-Timeout-Seconds`), when it sent one: it lowers
    /// the deadline (see [`Limits::scrape_timeout`]).
    pub(crate) fn scrape(&mut self, format: Format, timeout: Option<Duration>) -> String {
        let started = Instant::now();
        let deadline = started + budget(self.config.limits.scrape_timeout, timeout);
        let sources = scan::discover(&self.config.discovery);
        self.scrape_until(sources, format, started, deadline)
    }

    /// One scrape of `sources`, rendered, with the default deadline.
    pub(crate) fn scrape_sources(&mut self, sources: Vec<Found>, format: Format) -> String {
        let started = Instant::now();
        let deadline = started + self.config.limits.scrape_timeout;
        self.scrape_until(sources, format, started, deadline)
    }

    /// One scrape of `sources`: those not read by `deadline` are down.
    fn scrape_until(
        &mut self,
        sources: Vec<Found>,
        format: Format,
        started: Instant,
        deadline: Instant,
    ) -> String {
        self.scrapes += 1;
        let discovered: HashSet<PathBuf> = sources.iter().map(|f| f.source.base.clone()).collect();
        // A stale publication that is gone is forgotten; one left out
        // because it was stale too long is remembered.
        self.stale_since.retain(|base, _| discovered.contains(base));
        self.parse_ahead(&sources, deadline);
        let mut seen = HashSet::new();
        let mut results: Vec<(Source, Outcome)> = Vec::with_capacity(sources.len());
        for (i, found) in sources.into_iter().enumerate() {
            let outcome = if i >= self.config.limits.max_publishers {
                Err(Down::new(
                    "publisher_limit",
                    format!("more than {} publishers", self.config.limits.max_publishers),
                ))
            } else if Instant::now() >= deadline {
                Err(Down::new(
                    "deadline",
                    "not read before the scrape's deadline",
                ))
            } else {
                self.read(&found, &mut seen)
            };
            let source = found.source;
            let outcome = outcome.and_then(|read| {
                if scan::status(&source, read.alive) == Status::Stale {
                    Err(Down::new("stale", "stale: no process holds it"))
                } else {
                    Ok(read)
                }
            });
            if self.expired(&source, &outcome) {
                continue;
            }
            self.log(
                &source.base,
                outcome.as_ref().err().map(|d| d.message.as_str()),
            );
            results.push((source, outcome));
        }
        self.forget(&results);
        self.count(&results, started.elapsed());
        let processes = self.processes(&results);
        let extra = self.extra_labels(&results);
        let scraped: Vec<Scraped<'_>> = results
            .iter()
            .zip(processes.into_iter().zip(extra))
            .map(|((source, outcome), (process, extra_labels))| Scraped {
                source,
                up: outcome.is_ok(),
                reason: outcome.as_ref().err().map(|d| d.reason),
                metrics: outcome
                    .as_ref()
                    .ok()
                    .map(|r| (r.prepared.as_ref(), r.readings.as_slice())),
                process,
                extra_labels,
            })
            .collect();
        // Room for a body like the last one, so that a large body is not
        // copied as it grows.
        let room = self.body_len + self.body_len / 8;
        let mut body = prom::render(&scraped, self.config.options, format, room);
        health::render(&mut body, &self.stats, self.push_stats.as_deref(), format);
        self.body_len = body.len();
        body
    }

    /// The `/proc` statistics of each up publisher's process (each pid
    /// read once), unless the `process_*` families are turned off.
    fn processes(&self, results: &[(Source, Outcome)]) -> Vec<Option<ProcessStats>> {
        let mut by_pid: HashMap<u32, Option<ProcessStats>> = HashMap::new();
        results
            .iter()
            .map(|(source, outcome)| {
                let pid = source
                    .pid
                    .filter(|_| outcome.is_ok() && self.config.options.process_metrics)?;
                *by_pid
                    .entry(pid)
                    .or_insert_with(|| procfs::process_stats(pid))
            })
            .collect()
    }

    /// The opt-in identity labels of each publisher whose pid is known
    /// (up or not: its `cantal_up` keeps the same labels either way).
    fn extra_labels(&self, results: &[(Source, Outcome)]) -> Vec<Vec<(String, String)>> {
        let asked = self.config.options.identity;
        results
            .iter()
            .map(|(source, _)| match source.pid {
                Some(pid) if asked.any() => crate::cgroup::labels(pid, asked),
                _ => Vec::new(),
            })
            .collect()
    }

    /// Whether `source` has been stale for longer than `--stale-grace`
    /// (then it is left out of the scrape).
    fn expired(&mut self, source: &Source, outcome: &Outcome) -> bool {
        if !matches!(outcome, Err(down) if down.reason == "stale") {
            self.stale_since.remove(&source.base);
            return false;
        }
        let since = *self
            .stale_since
            .entry(source.base.clone())
            .or_insert_with(Instant::now);
        since.elapsed() >= self.config.limits.stale_grace
    }

    /// Forgets the layouts not used by this scrape, and the publishers
    /// that are gone.
    fn forget(&mut self, results: &[(Source, Outcome)]) {
        let now = self.scrapes;
        self.parsed.retain(|_, parsed| parsed.used == now);
        self.failed_ahead.clear();
        let bases: HashSet<&PathBuf> = results.iter().map(|(s, _)| &s.base).collect();
        self.logged.retain(|base, _| bases.contains(base));
        self.last.retain(|base, _| bases.contains(base));
        self.parses.retain(|base, _| bases.contains(base));
    }

    /// Counts this scrape in the exporter's own series.
    fn count(&mut self, results: &[(Source, Outcome)], duration: Duration) {
        let stats = &mut self.stats;
        stats.duration = duration;
        stats.seen = results.len();
        stats.read = results.iter().filter(|(_, o)| o.is_ok()).count();
        stats.refused.clear();
        for (_, outcome) in results {
            if let Err(down) = outcome {
                *stats.refused.entry(down.reason).or_default() += 1;
                if !matches!(down.reason, "stale" | "duplicate") {
                    stats.errors_total += 1;
                }
            }
        }
        stats.layout_bytes = self.parsed.values().map(|p| p.bytes).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines() {
        let s = Duration::from_secs;
        assert_eq!(budget(s(8), None), s(8));
        // Prometheus's 10 s: 9.5 s, but not above the limit.
        assert_eq!(budget(s(8), Some(s(10))), s(8));
        assert_eq!(budget(s(30), Some(s(10))), Duration::from_millis(9_500));
        // A short timeout: half of it.
        assert_eq!(
            budget(s(8), Some(Duration::from_millis(600))),
            Duration::from_millis(300)
        );
        assert_eq!(parse_seconds("0"), Ok(Duration::ZERO));
        assert_eq!(parse_seconds("2.5"), Ok(Duration::from_millis(2_500)));
        for bad in ["-1", "nan", "inf", "x", "100000"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn estimates() {
        assert_eq!(estimate(b"", 1), 256);
        let meta = b"counter 8: {}\ncounter 8: {}";
        assert_eq!(
            estimate(meta, cantal_core::decode::meta_lines(meta)),
            27 * 4 + 2 * 256
        );
    }
}
