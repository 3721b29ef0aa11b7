//! The exporter's scrape: every publisher found, read with `cantal_mmap`'s
//! reader ([`cantal_mmap::read::open_with`]) and rendered for Prometheus.
//!
//! Meta files are immutable, so each parsed [`Layout`] is kept between
//! scrapes, keyed by the identity (device, inode, size, modification time)
//! that `fstat` gives for the meta file the reader opened: a scrape then
//! opens the meta file (to learn that identity), and reads only the values
//! file, with the reader's checks and its torn-free state re-reads. The
//! reader also checks that the meta file's path still names the file it
//! opened once the values are read; when not, the publication is opened
//! once more.

use crate::fail::Failure;
use crate::load::{Layout, Reading};
use crate::prom::{self, Format, Options, Prepared, Scraped};
use crate::scan::{self, Discovery, Found, Status};
use crate::target::Source;
use cantal_mmap::Error;
use cantal_mmap::read::{self, FileId};
use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What the exporter serves, and where it finds it.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// How samples are rendered.
    pub(crate) options: Options,
    /// Where publishers are found.
    pub(crate) discovery: Discovery,
}

/// A meta file parsed, and made ready to render for a source.
struct Parsed {
    layout: Arc<Layout>,
    prepared: Arc<Prepared>,
    /// The source it was prepared for.
    source: Source,
    /// The help side file's identity when it was prepared (the recorder
    /// may rewrite it while the meta file stays).
    help: Option<HelpId>,
    /// The scrape that last used it.
    used: u64,
}

/// What identifies a version of a help side file: device, inode,
/// modification time.
type HelpId = (u64, u64, i64, i64);

fn help_id(base: &Path) -> Option<HelpId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(crate::target::with_suffix(base, ".help")).ok()?;
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
}

/// A publisher as read for one scrape.
struct Scrape {
    prepared: Arc<Prepared>,
    readings: Vec<Reading>,
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
        }
    }

    /// Reads one publisher, reusing the layout parsed for its meta file
    /// when that file is unchanged. `seen` holds the meta files already
    /// read in this scrape: a second publisher naming the same file is a
    /// duplicate, not read again.
    fn read(&mut self, found: &Found, seen: &mut HashSet<(u64, u64)>) -> Outcome {
        let source = &found.source;
        let options = found
            .read_options(self.config.discovery.check_owner)
            .map_err(|e| Down::new("owner_unknown", e))?;
        for attempt in 0..2 {
            let opened = read::open_with(&source.base, &options)?;
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
                Err(Error::Unstable { .. }) if attempt == 0 => {
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

    /// The layout of the meta file `opened`, prepared for `source`: from
    /// the cache, else read and parsed.
    fn layout(
        &mut self,
        opened: &read::Opened,
        source: &Source,
        options: &read::Options,
    ) -> Result<(Arc<Layout>, Arc<Prepared>), Down> {
        let id = opened.meta_id();
        let help = help_id(&source.base);
        if let Some(parsed) = self.parsed.get_mut(&id) {
            if parsed.source != *source || parsed.help != help {
                parsed.prepared = Arc::new(prom::prepare(source, &parsed.layout, options));
                parsed.source = source.clone();
                parsed.help = help;
            }
            parsed.used = self.scrapes;
            return Ok((Arc::clone(&parsed.layout), Arc::clone(&parsed.prepared)));
        }
        let meta = opened.read_meta()?;
        let layout = Arc::new(Layout::parse(&meta, opened.meta_path())?);
        let prepared = Arc::new(prom::prepare(source, &layout, options));
        self.parsed.insert(
            id,
            Parsed {
                layout: Arc::clone(&layout),
                prepared: Arc::clone(&prepared),
                source: source.clone(),
                help,
                used: self.scrapes,
            },
        );
        Ok((layout, prepared))
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

    /// One scrape: every publisher found, rendered in `format`. `timeout`
    /// is the scraper's (`X-Prometheus-Scrape-Timeout-Seconds`), when it
    /// sent one.
    pub(crate) fn scrape(&mut self, format: Format, timeout: Option<Duration>) -> String {
        let _ = timeout;
        let sources = scan::discover(&self.config.discovery);
        self.scrape_sources(sources, format)
    }

    /// One scrape of `sources`, rendered.
    pub(crate) fn scrape_sources(&mut self, sources: Vec<Found>, format: Format) -> String {
        self.scrapes += 1;
        let mut seen = HashSet::new();
        let mut results: Vec<(Source, Outcome)> = Vec::with_capacity(sources.len());
        for found in sources {
            let outcome = self.read(&found, &mut seen);
            let source = found.source;
            let outcome = outcome.and_then(|read| {
                if scan::status(&source, read.alive) == Status::Stale {
                    Err(Down::new("stale", "stale: no process holds it"))
                } else {
                    Ok(read)
                }
            });
            self.log(
                &source.base,
                outcome.as_ref().err().map(|d| d.message.as_str()),
            );
            results.push((source, outcome));
        }
        // Forget layouts and publishers that are gone.
        let now = self.scrapes;
        self.parsed.retain(|_, parsed| parsed.used == now);
        self.logged
            .retain(|base, _| results.iter().any(|(s, _)| &s.base == base));
        let scraped: Vec<Scraped<'_>> = results
            .iter()
            .map(|(source, outcome)| Scraped {
                source,
                up: outcome.is_ok(),
                reason: outcome.as_ref().err().map(|d| d.reason),
                metrics: outcome
                    .as_ref()
                    .ok()
                    .map(|r| (r.prepared.as_ref(), r.readings.as_slice())),
            })
            .collect();
        prom::render(&scraped, self.config.options, format)
    }
}
