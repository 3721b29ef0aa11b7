//! Publishing into files: the happy path, stale files, symlinks, every
//! error case, and the drop.

use cantal_core::{Collection, Counter, Integer, State};
use cantal_mmap::{Error, Publisher, read};
use cantal_testkit::{Mount, TempDir, is_root};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    u64::from_ne_bytes(bytes[offset..offset + 8].try_into().unwrap())
}

fn publish_one(
    base: &Path,
    metric: &'static Counter,
) -> Result<cantal_mmap::Publication<'static>, Error> {
    let mut c = Collection::growable();
    c.register(metric).unwrap();
    Publisher::new().path(base).publish(c)
}

#[test]
fn publishes_meta_and_values_and_removes_them_on_drop() {
    static REQUESTS: Counter = Counter::new(&[("group", "t"), ("metric", "requests")]);
    static QUEUE: Integer = Integer::new(&[("group", "t"), ("metric", "queue")]);
    static PHASE: State = State::new(&[("group", "t"), ("metric", "phase")]);
    let dir = TempDir::new("happy");
    let base = dir.path("app");
    REQUESTS.incr(5);
    let mut c = Collection::growable();
    c.register(&REQUESTS).unwrap();
    c.register(&QUEUE).unwrap();
    c.register(&PHASE).unwrap();
    let publication = Publisher::new().path(&base).publish(c).unwrap();
    REQUESTS.incr(2);
    QUEUE.set(-3);
    PHASE.enter("serving");

    let meta = fs::read_to_string(dir.path("app.meta")).unwrap();
    assert_eq!(meta, publication.meta().to_string());
    assert_eq!(
        meta,
        "level 8 signed: {\"group\": \"t\", \"metric\": \"queue\"}\n\
         counter 8: {\"group\": \"t\", \"metric\": \"requests\"}\n\
         pad 48\n\
         state 64: {\"group\": \"t\", \"metric\": \"phase\"}"
    );
    let snap = read::read(&base).unwrap();
    assert!(snap.alive);
    assert_eq!(snap.meta, meta.as_bytes());
    assert_eq!(snap.values.len(), 128);
    assert_eq!(u64_at(&snap.values, 0) as i64, -3);
    assert_eq!(u64_at(&snap.values, 8), 7);
    assert_ne!(u64_at(&snap.values, 64), 0);
    assert_eq!(&snap.values[72..80], b"serving\0");

    for name in ["app.meta", "app.values"] {
        let m = fs::symlink_metadata(dir.path(name)).unwrap();
        assert!(m.is_file());
        assert_eq!(m.mode() & 0o777, 0o600, "{name}");
    }
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    drop(publication);
    assert!(!dir.path("app.meta").exists());
    assert!(!dir.path("app.values").exists());
    REQUESTS.incr(1); // still valid memory
    assert_eq!(REQUESTS.get(), 8);
    assert_eq!(QUEUE.get(), -3);
}

#[test]
fn updates_through_the_drop_never_crash_or_lose_counts() {
    static HOT: Counter = Counter::new(&[("metric", "hot")]);
    let dir = TempDir::new("drop-race");
    let publication = publish_one(&dir.path("app"), &HOT).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    HOT.incr(1);
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    drop(publication);
    std::thread::sleep(std::time::Duration::from_millis(20));
    stop.store(true, Ordering::Relaxed);
    let total: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(HOT.get(), total);
    assert!(!dir.path("app.values").exists());
}

#[test]
fn custom_mode_never_gives_write_to_others() {
    static M: Counter = Counter::new(&[("metric", "mode")]);
    let dir = TempDir::new("mode");
    let mut c = Collection::growable();
    c.register(&M).unwrap();
    let p = Publisher::new()
        .path(dir.path("app"))
        .mode(0o666)
        .publish(c)
        .unwrap();
    for path in [p.meta_path(), p.values_path()] {
        assert_eq!(fs::metadata(path).unwrap().mode() & 0o777, 0o644);
    }
}

#[test]
fn drop_leaves_files_that_are_no_longer_ours() {
    static M: Counter = Counter::new(&[("metric", "replaced")]);
    let dir = TempDir::new("not-ours");
    let p = publish_one(&dir.path("app"), &M).unwrap();
    fs::remove_file(dir.path("app.meta")).unwrap();
    fs::write(dir.path("app.meta"), "someone else's").unwrap();
    drop(p);
    assert_eq!(
        fs::read_to_string(dir.path("app.meta")).unwrap(),
        "someone else's"
    );
    assert!(!dir.path("app.values").exists());
}

