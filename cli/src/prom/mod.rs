//! The Prometheus text exposition format (0.0.4) and OpenMetrics 1.0, made
//! from Cantal publications.
//!
//! The mapping is documented, with a table of examples, in `cli/README.md`
//! ("`export`: the Prometheus mapping"); [`naming`] holds its rules and the
//! tests of every row. In short:
//!
//! - A metric's family name comes from its own name and slot type only:
//!   `<prefix>[<group>_]<metric>`, sanitised; counters end with `_total`,
//!   a RequestTracker's and a Fork's millisecond counters become
//!   `..._duration_seconds_total` (divided by 1000), states go to
//!   `<prefix>[<group>_]state_start_seconds`, a recorder histogram is one
//!   `histogram` family. `group` and `metric` are not repeated as labels;
//!   every other pair is a label.
//! - Each series carries `appname` and `path` (default paths without their
//!   pid), and `pid` only with `--label-pid`.
//! - `# HELP` and `# UNIT` come from the publication's help side file
//!   (`P.help`) when it has a line for the metric.

mod identity;
mod naming;
mod number;
mod process;
mod render;

use crate::target::Source;
use cantal_mmap::help::Help;
use cantal_mmap::read::{ParsedMeta, Slot, SlotType};
use naming::{Type, Unit};
use std::fmt::Write as _;

pub(crate) use render::render;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// Export states.
    pub(crate) states: bool,
    /// The longest state text in a label, in characters.
    pub(crate) state_text_limit: usize,
    /// Put before every family name (`cantal_` by default).
    pub(crate) prefix: &'static str,
    /// Family names starting with one of these get no prefix.
    pub(crate) unprefixed: &'static [&'static str],
    /// Give every series a `pid` label.
    pub(crate) label_pid: bool,
    /// Serve the `process_*` families of every publisher's process.
    pub(crate) process_metrics: bool,
    /// The opt-in identity labels (`unit`, `container`, `comm`).
    pub(crate) identity: crate::cgroup::Asked,
}

impl Options {
    /// The defaults: states with 64 characters of text, prefix `cantal_`,
    /// no `pid` label, `process_*` families.
    pub(crate) const DEFAULT: Options = Options {
        states: true,
        state_text_limit: 64,
        prefix: "cantal_",
        unprefixed: &[],
        label_pid: false,
        process_metrics: true,
        identity: crate::cgroup::Asked {
            unit: false,
            container: false,
            comm: false,
        },
    };
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
    /// What follows a counter's name in its `# HELP` and `# TYPE` lines:
    /// `_total` in the text format; nothing in OpenMetrics, which names
    /// the family without it (its samples have `_total` in both).
    pub(crate) fn counter_family_suffix(self) -> &'static str {
        match self {
            Format::Prometheus => "_total",
            Format::OpenMetrics => "",
        }
    }

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
    pub(crate) metrics: Option<(&'a Prepared, &'a [cantal_mmap::read::OwnedValue])>,
    /// What `/proc` says of its process, for the `process_*` families
    /// (when it is up, its pid known, and they are not turned off).
    pub(crate) process: Option<crate::procfs::ProcessStats>,
    /// Its opt-in identity labels ([`Options::identity`]), unsorted.
    pub(crate) extra_labels: Vec<(String, String)>,
}

/// What one slot renders as, but for its value and its publisher's labels:
/// the same at every scrape of one publication, so made once per layout
/// (see [`prepare`]).
#[derive(Debug)]
struct Template {
    /// The family name, prefixed (without a counter's `_total`).
    name: String,
    kind: Type,
    unit: Option<Unit>,
    /// The `# HELP` text.
    help: String,
    labels: Labels,
}

/// The labels of a [`Template`] that come from the metric's name.
#[derive(Debug)]
enum Labels {
    /// Rendered once (sorted, escaped, comma-separated): the same at every
    /// scrape.
    Fixed(String),
    /// A state's, sorted, and where its `state_text` goes (the text
    /// changes, so they are rendered at each scrape).
    State(Vec<(String, String)>, usize),
}

/// A publication's slots made ready for rendering with [`prepare`]: the
/// part of the work that depends only on the meta (and help) file.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// One per slot of the layout; `None` for slots that are not exported.
    templates: Vec<Option<Template>>,
    /// The indices of the exported slots in the order their samples are
    /// written (by family name, type and labels), so that a scrape merges
    /// publishers' runs that are sorted already.
    order: Vec<usize>,
    /// How many of the layout's slots the reader skips.
    skipped: usize,
}

