//! Publishers in other mount namespaces, as containers run them, read by
//! an exporter of the host: a publisher in its own mount and PID
//! namespace (`unshare`), its `CANTAL_PATH` on a tmpfs the host does not
//! see, is found and served; a process with a root of its own (`chroot`)
//! whose `CANTAL_PATH` goes through an absolute symlink to a host file
//! gets nothing of that file served. Needs root (`unshare`, `mount`,
//! `chroot`); skipped otherwise.
#![forbid(unsafe_code)]

mod common;

use cantal_cli::bench::Exporter;
use cantal_core::{Collection, Counter};
use cantal_testkit::TempDir;
use common::naming;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROLE: &str = "CANTAL_CONTAINER_TEST_ROLE";

static CONTAINED: Counter = Counter::new(&[("metric", "contained")]);

/// The children's side; does nothing in a normal test run.
/// - `tmpfs`: mounts a tmpfs at `$MOUNT` (in its own mount namespace),
///   publishes at `$CANTAL_PATH` on it, prints `started`, waits for its
///   standard input to close.
/// - `chroot`: changes its root to `$ROOT`, prints `started`, waits.
#[test]
fn child_main() {
    let Some(role) = std::env::var_os(ROLE) else {
        return;
    };
    match role.to_str() {
        Some("tmpfs") => {
            let mount = std::env::var_os("MOUNT").unwrap();
            let ok = Command::new("mount")
                .args(["-t", "tmpfs", "tmpfs"])
                .arg(&mount)
                .status()
                .unwrap();
            assert!(ok.success());
            let mut metrics = Collection::growable();
            metrics.register(&CONTAINED).unwrap();
            let path = std::env::var_os("CANTAL_PATH").unwrap();
            let publication = cantal_mmap::Publisher::new()
                .path(path)
                .publish(metrics)
                .unwrap();
            CONTAINED.incr(7);
            println!("started");
            let _ = std::io::stdin().read(&mut [0u8; 1]);
            drop(publication);
        }
        Some("chroot") => {
            std::os::unix::fs::chroot(std::env::var_os("ROOT").unwrap()).unwrap();
            std::env::set_current_dir("/").unwrap();
            println!("started");
            let _ = std::io::stdin().read(&mut [0u8; 1]);
        }
        other => panic!("role {other:?}"),
    }
}

/// A child process; killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` (this test binary as `role`, possibly under `unshare`) and
/// waits for its `started` line.
fn start(mut cmd: Command, role: &str) -> Running {
    cmd.args([
        std::env::current_exe().unwrap().to_str().unwrap(),
        "--exact",
        "child_main",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE, role)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped());
    let mut child = Running(cmd.spawn().unwrap());
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("started") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "child ended");
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    child
}

/// The only child of process `pid` (`unshare --fork`'s).
fn child_of(pid: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
        if let Some(child) = children.split_whitespace().next() {
            return child.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "{pid} has no child");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A scrape of the publications that process `pid` names.
fn scrape(pid: u32) -> String {
    Exporter::from_args(&["--no-default-dirs", "--pid", &pid.to_string()])
        .unwrap()
        .scrape_found(None)
}

fn unshare_available() -> bool {
    cantal_testkit::is_root()
        && Command::new("unshare")
            .args(["--mount", "--pid", "--fork", "true"])
            .status()
            .is_ok_and(|s| s.success())
}

#[test]
fn a_publisher_in_its_own_mount_and_pid_namespace_is_served() {
    if !unshare_available() {
        return eprintln!("skipped: needs root and unshare");
    }
    let dir = TempDir::new("mount-ns");
    let mount = dir.path("private");
    fs::create_dir(&mount).unwrap();
    let base = mount.join("app");
    let mut unshare = Command::new("unshare");
    unshare.args([
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--kill-child",
    ]);
    unshare.env("MOUNT", &mount).env("CANTAL_PATH", &base);
    let child = start(unshare, "tmpfs");
    let publisher = child_of(child.0.id());
    // The host does not see the files: only the namespace's tmpfs has them.
    assert!(!Path::new(&format!("{}.meta", base.display())).exists());

    let body = scrape(publisher);
    let sample = body
        .lines()
        .find(|l| l.starts_with("cantal_contained_total{"))
        .unwrap_or_else(|| panic!("not served:\n{body}"));
    assert!(sample.ends_with(" 7"), "{sample}");
    // Labelled with the path it published at, as it names it.
    assert!(
        sample.contains(&format!("path=\"{}\"", base.display())),
        "{sample}"
    );
    assert!(
        body.contains(&format!(
            "cantal_up{{path=\"{}\",pid=\"{publisher}\"}} 1",
            base.display()
        )),
        "{body}"
    );
}

#[test]
fn an_absolute_symlink_in_a_container_does_not_lead_to_a_host_file() {
    if !cantal_testkit::is_root() {
        return eprintln!("skipped: needs root (chroot)");
    }
    let dir = TempDir::new("chroot");
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o711)).unwrap();
    // A host publication, owned by root like the container's process.
    let host = dir.path("host");
    fs::create_dir(&host).unwrap();
    fs::write(
        host.join("x.meta"),
        r#"counter 8: {"metric": "host_secret"}"#,
    )
    .unwrap();
    fs::write(host.join("x.values"), 31337u64.to_ne_bytes()).unwrap();
    // The container's root, with a link to the host directory's path.
    let root = dir.path("root");
    fs::create_dir_all(root.join("run")).unwrap();
    symlink(&host, root.join("run/evil")).unwrap();
    let mut env = Command::new("env");
    env.env("ROOT", &root).env("CANTAL_PATH", "/run/evil/x");
    let child = start(env, "chroot");
    let pid = child.0.id();
    // The test is not vacuous: through /proc/PID/root the host's own
    // resolution follows the link to the host file.
    let naive = cantal_mmap::read::load(format!("/proc/{pid}/root/run/evil/x")).unwrap();
    assert!(format!("{naive:?}").contains("host_secret"));

    let body = scrape(pid);
    assert!(!body.contains("host_secret"), "{body}");
    assert!(!body.contains("31337"), "{body}");
    let up = body
        .lines()
        .find(|l| l.starts_with("cantal_up{"))
        .unwrap_or_else(|| panic!("no cantal_up:\n{body}"));
    assert!(up.ends_with(" 0"), "{body}");
}

