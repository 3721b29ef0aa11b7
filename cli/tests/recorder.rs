//! End to end: a child process (this test binary run again with
//! `CANTAL_RECORDER_CHILD` set to a base path) that reports only through
//! `metrics::counter!`, read by the `cantal` binary, including a counter
//! first used after `cantal::start()`.
#![forbid(unsafe_code)]

use cantal_testkit::TempDir;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cantal");
const CHILD: &str = "CANTAL_RECORDER_CHILD";

/// The child's part; a no-op in a normal test run.
#[test]
fn child() {
    let Some(base) = std::env::var_os(CHILD) else {
        return;
    };
    // The two lines of `main`, with a short interval (the default is 30 s)
    // for the keys first used after `start()`.
    cantal::recorder::Builder::new()
        .interval(Duration::from_millis(500))
        .install()
        .unwrap();
    let publication = cantal::Builder::new().path(base).start().unwrap();

    metrics::counter!("requests", "path" => "/a").increment(5);
    metrics::counter!("requests", "path" => "/b").increment(1);
    // The recorder publishes these within its interval; tell the parent
    // once they are all counted.
    metrics::counter!("requests", "path" => "/a").increment(2);
    println!("counted");
    let mut stdin = std::io::stdin().lock();
    let mut line = String::new();
    stdin.read_line(&mut line).unwrap();
    assert_eq!(line, "more\n");
    let late = metrics::counter!("late", "metric" => "clash");
    late.increment(40);
    late.increment(2);
    println!("late");
    // Until the parent closes our stdin.
    while stdin.read_line(&mut line).unwrap() > 0 {}
    drop(publication);
}

/// `cantal read --json <base>`: its lines, sorted.
fn read_json(base: &Path) -> Vec<String> {
    let o = Command::new(BIN)
        .args(["read", "--json"])
        .arg(base)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut lines: Vec<String> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// The lines in `read_json`'s order.
fn sorted(lines: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    lines.sort();
    lines
}

/// Polls `read_json` until `want` holds, at most `timeout`; the lines and
/// the time it took.
fn wait_for(
    base: &Path,
    timeout: Duration,
    want: impl Fn(&[String]) -> bool,
) -> (Vec<String>, Duration) {
    let start = Instant::now();
    loop {
        let lines = read_json(base);
        if want(&lines) || start.elapsed() > timeout {
            return (lines, start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn metrics_of_a_child_reach_cantal_read_with_exact_values() {
    let dir = TempDir::new("recorder");
    let base = dir.0.join("child");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, &base)
        .env_remove("CANTAL_PATH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut expect_line = |want: &str| {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "child ended before {want:?}"
            );
            // The harness may print `test child ... ` before it.
            if line.trim_end().ends_with(want) {
                return;
            }
        }
    };

    expect_line("counted");
    let requests_a =
        r#"{"name": {"metric": "requests", "path": "/a"}, "type": "counter", "value": 7}"#;
    let requests_b =
        r#"{"name": {"metric": "requests", "path": "/b"}, "type": "counter", "value": 1}"#;
    let dropped = r#"{"name": {"group": "cantal_recorder", "metric": "dropped"}, "type": "counter", "value": 0}"#;
    // Published late (after `start()`), and counted so.
    let late_keys = |n| {
        format!(
            r#"{{"name": {{"group": "cantal_recorder", "metric": "late_keys"}}, "type": "counter", "value": {n}}}"#
        )
    };
    let want = sorted(&[dropped, &late_keys(2), requests_a, requests_b]);
    let (lines, _) = wait_for(&base, Duration::from_secs(5), |l| l == want);
    assert_eq!(lines, want);

    // A key first used now, after start, with a label called `metric`.
    stdin.write_all(b"more\n").unwrap();
    expect_line("late");
    let late =
        r#"{"name": {"_metric": "clash", "metric": "late"}, "type": "counter", "value": 42}"#;
    let want = sorted(&[late, dropped, &late_keys(3), requests_a, requests_b]);
    let (lines, took) = wait_for(&base, Duration::from_secs(5), |l| l == want);
    assert_eq!(lines, want, "after {took:?}");
    // The recorder's interval is 500 ms; leave room for a slow machine.
    assert!(took < Duration::from_millis(1900), "took {took:?}");

    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert!(!base.with_extension("meta").exists());
    assert!(!base.with_extension("values").exists());
}