#[test]
fn stale_files_are_replaced() {
    static M: Counter = Counter::new(&[("metric", "fresh")]);
    let dir = TempDir::new("stale");
    fs::write(dir.path("app.meta"), "counter 8: {\"metric\": \"old\"}").unwrap();
    fs::write(dir.path("app.values"), [1u8; 8]).unwrap();
    fs::write(dir.path("app.tmp"), "reference client leftover").unwrap();
    let snap = read::read(dir.path("app")).unwrap();
    assert!(!snap.alive);
    let p = publish_one(&dir.path("app"), &M).unwrap();
    M.incr(4);
    let snap = read::read(p.path()).unwrap();
    assert!(snap.alive);
    assert_eq!(snap.meta, b"counter 8: {\"metric\": \"fresh\"}");
    assert_eq!(u64_at(&snap.values, 0), 4);
    assert!(!dir.path("app.tmp").exists());
}

#[test]
fn symlinks_are_replaced_never_followed() {
    static M: Counter = Counter::new(&[("metric", "symlinks")]);
    let dir = TempDir::new("symlinks");
    let victim = dir.path("victim");
    fs::write(&victim, "precious").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
    for name in ["app.meta", "app.values", "app.tmp"] {
        symlink(&victim, dir.path(name)).unwrap();
    }
    // Our own temporary names: `app.<pid>.<n>.tmp`.
    for n in 0..64 {
        symlink(
            &victim,
            dir.path(&format!("app.{}.{n}.tmp", std::process::id())),
        )
        .unwrap();
    }
    let p = publish_one(&dir.path("app"), &M).unwrap();
    M.incr(1);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(fs::metadata(&victim).unwrap().mode() & 0o777, 0o644);
    for name in ["app.meta", "app.values"] {
        assert!(
            fs::symlink_metadata(dir.path(name)).unwrap().is_file(),
            "{name}"
        );
    }
    assert!(fs::symlink_metadata(dir.path("app.tmp")).is_err());
    drop(p);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn a_held_lock_is_refused_naming_the_path_and_pid() {
    static A: Counter = Counter::new(&[("metric", "first")]);
    static B: Counter = Counter::new(&[("metric", "second")]);
    let dir = TempDir::new("locked");
    let p = publish_one(&dir.path("app"), &A).unwrap();
    // flock belongs to the open file description: a second publisher in
    // this same process is refused just like another process.
    let err = publish_one(&dir.path("app"), &B).unwrap_err();
    match &err {
        Error::Locked { path, pid } => {
            assert_eq!(path, &dir.path("app.values"));
            assert_eq!(*pid, Some(std::process::id()));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("app.values"), "{err}");
    // B was not moved: it can still be published elsewhere.
    assert!(!cantal_core::Metric::is_published(&B));
    let q = publish_one(&dir.path("other"), &B).unwrap();
    drop((p, q));
}

#[test]
fn duplicate_names_are_a_start_error() {
    static A: Counter = Counter::new(&[("metric", "dup")]);
    static B: Counter = Counter::new(&[("metric", "dup")]);
    let dir = TempDir::new("dup");
    let mut c = Collection::growable();
    c.register(&A).unwrap();
    c.register(&B).unwrap();
    let err = Publisher::new()
        .path(dir.path("app"))
        .publish(c)
        .unwrap_err();
    assert!(matches!(err, Error::Start { .. }), "{err:?}");
    assert_eq!(err.path(), dir.path("app"));
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(fs::read_dir(&dir.0).unwrap().count(), 0);
}

#[test]
fn missing_directory() {
    static M: Counter = Counter::new(&[("metric", "missing")]);
    let dir = TempDir::new("missing");
    let err = publish_one(&dir.path("nope/app"), &M).unwrap_err();
    assert!(
        matches!(&err, Error::Directory { path, .. } if path == &dir.path("nope")),
        "{err:?}"
    );
}

#[test]
fn unwritable_directory() {
    static M: Counter = Counter::new(&[("metric", "unwritable")]);
    let dir = TempDir::new("unwritable");
    let sub = dir.path("ro");
    // Root ignores permission bits: use a read-only file system instead.
    let _mount;
    if is_root() {
        match Mount::tmpfs(&sub, "ro,mode=0700") {
            Some(m) => _mount = m,
            None => return eprintln!("skipped: cannot mount a read-only tmpfs"),
        }
    } else {
        fs::DirBuilder::new().mode(0o500).create(&sub).unwrap();
    }
    let err = publish_one(&sub.join("app"), &M).unwrap_err();
    assert!(
        matches!(&err, Error::Directory { path, .. } if path == &sub),
        "{err:?}"
    );
}

#[test]
fn full_file_system() {
    static M: Counter = Counter::new(&[("metric", "full")]);
    static BIG: [State<65520>; 2] = [
        State::new(&[("metric", "big1")]),
        State::new(&[("metric", "big2")]),
    ];
    let dir = TempDir::new("full");
    let sub = dir.path("small");
    let Some(_mount) = Mount::tmpfs(&sub, "size=64k,mode=0700") else {
        return eprintln!("skipped: cannot mount a small tmpfs (needs root)");
    };
    let mut c = Collection::growable();
    c.register(&M).unwrap();
    c.register(&BIG).unwrap();
    let err = Publisher::new()
        .path(sub.join("app"))
        .publish(c)
        .unwrap_err();
    assert!(matches!(&err, Error::NoSpace { .. }), "{err:?}");
    assert_eq!(
        fs::read_dir(&sub).unwrap().count(),
        0,
        "temporary file left behind"
    );
    assert!(!cantal_core::Metric::is_published(&M));
}

#[test]
fn path_too_long() {
    static M: Counter = Counter::new(&[("metric", "long")]);
    let dir = TempDir::new("long");
    let err = publish_one(&dir.path(&"x".repeat(240)), &M).unwrap_err();
    assert!(matches!(err, Error::PathTooLong { .. }), "{err:?}");
}

#[test]
fn base_path_that_is_a_directory_or_symlink() {
    static M: Counter = Counter::new(&[("metric", "bad-base")]);
    let dir = TempDir::new("bad-base");
    fs::create_dir(dir.path("d")).unwrap();
    let err = publish_one(&dir.path("d"), &M).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BadBasePath {
                reason: "is a directory",
                ..
            }
        ),
        "{err:?}"
    );
    symlink(dir.path("d"), dir.path("l")).unwrap();
    let err = publish_one(&dir.path("l"), &M).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BadBasePath {
                reason: "is a symlink",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("CANTAL_PATH"));
    let err = publish_one(Path::new(""), &M).unwrap_err();
    assert!(matches!(err, Error::BadBasePath { .. }), "{err:?}");
    let err = publish_one(&dir.path("d/"), &M).unwrap_err();
    assert!(matches!(err, Error::BadBasePath { .. }), "{err:?}");
}

