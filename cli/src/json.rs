//! Hand-written JSON output: strings escaped per RFC 8259, numbers exact.
//!
//! Integers are written in full (the whole `u64` and `i64` ranges). Floats
//! are written in Rust's shortest round-trip form (`{:?}`: `0.1`, `2.0`,
//! `1e300`), which every JSON parser reads back to the same `f64`. NaN and
//! infinities have no JSON spelling: they are written as `null`.

use std::fmt::Write;

/// Appends `s` as a JSON string, quotes included.
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    // Most strings (ASCII without controls, quotes or backslashes) need no
    // escape: copied whole.
    if s.bytes()
        .all(|b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a float: shortest round-trip digits, `null` for NaN and
/// infinities.
pub(crate) fn float(out: &mut String, v: f64) {
    if v.is_finite() {
        let _ = write!(out, "{v:?}");
    } else {
        out.push_str("null");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        let mut out = String::new();
        string(&mut out, text);
        out
    }

    fn f(v: f64) -> String {
        let mut out = String::new();
        float(&mut out, v);
        out
    }

    #[test]
    fn strings() {
        assert_eq!(s("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }

    #[test]
    fn floats_round_trip() {
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
            let text = f(v);
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                v.to_bits(),
                "{text}"
            );
            assert!(!text.contains("inf") && !text.contains("NaN"));
        }
        assert_eq!(f(f64::NAN), "null");
        assert_eq!(f(f64::INFINITY), "null");
        assert_eq!(f(2.0), "2.0");
    }
}
