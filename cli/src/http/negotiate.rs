//! Content negotiation (RFC 9110, sections 12.4.2, 12.5.1 and 12.5.3):
//! which exposition format an `Accept` header prefers, and whether an
//! `Accept-Encoding` header accepts gzip.

use crate::prom::Format;

/// One element of an `Accept` or `Accept-Encoding` list: its value
/// (lowercased, parameters other than `q` dropped) and its weight in
/// thousandths.
fn elements(header: &str) -> impl Iterator<Item = (String, u16)> + '_ {
    header.split(',').filter_map(|element| {
        let mut parts = element.split(';');
        let value = parts.next()?.trim().to_ascii_lowercase();
        if value.is_empty() {
            return None;
        }
        let mut q = 1000;
        for param in parts {
            if let Some((name, v)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = qvalue(v.trim())?;
            }
        }
        Some((value, q))
    })
}

/// A `qvalue` (`0`, `0.5`, `1.000`) in thousandths; `None` if malformed.
fn qvalue(s: &str) -> Option<u16> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value = format!("{frac:0<3}").parse::<u16>().unwrap_or(0);
    match int {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
    }
}

/// The weight and specificity (2 exact, 1 `type/*`, 0 `*/*`) that `accept`
/// gives the media type `wanted`; `None` when no range matches it. The most
/// specific matching range decides (RFC 9110, 12.5.1).
fn weight(accept: &str, wanted: &str) -> Option<(u16, u8)> {
    let (kind, _) = wanted.split_once('/')?;
    let mut best: Option<(u16, u8)> = None;
    for (range, q) in elements(accept) {
        let specificity = if range == wanted {
            2
        } else if range.strip_suffix("/*") == Some(kind) {
            1
        } else if range == "*/*" {
            0
        } else {
            continue;
        };
        if best.is_none_or(|(_, s)| specificity > s) {
            best = Some((q, specificity));
        }
    }
    best
}

/// The format that an `Accept` header prefers: OpenMetrics when it weighs
/// `application/openmetrics-text` above `text/plain` (or equally, and names
/// it exactly), else the Prometheus text format, which is also the answer
/// when neither is acceptable.
pub(crate) fn format(accept: &str) -> Format {
    let om = weight(accept, "application/openmetrics-text").filter(|(q, _)| *q > 0);
    let text = weight(accept, "text/plain").filter(|(q, _)| *q > 0);
    match (om, text) {
        (Some(_), None) => Format::OpenMetrics,
        (Some((oq, os)), Some((tq, _))) if oq > tq || (oq == tq && os == 2) => Format::OpenMetrics,
        _ => Format::Prometheus,
    }
}

/// Whether an `Accept-Encoding` header accepts gzip (`gzip`, `x-gzip` or
/// `*` with a weight above 0, the named coding taking precedence).
pub(crate) fn gzip(accept_encoding: &str) -> bool {
    let mut named = None;
    let mut any = None;
    for (coding, q) in elements(accept_encoding) {
        match coding.as_str() {
            "gzip" | "x-gzip" => named = Some(named.unwrap_or(0).max(q)),
            "*" => any = Some(q),
            _ => {}
        }
    }
    named.or(any).is_some_and(|q| q > 0)
}

#[cfg(test)]
mod tests {
    use super::{Format, format, gzip, qvalue};

    #[test]
    fn prometheus_scrapers() {
        assert_eq!(
            format(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            ),
            Format::OpenMetrics
        );
        assert_eq!(
            format(
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
            ),
            Format::OpenMetrics
        );
        assert_eq!(format("text/plain;version=0.0.4"), Format::Prometheus);
        assert_eq!(
            format("application/openmetrics-text; version=1.0.0"),
            Format::OpenMetrics
        );
    }

    #[test]
    fn q_values_decide() {
        // q=0 means "not acceptable" (RFC 9110, 12.4.2).
        assert_eq!(
            format("application/openmetrics-text;q=0"),
            Format::Prometheus
        );
        assert_eq!(
            format("application/openmetrics-text;q=0, */*"),
            Format::Prometheus
        );
        assert_eq!(
            format("text/plain;q=0.9, application/openmetrics-text;q=0.8"),
            Format::Prometheus
        );
        assert_eq!(
            format("text/plain;q=0.2, application/*;q=0.3"),
            Format::OpenMetrics
        );
        assert_eq!(
            format("application/openmetrics-text, text/plain"),
            Format::OpenMetrics
        );
        // The exact range outweighs the wildcard that also matches.
        assert_eq!(
            format("application/*;q=1, application/openmetrics-text;q=0"),
            Format::Prometheus
        );
        assert_eq!(format("*/*"), Format::Prometheus);
        assert_eq!(format(""), Format::Prometheus);
        // A malformed weight drops its element.
        assert_eq!(
            format("application/openmetrics-text;q=2"),
            Format::Prometheus
        );
    }

    #[test]
    fn q_value_syntax() {
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("0.5"), Some(500));
        assert_eq!(qvalue("0.125"), Some(125));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("1.5"), None);
        assert_eq!(qvalue("0.1234"), None);
        assert_eq!(qvalue("-1"), None);
    }

    #[test]
    fn gzip_accepted() {
        assert!(gzip("gzip"));
        assert!(gzip("deflate, gzip;q=0.5"));
        assert!(gzip("*"));
        assert!(!gzip("gzip;q=0"));
        assert!(!gzip("*, gzip;q=0"));
        assert!(!gzip("identity"));
        assert!(!gzip(""));
    }
}