/// Makes `layout`'s slots ready for rendering with `options`, with the
/// help texts and units of the publication's help side file
/// (`source.base` + `.help`, read with the one reader and the checks of
/// `read`; a missing or unreadable one gives none).
pub(crate) fn prepare(
    source: &Source,
    layout: &ParsedMeta,
    read: &cantal_mmap::read::Options,
    options: &Options,
) -> Prepared {
    let help = match cantal_mmap::help::read_with(source.read_path(), read) {
        Ok(help) => help,
        Err(e) => {
            eprintln!("cantal export: ignoring the help file: {e}");
            None
        }
    };
    prepare_with(layout, help.as_ref(), options)
}

/// [`prepare`] with the help already read.
fn prepare_with(layout: &ParsedMeta, help: Option<&Help>, options: &Options) -> Prepared {
    let templates: Vec<Option<Template>> = layout
        .slots()
        .iter()
        .map(|slot| template(slot, help, options))
        .collect();
    let mut order: Vec<usize> = (0..templates.len())
        .filter(|&i| templates[i].is_some())
        .collect();
    order.sort_by_key(|&i| templates[i].as_ref().map(Template::order_key));
    Prepared {
        templates,
        order,
        skipped: layout.skipped(),
    }
}

impl Template {
    /// What orders the samples of one publication (a state's labels are
    /// completed at each scrape: its `state_text` is not part of this).
    fn order_key(&self) -> (&str, Type, &str) {
        let labels = match &self.labels {
            Labels::Fixed(l) => l.as_str(),
            Labels::State(..) => "",
        };
        (&self.name, self.kind, labels)
    }
}

/// The family and labels of `slot`, or `None` for a slot of a type we do
/// not export.
fn template(slot: &Slot, help: Option<&Help>, options: &Options) -> Option<Template> {
    let description = help.and_then(|h| h.get(slot.name().as_str()));
    let family = naming::family(
        slot.name().pairs(),
        slot.ty,
        description.and_then(|d| d.unit.as_deref()),
    )?;
    let help = match description {
        Some(d) if !d.text.is_empty() => d.text.clone(),
        _ => generic_help(slot, family.kind, family.unit),
    };
    let mut labels = family.labels;
    labels.sort();
    let labels = if slot.ty == SlotType::State {
        let at = labels.partition_point(|(k, _)| k.as_str() < "state_text");
        Labels::State(labels, at)
    } else {
        Labels::Fixed(render::labels(&labels))
    };
    Some(Template {
        name: naming::full_name(options.prefix, options.unprefixed, &family.base),
        kind: family.kind,
        unit: family.unit,
        help,
        labels,
    })
}

/// The help of a metric without a help line: its type, and the pairs
/// that make its family name (so the same for every series of a family).
fn generic_help(slot: &Slot, kind: Type, unit: Option<Unit>) -> String {
    let what = match slot.ty {
        SlotType::State => {
            "When the Cantal state (text in label state_text) was entered, \
                            in seconds since the Unix epoch"
        }
        SlotType::Histogram => "A Cantal histogram",
        _ if kind == Type::Counter => "A Cantal counter",
        _ => "A Cantal level",
    };
    // What is pushed below, in one allocation for the usual names.
    let mut text = String::with_capacity(what.len() + slot.name().as_str().len() + 56);
    text.push_str(what);
    let mut named = slot
        .name()
        .pairs()
        .filter(|&(k, _)| k == "group" || k == "metric")
        .peekable();
    if named.peek().is_some() && slot.ty != SlotType::State {
        text.push_str(" (");
        for (i, (k, v)) in named.enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(k);
            text.push('=');
            // As `{v:?}` writes it, without the formatter for most.
            if v.bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
            {
                text.push('"');
                text.push_str(v);
                text.push('"');
            } else {
                let _ = write!(text, "{v:?}");
            }
        }
        text.push(')');
    }
    match unit {
        _ if slot.ty == SlotType::State => {}
        Some(u) if u == Unit::MILLIS => {
            text.push_str(", published in milliseconds, served in seconds");
        }
        Some(u) if u.factor != 1.0 => text.push_str(&format!(", served in {}", u.name)),
        _ => {}
    }
    text
}

#[cfg(test)]
mod tests;
