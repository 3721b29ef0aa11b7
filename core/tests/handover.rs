//! Threads update metrics while the collection starts. Small enough to run
//! under Miri, which checks for data races and emulates weak memory; the
//! heavy version is the workspace's tests/start_stress.rs.

mod common;

use cantal_core::{Collection, Counter, Fixed, Float, Integer, State};
use common::LeakedRegion;
use std::thread;

const UPDATES: u64 = if cfg!(miri) { 20 } else { 2_000 };

#[test]
fn updates_racing_with_start_are_kept() {
    let counter: &'static Counter = Box::leak(Box::new(Counter::new(&[("m", "c")])));
    let integer: &'static Integer = Box::leak(Box::new(Integer::new(&[("m", "i")])));
    let float: &'static Float = Box::leak(Box::new(Float::new(&[("m", "f")])));
    let state: &'static State = Box::leak(Box::new(State::new(&[("m", "s")])));
    let mut metrics: Collection<Fixed<4>> = Collection::fixed();
    metrics.register(counter).unwrap();
    metrics.register(integer).unwrap();
    metrics.register(float).unwrap();
    metrics.register(state).unwrap();

    let active = thread::scope(|s| {
        for t in 0..2 {
            s.spawn(move || {
                for i in 0..UPDATES {
                    counter.incr(1);
                    integer.incr(1);
                    float.incr(1.0);
                    if i % 4 == 0 {
                        state.enter(if t == 0 { "zero" } else { "one" });
                    }
                }
            });
        }
        metrics.start(LeakedRegion::new(128)).unwrap()
    });
    assert_eq!(counter.get(), 2 * UPDATES);
    assert_eq!(integer.get(), 2 * UPDATES as i64);
    assert_eq!(float.get(), 2.0 * UPDATES as f64);
    let text = state.get().unwrap();
    assert!(text.text() == "zero" || text.text() == "one");
    let mut bytes = [0u8; 128];
    active.read_values(&mut bytes);
    assert_eq!(bytes[..8], (2 * UPDATES).to_ne_bytes());
}

#[test]
fn updates_after_the_collection_is_dropped_stay_in_the_region() {
    let counter: &'static Counter = Box::leak(Box::new(Counter::new(&[("m", "c")])));
    let mut metrics: Collection<Fixed<1>> = Collection::fixed();
    metrics.register(counter).unwrap();
    let active = metrics.start(LeakedRegion::new(8)).unwrap();
    thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..UPDATES {
                counter.incr(1);
            }
        });
        drop(active);
    });
    assert_eq!(counter.get(), UPDATES);
}
