//! From a Cantal name (key/value pairs) and slot type to a Prometheus
//! family name, unit and labels: the rules of the table in
//! `cli/README.md`. Everything here depends on one metric only.

use cantal_mmap::read::SlotType;

/// The Prometheus type of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Type {
    Counter,
    Gauge,
    Histogram,
}

impl Type {
    /// The word of `# TYPE`.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Type::Counter => "counter",
            Type::Gauge => "gauge",
            Type::Histogram => "histogram",
        }
    }
}

/// A base unit, and the factor from the published value to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Unit {
    /// The OpenMetrics unit and name suffix: `seconds`, `bytes`, `ratio`.
    pub(crate) name: &'static str,
    /// What a published value is multiplied by.
    pub(crate) factor: f64,
}

impl Unit {
    /// Milliseconds served as seconds.
    pub(crate) const MILLIS: Unit = Unit {
        name: "seconds",
        factor: 0.001,
    };

    /// The unit of a `metrics` crate unit word (`Unit::as_str`) as written
    /// in a help side file; `None` for units without a base-unit suffix
    /// (`count`, rates).
    pub(crate) fn of_word(word: &str) -> Option<Unit> {
        let (name, factor) = match word {
            "seconds" => ("seconds", 1.0),
            "milliseconds" => ("seconds", 1e-3),
            "microseconds" => ("seconds", 1e-6),
            "nanoseconds" => ("seconds", 1e-9),
            "bytes" => ("bytes", 1.0),
            "kibibytes" => ("bytes", 1024.0),
            "mebibytes" => ("bytes", 1024.0 * 1024.0),
            "gibibytes" => ("bytes", 1024.0 * 1024.0 * 1024.0),
            "tebibytes" => ("bytes", 1024.0 * 1024.0 * 1024.0 * 1024.0),
            "percent" => ("ratio", 0.01),
            _ => return None,
        };
        Some(Unit { name, factor })
    }
}

/// What the family of one metric is, but for the prefix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Family {
    /// The family name without the prefix (and, for counters, without
    /// `_total`).
    pub(crate) base: String,
    pub(crate) kind: Type,
    /// The unit, when known (the base ends with `_<unit>`).
    pub(crate) unit: Option<Unit>,
    /// The labels from the name's pairs that are not in the family name,
    /// sanitised, in the name's order.
    pub(crate) labels: Vec<(String, String)>,
}

/// Our own label names: a pair of the name with one of these keys (after
/// sanitising) is renamed `name_<key>`.
pub(crate) const OWN_LABELS: [&str; 5] = ["appname", "le", "path", "pid", "state_text"];

/// Suffixes that Prometheus gives the samples of counters and histograms:
/// a gauge whose name ends with one gets `_gauge`, so that no sample name
/// of one type is a sample name of another.
const RESERVED_SUFFIXES: [&str; 6] = ["_total", "_count", "_sum", "_bucket", "_created", "_info"];

