//! Cross-process stress: a child process (this test binary run again with
//! `CANTAL_TEST_ROLE` set) updates counters, levels and states from several
//! threads at full speed, while this process reads its files continuously
//! with `cantal::read::load`. Counters and per-thread levels never
//! go backwards, every state text is exactly the text entered with its
//! timestamp (never a mix of two values, never a value under another's
//! timestamp), and the final values are exact.
//!
//! Run with `--nocapture` to see the figures (reads, updates, torn values).
#![cfg(all(feature = "mmap", target_os = "linux"))]
#![forbid(unsafe_code)]

use cantal::read::{Loaded, OwnedValue, load};
use cantal::{Collection, Counter, Float, Integer, State};
use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ROLE: &str = "CANTAL_TEST_ROLE";

/// Updating threads in the child.
const THREADS: usize = 4;
/// How long the child updates.
const RUN: Duration = Duration::from_millis(2500);

/// Timestamps given to the states: each state has one writer, which
/// enters values with increasing timestamps from here.
const FIRST_TS: u64 = 1_000_000;

/// The text of the value entered with timestamp `ts` in a state of
/// `capacity` bytes: the timestamp, then one letter repeated to one of five
/// lengths (the full capacity among them). Any mix of two values, or a
/// value under another's timestamp, is not `text_for` its timestamp.
fn text_for(ts: u64, capacity: usize) -> String {
    let (letter, len) = match ts % 5 {
        0 => ('a', capacity),
        1 => ('b', 11),
        2 => ('c', capacity * 3 / 4),
        3 => ('d', capacity / 2),
        _ => ('e', 9),
    };
    let mut text = format!("{ts}:");
    while text.len() < len {
        text.push(letter);
    }
    text
}

macro_rules! per_thread {
    ($ty:ident, $metric:literal) => {
        [
            $ty::new(&[("metric", $metric), ("thread", "0")]),
            $ty::new(&[("metric", $metric), ("thread", "1")]),
            $ty::new(&[("metric", $metric), ("thread", "2")]),
            $ty::new(&[("metric", $metric), ("thread", "3")]),
        ]
    };
}

static OWN: [Counter; THREADS] = per_thread!(Counter, "own");
static SHARED: Counter = Counter::new(&[("metric", "shared")]);
static LAST: [Integer; THREADS] = per_thread!(Integer, "last");
static HALF: [Float; THREADS] = per_thread!(Float, "half");
static STATES: [State; THREADS] = per_thread!(State, "state");
/// Written by thread 0; a long copy makes a torn read likelier.
static BIG: State<BIG_TEXT> = State::new(&[("metric", "big")]);
const BIG_TEXT: usize = 4088;

/// The child's side. In the normal test run (no role) it does nothing.
#[test]
fn child_main() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    assert_eq!(role, "stress");
    let base = std::env::var_os("CANTAL_PATH").expect("CANTAL_PATH");
    let mut c = Collection::growable();
    c.register(&OWN).unwrap();
    c.register(&SHARED).unwrap();
    c.register(&LAST).unwrap();
    c.register(&HALF).unwrap();
    c.register(&STATES).unwrap();
    c.register(&BIG).unwrap();
    let publication = cantal::Builder::new().path(base).publish(c).unwrap();
    println!("started");
    let end = Instant::now() + RUN;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let mut i: u64 = 0;
                while !i.is_multiple_of(1024) || Instant::now() < end {
                    OWN[t].incr(1);
                    SHARED.incr(1);
                    LAST[t].set(i as i64);
                    HALF[t].set(i as f64 + 0.5);
                    let ts = FIRST_TS + i;
                    if i.is_multiple_of(97) {
                        STATES[t].exit();
                    } else {
                        STATES[t].enter_at(&text_for(ts, 56), ts);
                    }
                    if t == 0 {
                        BIG.enter_at(&text_for(ts, BIG_TEXT), ts);
                    }
                    i += 1;
                }
                i
            })
        })
        .collect();
    let counts: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let counts: Vec<String> = counts.iter().map(u64::to_string).collect();
    println!("totals {}", counts.join(" "));
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    drop(publication);
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// What one read saw, checked against the previous read.
#[derive(Default)]
struct Checker {
    last: HashMap<String, f64>,
    torn: u64,
    torn_examples: Vec<String>,
    states_seen: u64,
    no_state: u64,
    /// Timestamp 0 with text: the reader promises empty text then.
    no_state_with_text: u64,
    /// Of those, texts that are no whole value (a copy made mid-write):
    /// what a reader without the re-check would show as "last state".
    no_state_torn: u64,
}

