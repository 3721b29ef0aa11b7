//! Wire compatibility: our decoder reads exactly what the reference Python
//! client (`cantal==0.2.5`) wrote.
//!
//! `tests/fixtures/python.{meta,values,expected}` are pinned output of
//! `tests/fixtures/gen_python.py` (little-endian), and
//! `tests/fixtures/python_small.*` of `gen_python.py --small-states` (states
//! of sizes 0 to 7: `state 8` to `state 15`), so this runs without
//! Python. When `python3 -c 'import cantal'` works, the generator is run
//! again and its fresh output is checked too, and compared byte for byte
//! with the pinned files. Set `CANTAL_PYTHON_TESTS=1` to make a missing
//! Python client a failure instead of a skip.
//!
//! Not under Miri: it reads files and runs Python, which Miri's isolation
//! forbids; the decoder's own unit tests run under Miri.
#![cfg(not(miri))]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use cantal_core::decode::{SlotKind, Value, decode, find_duplicate, parse_meta, total_size};

/// The fixture sets: file prefix, and the generator's extra arguments.
const SETS: [(&str, &[&str]); 2] = [("python", &[]), ("python_small", &["--small-states"])];

const SUFFIXES: [&str; 3] = ["meta", "values", "expected"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Writes past the test harness's output capture, so a skip is visible.
fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Parses `python.expected`: canonical name -> (kind, fields).
fn expected(text: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut map = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split('\t');
        let name = fields.next().expect("name").to_owned();
        let kind = fields.next().expect("kind").to_owned();
        let rest = fields.map(str::to_owned).collect();
        assert!(map.insert(name, (kind, rest)).is_none(), "{line}");
    }
    map
}

/// Decodes the three files `prefix.*` in `dir`; returns how many named
/// slots matched.
fn check(dir: &Path, prefix: &str) -> usize {
    let read = |suffix: &str| {
        let f = format!("{prefix}.{suffix}");
        std::fs::read(dir.join(&f)).unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    let (meta, values) = (read("meta"), read("values"));
    let mut expected = expected(&String::from_utf8(read("expected")).expect("ASCII"));
    let total = expected.len();

    assert_eq!(total_size(&meta), Ok(values.len() as u64));
    let mut entries: Vec<_> = parse_meta(&meta)
        .collect::<Result<_, _>>()
        .expect("meta parses");
    assert_eq!(find_duplicate(&mut entries.clone()), Ok(()));

    // The reference layout: ascending (size, canonical name), and slots of
    // a power-of-two size aligned to it.
    entries.retain(|e| e.kind() != SlotKind::Pad);
    for w in entries.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert!(
            (a.size(), a.name().unwrap()) < (b.size(), b.name().unwrap()),
            "order at line {}",
            b.line()
        );
    }
    for e in &entries {
        if e.size().is_power_of_two() {
            assert_eq!(e.offset() % u64::from(e.size()), 0, "line {}", e.line());
        }
    }

    for item in decode(&meta, &values) {
        let (entry, value) = item.expect("decodes");
        if entry.kind() == SlotKind::Pad {
            assert_eq!(value, Value::Pad);
            continue;
        }
        let name = entry.name().expect("named");
        let canonical = name.to_string();
        // The client writes canonical names; we must agree on what that is.
        assert!(name.is_canonical(), "line {}: {}", entry.line(), name.raw());
        assert_eq!(name.raw(), canonical);
        let (kind, fields) = expected
            .remove(&canonical)
            .unwrap_or_else(|| panic!("line {}: unexpected {canonical}", entry.line()));
        let what = format!("line {}: {canonical}", entry.line());
        match value {
            Value::Counter(n) => {
                assert_eq!(kind, "counter", "{what}");
                assert_eq!(fields, [n.to_string()], "{what}");
            }
            Value::Signed(n) => {
                assert_eq!(kind, "level signed", "{what}");
                assert_eq!(fields, [n.to_string()], "{what}");
            }
            Value::Float(x) => {
                assert_eq!(kind, "level float", "{what}");
                assert_eq!(fields, [format!("{:016x}", x.to_bits())], "{what}");
            }
            Value::State { timestamp, text } => {
                assert_eq!(kind, format!("state {}", entry.size()), "{what}");
                assert_eq!(fields[0], timestamp.to_string(), "{what}");
                assert_eq!(text, unhex(&fields[1]), "{what}");
            }
            other => panic!("{what}: unexpected {other:?}"),
        }
    }
    assert!(expected.is_empty(), "not in the files: {expected:?}");
    total
}

#[test]
fn pinned_python_files() {
    if cfg!(target_endian = "big") {
        note("SKIP pinned_python_files: the pinned values are little-endian");
        return;
    }
    let n = check(&fixtures(), "python");
    assert!(n > 1000, "only {n} metrics");
}