/// The family of a metric named `pairs` with slot type `ty`; `unit` is the
/// unit word of its help side file line, if any. `None` for slot types
/// that are not exported.
pub(crate) fn family<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    ty: SlotType,
    unit: Option<&str>,
) -> Option<Family> {
    let kind = match ty {
        SlotType::Counter => Type::Counter,
        SlotType::Signed | SlotType::Unsigned | SlotType::Float | SlotType::State => Type::Gauge,
        SlotType::Histogram => Type::Histogram,
        _ => return None,
    };
    // The first pair of each key, in one pass.
    let (mut group, mut metric, mut state) = (None, None, None);
    for (k, v) in pairs.clone() {
        let first = match k {
            "group" => &mut group,
            "metric" => &mut metric,
            "state" => &mut state,
            _ => continue,
        };
        first.get_or_insert(v);
    }
    let mut unit = unit.and_then(Unit::of_word);
    // The words of the name, joined by `_`, written into one buffer.
    let mut base =
        Words::with_capacity(group.map_or(0, str::len) + metric.map_or(0, str::len) + 16);
    if let Some(group) = group {
        base.push_sanitized(group);
    }
    let is_fork = ty == SlotType::Counter && state.is_some();
    match (ty, metric) {
        // A Fork's branch counters.
        (SlotType::Counter, Some("count")) if is_fork => base.push("state_count"),
        (SlotType::Counter, Some("duration")) if is_fork => {
            base.push("state_duration");
            unit = Some(Unit::MILLIS);
        }
        // A RequestTracker's milliseconds.
        (SlotType::Counter, Some("total_duration")) => {
            base.push("duration");
            unit = Some(Unit::MILLIS);
        }
        (SlotType::State, _) => {
            if let Some(metric) = metric {
                base.push_sanitized(metric);
            }
            base.push("state_start");
            unit = Some(Unit {
                name: "seconds",
                factor: 0.001,
            });
        }
        (_, Some(metric)) => base.push_sanitized(metric),
        (_, None) if base.words == 0 => base.push("value"),
        (_, None) => {}
    }
    let mut base = base.text;
    if kind == Type::Counter
        && let Some(stripped) = base.strip_suffix("_total")
        && !stripped.is_empty()
    {
        base = stripped.to_string();
    }
    if let Some(unit) = unit {
        let has_suffix = base
            .strip_suffix(unit.name)
            .is_some_and(|rest| rest.ends_with('_'));
        if !has_suffix && base != unit.name {
            base.push('_');
            base.push_str(unit.name);
        }
    }
    if kind == Type::Gauge && RESERVED_SUFFIXES.iter().any(|s| base.ends_with(s)) {
        base.push_str("_gauge");
    }
    let used: &[&str] = &["group", "metric"];
    let labels = name_labels(pairs.filter(|(k, _)| !used.contains(k)));
    Some(Family {
        base,
        kind,
        unit,
        labels,
    })
}

/// The full family name: `prefix` + `base`, unless `base` starts with one
/// of `unprefixed`; a leading digit gets a `_`; a name in the exporter's
/// own namespace (`cantal_up`, `cantal_exporter_*`, or Prometheus's `up`)
/// gets `metric_` after its `cantal_` (`cantal_metric_up`), a name that no
/// series of the exporter has.
pub(crate) fn full_name(prefix: &str, unprefixed: &[&str], base: &str) -> String {
    let mut name = String::with_capacity(prefix.len() + base.len() + 1);
    if !unprefixed.iter().any(|u| base.starts_with(u)) {
        name.push_str(prefix);
    }
    name.push_str(base);
    if name.starts_with(|c: char| c.is_ascii_digit()) || name.is_empty() {
        name.insert(0, '_');
    }
    if name == "up" {
        name.insert_str(0, "metric_");
    } else if name == "cantal_up" || name.starts_with("cantal_exporter_") {
        name.insert_str("cantal_".len(), "metric_");
    }
    name
}

/// Label names from a metric name's pairs: sanitised to
/// `[a-zA-Z_][a-zA-Z0-9_]*`; a name that would start with `__` or be one
/// of [`OWN_LABELS`] gets `name_` in front; a name that repeats after that
/// gets `_2`, `_3`...
pub(crate) fn name_labels<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> = Vec::new();
    for (key, value) in pairs {
        let mut name = sanitize(key);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            name.insert(0, '_');
        }
        if name.starts_with("__") || OWN_LABELS.contains(&name.as_str()) {
            name = format!("name_{name}");
        }
        let mut unique = name.clone();
        let mut n = 2;
        while labels.iter().any(|(k, _)| *k == unique) {
            unique = format!("{name}_{n}");
            n += 1;
        }
        labels.push((unique, value.to_string()));
    }
    labels
}

/// Words joined by `_`.
struct Words {
    text: String,
    words: usize,
}

impl Words {
    fn with_capacity(bytes: usize) -> Words {
        Words {
            text: String::with_capacity(bytes),
            words: 0,
        }
    }

    fn push(&mut self, word: &str) {
        self.separate();
        self.text.push_str(word);
    }

    /// Pushes `word` [`sanitize`]d.
    fn push_sanitized(&mut self, word: &str) {
        self.separate();
        push_sanitized(&mut self.text, word);
    }

    fn separate(&mut self) {
        if self.words > 0 {
            self.text.push('_');
        }
        self.words += 1;
    }
}

/// Replaces every character outside `[a-zA-Z0-9_]` by `_`.
pub(crate) fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_sanitized(&mut out, s);
    out
}

