//! The examples on items that `cantal` re-exports from `cantal-core` and
//! `cantal-mmap` are shown on this crate's documentation pages, so they
//! must work when copied into a crate that depends on `cantal` alone.
//!
//! Those examples say `use cantal::...` (in their own crate's doc tests a
//! hidden first line makes `cantal` the name of that crate). This test
//! proves that every path they name also resolves in `cantal`: it reads the
//! examples from the sources, collects each `cantal::` path they use, and
//! checks that it is among the `use` lines below, which the compiler
//! resolves against this crate. An example that names a path of the
//! original crate (`cantal_core::`, `cantal_mmap::`) fails it too.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::path::Path;

// Every path the examples name, resolved against `cantal` at compile time.
#[allow(unused_imports)]
mod resolved {
    mod a {
        use cantal::{
            Branch, Collection, Counter, Described, Fixed, Float, Fork, Histogram, Integer, Metric,
            Metrics, Name, NameValue, RequestTracker, ShardedCounter, State, TimedFork,
            TimedRequestTracker,
        };
    }
    mod clock {
        use cantal::clock::{
            Clock, ManualClock, monotonic_ns, set_monotonic_clock, set_wall_clock, wall_ms,
        };
    }
    mod decode {
        use cantal::decode::{
            Skip, SlotKind, Value, decode, find_duplicate, meta_lines, parse_meta,
            parse_meta_lenient,
        };
    }
    mod read {
        use cantal::read::{
            Options, OwnedValue, ParsedMeta, load, open_with, owner_of_pid, read, read_with,
        };
    }
}

/// The files whose doc examples appear on `cantal`'s pages: every module
/// of cantal-core but its crate root (the crate page of cantal-core only),
/// and the `read` module of cantal-mmap (`cantal::read`).
fn sources() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs = vec![root.join("core/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.ends_with("core/src/lib.rs")
            {
                files.push(path);
            }
        }
    }
    files.push(root.join("backend-mmap/src/read.rs"));
    files.push(root.join("backend-mmap/src/parsed_meta.rs"));
    files.sort();
    files
}

/// The visible lines of the code blocks in the doc comments of `text`.
fn example_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let Some(doc) = trimmed
            .strip_prefix("///")
            .or_else(|| trimmed.strip_prefix("//!"))
        else {
            in_block = false;
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        if doc.trim_start().starts_with("```") {
            in_block = !in_block;
        } else if in_block && !doc.trim_start().starts_with('#') {
            lines.push(doc.to_string());
        }
    }
    lines
}

/// `a::{b, c::{d}}` as `a::b`, `a::c::d`.
fn expand(prefix: &str, tree: &str, out: &mut BTreeSet<String>) {
    let tree = tree.trim();
    if let Some(inner) = tree.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(prefix, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(prefix, &inner[start..], out);
    } else if let Some((head, rest)) = tree.split_once("::{") {
        expand(&format!("{prefix}{head}::"), &format!("{{{rest}"), out);
    } else if !tree.is_empty() {
        let name = tree.split(" as ").next().unwrap().trim();
        out.insert(format!("{prefix}{name}"));
    }
}

/// Every `cantal::` path that `lines` name: in `use` lines, and in
/// expressions (up to the type, for an associated function).
fn paths(lines: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in lines {
        if let Some(tree) = line
            .trim()
            .strip_prefix("use cantal::")
            .and_then(|t| t.strip_suffix(';'))
        {
            expand("cantal::", tree, &mut out);
            continue;
        }
        for (at, _) in line.match_indices("cantal::") {
            if line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue; // `cantal_core::`, `my_cantal::`
            }
            let path: String = line[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segments: Vec<&str> = path.trim_end_matches(':').split("::").collect();
            // `cantal::RequestTracker::with_clock` names the type.
            if let Some(i) = segments
                .iter()
                .position(|s| s.starts_with(|c: char| c.is_uppercase()))
            {
                segments.truncate(i + 1);
            }
            out.insert(segments.join("::"));
        }
    }
    out
}

#[test]
fn every_path_in_a_re_exported_example_resolves_in_cantal() {
    let this = include_str!("doc_examples.rs");
    let resolved: BTreeSet<String> = {
        let start = this.find("mod resolved {").unwrap();
        let end = start + this[start..].find("\n}\n").unwrap();
        let mut set = BTreeSet::new();
        for statement in this[start..end].split(';') {
            if let Some(at) = statement.find("use cantal::") {
                let tree = statement[at + "use cantal::".len()..].replace('\n', " ");
                expand("cantal::", &tree, &mut set);
            }
        }
        set
    };
    let mut missing = Vec::new();
    let mut foreign = Vec::new();
    let mut count = 0;
    for file in sources() {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = example_lines(&text);
        for line in &lines {
            if line.contains("cantal_core::") || line.contains("cantal_mmap::") {
                foreign.push(format!("{}: {line}", file.display()));
            }
        }
        for path in paths(&lines) {
            count += 1;
            if !resolved.contains(&path) {
                missing.push(format!("{}: {path}", file.display()));
            }
        }
    }
    assert!(
        foreign.is_empty(),
        "examples shown on cantal's pages name another crate:\n{}",
        foreign.join("\n")
    );
    assert!(
        missing.is_empty(),
        "add these paths to `mod resolved` (and make them resolve in cantal):\n{}",
        missing.join("\n")
    );
    // The sources do hold examples: the test is not vacuous.
    assert!(count >= 20, "only {count} paths found");
}

#[test]
fn paths_are_collected_from_uses_and_expressions() {
    let lines = [
        "use cantal::{RequestTracker, clock::{ManualClock, wall_ms}};".to_string(),
        "static H: cantal::RequestTracker<X> = cantal::RequestTracker::with_clock(\"h\", &[], X);"
            .to_string(),
        "let x = my_cantal::thing();".to_string(),
    ];
    let found: Vec<String> = paths(&lines).into_iter().collect();
    assert_eq!(
        found,
        [
            "cantal::RequestTracker",
            "cantal::clock::ManualClock",
            "cantal::clock::wall_ms"
        ]
    );
}
