//! `cantal export --remote-write URL`: pushing every scrape to a
//! Prometheus remote-write 1.0 receiver, for hosts that Prometheus cannot
//! scrape (behind NAT, short-lived).
//!
//! Every `--remote-write.interval` the exporter scrapes its publishers as
//! for `GET /metrics` (same discovery, selection, ownership rule and
//! limits), turns the samples into time series with the scrape's time
//! ([`wire`]), and queues the compressed request. The queue is sent in
//! order, oldest first. A request the receiver refuses with a 4xx is
//! dropped (retrying cannot help) and counted; a 5xx, a timeout or a
//! connection error keeps it at the head of the queue and retries it after
//! a back-off doubling from 1 s to 30 s. Requests older than
//! `--remote-write.max-age` (or beyond `--remote-write.max-queue-bytes`,
//! the oldest first) are dropped and counted: an outage shorter than the
//! age limit loses nothing.

mod queue;
mod send;
pub(crate) mod wire;

use crate::prom::Format;
use crate::scrape::Cache;
use queue::Queue;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The remote-write flags of `export`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Flags {
    /// Also push every scrape to this Prometheus remote-write receiver
    /// (http:// or https://HOST:PORT/PATH, for example a Prometheus started with
    /// --web.enable-remote-write-receiver: http://prom:9090/api/v1/write).
    #[arg(long = "remote-write", value_name = "URL", value_parser = send::Target::parse)]
    pub(crate) url: Option<send::Target>,
    /// Seconds between two pushed scrapes.
    #[arg(long = "remote-write.interval", value_name = "SECONDS", default_value_t = 15.0,
          value_parser = crate::parse_interval)]
    pub(crate) interval: f64,
    /// Seconds a request may wait in the queue (the receiver down or
    /// failing) before it is dropped.
    #[arg(long = "remote-write.max-age", value_name = "SECONDS", default_value_t = 3600.0,
          value_parser = crate::parse_interval)]
    pub(crate) max_age: f64,
    /// The most bytes of compressed requests queued; beyond, the oldest are
    /// dropped.
    #[arg(long = "remote-write.max-queue-bytes", value_name = "BYTES",
          default_value_t = 256 << 20)]
    pub(crate) max_queue_bytes: u64,
    /// Labels added to every pushed series that has none of that name
    /// (repeatable, NAME=VALUE); default job=cantal and instance=<host name>.
    #[arg(long = "remote-write.label", value_name = "NAME=VALUE", value_parser = parse_label)]
    pub(crate) labels: Vec<(String, String)>,
    /// For an https:// receiver: the PEM file of the certificate
    /// authorities to trust (default: the system's,
    /// /etc/ssl/certs/ca-certificates.crt).
    #[arg(long = "remote-write.ca-file", value_name = "FILE")]
    pub(crate) ca_file: Option<std::path::PathBuf>,
    /// A file holding USER:PASSWORD for HTTP basic auth to the receiver
    /// (read once at start; keep it 0600).
    #[arg(long = "remote-write.basic-auth-file", value_name = "FILE")]
    pub(crate) basic_auth_file: Option<std::path::PathBuf>,
}

/// `NAME=VALUE`, NAME a Prometheus label name.
fn parse_label(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not NAME=VALUE"))?;
    let ok = !name.is_empty()
        && !name.starts_with("__")
        && name
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()));
    if ok {
        Ok((name.to_string(), value.to_string()))
    } else {
        Err(format!(
            "{name:?} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)"
        ))
    }
}

/// What the pusher did, served with the exporter's own series.
pub(crate) use crate::health::RemoteWriteStats as Stats;

