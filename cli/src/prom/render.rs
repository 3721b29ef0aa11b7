//! Writing the exposition: families of samples, `# HELP`, `# TYPE`,
//! `# UNIT`, and `cantal_up`.

use super::naming::Type;
use super::number::{Number, scale, scale_int};
use super::{Format, Labels, Options, Scraped, Template, identity};
use cantal_mmap::read::OwnedValue;
use std::borrow::Cow;
use std::fmt::Write as _;

/// What a sample holds.
enum Value<'a> {
    One(Number),
    Histogram {
        count: u64,
        sum: f64,
        buckets: &'a [(f64, u64)],
    },
}

/// A sample before families are named.
struct Sample<'a> {
    template: &'a Template,
    labels: Cow<'a, str>,
    /// Its publisher's labels.
    identity: &'a str,
    value: Value<'a>,
}

/// Renders every publisher, into a string of at least `room` bytes'
/// capacity (0: as much as the samples' lines take at most).
pub(crate) fn render(
    scraped: &[Scraped<'_>],
    options: Options,
    format: Format,
    room: usize,
) -> String {
    let identities = identities(scraped, options);
    let mut runs: Vec<Vec<Sample<'_>>> = Vec::with_capacity(scraped.len());
    for (s, identity) in scraped.iter().zip(&identities) {
        if let Some((prepared, readings)) = s.metrics {
            let run = prepared.order.iter().filter_map(|&i| {
                let template = prepared.templates[i].as_ref()?;
                sample(template, readings.get(i)?, identity, options)
            });
            runs.push(run.collect());
        }
    }
    // Each publisher's samples come sorted already (see `Prepared::order`).
    // In the order of their first samples, publishers whose families do
    // not interleave (other applications) make one sorted sequence, which
    // the stable sort checks in one pass; interleaved runs (processes of
    // one application) it merges. Of two samples with the same family,
    // labels and publisher labels, the first one is kept.
    runs.sort_by(|a, b| a.first().map(Sample::key).cmp(&b.first().map(Sample::key)));
    let mut samples: Vec<Sample<'_>> = runs.into_iter().flatten().collect();
    samples.sort_by(|a, b| a.key().cmp(&b.key()));
    samples.dedup_by(|later, kept| later.key() == kept.key());
    // Without a last body to go by (a first scrape), what the samples take:
    // one look at each template, which a warm scrape does not pay.
    let room = match room {
        0 => samples.iter().map(Sample::room).sum(),
        room => room,
    };
    let mut out = String::with_capacity(room);
    for family in samples.chunk_by(|a, b| a.family() == b.family()) {
        self::family(&mut out, family, format);
    }
    up(&mut out, scraped, &identities);
    super::process::render(&mut out, scraped, &identities, format);
    skipped_slots(&mut out, scraped, &identities);
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

impl Sample<'_> {
    /// The family: name and type.
    fn family(&self) -> (&str, Type) {
        (&self.template.name, self.template.kind)
    }

    /// About the most its lines take (with its family's `# HELP` and
    /// `# TYPE`, as if each sample were a family of its own): the room a
    /// first scrape makes for its body, which has no last body to go by,
    /// so that a large one is not copied as it grows.
    fn room(&self) -> usize {
        let t = self.template;
        let line = t.name.len() + self.labels.len() + self.identity.len() + 48;
        let lines = match self.value {
            Value::Histogram { buckets, .. } => buckets.len() + 3,
            _ => 1,
        };
        2 * t.name.len() + t.help.len() + 32 + lines * line
    }

    /// What orders samples, and makes two of them one series.
    fn key(&self) -> (&str, Type, &str, &str) {
        let (name, kind) = self.family();
        (name, kind, &self.labels, self.identity)
    }
}

/// Each publisher's identity labels, rendered.
fn identities(scraped: &[Scraped<'_>], options: Options) -> Vec<String> {
    let sources: Vec<_> = scraped.iter().map(|s| (s.source, s.up)).collect();
    identity::paths(&sources)
        .into_iter()
        .zip(scraped)
        .map(|(path, s)| {
            let mut l = identity::labels(s.source, path, options.label_pid);
            l.extend(s.extra_labels.iter().cloned());
            l.sort();
            labels(&l)
        })
        .collect()
}

/// `cantal_up`, one per publisher (whatever the prefix: it is the
/// exporter's own).
fn up(out: &mut String, scraped: &[Scraped<'_>], identities: &[String]) {
    let mut up: Vec<(Cow<'_, str>, u8)> = scraped
        .iter()
        .zip(identities)
        .map(|(s, id)| {
            let labels = match s.reason {
                // `reason` sorts after `appname`, `path` and `pid`.
                Some(reason) => {
                    let reason = labels(&[("reason".to_string(), reason.to_string())]);
                    format!("{id},{reason}").into()
                }
                None => Cow::Borrowed(id.as_str()),
            };
            (labels, u8::from(s.up))
        })
        .collect();
    up.sort_unstable();
    up.dedup_by(|a, b| a.0 == b.0);
    if up.is_empty() {
        return;
    }
    out.push_str(
        "# HELP cantal_up 1 when the Cantal publisher's files were read and it is alive\n\
         # TYPE cantal_up gauge\n",
    );
    for (labels, v) in up {
        let _ = writeln!(out, "cantal_up{{{labels}}} {v}");
    }
}

/// `cantal_exporter_skipped_slots`: for each publisher read that has slots
/// the reader cannot interpret and skips (see `ParsedMeta::parse`), how many.
fn skipped_slots(out: &mut String, scraped: &[Scraped<'_>], identities: &[String]) {
    let mut rows: Vec<(&str, usize)> = scraped
        .iter()
        .zip(identities)
        .filter_map(|(s, id)| {
            let skipped = s.metrics?.0.skipped;
            (skipped > 0).then_some((id.as_str(), skipped))
        })
        .collect();
    rows.sort_unstable();
    rows.dedup_by(|a, b| a.0 == b.0);
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "# HELP cantal_exporter_skipped_slots Slots of the publisher's meta file that the \
         reader cannot interpret and skips\n\
         # TYPE cantal_exporter_skipped_slots gauge\n",
    );
    for (labels, n) in rows {
        let _ = writeln!(out, "cantal_exporter_skipped_slots{{{labels}}} {n}");
    }
}

/// One family: its metadata lines and samples (at least one).
fn family(out: &mut String, samples: &[Sample<'_>], format: Format) {
    let Some(first) = samples.first() else { return };
    let (name, kind) = first.family();
    // A counter's family is named with `_total` in the text format only;
    // its samples have it in both (from the family name or the suffix).
    let (family, suffix) = match kind {
        Type::Counter => {
            let named = format.counter_family_suffix();
            ([name, named], if named.is_empty() { "_total" } else { "" })
        }
        _ => ([name, ""], ""),
    };
    let meta = |out: &mut String, word: &str| {
        out.push_str(word);
        out.push_str(family[0]);
        out.push_str(family[1]);
        out.push(' ');
    };
    meta(out, "# HELP ");
    escape_help(out, &first.template.help, format);
    meta(out, "\n# TYPE ");
    out.push_str(kind.word());
    out.push('\n');
    if format == Format::OpenMetrics
        && let Some(unit) = first.template.unit
        && name
            .strip_suffix(unit.name)
            .is_some_and(|n| n.ends_with('_'))
    {
        meta(out, "# UNIT ");
        out.push_str(unit.name);
        out.push('\n');
    }
    let family = family.concat();
    for s in samples {
        match &s.value {
            Value::One(n) => line(out, &family, suffix, [&s.labels, "", s.identity], *n),
            Value::Histogram {
                count,
                sum,
                buckets,
            } => histogram(out, &family, s, *count, *sum, buckets),
        }
    }
}

/// A histogram's lines: cumulative buckets (never decreasing, though the
/// publisher updates them one by one), `+Inf` (the count), sum, count.
fn histogram(
    out: &mut String,
    name: &str,
    s: &Sample<'_>,
    count: u64,
    sum: f64,
    buckets: &[(f64, u64)],
) {
    let unit = s.template.unit;
    let mut running = 0;
    let mut le = String::new();
    for &(bound, n) in buckets {
        running = running.max(n);
        le.clear();
        let _ = write!(le, "le=\"{}\"", scale(bound, unit));
        line(
            out,
            name,
            "_bucket",
            [&s.labels, &le, s.identity],
            Number::Unsigned(running),
        );
    }
    let total = count.max(running);
    let tail = [
        ("_bucket", "le=\"+Inf\"", Number::Unsigned(total)),
        ("_sum", "", Number::Float(scale(sum, unit))),
        ("_count", "", Number::Unsigned(total)),
    ];
    for (suffix, le, value) in tail {
        line(out, name, suffix, [&s.labels, le, s.identity], value);
    }
}

/// `name+suffix{a,b,c} value`, with the non-empty label parts.
fn line(out: &mut String, name: &str, suffix: &str, parts: [&str; 3], value: Number) {
    out.push_str(name);
    out.push_str(suffix);
    out.push('{');
    let mut first = true;
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(part);
    }
    out.push_str("} ");
    value.write(out);
    out.push('\n');
}

/// The sample of `template` for `reading`, or `None` when there is none
/// (a state with no value, or states left out).
fn sample<'t>(
    template: &'t Template,
    reading: &'t OwnedValue,
    identity: &'t str,
    options: Options,
) -> Option<Sample<'t>> {
    let unit = template.unit;
    let value = match reading {
        OwnedValue::Counter(v) | OwnedValue::Unsigned(v) => scale_int(*v, unit),
        OwnedValue::Signed(v) if unit.is_some_and(|u| u.factor != 1.0) => {
            Number::Float(scale(*v as f64, unit))
        }
        OwnedValue::Signed(v) => Number::Signed(*v),
        OwnedValue::Float(v) => Number::Float(scale(*v, unit)),
        OwnedValue::Histogram {
            count,
            sum,
            buckets,
        } => {
            let Labels::Fixed(labels) = &template.labels else {
                return None;
            };
            return Some(Sample {
                template,
                labels: labels.as_str().into(),
                identity,
                value: Value::Histogram {
                    count: *count,
                    sum: *sum,
                    buckets,
                },
            });
        }
        OwnedValue::State { timestamp, text } => {
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
                template,
                labels: self::labels(&labels).into(),
                identity,
                value: Value::One(Number::Millis(*timestamp)),
            });
        }
        _ => return None,
    };
    let Labels::Fixed(labels) = &template.labels else {
        return None;
    };
    Some(Sample {
        template,
        labels: labels.as_str().into(),
        identity,
        value: Value::One(value),
    })
}

/// A `# HELP` text: backslash and newline escaped (and, in OpenMetrics,
/// double quotes).
fn escape_help(out: &mut String, text: &str, format: Format) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if format == Format::OpenMetrics => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// `a="1",b="x\"y"`: labels with escaped values.
pub(super) fn labels(labels: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        if !v.contains(['\\', '"', '\n']) {
            out.push_str(v);
            out.push('"');
            continue;
        }
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
