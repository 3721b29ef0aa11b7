//! `start()` seen from outside the process: killed at random points (no
//! temporary file survives the next start), under a file size limit (an
//! error, never `SIGXFSZ`), and what it prints on stderr (an `Err` from
//! `main`, the fallback-path and unpublished-metric warnings, a relative
//! `CANTAL_PATH`).
#![cfg(all(feature = "mmap", target_os = "linux"))]
#![forbid(unsafe_code)]

use cantal::{Collection, Counter, Error, State};
use cantal_testkit::{TempDir, file_names, wait_for};
use std::io::BufReader;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

const ROLE: &str = "CANTAL_TEST_ROLE";

cantal::metrics! {
    static PUBLISHED: Counter = Counter::new(&[("metric", "published")]);
}

/// Not in `metrics!`: `start()` does not publish it.
static FORGOTTEN: Counter = Counter::new(&[("metric", "forgotten")]);
static ALSO_FORGOTTEN: Counter = Counter::new(&[("metric", "also_forgotten")]);

/// 16 state slots of 64 KiB (1 MiB of values, fresh metrics each time):
/// a start spends its time writing the values file.
fn big_collection() -> Collection<'static, cantal::Growable<'static>> {
    let mut c = Collection::growable();
    for i in 0..16 {
        let name: &'static str = Box::leak(format!("big{i}").into_boxed_str());
        let pairs: &'static [(&str, &str)] = Box::leak(Box::new([("metric", name)]));
        let state: &'static State<65520> = Box::leak(Box::new(State::new(pairs)));
        c.register(state).unwrap();
    }
    c
}

/// The children's side; nothing in the normal test run.
#[test]
fn child_main() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    match role.as_str() {
        // Start and drop again and again until killed.
        "start_loop" => {
            let base = std::env::var_os("CANTAL_PATH").unwrap();
            println!("looping");
            loop {
                let publication = cantal::Builder::new()
                    .path(&base)
                    .publish(big_collection())
                    .unwrap();
                drop(publication);
            }
        }
        "fsize" => {
            let base = std::env::var_os("CANTAL_PATH").unwrap();
            match cantal::Builder::new().path(&base).publish(big_collection()) {
                Ok(_) => println!("published"),
                Err(e @ Error::FileSizeLimit { .. }) => println!("limit: {e}"),
                Err(e) => println!("other error: {e}"),
            }
        }
        "start" => {
            let publication = cantal::start();
            println!("started: {:?}", publication.as_ref().map(|p| p.path()));
            PUBLISHED.incr(1);
            FORGOTTEN.incr(1);
            FORGOTTEN.incr(1);
            ALSO_FORGOTTEN.incr(1);
            println!("done");
        }
        other => panic!("unknown role {other}"),
    }
}

/// The child's side of `an_error_from_main_prints_its_message`: returns
/// an error the way `fn main() -> Result<(), cantal::Error>` does (the
/// same `Termination` impl prints it).
#[test]
fn child_returns_an_error() -> Result<(), Error> {
    if std::env::var(ROLE).as_deref() != Ok("error") {
        return Ok(());
    }
    let base = std::env::var_os("CANTAL_PATH").unwrap();
    cantal::Builder::new()
        .path(base)
        .publish(big_collection())
        .map(drop)
}

fn child(test: &str, role: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env_remove("CANTAL_PATH")
        .env_remove("CANTAL_QUIET");
    cmd
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

#[test]
fn sigkills_during_start_leave_no_temporary_file_after_a_restart() {
    const KILLS: usize = 200;
    let dir = TempDir::new("kills");
    let base = dir.path("app");
    let deadline = Instant::now() + Duration::from_secs(240);
    // A small xorshift, seeded by the clock: the kill points vary by run.
    let mut seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    let mut leftovers_seen = 0;
    for _ in 0..KILLS {
        assert!(Instant::now() < deadline, "too slow");
        let mut child = child("child_main", "start_loop")
            .env("CANTAL_PATH", &base)
            .env("CANTAL_QUIET", "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        wait_for(&mut out, "looping");
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Fault injection, not synchronisation: kill somewhere in 0-4 ms
        // of starting and dropping.
        std::thread::sleep(Duration::from_micros(seed % 4000));
        child.kill().unwrap();
        child.wait().unwrap();
        leftovers_seen += file_names(&dir.0)
            .iter()
            .filter(|n| n.ends_with(".tmp"))
            .count();
    }
    eprintln!(
        "temporary files seen after kills (each removed by the next start): {leftovers_seen}"
    );
    let publication = cantal::Builder::new()
        .path(&base)
        .publish(big_collection())
        .unwrap();
    assert_eq!(file_names(&dir.0), ["app.meta", "app.values"]);
    drop(publication);
    assert!(file_names(&dir.0).is_empty(), "{:?}", file_names(&dir.0));
}

#[test]
fn a_file_size_limit_below_the_values_is_an_error_not_a_signal() {
    let dir = TempDir::new("fsize");
    let base = dir.path("app");
    // `ulimit -f` counts 512-byte blocks in sh (1024 in bash): 1024 bytes
    // at most, far below the 1 MiB of values.
    let exe = std::env::current_exe().unwrap();
    let (out, stdout, stderr) = run(Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 2 && exec \"$0\" --exact child_main --nocapture --test-threads=1")
        .arg(exe)
        .env(ROLE, "fsize")
        .env("CANTAL_PATH", &base));
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("limit: Cantal file"), "{stdout}");
    assert!(stdout.contains("RLIMIT_FSIZE"), "{stdout}");
    assert!(file_names(&dir.0).is_empty(), "{:?}", file_names(&dir.0));
}

#[test]
fn an_error_from_main_prints_its_message() {
    let dir = TempDir::new("main-error");
    let base = dir.path("missing/app");
    let (out, stdout, stderr) =
        run(child("child_returns_an_error", "error").env("CANTAL_PATH", &base));
    assert!(!out.status.success());
    let all = format!("{stdout}{stderr}");
    let want = format!(
        "Error: cannot create Cantal files in directory {}",
        dir.path("missing").display()
    );
    assert!(all.contains(&want), "{all}");
    assert!(!all.contains("Directory {"), "{all}");
}

#[test]
fn warnings_go_to_stderr_once_and_quiet_silences_them() {
    let dir = TempDir::new("warnings");
    let (out, stdout, stderr) = run(child("child_main", "start").env("XDG_RUNTIME_DIR", &dir.0));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("started: Ok("), "{stdout}");
    assert!(stdout.contains("done"), "{stdout}");
    assert_eq!(
        stderr.matches("CANTAL_PATH is not set").count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("no publication holds it").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("cantal::metrics!"), "{stderr}");
    assert!(
        stderr.contains(r#"metric {"metric": "forgotten"} was updated"#),
        "{stderr}"
    );

    let (out, stdout, stderr) = run(child("child_main", "start")
        .env("XDG_RUNTIME_DIR", &dir.0)
        .env("CANTAL_QUIET", "1"));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stderr.contains("cantal: warning"), "{stderr}");
}

#[test]
fn a_relative_cantal_path_is_refused() {
    let (out, stdout, stderr) = run(child("child_main", "start").env("CANTAL_PATH", "run/app"));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("started: Err("), "{stdout}");
    assert!(stdout.contains("is relative"), "{stdout}");
    assert!(!Path::new("run/app.meta").exists());
}
