//! `cantal read`: print metrics once, as a table or as JSON lines.

use crate::fail::Result;
use crate::json_lines;
use crate::load;
use crate::table::{self, Align, Cell, Column, Fit, Table};
use crate::target;
use cantal_mmap::read::{OwnedValue, ParsedMeta, Slot};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// Reads every target, printing each as soon as it is read. All targets
/// are tried; the first error is returned after the others are printed.
pub(crate) fn run(targets: &[String], as_json: bool) -> Result<()> {
    let mut first_error = None;
    let many = targets.len() > 1;
    for (i, t) in targets.iter().enumerate() {
        let result = target::resolve(t).and_then(|source| {
            let mut out = String::new();
            if as_json {
                json_of(&source, &mut |chunk| write_stdout(chunk))?;
            } else {
                let loaded = load::load(&source)?;
                let stale = !loaded.alive && target::process_gone(&source) == Some(true);
                if many {
                    if i > 0 {
                        out.push('\n');
                    }
                    let _ = writeln!(out, "{}:", source.base.display());
                }
                if stale {
                    let _ = writeln!(
                        out,
                        "stale: no process holds the lock of {}.values, and its process is gone",
                        source.base.display()
                    );
                }
                let width = table::terminal_width();
                self::table(
                    &mut out,
                    &loaded.meta,
                    &loaded.values,
                    None,
                    now_ms(),
                    width,
                );
            }
            write_stdout(&out);
            Ok(())
        });
        if let Err(e) = result {
            if many {
                eprintln!("cantal: {e}");
                first_error.get_or_insert(crate::fail::Failure("some targets failed".into()));
            } else {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// `cantal read --json` of `source`: its JSON lines, given to `sink` in
/// chunks of whole lines (so that the output is never held whole).
pub(crate) fn json_of(source: &target::Source, sink: &mut dyn FnMut(&str)) -> Result<()> {
    /// Lines in a chunk (about 50 KB of counters).
    const LINES: usize = 512;
    let loaded = load::load(source)?;
    let stale = !loaded.alive && target::process_gone(source) == Some(true);
    let mut out = String::new();
    let slots = loaded.meta.slots().chunks(LINES);
    for (slots, readings) in slots.zip(loaded.values.chunks(LINES)) {
        out.clear();
        json_lines(&mut out, slots, readings);
        if stale {
            mark_stale(&mut out, 0);
        }
        sink(&out);
    }
    Ok(())
}

/// Adds `"stale": true` to every JSON object written to `out` after
/// `from`.
fn mark_stale(out: &mut String, from: usize) {
    let marked = out[from..].replace("}\n", ", \"stale\": true}\n");
    // Only the objects' own ends: a name's `}` is followed by `, `.
    out.truncate(from);
    out.push_str(&marked);
}

/// Writes to stdout, ignoring a closed pipe (`cantal read | head`).
pub(crate) fn write_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One JSON object per metric: `{"name": {...}, "type": "...", "value": ...}`,
/// plus `"timestamp"` for states and `"skipped"`, `"line"` for a slot the
/// reader skips.
pub(crate) fn json_lines(out: &mut String, slots: &[Slot], values: &[OwnedValue]) {
    let records = slots.iter().zip(values);
    json_lines::push_lines(out, records.map(|(slot, value)| JsonSlot::new(slot, value)));
}

/// One line of `read --json`.
#[derive(Serialize)]
struct JsonSlot<'a> {
    name: json_lines::Pairs<'a>,
    #[serde(rename = "type")]
    ty: &'a str,
    value: JsonValue<'a>,
    /// A state's: milliseconds since the epoch, 0 for no state.
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<u64>,
    /// Why the reader skips the slot, and its meta line (which names a
    /// slot that has no name).
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
}

impl<'a> JsonSlot<'a> {
    fn new(slot: &'a Slot, value: &'a OwnedValue) -> JsonSlot<'a> {
        JsonSlot {
            name: json_lines::Pairs(slot.name()),
            ty: slot.kind(),
            value: JsonValue(value),
            timestamp: match value {
                OwnedValue::State { timestamp, .. } => Some(*timestamp),
                _ => None,
            },
            skipped: slot.skipped(),
            line: slot.skipped().is_some().then_some(slot.line),
        }
    }
}

/// A value in JSON: a number, a state's text (`null` for no state), a
/// histogram's `{"count", "sum", "buckets": [[bound, cumulative], ...]}`,
/// `null` for a slot that is not read.
struct JsonValue<'a>(&'a OwnedValue);

impl Serialize for JsonValue<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Histogram<'a> {
            count: u64,
            sum: f64,
            buckets: &'a [(f64, u64)],
        }
        match self.0 {
            OwnedValue::Counter(v) | OwnedValue::Unsigned(v) => s.serialize_u64(*v),
            OwnedValue::Signed(v) => s.serialize_i64(*v),
            OwnedValue::Float(v) => s.serialize_f64(*v),
            OwnedValue::State { timestamp: 0, .. } => s.serialize_unit(),
            OwnedValue::State { text, .. } => s.serialize_str(text),
            OwnedValue::Histogram {
                count,
                sum,
                buckets,
            } => Histogram {
                count: *count,
                sum: *sum,
                buckets,
            }
            .serialize(s),
            _ => s.serialize_unit(),
        }
    }
}

