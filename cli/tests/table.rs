//! `cantal read` and `watch` tables on a terminal (a pseudo-terminal made
//! by util-linux `script`) and on a pipe, over files this test writes.
#![forbid(unsafe_code)]

use cantal_testkit::TempDir;
use std::fs;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_cantal");

const LONG_NAME: &str = r#"{"group": "a_rather_long_group_name_of_a_service", "metric": "requests_handled_by_the_frontend_pool"}"#;

/// A publication with a long counter name and a state with a 120-character
/// text; returns its base path.
fn publication(dir: &TempDir) -> std::path::PathBuf {
    let base = dir.path("app");
    let meta = format!("counter 8: {LONG_NAME}\nstate 136: {{\"metric\": \"phase\"}}\n");
    fs::write(dir.path("app.meta"), meta).unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut values = Vec::new();
    values.extend_from_slice(&12345u64.to_ne_bytes());
    values.extend_from_slice(&now_ms.to_ne_bytes());
    values.extend_from_slice("z".repeat(120).as_bytes());
    values.resize(8 + 136, 0);
    fs::write(dir.path("app.values"), values).unwrap();
    base
}

/// Runs `cantal ARGS` with its stdout on a pseudo-terminal `columns`
/// wide; `None` when `script` is missing.
fn on_terminal(args: &[&str], columns: usize) -> Option<String> {
    let mut command = String::from(BIN);
    for a in args {
        command.push(' ');
        command.push_str(a);
    }
    let o = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("COLUMNS", columns.to_string())
        .output();
    match o {
        Ok(o) => {
            assert!(o.status.success(), "{o:?}");
            Some(String::from_utf8(o.stdout).unwrap().replace('\r', ""))
        }
        Err(e) => {
            eprintln!("SKIPPED: no pseudo-terminal test: `script` not found: {e}");
            None
        }
    }
}

fn base_arg(base: &Path) -> &str {
    base.to_str().unwrap()
}

#[test]
fn read_fits_an_80_column_terminal() {
    let dir = TempDir::new("table-read");
    let base = publication(&dir);
    let Some(out) = on_terminal(&["read", base_arg(&base)], 80) else {
        return;
    };
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for line in &lines {
        assert!(
            line.chars().count() <= 80,
            "{line:?} is wider than 80:\n{out}"
        );
    }
    // The name keeps both ends, the state its start.
    assert!(lines[1].starts_with(r#"{"group": "a_rather"#), "{out}");
    assert!(
        lines[1].contains(r#"…"#) && lines[1].contains(r#"frontend_pool"}"#),
        "{out}"
    );
    assert!(lines[1].trim_end().ends_with("12345"), "{out}");
    assert!(lines[2].contains("zzz") && lines[2].contains('…'), "{out}");
}

#[test]
fn watch_keeps_its_columns_from_frame_to_frame() {
    let dir = TempDir::new("table-watch");
    let base = publication(&dir);
    let args = [
        "watch",
        "--count",
        "3",
        "--interval",
        "0.1",
        base_arg(&base),
    ];
    let Some(out) = on_terminal(&args, 80) else {
        return;
    };
    let headers: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("NAME"))
        .map(|l| l.trim_start_matches(|c: char| c == '\x1b' || "[H2J".contains(c)))
        .collect();
    assert_eq!(headers.len(), 3, "{out}");
    assert!(headers.iter().all(|h| h == &headers[0]), "{out}");
    for line in out.lines() {
        assert!(line.chars().count() <= 80 + 8, "{line:?}\n{out}");
    }
}

#[test]
fn a_pipe_gets_whole_names_and_cut_states() {
    let dir = TempDir::new("table-pipe");
    let base = publication(&dir);
    let o = Command::new(BIN)
        .args(["read", base_arg(&base)])
        .env("COLUMNS", "40")
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let out = String::from_utf8(o.stdout).unwrap();
    // No width logic on a pipe: the name is whole...
    assert!(out.contains(LONG_NAME), "{out}");
    // ...but a table shows at most 48 characters of a state's text (the
    // JSON output has it all).
    assert!(out.contains(&format!("{}…", "z".repeat(47))), "{out}");
    assert!(!out.contains(&"z".repeat(48)), "{out}");
    let json = Command::new(BIN)
        .args(["read", "--json", base_arg(&base)])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(json.stdout)
            .unwrap()
            .contains(&"z".repeat(120))
    );
}
