//! `cantal export` as a dedicated user with only `CAP_DAC_READ_SEARCH` and
//! `CAP_SYS_PTRACE` (what `contrib/systemd/cantal-exporter.service` gives
//! it): it finds and serves another user's publisher in a `0700`
//! directory, and without the capabilities it says at start which it
//! lacks and serves nothing of hers. Needs root (`setpriv`, `chown`);
//! skipped otherwise.
#![forbid(unsafe_code)]

mod common;

use cantal_testkit::TempDir;
use common::{BIN, Exporter, get_body, process_of_nobody};
use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::process::Command;
use std::time::{Duration, Instant};

/// The publisher's user.
const NOBODY: u32 = 65534;
/// The exporter's user: no account, no group, nothing of its own.
const EXPORTER: &str = "4242";

/// `setpriv` running the exporter as `EXPORTER` with `caps` (`""`: none).
fn as_exporter_user(caps: &str) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid", EXPORTER, "--regid", EXPORTER, "--clear-groups"]);
    if !caps.is_empty() {
        cmd.arg(format!("--inh-caps={caps}"));
        cmd.arg(format!("--ambient-caps={caps}"));
    }
    cmd.arg(BIN);
    cmd
}

#[test]
fn two_capabilities_are_enough_and_missing_ones_are_named() {
    if !cantal_testkit::is_root() {
        return eprintln!("skipped: needs root (setpriv, chown)");
    }
    let dir = TempDir::new("privilege");
    // Others may pass through the test's directory, not into hers.
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o711)).unwrap();
    let hers = dir.path("hers");
    fs::create_dir(&hers).unwrap();
    let base = hers.join("app");
    fs::write(hers.join("app.meta"), r#"counter 8: {"metric": "hers"}"#).unwrap();
    fs::write(hers.join("app.values"), 4242424u64.to_ne_bytes()).unwrap();
    for p in [hers.join("app.meta"), hers.join("app.values"), hers.clone()] {
        chown(&p, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    for f in ["app.meta", "app.values"] {
        fs::set_permissions(hers.join(f), fs::Permissions::from_mode(0o600)).unwrap();
    }
    fs::set_permissions(&hers, fs::Permissions::from_mode(0o700)).unwrap();
    let process = process_of_nobody(&base);
    let pid = process.0.id().to_string();
    let discovery = ["--no-default-dirs", "--pid", &pid];

    let exporter =
        Exporter::start_with(as_exporter_user("+dac_read_search,+sys_ptrace"), &discovery);
    let body = get_body(&exporter.addr, "/metrics");
    assert!(
        body.lines()
            .any(|l| l.starts_with("cantal_hers_total{") && l.ends_with(" 4242424")),
        "{body}\nstderr: {}",
        exporter.stderr()
    );
    assert!(
        body.contains(&format!("cantal_up{{path=\"{}\"}} 1", base.display())),
        "{body}"
    );
    assert!(
        !exporter.stderr().contains("running without"),
        "{}",
        exporter.stderr()
    );
    drop(exporter);

    let exporter = Exporter::start_with(as_exporter_user(""), &discovery);
    let body = get_body(&exporter.addr, "/metrics");
    assert!(!body.contains("cantal_hers_total"), "{body}");
    assert!(!body.contains("4242424"), "{body}");
    // Written before it listens; its pipe is read by a thread.
    let deadline = Instant::now() + Duration::from_secs(10);
    while exporter.stderr().matches("running without").count() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let stderr = exporter.stderr();
    for cap in ["CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE"] {
        assert!(
            stderr.contains(&format!("warning: running without {cap} (uid {EXPORTER})")),
            "{stderr}"
        );
    }
}