/// A slot's name in a table: `(meta line N)` for a skipped slot without
/// one.
fn table_name(slot: &Slot) -> String {
    if slot.skipped().is_some() && slot.name().as_str().is_empty() {
        format!("(meta line {})", slot.line)
    } else {
        slot.name().to_string()
    }
}

/// A slot's value in a table: `unsupported (REASON)` for a skipped slot.
fn table_value(slot: &Slot, reading: &OwnedValue, now_ms: u64) -> String {
    match slot.skipped() {
        Some(why) => format!("unsupported ({why})"),
        None => human_value(reading, now_ms),
    }
}

/// The longest state text a table shows, in characters (`--json` gives it
/// whole).
pub(crate) const TABLE_STATE_TEXT: usize = 48;

/// A value as shown in tables: states with their age at `now_ms`, their
/// text cut to [`TABLE_STATE_TEXT`] characters.
pub(crate) fn human_value(reading: &OwnedValue, now_ms: u64) -> String {
    match reading {
        OwnedValue::Counter(v) | OwnedValue::Unsigned(v) => v.to_string(),
        OwnedValue::Signed(v) => v.to_string(),
        OwnedValue::Float(v) => v.to_string(),
        OwnedValue::State { timestamp: 0, .. } => "-".into(),
        OwnedValue::State { timestamp, text } => {
            let age = now_ms.saturating_sub(*timestamp);
            format!(
                "{} ({})",
                table::cut(text, TABLE_STATE_TEXT),
                human_age(age)
            )
        }
        OwnedValue::Histogram {
            count,
            sum,
            buckets,
        } => histogram_summary(*count, *sum, buckets),
        _ => "?".into(),
    }
}

/// A histogram in a table: `count 7, mean 232, p50 7.5, p90 512, p99
/// 512`, quantiles estimated from the buckets as
/// [`cantal_mmap::histogram::quantile`] says (within the bucket that holds
/// the true value; `>512` when it is above the last bound). `--json` gives
/// the buckets themselves.
fn histogram_summary(count: u64, sum: f64, buckets: &[(f64, u64)]) -> String {
    use cantal_mmap::histogram::quantile;
    if count == 0 {
        return "count 0".into();
    }
    let mut s = format!("count {count}, mean {}", short(sum / count as f64));
    let finite = buckets.last().map_or(0, |&(_, n)| n);
    for (label, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        let Some(v) = quantile(q, count, buckets) else {
            continue;
        };
        // A rank past the last finite bucket is only known to be above it.
        let above = q * count as f64 > finite as f64;
        let _ = write!(s, ", {label} {}{}", if above { ">" } else { "" }, short(v));
    }
    s
}

