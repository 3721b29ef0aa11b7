//! [`Settings`]: what `cantal export`'s flags say about its HTTP front.

use std::path::PathBuf;
use std::time::Duration;

/// The HTTP front's configuration, with its limits.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `HOST:PORT`, `[V6]:PORT`, `NAME:PORT` or `:PORT` (every address).
    pub(crate) listen: String,
    /// The path that serves the metrics (`/metrics`).
    pub(crate) telemetry_path: String,
    /// The exporter-toolkit web configuration file (TLS, basic auth).
    pub(crate) web_config: Option<PathBuf>,
    /// Connections served at once; more are answered 503 and closed.
    pub(crate) max_connections: usize,
    /// The longest request line plus headers, in bytes.
    pub(crate) max_header_bytes: usize,
    /// Time allowed to receive a request's line and headers (and the TLS
    /// handshake), from its first poll.
    pub(crate) header_timeout: Duration,
    /// A connection that sends nothing for this long is closed.
    pub(crate) idle_timeout: Duration,
    /// A write that makes no progress for this long closes the connection.
    pub(crate) write_timeout: Duration,
}

/// How long in-flight requests may take to finish after SIGTERM.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Scrapes waiting for the scrape thread; more are answered 503.
pub(crate) const SCRAPE_QUEUE: usize = 8;