/// Starts the pusher thread, scraping through `cache` (shared with the
/// HTTP front). Its errors go to stderr, at most one line per change of
/// error.
pub(crate) fn start(
    flags: &Flags,
    target: send::Target,
    cache: Arc<Mutex<Cache>>,
    stats: Arc<Stats>,
) -> crate::fail::Result<()> {
    let auth = match &flags.basic_auth_file {
        Some(path) => Some(send::basic_auth(path)?),
        None => None,
    };
    let tls = if target.is_tls() {
        let ca = flags
            .ca_file
            .clone()
            .unwrap_or_else(|| send::SYSTEM_CA_FILE.into());
        Some(send::tls_client(&ca)?)
    } else {
        None
    };
    let mut labels = flags.labels.clone();
    for (k, v) in default_labels() {
        if !labels.iter().any(|(name, _)| *name == k) {
            labels.push((k, v));
        }
    }
    let interval = Duration::from_secs_f64(flags.interval);
    let limits = queue::Limits {
        max_age: Duration::from_secs_f64(flags.max_age),
        max_bytes: flags.max_queue_bytes,
    };
    std::thread::Builder::new()
        .name("remote-write".into())
        .spawn(move || {
            let mut pusher = Pusher {
                target,
                tls,
                auth,
                labels,
                queue: Queue::new(limits),
                stats,
                backoff: send::Backoff::new(),
                last_error: None,
            };
            pusher.run(&cache, interval);
        })
        .map_err(|e| {
            crate::fail::Failure(format!("--remote-write: cannot start its thread: {e}"))
        })?;
    Ok(())
}

/// `job=cantal`, `instance=<host name>`.
fn default_labels() -> Vec<(String, String)> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    vec![("job".into(), "cantal".into()), ("instance".into(), host)]
}

/// The pusher's state.
struct Pusher {
    target: send::Target,
    tls: Option<tokio_rustls::TlsConnector>,
    auth: Option<String>,
    labels: Vec<(String, String)>,
    queue: Queue,
    stats: Arc<Stats>,
    backoff: send::Backoff,
    last_error: Option<String>,
}

impl Pusher {
    /// Scrapes every `interval` and sends what is queued, forever.
    fn run(&mut self, cache: &Mutex<Cache>, interval: Duration) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("cantal export: --remote-write stops: cannot start its runtime: {e}");
                return;
            }
        };
        let mut next_scrape = Instant::now();
        loop {
            let now = Instant::now();
            if now >= next_scrape {
                let body = cache
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .scrape(Format::Prometheus, None);
                let series = wire::series(&body, unix_ms(), &self.labels);
                let samples = series.len() as u64;
                let request = wire::encode(&wire::WriteRequest { timeseries: series });
                self.queue.push(request.into(), samples);
                next_scrape = now + interval;
            }
            let dropped = self.queue.expire(Instant::now());
            self.stats.dropped.fetch_add(dropped, Ordering::Relaxed);
            self.send_queued(&runtime);
            self.stats
                .queued_bytes
                .store(self.queue.bytes(), Ordering::Relaxed);
            let wake = match self.backoff.retry_at() {
                Some(at) if !self.queue.is_empty() => at.min(next_scrape),
                _ => next_scrape,
            };
            std::thread::sleep(wake.saturating_duration_since(Instant::now()));
        }
    }

    /// Sends queued requests, oldest first, until the queue is empty or
    /// one must wait for its retry.
    fn send_queued(&mut self, runtime: &tokio::runtime::Runtime) {
        while let Some((body, samples)) = self.queue.front() {
            if self
                .backoff
                .retry_at()
                .is_some_and(|at| Instant::now() < at)
            {
                return;
            }
            let outcome = runtime.block_on(send::post(
                &self.target,
                self.tls.as_ref(),
                self.auth.as_deref(),
                body,
            ));
            match outcome {
                send::Outcome::Accepted => {
                    self.stats.sent.fetch_add(samples, Ordering::Relaxed);
                    self.backoff.reset();
                    self.queue.pop();
                    self.report(None);
                }
                send::Outcome::Refused(why) => {
                    self.stats.rejected.fetch_add(samples, Ordering::Relaxed);
                    self.backoff.reset();
                    self.queue.pop();
                    self.report(Some(format!("refused, {samples} samples dropped: {why}")));
                }
                send::Outcome::Retry(why) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    let wait = self.backoff.fail();
                    self.report(Some(format!("{why}; retrying in {}s", wait.as_secs())));
                    return;
                }
            }
        }
    }

    /// Says on stderr when the error changes (and when it is over).
    fn report(&mut self, error: Option<String>) {
        if error == self.last_error {
            return;
        }
        match &error {
            Some(e) => eprintln!("cantal export: --remote-write {}: {e}", self.target),
            None => eprintln!(
                "cantal export: --remote-write {}: sending again",
                self.target
            ),
        }
        self.last_error = error;
    }
}

/// Now, in milliseconds since the Unix epoch.
fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