/// A cgroup directory made for a test, removed (its processes gone) when
/// dropped.
struct Cgroup(std::path::PathBuf);

impl Drop for Cgroup {
    fn drop(&mut self) {
        // Children first; a directory with processes left cannot go.
        for _ in 0..100 {
            let mut dirs: Vec<_> = walk(&self.0);
            dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
            if dirs
                .iter()
                .all(|d| fs::remove_dir(d).is_ok() || !d.exists())
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `dir` and every directory under it.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(walk(&e.path()));
            }
        }
    }
    out
}

/// The writable cgroup hierarchy whose paths `/proc/PID/cgroup` shows as
/// v1 `name=systemd` or v2, for a test cgroup: `None` when there is none.
fn writable_hierarchy() -> Option<(std::path::PathBuf, Cgroup)> {
    for base in [
        "/sys/fs/cgroup/systemd",
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup",
    ] {
        let dir = Path::new(base).join(format!("cantal-test-{}.slice", std::process::id()));
        if Path::new(base).join("cgroup.procs").exists() && fs::create_dir(&dir).is_ok() {
            return Some((dir.clone(), Cgroup(dir)));
        }
    }
    None
}

/// Moves process `pid` into a new cgroup `name` under `parent`.
fn move_into(parent: &Path, name: &str, pid: u32) {
    let dir = parent.join(name);
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("cgroup.procs"), pid.to_string()).unwrap();
}

#[test]
fn unit_container_and_comm_labels_come_from_the_process() {
    if !cantal_testkit::is_root() {
        return eprintln!("skipped: needs root (cgroups)");
    }
    let Some((parent, _cleanup)) = writable_hierarchy() else {
        return eprintln!("skipped: no writable cgroup hierarchy");
    };
    let dir = TempDir::new("labels");
    let id = "3f1c2b8e9d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e";
    let mut pids = Vec::new();
    let mut children = Vec::new();
    for (name, cgroup) in [
        ("in_unit", "web.service"),
        ("in_container", &*format!("docker-{id}.scope")),
    ] {
        let base = dir.path(name);
        fs::write(
            format!("{}.meta", base.display()),
            format!(r#"counter 8: {{"metric": "{name}"}}"#),
        )
        .unwrap();
        fs::write(format!("{}.values", base.display()), 5u64.to_ne_bytes()).unwrap();
        let child = naming(&base);
        move_into(&parent, cgroup, child.0.id());
        pids.push(child.0.id().to_string());
        children.push(child);
    }
    let mut args = vec![
        "--no-default-dirs",
        "--label-unit",
        "--label-container",
        "--label-comm",
    ];
    for pid in &pids {
        args.extend(["--pid", pid]);
    }
    let body = Exporter::from_args(&args).unwrap().scrape_found(None);
    let line = |family: &str| {
        body.lines()
            .find(|l| l.starts_with(family))
            .unwrap_or_else(|| panic!("no {family} in\n{body}"))
            .to_string()
    };
    let unit = line("cantal_in_unit_total{");
    assert!(unit.contains("unit=\"web.service\""), "{unit}");
    assert!(unit.contains("comm=\"sleep\""), "{unit}");
    assert!(!unit.contains("container="), "{unit}");
    let contained = line("cantal_in_container_total{");
    assert!(
        contained.contains(&format!("container=\"{id}\"")),
        "{contained}"
    );
    assert!(!contained.contains("unit="), "{contained}");
    // cantal_up has the same identity labels as the publisher's series.
    let labels = &contained[contained.find('{').unwrap()..=contained.find('}').unwrap()];
    assert!(body.contains(&format!("cantal_up{labels} 1")), "{body}");
    drop(children);
}
