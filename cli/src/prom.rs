//! The Prometheus text exposition format (0.0.4) and OpenMetrics 1.0, made
//! from Cantal publications.
//!
//! # Mapping
//!
//! - **Family names**: a counter or level becomes the family
//!   `cantal_<M>`, where `<M>` is the value of the name's `metric` pair (or
//!   `value` when it has none), sanitised: every character outside
//!   `[a-zA-Z0-9_]` becomes `_`. Counters are of type `counter` and
//!   named with a `_total` suffix (`cantal_requests_total`; a `metric`
//!   ending in `_total` does not get it twice); in OpenMetrics their family
//!   is `cantal_requests` and its samples `cantal_requests_total`. Levels
//!   are of type `gauge`. Every family has a generic `# HELP` line. A
//!   metric called `up` becomes `cantal_metric_up` (so as not to mix with
//!   `cantal_up`). When one family name would hold both a counter and a
//!   gauge, both get their type as a suffix (`cantal_x_counter`,
//!   `cantal_x_gauge`). Unknown slot types are left out.
//! - **States** all go to one gauge family, `cantal_state_start_seconds`:
//!   the time the state was entered, in seconds since the Unix epoch (with
//!   millisecond precision), with the text in the label `state_text`
//!   (truncated to `--state-text-limit` characters, 64 by default). A state
//!   with no value (timestamp 0) has no sample. `--no-states` leaves them
//!   out.
//! - **Labels**: every pair of the name becomes a label, the `metric` pair
//!   included. Label names are sanitised to `[a-zA-Z_][a-zA-Z0-9_]*`
//!   (other characters become `_`, a leading digit gets a `_` before it);
//!   names that would start with `__` (reserved by Prometheus) or equal
//!   one of our own labels (`pid`, `appname`, `state_text`) get a `name_`
//!   prefix; a name that repeats after sanitising gets `_2`, `_3`... Then
//!   `pid` (when known) and `appname` (when the process has
//!   `CANTAL_APPNAME`). Label values escape backslash, double quote and
//!   newline. Labels are sorted by name.
//! - **`cantal_up{path, pid, appname}`**: a gauge per publisher, 1 when
//!   its files were read and it is alive (or its process runs), 0 when they
//!   are stale, unreadable or malformed (the publisher's metrics are then
//!   left out).
//! - Numbers: integers in full; floats in shortest round-trip form, `NaN`,
//!   `+Inf`, `-Inf`.
//!
//! A label set repeated within a family (two names that differ only in
//! characters that sanitising erases) keeps its first sample.

use crate::load::{Layout, Reading, Slot, SlotKind};
use crate::target::Source;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;

/// The family of states.
const STATES: &str = "cantal_state_start_seconds";

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// Export states.
    pub(crate) states: bool,
    /// The longest state text in a label, in characters.
    pub(crate) state_text_limit: usize,
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `text/plain; version=0.0.4`.
    Prometheus,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of the format.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// One publisher as scraped.
#[derive(Debug)]
pub(crate) struct Scraped<'a> {
    /// Where and who.
    pub(crate) source: &'a Source,
    /// Whether it is up.
    pub(crate) up: bool,
    /// Its metrics, when they could be read.
    pub(crate) metrics: Option<(&'a Layout, &'a [Reading])>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Type {
    Counter,
    Gauge,
}

impl Type {
    fn word(self) -> &'static str {
        match self {
            Type::Counter => "counter",
            Type::Gauge => "gauge",
        }
    }
}

/// A sample before families are named: the base family name, type,
/// sorted labels and value.
struct Sample {
    base: String,
    kind: Type,
    labels: String,
    value: String,
}