#[test]
fn directories_writable_by_others_need_the_sticky_bit() {
    static M: [Counter; 5] = [
        Counter::new(&[("metric", "0")]),
        Counter::new(&[("metric", "1")]),
        Counter::new(&[("metric", "2")]),
        Counter::new(&[("metric", "3")]),
        Counter::new(&[("metric", "4")]),
    ];
    let dir = TempDir::new("perms");
    let modes = [
        (0o777, false),
        (0o770, false),
        (0o1777, true),
        (0o1770, true),
        (0o755, true),
    ];
    for (i, (mode, ok)) in modes.into_iter().enumerate() {
        let sub = dir.path(&format!("{mode:o}"));
        fs::create_dir(&sub).unwrap();
        fs::set_permissions(&sub, fs::Permissions::from_mode(mode)).unwrap();
        let result = publish_one(&sub.join("app"), &M[i]);
        match result {
            Err(Error::UnsafeDirectory { path, mode: m }) => {
                assert!(!ok, "{mode:o} refused");
                assert_eq!(path, sub);
                assert_eq!(m, mode);
            }
            Err(e) => panic!("{mode:o}: {e}"),
            Ok(_) => assert!(ok, "{mode:o} accepted"),
        }
    }
}

#[test]
fn warns_when_not_on_tmpfs() {
    static M: Counter = Counter::new(&[("metric", "disk")]);
    static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
    struct Capture;
    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            if record.level() == log::Level::Warn {
                LOG.lock().unwrap().push(record.args().to_string());
            }
        }
        fn flush(&self) {}
    }
    static CAPTURE: Capture = Capture;
    let _ = log::set_logger(&CAPTURE);
    log::set_max_level(log::LevelFilter::Warn);
    // The current directory of `cargo test` is the package's, on disk in CI
    // (and here); a tmpfs target would make this test vacuous.
    let dir = std::env::current_dir()
        .unwrap()
        .join(format!("target-test-{}", std::process::id()));
    fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
    let on_tmpfs = Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(&dir)
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("tmpfs"));
    let p = publish_one(&dir.join("app"), &M);
    drop(p);
    let _ = fs::remove_dir_all(&dir);
    let logs = LOG.lock().unwrap();
    if !on_tmpfs {
        assert!(
            logs.iter()
                .any(|l| l.contains("not on a memory file system")),
            "{logs:?}"
        );
    }
}

