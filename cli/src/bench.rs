//! What the benchmarks (and the exporter's tests) drive: the exporter's
//! scrape of given publishers, or of those its flags find, without HTTP.
//! Not a stable API.

use crate::owner::Origin;
use crate::prom::{Format, Options};
use crate::scan::{Discovery, Found};
use crate::scrape::{Cache, Config, Limits};
use crate::target::Source;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The flags of `cantal export` that [`Exporter::from_args`] takes.
#[derive(Debug, Parser)]
#[command(name = "cantal export")]
struct Flags {
    #[command(flatten)]
    discovery: Discovery,
    #[command(flatten)]
    limits: Limits,
    #[arg(long)]
    no_process_metrics: bool,
    #[command(flatten)]
    identity: crate::cgroup::Asked,
}

/// An exporter's state between scrapes (its cache of parsed meta files).
pub struct Exporter {
    cache: Cache,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter").finish_non_exhaustive()
    }
}

impl Default for Exporter {
    fn default() -> Exporter {
        Exporter::new()
    }
}

impl Exporter {
    /// An exporter that has scraped nothing yet.
    pub fn new() -> Exporter {
        Exporter::with(Discovery::default(), Limits::default(), Options::DEFAULT)
    }

    /// An exporter set up as `cantal export` with `args` (its discovery
    /// flags, limits, `--no-process-metrics` and `--label-unit`,
    /// `--label-container`, `--label-comm`, such as `--pid 42
    /// --max-publishers 10`).
    ///
    /// # Errors
    ///
    /// The usage error, as `cantal export` would print it.
    pub fn from_args(args: &[&str]) -> Result<Exporter, String> {
        let flags =
            Flags::try_parse_from(std::iter::once("cantal export").chain(args.iter().copied()))
                .map_err(|e| e.to_string())?;
        let options = Options {
            process_metrics: !flags.no_process_metrics,
            identity: flags.identity,
            ..Options::DEFAULT
        };
        Ok(Exporter::with(flags.discovery, flags.limits, options))
    }

    /// An exporter with `options`, always with the `pid` label.
    fn with(discovery: Discovery, limits: Limits, options: Options) -> Exporter {
        let config = Config {
            options: Options {
                label_pid: true,
                ..options
            },
            discovery,
            limits,
        };
        Exporter {
            cache: Cache::new(config),
        }
    }

    /// One scrape of the publishers its flags find, in the Prometheus
    /// text format with states; `timeout` as a scraper's
    /// `X-Prometheus-Scrape-Timeout-Seconds`.
    pub fn scrape_found(&mut self, timeout: Option<Duration>) -> String {
        self.cache.scrape(Format::Prometheus, timeout)
    }

    /// One scrape of the publishers at `bases` (all published by process
    /// `pid`), in the Prometheus text format with states: the body a
    /// `GET /metrics` would answer.
    pub fn scrape(&mut self, bases: &[PathBuf], pid: u32) -> String {
        let sources = bases
            .iter()
            .map(|base| Found {
                source: Source {
                    base: base.clone(),
                    pid: Some(pid),
                    appname: Some("bench".into()),
                    inner: None,
                },
                origin: Origin::Process,
            })
            .collect();
        self.cache.scrape_sources(sources, Format::Prometheus)
    }
}

/// What `cantal read --json TARGET` prints for one target (a path or a
/// process id), without writing it to stdout: the files read, the meta
/// parsed, the values read and rendered as JSON lines.
///
/// # Errors
///
/// The message `cantal read` would print.
pub fn read_json(target: &str) -> Result<String, String> {
    let mut out = String::new();
    crate::target::resolve(target)
        .and_then(|source| crate::read::json_of(&source, &mut |chunk| out.push_str(chunk)))
        .map_err(|e| e.to_string())?;
    Ok(out)
}
