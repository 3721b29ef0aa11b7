//! The exporter's scrape (`cantal_cli::bench::Exporter`, the code behind
//! `GET /metrics`) against hostile and changing publications made by this
//! test: files swapped under it, states rewritten while it reads.
#![forbid(unsafe_code)]

mod common;

use cantal_cli::bench::Exporter;
use cantal_core::{Collection, State};
use cantal_testkit::TempDir;
use common::{KillOnDrop, naming, process_of_nobody};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown, lchown, symlink};
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
                // Pacing, not synchronisation: leave the real file in
                // place for a moment too, so that scrapes also read it.
                std::thread::sleep(Duration::from_micros(200));
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

/// Publishes `metrics` from this process at `path` (the lock held: alive).
fn publish_here<M: cantal_core::Metrics + ?Sized>(
    path: PathBuf,
    metrics: &'static M,
) -> cantal_mmap::Publication<'static> {
    let mut collection = Collection::growable();
    collection.register(metrics).unwrap();
    cantal_mmap::Publisher::new()
        .path(path)
        .publish(collection)
        .unwrap()
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
    let publication = publish_here(dir.path("torn"), &PHASE);
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

/// A hand-written publication of `n` counters at `base`, each holding its
/// index.
fn big_publication(base: &Path, n: usize) {
    let mut meta = String::new();
    let mut values = Vec::with_capacity(n * 8);
    for i in 0..n {
        if i > 0 {
            meta.push('\n');
        }
        meta.push_str(&format!(
            "counter 8: {{\"metric\": \"big\", \"i\": \"{i}\"}}"
        ));
        values.extend((i as u64).to_ne_bytes());
    }
    fs::write(format!("{}.meta", base.display()), meta).unwrap();
    fs::write(format!("{}.values", base.display()), values).unwrap();
}

/// The value of the sample `name` (with no labels) in `body`.
fn sample(body: &str, name: &str) -> Option<String> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(str::to_string)
}

/// Eight processes name one big publication, each through its own path
/// (a symlinked directory apiece, so discovery cannot merge them by path):
/// it is read and parsed once and served once; the other seven are
/// duplicates. The limits refuse it without reading it eight times.
#[test]
fn many_processes_naming_one_big_publication_cost_one_read() {
    const N: usize = 2_000;
    let dir = TempDir::new("many");
    let real = dir.path("real");
    fs::create_dir(&real).unwrap();
    big_publication(&real.join("big"), N);
    let processes: Vec<KillOnDrop> = (0..8)
        .map(|i| {
            let link = dir.path(&format!("link{i}"));
            symlink(&real, &link).unwrap();
            naming(&link.join("big"))
        })
        .collect();
    let mut args = vec!["--no-default-dirs".to_string()];
    for p in &processes {
        args.extend(["--pid".to_string(), p.0.id().to_string()]);
    }
    let scrape = |extra: &[&str]| {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(extra);
        Exporter::from_args(&all).unwrap().scrape_found(None)
    };

    let body = scrape(&[]);
    let served = body
        .lines()
        .filter(|l| l.starts_with("cantal_big_total{"))
        .count();
    assert_eq!(served, N, "one publication's samples, once");
    let ups: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("cantal_up{"))
        .collect();
    assert_eq!(ups.len(), 8, "{ups:?}");
    assert_eq!(
        ups.iter().filter(|l| l.ends_with(" 1")).count(),
        1,
        "{ups:?}"
    );
    let duplicates = ups
        .iter()
        .filter(|l| l.contains("reason=\"duplicate\""))
        .count();
    assert_eq!(duplicates, 7, "{ups:?}");
    assert_eq!(
        sample(&body, "cantal_exporter_layout_parses_total").as_deref(),
        Some("1")
    );

    // Limits: too many lines, too much layout memory, too many
    // publishers. Nothing of the publication is served then.
    // (The values limit is met after the meta file was parsed.)
    for (flags, reason, parses) in [
        (&["--max-meta-lines", "1000"][..], "too_large", "0"),
        (&["--max-meta-bytes", "4096"][..], "too_large", "0"),
        (&["--max-values-bytes", "4096"][..], "too_large", "1"),
        (&["--max-layout-bytes", "10000"][..], "memory_limit", "0"),
    ] {
        let body = scrape(flags);
        assert!(!body.contains("cantal_big_total{"), "{flags:?}");
        // Refused when opened (size limits: all eight, by fstat) or when
        // parsed (the first; the others are its duplicates).
        let refused = format!("cantal_exporter_publishers_refused{{reason=\"{reason}\"}} ");
        assert!(
            body.lines().any(|l| l.starts_with(&refused)),
            "{flags:?}: {refused}\nnot in\n{body}"
        );
        assert_eq!(
            sample(&body, "cantal_exporter_layout_parses_total").as_deref(),
            Some(parses),
            "{flags:?}"
        );
    }
    let body = scrape(&["--max-publishers", "3"]);
    let limited = body
        .lines()
        .filter(|l| l.starts_with("cantal_up{") && l.contains("reason=\"publisher_limit\""))
        .count();
    assert_eq!(limited, 5, "{body}");
}

