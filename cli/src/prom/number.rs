//! A sample's value as the exposition formats write it: integers in full,
//! floats in their shortest round-trip form (`NaN`, `+Inf`, `-Inf`),
//! milliseconds as seconds with three decimals, scaled to base units.

use super::naming::Unit;
use std::fmt::Write as _;

/// A sample's value.
#[derive(Clone, Copy)]
pub(super) enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    /// Milliseconds, written as seconds with three decimals.
    Millis(u64),
}

impl Number {
    pub(super) fn write(self, out: &mut String) {
        let _ = match self {
            Number::Unsigned(v) => write!(out, "{v}"),
            Number::Signed(v) => write!(out, "{v}"),
            Number::Float(v) => {
                write_float(out, v);
                Ok(())
            }
            Number::Millis(ms) => write!(out, "{}.{:03}", ms / 1000, ms % 1000),
        };
    }
}

/// `v` in the base unit.
pub(super) fn scale(v: f64, unit: Option<Unit>) -> f64 {
    match unit {
        // Dividing by 1000 is exact where multiplying by 0.001 is not.
        Some(u) if u.factor < 1.0 => v / (1.0 / u.factor).round(),
        Some(u) => v * u.factor,
        None => v,
    }
}

/// An integer in the base unit.
pub(super) fn scale_int(v: u64, unit: Option<Unit>) -> Number {
    match unit {
        Some(u) if u == Unit::MILLIS => Number::Millis(v),
        Some(u) if u.factor != 1.0 => Number::Float(scale(v as f64, unit)),
        _ => Number::Unsigned(v),
    }
}

/// A float sample value.
pub(super) fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v:?}");
    }
}
