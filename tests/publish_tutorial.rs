//! The tutorial example runs, publishes where it says, and cleans up.
#![cfg(all(feature = "mmap", target_os = "linux"))]

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::process::Command;

/// `cargo test` builds the examples next to the test binaries' `deps/`.
fn tutorial() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("examples").join("tutorial");
    path.exists().then_some(path)
}

#[test]
fn tutorial_publishes_and_cleans_up() {
    let Some(tutorial) = tutorial() else {
        return eprintln!("skipped: examples/tutorial not built (run `cargo test`)");
    };
    let dir = std::env::temp_dir().join(format!("cantal-tutorial-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
    let base = dir.join("tutorial");
    let out = Command::new(tutorial)
        .args(["--for", "0.3"])
        .env("CANTAL_PATH", &base)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&base.display().to_string()), "{stdout}");
    assert!(stdout.contains("ticked"), "{stdout}");
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "files left behind");
    let _ = fs::remove_dir_all(&dir);
}