/// Renders every publisher.
pub(crate) fn render(scraped: &[Scraped<'_>], options: Options, format: Format) -> String {
    let mut samples = Vec::new();
    for s in scraped {
        if let Some((layout, readings)) = s.metrics {
            for (slot, reading) in layout.slots.iter().zip(readings) {
                if let Some(sample) = sample(s.source, slot, reading, options) {
                    samples.push(sample);
                }
            }
        }
    }
    // Which types each base name holds.
    let mut types: BTreeMap<&str, BTreeSet<Type>> = BTreeMap::new();
    for s in &samples {
        types.entry(&s.base).or_default().insert(s.kind);
    }
    let mut families: BTreeMap<String, (Type, Vec<(String, String)>)> = BTreeMap::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for s in &samples {
        let mut name = if types.get(s.base.as_str()).is_some_and(|t| t.len() > 1) {
            format!("{}_{}", s.base, s.kind.word())
        } else {
            s.base.clone()
        };
        if s.kind == Type::Counter && format == Format::Prometheus {
            name.push_str("_total");
        }
        if !seen.insert((name.clone(), s.labels.clone())) {
            eprintln!(
                "cantal export: dropping a second sample of {name}{{{}}}",
                s.labels
            );
            continue;
        }
        families
            .entry(name)
            .or_insert_with(|| (s.kind, Vec::new()))
            .1
            .push((s.labels.clone(), s.value.clone()));
    }
    let mut out = String::new();
    for (name, (kind, samples)) in &families {
        let help = if name == STATES {
            "When the Cantal state (text in label state_text) was entered, in seconds since \
             the Unix epoch"
        } else if *kind == Type::Counter {
            "A Cantal counter (its name's pairs are the labels)"
        } else {
            "A Cantal level (its name's pairs are the labels)"
        };
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {}", kind.word());
        let suffix = match (format, kind) {
            (Format::OpenMetrics, Type::Counter) => "_total",
            _ => "",
        };
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{suffix}{{{labels}}} {value}");
        }
    }
    // cantal_up, one per publisher.
    let mut up = Vec::new();
    for s in scraped {
        let mut labels = vec![(
            "path".to_string(),
            s.source.base.to_string_lossy().into_owned(),
        )];
        own_labels(&mut labels, s.source);
        labels.sort();
        up.push((render_labels(&labels), if s.up { 1 } else { 0 }));
    }
    up.sort();
    up.dedup_by(|a, b| a.0 == b.0);
    if !up.is_empty() {
        out.push_str(
            "# HELP cantal_up 1 when the Cantal publisher's files were read and it is alive\n\
             # TYPE cantal_up gauge\n",
        );
        for (labels, v) in up {
            let _ = writeln!(out, "cantal_up{{{labels}}} {v}");
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// Our own labels: pid and appname.
fn own_labels(labels: &mut Vec<(String, String)>, source: &Source) {
    if let Some(pid) = source.pid {
        labels.push(("pid".into(), pid.to_string()));
    }
    if let Some(app) = &source.appname {
        labels.push(("appname".into(), app.clone()));
    }
}

fn sample(source: &Source, slot: &Slot, reading: &Reading, options: Options) -> Option<Sample> {
    let metric = slot
        .pairs
        .iter()
        .find(|(k, _)| k == "metric")
        .map_or("value", |(_, v)| v.as_str());
    let mut base = format!("cantal_{}", sanitize(metric, false));
    // Counters get `_total` when rendered; not twice.
    if slot.kind == SlotKind::Counter
        && let Some(stripped) = base.strip_suffix("_total")
        && stripped != "cantal"
    {
        base = stripped.to_string();
    }
    if base == "cantal_up" {
        base = "cantal_metric_up".into();
    }
    let mut labels = name_labels(&slot.pairs);
    let (kind, value) = match (&slot.kind, reading) {
        (SlotKind::Counter, Reading::Counter(v)) => (Type::Counter, v.to_string()),
        (SlotKind::Signed, Reading::Signed(v)) => (Type::Gauge, v.to_string()),
        (SlotKind::Unsigned, Reading::Unsigned(v)) => (Type::Gauge, v.to_string()),
        (SlotKind::Float, Reading::Float(v)) => (Type::Gauge, float(*v)),
        (SlotKind::State, Reading::State { timestamp, text }) => {
            if !options.states || *timestamp == 0 {
                return None;
            }
            base = STATES.into();
            let text: String = text.chars().take(options.state_text_limit).collect();
            labels.push(("state_text".into(), text));
            (
                Type::Gauge,
                format!("{}.{:03}", timestamp / 1000, timestamp % 1000),
            )
        }
        _ => return None,
    };
    own_labels(&mut labels, source);
    labels.sort();
    Some(Sample {
        base,
        kind,
        labels: render_labels(&labels),
        value,
    })
}

/// A float sample value.
fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v:?}")
    }
}

