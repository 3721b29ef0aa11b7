//! What the benchmarks drive: the exporter's scrape of given publishers,
//! without discovery or HTTP. Not a stable API.

use crate::export::Cache;
use crate::prom::{Format, Options};
use crate::target::Source;
use std::path::PathBuf;

/// An exporter's state between scrapes (its cache of parsed meta files).
#[derive(Default)]
pub struct Exporter {
    cache: Cache,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter").finish_non_exhaustive()
    }
}

impl Exporter {
    /// An exporter that has scraped nothing yet.
    pub fn new() -> Exporter {
        Exporter::default()
    }

    /// One scrape of the publishers at `bases` (all published by process
    /// `pid`), in the Prometheus text format with states: the body a
    /// `GET /metrics` would answer.
    pub fn scrape(&mut self, bases: &[PathBuf], pid: u32) -> String {
        let sources = bases
            .iter()
            .map(|base| Source {
                base: base.clone(),
                pid: Some(pid),
                appname: Some("bench".into()),
            })
            .collect();
        let options = Options {
            label_pid: true,
            ..Options::DEFAULT
        };
        self.cache
            .scrape_sources(sources, options, Format::Prometheus)
    }
}