#[test]
fn pinned_python_states_of_sizes_0_to_7() {
    if cfg!(target_endian = "big") {
        note("SKIP pinned_python_states_of_sizes_0_to_7: the pinned values are little-endian");
        return;
    }
    let dir = fixtures();
    // 5 states of each size 0..=7, a counter and a level.
    assert_eq!(check(&dir, "python_small"), 42);
    let meta = std::fs::read(dir.join("python_small.meta")).unwrap();
    let values = std::fs::read(dir.join("python_small.values")).unwrap();
    let sizes: Vec<u32> = parse_meta(&meta)
        .map(|e| e.unwrap())
        .filter(|e| e.kind() == SlotKind::State)
        .map(|e| e.size())
        .collect();
    assert_eq!(sizes.first(), Some(&8));
    assert_eq!(sizes.last(), Some(&15));
    let state = |name: &str| {
        decode(&meta, &values)
            .map(Result::unwrap)
            .find(|(e, _)| {
                e.name()
                    .and_then(|n| n.get("state"))
                    .is_some_and(|v| v == name)
            })
            .unwrap_or_else(|| panic!("{name}"))
    };
    // `state 8`: a timestamp and no text at all.
    let (e, v) = state("long0");
    assert_eq!(e.size(), 8);
    assert_eq!(
        v,
        Value::State {
            timestamp: 1_700_000_000_133,
            text: b""
        }
    );
    // `state 15`: 7 bytes of text, truncated without a NUL.
    assert_eq!(
        state("long7").1,
        Value::State {
            timestamp: 1_700_000_000_140,
            text: b"0123456"
        }
    );
    // Cut in the middle of "é" (two bytes each): lossy U+FFFD at the end.
    let (_, v) = state("utf8_5");
    assert_eq!(v.state_text_lossy().unwrap().to_string(), "éé\u{fffd}");
}

#[test]
fn pinned_python_details() {
    if cfg!(target_endian = "big") {
        return;
    }
    let dir = fixtures();
    let meta = std::fs::read(dir.join("python.meta")).unwrap();
    let values = std::fs::read(dir.join("python.values")).unwrap();
    let find = |key: &str, value: &str| {
        decode(&meta, &values)
            .map(Result::unwrap)
            .find(|(e, _)| {
                e.name()
                    .and_then(|n| n.get(key))
                    .is_some_and(|v| v == value)
            })
            .unwrap_or_else(|| panic!("{key}={value}"))
    };
    // Truncated in the middle of "é": the lossy text ends in U+FFFD.
    let (_, v) = find("state", "mid_char");
    assert_eq!(v.state_text_lossy().unwrap().to_string(), "éééééé\u{fffd}");
    // Unescaped names compare with plain strings.
    let (e, v) = find("nul", "a\0b");
    assert_eq!(v, Value::Counter(8));
    let name = e.name().unwrap();
    assert_eq!(name.get("ctl").unwrap(), "\u{1}\u{1f}\u{7f}");
    let (e, _) = find("\u{1f600}", "emoji \u{1f600}");
    assert_eq!(e.name().unwrap().get("中").unwrap(), "中文");
    let (e, _) = find("quote\"", "back\\slash");
    assert_eq!(e.name().unwrap().get("nl").unwrap(), "a\nb");
    let (_, v) = find("state", "exited");
    assert_eq!(
        v,
        Value::State {
            timestamp: 0,
            text: b"was here"
        }
    );
}

#[test]
fn regenerated_by_python() {
    let required = std::env::var_os("CANTAL_PYTHON_TESTS").is_some_and(|v| v == "1");
    let have = Command::new("python3")
        .args(["-c", "import cantal"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            !required,
            "CANTAL_PYTHON_TESTS=1 but `python3 -c 'import cantal'` fails: pip install cantal==0.2.5"
        );
        note(
            "SKIP regenerated_by_python: the reference client is not installed \
             (pip install cantal==0.2.5; CANTAL_PYTHON_TESTS=1 makes this a failure)",
        );
        return;
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("python-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    for (prefix, args) in SETS {
        let status = Command::new("python3")
            .arg(fixtures().join("gen_python.py"))
            .arg(&out)
            .args(args)
            .status()
            .expect("run gen_python.py");
        assert!(status.success(), "gen_python.py {args:?} failed: {status}");
        check(&out, prefix);
        if cfg!(target_endian = "little") {
            for suffix in SUFFIXES {
                let f = format!("{prefix}.{suffix}");
                let fresh = std::fs::read(out.join(&f)).unwrap();
                let pinned = std::fs::read(fixtures().join(&f)).unwrap();
                assert!(
                    fresh == pinned,
                    "{f} differs from the pinned copy; regenerate with \
                     `python3 core/tests/fixtures/gen_python.py core/tests/fixtures {}`",
                    args.join(" ")
                );
            }
        }
    }
    std::fs::remove_dir_all(&out).unwrap();
}
