//! The exporter's scrape (`cantal_cli::bench::Exporter`, the code behind
//! `GET /metrics`) against hostile and changing publications made by this
//! test: files swapped under it, states rewritten while it reads.
#![forbid(unsafe_code)]

use cantal_cli::bench::Exporter;
use cantal_core::{Collection, State};
use cantal_testkit::TempDir;
use std::fs;
use std::os::unix::fs::{PermissionsExt, chown, lchown, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// A hand-written publication at `base`: one counter holding 42.
fn publication(base: &Path) {
    fs::write(
        format!("{}.meta", base.display()),
        r#"counter 8: {"metric": "swapped"}"#,
    )
    .unwrap();
    fs::write(format!("{}.values", base.display()), 42u64.to_ne_bytes()).unwrap();
}

/// `P.values` is swapped with a FIFO again and again while the exporter
/// scrapes (cached layout, so only the values file is opened): no scrape
/// blocks in `open(2)`, and some scrapes see the FIFO (refused) while
/// others read the counter. A reader that checked the path with `lstat`
/// and then opened it without `O_NONBLOCK` hangs here.
#[test]
fn a_fifo_swapped_in_for_the_values_never_blocks_a_scrape() {
    let dir = TempDir::new("fifo-swap");
    let base = dir.path("p");
    publication(&base);
    let fifo = dir.path("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let values = dir.path("p.values");
    let held = dir.path("held");

    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = Arc::clone(&stop);
        let (values, fifo, held) = (values.clone(), fifo.clone(), held.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                // P.values is the FIFO between the second and third rename.
                fs::rename(&values, &held).unwrap();
                fs::rename(&fifo, &values).unwrap();
                std::thread::yield_now();
                fs::rename(&values, &fifo).unwrap();
                fs::rename(&held, &values).unwrap();
            }
        })
    };
    let (done, finished) = mpsc::channel();
    {
        let base = base.clone();
        std::thread::spawn(move || {
            let mut exporter = Exporter::new();
            let (mut served, mut refused) = (0, 0);
            let started = Instant::now();
            for _ in 0..20_000 {
                let body = exporter.scrape(std::slice::from_ref(&base), std::process::id());
                if body.contains("cantal_swapped_total{") {
                    served += 1;
                }
                if body.contains("reason=\"not_regular_file\"") {
                    refused += 1;
                }
                if served > 20 && refused > 20 || started.elapsed() > Duration::from_secs(10) {
                    break;
                }
            }
            let _ = done.send((served, refused));
        });
    }
    let result = finished.recv_timeout(Duration::from_secs(20));
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let (served, refused) = result.expect("a scrape blocked on the FIFO");
    assert!(served > 0, "the counter was never served");
    assert!(
        refused > 0,
        "no scrape saw the FIFO: the race was never hit"
    );
}

static PHASE: State = State::new(&[("metric", "phase")]);

const TEXT_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TEXT_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// The `state_text` label of the `phase` sample in `body`, if any.
fn phase_text(body: &str) -> Option<String> {
    let line = body
        .lines()
        .find(|l| l.starts_with("cantal_phase_state_start_seconds{"))?;
    let at = line.find("state_text=\"")? + "state_text=\"".len();
    let end = at + line[at..].find('"')?;
    Some(line[at..end].to_string())
}

/// A state rewritten without pause by another thread, scraped again and
/// again through the cached layout: every text served is one of the two
/// texts written, never half of each.
#[test]
fn cached_scrapes_never_serve_a_torn_state() {
    let dir = TempDir::new("torn");
    let mut metrics = Collection::growable();
    metrics.register(&PHASE).unwrap();
    let publication = cantal_mmap::Publisher::new()
        .path(dir.path("torn"))
        .publish(metrics)
        .unwrap();
    let base: PathBuf = publication.path().to_path_buf();
    PHASE.enter(TEXT_A);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                PHASE.enter(TEXT_B);
                PHASE.enter(TEXT_A);
            }
        })
    };
    let mut exporter = Exporter::new();
    let (mut whole, mut torn) = (0, Vec::new());
    let started = Instant::now();
    for _ in 0..3_000 {
        if started.elapsed() > Duration::from_secs(10) {
            break;
        }
        let body = exporter.scrape(std::slice::from_ref(&base), std::process::id());
        match phase_text(&body) {
            Some(t) if t == TEXT_A || t == TEXT_B => whole += 1,
            Some(t) => torn.push(t),
            // "No state": the writer never let a re-read settle.
            None => {}
        }
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    drop(publication);
    assert!(torn.is_empty(), "torn states served: {torn:?}");
    assert!(whole > 0, "no state was ever served");
}