/// Label names from a metric name's pairs (see the module docs).
fn name_labels(pairs: &[(String, String)]) -> Vec<(String, String)> {
    const RESERVED: [&str; 3] = ["pid", "appname", "state_text"];
    let mut used: HashSet<String> = RESERVED.into_iter().map(String::from).collect();
    let mut labels = Vec::with_capacity(pairs.len() + 3);
    for (key, value) in pairs {
        let mut name = sanitize(key, true);
        if name.starts_with("__") || RESERVED.contains(&name.as_str()) {
            name = format!("name_{name}");
        }
        let mut unique = name.clone();
        let mut n = 2;
        while used.contains(&unique) {
            unique = format!("{name}_{n}");
            n += 1;
        }
        used.insert(unique.clone());
        labels.push((unique, value.clone()));
    }
    labels
}

/// Replaces characters outside `[a-zA-Z0-9_]` by `_`; a label name that
/// would be empty or start with a digit gets a leading `_`.
fn sanitize(s: &str, label: bool) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if label && !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// `a="1",b="x\"y"`: labels with escaped values.
fn render_labels(labels: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn source() -> Source {
        Source {
            base: "/run/app".into(),
            pid: Some(42),
            appname: Some("web".into()),
        }
    }

    #[test]
    fn families_and_labels() {
        let meta = "counter 8: {\"group\": \"http\", \"metric\": \"requests\"}\n\
            level 8 float: {\"metric\": \"load\", \"pid\": \"x\", \"__a\": \"q\\\"\\n\\\\\"}\n\
            counter 8: {\"metric\": \"mixed\"}\nlevel 8 signed: {\"metric\": \"mixed\", \"k\": \"1\"}\n\
            state 24: {\"state\": \"main\"}\nstate 24: {\"state\": \"idle\"}";
        let layout = Layout::parse(meta.as_bytes(), Path::new("m")).unwrap();
        let readings = vec![
            Reading::Counter(u64::MAX),
            Reading::Float(f64::NAN),
            Reading::Counter(1),
            Reading::Signed(-5),
            Reading::State {
                timestamp: 1_700_000_000_012,
                text: "a\"very long text".into(),
            },
            Reading::State {
                timestamp: 0,
                text: "old".into(),
            },
        ];
        let src = source();
        let scraped = [Scraped {
            source: &src,
            up: true,
            metrics: Some((&layout, &readings)),
        }];
        let options = Options {
            states: true,
            state_text_limit: 6,
        };
        let text = render(&scraped, options, Format::Prometheus);
        let expected = "\
# HELP cantal_load A Cantal level (its name's pairs are the labels)
# TYPE cantal_load gauge
cantal_load{appname=\"web\",metric=\"load\",name___a=\"q\\\"\\n\\\\\",name_pid=\"x\",pid=\"42\"} NaN
# HELP cantal_mixed_counter_total A Cantal counter (its name's pairs are the labels)
# TYPE cantal_mixed_counter_total counter
cantal_mixed_counter_total{appname=\"web\",metric=\"mixed\",pid=\"42\"} 1
# HELP cantal_mixed_gauge A Cantal level (its name's pairs are the labels)
# TYPE cantal_mixed_gauge gauge
cantal_mixed_gauge{appname=\"web\",k=\"1\",metric=\"mixed\",pid=\"42\"} -5
# HELP cantal_requests_total A Cantal counter (its name's pairs are the labels)
# TYPE cantal_requests_total counter
cantal_requests_total{appname=\"web\",group=\"http\",metric=\"requests\",pid=\"42\"} 18446744073709551615
# HELP cantal_state_start_seconds When the Cantal state (text in label state_text) was entered, in seconds since the Unix epoch
# TYPE cantal_state_start_seconds gauge
cantal_state_start_seconds{appname=\"web\",pid=\"42\",state=\"main\",state_text=\"a\\\"very\"} 1700000000.012
# HELP cantal_up 1 when the Cantal publisher's files were read and it is alive
# TYPE cantal_up gauge
cantal_up{appname=\"web\",path=\"/run/app\",pid=\"42\"} 1
";
        assert_eq!(text, expected);
        let om = render(
            &scraped,
            Options {
                states: false,
                ..options
            },
            Format::OpenMetrics,
        );
        assert!(om.contains("\ncantal_requests_total{"), "{om}");
        assert!(!om.contains("state_start"));
        assert!(om.ends_with("# EOF\n"));
    }

    #[test]
    fn sanitising() {
        assert_eq!(sanitize("a.b-c", false), "a_b_c");
        assert_eq!(sanitize("1x", true), "_1x");
        assert_eq!(sanitize("", true), "_");
        let l = name_labels(&[("a.b".into(), "1".into()), ("a_b".into(), "2".into())]);
        assert_eq!(l[1].0, "a_b_2");
    }
}
