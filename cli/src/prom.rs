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

use crate::load::{Layout, Reading, Slot, SlotType};
use crate::target::Source;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

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
    /// Why it is down, when it is: the `reason` label of its `cantal_up`.
    pub(crate) reason: Option<&'a str>,
    /// Its metrics, when they could be read: the layout made ready with
    /// [`prepare`], and one reading per slot.
    pub(crate) metrics: Option<(&'a Prepared, &'a [Reading])>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    fn bit(self) -> u8 {
        match self {
            Type::Counter => 1,
            Type::Gauge => 2,
        }
    }
}

/// What one slot renders as, but for its value: the same at every scrape
/// of one publication, so made once per layout (see [`prepare`]).
#[derive(Debug)]
struct Template {
    /// The base family name (before type and `_total` suffixes).
    base: String,
    kind: Type,
    labels: Labels,
}

/// The labels of a [`Template`].
#[derive(Debug)]
enum Labels {
    /// Rendered once: the same at every scrape.
    Fixed(String),
    /// A state's, sorted, and where its `state_text` goes (the text
    /// changes, so they are rendered at each scrape).
    State(Vec<(String, String)>, usize),
}

/// A publication's slots made ready for rendering with [`prepare`]: the
/// part of the work that depends only on the meta file and the source.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// One per slot of the layout; `None` for slots that are not exported.
    templates: Vec<Option<Template>>,
}

/// Makes `layout`'s slots ready for rendering as metrics of `source`.
pub(crate) fn prepare(source: &Source, layout: &Layout) -> Prepared {
    Prepared {
        templates: layout
            .slots()
            .iter()
            .map(|slot| template(source, slot))
            .collect(),
    }
}

/// A sample's value.
#[derive(Clone, Copy)]
enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    /// Milliseconds, written as seconds with three decimals.
    Millis(u64),
}

impl Number {
    fn write(self, out: &mut String) {
        let _ = match self {
            Number::Unsigned(v) => write!(out, "{v}"),
            Number::Signed(v) => write!(out, "{v}"),
            Number::Float(v) => {
                write_float(out, v);
                Ok(())
            }
            Number::Millis(ms) => write!(out, "{}.{:03}", ms / 1000, ms % 1000),
        };
    }
}

/// A hash map with [`Fx`] hashing.
type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// The multiply-rotate hash of rustc's `FxHasher`, for the per-scrape maps
/// keyed by label text: SipHash's protection against chosen collisions
/// is not needed for names that publishers on this machine chose (at
/// worst a hostile publisher slows its own scrape), and SipHash was the
/// largest single cost of a scrape.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A sample before families are named.
struct Sample<'a> {
    base: &'a str,
    kind: Type,
    labels: std::borrow::Cow<'a, str>,
    value: Number,
}

/// Renders every publisher.
pub(crate) fn render(scraped: &[Scraped<'_>], options: Options, format: Format) -> String {
    let mut samples = Vec::new();
    for s in scraped {
        if let Some((prepared, readings)) = s.metrics {
            for (template, reading) in prepared.templates.iter().zip(readings) {
                if let Some(sample) = template.as_ref().and_then(|t| sample(t, reading, options)) {
                    samples.push(sample);
                }
            }
        }
    }
    // Which types each base name holds, then each family's name.
    let mut types: FastMap<&str, u8> = FastMap::default();
    for s in &samples {
        *types.entry(s.base).or_default() |= s.kind.bit();
    }
    let mut names: FastMap<(&str, Type), String> = FastMap::default();
    for s in &samples {
        names.entry((s.base, s.kind)).or_insert_with(|| {
            let mut name = if types.get(s.base).is_some_and(|t| t.count_ones() > 1) {
                format!("{}_{}", s.base, s.kind.word())
            } else {
                s.base.to_string()
            };
            if s.kind == Type::Counter && format == Format::Prometheus {
                name.push_str("_total");
            }
            name
        });
    }
    type Family<'a> = (Type, Vec<(&'a str, Number)>);
    let mut families: FastMap<&str, Family<'_>> = FastMap::default();
    let mut seen: HashSet<(&str, &str), BuildHasherDefault<Fx>> =
        HashSet::with_capacity_and_hasher(samples.len(), Default::default());
    for s in &samples {
        let Some(name) = names.get(&(s.base, s.kind)) else {
            continue;
        };
        if !seen.insert((name, &s.labels)) {
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
            .push((&s.labels, s.value));
    }
    let mut families: Vec<(&str, Family<'_>)> = families.into_iter().collect();
    families.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(samples.len() * 96);
    for (name, (kind, samples)) in &families {
        let help = if *name == STATES {
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
            out.push_str(name);
            out.push_str(suffix);
            out.push('{');
            out.push_str(labels);
            out.push_str("} ");
            value.write(&mut out);
            out.push('\n');
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
        if let Some(reason) = s.reason {
            labels.push(("reason".into(), reason.into()));
        }
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

/// The family base name and labels of `slot`, or `None` for a slot of a
/// type we do not export.
fn template(source: &Source, slot: &Slot) -> Option<Template> {
    let kind = match slot.ty {
        SlotType::Counter => Type::Counter,
        SlotType::Signed | SlotType::Unsigned | SlotType::Float | SlotType::State => Type::Gauge,
        _ => return None,
    };
    let mut base = if slot.ty == SlotType::State {
        STATES.to_string()
    } else {
        let metric = slot
            .pairs
            .iter()
            .find(|(k, _)| k == "metric")
            .map_or("value", |(_, v)| v.as_str());
        format!("cantal_{}", sanitize(metric, false))
    };
    // Counters get `_total` when rendered; not twice.
    if slot.ty == SlotType::Counter
        && let Some(stripped) = base.strip_suffix("_total")
        && stripped != "cantal"
    {
        base = stripped.to_string();
    }
    if base == "cantal_up" {
        base = "cantal_metric_up".into();
    }
    let mut labels = name_labels(&slot.pairs);
    own_labels(&mut labels, source);
    labels.sort();
    let labels = if slot.ty == SlotType::State {
        let at = labels.partition_point(|(k, _)| k.as_str() < "state_text");
        Labels::State(labels, at)
    } else {
        Labels::Fixed(render_labels(&labels))
    };
    Some(Template { base, kind, labels })
}

fn sample<'t>(template: &'t Template, reading: &Reading, options: Options) -> Option<Sample<'t>> {
    let value = match reading {
        Reading::Counter(v) | Reading::Unsigned(v) => Number::Unsigned(*v),
        Reading::Signed(v) => Number::Signed(*v),
        Reading::Float(v) => Number::Float(*v),
        Reading::State { timestamp, text } => {
            if !options.states || *timestamp == 0 {
                return None;
            }
            let Labels::State(labels, at) = &template.labels else {
                return None;
            };
            let text: String = text.chars().take(options.state_text_limit).collect();
            let mut labels = labels.clone();
            labels.insert(*at, ("state_text".into(), text));
            return Some(Sample {
                base: &template.base,
                kind: template.kind,
                labels: render_labels(&labels).into(),
                value: Number::Millis(*timestamp),
            });
        }
        _ => return None,
    };
    let Labels::Fixed(labels) = &template.labels else {
        return None;
    };
    Some(Sample {
        base: &template.base,
        kind: template.kind,
        labels: labels.as_str().into(),
        value,
    })
}

/// A float sample value.
fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v:?}");
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
        let prepared = prepare(&src, &layout);
        let scraped = [Scraped {
            source: &src,
            up: true,
            reason: None,
            metrics: Some((&prepared, &readings)),
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
