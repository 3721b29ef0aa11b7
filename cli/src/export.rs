//! `cantal export`: every publisher that `scan` finds, read and rendered
//! by [`Cache`] (in `scrape.rs`), served over HTTP by the front in
//! `http/`.

use crate::fail::Result;
use crate::http;
use crate::scrape::{Cache, Config};

/// Serves every publisher over HTTP until SIGTERM or SIGINT.
pub(crate) fn run(settings: http::Settings, config: Config) -> Result<()> {
    crate::privilege::report();
    let mut cache = Cache::new(config);
    // `timeout`: the scraper's X-Prometheus-Scrape-Timeout-Seconds, if
    // any; Cache::scrape takes its margin from it.
    http::serve(
        settings,
        Box::new(move |format, timeout| cache.scrape(format, timeout)),
    )
}
