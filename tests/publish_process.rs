//! Cross-process publishing: a child process (this test binary run again
//! with `CANTAL_TEST_ROLE` set) publishes with `cantal::start()`, and the
//! test reads its files from outside.
#![cfg(all(feature = "mmap", target_os = "linux"))]
// `metrics!` must work in crates that forbid unsafe code.
#![forbid(unsafe_code)]

use cantal::{Collection, Counter, Integer, Metric, Metrics, read};
use cantal_testkit::{TempDir, wait_for};
use std::fs;
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// A group of metrics of our own, registered as one item.
struct Pool {
    used: Integer,
    created: Counter,
}

impl Metrics for Pool {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        f(&self.used);
        f(&self.created);
    }
}

cantal::metrics! {
    /// Iterations of the child's loop.
    static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
    pub(crate) static POOL: Pool = Pool {
        used: Integer::new(&[("pool", "db"), ("metric", "used")]),
        created: Counter::new(&[("pool", "db"), ("metric", "created")]),
    };
}

/// How many ticks the counting child makes.
const TICKS_TOTAL: u64 = 300;

const ROLE: &str = "CANTAL_TEST_ROLE";

/// The child's side. In the normal test run (no role) it does nothing.
#[test]
fn child_main() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    match role.as_str() {
        // Count to TICKS_TOTAL, say so, wait for a line on stdin, exit
        // cleanly (dropping the publication).
        "count" => {
            let publication = cantal::start().expect("start");
            let second = cantal::start().unwrap_err();
            assert!(matches!(second, cantal::Error::AlreadyStarted { .. }));
            println!("started {}", publication.path().display());
            POOL.used.set(7);
            POOL.created.incr(1);
            for _ in 0..TICKS_TOTAL {
                TICKS.incr(1);
                std::thread::sleep(Duration::from_micros(500));
            }
            println!("done");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
            drop(publication);
        }
        // Publish and tick until killed.
        "hang" => {
            let _publication = cantal::start().expect("start");
            println!("started");
            loop {
                TICKS.incr(1);
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        // Try to start, report the error.
        "second" => match cantal::start() {
            Ok(_) => println!("started"),
            Err(e) => println!("error: {e}"),
        },
        // No CANTAL_PATH: the XDG_RUNTIME_DIR fallback.
        "fallback" => {
            let publication = cantal::start().expect("start");
            println!("path {}", publication.path().display());
        }
        // Publish and exit without dropping (like a crash, but clean).
        "exit" => {
            let publication = cantal::start().expect("start");
            TICKS.incr(3);
            std::mem::forget(publication);
            std::process::exit(0);
        }
        // Resume what a previous run left, count 5 more, exit leaving the
        // files (stale).
        "resume" => {
            let publication = cantal::Builder::new().resume(true).start().expect("start");
            println!("resumed {}", TICKS.get());
            TICKS.incr(5);
            std::mem::forget(publication);
            std::process::exit(0);
        }
        other => panic!("unknown role {other}"),
    }
}

fn spawn(role: &str, base: &Path) -> (Child, BufReader<ChildStdout>) {
    spawn_with(
        role,
        Command::new(std::env::current_exe().unwrap()).env("CANTAL_PATH", base),
    )
}

fn spawn_with(role: &str, command: &mut Command) -> (Child, BufReader<ChildStdout>) {
    let mut child = command
        .args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    (child, out)
}

/// The 8-byte slot of the metric whose meta line contains `needle`.
fn slot(meta: &[u8], values: &[u8], needle: &str) -> u64 {
    let meta = std::str::from_utf8(meta).unwrap();
    let mut offset = 0;
    for line in meta.lines() {
        let size: usize = line
            .split([' ', ':'])
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad meta line {line:?}"));
        if line.contains(needle) {
            return u64::from_ne_bytes(values[offset..offset + 8].try_into().unwrap());
        }
        offset += size;
    }
    panic!("no {needle} in {meta}");
}

const TICKS_NAME: &str = r#"{"group": "main_loop", "metric": "ticks"}"#;

#[test]
fn child_publishes_and_cleans_up() {
    let dir = TempDir::new("count");
    let base = dir.0.join("app");
    let (mut child, mut out) = spawn("count", &base);
    wait_for(&mut out, "started");
    let mut last = 0;
    let mut reads = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let snap = read::read(&base).unwrap();
        assert!(snap.alive);
        let ticks = slot(&snap.meta, &snap.values, TICKS_NAME);
        assert!(ticks >= last, "counter went back from {last} to {ticks}");
        last = ticks;
        reads += 1;
        if ticks == TICKS_TOTAL || Instant::now() > deadline {
            break;
        }
    }
    assert!(reads > 1);
    wait_for(&mut out, "done");
    let snap = read::read(&base).unwrap();
    assert_eq!(slot(&snap.meta, &snap.values, TICKS_NAME), TICKS_TOTAL);
    assert_eq!(slot(&snap.meta, &snap.values, r#""metric": "used""#), 7);
    assert_eq!(slot(&snap.meta, &snap.values, r#""metric": "created""#), 1);
    assert_eq!(
        String::from_utf8(snap.meta).unwrap(),
        "counter 8: {\"group\": \"main_loop\", \"metric\": \"ticks\"}\n\
         counter 8: {\"metric\": \"created\", \"pool\": \"db\"}\n\
         level 8 signed: {\"metric\": \"used\", \"pool\": \"db\"}"
    );

    child.stdin.take().unwrap().write_all(b"bye\n").unwrap();
    assert!(child.wait().unwrap().success());
    assert!(!dir.0.join("app.meta").exists());
    assert!(!dir.0.join("app.values").exists());
}

#[test]
fn killed_child_leaves_stale_files_that_a_new_start_replaces() {
    static MINE: Counter = Counter::new(&[("metric", "after-kill")]);
    let dir = TempDir::new("kill");
    let base = dir.0.join("app");
    let (mut child, mut out) = spawn("hang", &base);
    wait_for(&mut out, "started");
    assert!(read::read(&base).unwrap().alive);

    // A second process on the same path is refused, naming path and pid.
    let (mut second, mut second_out) = spawn("second", &base);
    let line = wait_for(&mut second_out, "error");
    assert!(second.wait().unwrap().success());
    assert!(line.contains("app.values"), "{line}");
    assert!(line.contains(&format!("pid {}", child.id())), "{line}");

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let snap = read::read(&base).unwrap();
    assert!(!snap.alive, "a killed publisher's files are stale");
    assert!(slot(&snap.meta, &snap.values, TICKS_NAME) > 0);

    let mut c = Collection::growable();
    c.register(&MINE).unwrap();
    let publication = cantal::Builder::new().path(&base).publish(c).unwrap();
    MINE.incr(2);
    let snap = read::read(&base).unwrap();
    assert!(snap.alive);
    assert_eq!(snap.meta, br#"counter 8: {"metric": "after-kill"}"#);
    assert_eq!(slot(&snap.meta, &snap.values, "after-kill"), 2);
    drop(publication);
}

#[test]
fn process_exit_leaves_stale_files() {
    let dir = TempDir::new("exit");
    let base = dir.0.join("app");
    let (mut child, _out) = spawn("exit", &base);
    assert!(child.wait().unwrap().success());
    let snap = read::read(&base).unwrap();
    assert!(!snap.alive);
    assert_eq!(slot(&snap.meta, &snap.values, TICKS_NAME), 3);
    assert!(!read::is_alive(&base).unwrap());
}

#[test]
fn without_cantal_path_xdg_runtime_dir_is_used() {
    let dir = TempDir::new("xdg");
    let (mut child, mut out) = spawn_with(
        "fallback",
        Command::new(std::env::current_exe().unwrap())
            .env_remove("CANTAL_PATH")
            .env("XDG_RUNTIME_DIR", &dir.0),
    );
    let line = wait_for(&mut out, "path ");
    let expected = dir.0.join(format!("cantal.{}", child.id()));
    assert!(
        line.trim_end()
            .ends_with(&format!("path {}", expected.display())),
        "{line}"
    );
    assert!(child.wait().unwrap().success());
    assert_eq!(fs::read_dir(&dir.0).unwrap().count(), 0);
}

#[test]
fn a_restarted_process_resumes_its_counters() {
    let dir = TempDir::new("resume");
    let base = dir.0.join("app");
    let (mut child, _out) = spawn("exit", &base); // leaves ticks = 3, stale
    assert!(child.wait().unwrap().success());

    let (mut child, mut out) = spawn("resume", &base);
    let line = wait_for(&mut out, "resumed");
    assert!(child.wait().unwrap().success());
    assert!(line.contains("resumed 3"), "{line}");
    let snap = read::read(&base).unwrap();
    assert_eq!(slot(&snap.meta, &snap.values, TICKS_NAME), 8);

    // Files of other declarations are not taken over.
    fs::remove_file(dir.0.join("app.meta")).unwrap();
    fs::remove_file(dir.0.join("app.values")).unwrap();
    fs::write(dir.0.join("app.meta"), br#"counter 8: {"metric": "other"}"#).unwrap();
    fs::write(dir.0.join("app.values"), 99u64.to_ne_bytes()).unwrap();
    let (mut child, mut out) = spawn("resume", &base);
    let line = wait_for(&mut out, "resumed");
    assert!(child.wait().unwrap().success());
    assert!(line.contains("resumed 0"), "{line}");
}
