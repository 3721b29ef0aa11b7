//! Threads hammer metrics while `start()` moves them into the region: no
//! update may be lost (DESIGN.md invariant 2).

use cantal::{Collection, Counter, Fixed, Float, Integer, State};
use cantal_static::StaticBuffer;
use std::sync::Barrier;
use std::thread;

const THREADS: u64 = 4;
const UPDATES: u64 = 20_000;
const ROUNDS: usize = 20;

struct Set {
    counter: Counter,
    integer: Integer,
    float: Float,
    state: State,
}

fn fresh() -> &'static Set {
    Box::leak(Box::new(Set {
        counter: Counter::new(&[("metric", "counter")]),
        integer: Integer::new(&[("metric", "integer")]),
        float: Float::new(&[("metric", "float")]),
        state: State::new(&[("metric", "state")]),
    }))
}

#[test]
fn no_update_is_lost_across_start() {
    let mut mid_way = 0;
    for round in 0..ROUNDS {
        let set = fresh();
        let buffer: &'static StaticBuffer<128> = Box::leak(Box::new(StaticBuffer::new()));
        let barrier = Barrier::new(THREADS as usize + 1);
        let active = thread::scope(|s| {
            for t in 0..THREADS {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    for i in 0..UPDATES {
                        set.counter.incr(1);
                        set.integer.incr(2);
                        set.integer.decr(1);
                        set.float.incr(1.0);
                        if i % 64 == 0 {
                            set.state.enter(if t % 2 == 0 {
                                "even thread"
                            } else {
                                "odd thread"
                            });
                        }
                    }
                });
            }
            let mut metrics: Collection<Fixed<4>> = Collection::fixed();
            metrics.register(&set.counter).unwrap();
            metrics.register(&set.integer).unwrap();
            metrics.register(&set.float).unwrap();
            metrics.register(&set.state).unwrap();
            barrier.wait();
            // Let the writers get going, then publish in the middle of it.
            thread::sleep(std::time::Duration::from_micros(50 * round as u64));
            let before = set.counter.get();
            let active = metrics.start(buffer.claim().unwrap()).unwrap();
            let after = set.counter.get();
            if before > 0 && after < THREADS * UPDATES {
                mid_way += 1;
            }
            active
        });
        let total = THREADS * UPDATES;
        assert_eq!(set.counter.get(), total, "round {round}");
        assert_eq!(set.integer.get(), total as i64, "round {round}");
        assert_eq!(set.float.get(), total as f64, "round {round}");
        let text = set.state.get().expect("a state was entered");
        assert!(
            ["even thread", "odd thread"].contains(&text.text()),
            "{text:?}"
        );

        // And the region holds exactly those values.
        let mut bytes = [0u8; 128];
        active.read_values(&mut bytes);
        let word = |n: usize| u64::from_ne_bytes(bytes[n * 8..n * 8 + 8].try_into().unwrap());
        assert_eq!(word(0), total);
        assert_eq!(f64::from_bits(word(1)), total as f64);
        assert_eq!(word(2) as i64, total as i64);
    }
    // The test only proves something if start() really ran mid-way.
    assert!(mid_way > 0, "start() never overlapped the writers");
    eprintln!("start() overlapped the writers in {mid_way} of {ROUNDS} rounds");
}
