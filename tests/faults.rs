//! Crashes and faults: a publisher killed in the middle of its updates, a
//! file system that is full, a values file truncated and a meta file
//! replaced by someone else while a reader reads them.
//!
//! Covered elsewhere, not repeated here (see SECURITY.md):
//! `backend-mmap/tests/publish.rs` `full_file_system` (a clean
//! `Error::NoSpace` and no file left behind), `tests/publish_process.rs`
//! `killed_child_leaves_stale_files_that_a_new_start_replaces` (an idle
//! publisher killed) and `a_restarted_process_resumes_its_counters`.
#![cfg(all(feature = "mmap", target_os = "linux"))]
#![forbid(unsafe_code)]

use cantal::read::{self, OwnedValue};
use cantal::{Collection, Counter, Error, Growable, State};
use cantal_testkit::{Mount, TempDir, is_root, wait_for};
use std::fs;
use std::io::BufReader;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const ROLE: &str = "CANTAL_TEST_ROLE";

static HITS: Counter = Counter::new(&[("metric", "hits")]);
static PHASE: State = State::new(&[("metric", "phase")]);
/// The texts `PHASE` takes.
const PHASES: [&str; 2] = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bb"];

fn collection() -> Collection<'static, Growable<'static>> {
    let mut c = Collection::growable();
    c.register(&HITS).unwrap();
    c.register(&PHASE).unwrap();
    c
}

/// The child's side. In the normal test run (no role) it does nothing.
#[test]
fn child_main() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let base = std::env::var_os("CANTAL_PATH").expect("CANTAL_PATH");
    match role.as_str() {
        // Update from two threads at full speed until killed.
        "update" => {
            let _publication = cantal::Builder::new()
                .path(base)
                .publish(collection())
                .unwrap();
            println!("started");
            std::thread::spawn(|| {
                for i in 0.. {
                    PHASE.enter(PHASES[i % 2]);
                }
            });
            loop {
                HITS.incr(1);
            }
        }
        // Resume what the killed child left; exit leaving stale files.
        "resume" => {
            let publication = cantal::Builder::new()
                .path(base)
                .resume(true)
                .publish(collection())
                .unwrap();
            println!("resumed {}", HITS.get());
            std::mem::forget(publication);
            std::process::exit(0);
        }
        other => panic!("unknown role {other}"),
    }
}

fn spawn(role: &str, base: &Path) -> (Child, BufReader<ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env("CANTAL_PATH", base)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    (child, out)
}

/// `(hits, phase text)` of a publication of `collection()`.
fn values(base: &Path) -> (u64, u64, String, bool) {
    let loaded = read::load(base).unwrap();
    let alive = loaded.alive;
    let mut hits = None;
    let mut phase = None;
    let names = loaded
        .meta
        .into_slots()
        .into_iter()
        .map(|slot| slot.name().to_string());
    for (name, value) in names.zip(loaded.values) {
        match value {
            OwnedValue::Counter(v) if name.contains("hits") => hits = Some(v),
            OwnedValue::State { timestamp, text } => phase = Some((timestamp, text)),
            other => panic!("{other:?}"),
        }
    }
    let (ts, text) = phase.unwrap();
    (hits.unwrap(), ts, text, alive)
}

#[test]
fn sigkill_mid_update_leaves_stale_whole_values_and_restarts_cleanly() {
    let dir = TempDir::new("kill");
    let base = dir.path("app");
    let (mut child, mut out) = spawn("update", &base);
    wait_for(&mut out, "started");
    // Let it count for a while, reading meanwhile.
    let mut last = 0;
    let until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < until || last == 0 {
        let (hits, _, _, alive) = values(&base);
        assert!(alive);
        assert!(hits >= last);
        last = hits;
    }
    child.kill().unwrap(); // SIGKILL, in the middle of updates
    child.wait().unwrap();

    let (hits, ts, text, alive) = values(&base);
    assert!(!alive, "a killed publisher's files are stale");
    assert!(hits >= last);
    // The state slot may have been killed mid-write: then it reads as no
    // state, never as a mix.
    assert!(
        (ts == 0 && text.is_empty()) || (ts != 0 && PHASES.contains(&text.as_str())),
        "{ts} {text:?}"
    );
    eprintln!("killed at {hits} hits, phase {ts} {text:?}");

    // A new publisher on the path resumes the counts when it asks to ...
    let (mut child, mut out) = spawn("resume", &base);
    let line = wait_for(&mut out, "resumed");
    assert!(child.wait().unwrap().success());
    assert!(
        line.trim_end().ends_with(&format!("resumed {hits}")),
        "{line}"
    );
    assert_eq!(values(&base).0, hits);

    // ... and starts from zero when it does not.
    let publication = cantal::Builder::new()
        .path(&base)
        .publish(collection())
        .unwrap();
    let (fresh, ts, _, alive) = values(&base);
    assert!(alive);
    assert_eq!((fresh, ts), (0, 0));
    HITS.incr(3);
    assert_eq!(values(&base).0, 3);
    drop(publication);
    assert!(!dir.path("app.meta").exists());
}

