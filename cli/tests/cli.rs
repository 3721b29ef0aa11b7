//! The `cantal` binary against real publications: files written in this
//! process with `cantal-mmap`, by child processes (this test binary run
//! again with `CANTAL_CLI_TEST_ROLE` set), and by the reference Python
//! client.
#![forbid(unsafe_code)]

use cantal_core::{Collection, Counter, Float, Integer, ShardedCounter, State};
mod common;

use cantal_testkit::TempDir;
use common::{
    BIN, Exporter, KillOnDrop, Prometheus, first_line, get, have, promtool_check, python_available,
};
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ROLE: &str = "CANTAL_CLI_TEST_ROLE";

fn cantal(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

// ---------------------------------------------------------------------
// The child publisher.

static FIXED: Counter = Counter::new(&[("group", "cli_test"), ("metric", "fixed")]);
static TICKS: Counter = Counter::new(&[("group", "cli_test"), ("metric", "ticks")]);
static PHASE: State = State::new(&[("group", "cli_test"), ("metric", "phase")]);
static SPREAD: ShardedCounter<4> =
    ShardedCounter::new(&[("group", "cli_test"), ("metric", "spread")]);

/// The child's side; does nothing in the normal test run. Publishes at
/// `CANTAL_PATH` (or the default path), prints `started`, ticks until its
/// standard input closes, then removes its files.
#[test]
fn child_main() {
    if std::env::var_os(ROLE).is_none() {
        return;
    }
    let mut metrics = Collection::growable();
    metrics.register(&FIXED).unwrap();
    metrics.register(&TICKS).unwrap();
    metrics.register(&PHASE).unwrap();
    metrics.register(&SPREAD).unwrap();
    let mut publisher = cantal_mmap::Publisher::new();
    if let Some(path) = std::env::var_os("CANTAL_PATH") {
        publisher = publisher.path(path);
    }
    let publication = publisher.publish(metrics).unwrap();
    FIXED.incr(12345);
    increment_from_threads(&SPREAD, 4, 250);
    PHASE.enter("serving");
    println!("started {}", publication.path().display());
    std::thread::spawn(|| {
        loop {
            TICKS.incr(1);
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    drop(publication);
}

/// Starts a child publisher; returns it once it has published, with its
/// base path.
fn spawn_publisher(env: &[(&str, &Path)], remove_cantal_path: bool) -> (Child, PathBuf) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
        .env(ROLE, "publish")
        .env("CANTAL_APPNAME", "cli-test")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    if remove_cantal_path {
        cmd.env_remove("CANTAL_PATH");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let path = wait_started(child.stdout.take().unwrap());
    (child, path)
}

/// Reads the child's output up to its `started` line, then drains the
/// rest in a thread (so the child never writes to a closed pipe).
fn wait_started(out: ChildStdout) -> PathBuf {
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "child ended");
        // The harness may print `test child_main ... ` before it.
        if let Some(i) = line.find("started ") {
            let path = PathBuf::from(line[i + "started ".len()..].trim_end());
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return path;
        }
    }
}

// ---------------------------------------------------------------------
// read --json on our own files, published in this process.

static BIG: Counter = Counter::new(&[("metric", "big")]);
static LOW: Integer = Integer::new(&[("metric", "low")]);
static THIRD: Float = Float::new(&[("metric", "third")]);
static HUGE: Float = Float::new(&[("metric", "huge")]);
static TEXT: State = State::new(&[("metric", "text")]);
static IDLE: State = State::new(&[("metric", "idle")]);
static ESCAPED: Counter = Counter::new(&[("na\"me\\", "l\u{e9}\nv\u{1f600}"), ("metric", "esc")]);
static SHARDED: ShardedCounter = ShardedCounter::new(&[("metric", "sharded")]);

/// Adds `each` to `counter` one at a time from `threads` threads at once,
/// so that several shards get some.
fn increment_from_threads<const N: usize>(counter: &ShardedCounter<N>, threads: u64, each: u64) {
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| (0..each).for_each(|_| counter.incr(1)));
        }
    });
}

