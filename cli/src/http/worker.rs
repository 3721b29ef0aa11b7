//! The scrape thread, the front's own counters, and the fatal-error
//! signal.
//!
//! One thread runs every scrape, one at a time, from a bounded queue
//! (a full queue is answered 503), renders the front's counters after the
//! scrape body and compresses it when asked, so the runtime thread never
//! blocks on a scrape.

use crate::prom::Format;
use bytes::Bytes;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};

/// The scrape: renders every publisher in `Format`, given the scraper's
/// timeout (`X-Prometheus-Scrape-Timeout-Seconds`) when it sent one.
pub(crate) type Scrape = Box<dyn FnMut(Format, Option<Duration>) -> String + Send>;

/// One scrape asked of the thread.
pub(crate) struct Job {
    pub(crate) format: Format,
    pub(crate) gzip: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) reply: oneshot::Sender<Bytes>,
}

/// The status codes counted by [`Stats`].
pub(crate) const CODES: [u16; 7] = [200, 400, 401, 404, 405, 500, 503];

/// The front's counters, served after every scrape body.
#[derive(Default)]
pub(crate) struct Stats {
    requests: [AtomicU64; CODES.len()],
    pub(crate) accepted: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) accept_errors: AtomicU64,
}

impl Stats {
    /// Counts an answer with status `code`.
    pub(crate) fn answered(&self, code: u16) {
        if let Some(i) = CODES.iter().position(|&c| c == code) {
            self.requests[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counters as metric families in `format`, appended to `body`
    /// (before OpenMetrics' `# EOF`).
    pub(crate) fn append(&self, body: &mut String, format: Format) {
        let eof = format == Format::OpenMetrics && body.ends_with("# EOF\n");
        if eof {
            body.truncate(body.len() - "# EOF\n".len());
        }
        let family = |body: &mut String, name: &str, help: &str| {
            let typed = match format {
                Format::OpenMetrics => name.strip_suffix("_total").unwrap_or(name),
                Format::Prometheus => name,
            };
            body.push_str(&format!("# HELP {typed} {help}\n# TYPE {typed} counter\n"));
        };
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let name = "cantal_exporter_http_requests_total";
        family(
            body,
            name,
            "HTTP requests answered by the exporter, by status code.",
        );
        for (code, count) in CODES.iter().zip(&self.requests) {
            body.push_str(&format!("{name}{{code=\"{code}\"}} {}\n", load(count)));
        }
        let name = "cantal_exporter_http_connections_total";
        family(
            body,
            name,
            "TCP connections accepted, and refused over --web.max-connections.",
        );
        body.push_str(&format!(
            "{name}{{result=\"accepted\"}} {}\n",
            load(&self.accepted)
        ));
        body.push_str(&format!(
            "{name}{{result=\"refused\"}} {}\n",
            load(&self.refused)
        ));
        let name = "cantal_exporter_http_accept_errors_total";
        family(
            body,
            name,
            "Failed accept calls (such as EMFILE), survived with back-off.",
        );
        body.push_str(&format!("{name} {}\n", load(&self.accept_errors)));
        if eof {
            body.push_str("# EOF\n");
        }
    }
}

/// A fatal error of a part of the front: the server stops and exits 1.
#[derive(Default)]
pub(crate) struct Fatal {
    message: Mutex<Option<String>>,
    /// Woken when the message is set.
    pub(crate) notify: Notify,
}

impl Fatal {
    /// Records `message` (the first one wins) and wakes the server.
    pub(crate) fn raise(&self, message: String) {
        if let Ok(mut m) = self.message.lock() {
            m.get_or_insert(message);
        }
        self.notify.notify_one();
    }

    /// The message raised, if any.
    pub(crate) fn message(&self) -> Option<String> {
        self.message.lock().ok().and_then(|m| m.clone())
    }
}

/// gzip of `body`, at the fastest level (a scrape body compresses well
/// anyway, and the scrape thread stays free).
fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

/// Starts the scrape thread, which ends when every sender is dropped.
/// When the thread dies (a panicking scrape), `fatal` is raised.
pub(crate) fn spawn(
    mut scrape: Scrape,
    stats: std::sync::Arc<Stats>,
    fatal: std::sync::Arc<Fatal>,
    queue: usize,
) -> std::io::Result<mpsc::Sender<Job>> {
    let (tx, mut rx) = mpsc::channel::<Job>(queue);
    std::thread::Builder::new()
        .name("cantal-scrape".into())
        .spawn(move || {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                while let Some(job) = rx.blocking_recv() {
                    let mut body = scrape(job.format, job.timeout);
                    stats.append(&mut body, job.format);
                    let bytes = if job.gzip {
                        Bytes::from(gzip(body.as_bytes()))
                    } else {
                        Bytes::from(body)
                    };
                    let _ = job.reply.send(bytes);
                }
            }));
            if run.is_err() {
                fatal.raise("the scrape thread panicked".into());
            }
        })?;
    Ok(tx)
}

#[cfg(test)]
mod tests {
    use super::{Format, Stats, gzip};
    use std::io::Read;

    #[test]
    fn counters_in_both_formats() {
        let stats = Stats::default();
        stats.answered(200);
        stats.answered(200);
        stats.answered(401);
        let mut text = String::from("cantal_up 1\n");
        stats.append(&mut text, Format::Prometheus);
        assert!(text.starts_with("cantal_up 1\n"));
        assert!(text.contains("# TYPE cantal_exporter_http_requests_total counter\n"));
        assert!(text.contains("cantal_exporter_http_requests_total{code=\"200\"} 2\n"));
        assert!(text.contains("cantal_exporter_http_requests_total{code=\"401\"} 1\n"));
        let mut om = String::from("cantal_up 1\n# EOF\n");
        stats.append(&mut om, Format::OpenMetrics);
        assert!(om.ends_with("# EOF\n") && om.matches("# EOF").count() == 1);
        assert!(om.contains("# TYPE cantal_exporter_http_requests counter\n"));
    }

    #[test]
    fn gzip_round_trip() {
        let body = "cantal_up 1\n".repeat(1000);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gzip(body.as_bytes())[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }
}