/// Appends `s` [`sanitize`]d to `out`: whole when it needs no change.
fn push_sanitized(out: &mut String, s: &str) {
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        out.push_str(s);
        return;
    }
    out.extend(s.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs<'a>(p: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = (&'a str, &'a str)> + Clone {
        p.iter().copied()
    }

    /// The name a Prometheus query uses for the samples of one row:
    /// counters with `_total`, the labels sorted.
    fn shown(
        p: &[(&str, &str)],
        ty: SlotType,
        unit: Option<&str>,
    ) -> (String, &'static str, String) {
        let f = family(pairs(p), ty, unit).unwrap();
        let mut name = full_name("cantal_", &["process_"], &f.base);
        if f.kind == Type::Counter {
            name.push_str("_total");
        }
        let mut labels: Vec<String> = f.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        labels.sort();
        (name, f.kind.word(), labels.join(","))
    }

    /// Every row of the table in cli/README.md, in its order.
    #[test]
    fn the_readme_table() {
        use SlotType::*;
        type Row = (
            &'static [(&'static str, &'static str)],
            SlotType,
            Option<&'static str>,
            &'static str,
            &'static str,
            &'static str,
        );
        let rows: &[Row] = &[
            // Plain names.
            (
                &[("group", "main_loop"), ("metric", "ticks")],
                Counter,
                None,
                "cantal_main_loop_ticks_total",
                "counter",
                "",
            ),
            (
                &[("group", "http.server"), ("metric", "connections")],
                Signed,
                None,
                "cantal_http_server_connections",
                "gauge",
                "",
            ),
            (
                &[("metric", "load")],
                Float,
                None,
                "cantal_load",
                "gauge",
                "",
            ),
            (
                &[("metric", "jobs"), ("queue", "mail")],
                Unsigned,
                None,
                "cantal_jobs",
                "gauge",
                "queue=mail",
            ),
            (
                &[("group", "bulk"), ("metric", "m1"), ("worker", "3")],
                Counter,
                None,
                "cantal_bulk_m1_total",
                "counter",
                "worker=3",
            ),
            (
                &[("key with spaces", "v")],
                Signed,
                None,
                "cantal_value",
                "gauge",
                "key_with_spaces=v",
            ),
            (
                &[("group", "g")],
                Counter,
                None,
                "cantal_g_total",
                "counter",
                "",
            ),
            (&[], Counter, None, "cantal_value_total", "counter", ""),
            // RequestTracker.
            (
                &[("group", "http"), ("metric", "requests")],
                Counter,
                None,
                "cantal_http_requests_total",
                "counter",
                "",
            ),
            (
                &[("group", "http"), ("metric", "errors")],
                Counter,
                None,
                "cantal_http_errors_total",
                "counter",
                "",
            ),
            (
                &[("group", "http"), ("metric", "total_duration")],
                Counter,
                None,
                "cantal_http_duration_seconds_total",
                "counter",
                "",
            ),
            (
                &[("group", "http"), ("metric", "in_progress")],
                Signed,
                None,
                "cantal_http_in_progress",
                "gauge",
                "",
            ),
            (
                &[
                    ("group", "http.sql"),
                    ("metric", "requests"),
                    ("db", "main"),
                ],
                Counter,
                None,
                "cantal_http_sql_requests_total",
                "counter",
                "db=main",
            ),
            // States and a Fork.
            (
                &[("state", "main")],
                State,
                None,
                "cantal_state_start_seconds",
                "gauge",
                "state=main",
            ),
            (
                &[("group", "worker"), ("state", "phase")],
                State,
                None,
                "cantal_worker_state_start_seconds",
                "gauge",
                "state=phase",
            ),
            (
                &[("metric", "count"), ("state", "req.app")],
                Counter,
                None,
                "cantal_state_count_total",
                "counter",
                "state=req.app",
            ),
            (
                &[("metric", "duration"), ("state", "req.sql")],
                Counter,
                None,
                "cantal_state_duration_seconds_total",
                "counter",
                "state=req.sql",
            ),
            // The `metrics` recorder.
            (
                &[("metric", "http_requests_total"), ("code", "200")],
                Counter,
                None,
                "cantal_http_requests_total",
                "counter",
                "code=200",
            ),
            (
                &[("metric", "queue_len")],
                Float,
                None,
                "cantal_queue_len",
                "gauge",
                "",
            ),
            (
                &[("metric", "latency_seconds"), ("path", "/")],
                Histogram,
                Some("seconds"),
                "cantal_latency_seconds",
                "histogram",
                "name_path=/",
            ),
            (
                &[("metric", "latency")],
                Histogram,
                Some("milliseconds"),
                "cantal_latency_seconds",
                "histogram",
                "",
            ),
            (
                &[("metric", "latency"), ("_le", "x")],
                Histogram,
                None,
                "cantal_latency",
                "histogram",
                "_le=x",
            ),
            (
                &[("metric", "resident"), ("process", "1")],
                Float,
                Some("bytes"),
                "cantal_resident_bytes",
                "gauge",
                "process=1",
            ),
            (
                &[("metric", "process_cpu_seconds_total")],
                Counter,
                Some("seconds"),
                "process_cpu_seconds_total",
                "counter",
                "",
            ),
            // A histogram's part that is not in a whole histogram.
            (
                &[("metric", "h_sum")],
                Float,
                None,
                "cantal_h_sum_gauge",
                "gauge",
                "",
            ),
            (
                &[("le", "0.5"), ("metric", "h_bucket")],
                Counter,
                None,
                "cantal_h_bucket_total",
                "counter",
                "name_le=0.5",
            ),
            // Odd names.
            (
                &[("metric", "up")],
                Signed,
                None,
                "cantal_metric_up",
                "gauge",
                "",
            ),
            (
                &[("group", "exporter"), ("metric", "errors")],
                Counter,
                None,
                "cantal_metric_exporter_errors_total",
                "counter",
                "",
            ),
            (
                &[("metric", "a.b-c"), ("__x", "1"), ("pid", "7")],
                Counter,
                None,
                "cantal_a_b_c_total",
                "counter",
                "name___x=1,name_pid=7",
            ),
            (
                &[("metric", "x_total")],
                Float,
                None,
                "cantal_x_total_gauge",
                "gauge",
                "",
            ),
            (
                &[("metric", "9lives")],
                Counter,
                None,
                "cantal_9lives_total",
                "counter",
                "",
            ),
        ];
        for (p, ty, unit, name, kind, labels) in rows {
            assert_eq!(
                shown(p, *ty, *unit),
                (name.to_string(), *kind, labels.to_string()),
                "{p:?} {ty:?}"
            );
        }
    }

    #[test]
    fn a_name_depends_only_on_its_own_pairs_and_type() {
        // Pair order does not matter.
        let a = family(
            pairs(&[("metric", "x"), ("group", "g")]),
            SlotType::Counter,
            None,
        );
        let b = family(
            pairs(&[("group", "g"), ("metric", "x")]),
            SlotType::Counter,
            None,
        );
        assert_eq!(a.map(|f| f.base), b.map(|f| f.base));
        // Unknown slot types are not exported.
        assert!(family(pairs(&[]), SlotType::Unknown, None).is_none());
    }

    #[test]
    fn prefixes_and_leading_digits() {
        assert_eq!(full_name("", &[], "9x"), "_9x");
        assert_eq!(full_name("", &[], "up"), "metric_up");
        assert_eq!(full_name("", &[], "cantal_up"), "cantal_metric_up");
        assert_eq!(
            full_name("", &[], "cantal_exporter_x"),
            "cantal_metric_exporter_x"
        );
        assert_eq!(
            full_name("app_", &["process_"], "process_open_fds"),
            "process_open_fds"
        );
        assert_eq!(full_name("app_", &["process_"], "queue"), "app_queue");
    }

    #[test]
    fn sanitising() {
        assert_eq!(sanitize("a.b-c"), "a_b_c");
        let l = name_labels(pairs(&[("a.b", "1"), ("a_b", "2"), ("1x", "3"), ("", "4")]));
        let names: Vec<&str> = l.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["a_b", "a_b_2", "_1x", "_"]);
    }

    #[test]
    fn units() {
        assert_eq!(Unit::of_word("milliseconds"), Some(Unit::MILLIS));
        assert_eq!(Unit::of_word("count"), None);
        assert_eq!(Unit::of_word("percent").map(|u| u.name), Some("ratio"));
    }
}