/// A publication that fits a small file system, which then fills up: its
/// pages were all allocated at start, so updating every slot never raises
/// `SIGBUS` (a sparse file would: a shared mapping of a hole needs a new
/// page on the first write). A larger one fails with a clean `NoSpace`,
/// and its metrics keep working in process memory.
#[test]
fn full_file_system_never_raises_sigbus() {
    static BIG: [State<16376>; 3] = [
        State::new(&[("metric", "big"), ("n", "0")]),
        State::new(&[("metric", "big"), ("n", "1")]),
        State::new(&[("metric", "big"), ("n", "2")]),
    ];
    // Larger than the file system: filling the values file fails. (A
    // values file that fits with no room left for the meta text fails
    // before mapping: backend-mmap/tests/publish.rs
    // full_file_system_for_the_meta_fails_before_mapping.)
    static HUGE: [State<65520>; 3] = [
        State::new(&[("metric", "huge"), ("n", "0")]),
        State::new(&[("metric", "huge"), ("n", "1")]),
        State::new(&[("metric", "huge"), ("n", "2")]),
    ];
    static COUNT: Counter = Counter::new(&[("metric", "count")]);
    if !is_root() {
        return eprintln!("skipped: cannot mount a small tmpfs (needs root)");
    }
    let dir = TempDir::new("full");
    let mnt = dir.path("small");
    let Some(_mount) = Mount::tmpfs(&mnt, "size=128k,mode=0700") else {
        return eprintln!("skipped: cannot mount a small tmpfs");
    };

    // Too large: a clean error, and the metrics keep counting in memory.
    let mut c = Collection::growable();
    c.register(&HUGE).unwrap();
    let err = cantal::Builder::new()
        .path(mnt.join("huge"))
        .publish(c)
        .unwrap_err();
    assert!(matches!(err, Error::NoSpace { .. }), "{err:?}");
    HUGE[1].enter("still works");
    assert_eq!(HUGE[1].get().unwrap().text(), "still works");

    assert_eq!(fs::read_dir(&mnt).unwrap().count(), 0);
    // Fits (48 KiB + a counter), then the file system fills up.
    let mut c = Collection::growable();
    c.register(&BIG).unwrap();
    c.register(&COUNT).unwrap();
    let publication = cantal::Builder::new()
        .path(mnt.join("app"))
        .publish(c)
        .unwrap();
    let filler = mnt.join("filler");
    let chunk = vec![1u8; 4096];
    let mut file = fs::File::create(&filler).unwrap();
    let full = loop {
        if let Err(e) = std::io::Write::write_all(&mut file, &chunk) {
            break e;
        }
    };
    assert_eq!(full.kind(), std::io::ErrorKind::StorageFull, "{full}");

    // Every page of the values file is written to.
    let long = "z".repeat(16376);
    for state in &BIG {
        state.enter(&long);
    }
    COUNT.incr(5);
    let loaded = read::load(mnt.join("app")).unwrap();
    assert!(loaded.alive);
    for value in &loaded.values {
        match value {
            OwnedValue::State { text, .. } => assert_eq!(text, &long),
            OwnedValue::Counter(v) => assert_eq!(*v, 5),
            other => panic!("{other:?}"),
        }
    }
    drop(publication);
}

