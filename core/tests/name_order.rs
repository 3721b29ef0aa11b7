//! The fast paths for plain names (comparison, Display) agree with the
//! canonical JSON encoder.

use cantal_core::{Counter, Name, Pair};
use proptest::prelude::*;
use std::cmp::Ordering;

fn leak(pairs: Vec<(String, String)>) -> &'static [Pair] {
    pairs
        .into_iter()
        .map(|(k, v)| (&*k.leak(), &*v.leak()))
        .collect::<Vec<Pair>>()
        .leak()
}

/// Short strings over characters around the interesting boundaries: below
/// and above `"`, escapes, non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            ' ', '!', '"', '#', 'a', 'b', '.', '\\', 'é', '\n', '~',
        ]),
        0..4,
    )
    .prop_map(|c| c.into_iter().collect())
}

fn name() -> impl Strategy<Value = Name> {
    (
        prop::collection::btree_map(text(), text(), 0..3),
        any::<bool>(),
        prop::option::of((text(), text(), prop::option::of(text()))),
    )
        .prop_map(|(pairs, reverse, added)| {
            let mut pairs: Vec<(String, String)> = pairs.into_iter().collect();
            if reverse {
                pairs.reverse();
            }
            let mut name = Name::new(leak(pairs));
            if let Some((k, head, tail)) = added
                && name.value(&k).is_none()
            {
                let (k, head): (&'static str, &'static str) = (k.leak(), head.leak());
                name = match tail {
                    Some(tail) => name.with_joined(k, head, tail.leak()),
                    None => name.with(k, head),
                };
            }
            name
        })
}

proptest! {
    // Under Miri: a few cases, and no regression file (isolation forbids
    // file access).
    #![proptest_config(if cfg!(miri) {
        ProptestConfig { cases: 8, failure_persistence: None, ..ProptestConfig::default() }
    } else {
        ProptestConfig::default()
    })]

    #[test]
    fn canonical_cmp_is_the_order_of_the_json_text(a in name(), b in name()) {
        let (ta, tb): (Vec<u8>, Vec<u8>) = (a.canonical_json().collect(), b.canonical_json().collect());
        // Display's fast path writes the same text as the escaping encoder.
        let shown = a.to_string();
        prop_assert_eq!(shown.as_bytes(), &ta[..]);
        let text_order = ta.cmp(&tb);
        prop_assert_eq!(a.canonical_cmp(&b), text_order, "{} vs {}", a, b);
        prop_assert_eq!(b.canonical_cmp(&a), text_order.reverse());
        prop_assert_eq!(a.canonical_cmp(&a), Ordering::Equal);
    }

    /// A handle's name is made at run time without classifying it (a
    /// layout compares names many times): comparison and `Display` check
    /// plainness only where it decides.
    #[test]
    fn names_of_handles_order_as_their_text(
        a in prop::collection::btree_map(text(), text(), 0..3),
        b in prop::collection::btree_map(text(), text(), 0..3),
        reverse in any::<bool>(),
    ) {
        let mut a: Vec<(String, String)> = a.into_iter().collect();
        if reverse {
            a.reverse();
        }
        let b: Vec<(String, String)> = b.into_iter().collect();
        let (ca, cb) = (Counter::new(leak(a)), Counter::new(leak(b)));
        let (na, nb) = (ca.name(), cb.name());
        let (ta, tb): (Vec<u8>, Vec<u8>) = (na.canonical_json().collect(), nb.canonical_json().collect());
        let shown = na.to_string();
        prop_assert_eq!(shown.as_bytes(), &ta[..]);
        prop_assert_eq!(na.canonical_cmp(&nb), ta.cmp(&tb), "{} vs {}", na, nb);
        prop_assert_eq!(nb.canonical_cmp(&na), tb.cmp(&ta));
    }
}
