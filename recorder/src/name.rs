//! From a `metrics` key (a name and labels) to Cantal name pairs.
//!
//! - The metric's name becomes the pair `"metric": name` ([`METRIC_KEY`]);
//!   a histogram's parts add one pair each, as `cantal_core::Histogram`'s
//!   do: `"cantal_histogram": "count"` and `"sum"`, and `"cantal_le":
//!   bound` for each bucket (`+Inf` for the last).
//! - Each label becomes a pair, in the order of their keys (a `metrics`
//!   key with the same labels in another order is the same metric).
//! - Labels are taken in the order of their keys; one whose key is taken
//!   already gets a `_` in front, as many times as needed: a label `metric`
//!   is published as `_metric` (as `__metric` when there is a label
//!   `_metric` too, which sorts first and keeps its key), a histogram's
//!   label `le` as `_le` (Prometheus's bucket label; `cantal_le` and
//!   `cantal_histogram` likewise), and the second of two labels with the same key
//!   as `_key`. Nothing is dropped and the rule is deterministic, so the
//!   same key always gives the same name.

use cantal_core::{Name, Pair};

/// The key of the pair that holds the `metrics` name.
pub const METRIC_KEY: &str = "metric";

/// The key of a histogram bucket's upper bound: the core histogram's
/// [`LE_KEY`](cantal_core::LE_KEY), `cantal_le`.
pub const BUCKET_KEY: &str = cantal_core::LE_KEY;

/// A name as owned pairs, sorted by key: equal for equal Cantal names (the
/// canonical JSON sorts keys by code point, which is the byte order of
/// UTF-8).
pub(crate) type Owned = Vec<(String, String)>;

/// The pairs of the metric `metric` with `labels`; `reserved` keys (besides
/// [`METRIC_KEY`]) are kept free for pairs the caller adds.
pub(crate) fn pairs<'l>(
    metric: &str,
    labels: impl Iterator<Item = (&'l str, &'l str)>,
    reserved: &[&str],
) -> Owned {
    let mut labels: Vec<(&str, &str)> = labels.collect();
    // Stable: two labels with the same key keep their order.
    labels.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Owned = Vec::with_capacity(labels.len() + 1 + reserved.len());
    out.push((METRIC_KEY.to_string(), metric.to_string()));
    let taken =
        |out: &Owned, key: &str| reserved.contains(&key) || out.iter().any(|(k, _)| k == key);
    for (key, value) in labels {
        let mut key = key.to_string();
        while taken(&out, &key) {
            key.insert(0, '_');
        }
        out.push((key, value.to_string()));
    }
    out
}

/// `pairs` with the pair `extra` added (its key must be one of the
/// reserved ones), sorted.
pub(crate) fn part(pairs: &Owned, extra: (&str, String)) -> Owned {
    let mut out = pairs.clone();
    out.push((extra.0.to_string(), extra.1));
    out.sort();
    out
}

/// Sorts a name's pairs: the form compared for uniqueness.
pub(crate) fn sorted(mut pairs: Owned) -> Owned {
    pairs.sort();
    pairs
}

/// A `'static` [`Name`] made of `pairs` (unique keys), whose strings are
/// leaked: the metric handles it names live for the rest of the program,
/// and the recorder's key cap bounds how many there are.
pub(crate) fn leak(pairs: &Owned) -> Name {
    let leaked: Vec<Pair> = pairs
        .iter()
        .map(|(k, v)| {
            let k: &'static str = Box::leak(k.clone().into_boxed_str());
            let v: &'static str = Box::leak(v.clone().into_boxed_str());
            (k, v)
        })
        .collect();
    Name::new(Box::leak(leaked.into_boxed_slice()))
}

/// The text of a bucket bound: Rust's shortest round-trip form (`0.005`,
/// `1`, `2.5`).
pub(crate) fn bound_text(bound: f64) -> String {
    format!("{bound}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Owned {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_name_is_a_pair_and_labels_follow_sorted() {
        let p = pairs(
            "requests",
            [("path", "/"), ("code", "200")].into_iter(),
            &[],
        );
        assert_eq!(
            p,
            owned(&[("metric", "requests"), ("code", "200"), ("path", "/")])
        );
    }

    #[test]
    fn taken_keys_get_underscores() {
        let p = pairs(
            "x",
            [
                ("metric", "a"),
                ("_metric", "b"),
                ("le", "c"),
                ("k", "1"),
                ("k", "2"),
            ]
            .into_iter(),
            &["le"],
        );
        assert_eq!(
            sorted(p),
            owned(&[
                ("__metric", "a"),
                ("_k", "2"),
                ("_le", "c"),
                ("_metric", "b"),
                ("k", "1"),
                ("metric", "x"),
            ])
        );
    }

    #[test]
    fn the_same_labels_in_another_order_give_the_same_name() {
        let a = pairs("x", [("b", "1"), ("a", "2")].into_iter(), &[]);
        let b = pairs("x", [("a", "2"), ("b", "1")].into_iter(), &[]);
        assert_eq!(a, b);
    }

    #[test]
    fn histogram_parts() {
        // The recorder's reserved keys for a histogram.
        let reserved = [BUCKET_KEY, cantal_core::HISTOGRAM_KEY, "le"];
        let labels = [("cantal_le", "x"), ("le", "y")];
        let p = pairs("latency", labels.into_iter(), &reserved);
        assert_eq!(
            part(&p, (BUCKET_KEY, bound_text(0.25))),
            owned(&[
                ("_cantal_le", "x"),
                ("_le", "y"),
                ("cantal_le", "0.25"),
                ("metric", "latency")
            ])
        );
        assert_eq!(
            part(&p, (cantal_core::HISTOGRAM_KEY, "count".into())),
            owned(&[
                ("_cantal_le", "x"),
                ("_le", "y"),
                ("cantal_histogram", "count"),
                ("metric", "latency")
            ])
        );
    }

    #[test]
    fn leaked_names_print_canonically() {
        let name = leak(&owned(&[("metric", "x"), ("a", "\u{e9}")]));
        assert_eq!(name.to_string(), r#"{"a": "\u00e9", "metric": "x"}"#);
        assert_eq!(bound_text(1.0), "1");
        assert_eq!(bound_text(0.005), "0.005");
    }
}