impl Checker {
    fn check(&mut self, loaded: &Loaded) {
        for (m, value) in loaded.iter() {
            let number = match value {
                OwnedValue::Counter(v) => *v as f64,
                OwnedValue::Signed(v) => *v as f64,
                OwnedValue::Float(v) => *v,
                OwnedValue::State { timestamp: 0, text } => {
                    self.no_state += 1;
                    if !text.is_empty() {
                        self.no_state_with_text += 1;
                        let capacity = if m.name().as_str().contains("big") {
                            BIG_TEXT
                        } else {
                            56
                        };
                        let stamp = text.split(':').next().and_then(|t| t.parse().ok());
                        if stamp.is_none_or(|ts| *text != text_for(ts, capacity)) {
                            self.no_state_torn += 1;
                        }
                    }
                    continue;
                }
                OwnedValue::State { timestamp, text } => {
                    self.states_seen += 1;
                    let capacity = if m.name().as_str().contains("big") {
                        BIG_TEXT
                    } else {
                        56
                    };
                    if *text != text_for(*timestamp, capacity) {
                        self.torn += 1;
                        if self.torn_examples.len() < 3 {
                            self.torn_examples
                                .push(format!("{} at {timestamp}: {text:?}", m.name()));
                        }
                    }
                    continue;
                }
                other => panic!("{}: unexpected {other:?}", m.name()),
            };
            if let Some(&before) = self.last.get(m.name().as_str()) {
                assert!(
                    number >= before,
                    "{} went back from {before} to {number}",
                    m.name()
                );
            }
            self.last.insert(m.name().to_string(), number);
        }
    }
}

fn value(loaded: &Loaded, name: &str) -> OwnedValue {
    loaded
        .value(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .clone()
}

#[test]
fn concurrent_reader_never_sees_torn_or_backward_values() {
    let dir = std::env::temp_dir().join(format!("cantal-stress-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
    let dir = TempDir(dir);
    let base = dir.0.join("app");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
        .env(ROLE, "stress")
        .env("CANTAL_PATH", &base)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let (lines, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines() {
            if lines.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let next_line = |prefix: &str| loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|e| panic!("child: no {prefix:?}: {e}"));
        if line.contains(prefix) {
            return line;
        }
    };
    next_line("started");

    let mut checker = Checker::default();
    let mut reads = 0u64;
    let totals = loop {
        match rx.try_recv() {
            Ok(line) if line.starts_with("totals") => break line,
            Ok(_) | Err(mpsc::TryRecvError::Empty) => {}
            Err(e) => panic!("child ended early: {e}"),
        }
        assert!(Instant::now() < deadline, "child did not finish");
        let loaded = load(&base).unwrap();
        assert!(loaded.alive);
        checker.check(&loaded);
        reads += 1;
    };
    let counts: Vec<u64> = totals
        .split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(counts.len(), THREADS);

    // Final values: exact.
    let metrics = load(&base).unwrap();
    checker.check(&metrics);
    for (t, &n) in counts.iter().enumerate() {
        let own = format!(r#"{{"metric": "own", "thread": "{t}"}}"#);
        let last = format!(r#"{{"metric": "last", "thread": "{t}"}}"#);
        let half = format!(r#"{{"metric": "half", "thread": "{t}"}}"#);
        assert_eq!(value(&metrics, &own), OwnedValue::Counter(n));
        assert_eq!(value(&metrics, &last), OwnedValue::Signed(n as i64 - 1));
        assert_eq!(value(&metrics, &half), OwnedValue::Float(n as f64 - 0.5));
    }
    let sum: u64 = counts.iter().sum();
    assert_eq!(
        value(&metrics, r#"{"metric": "shared"}"#),
        OwnedValue::Counter(sum)
    );

    child.stdin.take().unwrap().write_all(b"bye\n").unwrap();
    assert!(child.wait().unwrap().success());
    // Per iteration: 2 counter adds, 2 level stores, 1 state enter or exit,
    // and a large-state enter on thread 0.
    let updates = 5 * sum + counts[0];
    eprintln!(
        "stress: {reads} reads, {updates} updates, {} state values checked \
         ({} no-state, {} of them with text, {} of those torn), {} torn {:?}",
        checker.states_seen,
        checker.no_state,
        checker.no_state_with_text,
        checker.no_state_torn,
        checker.torn,
        checker.torn_examples
    );
    assert!(reads >= 10, "only {reads} reads");
    assert_eq!(
        checker.torn, 0,
        "torn state texts: {:?}",
        checker.torn_examples
    );
    assert_eq!(checker.no_state_with_text, 0);
}
