//! The reference client's layout tests, and the start-time checks.

mod common;

use cantal_core::{Collection, Counter, Fixed, Float, Integer, Metric, StartError, State};
use common::LeakedRegion;

fn meta_of(metrics: &[&dyn cantal_core::Metric]) -> (String, usize) {
    let mut c: Collection<Fixed<16>> = Collection::fixed();
    for m in metrics {
        c.register(*m).unwrap();
    }
    let size = c.layout().unwrap().size();
    let active = c.start(LeakedRegion::new(size)).unwrap();
    (active.meta().to_string(), size)
}

#[test]
fn two_counters() {
    let a = Counter::new(&[("name", "1")]);
    let b = Counter::new(&[("name", "2")]);
    let (meta, size) = meta_of(&[&b, &a]);
    assert_eq!(
        meta,
        "counter 8: {\"name\": \"1\"}\ncounter 8: {\"name\": \"2\"}"
    );
    assert_eq!(size, 16);
}

#[test]
fn counter_and_float() {
    let a = Counter::new(&[("name", "1")]);
    let b = Float::new(&[("name", "2")]);
    let (meta, size) = meta_of(&[&a, &b]);
    assert_eq!(
        meta,
        "counter 8: {\"name\": \"1\"}\nlevel 8 float: {\"name\": \"2\"}"
    );
    assert_eq!(size, 16);
}

#[test]
fn counter_and_state() {
    let a = Counter::new(&[("name", "1")]);
    let b: State = State::new(&[("name", "2")]);
    let (meta, size) = meta_of(&[&b, &a]);
    assert_eq!(
        meta,
        "counter 8: {\"name\": \"1\"}\npad 56\nstate 64: {\"name\": \"2\"}"
    );
    assert_eq!(size, 128);
}

#[test]
fn counter_integer_counter_state() {
    let c1 = Counter::new(&[("name", "1")]);
    let i2 = Integer::new(&[("name", "2")]);
    let c3 = Counter::new(&[("name", "3")]);
    let s: State = State::new(&[("name", "100")]);
    let (meta, size) = meta_of(&[&c1, &i2, &c3, &s]);
    assert_eq!(
        meta,
        "counter 8: {\"name\": \"1\"}\nlevel 8 signed: {\"name\": \"2\"}\n\
         counter 8: {\"name\": \"3\"}\npad 40\nstate 64: {\"name\": \"100\"}"
    );
    assert_eq!(size, 128);
}

#[test]
fn mixed_state_sizes_keep_8_byte_alignment() {
    let c = Counter::new(&[("name", "c")]);
    let s16: State<8> = State::new(&[("name", "s16")]);
    let s24: State<16> = State::new(&[("name", "s24")]);
    let s64: State = State::new(&[("name", "s64")]);
    let s128: State<120> = State::new(&[("name", "s128")]);
    let (meta, size) = meta_of(&[&s128, &s64, &s24, &s16, &c]);
    assert_eq!(
        meta,
        "counter 8: {\"name\": \"c\"}\npad 8\nstate 16: {\"name\": \"s16\"}\n\
         state 24: {\"name\": \"s24\"}\npad 8\nstate 64: {\"name\": \"s64\"}\n\
         state 128: {\"name\": \"s128\"}"
    );
    assert_eq!(size, 256);
}

#[test]
fn empty_collection_has_empty_meta() {
    let (meta, size) = meta_of(&[]);
    assert_eq!(meta, "");
    assert_eq!(size, 0);
}

#[test]
fn duplicate_names_are_refused_naming_the_metric() {
    // Same pairs in another order, and of another type: still the same name.
    let a = Counter::new(&[("group", "g"), ("metric", "m")]);
    let b: State = State::new(&[("metric", "m"), ("group", "g")]);
    let mut c: Collection<Fixed<4>> = Collection::fixed();
    c.register(&a).unwrap();
    c.register(&b).unwrap();
    let err = c.layout().unwrap_err();
    assert!(matches!(err, StartError::Duplicate { .. }));
    assert_eq!(
        err.to_string(),
        "metric {\"group\": \"g\", \"metric\": \"m\"} is declared twice"
    );
}

#[test]
fn capacity_error_names_the_metric_and_capacity() {
    let a = Counter::new(&[("metric", "a")]);
    let b = Counter::new(&[("metric", "b")]);
    let mut c: Collection<Fixed<1>> = Collection::fixed();
    c.register(&a).unwrap();
    let err = c.register(&b).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot register metric {\"metric\": \"b\"}: the collection holds at most 1 metrics \
         (use a larger capacity)"
    );
}

