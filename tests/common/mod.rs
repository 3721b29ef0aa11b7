//! Helpers shared by the workspace's integration tests.

use std::process::Command;

/// Compares `ours` with the meta text the reference Python client writes:
/// the committed `tests/reference/<name>.meta`, and the live output of
/// `tests/reference/<script>` when `python3` with `cantal==0.2.5` runs it.
/// `CANTAL_PYTHON_TESTS=1` makes a missing client a failure.
pub(crate) fn assert_same_as_python(ours: &str, expected_file: &str, pinned: &str, script: &str) {
    assert_eq!(ours, pinned, "differs from tests/reference/{expected_file}");

    let script = format!("{}/tests/reference/{script}", env!("CARGO_MANIFEST_DIR"));
    let required = std::env::var_os("CANTAL_PYTHON_TESTS").is_some_and(|v| v == "1");
    match Command::new("python3").arg(&script).output() {
        Ok(out) if out.status.success() => {
            let live = String::from_utf8(out.stdout).expect("UTF-8 meta");
            assert_eq!(ours, live, "differs from the live Python client's output");
        }
        Ok(out) => {
            let why = String::from_utf8_lossy(&out.stderr);
            assert!(!required, "the Python reference client failed: {why}");
            eprintln!(
                "SKIPPED: live Python comparison: {}",
                why.lines().last().unwrap_or("")
            );
        }
        Err(e) => {
            assert!(!required, "python3 not found: {e}");
            eprintln!("SKIPPED: live Python comparison: python3 not found: {e}");
        }
    }
}