/// The uid of the unprivileged user of the ownership tests.
const NOBODY: u32 = 65534;

/// A process of user `NOBODY` (`setpriv`), its environment's
/// `CANTAL_PATH` set to `path`; returned once it runs as that user.
fn process_of_nobody(path: &Path) -> KillOnDrop {
    let child = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .args(["sleep", "60"])
        .env("CANTAL_PATH", path)
        .spawn()
        .unwrap();
    let child = KillOnDrop(child);
    let status = format!("/proc/{}/status", child.0.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    // After setpriv's exec of sleep: the real uid is NOBODY's.
    while !fs::read_to_string(&status)
        .is_ok_and(|s| s.contains("\nUid:\t65534\t") && s.starts_with("Name:\tsleep"))
    {
        assert!(Instant::now() < deadline, "setpriv never ran sleep");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A root-only (0600) publication named by an unprivileged user's
/// process, directly and through a symlinked directory of hers: the
/// exporter running as root serves nothing of it, only
/// `cantal_up{reason="foreign_owner"} 0`; `scan` reads nothing of it
/// either. With `--check-owner never` the same files are read: the check
/// is what keeps them out.
#[test]
fn root_only_files_named_by_another_user_are_not_served() {
    if !cantal_testkit::is_root() {
        return eprintln!("skipped: needs root (chown, setpriv)");
    }
    let dir = TempDir::new("owner");
    let secret_dir = dir.path("secret");
    fs::create_dir(&secret_dir).unwrap();
    let secret = secret_dir.join("p");
    fs::write(
        secret_dir.join("p.meta"),
        r#"counter 8: {"metric": "hunter2"}"#,
    )
    .unwrap();
    fs::write(secret_dir.join("p.values"), 0x5ec2e7u64.to_ne_bytes()).unwrap();
    for f in ["p.meta", "p.values"] {
        fs::set_permissions(secret_dir.join(f), fs::Permissions::from_mode(0o600)).unwrap();
    }
    let hers = dir.path("hers");
    fs::create_dir(&hers).unwrap();
    chown(&hers, Some(NOBODY), Some(NOBODY)).unwrap();
    symlink(&secret_dir, hers.join("link")).unwrap();
    lchown(hers.join("link"), Some(NOBODY), Some(NOBODY)).unwrap();
    let through_link = hers.join("link").join("p");
    // TempDir is 0700: let her processes see their working directory.
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o711)).unwrap();

    let direct = process_of_nobody(&secret);
    let linked = process_of_nobody(&through_link);

    // The exporter's scrape of what her processes name.
    for (base, process) in [(&secret, &direct), (&through_link, &linked)] {
        let mut exporter = Exporter::new();
        let body = exporter.scrape(std::slice::from_ref(base), process.0.id());
        assert!(!body.contains("hunter2"), "{body}");
        assert!(!body.contains("6210279"), "{body}");
        let up = format!(
            "cantal_up{{appname=\"bench\",path=\"{}\",pid=\"{}\",reason=\"foreign_owner\"}} 0",
            base.display(),
            process.0.id()
        );
        assert!(body.lines().any(|l| l == up), "{up}\nnot in\n{body}");
    }

    // `cantal scan`, finding them in /proc.
    let scan = |check: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_cantal"))
            .args([
                "scan",
                "--json",
                "--no-default-dirs",
                "--check-owner",
                check,
            ])
            .args(["--pid", &direct.0.id().to_string()])
            .args(["--pid", &linked.0.id().to_string()])
            .output()
            .unwrap();
        assert!(o.status.success());
        String::from_utf8(o.stdout).unwrap()
    };
    let out = scan("auto");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in lines {
        assert!(line.contains("\"metrics\": null"), "{line}");
        assert!(line.contains("\"status\": \"broken\""), "{line}");
        assert!(
            line.contains("belongs to uid 0, not to the publisher's uid 65534"),
            "{line}"
        );
    }
    // Without the check, root reads them: what the check prevents.
    let out = scan("never");
    assert_eq!(out.matches("\"metrics\": 1,").count(), 2, "{out}");
}
