//! `cantal read`: print metrics once, as a table or as JSON lines.

use crate::fail::Result;
use crate::json;
use crate::load::{self, Layout, Reading, Slot};
use crate::target;
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
            let loaded = load::load(&source.base)?;
            let stale = !loaded.alive && target::process_gone(&source) == Some(true);
            let mut out = String::new();
            if as_json {
                let before = out.len();
                json_lines(&mut out, &loaded.layout, &loaded.readings);
                if stale {
                    mark_stale(&mut out, before);
                }
            } else {
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
                table(&mut out, &loaded.layout, &loaded.readings, None, now_ms());
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
/// plus `"timestamp"` for states.
pub(crate) fn json_lines(out: &mut String, layout: &Layout, readings: &[Reading]) {
    for (slot, reading) in layout.slots().iter().zip(readings) {
        json_line(out, slot, reading);
    }
}

fn json_line(out: &mut String, slot: &Slot, reading: &Reading) {
    out.push_str("{\"name\": {");
    for (i, (k, v)) in slot.pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        json::string(out, k);
        out.push_str(": ");
        json::string(out, v);
    }
    out.push_str("}, \"type\": ");
    json::string(out, &slot.kind);
    out.push_str(", \"value\": ");
    match reading {
        Reading::Counter(v) | Reading::Unsigned(v) => {
            let _ = write!(out, "{v}");
        }
        Reading::Signed(v) => {
            let _ = write!(out, "{v}");
        }
        Reading::Float(v) => json::float(out, *v),
        Reading::State { timestamp: 0, .. } => out.push_str("null, \"timestamp\": 0"),
        Reading::State { timestamp, text } => {
            json::string(out, text);
            let _ = write!(out, ", \"timestamp\": {timestamp}");
        }
        Reading::Histogram {
            count,
            sum,
            buckets,
        } => {
            let _ = write!(out, "{{\"count\": {count}, \"sum\": ");
            json::float(out, *sum);
            out.push_str(", \"buckets\": [");
            for (i, (bound, n)) in buckets.iter().enumerate() {
                out.push_str(if i > 0 { ", [" } else { "[" });
                json::float(out, *bound);
                let _ = write!(out, ", {n}]");
            }
            out.push_str("]}");
        }
        _ => out.push_str("null"),
    }
    out.push_str("}\n");
}

/// A value as shown in tables: states with their age at `now_ms`.
pub(crate) fn human_value(reading: &Reading, now_ms: u64) -> String {
    match reading {
        Reading::Counter(v) | Reading::Unsigned(v) => v.to_string(),
        Reading::Signed(v) => v.to_string(),
        Reading::Float(v) => v.to_string(),
        Reading::State { timestamp: 0, .. } => "-".into(),
        Reading::State { timestamp, text } => {
            let age = now_ms.saturating_sub(*timestamp);
            format!("{text} ({})", human_age(age))
        }
        Reading::Histogram {
            count,
            sum,
            buckets,
        } => {
            let mut s = format!("count {count}, sum {sum}, le");
            for (bound, n) in buckets {
                let _ = write!(s, " {bound}: {n},");
            }
            let _ = write!(s, " +Inf: {count}");
            s
        }
        _ => "?".into(),
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

/// An aligned table of name, type, value (and per-second rate, when
/// `rates` is given: one optional rate per slot).
pub(crate) fn table(
    out: &mut String,
    layout: &Layout,
    readings: &[Reading],
    rates: Option<&[Option<f64>]>,
    now_ms: u64,
) {
    let rows: Vec<[String; 4]> = layout
        .slots()
        .iter()
        .zip(readings)
        .enumerate()
        .map(|(i, (slot, reading))| {
            let rate = match rates.and_then(|r| r.get(i).copied()).flatten() {
                Some(r) => format!("{r:.1}/s"),
                None => String::new(),
            };
            [
                slot.name.clone(),
                slot.kind.clone(),
                human_value(reading, now_ms),
                rate,
            ]
        })
        .collect();
    let header = ["NAME", "TYPE", "VALUE", "RATE"];
    let columns = if rates.is_some() { 4 } else { 3 };
    let mut width = [0usize; 4];
    for row in rows
        .iter()
        .chain(std::iter::once(&header.map(String::from)))
    {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(header.map(String::from)).chain(rows) {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate().take(columns) {
            let pad = width[c].saturating_sub(cell.chars().count());
            if c > 0 {
                line.push_str("  ");
            }
            // Numbers (value and rate columns) are right-aligned, unless
            // the value is a state's text.
            let numeric = c == 3
                || (c == 2 && !cell.ends_with(')') && cell != "-" && !cell.starts_with("count "));
            if numeric {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let layout = Layout::parse(meta.as_bytes(), "h.meta").unwrap();
        let mut values = Vec::new();
        values.extend(7u64.to_ne_bytes());
        values.extend(1.5f64.to_ne_bytes());
        values.extend(6u64.to_ne_bytes());
        values.extend(4u64.to_ne_bytes());
        let readings = layout.read(&values, "h.values".as_ref()).unwrap();
        let mut json = String::new();
        json_lines(&mut json, &layout, &readings);
        assert_eq!(
            json,
            "{\"name\": {\"metric\": \"h\"}, \"type\": \"histogram\", \"value\": \
             {\"count\": 7, \"sum\": 1.5, \"buckets\": [[2.5, 4], [10.0, 6]]}}\n"
        );
        assert_eq!(
            human_value(&readings[0], 0),
            "count 7, sum 1.5, le 2.5: 4, 10: 6, +Inf: 7"
        );
    }
}
