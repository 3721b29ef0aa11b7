//! The README's first command: a publisher and a reader, side by side.
//!
//! ```text
//! cargo run --example demo                 # ten seconds of live metrics
//! cargo run --example demo -- --for 60     # a minute
//! ```
//!
//! The program starts a copy of itself as the publisher (a small service
//! that counts loop iterations, serves fake requests through a
//! `RequestTracker` and moves between states), with `CANTAL_PATH` pointing
//! into a private temporary directory. The parent reads those files once a
//! second, as the Cantal agent would, and prints every metric with its
//! per-second rate. When the time is up it closes the child's standard
//! input; the child stops cleanly and its files disappear.

use cantal::decode::{self, Value};
use cantal::{Counter, Float, Integer, RequestTracker, State};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

cantal::metrics! {
    static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
    static QUEUE: Integer = Integer::new(&[("group", "main_loop"), ("metric", "queue")]);
    static LOAD: Float = Float::new(&[("group", "main_loop"), ("metric", "load")]);
    static PHASE: State = State::new(&[("group", "main_loop"), ("metric", "phase")]);
    static HTTP: RequestTracker = RequestTracker::new("http", &[("service", "demo")]);
}

const ROLE: &str = "CANTAL_DEMO_ROLE";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os(ROLE).is_some() {
        return publisher();
    }
    let (run_for, interval) = arguments()?;
    let dir = private_dir()?;
    let base = dir.join("demo");
    let mut child = Command::new(std::env::current_exe()?)
        .env(ROLE, "publisher")
        .env("CANTAL_PATH", &base)
        .stdin(Stdio::piped())
        .spawn()?;
    println!(
        "publisher pid {} writes {}.{{meta,values}}",
        child.id(),
        base.display()
    );

    let result = watch(&base, run_for, interval);
    drop(child.stdin.take()); // the publisher stops when its input closes
    let status = child.wait()?;
    let gone = !base.with_extension("meta").exists() && !base.with_extension("values").exists();
    println!("publisher exited ({status}); files removed: {gone}");
    let _ = std::fs::remove_dir(&dir);
    result
}

/// The child: a service updating its metrics until its input closes.
fn publisher() -> Result<(), Box<dyn std::error::Error>> {
    let _publication = cantal::start()?;
    static STOP: AtomicBool = AtomicBool::new(false);
    std::thread::spawn(|| {
        let _ = std::io::stdin().read(&mut [0u8; 1]);
        STOP.store(true, Ordering::Relaxed);
    });
    let mut i: u64 = 0;
    while !STOP.load(Ordering::Relaxed) {
        TICKS.incr(1);
        QUEUE.set((i % 17) as i64);
        LOAD.set(1.0 + (i as f64 / 20.0).sin());
        PHASE.enter(["accepting", "parsing", "responding"][(i / 10 % 3) as usize]);
        let mut request = HTTP.request();
        std::thread::sleep(Duration::from_millis(5 + i % 10));
        if i.is_multiple_of(13) {
            request.fail();
        }
        drop(request);
        i += 1;
    }
    Ok(())
}

/// The parent: read and print the publication once per `interval`.
fn watch(
    base: &Path,
    run_for: Duration,
    interval: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let mut previous: HashMap<String, (u64, Instant)> = HashMap::new();
    while started.elapsed() < run_for {
        std::thread::sleep(interval);
        let snapshot = match cantal::read::read(base) {
            Ok(snapshot) => snapshot,
            Err(e) => {
                println!("waiting for the publisher: {e}");
                continue;
            }
        };
        let now = Instant::now();
        let wall_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
        println!(
            "\n--- {:.0} s, publisher {}",
            started.elapsed().as_secs_f64(),
            if snapshot.alive { "alive" } else { "gone" }
        );
        let mut rows = Vec::new();
        for item in decode::decode(&snapshot.meta, &snapshot.values) {
            let (entry, value) = item?;
            let Some(name) = entry.name() else { continue };
            let name = name.to_string();
            let (shown, rate) = match value {
                Value::Counter(n) => {
                    let rate = previous.insert(name.clone(), (n, now)).map(|(old, at)| {
                        n.wrapping_sub(old) as f64 / now.duration_since(at).as_secs_f64()
                    });
                    (
                        n.to_string(),
                        rate.map_or(String::new(), |r| format!("{r:.1}")),
                    )
                }
                Value::Signed(v) => (v.to_string(), String::new()),
                Value::Float(v) => (format!("{v:.3}"), String::new()),
                Value::Unsigned(v) => (v.to_string(), String::new()),
                Value::State { timestamp: 0, .. } => ("-".to_string(), String::new()),
                Value::State { timestamp, text } => (
                    format!(
                        "{} ({} ms)",
                        String::from_utf8_lossy(text),
                        wall_ms.saturating_sub(timestamp)
                    ),
                    String::new(),
                ),
                _ => continue,
            };
            rows.push((name, entry.kind().to_string(), shown, rate));
        }
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(4);
        println!(
            "{:<width$}  {:<14} {:>18} {:>10}",
            "name", "type", "value", "per second"
        );
        for (name, kind, shown, rate) in rows {
            println!("{name:<width$}  {kind:<14} {shown:>18} {rate:>10}");
        }
    }
    Ok(())
}

/// A directory only we can use, on a memory file system when there is one.
fn private_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let parent = std::env::var_os("XDG_RUNTIME_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = parent.join(format!("cantal-demo.{}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

/// `--for SECONDS` (default 10) and `--interval MS` (default 1000).
fn arguments() -> Result<(Duration, Duration), Box<dyn std::error::Error>> {
    let mut run_for = Duration::from_secs(10);
    let mut interval = Duration::from_secs(1);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--for" => run_for = Duration::try_from_secs_f64(value.parse()?)?,
            "--interval" => interval = Duration::from_millis(value.parse()?),
            other => {
                return Err(format!(
                    "unknown argument {other:?} (try --for SECONDS, --interval MS)"
                )
                .into());
            }
        }
    }
    Ok((run_for, interval))
}