/// A first scrape parses its publishers' meta files on several threads:
/// it serves what one thread serves, counts each parse once, and reports
/// a file that cannot be parsed as one thread does.
#[test]
fn a_first_scrape_parsed_on_threads_serves_what_one_thread_serves() {
    let dir = TempDir::new("threads");
    let mut processes = Vec::new();
    for p in 0..6 {
        let base = dir.path(&format!("p{p}"));
        big_publication(&base, 50 + p * 10);
        processes.push(naming(&base));
    }
    let broken = dir.path("broken");
    fs::write(
        format!("{}.meta", broken.display()),
        "counter 8: {}\ncounter 8 {}",
    )
    .unwrap();
    fs::write(format!("{}.values", broken.display()), [0u8; 16]).unwrap();
    processes.push(naming(&broken));
    let mut args = vec!["--no-default-dirs", "--no-process-metrics"];
    let pids: Vec<String> = processes.iter().map(|p| p.0.id().to_string()).collect();
    for pid in &pids {
        args.extend(["--pid", pid.as_str()]);
    }
    // The exporter's own scrape durations differ from run to run.
    let steady = |body: &str| -> String {
        body.lines()
            .filter(|l| !l.contains("duration"))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let scrapes = |threads: &str| {
        let flags = [&args[..], &["--max-parse-threads", threads]].concat();
        let mut exporter = Exporter::from_args(&flags).unwrap();
        let first = exporter.scrape_found(None);
        let second = exporter.scrape_found(None);
        (steady(&first), steady(&second))
    };
    let (one, one_again) = scrapes("1");
    let (four, four_again) = scrapes("4");
    // The first line that differs, not two bodies of 400 lines.
    let differ = |a: &str, b: &str| {
        let (a, b) = (a.lines().collect::<Vec<_>>(), b.lines().collect::<Vec<_>>());
        let i = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i));
        i.map(|i| format!("line {}: {:?} against {:?}", i + 1, a.get(i), b.get(i)))
    };
    assert_eq!(differ(&four, &one), None);
    assert_eq!(differ(&four_again, &one_again), None);
    let served = four
        .lines()
        .filter(|l| l.starts_with("cantal_big_total{"))
        .count();
    assert_eq!(served, (0..6).map(|p| 50 + p * 10).sum::<usize>());
    // Six layouts and the broken file: seven parses in the first scrape.
    assert_eq!(
        sample(&four, "cantal_exporter_layout_parses_total").as_deref(),
        Some("7"),
        "{four}"
    );
    let down: Vec<&str> = four
        .lines()
        .filter(|l| l.starts_with("cantal_up{") && l.ends_with(" 0"))
        .collect();
    assert_eq!(down.len(), 1, "{down:?}");
    assert!(down[0].contains("broken"), "{down:?}");
}