#[test]
fn region_too_small_says_how_many_bytes() {
    let a = Counter::new(&[("metric", "a")]);
    let s: State = State::new(&[("metric", "s")]);
    let mut c: Collection<Fixed<2>> = Collection::fixed();
    c.register(&a).unwrap();
    c.register(&s).unwrap();
    let Err(err) = c.start(LeakedRegion::new(64)) else {
        panic!("started in a region too small")
    };
    assert_eq!(
        err.to_string(),
        "the region has 64 bytes but the metrics need 128"
    );
    // Nothing moved: the metrics still count inline.
    a.incr(1);
    assert_eq!(a.get(), 1);
}

#[test]
fn a_metric_is_published_once() {
    let a = Counter::new(&[("metric", "a")]);
    let mut c1: Collection<Fixed<1>> = Collection::fixed();
    c1.register(&a).unwrap();
    let _active = c1.start(LeakedRegion::new(8)).unwrap();
    let mut c2: Collection<Fixed<1>> = Collection::fixed();
    c2.register(&a).unwrap();
    let Err(err) = c2.start(LeakedRegion::new(8)) else {
        panic!("published twice")
    };
    assert!(matches!(err, StartError::AlreadyPublished { .. }), "{err}");
}

#[test]
fn registering_after_start_is_an_error() {
    let a = Counter::new(&[("metric", "a")]);
    let late = Counter::new(&[("metric", "late")]);
    let mut c: Collection<Fixed<2>> = Collection::fixed();
    c.register(&a).unwrap();
    let mut active = c.start(LeakedRegion::new(8)).unwrap();
    let err = active.register(&late).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot register metric {\"metric\": \"late\"}: metrics cannot be added after start()"
    );
}

#[test]
fn values_move_into_the_region_and_stay_there() {
    let c = Counter::new(&[("m", "c")]);
    let i = Integer::new(&[("m", "i")]);
    let f = Float::new(&[("m", "f")]);
    let s: State = State::new(&[("m", "s")]);
    c.incr(7);
    i.set(-3);
    f.set(2.5);
    s.enter_at("before", 1000);
    let mut col: Collection<Fixed<4>> = Collection::fixed();
    for m in [&c as &dyn cantal_core::Metric, &i, &f, &s] {
        col.register(m).unwrap();
    }
    let active = col.start(LeakedRegion::new(128)).unwrap();
    assert_eq!(
        active.meta().to_string(),
        "counter 8: {\"m\": \"c\"}\nlevel 8 float: {\"m\": \"f\"}\n\
         level 8 signed: {\"m\": \"i\"}\npad 40\nstate 64: {\"m\": \"s\"}"
    );
    c.incr(1);
    i.decr(1);
    f.incr(0.5);
    let mut bytes = [0u8; 128];
    assert_eq!(active.read_values(&mut bytes), 128);
    let word = |n: usize| u64::from_ne_bytes(bytes[n * 8..n * 8 + 8].try_into().unwrap());
    assert_eq!(word(0), 8);
    assert_eq!(f64::from_bits(word(1)), 3.0);
    assert_eq!(word(2) as i64, -4);
    assert_eq!(word(8), 1000);
    assert_eq!(&bytes[72..79], b"before\0");
    // Dropping the active collection leaves the handles in the region.
    drop(active);
    c.incr(1);
    assert_eq!(c.get(), 9);
    assert_eq!(s.get().unwrap().text(), "before");
}

#[test]
fn restore_takes_over_a_previous_publications_values() {
    fn set() -> (Counter, Integer, Float, State) {
        (
            Counter::new(&[("m", "c")]),
            Integer::new(&[("m", "i")]),
            Float::new(&[("m", "f")]),
            State::new(&[("m", "s")]),
        )
    }
    fn collect<'a>(m: &'a (Counter, Integer, Float, State)) -> Collection<'a, Fixed<'a, 4>> {
        let mut c: Collection<Fixed<4>> = Collection::fixed();
        c.register(&m.0).unwrap();
        c.register(&m.1).unwrap();
        c.register(&m.2).unwrap();
        c.register(&m.3).unwrap();
        c
    }
    let old = set();
    let active = collect(&old).start(LeakedRegion::new(128)).unwrap();
    old.0.incr(40);
    old.1.set(-7);
    old.2.set(1.5);
    old.3.enter_at("serving", 1234);
    let mut values = [0u8; 128];
    active.read_values(&mut values);
    let old_meta = active.meta().to_string();

    // The restarted process: counted 2 already, same declarations.
    let new = set();
    new.0.incr(2);
    let mut c = collect(&new);
    assert_eq!(c.meta().unwrap().to_string(), old_meta);
    let err = c.restore(&values[..64]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the values to restore have 64 bytes but the layout needs 128"
    );
    assert_eq!(new.0.get(), 2, "a failed restore changes nothing");
    c.restore(&values).unwrap();
    assert_eq!(new.0.get(), 42);
    assert_eq!(new.1.get(), -7);
    assert_eq!(new.2.get(), 1.5);
    let state = new.3.get().unwrap();
    assert_eq!((state.text(), state.timestamp()), ("serving", 1234));
    c.start(LeakedRegion::new(128)).unwrap();
    assert_eq!(new.0.get(), 42);
}