#[test]
fn reader_refuses_symlinks_and_huge_files() {
    let dir = TempDir::new("reader");
    fs::write(dir.path("target"), "counter 8: {}").unwrap();
    symlink(dir.path("target"), dir.path("a.meta")).unwrap();
    fs::write(dir.path("a.values"), [0u8; 8]).unwrap();
    let err = read::read(dir.path("a")).unwrap_err();
    assert!(matches!(err, Error::NotRegularFile { .. }), "{err:?}");

    let f = fs::File::create(dir.path("b.meta")).unwrap();
    f.set_len(read::META_LIMIT + 1).unwrap();
    fs::write(dir.path("b.values"), [0u8; 8]).unwrap();
    let err = read::read(dir.path("b")).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");

    let err = read::read(dir.path("c")).unwrap_err();
    assert!(
        matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );

    fs::create_dir(dir.path("d.meta")).unwrap();
    let err = read::read(dir.path("d")).unwrap_err();
    assert!(matches!(err, Error::NotRegularFile { .. }), "{err:?}");

    // A FIFO neither blocks the reader nor a publisher.
    let fifo = dir.path("e.meta");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let err = read::read(dir.path("e")).unwrap_err();
    assert!(matches!(err, Error::NotRegularFile { .. }), "{err:?}");
}

#[test]
fn non_utf8_base_paths_work() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    static M: Counter = Counter::new(&[("metric", "latin1")]);
    let dir = TempDir::new("non-utf8");
    let base = dir.0.join(OsString::from_vec(b"caf\xe9".to_vec()));
    let p = publish_one(&base, &M).unwrap();
    M.incr(9);
    let snap = read::read(&base).unwrap();
    assert_eq!(u64_at(&snap.values, 0), 9);
    drop(p);
    assert_eq!(fs::read_dir(&dir.0).unwrap().count(), 0);
}

/// A publisher that restarts all the time, alternating two layouts: every
/// snapshot the reader returns has a values file of the size its meta says.
/// (Probabilistic: a mixed read needs a whole restart to fit between the
/// reader's two opens, which is rare on a small machine.)
#[test]
fn reader_never_mixes_two_publications() {
    fn leaked(metric: &'static str) -> &'static Counter {
        let pairs: &'static [(&str, &str)] = Box::leak(Box::new([("metric", metric)]));
        Box::leak(Box::new(Counter::new(pairs)))
    }
    let dir = TempDir::new("restarts");
    let base = dir.path("app");
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (base, stop) = (base.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let mut c = Collection::growable();
                for _ in 0..1 + 2 * (i % 2) {
                    let name: &'static str = Box::leak(format!("m{i}").into_boxed_str());
                    c.register(leaked(name)).unwrap();
                    i += 1;
                }
                let p = Publisher::new().path(&base).publish(c).unwrap();
                std::thread::yield_now();
                drop(p);
            }
        })
    };
    let (mut ok, mut failed) = (0, 0);
    while ok < 1000 && failed < 1_000_000 {
        match read::read(&base) {
            Ok(snap) => {
                let lines = snap.meta.split(|&b| b == b'\n').count();
                assert_eq!(
                    snap.values.len(),
                    8 * lines,
                    "{:?}",
                    String::from_utf8_lossy(&snap.meta)
                );
                ok += 1;
            }
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                failed += 1
            }
            // Caught between the removal (or creation) of the two files.
            Err(Error::Unstable { .. } | Error::HalfPresent { .. }) => failed += 1,
            Err(e) => panic!("{e}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    publisher.join().unwrap();
    eprintln!("{ok} snapshots, {failed} misses");
    assert!(ok >= 1000);
}

#[test]
fn an_empty_collection_publishes_empty_files() {
    let dir = TempDir::new("empty");
    let p = Publisher::new()
        .path(dir.path("app"))
        .publish(Collection::growable())
        .unwrap();
    let snap = read::read(p.path()).unwrap();
    assert!(snap.alive);
    assert!(snap.meta.is_empty() && snap.values.is_empty());
}

#[test]
fn load_decodes_owned_values_and_names_bad_lines() {
    static HITS: Counter = Counter::new(&[("group", "g"), ("metric", "hits")]);
    static DEPTH: Integer = Integer::new(&[("group", "g"), ("metric", "depth")]);
    static PHASE: State = State::new(&[("group", "g"), ("metric", "phase")]);
    let dir = TempDir::new("decoded");
    let base = dir.path("app");
    let mut c = Collection::growable();
    c.register(&HITS).unwrap();
    c.register(&DEPTH).unwrap();
    c.register(&PHASE).unwrap();
    let publication = Publisher::new().path(&base).publish(c).unwrap();
    HITS.incr(u64::MAX);
    DEPTH.set(i64::MIN);
    PHASE.enter_at("café", 42);
    let loaded = read::load(&base).unwrap();
    assert!(loaded.alive);
    let got: Vec<_> = loaded
        .iter()
        .map(|(slot, value)| (slot.name().as_str(), slot.kind(), value.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                r#"{"group": "g", "metric": "depth"}"#,
                "level signed",
                read::OwnedValue::Signed(i64::MIN)
            ),
            (
                r#"{"group": "g", "metric": "hits"}"#,
                "counter",
                read::OwnedValue::Counter(u64::MAX)
            ),
            (
                r#"{"group": "g", "metric": "phase"}"#,
                "state",
                read::OwnedValue::State {
                    timestamp: 42,
                    text: "café".into()
                }
            ),
        ]
    );
    assert_eq!(
        loaded.meta.slots()[1].name().pairs().collect::<Vec<_>>(),
        [("group", "g"), ("metric", "hits")]
    );
    drop(publication);

    // Hand-made broken publications: errors name the meta file and line.
    let broken = dir.path("broken");
    let meta = dir.path("broken.meta");
    fs::write(dir.path("broken.values"), [0u8; 16]).unwrap();
    fs::write(&meta, "counter 8: {\"a\": \"1\"}\ncounter 8: {\"a\": 1}").unwrap();
    let err = read::load(&broken).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    let text = err.to_string();
    assert!(text.starts_with(&meta.display().to_string()), "{text}");
    assert!(text.contains("line 2"), "{text}");

    fs::write(
        &meta,
        "counter 8: {\"a\": \"1\"}\nlevel 8 signed: { \"a\" : \"1\" }",
    )
    .unwrap();
    // The same name twice: the second line is skipped, the first read.
    let loaded = read::load(&broken).unwrap();
    let skipped: Vec<_> = loaded
        .meta
        .slots()
        .iter()
        .map(|slot| slot.skipped())
        .collect();
    assert_eq!(skipped, [None, Some("the same name as meta line 1")]);

    fs::write(
        &meta,
        "counter 8: {\"a\": \"1\"}\ncounter 8: {\"a\": \"2\"}\ncounter 8: {}",
    )
    .unwrap();
    let err = read::load(&broken).unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
}

