//! The standard `process_*` families of every publisher, as the Prometheus
//! client libraries' process collectors name them, from what `/proc` says
//! of the publisher's process ([`ProcessStats`]): a program in any
//! language gets them without a line of code. Labelled with the
//! publisher's identity labels, like its own series; `--no-process-metrics`
//! leaves them out.

use super::{Format, Scraped};
use crate::procfs::ProcessStats;
use std::fmt::Write as _;

/// One family: name (without `_total`), type, help, and its value.
struct Family {
    name: &'static str,
    counter: bool,
    help: &'static str,
    value: fn(&ProcessStats) -> Option<f64>,
}

/// The families, in name order.
const FAMILIES: [Family; 6] = [
    Family {
        name: "process_cpu_seconds",
        counter: true,
        help: "Total user and system CPU time spent in seconds.",
        value: |s| Some(s.cpu_seconds),
    },
    Family {
        name: "process_max_fds",
        counter: false,
        help: "Maximum number of open file descriptors.",
        value: |s| s.max_fds.map(|n| n as f64),
    },
    Family {
        name: "process_open_fds",
        counter: false,
        help: "Number of open file descriptors.",
        value: |s| s.open_fds.map(|n| n as f64),
    },
    Family {
        name: "process_resident_memory_bytes",
        counter: false,
        help: "Resident memory size in bytes.",
        value: |s| Some(s.resident_bytes as f64),
    },
    Family {
        name: "process_start_time_seconds",
        counter: false,
        help: "Start time of the process since unix epoch in seconds.",
        value: |s| Some(s.start_time_seconds),
    },
    Family {
        name: "process_virtual_memory_bytes",
        counter: false,
        help: "Virtual memory size in bytes.",
        value: |s| Some(s.virtual_bytes as f64),
    },
];

/// Writes the `process_*` families of the publishers that have process
/// statistics, each publisher's series with its identity labels.
pub(super) fn render(
    out: &mut String,
    scraped: &[Scraped<'_>],
    identities: &[String],
    format: Format,
) {
    let mut rows: Vec<(&str, &ProcessStats)> = scraped
        .iter()
        .zip(identities)
        .filter_map(|(s, id)| Some((id.as_str(), s.process.as_ref()?)))
        .collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
    rows.dedup_by(|a, b| a.0 == b.0);
    for family in &FAMILIES {
        let values: Vec<(&str, f64)> = rows
            .iter()
            .filter_map(|(id, stats)| Some((*id, (family.value)(stats)?)))
            .collect();
        if values.is_empty() {
            continue;
        }
        let (named, sample) = if family.counter {
            (format.counter_family_suffix(), "_total")
        } else {
            ("", "")
        };
        let kind = if family.counter { "counter" } else { "gauge" };
        let name = family.name;
        let _ = writeln!(out, "# HELP {name}{named} {}", family.help);
        let _ = writeln!(out, "# TYPE {name}{named} {kind}");
        for (id, v) in values {
            let _ = write!(out, "{name}{sample}{{{id}}} ");
            super::number::write_float(out, v);
            out.push('\n');
        }
    }
}
