//! What the benchmarks drive: the exporter's scrape of given publishers,
//! without discovery or HTTP. Not a stable API.

use crate::owner::Origin;
use crate::prom::{Format, Options};
use crate::scan::{Discovery, Found};
use crate::scrape::{Cache, Config};
use crate::target::Source;
use std::path::PathBuf;

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
        let config = Config {
            options: Options {
                label_pid: true,
                ..Options::DEFAULT
            },
            discovery: Discovery::default(),
        };
        Exporter {
            cache: Cache::new(config),
        }
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
                },
                origin: Origin::Process,
            })
            .collect();
        self.cache.scrape_sources(sources, Format::Prometheus)
    }
}