#[test]
fn read_json_gives_exact_values() {
    let dir = TempDir::new("read");
    let mut metrics = Collection::growable();
    metrics.register(&BIG).unwrap();
    metrics.register(&LOW).unwrap();
    metrics.register(&THIRD).unwrap();
    metrics.register(&HUGE).unwrap();
    metrics.register(&TEXT).unwrap();
    metrics.register(&IDLE).unwrap();
    metrics.register(&ESCAPED).unwrap();
    metrics.register(&SHARDED).unwrap();
    let publication = cantal_mmap::Publisher::new()
        .path(dir.0.join("ours"))
        .publish(metrics)
        .unwrap();
    BIG.incr(u64::MAX);
    LOW.set(i64::MIN);
    THIRD.set(0.1 + 0.2);
    HUGE.set(1e300);
    TEXT.enter_at("h\u{e9}llo \u{2713}", 1_700_000_000_123);
    ESCAPED.incr(7);
    increment_from_threads(&SHARDED, 8, 1000);
    SHARDED.incr(u64::MAX - 999);

    let meta_path = format!("{}.meta", publication.path().display());
    for target in [publication.path().to_str().unwrap(), &meta_path] {
        let o = cantal(&["read", "--json", target]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        let mut lines: Vec<&str> = out.lines().collect();
        // The eight shards of SHARDED are one line.
        assert_eq!(lines.len(), 8, "{out}");
        // In meta order: 8-byte slots (sorted by name), then the sharded
        // counter's cache lines and the states.
        assert!(lines[..5].iter().all(|l| !l.contains("\"state\"")), "{out}");
        lines.sort();
        let mut expected = vec![
            r#"{"name": {"metric": "big"}, "type": "counter", "value": 18446744073709551615}"#,
            r#"{"name": {"metric": "low"}, "type": "level signed", "value": -9223372036854775808}"#,
            r#"{"name": {"metric": "third"}, "type": "level float", "value": 0.30000000000000004}"#,
            r#"{"name": {"metric": "huge"}, "type": "level float", "value": 1e300}"#,
            "{\"name\": {\"metric\": \"text\"}, \"type\": \"state\", \"value\": \"h\u{e9}llo \u{2713}\", \"timestamp\": 1700000000123}",
            r#"{"name": {"metric": "idle"}, "type": "state", "value": null, "timestamp": 0}"#,
            "{\"name\": {\"metric\": \"esc\", \"na\\\"me\\\\\": \"l\u{e9}\\nv\u{1f600}\"}, \"type\": \"counter\", \"value\": 7}",
            // 8,000 + u64::MAX - 999, wrapping.
            r#"{"name": {"metric": "sharded"}, "type": "counter", "value": 7000}"#,
        ];
        expected.sort();
        assert_eq!(lines, expected);
    }

    // The table shows the same, aligned.
    let o = cantal(&["read", publication.path().to_str().unwrap()]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.starts_with("NAME"), "{out}");
    assert!(out.contains("18446744073709551615"));
    assert!(out.contains("h\u{e9}llo \u{2713} ("), "{out}");
    drop(publication);
}

// ---------------------------------------------------------------------
// Files of the reference Python client.

const PYTHON: &str = r#"
import cantal, sys
c = cantal.Collection()
n = cantal.Counter(group="py", metric="requests", collection=c)
i = cantal.Integer(group="py", metric="queue", collection=c)
f = cantal.Float(group="py", metric="load", collection=c)
s = cantal.State(group="py", metric="phase", collection=c)
e = cantal.State(group="py", metric="empty", collection=c)
u = cantal.Counter(group="py", metric="\u00fcber \"q\"", collection=c)
# `state 8` and `state 11`: sizes the original agent skips or rarely sees.
t0 = cantal.State(size=0, group="py", metric="tiny0", collection=c)
t3 = cantal.State(size=3, group="py", metric="tiny3", collection=c)
c.start(sys.argv[1])
t0.enter("gone")
t3.enter("abcdef")
n.incr(18446744073709551615)
i.set(-9223372036854775808)
f.set(0.1)
s.enter("d\u00e9j\u00e0 vu")
u.incr(3)
print("ready", flush=True)
sys.stdin.read()
"#;

#[test]
fn read_json_of_python_files() {
    if !python_available() {
        return;
    }
    let dir = TempDir::new("py");
    let base = dir.0.join("py");
    let (mut child, line) =
        first_line(Command::new("python3").args(["-c", PYTHON, base.to_str().unwrap()]));
    assert_eq!(line, "ready\n");
    let o = cantal(&["read", "--json", base.to_str().unwrap()]);
    drop(child.stdin.take());
    child.wait().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    let phase = lines
        .iter()
        .find(|l| l.contains("\"phase\""))
        .unwrap()
        .to_string();
    assert!(
        phase.starts_with("{\"name\": {\"group\": \"py\", \"metric\": \"phase\"}, \"type\": \"state\", \"value\": \"d\u{e9}j\u{e0} vu\", \"timestamp\": "),
        "{phase}"
    );
    let expected = [
        r#"{"name": {"group": "py", "metric": "load"}, "type": "level float", "value": 0.1}"#,
        r#"{"name": {"group": "py", "metric": "queue"}, "type": "level signed", "value": -9223372036854775808}"#,
        r#"{"name": {"group": "py", "metric": "requests"}, "type": "counter", "value": 18446744073709551615}"#,
        "{\"name\": {\"group\": \"py\", \"metric\": \"\u{fc}ber \\\"q\\\"\"}, \"type\": \"counter\", \"value\": 3}",
        r#"{"name": {"group": "py", "metric": "empty"}, "type": "state", "value": null, "timestamp": 0}"#,
    ];
    assert_eq!(lines.len(), 8, "{out}");
    for (metric, text) in [("tiny0", ""), ("tiny3", "abc")] {
        let start = format!(
            "{{\"name\": {{\"group\": \"py\", \"metric\": \"{metric}\"}}, \"type\": \"state\", \
             \"value\": \"{text}\", \"timestamp\": "
        );
        assert!(
            lines.iter().any(|l| l.starts_with(&start)),
            "{start}\nin\n{out}"
        );
    }
    for e in expected {
        assert!(lines.contains(&e), "missing {e}\nin\n{out}");
    }
}

// ---------------------------------------------------------------------
// Errors.

#[test]
fn missing_files() {
    let dir = TempDir::new("missing");
    let base = dir.0.join("nothing");
    let o = cantal(&["read", base.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("cantal: {}.meta: ", base.display())),
        "{err}"
    );
}

/// One file of a pair without the other is named as such, in one line,
/// for each half.
#[test]
fn half_present_publications_name_the_missing_file() {
    let dir = TempDir::new("half");
    let meta_only = dir.0.join("meta-only");
    fs::write(
        dir.path("meta-only.meta"),
        "counter 8: {\"metric\": \"a\"}\n",
    )
    .unwrap();
    let values_only = dir.0.join("values-only");
    fs::write(dir.path("values-only.values"), [0u8; 8]).unwrap();
    for (base, missing, present) in [
        (&meta_only, ".values", ".meta"),
        (&values_only, ".meta", ".values"),
    ] {
        let o = cantal(&["read", base.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        let (b, m, p) = (base.display(), missing, present);
        assert!(
            err.starts_with(&format!("cantal: {b}{m}: no such file, but {b}{p} exists")),
            "{err}"
        );
    }
}

#[test]
fn malformed_meta_names_the_line() {
    let dir = TempDir::new("malformed");
    let base = dir.0.join("bad");
    std::fs::write(
        dir.0.join("bad.meta"),
        "counter 8: {\"a\": \"1\"}\ncounter 8: {\"a\": \"\\q\"}",
    )
    .unwrap();
    std::fs::write(dir.0.join("bad.values"), [0u8; 16]).unwrap();
    let o = cantal(&["read", "--json", base.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "cantal: {}.meta: meta line 2, column ",
            base.display()
        )),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    // Duplicate names: the second line is a row marked unsupported.
    std::fs::write(
        dir.0.join("bad.meta"),
        "counter 8: {\"a\": \"1\"}\ncounter 8: {\"a\":\"1\"}",
    )
    .unwrap();
    let o = cantal(&["read", base.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("unsupported (the same name as meta line 1)"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // Values shorter than the meta says (half-written).
    std::fs::write(
        dir.0.join("bad.meta"),
        "counter 8: {\"a\": \"1\"}\ncounter 8: {\"a\": \"2\"}",
    )
    .unwrap();
    std::fs::write(dir.0.join("bad.values"), [0u8; 12]).unwrap();
    let o = cantal(&["read", base.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!(
            "cantal: {}.values: values too short for meta line 2",
            base.display()
        )),
        "{}",
        stderr(&o)
    );
}

#[test]
fn pid_without_cantal_path() {
    let mut child = Command::new("sleep")
        .arg("30")
        .env_remove("CANTAL_PATH")
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let o = cantal(&["read", &pid]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "cantal: process {pid} has no CANTAL_PATH in /proc/{pid}/environ"
        )),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["read"][..],
        &["frobnicate"],
        &["watch", "--interval", "0", "x"],
        &["export"],
    ] {
        let o = cantal(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
    for cmd in ["read", "watch", "scan", "export"] {
        let o = cantal(&[cmd, "--help"]);
        assert!(o.status.success());
        assert!(stdout(&o).contains("Example"), "{cmd}");
    }
}

// ---------------------------------------------------------------------
// read by pid, scan, watch.

#[test]
fn read_by_pid_and_scan() {
    let dir = TempDir::new("scan");
    let (mut child, base) = spawn_publisher(&[("CANTAL_PATH", &dir.0.join("live"))], false);
    let pid = child.id();
    assert_eq!(base, dir.0.join("live"));

    let o = cantal(&["read", "--json", &pid.to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(
        r#"{"name": {"group": "cli_test", "metric": "fixed"}, "type": "counter", "value": 12345}"#
    ));
    assert!(!stdout(&o).contains("stale"), "{}", stdout(&o));

    let pid_arg = pid.to_string();
    let o = cantal(&["scan", "--json", "--no-default-dirs", "--pid", &pid_arg]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Three metrics and a sharded counter (four slots that count as one);
    // only the process asked for.
    let expected = format!(
        "{{\"pid\": {pid}, \"appname\": \"cli-test\", \"path\": \"{}\", \"metrics\": 4, \"status\": \"alive\"}}\n",
        base.display()
    );
    assert_eq!(stdout(&o), expected);
    let o = cantal(&["scan", "--no-default-dirs", "--pid", &pid_arg]);
    let table = stdout(&o);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with("PID "), "{table}");
    assert!(
        lines[1].starts_with(&format!("{pid} ")) && lines[1].ends_with("alive"),
        "{table}"
    );
    drop(child.stdin.take());
    child.wait().unwrap();

    // A publisher at the default path, killed: its files stay, stale.
    let (mut child, base) = spawn_publisher(&[("XDG_RUNTIME_DIR", &dir.0)], true);
    let pid = child.id();
    assert_eq!(base, dir.0.join(format!("cantal.{pid}")));
    child.kill().unwrap();
    child.wait().unwrap();
    // Found in the default directory by the pid in its name (the process
    // is gone, so /proc knows nothing of it).
    let o = Command::new(BIN)
        .args(["scan", "--json", "--pid", &pid.to_string()])
        .env("XDG_RUNTIME_DIR", &dir.0)
        .output()
        .unwrap();
    let expected = format!(
        "{{\"pid\": {pid}, \"appname\": null, \"path\": \"{}\", \"metrics\": 4, \"status\": \"stale\"}}\n",
        base.display()
    );
    assert_eq!(stdout(&o), expected);

    // `cantal read` says so, in JSON and in the table.
    let o = cantal(&["read", "--json", base.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(
        out.lines().all(|l| l.ends_with(", \"stale\": true}")),
        "{out}"
    );
    let o = cantal(&["read", base.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!(
            "stale: no process holds the lock of {}.values, and its process is gone\n",
            base.display()
        )),
        "{out}"
    );
}

/// `--dir`, `--pid`, `--no-proc` and `--no-default-dirs` look only where
/// they are told: every line of output is one of this test's files.
#[test]
fn discovery_flags_are_hermetic() {
    let dir = TempDir::new("discovery");
    let (mut child, base) = spawn_publisher(&[("CANTAL_PATH", &dir.0.join("named"))], false);
    let pid = child.id();
    let own = dir.0.join("own");
    std::fs::write(dir.0.join("own.meta"), "counter 8: {\"metric\": \"x\"}").unwrap();
    std::fs::write(dir.0.join("own.values"), 7u64.to_ne_bytes()).unwrap();
    // Not a publication: no `.meta`.
    std::fs::write(dir.0.join("lonely.values"), [0u8; 8]).unwrap();
    std::fs::create_dir(dir.0.join("sub")).unwrap();
    std::fs::write(dir.0.join("sub").join("deep.meta"), "").unwrap();

    let dir_arg = dir.0.to_str().unwrap();
    let o = cantal(&[
        "scan",
        "--json",
        "--no-proc",
        "--no-default-dirs",
        "--dir",
        dir_arg,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // No pid known: no process was looked at. Sorted by path.
    let expected = format!(
        "{{\"pid\": null, \"appname\": null, \"path\": \"{}\", \"metrics\": 4, \"status\": \"alive\"}}\n\
         {{\"pid\": null, \"appname\": null, \"path\": \"{}\", \"metrics\": 1, \"status\": \"stale\"}}\n",
        base.display(),
        own.display()
    );
    assert_eq!(stdout(&o), expected);

    // The process names its file: --dir and --pid merge, the pid wins.
    let pid_arg = pid.to_string();
    let o = cantal(&[
        "scan",
        "--json",
        "--no-default-dirs",
        "--pid",
        &pid_arg,
        "--dir",
        dir_arg,
    ]);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(&format!("{{\"pid\": {pid}, \"appname\": \"cli-test\"")),
        "{out}"
    );

    // Nothing at all to look at: an empty list.
    let o = cantal(&["scan", "--json", "--no-proc", "--no-default-dirs"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    // --pid and --no-proc contradict each other.
    let o = cantal(&["scan", "--no-proc", "--pid", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // export takes the same flags.
    let exporter = Exporter::start(&["--no-proc", "--no-default-dirs", "--dir", dir_arg]);
    let (_, _, body) = get(&exporter.addr, "/metrics", None);
    let ups: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("cantal_up{"))
        .collect();
    assert_eq!(
        ups,
        [
            format!("cantal_up{{path=\"{}\"}} 1", base.display()),
            format!("cantal_up{{path=\"{}\",reason=\"stale\"}} 0", own.display()),
        ],
        "{body}"
    );
    drop(exporter);
    drop(child.stdin.take());
    child.wait().unwrap();
}

#[test]
fn watch_shows_rates_and_stops_when_the_publisher_goes() {
    let dir = TempDir::new("watch");
    let (mut child, base) = spawn_publisher(&[("CANTAL_PATH", &dir.0.join("w"))], false);
    let o = cantal(&[
        "watch",
        "--interval",
        "0.3",
        "--count",
        "3",
        base.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let frames: Vec<&str> = out.split("\n\n").collect();
    assert_eq!(frames.len(), 3, "{out}");
    assert!(!out.contains('\x1b'));
    // Ticks grow by about 100 a second; the fixed counter does not.
    let last = frames[2];
    let ticks = last.lines().find(|l| l.contains("\"ticks\"")).unwrap();
    let rate: f64 = ticks
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_end_matches("/s")
        .parse()
        .unwrap();
    assert!((20.0..200.0).contains(&rate), "{ticks}");
    let fixed = last.lines().find(|l| l.contains("\"fixed\"")).unwrap();
    assert!(fixed.ends_with("0.0/s"), "{fixed}");
    assert!(last.contains("serving ("), "{last}");
    // The sharded counter is one line with the sum of its shards.
    let spread: Vec<&str> = last.lines().filter(|l| l.contains("\"spread\"")).collect();
    assert_eq!(spread.len(), 1, "{last}");
    assert!(spread[0].contains(" 1000 "), "{}", spread[0]);
    assert!(!out.contains("cantal_shard"), "{out}");

    // Watch until the publisher exits.
    let watcher = Command::new(BIN)
        .args(["watch", "--interval", "0.1", base.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    drop(child.stdin.take());
    child.wait().unwrap();
    let started = Instant::now();
    let o = watcher.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("publisher gone"),
        "{out}"
    );
}

// ---------------------------------------------------------------------
// export.

#[test]
fn export_serves_prometheus_and_openmetrics() {
    let dir = TempDir::new("export");
    let (mut child, base) = spawn_publisher(&[("CANTAL_PATH", &dir.0.join("exp"))], false);
    let pid = child.id();
    let pid_arg = pid.to_string();
    // Only our own child: promtool below checks what we published, not
    // whatever else runs on this machine.
    let exporter = Exporter::start(&["--label-pid", "--no-default-dirs", "--pid", &pid_arg]);
    let (status, headers, body) = get(&exporter.addr, "/metrics", None);
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{headers}"
    );
    let fixed = format!(
        "cantal_cli_test_fixed_total{{appname=\"cli-test\",path=\"{}\",pid=\"{pid}\"}} 12345",
        base.display()
    );
    assert!(body.lines().any(|l| l == fixed), "{fixed}\nnot in\n{body}");
    // The four shards of SPREAD are one series holding their sum.
    let spread = format!(
        "cantal_cli_test_spread_total{{appname=\"cli-test\",path=\"{}\",pid=\"{pid}\"}} 1000",
        base.display()
    );
    assert!(
        body.lines().any(|l| l == spread),
        "{spread}\nnot in\n{body}"
    );
    assert!(!body.contains("cantal_shard"), "{body}");
    assert!(body.contains("# TYPE cantal_cli_test_fixed_total counter\n"));
    assert!(body.contains(&format!(
        "cantal_up{{appname=\"cli-test\",path=\"{}\",pid=\"{pid}\"}} 1",
        base.display()
    )));
    assert!(body.contains("state_text=\"serving\""));
    // Only the publisher asked for.
    let ups = body.lines().filter(|l| l.starts_with("cantal_up")).count();
    assert_eq!(ups, 1, "{body}");
    // One TYPE line per family.
    let mut types: Vec<&str> = body.lines().filter(|l| l.starts_with("# TYPE ")).collect();
    let n = types.len();
    types.sort();
    types.dedup();
    assert_eq!(types.len(), n);

    let (_, headers, om) = get(
        &exporter.addr,
        "/metrics",
        Some("application/openmetrics-text; version=1.0.0"),
    );
    assert!(
        headers.contains("application/openmetrics-text"),
        "{headers}"
    );
    assert!(om.ends_with("# EOF\n"));
    assert!(om.contains("# TYPE cantal_cli_test_fixed counter\n"));
    assert!(om.contains("\ncantal_cli_test_fixed_total{"));

    let (status, _, _) = get(&exporter.addr, "/nothing", None);
    assert!(status.contains(" 404 "), "{status}");

    if have("promtool", "CANTAL_PROMETHEUS_TESTS") {
        // promtool checks the Prometheus text format only (OpenMetrics is
        // checked by the real Prometheus test: it asks for OpenMetrics).
        if let Err(e) = promtool_check(&body) {
            panic!("promtool: {e}\n{body}");
        }
    }

    // --no-states and a broken publisher next to a good one.
    drop(exporter);
    std::fs::write(dir.0.join("broken.meta"), "counter 8 {}").unwrap();
    std::fs::write(dir.0.join("broken.values"), [0u8; 8]).unwrap();
    let broken = Command::new("sleep")
        .arg("30")
        .env("CANTAL_PATH", dir.0.join("broken"))
        .spawn()
        .unwrap();
    let broken = KillOnDrop(broken);
    let broken_arg = broken.0.id().to_string();
    let exporter = Exporter::start(&[
        "--no-states",
        "--label-pid",
        "--no-default-dirs",
        "--pid",
        &pid_arg,
        "--pid",
        &broken_arg,
    ]);
    let (_, _, body) = get(&exporter.addr, "/metrics", None);
    assert!(body.lines().any(|l| l == fixed), "{body}");
    assert!(!body.contains("state_text"));
    assert!(
        body.contains(&format!(
            "cantal_up{{path=\"{}\",pid=\"{}\",reason=\"malformed\"}} 0",
            dir.0.join("broken").display(),
            broken.0.id()
        )),
        "{body}"
    );
    drop(exporter);
    drop(broken);
    drop(child.stdin.take());
    child.wait().unwrap();
}

/// A real Prometheus server scrapes the exporter; its query API returns
/// our counter.
#[test]
fn real_prometheus_scrapes_the_exporter() {
    if !have("prometheus", "CANTAL_PROMETHEUS_TESTS") {
        return;
    }
    let dir = TempDir::new("prometheus");
    let (mut child, _) = spawn_publisher(&[("CANTAL_PATH", &dir.0.join("scraped"))], false);
    let pid = child.id();
    let exporter = Exporter::start(&["--no-default-dirs", "--pid", &pid.to_string()]);
    let prometheus = Prometheus::scraping(&dir.0, &exporter.addr);
    let query = format!(
        "cantal_cli_test_fixed_total{{path=\"{}\"}}",
        dir.0.join("scraped").display()
    );
    let found = prometheus.wait(&query, Duration::from_secs(60), |v| v == [12345.0]);
    let last = prometheus.query_raw(&query);
    let found = found == [12345.0];
    drop(child.stdin.take());
    child.wait().unwrap();
    assert!(
        found,
        "Prometheus never returned the counter; last answer: {last}"
    );
}

static DURATIONS: cantal_core::Histogram =
    cantal_core::Histogram::new(&[("metric", "durations")]).with_unit("microseconds");

/// `cantal read` of a histogram another process filled with a known
/// distribution (1 to 100,000 µs, each once): its p50/p90/p99 estimates
/// are within the bucket of the true value (the default bounds are at most
/// a factor 1.5 apart), and `--json` gives cumulative buckets in bound
/// order.
#[test]
fn read_estimates_histogram_quantiles_within_a_bucket() {
    let dir = TempDir::new("quantiles");
    let mut metrics = Collection::growable();
    metrics.register(&DURATIONS).unwrap();
    let publication = cantal_mmap::Publisher::new()
        .path(dir.0.join("app"))
        .publish(metrics)
        .unwrap();
    for us in 1..=100_000 {
        DURATIONS.record(us);
    }
    let path = publication.path().to_str().unwrap().to_string();
    let table = cantal(&["read", &path]);
    assert!(table.status.success(), "{}", stderr(&table));
    let table = stdout(&table);
    let row = table
        .lines()
        .find(|l| l.contains("durations"))
        .unwrap_or_else(|| panic!("no histogram row in\n{table}"));
    assert!(row.contains("count 100000"), "{row}");
    for (label, truth) in [("p50", 50_000.0), ("p90", 90_000.0), ("p99", 99_000.0)] {
        let at = row
            .find(&format!("{label} "))
            .unwrap_or_else(|| panic!("{row}"))
            + 4;
        let text = row[at..].split([',', ' ']).next().unwrap();
        let estimate: f64 = text
            .parse()
            .unwrap_or_else(|_| panic!("{label} {text:?} in {row}"));
        assert!(
            estimate > truth / 1.5 && estimate < truth * 1.5,
            "{label}: {estimate} for {truth} in {row}"
        );
    }

    let json = cantal(&["read", "--json", &path]);
    let line = stdout(&json);
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let value = &v["value"];
    assert_eq!(value["count"], 100_000, "{line}");
    assert_eq!(value["sum"], 5_000_050_000.0, "{line}");
    let buckets = value["buckets"].as_array().unwrap();
    let pairs: Vec<(f64, u64)> = buckets
        .iter()
        .map(|b| (b[0].as_f64().unwrap(), b[1].as_u64().unwrap()))
        .collect();
    assert_eq!(pairs.len(), 52, "{line}");
    assert!(
        pairs
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "{line}"
    );
    // Bucket le 65536 holds 1..=65536.
    assert!(pairs.contains(&(65536.0, 65536)), "{line}");
    drop(publication);
}
