//! The publication of the reader benchmarks, and the naive reader that
//! `cantal read --json` is measured beside: shared by the criterion bench
//! (`read.rs`, in-process) and the `naive_read` program that the
//! whole-process measurement (`read-memory`) runs beside a real `cantal
//! read --json`.

use std::fmt::Write as _;
use std::path::Path;

/// Counters in the publication.
pub(crate) const COUNTERS: usize = 100_000;
const GROUPS: [&str; 5] = ["http.server", "http.client", "db.pool", "cache", "jobs"];
const METRICS: [&str; 4] = ["requests", "errors", "total_duration_ms", "bytes_sent"];

/// Writes `BASE.meta` and `BASE.values` as a publisher of [`COUNTERS`]
/// counters would (canonical names, 8-byte slots, no lock: a stale
/// publication, as the Python client leaves one).
pub(crate) fn write(base: &Path) -> std::io::Result<()> {
    let mut meta = String::new();
    let mut values = Vec::with_capacity(COUNTERS * 8);
    for i in 0..COUNTERS {
        let group = GROUPS[i % GROUPS.len()];
        let metric = METRICS[(i / GROUPS.len()) % METRICS.len()];
        let worker = i / (GROUPS.len() * METRICS.len());
        let _ = writeln!(
            meta,
            r#"counter 8: {{"group": "{group}", "metric": "{metric}", "worker": "{worker}"}}"#
        );
        values.extend_from_slice(&(i as u64 * 7919).to_ne_bytes());
    }
    let file = |suffix: &str| {
        let mut name = base.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    std::fs::write(file(".values"), values)?;
    std::fs::write(file(".meta"), meta)
}

/// The baseline: what a reader written in half an hour does. Splits the
/// meta into lines, parses each name with `serde_json`, reads the value
/// and writes one JSON object per metric, as `cantal read --json` does.
/// Knows counters, levels and states; no checks beyond what `serde_json`
/// and slicing do.
pub(crate) fn naive_read(base: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    use serde_json::{Map, Value, json};
    let meta = std::fs::read_to_string(format!("{base}.meta"))?;
    let values = std::fs::read(format!("{base}.values"))?;
    let mut out = Vec::new();
    let mut offset = 0;
    for line in meta.lines() {
        let (kind, name) = line.split_once(": ").unwrap_or((line, "{}"));
        let words: Vec<&str> = kind.split(' ').collect();
        let size: usize = words.get(1).ok_or("no size")?.parse()?;
        let slot = values
            .get(offset..offset + size)
            .ok_or("values too short")?;
        offset += size;
        let word = || u64::from_ne_bytes(slot[..8].try_into().unwrap_or_default());
        let value = match (words[0], words.get(2)) {
            ("pad", _) => continue,
            ("counter", _) | ("level", Some(&"unsigned")) => json!(word()),
            ("level", Some(&"signed")) => json!(word() as i64),
            ("level", Some(&"float")) => json!(f64::from_bits(word())),
            ("state", _) => {
                let text = slot[8..].split(|&b| b == 0).next().unwrap_or_default();
                json!(String::from_utf8_lossy(text))
            }
            _ => Value::Null,
        };
        let name: Map<String, Value> = serde_json::from_str(name)?;
        let ty = kind.split_once(' ').map_or(kind, |(ty, _)| ty);
        serde_json::to_writer(&mut out, &json!({"name": name, "type": ty, "value": value}))?;
        out.push(b'\n');
    }
    Ok(out)
}
