//! `cantal export`: every publisher that `scan` finds, read and rendered
//! by [`Cache`] (in `scrape.rs`), served over HTTP by the front in
//! `http/`.

use crate::fail::Result;
use crate::http;
use crate::push;
use crate::scrape::{Cache, Config};
use std::sync::{Arc, Mutex, PoisonError};

/// Serves every publisher over HTTP until SIGTERM or SIGINT, and pushes
/// them to a remote-write receiver when `remote_write` names one.
pub(crate) fn run(
    settings: http::Settings,
    config: Config,
    remote_write: &push::Flags,
) -> Result<()> {
    crate::privilege::report();
    let stats = Arc::new(push::Stats::default());
    let mut cache = Cache::new(config);
    if remote_write.url.is_some() {
        cache.push_stats = Some(Arc::clone(&stats));
    }
    // One cache for both: the HTTP front and the pusher scrape in turn.
    let cache = Arc::new(Mutex::new(cache));
    if let Some(target) = remote_write.url.clone() {
        push::start(remote_write, target, Arc::clone(&cache), stats)?;
    }
    // `timeout`: the scraper's X-Prometheus-Scrape-Timeout-Seconds, if
    // any; Cache::scrape takes its margin from it.
    http::serve(
        settings,
        Box::new(move |format, timeout| {
            cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .scrape(format, timeout)
        }),
    )
}
