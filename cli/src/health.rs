//! The exporter's own series, `cantal_exporter_*`, appended to every
//! scrape: how long it took, how many publishers were seen, read and
//! refused (by reason), how many layouts were parsed, how much memory the
//! kept layouts take, and how many read errors there were.

use crate::prom::Format;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What one scrape did, and totals since the exporter started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Time spent reading the publishers of this scrape.
    pub(crate) duration: Duration,
    /// Publishers in this scrape (found, less those stale for longer than
    /// `--stale-grace`).
    pub(crate) seen: usize,
    /// Publishers read and served.
    pub(crate) read: usize,
    /// Publishers not served, by the reason of their `cantal_up`.
    pub(crate) refused: BTreeMap<&'static str, usize>,
    /// Meta files parsed since start.
    pub(crate) parses_total: u64,
    /// Publishers that could not be read (any reason but `stale` and
    /// `duplicate`), summed over all scrapes since start.
    pub(crate) errors_total: u64,
    /// The estimated memory of the kept layouts, in bytes.
    pub(crate) layout_bytes: u64,
}

/// Appends the series of `stats` to the body `out` (before OpenMetrics'
/// `# EOF`).
/// What `--remote-write`'s pusher did (`crate::push`), served as
/// `cantal_exporter_remote_write_*`.
#[derive(Debug, Default)]
pub(crate) struct RemoteWriteStats {
    /// Samples the receiver accepted.
    pub(crate) sent: AtomicU64,
    /// Samples in requests it refused (4xx).
    pub(crate) rejected: AtomicU64,
    /// Samples dropped from the queue (too old, or the queue full).
    pub(crate) dropped: AtomicU64,
    /// Failed attempts (5xx, timeouts, connection errors), each retried.
    pub(crate) failures: AtomicU64,
    /// Bytes queued now.
    pub(crate) queued_bytes: AtomicU64,
}

impl RemoteWriteStats {
    /// Its series, in `format`.
    fn render(&self, out: &mut String, format: Format) {
        let get = |v: &AtomicU64| v.load(Ordering::Relaxed);
        let family = format.counter_family_suffix();
        let samples = "cantal_exporter_remote_write_samples";
        let _ = writeln!(
            out,
            "# HELP {samples}{family} Samples of --remote-write by what became of them\n\
             # TYPE {samples}{family} counter"
        );
        for (result, v) in [
            ("dropped", &self.dropped),
            ("rejected", &self.rejected),
            ("sent", &self.sent),
        ] {
            let _ = writeln!(out, "{samples}_total{{result=\"{result}\"}} {}", get(v));
        }
        let failures = "cantal_exporter_remote_write_failures";
        let _ = writeln!(
            out,
            "# HELP {failures}{family} Failed --remote-write attempts (5xx, timeouts, connection \
             errors), each retried\n\
             # TYPE {failures}{family} counter\n{failures}_total {}",
            get(&self.failures)
        );
        let _ = writeln!(
            out,
            "# HELP cantal_exporter_remote_write_queue_bytes Bytes of requests waiting to be sent\n\
             # TYPE cantal_exporter_remote_write_queue_bytes gauge\n\
             cantal_exporter_remote_write_queue_bytes {}",
            get(&self.queued_bytes)
        );
    }
}

