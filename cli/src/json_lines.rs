//! JSON lines output (`read --json`, `scan --json`), through serde_json.
//!
//! Each record is one line, spaced as the reference client spaces its
//! names (`{"a": 1, "b": [2, 3]}`: a space after every `:` and `,`).
//! Integers are written in full (the whole `u64` and `i64` ranges), floats
//! in Rust's shortest round-trip form (`0.1`, `2.0`, `1e300`), which every
//! JSON parser reads back to the same `f64`; NaN and infinities have no
//! JSON spelling and are written as `null`.

use cantal_mmap::read::SlotName;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::ser::{Formatter, Serializer};
use std::io;

/// serde_json's compact output with a space after every `:` and `,`.
struct Spaced;

impl Formatter for Spaced {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    /// Rust's shortest round-trip spelling (`1e300`, where serde_json's
    /// ryu writes `1e+300`): what `read --json` always wrote. serde_json
    /// calls this for finite values only (NaN and infinities are `null`).
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        write!(w, "{value:?}")
    }
}

/// Appends each record to `out` as one JSON line (with its newline).
pub(crate) fn push_lines<R: Serialize>(out: &mut String, records: impl IntoIterator<Item = R>) {
    let mut line = Vec::new();
    for record in records {
        line.clear();
        // Writing to a Vec cannot fail, and every record here is made of
        // strings, numbers and maps with string keys, which serde_json
        // always serialises.
        let _ = record.serialize(&mut Serializer::with_formatter(&mut line, Spaced));
        line.push(b'\n');
        // serde_json writes UTF-8 only: the lossy copy never happens. Only
        // the new line is checked (checking `out` whole after each line
        // made a chunk of `n` lines cost `n²`).
        match std::str::from_utf8(&line) {
            Ok(text) => out.push_str(text),
            Err(_) => out.push_str(&String::from_utf8_lossy(&line)),
        }
    }
}

/// Key/value pairs as one JSON object, in their order (a metric's name as
/// its meta file has it).
pub(crate) struct Pairs<'a>(pub(crate) &'a SlotName);

impl Serialize for Pairs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.pairs() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(record: &impl Serialize) -> String {
        let mut out = String::new();
        push_lines(&mut out, [record]);
        out
    }

    #[test]
    fn records_are_spaced_lines_with_names_in_file_order() {
        let pairs = SlotName::from_pairs([("metric", "b\"\n"), ("a", "é")]).unwrap();
        #[derive(Serialize)]
        struct R<'a> {
            name: Pairs<'a>,
            list: [u64; 2],
            missing: Option<u64>,
        }
        let r = R {
            name: Pairs(&pairs),
            list: [u64::MAX, 0],
            missing: None,
        };
        assert_eq!(
            line(&r),
            "{\"name\": {\"metric\": \"b\\\"\\n\", \"a\": \"é\"}, \"list\": [18446744073709551615, 0], \"missing\": null}\n"
        );
    }

    #[test]
    fn floats_round_trip_and_non_finite_ones_are_null() {
        for v in [
            0.1,
            -0.0,
            2.0,
            1e300,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            1.0 / 3.0,
        ] {
            let text = line(&v);
            let text = text.trim_end();
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                v.to_bits(),
                "{text}"
            );
        }
        assert_eq!(line(&f64::NAN), "null\n");
        assert_eq!(line(&f64::INFINITY), "null\n");
        assert_eq!(line(&2.0f64), "2.0\n");
        assert_eq!(line(&1e300f64), "1e300\n");
    }
}
