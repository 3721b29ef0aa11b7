//! Extending a live publication: old slots stay, new ones are appended,
//! no update is lost, readers of the old meta still decode, the drop ends
//! it all.

use cantal_core::decode::{Value, decode};
use cantal_core::{Collection, Counter, Float, Growable, Metric, State};
use cantal_mmap::read::{OwnedValue, load, read};
use cantal_mmap::{Error, Publisher};
use cantal_testkit::{Mount, TempDir};
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// A leaked counter named `{"metric": name}`.
fn counter(name: &str) -> &'static Counter {
    let name: &'static str = Box::leak(name.to_string().into_boxed_str());
    let pairs: &'static [(&str, &str)] = Box::leak(Box::new([("metric", name)]));
    Box::leak(Box::new(Counter::new(pairs)))
}

fn collection(metrics: &[&'static dyn Metric]) -> Collection<'static, Growable<'static>> {
    let mut c = Collection::growable();
    for m in metrics {
        c.register(*m).unwrap();
    }
    c
}

/// The values of the publication at `base`, by canonical name.
fn values(base: &Path) -> HashMap<String, OwnedValue> {
    let loaded = load(base).unwrap();
    assert!(loaded.alive);
    loaded
        .meta
        .into_slots()
        .into_iter()
        .map(|slot| slot.name().to_string())
        .zip(loaded.values)
        .collect()
}

#[test]
fn new_metrics_are_appended_and_old_slots_stay() {
    static OLD: Counter = Counter::new(&[("metric", "old")]);
    static PHASE: State = State::new(&[("metric", "phase")]);
    static GAUGE: Float = Float::new(&[("metric", "gauge")]);
    let dir = TempDir::new("append");
    let base = dir.path("app");
    let publication = Publisher::new()
        .path(&base)
        .publish(collection(&[&OLD, &PHASE]))
        .unwrap();
    let old_meta = fs::read_to_string(publication.meta_path()).unwrap();
    let values_ino = fs::metadata(publication.values_path()).unwrap().ino();
    assert_eq!(publication.values_len(), 128);
    OLD.incr(7);
    PHASE.enter("running");

    let late = counter("late");
    late.incr(3); // before it has a slot
    GAUGE.set(1.5);
    publication
        .extender()
        .extend(&[late as &dyn Metric, &GAUGE])
        .unwrap();
    late.incr(1);
    OLD.incr(1);

    // The old lines unchanged, the new ones appended in layout order; the
    // old size was a multiple of 64, so there is no pad.
    let meta = fs::read_to_string(publication.meta_path()).unwrap();
    assert_eq!(
        meta,
        format!(
            "{old_meta}\nlevel 8 float: {{\"metric\": \"gauge\"}}\ncounter 8: {{\"metric\": \"late\"}}"
        )
    );
    assert_eq!(publication.meta_text(), meta);
    assert_eq!(publication.values_len(), 144);
    assert_eq!(fs::metadata(publication.values_path()).unwrap().len(), 144);
    assert_eq!(
        fs::metadata(publication.values_path()).unwrap().ino(),
        values_ino,
        "the values file keeps its inode"
    );
    let v = values(&base);
    assert_eq!(v[r#"{"metric": "old"}"#], OwnedValue::Counter(8));
    assert_eq!(v[r#"{"metric": "late"}"#], OwnedValue::Counter(4));
    assert_eq!(v[r#"{"metric": "gauge"}"#], OwnedValue::Float(1.5));
    assert!(
        matches!(&v[r#"{"metric": "phase"}"#], OwnedValue::State { text, .. } if text == "running")
    );
    // The publication's own copy of the values agrees with the file.
    let mut copy = vec![0u8; 256];
    assert_eq!(publication.read_values(&mut copy), 144);
    assert_eq!(
        &copy[..144],
        &fs::read(publication.values_path()).unwrap()[..]
    );
}

#[test]
fn a_pad_aligns_each_batch_to_64_bytes() {
    let dir = TempDir::new("pad");
    let base = dir.path("app");
    let first = counter("a");
    let publication = Publisher::new()
        .path(&base)
        .publish(collection(&[first]))
        .unwrap();
    let ext = publication.extender();
    let (b, c) = (counter("b"), counter("c"));
    ext.extend(&[b]).unwrap();
    ext.extend(&[c]).unwrap();
    b.incr(2);
    c.incr(3);
    assert_eq!(
        publication.meta_text(),
        "counter 8: {\"metric\": \"a\"}\npad 56\ncounter 8: {\"metric\": \"b\"}\npad 56\n\
         counter 8: {\"metric\": \"c\"}"
    );
    assert_eq!(ext.values_len(), 136);
    let v = values(&base);
    assert_eq!(v[r#"{"metric": "b"}"#], OwnedValue::Counter(2));
    assert_eq!(v[r#"{"metric": "c"}"#], OwnedValue::Counter(3));
}

#[test]
fn an_empty_publication_grows_from_nothing() {
    let dir = TempDir::new("empty");
    let base = dir.path("app");
    let publication = Publisher::new()
        .path(&base)
        .publish(Collection::growable())
        .unwrap();
    assert_eq!(fs::metadata(publication.values_path()).unwrap().len(), 0);
    let c = counter("first");
    c.incr(5);
    publication.extender().extend(&[c]).unwrap();
    assert_eq!(
        fs::read_to_string(publication.meta_path()).unwrap(),
        "counter 8: {\"metric\": \"first\"}"
    );
    assert_eq!(
        values(&base)[r#"{"metric": "first"}"#],
        OwnedValue::Counter(5)
    );
    // An empty extension changes nothing.
    publication.extender().extend(&[]).unwrap();
    assert_eq!(publication.values_len(), 8);
}

#[test]
fn the_old_meta_decodes_against_the_longer_values() {
    let dir = TempDir::new("old-meta");
    let base = dir.path("app");
    let a = counter("a");
    let publication = Publisher::new()
        .path(&base)
        .publish(collection(&[a]))
        .unwrap();
    a.incr(11);
    let old_meta = fs::read(publication.meta_path()).unwrap();
    let more: Vec<&'static dyn Metric> = (0..100)
        .map(|i| counter(&format!("m{i:03}")) as &dyn Metric)
        .collect();
    publication.extender().extend(&more).unwrap();
    let new_values = read(&base).unwrap().values;
    assert_eq!(new_values.len(), 64 + 800);
    // What a reader that read the meta just before the extension sees.
    let items: Vec<_> = decode(&old_meta, &new_values)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].1, Value::Counter(11));
}

#[test]
fn no_update_is_lost_while_extending() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 20;
    const ADDS: u64 = 200_000;
    let dir = TempDir::new("race");
    let base = dir.path("app");
    let old = counter("old");
    let publication = Publisher::new()
        .path(&base)
        .publish(collection(&[old]))
        .unwrap();
    let ext = publication.extender();
    // Each round's counters are incremented by every thread while the
    // round is being published (and the old one all along).
    let rounds: Vec<Vec<&'static Counter>> = (0..ROUNDS)
        .map(|r| (0..8).map(|i| counter(&format!("r{r:02}.{i}"))).collect())
        .collect();
    let rounds = Arc::new(rounds);
    let go = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..THREADS)
        .map(|_| {
            let rounds = rounds.clone();
            let go = go.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                while !go.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
                for n in 0..ADDS {
                    old.incr(1);
                    for round in rounds.iter() {
                        round[n as usize % 8].incr(1);
                    }
                }
                done.fetch_add(1, Ordering::Release);
            })
        })
        .collect();
    go.store(true, Ordering::Release);
    for round in rounds.iter() {
        let metrics: Vec<&'static dyn Metric> = round.iter().map(|c| *c as &dyn Metric).collect();
        ext.extend(&metrics).unwrap();
        std::thread::sleep(Duration::from_micros(200));
    }
    // Else the test would prove nothing.
    assert!(
        done.load(Ordering::Acquire) < THREADS,
        "the writers finished before the last extension"
    );
    for w in writers {
        w.join().unwrap();
    }
    let v = values(&base);
    let per_counter = THREADS as u64 * ADDS / 8;
    assert_eq!(
        v[r#"{"metric": "old"}"#],
        OwnedValue::Counter(THREADS as u64 * ADDS)
    );
    for r in 0..ROUNDS {
        for i in 0..8 {
            assert_eq!(
                v[&format!("{{\"metric\": \"r{r:02}.{i}\"}}")],
                OwnedValue::Counter(per_counter),
                "round {r} counter {i}"
            );
        }
    }
    assert_eq!(v.len(), 1 + ROUNDS * 8);
}

#[test]
fn the_drop_removes_the_files_joins_the_worker_and_ends_extensions() {
    let dir = TempDir::new("drop");
    let base = dir.path("app");
    let publication = Publisher::new()
        .path(&base)
        .publish(collection(&[counter("a")]))
        .unwrap();
    let ext = publication.extender();
    let left_out = ext.extend(&[counter("b")]).unwrap();
    assert!(left_out.is_empty());
    let stopped = Arc::new(AtomicBool::new(false));
    let worker = {
        let ext = ext.clone();
        let stopped = stopped.clone();
        std::thread::spawn(move || {
            while !ext.wait_closed(Duration::from_secs(60)) {}
            std::thread::sleep(Duration::from_millis(50));
            stopped.store(true, Ordering::Release);
        })
    };
    ext.attach_worker(worker);
    assert!(!ext.is_closed());
    let (meta, values) = (
        publication.meta_path().to_path_buf(),
        publication.values_path().to_path_buf(),
    );
    drop(publication);
    assert!(
        stopped.load(Ordering::Acquire),
        "the drop joined the worker"
    );
    assert!(!meta.exists() && !values.exists());
    let late = counter("late");
    let Err(err) = ext.extend(&[late]) else {
        panic!("extended a dropped publication")
    };
    assert!(
        matches!(&err, Error::Closed { path } if *path == base),
        "{err:?}"
    );
    assert!(err.to_string().contains(base.to_str().unwrap()), "{err}");
    assert!(!late.is_published());
    // The path is free again: the lock went with the drop.
    Publisher::new()
        .path(&base)
        .publish(Collection::growable())
        .unwrap();
}

#[test]
fn a_full_file_system_fails_the_extension_cleanly() {
    let dir = TempDir::new("full");
    let sub = dir.path("small");
    let Some(_mount) = Mount::tmpfs(&sub, "size=64k,mode=0700") else {
        return eprintln!("skipped: cannot mount a small tmpfs (needs root)");
    };
    let base = sub.join("app");
    let a = counter("a");
    let publication = Publisher::new()
        .path(&base)
        .publish(collection(&[a]))
        .unwrap();
    let many: Vec<&'static dyn Metric> = (0..20_000)
        .map(|i| counter(&format!("big{i}")) as &dyn Metric)
        .collect();
    let Err(err) = publication.extender().extend(&many) else {
        panic!("extended a full file system")
    };
    assert!(matches!(&err, Error::NoSpace { .. }), "{err:?}");
    assert!(!many[0].is_published());
    assert_eq!(fs::metadata(publication.values_path()).unwrap().len(), 8);
    // A smaller one still fits, and the failed one left nothing behind.
    let b = counter("b");
    b.incr(1);
    publication.extender().extend(&[b]).unwrap();
    a.incr(2);
    let v = values(&base);
    assert_eq!(v[r#"{"metric": "a"}"#], OwnedValue::Counter(2));
    assert_eq!(v[r#"{"metric": "b"}"#], OwnedValue::Counter(1));
}

#[test]
fn names_already_published_are_left_out() {
    static FIXED: Counter = Counter::new(&[("metric", "fixed")]);
    let dir = TempDir::new("clash");
    let base = dir.path("app");
    let publication = Publisher::new()
        .path(&base)
        .publish(collection(&[&FIXED]))
        .unwrap();
    FIXED.incr(1);
    let ext = publication.extender();
    let (clash, new, twice) = (counter("fixed"), counter("new"), counter("new"));
    clash.incr(100);
    let left_out = ext.extend(&[clash, new, twice]).unwrap();
    let left_out: Vec<*const ()> = left_out
        .iter()
        .map(|m| *m as *const dyn Metric as *const ())
        .collect();
    assert_eq!(
        left_out,
        [
            clash as *const Counter as *const (),
            twice as *const Counter as *const ()
        ]
    );
    assert!(!clash.is_published() && !twice.is_published() && new.is_published());
    // Nothing left out of a second batch either: the names are remembered.
    assert_eq!(ext.extend(&[counter("new")]).unwrap().len(), 1);
    let v = values(&base);
    assert_eq!(v.len(), 2);
    assert_eq!(v[r#"{"metric": "fixed"}"#], OwnedValue::Counter(1));
}

#[test]
fn described_handles_and_given_lines_make_the_help_file() {
    use cantal_core::Described;
    use cantal_mmap::help;
    static SERVED: Described<Counter> =
        Described::new(Counter::new(&[("metric", "served")]), "Requests answered");
    static PLAIN: Counter = Counter::new(&[("metric", "plain")]);
    static WAITED: Described<Counter> = Described::with_unit(
        Counter::new(&[("metric", "waited")]),
        "Time spent waiting",
        "milliseconds",
    );
    let dir = TempDir::new("described");
    let base = dir.path("app");
    // Without a description, no help file is made.
    let undescribed = Publisher::new()
        .path(dir.path("plain"))
        .publish(collection(&[&PLAIN]))
        .unwrap();
    assert!(!dir.path("plain.help").exists());
    drop(undescribed);

    let publication = Publisher::new()
        .path(&base)
        .publish(collection(&[&SERVED]))
        .unwrap();
    SERVED.incr(2);
    let h = help::read(&base)
        .unwrap()
        .expect("a help file for a Described handle");
    assert_eq!(h.len(), 1, "{h:?}");
    let served = &h[r#"{"metric": "served"}"#];
    assert_eq!(
        (served.unit.as_deref(), served.text.as_str()),
        (None, "Requests answered")
    );
    assert_eq!(
        values(&base)[r#"{"metric": "served"}"#],
        OwnedValue::Counter(2)
    );

    // An extension adds its handles' descriptions.
    let extender = publication.extender();
    extender.extend(&[&WAITED]).unwrap();
    let h = help::read(&base).unwrap().unwrap();
    assert_eq!(
        h[r#"{"metric": "waited"}"#].unit.as_deref(),
        Some("milliseconds")
    );
    assert_eq!(h.len(), 2, "{h:?}");

    // Given lines (the recorder's) join them; a handle's own text wins
    // over a given line of its name.
    let line = |name: &str, text: &str| (name.to_string(), None, text.to_string());
    extender
        .set_help(vec![
            line(r#"{"metric": "other"}"#, "given"),
            line(r#"{"metric": "served"}"#, "not this one"),
        ])
        .unwrap();
    let h = help::read(&base).unwrap().unwrap();
    assert_eq!(h[r#"{"metric": "other"}"#].text, "given");
    assert_eq!(h[r#"{"metric": "served"}"#].text, "Requests answered");
    assert_eq!(h.len(), 3, "{h:?}");
    drop(publication);
    assert!(
        !dir.path("app.help").exists(),
        "P.help outlives the publication"
    );
    assert!(matches!(
        extender.set_help(Vec::new()),
        Err(Error::Closed { .. })
    ));
}