/// A meta file touched before every scrape is not parsed again (its text
/// is the same); one whose text changes at every scrape is parsed
/// `--max-reparses-per-minute` times, then marked down.
#[test]
fn a_meta_touched_before_every_scrape_is_not_parsed_again() {
    static TOUCHED: cantal_core::Counter = cantal_core::Counter::new(&[("metric", "touched")]);
    let dir = TempDir::new("touched");
    let publication = publish_here(dir.path("p"), &TOUCHED);
    TOUCHED.incr(5);
    let meta = dir.path("p.meta");
    let dir_arg = dir.0.to_str().unwrap();
    let mut exporter = Exporter::from_args(&[
        "--no-proc",
        "--no-default-dirs",
        "--dir",
        dir_arg,
        "--max-reparses-per-minute",
        "2",
    ])
    .unwrap();
    let up = format!("cantal_up{{path=\"{}\"}} 1", dir.path("p").display());
    let start = std::time::SystemTime::now();
    for i in 0..5 {
        let file = fs::OpenOptions::new().write(true).open(&meta).unwrap();
        file.set_modified(start + Duration::from_secs(i + 1))
            .unwrap();
        drop(file);
        let body = exporter.scrape_found(None);
        assert!(body.lines().any(|l| l == up), "{up}\nnot in\n{body}");
        let touched = format!(
            "\ncantal_touched_total{{path=\"{}\"}} 5\n",
            dir.path("p").display()
        );
        assert!(body.contains(&touched), "{body}");
        assert_eq!(
            sample(&body, "cantal_exporter_layout_parses_total").as_deref(),
            Some("1"),
            "scrape {i}"
        );
    }
    // The text changes (a new name, same layout) before every scrape.
    let text = fs::read_to_string(&meta).unwrap();
    let mut last = String::new();
    for (i, name) in ["touchea", "toucheb", "touchec"].iter().enumerate() {
        let next = dir.path("next.meta");
        fs::write(&next, text.replace("touched", name)).unwrap();
        fs::rename(&next, &meta).unwrap();
        last = exporter.scrape_found(None);
        if i < 2 {
            assert!(last.contains(&format!("cantal_{name}_total{{")), "{last}");
        }
    }
    assert!(!last.contains("cantal_touchec_total"), "{last}");
    assert!(last.contains("reason=\"reparse_limit\"} 0"), "{last}");
    assert_eq!(
        sample(&last, "cantal_exporter_layout_parses_total").as_deref(),
        Some("3")
    );
    drop(publication);
}

/// Publishers not read before the deadline are `cantal_up 0` with reason
/// `deadline`, and the rest of the body (the exporter's series) is
/// served.
#[test]
fn publishers_past_the_deadline_are_down() {
    static LIVE: cantal_core::Counter = cantal_core::Counter::new(&[("metric", "live")]);
    let dir = TempDir::new("deadline");
    let publication = publish_here(dir.path("p"), &LIVE);
    let dir_arg = dir.0.to_str().unwrap();
    let flags = ["--no-proc", "--no-default-dirs", "--dir", dir_arg];
    let mut exporter =
        Exporter::from_args(&[&flags[..], &["--scrape-timeout", "0"]].concat()).unwrap();
    let body = exporter.scrape_found(None);
    let down = format!(
        "cantal_up{{path=\"{}\",reason=\"deadline\"}} 0",
        dir.path("p").display()
    );
    assert!(body.lines().any(|l| l == down), "{down}\nnot in\n{body}");
    assert!(!body.contains("cantal_live_total"), "{body}");
    assert!(body.contains("\ncantal_exporter_publishers{state=\"seen\"} 1\n"));
    // A scraper's timeout of 0.5 s or less halves it: still no time left
    // at 0 s, but with the default limit and a 10 s scraper, read.
    let mut exporter = Exporter::from_args(&flags).unwrap();
    let body = exporter.scrape_found(Some(Duration::from_secs(10)));
    assert!(body.contains("cantal_live_total{"), "{body}");
    assert!(Exporter::from_args(&["--scrape-timeout", "-1"]).is_err());
    drop(publication);
}

