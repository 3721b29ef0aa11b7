//! Hostile publishers against a privileged reader: an exporter running as
//! root reads base paths that other users' processes chose (their
//! `CANTAL_PATH`). What it reads must be theirs: never a file they point it
//! at through a symlink or a hard link, never a FIFO it would block on.
//!
//! Tests that need root (chown, files of other owners) say "skipped" and
//! pass when not run as root.

use cantal_mmap::Error;
use cantal_mmap::read::{self, Options};
use cantal_testkit::{TempDir, is_root};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt, chown, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The uid hostile files belong to.
const NOBODY: u32 = 65534;
/// What a root-only file holds: a valid publication, so that a reader that
/// followed a link would decode it and show it.
const SECRET_META: &str = r#"counter 8: {"password": "hunter2"}"#;
const SECRET_WORD: &str = "hunter2";

/// A root-only secret publication (`/etc/shadow`-like, mode 0600) at
/// `dir/secret.meta` and `dir/secret.values`.
fn plant_secret(dir: &TempDir) -> (PathBuf, PathBuf) {
    let meta = dir.path("secret.meta");
    let values = dir.path("secret.values");
    fs::write(&meta, SECRET_META).unwrap();
    fs::write(&values, 0x5ec2e7u64.to_ne_bytes()).unwrap();
    for f in [&meta, &values] {
        fs::set_permissions(f, fs::Permissions::from_mode(0o600)).unwrap();
    }
    (meta, values)
}

