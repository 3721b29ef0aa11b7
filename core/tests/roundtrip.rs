//! Arbitrary declarations -> our encoder (layout, meta text, values) -> the
//! decoder gives back the same names, types and values.

mod common;

use cantal_core::decode::{self, Value};
use cantal_core::{Collection, Counter, Fixed, Float, Integer, Metric, Name, Pair, State};
use common::LeakedRegion;
use proptest::prelude::*;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
enum Decl {
    Counter(u64),
    Integer(i64),
    Float(f64),
    State(String),
    BigState(String),
}

fn leak_pairs(pairs: Vec<(String, String)>) -> &'static [Pair] {
    let pairs: Vec<Pair> = pairs
        .into_iter()
        .map(|(k, v)| (&*k.leak(), &*v.leak()))
        .collect();
    pairs.leak()
}

fn decl() -> impl Strategy<Value = Decl> {
    prop_oneof![
        any::<u64>().prop_map(Decl::Counter),
        any::<i64>().prop_map(Decl::Integer),
        any::<f64>().prop_map(Decl::Float),
        ".{0,70}".prop_map(Decl::State),
        ".{0,130}".prop_map(Decl::BigState),
    ]
}

/// Names: 0 to 3 pairs of any Unicode text, distinct keys.
fn name() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(".{0,6}", ".{0,8}", 0..4).prop_map(|m| m.into_iter().collect())
}

fn declarations() -> impl Strategy<Value = Vec<(Vec<(String, String)>, Decl)>> {
    prop::collection::vec((name(), decl()), 0..24).prop_map(|mut v| {
        // Names must be unique: keep the first of each canonical name.
        let mut seen = BTreeSet::new();
        v.retain(|(pairs, _)| {
            let mut sorted = pairs.clone();
            sorted.sort();
            seen.insert(sorted)
        });
        v
    })
}

/// What a reader sees of a state text: cut to the capacity at a character
/// boundary, and ended by the first NUL (the protocol's terminator).
fn truncated(text: &str, cap: usize) -> &str {
    let mut n = text.len().min(cap);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    text[..n].split('\0').next().unwrap_or_default()
}

proptest! {
    // Under Miri: a few cases, and no regression file (isolation forbids
    // file access).
    #![proptest_config(if cfg!(miri) {
        ProptestConfig { cases: 4, failure_persistence: None, ..ProptestConfig::default() }
    } else {
        ProptestConfig::with_cases(256)
    })]

    #[test]
    fn encoder_and_decoder_agree(decls in declarations()) {
        let mut metrics: Vec<&'static dyn Metric> = Vec::new();
        for (pairs, decl) in &decls {
            let name = Name::new(leak_pairs(pairs.clone()));
            let metric: &'static dyn Metric = match decl {
                Decl::Counter(v) => { let m = Box::leak(Box::new(Counter::with_name(name))); m.incr(*v); m }
                Decl::Integer(v) => { let m = Box::leak(Box::new(Integer::with_name(name))); m.set(*v); m }
                Decl::Float(v) => { let m = Box::leak(Box::new(Float::with_name(name))); m.set(*v); m }
                Decl::State(t) => { let m: &State = Box::leak(Box::new(State::with_name(name))); m.enter_at(t, 5); m }
                Decl::BigState(t) => { let m: &State<120> = Box::leak(Box::new(State::with_name(name))); m.enter_at(t, 7); m }
            };
            metrics.push(metric);
        }
        let mut collection: Collection<Fixed<32>> = Collection::fixed();
        for m in &metrics {
            collection.register(*m).unwrap();
        }
        let size = collection.layout().unwrap().size();
        let active = collection.start(LeakedRegion::new(size)).unwrap();
        let meta = active.meta().to_string();
        let mut values = vec![0u8; size];
        prop_assert_eq!(active.read_values(&mut values), size);
        prop_assert_eq!(decode::total_size(meta.as_bytes()).unwrap(), size as u64);

        let mut found = 0;
        for item in decode::decode(meta.as_bytes(), &values) {
            let (entry, value) = item.unwrap();
            let Some(parsed) = entry.name() else { continue };
            prop_assert!(parsed.is_canonical());
            let (pairs, decl) = decls
                .iter()
                .find(|(pairs, _)| {
                    pairs.len() == parsed.len()
                        && pairs.iter().all(|(k, v)| parsed.get(k).is_some_and(|p| p == v.as_str()))
                })
                .expect("every decoded name was declared");
            // The canonical text our encoder wrote is the decoder's canonical form.
            let mut canonical = String::new();
            parsed.write_canonical(&mut canonical).unwrap();
            prop_assert_eq!(canonical, Name::new(leak_pairs(pairs.clone())).to_string());
            match (decl, value) {
                (Decl::Counter(v), Value::Counter(got)) => prop_assert_eq!(*v, got),
                (Decl::Integer(v), Value::Signed(got)) => prop_assert_eq!(*v, got),
                (Decl::Float(v), Value::Float(got)) => prop_assert_eq!(v.to_bits(), got.to_bits()),
                (Decl::State(t), Value::State { timestamp, text }) => {
                    prop_assert_eq!(timestamp, 5);
                    prop_assert_eq!(text, truncated(t, 56).as_bytes());
                }
                (Decl::BigState(t), Value::State { timestamp, text }) => {
                    prop_assert_eq!(timestamp, 7);
                    prop_assert_eq!(text, truncated(t, 120).as_bytes());
                }
                (decl, value) => prop_assert!(false, "{decl:?} decoded as {value:?}"),
            }
            found += 1;
        }
        prop_assert_eq!(found, decls.len());
    }
}
