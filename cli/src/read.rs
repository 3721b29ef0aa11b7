//! `cantal read`: print metrics once, as a table or as JSON lines.

use crate::fail::Result;
use crate::json;
use crate::load::{self, Layout, Reading, Slot};
use crate::table::{self, Align, Cell, Column, Fit, Table};
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
                let width = table::terminal_width();
                self::table(
                    &mut out,
                    &loaded.layout,
                    &loaded.readings,
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
        _ => out.push_str("null"),
    }
    out.push_str("}\n");
}

/// The longest state text a table shows, in characters (`--json` gives it
/// whole).
pub(crate) const TABLE_STATE_TEXT: usize = 48;

/// A value as shown in tables: states with their age at `now_ms`, their
/// text cut to [`TABLE_STATE_TEXT`] characters.
pub(crate) fn human_value(reading: &Reading, now_ms: u64) -> String {
    match reading {
        Reading::Counter(v) | Reading::Unsigned(v) => v.to_string(),
        Reading::Signed(v) => v.to_string(),
        Reading::Float(v) => v.to_string(),
        Reading::State { timestamp: 0, .. } => "-".into(),
        Reading::State { timestamp, text } => {
            let age = now_ms.saturating_sub(*timestamp);
            format!(
                "{} ({})",
                table::cut(text, TABLE_STATE_TEXT),
                human_age(age)
            )
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
    layout: &Layout,
    readings: &[Reading],
    rates: Option<&[Option<f64>]>,
    now_ms: u64,
    width: Option<usize>,
) {
    let columns = if rates.is_some() { 4 } else { 3 };
    let mut table = Table::new(&COLUMNS[..columns]);
    for (i, (slot, reading)) in layout.slots().iter().zip(readings).enumerate() {
        let value = human_value(reading, now_ms);
        // Numbers are right-aligned; a state's text is not.
        let value = match reading {
            Reading::State { .. } => Cell::left(value),
            _ => Cell::new(value),
        };
        let mut row = vec![
            Cell::new(slot.name.as_str()),
            Cell::new(slot.kind.as_str()),
            value,
        ];
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
            &Reading::State {
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
}