/// A number in about three significant digits: `7.5`, `232`, `0.0123`.
fn short(v: f64) -> String {
    if !v.is_finite() || v == v.trunc() && v.abs() < 1e15 {
        return format!("{v}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// `850 ms`, `3.2 s`, `12 min`, `5.1 h`, `3.0 d`.
fn human_age(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    if ms < 1000 {
        format!("{ms} ms")
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}

/// The width of the RATE column: every rate [`human_rate`] writes fits,
/// so the column stays put from one frame to the next.
const RATE_WIDTH: usize = 9;

/// A per-second rate in at most [`RATE_WIDTH`] characters: `12.5/s`,
/// `99999.9/s`, then with a decimal prefix, `123.4k/s`, `18.4E/s`.
pub(crate) fn human_rate(rate: f64) -> String {
    if !rate.is_finite() || rate < 0.0 {
        return "?".into();
    }
    if rate < 99_999.95 {
        return format!("{rate:.1}/s");
    }
    let mut scaled = rate;
    for prefix in ["k", "M", "G", "T", "P", "E", "Z"] {
        scaled /= 1000.0;
        if scaled < 999.95 {
            return format!("{scaled:.1}{prefix}/s");
        }
    }
    format!("{:.0e}/s", rate)
}

/// The columns of [`table`]: name, type, value and rate.
const COLUMNS: [Column; 4] = [
    Column {
        header: "NAME",
        align: Align::Left,
        fit: Fit::Shorten { min: 24 },
    },
    Column {
        header: "TYPE",
        align: Align::Left,
        fit: Fit::Keep,
    },
    Column {
        header: "VALUE",
        align: Align::Right,
        fit: Fit::Cut { min: 20 },
    },
    Column {
        header: "RATE",
        align: Align::Right,
        fit: Fit::Keep,
    },
];

/// An aligned table of name, type, value (and per-second rate, when
/// `rates` is given: one optional rate per slot), fitted to `width`
/// characters when one is given (see [`crate::table`]).
pub(crate) fn table(
    out: &mut String,
    layout: &ParsedMeta,
    readings: &[OwnedValue],
    rates: Option<&[Option<f64>]>,
    now_ms: u64,
    width: Option<usize>,
) {
    let columns = if rates.is_some() { 4 } else { 3 };
    let mut table = Table::new(&COLUMNS[..columns]);
    for (i, (slot, reading)) in layout.slots().iter().zip(readings).enumerate() {
        let value = table_value(slot, reading, now_ms);
        // Numbers are right-aligned; a state's text and a skipped slot's
        // reason are not.
        let value = match reading {
            OwnedValue::State { .. } | OwnedValue::Histogram { .. } => Cell::left(value),
            _ if slot.skipped().is_some() => Cell::left(value),
            _ => Cell::new(value),
        };
        let mut row = vec![Cell::new(table_name(slot)), Cell::new(slot.kind()), value];
        if let Some(rates) = rates {
            let rate = rates.get(i).copied().flatten().map(human_rate);
            // Padded to the fixed width, header included.
            row.push(Cell::new(format!(
                "{:>RATE_WIDTH$}",
                rate.unwrap_or_default()
            )));
        }
        table.push(row);
    }
    out.push_str(&table.render(width));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layout with a good counter, a skipped named slot and a skipped
    /// nameless one, and its readings.
    fn with_skipped() -> (ParsedMeta, Vec<OwnedValue>) {
        let meta = b"counter 8: {\"a\": \"1\"}\ncounter 4: {\"a\": \"2\"}\nblob 3\n\
                     level 8 signed: {\"a\": \"3\"}";
        let layout = ParsedMeta::parse(meta, "t.meta").unwrap();
        let mut values = 7u64.to_ne_bytes().to_vec();
        values.extend([0xAA; 7]);
        values.extend((-9i64).to_ne_bytes());
        let readings = layout.read(&values, "t.values".as_ref()).unwrap();
        (layout, readings)
    }

    #[test]
    fn a_skipped_slot_is_a_row_marked_unsupported() {
        let (layout, readings) = with_skipped();
        let mut out = String::new();
        table(&mut out, &layout, &readings, None, 0, None);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{out}");
        assert!(lines[1].starts_with("{\"a\": \"1\"}"), "{out}");
        assert!(lines[1].ends_with(" 7"), "{out}");
        assert!(lines[2].starts_with("{\"a\": \"2\"}"), "{out}");
        assert!(
            lines[2].ends_with(" unsupported (size must be 8, found 4)"),
            "{out}"
        );
        assert!(lines[3].starts_with("(meta line 3)"), "{out}");
        assert!(lines[3].ends_with("unsupported (unknown type)"), "{out}");
        assert!(lines[4].ends_with(" -9"), "{out}");
    }

    #[test]
    fn a_skipped_slot_is_null_with_its_reason_in_json() {
        let (layout, readings) = with_skipped();
        let mut out = String::new();
        json_lines(&mut out, layout.slots(), &readings);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"name": {"a": "1"}, "type": "counter", "value": 7}"#,
                r#"{"name": {"a": "2"}, "type": "counter", "value": null, "skipped": "size must be 8, found 4", "line": 2}"#,
                r#"{"name": {}, "type": "blob", "value": null, "skipped": "unknown type", "line": 3}"#,
                r#"{"name": {"a": "3"}, "type": "level signed", "value": -9}"#,
            ]
        );
    }

    #[test]
    fn rates_fit_their_column() {
        for (rate, shown) in [
            (0.0, "0.0/s"),
            (12.46, "12.5/s"),
            (99_999.9, "99999.9/s"),
            (99_999.96, "100.0k/s"),
            (123_456.0, "123.5k/s"),
            (999_960.0, "1.0M/s"),
            (u64::MAX as f64, "18.4E/s"),
        ] {
            assert_eq!(human_rate(rate), shown);
            assert!(shown.chars().count() <= RATE_WIDTH, "{shown}");
        }
        assert_eq!(human_rate(f64::NAN), "?");
    }

    #[test]
    fn state_texts_are_cut_in_tables() {
        let text = "y".repeat(500);
        let shown = human_value(
            &OwnedValue::State {
                timestamp: 1000,
                text,
            },
            2000,
        );
        assert_eq!(
            shown,
            format!("{}… (1.0 s)", "y".repeat(TABLE_STATE_TEXT - 1))
        );
    }

    #[test]
    fn ages() {
        assert_eq!(human_age(850), "850 ms");
        assert_eq!(human_age(3_200), "3.2 s");
        assert_eq!(human_age(600_000), "10 min");
    }

    #[test]
    fn a_histogram_is_one_metric_with_its_buckets_in_bound_order() {
        let meta = "counter 8: {\"metric\": \"h_count\"}\nlevel 8 float: {\"metric\": \"h_sum\"}\n\
            counter 8: {\"le\": \"10\", \"metric\": \"h_bucket\"}\n\
            counter 8: {\"le\": \"2.5\", \"metric\": \"h_bucket\"}";
        let layout = ParsedMeta::parse(meta.as_bytes(), "h.meta").unwrap();
        let mut values = Vec::new();
        values.extend(7u64.to_ne_bytes());
        values.extend(1.5f64.to_ne_bytes());
        values.extend(6u64.to_ne_bytes());
        values.extend(4u64.to_ne_bytes());
        let readings = layout.read(&values, "h.values".as_ref()).unwrap();
        let mut json = String::new();
        json_lines(&mut json, layout.slots(), &readings);
        assert_eq!(
            json,
            "{\"name\": {\"metric\": \"h\"}, \"type\": \"histogram\", \"value\": \
             {\"count\": 7, \"sum\": 1.5, \"buckets\": [[2.5, 4], [10.0, 6]]}}\n"
        );
        assert_eq!(
            human_value(&readings[0], 0),
            "count 7, mean 0.214, p50 2.19, p90 >10, p99 >10"
        );
    }
}
