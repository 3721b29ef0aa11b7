//! The exporter's scrape (`cantal_cli::bench::Exporter`, the code behind
//! `GET /metrics`) against hostile and changing publications made by this
//! test: files swapped under it, states rewritten while it reads.
#![forbid(unsafe_code)]

use cantal_cli::bench::Exporter;
use cantal_core::{Collection, State};
use cantal_testkit::TempDir;
use std::fs;
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
        .find(|l| l.starts_with("cantal_state_start_seconds{") && l.contains("\"phase\""))?;
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