/// A file system with room for the values but not for the meta text fails
/// before any metric moves into a mapping: nothing stays mapped, the
/// metrics keep working in memory, and the file system is left empty.
#[test]
fn full_file_system_for_the_meta_fails_before_mapping() {
    let dir = TempDir::new("fullmeta");
    let sub = dir.path("small");
    let Some(mount) = Mount::tmpfs(&sub, "size=16k,mode=0700") else {
        return eprintln!("skipped: cannot mount a small tmpfs (needs root)");
    };
    // 200 counters: 1,600 bytes of values, about 20 KiB of meta.
    let metrics: &'static [Counter] = (0..200)
        .map(|i| {
            let value: &'static str = format!("{i:0>90}").leak();
            let pairs: &'static [(&str, &str)] = vec![("metric", value)].leak();
            Counter::new(pairs)
        })
        .collect::<Vec<_>>()
        .leak();
    let mut c = Collection::growable();
    c.register(metrics).unwrap();
    let err = Publisher::new()
        .path(sub.join("app"))
        .publish(c)
        .unwrap_err();
    assert!(matches!(&err, Error::NoSpace { .. }), "{err:?}");
    assert!(!cantal_core::Metric::is_published(&metrics[0]));
    metrics[0].incr(1);
    assert_eq!(metrics[0].get(), 1);
    use std::os::unix::ffi::OsStrExt;
    // `/proc/self/maps` lists the mappings of the whole test process, where
    // other tests (running on other threads) map files whose paths are not
    // UTF-8 (`non_utf8_base_paths_work`): search its bytes, not its text,
    // and only for paths under this test's own directory.
    let maps = fs::read("/proc/self/maps").unwrap();
    let mut ours = sub.as_os_str().as_bytes().to_vec();
    ours.push(b'/');
    assert!(
        !maps.windows(ours.len()).any(|w| w == ours.as_slice()),
        "a mapping of the failed publication stays:\n{}",
        String::from_utf8_lossy(&maps)
    );
    assert_eq!(fs::read_dir(&sub).unwrap().count(), 0, "files left behind");
    drop(mount);
}
