//! `cantal watch`: redraw one publisher's metrics every interval, with
//! per-second rates of counters.

use crate::fail::{Failure, Result};
use crate::load::{self, Loaded};
use crate::read::{now_ms, table, write_stdout};
use crate::target::{self, Source};
use cantal_mmap::read::{OwnedValue, SlotName};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The per-second rate of a counter that went from `old` to `new` in
/// `seconds`: the difference modulo 2^64, as the agent computes it, so a
/// wrap-around gives the small true increase. A difference of more than
/// half the range is a counter that went back (the publisher restarted):
/// no rate then.
pub(crate) fn rate(old: u64, new: u64, seconds: f64) -> Option<f64> {
    let diff = new.wrapping_sub(old);
    if diff > u64::MAX / 2 || seconds <= 0.0 {
        None
    } else {
        Some(diff as f64 / seconds)
    }
}

/// Runs until Ctrl-C, the publisher's exit, or `count` frames.
pub(crate) fn run(target: &str, interval: f64, count: Option<u64>) -> Result<()> {
    let source = target::resolve(target)?;
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = Arc::clone(&interrupted);
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
            .map_err(|e| Failure(format!("cannot handle Ctrl-C: {e}")))?;
    }
    let terminal = std::io::stdout().is_terminal();
    let interval = Duration::from_secs_f64(interval);
    let mut rates = Rates::default();
    let mut was_alive = false;
    let mut frames = 0u64;
    let why = loop {
        let loaded = match load::load(&source) {
            Ok(loaded) => loaded,
            Err(e) if frames > 0 && !cantal_mmap::with_suffix(&source.base, ".meta").exists() => {
                break format!("publisher gone: files removed ({e})");
            }
            Err(e) => return Err(e),
        };
        if was_alive && !loaded.alive {
            break format!(
                "publisher gone: {}.values is no longer locked",
                source.base.display()
            );
        }
        was_alive = loaded.alive;
        let mut out = String::new();
        if terminal {
            out.push_str("\x1b[H\x1b[2J");
        } else if frames > 0 {
            out.push('\n');
        }
        frame(&mut out, &source, &loaded, &mut rates, interval, terminal);
        write_stdout(&out);
        frames += 1;
        if count.is_some_and(|c| frames >= c) {
            return Ok(());
        }
        if !sleep_unless_interrupted(interval, &interrupted) {
            break "interrupted".to_string();
        }
    };
    write_stdout(&format!("{why}\n"));
    Ok(())
}

/// Counter values by name, with when they were read: what a rate is
/// computed from.
#[derive(Default)]
struct Rates {
    previous: HashMap<SlotName, (u64, Instant)>,
}

impl Rates {
    /// Each slot's rate since the last read (counters and histograms, whose
    /// rate is their count's: observations per second), remembering these
    /// values for the next.
    fn update(&mut self, loaded: &Loaded, now: Instant) -> Vec<Option<f64>> {
        loaded
            .iter()
            .map(|(slot, value)| match value {
                OwnedValue::Counter(n) | OwnedValue::Histogram { count: n, .. } => self
                    .previous
                    .insert(slot.name().clone(), (*n, now))
                    .and_then(|(old, at)| rate(old, *n, now.duration_since(at).as_secs_f64())),
                _ => None,
            })
            .collect()
    }
}

/// Appends one frame: the heading line and the table, as wide as the
/// terminal's width now (a terminal resized while watching gets the new
/// width on the next frame).
fn frame(
    out: &mut String,
    source: &Source,
    loaded: &Loaded,
    rates: &mut Rates,
    interval: Duration,
    terminal: bool,
) {
    let rates = rates.update(loaded, Instant::now());
    let width = if terminal {
        crate::table::terminal_width()
    } else {
        None
    };
    out.push_str(&format!(
        "{}{}  ({}, every {:?})\n",
        source.base.display(),
        source.pid.map_or(String::new(), |p| format!(" pid {p}")),
        if loaded.alive { "alive" } else { "not locked" },
        interval
    ));
    table(
        out,
        &loaded.meta,
        &loaded.values,
        Some(&rates),
        now_ms(),
        width,
    );
}

/// Sleeps for `interval`, waking every 20 ms to see `interrupted`; `false`
/// when it was set.
fn sleep_unless_interrupted(interval: Duration, interrupted: &AtomicBool) -> bool {
    let until = Instant::now() + interval;
    while Instant::now() < until && !interrupted.load(Ordering::SeqCst) {
        std::thread::sleep(
            Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())),
        );
    }
    !interrupted.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_wrap() {
        assert_eq!(rate(10, 30, 2.0), Some(10.0));
        assert_eq!(rate(u64::MAX - 4, 5, 1.0), Some(10.0));
        assert_eq!(rate(1000, 10, 1.0), None);
    }
}
