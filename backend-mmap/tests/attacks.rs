//! A second local user against the publisher: a directory she owns, a
//! world-writable grandparent she swaps for a symlink, a resume pair she
//! plants. One regression test per attack (see SECURITY.md); those that
//! need another owner run as root and create the user `cantal-test-other`
//! (`useradd -M`) when it is missing, and skip with a message otherwise.

use cantal_core::{Collection, Counter, Metric};
use cantal_mmap::{Error, Publisher};
use cantal_testkit::{TempDir, file_names, is_root};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt, lchown, symlink};
use std::path::Path;
use std::process::Command;

const OTHER: &str = "cantal-test-other";

/// The uid of the other user, created when missing; `None` when not root.
fn other_uid() -> Option<u32> {
    if !is_root() {
        eprintln!("skipped: needs root (to own files as another user)");
        return None;
    }
    let id = || Command::new("id").args(["-u", OTHER]).output().ok();
    let mut out = id()?;
    if !out.status.success() {
        let made = Command::new("useradd")
            .args(["-M", "-r", "-s", "/usr/sbin/nologin", OTHER])
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            eprintln!("skipped: cannot create the user {OTHER}");
            return None;
        }
        out = id()?;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn dir_with_mode(path: &Path, mode: u32) {
    fs::DirBuilder::new().mode(mode).create(path).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn leaked(metric: &'static str) -> &'static Counter {
    let pairs = Box::leak(Box::new([("metric", metric)]));
    Box::leak(Box::new(Counter::new(pairs)))
}

#[test]
fn a_directory_owned_by_another_user_is_refused() {
    let Some(uid) = other_uid() else { return };
    let dir = TempDir::new("foreign-dir");
    let hers = dir.path("hers");
    dir_with_mode(&hers, 0o755);
    std::os::unix::fs::chown(&hers, Some(uid), Some(uid)).unwrap();
    let m = leaked("foreign");
    let mut c = Collection::growable();
    c.register(m).unwrap();
    let err = Publisher::new()
        .path(hers.join("app"))
        .publish(c)
        .unwrap_err();
    assert!(
        matches!(&err, Error::ForeignDirectory { path, owner, expected: 0 } if path == &hers && *owner == uid),
        "{err}"
    );
    assert!(err.to_string().contains(&format!("uid {uid}")), "{err}");
    assert!(file_names(&hers).is_empty());
    assert!(!m.is_published());
}

#[test]
fn a_world_writable_grandparent_swapped_for_a_symlink_is_refused() {
    let dir = TempDir::new("swap");
    // Root-only files of the same names that she wants deleted.
    let secret = dir.path("secret");
    dir_with_mode(&secret, 0o700);
    for name in ["app.tmp", "app.meta"] {
        fs::write(secret.join(name), "root's").unwrap();
    }
    let open = dir.path("open");
    dir_with_mode(&open, 0o777); // world-writable, no sticky bit
    // She replaced `open/parent` with a symlink to the root-only directory.
    let parent = open.join("parent");
    symlink(&secret, &parent).unwrap();
    if let Some(uid) = other_uid() {
        lchown(&parent, Some(uid), Some(uid)).unwrap();
    }
    let m = leaked("swap");
    let mut c = Collection::growable();
    c.register(m).unwrap();
    let err = Publisher::new()
        .path(parent.join("app"))
        .publish(c)
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnsafeDirectory { path, mode: 0o777 } if path == &open),
        "{err}"
    );
    assert_eq!(file_names(&secret), ["app.meta", "app.tmp"]);
    assert_eq!(
        fs::read_to_string(secret.join("app.tmp")).unwrap(),
        "root's"
    );
    assert!(!m.is_published());
}

#[test]
fn a_symlink_owned_by_another_user_is_not_followed() {
    let Some(uid) = other_uid() else { return };
    let dir = TempDir::new("her-link");
    let sticky = dir.path("sticky");
    dir_with_mode(&sticky, 0o1777);
    let target = dir.path("target");
    dir_with_mode(&target, 0o700);
    let link = sticky.join("link");
    symlink(&target, &link).unwrap();
    lchown(&link, Some(uid), Some(uid)).unwrap();
    let mut c = Collection::growable();
    c.register(leaked("her-link")).unwrap();
    let err = Publisher::new()
        .path(link.join("app"))
        .publish(c)
        .unwrap_err();
    assert!(
        matches!(&err, Error::ForeignDirectory { path, .. } if path == &link),
        "{err}"
    );
    assert!(file_names(&target).is_empty());
}

/// A stale pair at `base` with the meta text of counters named `names`,
/// every counter at `value`, written by us.
fn plant_pair(base: &Path, names: &[&'static str], value: u64) {
    let mut c = Collection::growable();
    for name in names {
        c.register(leaked(name)).unwrap();
    }
    let publication = Publisher::new().path(base).publish(c).unwrap();
    let meta = publication.meta_text();
    let len = publication.values_len();
    drop(publication);
    fs::write(base.with_extension("meta"), meta).unwrap();
    let values: Vec<u8> = (0..len / 8).flat_map(|_| value.to_ne_bytes()).collect();
    fs::write(base.with_extension("values"), values).unwrap();
}

#[test]
fn a_planted_resume_pair_is_not_adopted() {
    let Some(uid) = other_uid() else { return };
    let dir = TempDir::new("planted");
    let shared = dir.path("shared");
    dir_with_mode(&shared, 0o1777); // like /tmp
    let base = shared.join("app");
    plant_pair(&base, &["planted"], 1_000_000);
    for ext in ["meta", "values"] {
        std::os::unix::fs::chown(base.with_extension(ext), Some(uid), Some(uid)).unwrap();
    }
    let m = leaked("planted");
    m.incr(3);
    let mut c = Collection::growable();
    c.register(m).unwrap();
    let publication = Publisher::new().path(&base).resume(true).publish(c);
    // Her files are not ours to remove in a sticky directory: the start
    // fails, or (were they removable) starts afresh; never adopts.
    assert_eq!(m.get(), 3, "{publication:?}");
}

#[test]
fn a_failed_start_leaves_the_metrics_values_as_they_were() {
    let dir = TempDir::new("failed-resume");
    let base = dir.path("app");
    plant_pair(&base, &["kept", "taken"], 1000);
    // `taken` is published elsewhere already: the start fails after the
    // files are ready, the resume pair being ours and valid.
    let taken = leaked("taken");
    let mut elsewhere = Collection::growable();
    elsewhere.register(taken).unwrap();
    let _elsewhere = Publisher::new()
        .path(dir.path("elsewhere"))
        .publish(elsewhere)
        .unwrap();
    let kept = leaked("kept");
    kept.incr(5);
    let mut c = Collection::growable();
    c.register(kept).unwrap();
    c.register(taken).unwrap();
    let err = Publisher::new()
        .path(&base)
        .resume(true)
        .publish(c)
        .unwrap_err();
    assert!(matches!(err, Error::Start { .. }), "{err}");
    assert_eq!(kept.get(), 5);
    assert_eq!(taken.get(), 0);
    assert!(!kept.is_published());
    assert!(
        !file_names(&dir.0).iter().any(|n| n.ends_with(".tmp")),
        "{:?}",
        file_names(&dir.0)
    );
}

#[test]
fn a_pair_of_ours_with_two_links_is_not_adopted() {
    let dir = TempDir::new("linked");
    let base = dir.path("app");
    plant_pair(&base, &["linked"], 1000);
    fs::hard_link(base.with_extension("values"), dir.path("elsewhere")).unwrap();
    let m = leaked("linked");
    let mut c = Collection::growable();
    c.register(m).unwrap();
    let _publication = Publisher::new()
        .path(&base)
        .resume(true)
        .publish(c)
        .unwrap();
    assert_eq!(m.get(), 0);
}

#[test]
fn a_relative_explicit_path_is_published_absolute() {
    let dir = TempDir::new("relative");
    let m = leaked("relative");
    let mut c = Collection::growable();
    c.register(m).unwrap();
    let cwd = std::env::current_dir().unwrap();
    let relative = pathdiff(&dir.path("app"), &cwd);
    let publication = Publisher::new().path(&relative).publish(c).unwrap();
    assert!(publication.path().is_absolute());
    assert_eq!(
        fs::canonicalize(publication.values_path()).unwrap(),
        fs::canonicalize(dir.path("app.values")).unwrap()
    );
}

/// `target` relative to `from` (both absolute): `../..` up to the root.
fn pathdiff(target: &Path, from: &Path) -> std::path::PathBuf {
    let mut up = std::path::PathBuf::new();
    for _ in from.components().skip(1) {
        up.push("..");
    }
    up.join(target.strip_prefix("/").unwrap())
}