#[test]
fn sharded_counter_shards_get_cache_lines_of_their_own() {
    use cantal_core::ShardedCounter;
    let c = Counter::new(&[("name", "c")]);
    let s: State = State::new(&[("name", "s")]);
    let hits: &'static ShardedCounter<4> =
        Box::leak(Box::new(ShardedCounter::new(&[("name", "hits")])));
    let mut col: Collection<Fixed<8>> = Collection::fixed();
    col.register(&c).unwrap();
    col.register(&s).unwrap();
    col.register(hits).unwrap();
    let layout = col.layout().unwrap();
    assert_eq!((layout.size(), layout.lines()), (384, 11));
    let active = col.start(LeakedRegion::new(384)).unwrap();
    assert_eq!(
        active.meta().to_string(),
        "counter 8: {\"name\": \"c\"}\npad 56\n\
         counter 8: {\"cantal_shard\": \"0\", \"name\": \"hits\"}\npad 56\n\
         counter 8: {\"cantal_shard\": \"1\", \"name\": \"hits\"}\npad 56\n\
         counter 8: {\"cantal_shard\": \"2\", \"name\": \"hits\"}\npad 56\n\
         counter 8: {\"cantal_shard\": \"3\", \"name\": \"hits\"}\npad 56\n\
         state 64: {\"name\": \"s\"}"
    );
    // All eight threads alive at once: each on a stack of its own (the C
    // library reuses the stack of a thread that has ended).
    let barrier = std::sync::Barrier::new(8);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                barrier.wait();
                for _ in 0..1000 {
                    hits.incr(1);
                }
            });
        }
    });
    assert_eq!(hits.get(), 8000);
    let mut bytes = [0u8; 384];
    active.read_values(&mut bytes);
    let shard =
        |i: usize| u64::from_ne_bytes(bytes[64 * (i + 1)..64 * (i + 1) + 8].try_into().unwrap());
    let per_shard: Vec<u64> = (0..4).map(shard).collect();
    assert_eq!(per_shard.iter().sum::<u64>(), 8000);
    // Eight threads' stacks spread over the shards (all on one shard has a
    // chance of 4^-7).
    assert!(
        per_shard.iter().filter(|&&n| n > 0).count() > 1,
        "{per_shard:?}"
    );
}

#[test]
fn duplicates_across_many_slot_sizes_are_found() {
    // Ten sizes (a counter and states of nine capacities): more than the
    // layout merges pairwise, so it sorts by name to find the duplicate.
    let counter = Counter::new(&[("m", "same")]);
    let s8: State<8> = State::new(&[("m", "8")]);
    let s16: State<16> = State::new(&[("m", "16")]);
    let s24: State<24> = State::new(&[("m", "24")]);
    let s32: State<32> = State::new(&[("m", "32")]);
    let s40: State<40> = State::new(&[("m", "40")]);
    let s48: State<48> = State::new(&[("m", "48")]);
    let s56: State<56> = State::new(&[("m", "56")]);
    let s64: State<64> = State::new(&[("m", "64")]);
    let twin: State<72> = State::new(&[("m", "same")]);
    let mut c: Collection<Fixed<10>> = Collection::fixed();
    for m in [
        &s8 as &dyn Metric,
        &s16,
        &s24,
        &s32,
        &s40,
        &s48,
        &s56,
        &s64,
        &counter,
    ] {
        c.register(m).unwrap();
    }
    let size = c.layout().unwrap().size();
    c.register(&twin).unwrap();
    let err = c.layout().unwrap_err();
    assert_eq!(
        err.to_string(),
        "metric {\"m\": \"same\"} is declared twice"
    );
    // Without the twin the layout is whole again, sorted by size.
    let mut c: Collection<Fixed<10>> = Collection::fixed();
    for m in [
        &counter as &dyn Metric,
        &s64,
        &s56,
        &s48,
        &s40,
        &s32,
        &s24,
        &s16,
        &s8,
    ] {
        c.register(m).unwrap();
    }
    assert_eq!(c.layout().unwrap().size(), size);
    let sizes: Vec<usize> = c
        .meta()
        .unwrap()
        .to_string()
        .lines()
        .filter(|l| !l.starts_with("pad"))
        .map(|l| {
            l.split(' ')
                .nth(1)
                .unwrap()
                .trim_end_matches(':')
                .parse()
                .unwrap()
        })
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
}
