//! The global recorder: `connect_global` (what `cantal::start()` calls)
//! before `install`, a second `install`, and the thread ending with the
//! publication. One test: a process has one global recorder.

use cantal_core::Collection;
use cantal_mmap::Publisher;
use cantal_mmap::read::{OwnedValue, load};
use std::fs;
use std::os::unix::fs::DirBuilderExt;

/// The names of this process's threads.
fn threads() -> Vec<String> {
    fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|c| c.trim_end().to_string())
        .collect()
}

#[test]
fn start_then_install_publishes_and_the_drop_stops_the_thread() {
    let dir = std::env::temp_dir().join(format!("cantal-recorder-global-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
    let base = dir.join("app");
    let publication = Publisher::new()
        .path(&base)
        .publish(Collection::growable())
        .unwrap();
    assert!(cantal_recorder::installed().is_none());
    // `start()` first: the publication waits for the recorder.
    cantal_recorder::connect_global(publication.extender()).unwrap();
    assert!(!threads().iter().any(|t| t == "cantal-recorder"));

    let recorder = cantal_recorder::install().unwrap();
    // The new thread names itself once it runs.
    let named = std::time::Instant::now();
    while !threads().iter().any(|t| t == "cantal-recorder") {
        assert!(
            named.elapsed().as_secs() < 5,
            "no recorder thread: {:?}",
            threads()
        );
        std::thread::yield_now();
    }
    metrics::counter!("global", "via" => "macro").increment(3);
    metrics::gauge!("level").set(-1.5);
    recorder.flush().unwrap();
    let loaded = load(&base).unwrap();
    assert!(loaded.alive);
    let value = |name: &str| loaded.value(name).cloned();
    assert_eq!(
        value(r#"{"metric": "global", "via": "macro"}"#),
        Some(OwnedValue::Counter(3))
    );
    assert_eq!(
        value(r#"{"metric": "level"}"#),
        Some(OwnedValue::Float(-1.5))
    );

    let again = cantal_recorder::install().unwrap_err();
    assert!(
        matches!(again, cantal_recorder::Error::AlreadyInstalled),
        "{again}"
    );
    assert_eq!(cantal_recorder::installed().unwrap().slots(), 2);

    // The drop joins the thread and removes the files; the handles keep
    // working in memory.
    let meta = publication.meta_path().to_path_buf();
    drop(publication);
    // The drop has joined the thread; the kernel may list a joined thread
    // in /proc/self/task a moment longer (the join returns when its
    // thread id is cleared, before the task is released), so look again
    // for a while before calling it alive.
    let joined = std::time::Instant::now();
    while threads().iter().any(|t| t == "cantal-recorder") {
        assert!(
            joined.elapsed().as_secs() < 5,
            "the recorder thread outlives the publication: {:?}",
            threads()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(!meta.exists());
    metrics::counter!("global", "via" => "macro").increment(1);
    metrics::counter!("after_drop").increment(1);
    assert!(recorder.flush().is_err());
    let _ = fs::remove_dir_all(&dir);
}
