//! Arbitrary declarations -> our encoder (layout, meta text, values) -> the
//! decoder gives back the same names, types and values.
//!
//! The stable-Rust twin of this target is `core/tests/roundtrip.rs`
//! (proptest).
#![no_main]

use cantal_core::decode::{self, Value};
use cantal_core::{Collection, Counter, Fixed, Float, Integer, Metric, Name, Pair, Region, State};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;
use std::ptr::NonNull;

#[derive(Arbitrary, Debug)]
enum Decl {
    Counter(u64),
    Integer(i64),
    Float(u64),
    State(String),
    BigState(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    metrics: Vec<(Vec<(String, String)>, Decl)>,
}

#[repr(C, align(64))]
struct Line([u64; 8]);

/// A region over memory owned by this iteration.
struct Borrowed(NonNull<u8>, usize);

// SAFETY: the Region contract, and where this harness bends it:
// - alignment: `Line` is 64-aligned and the pointer is to the first line;
// - fixed length: `len` is the size of the zeroed `Vec<Line>` it points into;
// - lifetime: the contract asks for memory that lives for the rest of the
//   program because handles may be used at any time; here the buffer is
//   declared before the metrics and the collection of one iteration, so it
//   is dropped after all of them, and nothing uses a handle after that
//   (metrics have no drop glue touching their slot). No access to freed
//   memory can happen, which is what the promise protects;
// - zero-filled: the vector is created zeroed and handed over at once;
// - exclusive atomic access: nothing but the collection touches it;
// - unique: one fresh buffer per iteration.
unsafe impl Region for Borrowed {
    fn base(&self) -> NonNull<u8> {
        self.0
    }
    fn len(&self) -> usize {
        self.1
    }
}

/// What a reader sees of a state text.
fn seen(text: &str, cap: usize) -> &str {
    let mut n = text.len().min(cap);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    text[..n].split('\0').next().unwrap_or_default()
}

fuzz_target!(|input: Input| {
    let mut decls: Vec<(Vec<(String, String)>, Decl)> = Vec::new();
    let mut names = BTreeSet::new();
    for (pairs, decl) in input.metrics.into_iter().take(16) {
        let mut pairs: Vec<(String, String)> = pairs.into_iter().take(4).collect();
        let mut keys = BTreeSet::new();
        pairs.retain(|(k, _)| keys.insert(k.clone()));
        let mut sorted = pairs.clone();
        sorted.sort();
        if names.insert(sorted) {
            decls.push((pairs, decl));
        }
    }

    // Declared first: dropped last, after everything that refers to it.
    let mut buffer: Vec<Line> = (0..16 * 3 + 1).map(|_| Line([0; 8])).collect();
    let pair_slices: Vec<Vec<Pair>> = decls
        .iter()
        .map(|(pairs, _)| {
            pairs
                .iter()
                .map(|(k, v)| {
                    // SAFETY: `decls` owns these strings until the end of the
                    // iteration, and every metric, name and collection that
                    // borrows them is dropped before (declared after).
                    unsafe { (&*(k.as_str() as *const str), &*(v.as_str() as *const str)) }
                })
                .collect()
        })
        .collect();
    let metrics: Vec<Box<dyn Metric>> = decls
        .iter()
        .zip(&pair_slices)
        .map(|((_, decl), pairs)| {
            // SAFETY: as above, `pair_slices` outlives every metric.
            let pairs: &'static [Pair] = unsafe { &*(pairs.as_slice() as *const [Pair]) };
            let name = Name::new(pairs);
            let metric: Box<dyn Metric> = match decl {
                Decl::Counter(v) => {
                    let m = Counter::with_name(name);
                    m.incr(*v);
                    Box::new(m)
                }
                Decl::Integer(v) => {
                    let m = Integer::with_name(name);
                    m.set(*v);
                    Box::new(m)
                }
                Decl::Float(v) => {
                    let m = Float::with_name(name);
                    m.set(f64::from_bits(*v));
                    Box::new(m)
                }
                Decl::State(t) => {
                    let m: State = State::with_name(name);
                    m.enter_at(t, 5);
                    Box::new(m)
                }
                Decl::BigState(t) => {
                    let m: State<120> = State::with_name(name);
                    m.enter_at(t, 7);
                    Box::new(m)
                }
            };
            metric
        })
        .collect();

    let mut collection: Collection<Fixed<16>> = Collection::fixed();
    for m in &metrics {
        collection.register(m.as_ref()).unwrap();
    }
    let size = collection.layout().unwrap().size();
    assert!(size <= buffer.len() * 64);
    let region = Borrowed(NonNull::from(buffer.as_mut_slice()).cast(), size);
    let active = collection.start(region).unwrap();
    let meta = active.meta().to_string();
    let mut values = vec![0u8; size];
    assert_eq!(active.read_values(&mut values), size);
    assert_eq!(decode::total_size(meta.as_bytes()).unwrap(), size as u64);

    let mut found = 0;
    for item in decode::decode(meta.as_bytes(), &values) {
        let (entry, value) = item.unwrap();
        let Some(parsed) = entry.name() else { continue };
        assert!(parsed.is_canonical());
        let (pairs, decl) = decls
            .iter()
            .find(|(pairs, _)| {
                pairs.len() == parsed.len()
                    && pairs
                        .iter()
                        .all(|(k, v)| parsed.get(k).is_some_and(|p| p == v.as_str()))
            })
            .expect("every decoded name was declared");
        let mut canonical = String::new();
        parsed.write_canonical(&mut canonical).unwrap();
        let declared = decls
            .iter()
            .position(|d| std::ptr::eq(&d.0, pairs))
            .unwrap();
        assert_eq!(canonical, metrics[declared].name().to_string());
        match (decl, value) {
            (Decl::Counter(v), Value::Counter(got)) => assert_eq!(*v, got),
            (Decl::Integer(v), Value::Signed(got)) => assert_eq!(*v, got),
            (Decl::Float(v), Value::Float(got)) => assert_eq!(*v, got.to_bits()),
            (Decl::State(t), Value::State { timestamp, text }) => {
                assert_eq!(timestamp, 5);
                assert_eq!(text, seen(t, 56).as_bytes());
            }
            (Decl::BigState(t), Value::State { timestamp, text }) => {
                assert_eq!(timestamp, 7);
                assert_eq!(text, seen(t, 120).as_bytes());
            }
            (decl, value) => panic!("{decl:?} decoded as {value:?}"),
        }
        found += 1;
    }
    assert_eq!(found, decls.len());
    drop(active);
    drop(metrics);
    drop(pair_slices);
    drop(buffer);
});