/// Someone else truncates and regrows a values file while we read it: every
/// read is a clean result (a snapshot whose decoding may report short
/// values, or an I/O error), never a crash; the reader never maps.
#[test]
fn values_truncated_while_reading_give_clean_errors() {
    let dir = TempDir::new("truncate");
    let base = dir.path("app");
    let meta = "counter 8: {\"metric\": \"c\"}\npad 56\nstate 64: {\"metric\": \"s\"}";
    fs::write(dir.path("app.meta"), meta).unwrap();
    let mut full = vec![0u8; 128];
    full[..8].copy_from_slice(&7u64.to_ne_bytes());
    full[64..72].copy_from_slice(&1234u64.to_ne_bytes());
    full[72..76].copy_from_slice(b"run\0");
    fs::write(dir.path("app.values"), &full).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let truncator = {
        let (path, stop) = (dir.path("app.values"), stop.clone());
        std::thread::spawn(move || {
            let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                file.set_len([0, 8, 70, 100][n as usize % 4]).unwrap();
                std::os::unix::fs::FileExt::write_all_at(&file, &full, 0).unwrap();
                n += 1;
            }
            n
        })
    };
    let (mut whole, mut short, mut io) = (0, 0, 0);
    let until = Instant::now() + Duration::from_millis(700);
    while Instant::now() < until {
        match read::load(&base) {
            Ok(loaded) => {
                {
                    // The bytes as they were, or the zeros of a file being
                    // regrown: never anything else.
                    let counter = &loaded.values[0];
                    assert!(
                        [OwnedValue::Counter(7), OwnedValue::Counter(0)].contains(counter),
                        "{counter:?}"
                    );
                    let states = [
                        OwnedValue::State {
                            timestamp: 1234,
                            text: "run".into(),
                        },
                        OwnedValue::State {
                            timestamp: 0,
                            text: String::new(),
                        },
                    ];
                    assert!(states.contains(&loaded.values[1]), "{:?}", loaded.values[1]);
                    whole += 1;
                }
            }
            Err(Error::ValuesTooShort { .. }) => short += 1,
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::UnexpectedEof => {
                io += 1
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let truncations = truncator.join().unwrap();
    eprintln!("{truncations} truncations: {whole} whole reads, {short} short, {io} I/O errors");
    assert!(whole + short + io > 0);
}

/// The meta file replaced again and again while we read: each snapshot is
/// one consistent meta file, or the reader gives up with `Unstable` after
/// `read::ATTEMPTS` tries.
#[test]
fn meta_replaced_while_reading_is_retried_then_unstable() {
    let dir = TempDir::new("swap");
    let base = dir.path("app");
    let metas = [
        br#"counter 8: {"metric": "one"}"#.to_vec(),
        br#"counter 8: {"metric": "two"}"#.to_vec(),
    ];
    fs::write(dir.path("app.meta"), &metas[0]).unwrap();
    fs::write(dir.path("app.values"), 5u64.to_ne_bytes()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (dir, stop, metas) = (dir.0.clone(), stop.clone(), metas.clone());
        std::thread::spawn(move || {
            let sources = [dir.join("one"), dir.join("two")];
            for (source, meta) in sources.iter().zip(&metas) {
                fs::write(source, meta).unwrap();
            }
            let tmp = dir.join("app.tmp");
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                fs::hard_link(&sources[n % 2], &tmp).unwrap();
                fs::rename(&tmp, dir.join("app.meta")).unwrap();
                n += 1;
            }
            n
        })
    };
    let (mut ok, mut unstable) = (0u64, 0u64);
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until && (unstable < 3 || ok == 0) {
        match read::read(&base) {
            Ok(snapshot) => {
                assert!(metas.contains(&snapshot.meta), "{:?}", snapshot.meta);
                assert_eq!(snapshot.values, 5u64.to_ne_bytes());
                ok += 1;
            }
            Err(Error::Unstable { attempts, .. }) => {
                assert_eq!(attempts, read::ATTEMPTS);
                unstable += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    eprintln!("{swaps} swaps: {ok} snapshots, {unstable} unstable");
    assert!(unstable > 0, "the reader never gave up");
}
