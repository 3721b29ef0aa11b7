//! What the integration tests of every crate of the workspace share: a
//! private temporary directory ([`TempDir`]), a tmpfs mounted for one test
//! ([`Mount`], root only), whether we are root ([`is_root`]), and reading
//! a child process's output up to a line ([`wait_for`]).
//!
//! A dev-dependency only; not published.
#![forbid(unsafe_code)]

use std::fs;
use std::io::BufRead;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A private directory (mode 0700) in the system's temporary directory,
/// named after the test and this process, removed with its contents when
/// dropped (even when a test left it read-only).
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory for the test `tag`, unique within the
    /// process even when two tests running at once give the same tag (a
    /// counter follows the tag); a leftover of an earlier run of the same
    /// pid is removed first.
    ///
    /// # Panics
    ///
    /// When it cannot be created.
    pub fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("cantal-test-{}-{tag}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
        TempDir(dir)
    }

    /// `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::set_permissions(&self.0, fs::Permissions::from_mode(0o700));
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A tmpfs mounted for one test, unmounted when dropped.
#[derive(Debug)]
pub struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs with `options` (`size=64k,mode=0700`) at `at`,
    /// creating the directory; `None` when that fails (not root, no
    /// `mount` command): the test then skips what needs it.
    pub fn tmpfs(at: &Path, options: &str) -> Option<Mount> {
        fs::create_dir_all(at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // Lazily (`-l`): a publication's mappings are never unmapped, so
        // the mount stays busy while this process lives.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The names in `dir`, sorted (a test checks what a publisher left).
///
/// # Panics
///
/// When `dir` cannot be read.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether this process runs as root (some tests need another owner, or a
/// mount).
pub fn is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Reads `out` line by line up to the first line containing `prefix`, and
/// returns that line.
///
/// # Panics
///
/// When `out` ends first (the child exited): the message names `prefix`.
pub fn wait_for(out: &mut impl BufRead, prefix: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert_ne!(
            out.read_line(&mut line).unwrap(),
            0,
            "child ended before {prefix:?}"
        );
        if line.contains(prefix) {
            return line;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dirs_are_private_and_go_away() {
        let dir = TempDir::new("unit");
        let path = dir.0.clone();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o700);
        fs::write(dir.path("f"), "x").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o500)).unwrap();
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn wait_for_returns_the_line() {
        let mut out = std::io::Cursor::new("a\nstarted /x\nb\n");
        assert_eq!(wait_for(&mut out, "started "), "started /x\n");
        let result = std::panic::catch_unwind(move || wait_for(&mut out, "never"));
        assert!(result.is_err());
    }
}