/// `--include`/`--exclude` by path and user keep only what they select;
/// a stale publication is `cantal_up{reason="stale"} 0` during
/// `--stale-grace`, then left out.
#[test]
fn selection_and_stale_grace() {
    let dir = TempDir::new("select");
    publication(&dir.path("a"));
    publication(&dir.path("b"));
    let dir_arg = dir.0.to_str().unwrap();
    let ups = |extra: &[&str]| -> Vec<String> {
        let flags = [
            &["--no-proc", "--no-default-dirs", "--dir", dir_arg][..],
            extra,
        ]
        .concat();
        let body = Exporter::from_args(&flags).unwrap().scrape_found(None);
        body.lines()
            .filter(|l| l.starts_with("cantal_up{"))
            .map(|l| {
                let path = &l[l.find("path=\"").unwrap() + 6..];
                path[..path.find('"').unwrap()]
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(ups(&[]), ["a", "b"]);
    assert_eq!(ups(&["--include", "path=*/a"]), ["a"]);
    assert_eq!(ups(&["--exclude", "path=*/a"]), ["b"]);
    assert_eq!(
        ups(&["--include", "path=*/a", "--include", "path=*/b"]),
        ["a", "b"]
    );
    // Files owned by us (no process): the user is their owner.
    let me = fs::metadata(dir.path("a.meta")).unwrap().uid().to_string();
    assert_eq!(ups(&["--include", &format!("user={me}")]), ["a", "b"]);
    assert!(ups(&["--exclude", &format!("user={me}")]).is_empty());
    assert!(ups(&["--include", "appname=?*"]).is_empty());
    assert!(Exporter::from_args(&["--include", "host=x"]).is_err());

    // Hand-written files, no lock, no process: stale.
    let stale = format!(
        "cantal_up{{path=\"{}\",reason=\"stale\"}} 0",
        dir.path("a").display()
    );
    let body = Exporter::from_args(&["--no-proc", "--no-default-dirs", "--dir", dir_arg])
        .unwrap()
        .scrape_found(None);
    assert!(body.lines().any(|l| l == stale), "{stale}\nnot in\n{body}");
    let mut exporter = Exporter::from_args(&[
        "--no-proc",
        "--no-default-dirs",
        "--dir",
        dir_arg,
        "--stale-grace",
        "0",
    ])
    .unwrap();
    for _ in 0..2 {
        let body = exporter.scrape_found(None);
        assert!(!body.contains("cantal_up{"), "{body}");
        assert!(
            body.contains("\ncantal_exporter_publishers{state=\"seen\"} 0\n"),
            "{body}"
        );
    }
}

static WAITED: cantal_core::Described<cantal_core::Counter> = cantal_core::Described::with_unit(
    cantal_core::Counter::new(&[("group", "db"), ("metric", "waited")]),
    "Time spent waiting for the database",
    "milliseconds",
);

/// A `Described` handle's help text and unit reach the scrape: `# HELP`
/// from the text, the family in base units (milliseconds served as
/// seconds, divided by 1000).
#[test]
fn a_described_handle_is_served_with_its_help_and_unit() {
    let dir = TempDir::new("described");
    let publication = publish_here(dir.path("app"), &WAITED);
    WAITED.incr(1500);
    let base: PathBuf = publication.path().to_path_buf();
    let body = Exporter::new().scrape(std::slice::from_ref(&base), std::process::id());
    drop(publication);
    let family = "cantal_db_waited_seconds_total";
    assert!(
        body.contains(&format!(
            "# HELP {family} Time spent waiting for the database\n"
        )),
        "{body}"
    );
    let value = body
        .lines()
        .find_map(|l| l.strip_prefix(family)?.strip_prefix('{')?.rsplit_once(' '))
        .map(|(_, v)| v.parse::<f64>().unwrap());
    assert_eq!(value, Some(1.5), "{body}");
}

static SIZES: cantal_core::Histogram<3> =
    cantal_core::Histogram::with_bounds(&[("metric", "size")], &["2", "10"]);
static LATENCY: cantal_core::Histogram<3> =
    cantal_core::Histogram::with_bounds(&[("metric", "latency")], &["1000", "250000"])
        .with_unit("microseconds");

/// The samples of `family` in `body`: each line's text after the family
/// name, labels and all.
fn samples<'a>(body: &'a str, family: &str) -> Vec<&'a str> {
    body.lines()
        .filter_map(|l| l.strip_prefix(family))
        .filter(|rest| rest.starts_with('{') || rest.starts_with(' '))
        .collect()
}

/// A core `Histogram` (counters of their own ranges in the file) is one
/// Prometheus histogram: cumulative `_bucket`s in bound order with `+Inf`,
/// `_sum`, `_count`; one with a unit is served in base units.
#[test]
fn a_core_histogram_is_a_prometheus_histogram_in_base_units() {
    let dir = TempDir::new("core-histogram");
    let mut collection = Collection::growable();
    collection.register(&SIZES).unwrap();
    collection.register(&LATENCY).unwrap();
    let publication = cantal_mmap::Publisher::new()
        .path(dir.path("app"))
        .publish(collection)
        .unwrap();
    for v in [1, 2, 5, 11] {
        SIZES.record(v);
    }
    for us in [500, 200_000, 300_000] {
        LATENCY.record(us);
    }
    let base: PathBuf = publication.path().to_path_buf();
    let body = Exporter::new().scrape(std::slice::from_ref(&base), std::process::id());
    drop(publication);
    let le = |family: &str, le: &str| {
        let label = format!("le=\"{le}\"");
        samples(&body, family)
            .iter()
            .filter(|s| s.contains(&label))
            .find_map(|s| s.rsplit_once(' ').map(|(_, v)| v.to_string()))
    };
    assert!(body.contains("# TYPE cantal_size histogram\n"), "{body}");
    let size: Vec<_> = ["2", "10", "+Inf"]
        .map(|b| le("cantal_size_bucket", b))
        .into();
    assert_eq!(
        size,
        [Some("2".into()), Some("3".into()), Some("4".into())],
        "{body}"
    );
    let value = |family: &str| -> f64 {
        let sample = samples(&body, family)[0];
        sample.rsplit_once(' ').unwrap().1.parse().unwrap()
    };
    assert_eq!(
        (value("cantal_size_sum"), value("cantal_size_count")),
        (19.0, 4.0),
        "{body}"
    );

    assert!(
        body.contains("# TYPE cantal_latency_seconds histogram\n"),
        "{body}"
    );
    let latency: Vec<_> = ["0.001", "0.25", "+Inf"]
        .map(|b| le("cantal_latency_seconds_bucket", b))
        .into();
    assert_eq!(
        latency,
        [Some("1".into()), Some("2".into()), Some("3".into())],
        "{body}"
    );
    let sum = value("cantal_latency_seconds_sum");
    assert!((sum - 0.5005).abs() < 1e-9, "{body}");
}

/// The numeric value of the first sample of `family` in `body`.
fn first_value(body: &str, family: &str) -> Option<f64> {
    samples(body, family)
        .first()?
        .rsplit_once(' ')?
        .1
        .parse()
        .ok()
}

/// The kB figure of `key:` in `/proc/<pid>/status`, in bytes.
fn status_bytes(pid: u32, key: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find_map(|l| l.strip_prefix(key)).unwrap();
    let kib: u64 = line
        .trim_start_matches(':')
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    kib * 1024
}

/// The standard `process_*` families of a publisher's process match what
/// `/proc` says of it (an idle `sleep` naming a publication of ours), and
/// `--no-process-metrics` leaves them out.
#[test]
fn process_families_match_proc_for_the_publisher() {
    let dir = TempDir::new("process");
    let base = dir.path("app");
    publication(&base);
    let child = naming(&base);
    let pid = child.0.id();
    // Until `sleep` has faulted its pages in, its memory grows: wait until
    // it holds still for 100 ms.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = (0, 0);
    loop {
        let now = (status_bytes(pid, "VmRSS"), status_bytes(pid, "VmSize"));
        if now == last || Instant::now() > deadline {
            break;
        }
        last = now;
        std::thread::sleep(Duration::from_millis(100));
    }
    let args = ["--no-default-dirs", "--pid", &pid.to_string()];
    let body = Exporter::from_args(&args).unwrap().scrape_found(None);
    assert!(
        body.contains("# TYPE process_cpu_seconds_total counter\n"),
        "{body}"
    );
    let value = |family: &str| {
        first_value(&body, family).unwrap_or_else(|| panic!("no {family} in\n{body}"))
    };
    // An idle sleep: its memory does not move between the two reads.
    assert_eq!(
        value("process_resident_memory_bytes") as u64,
        status_bytes(pid, "VmRSS")
    );
    assert_eq!(
        value("process_virtual_memory_bytes") as u64,
        status_bytes(pid, "VmSize")
    );
    assert!(
        (0.0..1.0).contains(&value("process_cpu_seconds_total")),
        "{body}"
    );
    // /proc/<pid>/fd of a sleep: at least stdin, stdout, stderr.
    let fds = fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count() as f64;
    assert_eq!(value("process_open_fds"), fds, "{body}");
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let soft: f64 = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert_eq!(value("process_max_fds"), soft, "{body}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = value("process_start_time_seconds");
    assert!(
        started <= now + 1.0 && started > now - 60.0,
        "started {started}, now {now}"
    );
    // Labelled like the publisher's own series.
    let own = body
        .lines()
        .find(|l| l.starts_with("cantal_swapped_total{"))
        .unwrap();
    let labels = &own[own.find('{').unwrap()..=own.find('}').unwrap()];
    assert!(
        body.contains(&format!("process_open_fds{labels} ")),
        "{body}"
    );

    let args = [&args[..], &["--no-process-metrics"]].concat();
    let body = Exporter::from_args(&args).unwrap().scrape_found(None);
    assert!(!body.contains("process_"), "{body}");
    assert!(body.contains("cantal_swapped_total{"), "{body}");
}