pub(crate) fn render(
    out: &mut String,
    stats: &Stats,
    remote_write: Option<&RemoteWriteStats>,
    format: Format,
) {
    let eof = out.ends_with("# EOF\n");
    if eof {
        out.truncate(out.len() - "# EOF\n".len());
    }
    let gauge = |out: &mut String, name: &str, help: &str, samples: &[(String, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let counter = |out: &mut String, name: &str, help: &str, value: u64| {
        let family = format.counter_family_suffix();
        let _ = writeln!(
            out,
            "# HELP {name}{family} {help}\n# TYPE {name}{family} counter\n{name}_total {value}"
        );
    };
    let plain = |v: String| vec![(String::new(), v)];
    gauge(
        out,
        "cantal_exporter_scrape_duration_seconds",
        "Time the exporter spent reading publishers for this scrape",
        &plain(format!("{:.6}", stats.duration.as_secs_f64())),
    );
    gauge(
        out,
        "cantal_exporter_publishers",
        "Publishers found (state=\"seen\") and served (state=\"read\") in this scrape",
        &[
            ("{state=\"read\"}".into(), stats.read.to_string()),
            ("{state=\"seen\"}".into(), stats.seen.to_string()),
        ],
    );
    let refused: Vec<(String, String)> = stats
        .refused
        .iter()
        .map(|(reason, n)| (format!("{{reason=\"{reason}\"}}"), n.to_string()))
        .collect();
    gauge(
        out,
        "cantal_exporter_publishers_refused",
        "Publishers not served in this scrape, by the reason of their cantal_up",
        &refused,
    );
    gauge(
        out,
        "cantal_exporter_layout_bytes",
        "Estimated memory of the parsed meta files the exporter keeps",
        &plain(stats.layout_bytes.to_string()),
    );
    counter(
        out,
        "cantal_exporter_layout_parses",
        "Meta files parsed since the exporter started",
        stats.parses_total,
    );
    counter(
        out,
        "cantal_exporter_errors",
        "Publishers that could not be read, summed over all scrapes",
        stats.errors_total,
    );
    if let Some(push) = remote_write {
        push.render(out, format);
    }
    if eof {
        out.push_str("# EOF\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats() {
        let mut stats = Stats {
            seen: 3,
            read: 1,
            parses_total: 4,
            ..Stats::default()
        };
        stats.refused.insert("stale", 2);
        let mut text = String::from("x 1\n");
        render(&mut text, &stats, None, Format::Prometheus);
        assert!(text.starts_with("x 1\n# HELP cantal_exporter_scrape_duration_seconds "));
        assert!(text.contains("\ncantal_exporter_publishers{state=\"seen\"} 3\n"));
        assert!(text.contains("\ncantal_exporter_publishers_refused{reason=\"stale\"} 2\n"));
        assert!(text.contains(
            "# TYPE cantal_exporter_layout_parses_total counter\ncantal_exporter_layout_parses_total 4\n"
        ));
        let mut om = String::from("x 1\n# EOF\n");
        render(&mut om, &stats, None, Format::OpenMetrics);
        assert!(
            om.ends_with("cantal_exporter_errors_total 0\n# EOF\n"),
            "{om}"
        );
        assert!(om.contains("# TYPE cantal_exporter_layout_parses counter\n"));
        assert_eq!(om.matches("# EOF").count(), 1);
    }

    #[test]
    fn remote_write_series_in_both_formats() {
        let push = RemoteWriteStats::default();
        push.sent.store(7, Ordering::Relaxed);
        push.failures.store(2, Ordering::Relaxed);
        let mut text = String::new();
        render(
            &mut text,
            &Stats::default(),
            Some(&push),
            Format::Prometheus,
        );
        assert!(
            text.contains(
                "\n# TYPE cantal_exporter_remote_write_samples_total counter\n\
                 cantal_exporter_remote_write_samples_total{result=\"dropped\"} 0\n"
            ),
            "{text}"
        );
        assert!(text.contains("\ncantal_exporter_remote_write_samples_total{result=\"sent\"} 7\n"));
        assert!(text.contains(
            "# TYPE cantal_exporter_remote_write_failures_total counter\n\
             cantal_exporter_remote_write_failures_total 2\n"
        ));
        // Every line starts with a name or `#`: no stray indentation.
        assert!(
            text.lines().all(|l| !l.starts_with(char::is_whitespace)),
            "{text}"
        );
        let mut om = String::from("# EOF\n");
        render(&mut om, &Stats::default(), Some(&push), Format::OpenMetrics);
        assert!(
            om.contains("# TYPE cantal_exporter_remote_write_samples counter\n"),
            "{om}"
        );
        assert!(
            om.ends_with("cantal_exporter_remote_write_queue_bytes 0\n# EOF\n"),
            "{om}"
        );
    }
}