/// A well-formed publication at `base`, its files owned by `uid` (when
/// root; else by us).
fn publication(base: &Path, uid: Option<u32>) {
    let meta = PathBuf::from(format!("{}.meta", base.display()));
    let values = PathBuf::from(format!("{}.values", base.display()));
    fs::write(&meta, r#"counter 8: {"metric": "ok"}"#).unwrap();
    fs::write(&values, 42u64.to_ne_bytes()).unwrap();
    if let Some(uid) = uid {
        chown(&meta, Some(uid), None).unwrap();
        chown(&values, Some(uid), None).unwrap();
    }
}

/// Reads `base` in every way the crate offers, with and without an owner,
/// and checks that no output (value, error message, debug form) shows the
/// secret. Returns the errors of `read_with(base, options)`.
fn read_all_ways(base: &Path, options: &Options) -> Result<read::Snapshot, Error> {
    let mut outputs = Vec::new();
    let result = read::read_with(base, options);
    outputs.push(format!("{result:?}"));
    if let Err(e) = &result {
        outputs.push(e.to_string());
    }
    let plain = read::read(base);
    outputs.push(format!("{plain:?}"));
    outputs.push(format!("{:?}", read::load(base)));
    outputs.push(format!("{:?}", read::load_with(base, options)));
    for out in &outputs {
        assert!(!out.contains(SECRET_WORD), "secret leaked: {out}");
    }
    result
}

#[test]
fn planted_symlinks_to_a_root_only_file_are_refused() {
    let dir = TempDir::new("symlinks");
    let (secret_meta, secret_values) = plant_secret(&dir);
    // Both files links.
    symlink(&secret_meta, dir.path("a.meta")).unwrap();
    symlink(&secret_values, dir.path("a.values")).unwrap();
    // A real meta, the values a link.
    fs::write(dir.path("b.meta"), SECRET_META.replace(SECRET_WORD, "x")).unwrap();
    symlink(&secret_values, dir.path("b.values")).unwrap();
    if is_root() {
        chown(dir.path("b.meta"), Some(NOBODY), None).unwrap();
    }
    // A link to a link.
    symlink(dir.path("a.meta"), dir.path("c.meta")).unwrap();
    symlink(dir.path("a.values"), dir.path("c.values")).unwrap();
    for base in ["a", "b", "c"] {
        let owners = [None, Some(NOBODY)]
            .into_iter()
            .filter(|o| o.is_none() || is_root());
        for options in owners.map(|owner| Options::new().owner(owner)) {
            let err = read_all_ways(&dir.path(base), &options).unwrap_err();
            assert!(
                matches!(err, Error::NotRegularFile { .. }),
                "{base}: {err:?}"
            );
        }
    }
    assert!(read::is_alive(dir.path("a")).is_err());
}

#[test]
fn a_hard_link_to_a_root_only_file_is_refused_by_owner() {
    if !is_root() {
        return eprintln!("skipped: needs root");
    }
    let dir = TempDir::new("hardlink");
    let (secret_meta, secret_values) = plant_secret(&dir);
    // The publisher's user cannot read the target, but with
    // fs.protected_hardlinks = 0 could link to it; root makes the links here.
    fs::hard_link(&secret_meta, dir.path("h.meta")).unwrap();
    fs::hard_link(&secret_values, dir.path("h.values")).unwrap();
    let options = Options::new().owner(Some(NOBODY));
    let err = read::read_with(dir.path("h"), &options).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignOwner {
                owner: 0,
                expected: NOBODY,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains(SECRET_WORD));
    assert!(read::load_with(dir.path("h"), &options).is_err());
}

#[test]
fn a_symlinked_directory_leads_only_to_files_of_the_owner() {
    if !is_root() {
        return eprintln!("skipped: needs root");
    }
    // O_NOFOLLOW guards the last component only: a base path through a
    // directory symlink reaches root's files. The owner check refuses them.
    let dir = TempDir::new("dirlink");
    let private = dir.path("private");
    fs::DirBuilder::new().mode(0o700).create(&private).unwrap();
    fs::write(private.join("app.meta"), SECRET_META).unwrap();
    fs::write(private.join("app.values"), [0u8; 8]).unwrap();
    symlink(&private, dir.path("link")).unwrap();
    let base = dir.path("link").join("app");
    let options = Options::new().owner(Some(NOBODY));
    let err = read::read_with(&base, &options).unwrap_err();
    assert!(matches!(err, Error::ForeignOwner { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(SECRET_WORD));
    // Without the owner check the path is read: why a privileged reader
    // must set it.
    assert!(read::read(&base).is_ok());
}

#[test]
fn files_of_another_owner_are_refused() {
    if !is_root() {
        return eprintln!("skipped: needs root");
    }
    let dir = TempDir::new("owner");
    let root = Options::new().owner(Some(0));

    // Both files foreign.
    publication(&dir.path("a"), Some(NOBODY));
    let err = read::read_with(dir.path("a"), &root).unwrap_err();
    match &err {
        Error::ForeignOwner {
            path,
            owner,
            expected,
        } => {
            assert_eq!(path, &dir.path("a.meta"));
            assert_eq!((*owner, *expected), (NOBODY, 0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "{} belongs to uid 65534, not to the publisher's uid 0",
            dir.path("a.meta").display()
        )
    );

    // Only the values file foreign.
    publication(&dir.path("b"), None);
    chown(dir.path("b.values"), Some(NOBODY), None).unwrap();
    let err = read::read_with(dir.path("b"), &root).unwrap_err();
    assert!(
        matches!(&err, Error::ForeignOwner { path, .. } if path == &dir.path("b.values")),
        "{err:?}"
    );

    // The right owner: read, also as the other user.
    let snap = read::read_with(dir.path("a"), &Options::new().owner(Some(NOBODY))).unwrap();
    assert_eq!(snap.values, 42u64.to_ne_bytes());
    let loaded = read::load_with(dir.path("a"), &Options::new()).unwrap();
    assert_eq!(loaded.values[0], read::OwnedValue::Counter(42));
}

#[test]
fn fifos_and_directories_are_refused_without_blocking() {
    let dir = TempDir::new("special");
    for (base, which) in [("m", "meta"), ("v", "values")] {
        publication(&dir.path(base), None);
        let file = dir.path(&format!("{base}.{which}"));
        fs::remove_file(&file).unwrap();
        let made = Command::new("mkfifo").arg(&file).status().unwrap();
        assert!(made.success());
        for options in [Options::new(), Options::new().owner(Some(0))] {
            let err = read::read_with(dir.path(base), &options).unwrap_err();
            assert!(
                matches!(&err, Error::NotRegularFile { path } if path == &file),
                "{err:?}"
            );
        }
    }
    publication(&dir.path("d"), None);
    fs::remove_file(dir.path("d.values")).unwrap();
    fs::create_dir(dir.path("d.values")).unwrap();
    let err = read::read_with(dir.path("d"), &Options::new()).unwrap_err();
    assert!(matches!(err, Error::NotRegularFile { .. }), "{err:?}");
}

#[test]
fn size_limits_of_the_options() {
    let dir = TempDir::new("limits");
    publication(&dir.path("a"), None);
    let err = read::read_with(dir.path("a"), &Options::new().max_meta(10)).unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 10, .. }), "{err:?}");
    let err = read::read_with(dir.path("a"), &Options::new().max_values(7)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                size: 8,
                limit: 7,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(read::read_with(dir.path("a"), &Options::new().max_values(8)).is_ok());
    // A sparse values file of a terabyte is refused before any allocation.
    let f = fs::File::create(dir.path("a.values")).unwrap();
    f.set_len(1 << 40).unwrap();
    let err = read::read(dir.path("a")).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
}

#[test]
fn owner_of_pid_is_the_real_uid() {
    let me = fs::metadata("/proc/self").unwrap().uid();
    assert_eq!(read::owner_of_pid(std::process::id()).unwrap(), me);
    // A process of another user (when root can start one).
    if is_root()
        && let Ok(mut child) = Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "sleep",
                "5",
            ])
            .spawn()
    {
        // Wait for the exec (the uid changes just before it).
        let mut owner = 0;
        for _ in 0..500 {
            owner = read::owner_of_pid(child.id()).unwrap();
            if owner == NOBODY {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(owner, NOBODY);
    }
    let err = read::owner_of_pid(u32::MAX).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

/// The kept-layout path (`open_with`, `Opened::read_values`) has the
/// checks of `read_with`: a FIFO or a file of another owner at `P.values`
/// is refused without blocking, after the meta file was accepted.
#[test]
fn the_kept_layout_path_checks_the_values_file_too() {
    let dir = TempDir::new("opened");
    publication(&dir.path("p"), None);
    let opened = read::open_with(dir.path("p"), &Options::new()).unwrap();
    let layout = read::ParsedMeta::parse(&opened.read_meta().unwrap(), opened.meta_path()).unwrap();
    let (values, _) = opened.read_values(&layout).unwrap();
    assert_eq!(values, [read::OwnedValue::Counter(42)]);
    // A FIFO in its place.
    fs::remove_file(dir.path("p.values")).unwrap();
    let made = Command::new("mkfifo")
        .arg(dir.path("p.values"))
        .status()
        .unwrap();
    assert!(made.success());
    let err = opened.read_values(&layout).unwrap_err();
    assert!(matches!(err, Error::NotRegularFile { .. }), "{err:?}");
    if !is_root() {
        return eprintln!("skipped: the owner half needs root");
    }
    // A file of another owner, the meta file being the owner's.
    fs::remove_file(dir.path("p.values")).unwrap();
    fs::write(dir.path("p.values"), 42u64.to_ne_bytes()).unwrap();
    chown(dir.path("p.meta"), Some(NOBODY), None).unwrap();
    let options = Options::new().owner(Some(NOBODY));
    let opened = read::open_with(dir.path("p"), &options).unwrap();
    let err = opened.read_values(&layout).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignOwner {
                owner: 0,
                expected: NOBODY,
                ..
            }
        ),
        "{err:?}"
    );
    // And a meta file of another owner is refused when opened.
    let err = read::open_with(dir.path("p"), &Options::new().owner(Some(0))).unwrap_err();
    assert!(matches!(err, Error::ForeignOwner { .. }), "{err:?}");
}

/// A publication read inside another root (a container's `/proc/PID/root`,
/// [`Options::root`]): its own absolute paths resolve inside that root,
/// and neither an absolute symlink nor `..` reaches a file of ours outside
/// it, though a reader without the root would follow both.
#[test]
fn paths_inside_a_root_never_leave_it() {
    let dir = TempDir::new("in-root");
    let root = dir.path("root");
    fs::create_dir_all(root.join("run")).unwrap();
    publication(&root.join("run/app"), None);
    // Outside the root: the secret, and links to it from inside.
    let (secret_meta, _) = plant_secret(&dir);
    let outside = secret_meta.parent().unwrap().to_path_buf();
    symlink(&outside, root.join("run/abs")).unwrap();
    symlink("../../..", root.join("run/up")).unwrap();
    let inside = Options::new().root(Some(root.clone()));

    let snapshot = read::read_with("/run/app", &inside).unwrap();
    assert!(snapshot.meta.starts_with(b"counter 8: "));
    let loaded = read::load_with("/run/app", &inside).unwrap();
    assert_eq!(loaded.meta.slots()[0].name(), r#"{"metric": "ok"}"#);

    let escapes = [
        PathBuf::from("/run/abs/secret"),
        PathBuf::from(format!("/run/up{}", outside.join("secret").display())),
        outside.join("secret"),
    ];
    for base in &escapes {
        let e = read::read_with(base, &inside).unwrap_err();
        assert!(
            matches!(&e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{base:?}: {e:?}"
        );
        assert!(!format!("{e:?}").contains(SECRET_WORD), "{e:?}");
    }
    // Without the root, the host's reader follows the link (the test is
    // not vacuous): the files are there.
    assert!(read::read_with(root.join("run/abs/secret"), &Options::new()).is_ok());
}
