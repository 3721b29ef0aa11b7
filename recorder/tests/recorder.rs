//! The recorder against real files: exact values through `counter!`,
//! `gauge!` and `histogram!`, metrics made after the connection, threads
//! updating during re-publications, and the cap.

use cantal_core::Collection;
use cantal_core::decode::{Value, decode};
use cantal_mmap::read::{OwnedValue, load, read};
use cantal_mmap::{Publication, Publisher};
use cantal_recorder::{Builder, CantalRecorder};
use cantal_testkit::TempDir;
use metrics::with_local_recorder;
use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// An empty publication at `base`, with `recorder` connected to it.
fn connect(base: &Path, recorder: &CantalRecorder) -> Publication<'static> {
    let publication = Publisher::new()
        .path(base)
        .publish(Collection::growable())
        .unwrap();
    recorder.connect(publication.extender()).unwrap();
    publication
}

/// The publication's values by canonical name.
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

/// Polls `values` until it has `name`, at most `timeout`; the values and
/// the time it took.
fn wait_for(base: &Path, name: &str, timeout: Duration) -> (HashMap<String, OwnedValue>, Duration) {
    let start = Instant::now();
    loop {
        let v = values(base);
        if v.contains_key(name) || start.elapsed() > timeout {
            return (v, start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until `recorder` has replaced the meta `n` times, at most 5 s:
/// it counts a replacement just after the new meta is in place, so a
/// reader may see the new keys a moment before.
fn wait_replacements(recorder: &CantalRecorder, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while recorder.replacements() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

const DROPPED: &str = r#"{"group": "cantal_recorder", "metric": "dropped"}"#;
const LATE: &str = r#"{"group": "cantal_recorder", "metric": "late_keys"}"#;

#[test]
fn counters_gauges_and_histograms_have_exact_values() {
    let dir = TempDir::new("exact");
    let recorder = Builder::new().buckets(&[1.0, 2.0, 5.0]).build();
    // Before the connection: counted in memory.
    with_local_recorder(&recorder, || {
        metrics::counter!("requests", "code" => "200").increment(3);
        metrics::gauge!("load").set(0.5);
    });
    let publication = connect(&dir.path("app"), &recorder);
    with_local_recorder(&recorder, || {
        metrics::counter!("requests", "code" => "200").increment(4);
        metrics::counter!("requests", "code" => "200").absolute(10);
        metrics::gauge!("load").increment(2.0);
        metrics::gauge!("load").decrement(0.25);
        let h = metrics::histogram!("latency", "op" => "get");
        for v in [0.5, 2.0, 7.0, 1.5] {
            h.record(v);
        }
    });
    recorder.flush().unwrap();
    let v = values(&dir.path("app"));
    let expected: HashMap<String, OwnedValue> = [
        (
            r#"{"code": "200", "metric": "requests"}"#,
            OwnedValue::Counter(10),
        ),
        (r#"{"metric": "load"}"#, OwnedValue::Float(2.25)),
        // Readers show the histogram's parts as one metric.
        (
            r#"{"metric": "latency", "op": "get"}"#,
            OwnedValue::Histogram {
                count: 4,
                sum: 11.0,
                buckets: vec![(1.0, 1), (2.0, 3), (5.0, 3)],
            },
        ),
        (DROPPED, OwnedValue::Counter(0)),
        // The histogram's 6 slots (count, sum, 3 bounds, +Inf), first
        // used after the connection.
        (LATE, OwnedValue::Counter(6)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(v, expected);
    // The kinds, as the meta says.
    let loaded = load(dir.path("app")).unwrap();
    let kind = |name: &str| {
        let slots = loaded.meta.slots();
        slots.iter().find(|s| s.name() == name).unwrap().kind()
    };
    assert_eq!(kind(r#"{"metric": "load"}"#), "level float");
    assert_eq!(kind(r#"{"metric": "latency", "op": "get"}"#), "histogram");
    assert_eq!(kind(r#"{"code": "200", "metric": "requests"}"#), "counter");
    drop(publication);
}

#[test]
fn metrics_made_after_the_connection_appear_within_the_interval() {
    let dir = TempDir::new("late");
    let interval = Duration::from_millis(200);
    let recorder = Builder::new().interval(interval).build();
    let publication = connect(&dir.path("app"), &recorder);
    let old_meta = fs::read(publication.meta_path()).unwrap();
    let late = with_local_recorder(&recorder, || metrics::counter!("late", "metric" => "x"));
    late.increment(5); // before it has a slot
    let name = r#"{"_metric": "x", "metric": "late"}"#;
    let (v, took) = wait_for(&dir.path("app"), name, Duration::from_secs(5));
    late.increment(1);
    // Published by the background thread at the configured interval, not
    // at the default one (30 s). The bound leaves room for a loaded machine:
    // a timed assertion tighter than that fails under load without saying
    // anything about the code.
    assert!(took < interval + Duration::from_secs(4), "took {took:?}");
    assert!(
        matches!(v[name], OwnedValue::Counter(5 | 6)),
        "{:?}",
        v[name]
    );
    assert_eq!(values(&dir.path("app"))[name], OwnedValue::Counter(6));
    // A reader that read the meta before the re-publication still decodes.
    let longer = read(dir.path("app")).unwrap().values;
    assert!(longer.len() > 8);
    let items: Vec<_> = decode(&old_meta, &longer)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].1, Value::Counter(0)); // the recorder's `dropped`
    // Published late, in one replacement of the meta.
    wait_replacements(&recorder, 1);
    assert_eq!((recorder.late_keys(), recorder.replacements()), (1, 1));
    assert_eq!(values(&dir.path("app"))[LATE], OwnedValue::Counter(1));
    drop(publication);
}

#[test]
fn no_update_is_lost_while_threads_make_and_update_metrics() {
    const THREADS: usize = 3;
    const KEYS: usize = 300;
    const ADDS: u64 = 300;
    let dir = TempDir::new("race");
    let recorder = Builder::new().interval(Duration::from_millis(10)).build();
    let publication = connect(&dir.path("app"), &recorder);
    let shared = with_local_recorder(&recorder, || metrics::counter!("shared"));
    let gauge = with_local_recorder(&recorder, || metrics::gauge!("sum"));
    let stop = Arc::new(AtomicBool::new(false));
    // Re-publications as fast as they go, besides the recorder's own.
    let flusher = {
        let recorder = recorder.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut flushes = 0;
            while !stop.load(Ordering::Acquire) {
                flushes += usize::from(recorder.flush().unwrap() > 0);
            }
            flushes
        })
    };
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let recorder = recorder.clone();
            let (shared, gauge) = (shared.clone(), gauge.clone());
            std::thread::spawn(move || {
                with_local_recorder(&recorder, || {
                    for k in 0..KEYS {
                        // Every thread makes or finds the key, then adds.
                        for _ in 0..ADDS {
                            metrics::counter!("key", "k" => k.to_string()).increment(1);
                            shared.increment(1);
                        }
                        gauge.increment(1.0);
                        metrics::histogram!("h", "t" => t.to_string()).record(0.2);
                    }
                })
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Release);
    let flushes = flusher.join().unwrap();
    assert!(
        flushes > 2,
        "only {flushes} re-publications overlapped the writers"
    );
    recorder.flush().unwrap();
    let v = values(&dir.path("app"));
    for k in 0..KEYS {
        assert_eq!(
            v[&format!(r#"{{"k": "{k}", "metric": "key"}}"#)],
            OwnedValue::Counter(THREADS as u64 * ADDS),
            "key {k}"
        );
    }
    assert_eq!(
        v[r#"{"metric": "shared"}"#],
        OwnedValue::Counter((THREADS * KEYS) as u64 * ADDS)
    );
    assert_eq!(
        v[r#"{"metric": "sum"}"#],
        OwnedValue::Float((THREADS * KEYS) as f64)
    );
    for t in 0..THREADS {
        let OwnedValue::Histogram { count, buckets, .. } =
            &v[&format!(r#"{{"metric": "h", "t": "{t}"}}"#)]
        else {
            panic!("histogram {t}: {v:?}");
        };
        assert_eq!(*count, KEYS as u64);
        let bucket = |bound: f64| buckets.iter().find(|(b, _)| *b == bound).map(|(_, n)| *n);
        assert_eq!(bucket(0.25), Some(KEYS as u64));
        assert_eq!(bucket(0.1), Some(0));
    }
    // Count, sum, a bucket per bound and +Inf.
    let histogram_slots = THREADS * (3 + cantal_recorder::DEFAULT_BUCKETS.len());
    // Each histogram is one metric for readers; then `dropped` and
    // `late_keys`.
    assert_eq!(v.len(), KEYS + 2 + THREADS + 2);
    assert_eq!(recorder.slots(), KEYS + 2 + histogram_slots);
    drop(publication);
}

#[test]
fn keys_beyond_the_cap_are_counted_as_dropped() {
    let dir = TempDir::new("cap");
    // Only explicit flushes: the layout below is exact.
    let recorder = Builder::new()
        .max_slots(5)
        .interval(Duration::from_secs(60))
        .build();
    let publication = connect(&dir.path("app"), &recorder);
    with_local_recorder(&recorder, || {
        for i in 0..12 {
            metrics::counter!("c", "i" => i.to_string()).increment(1 + i);
        }
        // Admitted keys keep working.
        metrics::counter!("c", "i" => "0").increment(10);
        // A histogram needs 13 slots: refused whole.
        metrics::histogram!("h").record(1.0);
    });
    recorder.flush().unwrap();
    let v = values(&dir.path("app"));
    assert_eq!(v.len(), 5 + 2, "{v:?}");
    assert_eq!(v[r#"{"i": "0", "metric": "c"}"#], OwnedValue::Counter(11));
    assert_eq!(v[r#"{"i": "4", "metric": "c"}"#], OwnedValue::Counter(5));
    assert!(!v.contains_key(r#"{"i": "5", "metric": "c"}"#));
    assert_eq!(v[DROPPED], OwnedValue::Counter(7 + 1));
    assert_eq!(recorder.dropped(), 8);
    assert_eq!(recorder.slots(), 5);
    // The files stay bounded too: 6 slots, the recorder's first.
    assert_eq!(publication.values_len(), 64 + 5 * 8);
    drop(publication);
}

#[test]
fn a_second_connection_is_refused_naming_the_path() {
    let dir = TempDir::new("twice");
    let recorder = Builder::new().build();
    let publication = connect(&dir.path("app"), &recorder);
    let err = recorder.connect(publication.extender()).unwrap_err();
    assert!(matches!(
        err,
        cantal_recorder::Error::AlreadyConnected { .. }
    ));
    assert!(
        err.to_string().contains(dir.path("app").to_str().unwrap()),
        "{err}"
    );
    drop(publication);
}

#[test]
fn a_name_of_the_publication_itself_stays_with_its_static() {
    static REQUESTS: cantal_core::Counter = cantal_core::Counter::new(&[("metric", "requests")]);
    let dir = TempDir::new("static");
    let mut statics = Collection::growable();
    statics.register(&REQUESTS).unwrap();
    let publication = Publisher::new()
        .path(dir.path("app"))
        .publish(statics)
        .unwrap();
    REQUESTS.incr(1);
    let recorder = Builder::new().interval(Duration::from_secs(60)).build();
    recorder.connect(publication.extender()).unwrap();
    with_local_recorder(&recorder, || {
        metrics::counter!("requests").increment(50);
        metrics::counter!("other").increment(2);
    });
    assert_eq!(recorder.flush().unwrap(), 1);
    // The file stays readable (no name twice), the static keeps its slot.
    let v = values(&dir.path("app"));
    assert_eq!(v.len(), 4, "{v:?}");
    assert_eq!(v[r#"{"metric": "requests"}"#], OwnedValue::Counter(1));
    assert_eq!(v[r#"{"metric": "other"}"#], OwnedValue::Counter(2));
    assert_eq!(v[DROPPED], OwnedValue::Counter(1));
    drop(publication);
}

#[test]
fn replacements_are_an_interval_apart_and_coalesce_a_burst() {
    let dir = TempDir::new("rate");
    let interval = Duration::from_millis(300);
    let recorder = Builder::new().interval(interval).build();
    // Keys made before the connection are in the first publication.
    with_local_recorder(&recorder, || metrics::counter!("early").increment(1));
    let publication = connect(&dir.path("app"), &recorder);
    assert_eq!(
        values(&dir.path("app"))[r#"{"metric": "early"}"#],
        OwnedValue::Counter(1)
    );
    assert_eq!((recorder.late_keys(), recorder.replacements()), (0, 0));
    // Half an interval after the connection (not a synchronisation: the
    // thread's own tick, due an interval after the connection, must then
    // come before an interval after the flush, and be put off)...
    std::thread::sleep(interval / 2);
    // ...an explicit flush replaces the meta at once...
    with_local_recorder(&recorder, || metrics::counter!("a").increment(1));
    assert_eq!(recorder.flush().unwrap(), 1);
    let flushed = Instant::now();
    // ...and a burst of keys right after waits a whole interval after it,
    // then comes in one replacement.
    with_local_recorder(&recorder, || {
        for i in 0..20 {
            metrics::counter!("burst", "i" => i.to_string()).increment(1);
        }
    });
    let last = r#"{"i": "19", "metric": "burst"}"#;
    let (v, _) = wait_for(&dir.path("app"), last, Duration::from_secs(10));
    assert!(v.contains_key(last), "never published");
    assert!(
        flushed.elapsed() >= interval,
        "after {:?}",
        flushed.elapsed()
    );
    assert_eq!(v.len(), 3 + 1 + 20, "{v:?}");
    wait_replacements(&recorder, 2);
    assert_eq!((recorder.late_keys(), recorder.replacements()), (21, 2));
    drop(publication);
}

#[test]
fn descriptions_go_to_the_help_side_file() {
    let dir = TempDir::new("help");
    let recorder = Builder::new().buckets(&[1.0]).build();
    with_local_recorder(&recorder, || {
        metrics::describe_histogram!(
            "latency",
            metrics::Unit::Milliseconds,
            "How long a request took"
        );
        metrics::histogram!("latency", "op" => "get").record(3.0);
        metrics::counter!("plain").increment(1);
    });
    let base = dir.path("app");
    let publication = connect(&base, &recorder);
    // Described after the connection: written at the next flush.
    with_local_recorder(&recorder, || {
        metrics::describe_counter!("plain", "Undescribed\nno more");
    });
    recorder.flush().unwrap();
    let help = cantal_mmap::help::read(&base).unwrap().unwrap();
    let latency = &help[r#"{"metric": "latency", "op": "get"}"#];
    assert_eq!(latency.unit.as_deref(), Some("milliseconds"));
    assert_eq!(latency.text, "How long a request took");
    assert_eq!(help[r#"{"metric": "plain"}"#].text, "Undescribed\nno more");
    assert_eq!(help.len(), 2, "{help:?}");
    drop(publication);
    // Removed with the pair: nothing is left behind.
    assert!(
        !dir.path("app.help").exists(),
        "P.help stays after the publication is dropped"
    );
}

/// The recorder's descriptions join those of the publication's own
/// `Described` handles in one help file: neither replaces the other.
#[test]
fn recorder_and_described_handles_share_the_help_file() {
    static OWN: cantal_core::Described<cantal_core::Counter> = cantal_core::Described::new(
        cantal_core::Counter::new(&[("metric", "own")]),
        "The program's own counter",
    );
    let dir = TempDir::new("help-shared");
    let base = dir.path("app");
    let recorder = Builder::new().build();
    let mut collection = Collection::growable();
    collection.register(&OWN).unwrap();
    let publication = Publisher::new().path(&base).publish(collection).unwrap();
    recorder.connect(publication.extender()).unwrap();
    with_local_recorder(&recorder, || {
        metrics::describe_counter!("jobs", "Jobs done");
        metrics::counter!("jobs").increment(1);
    });
    recorder.flush().unwrap();
    let help = cantal_mmap::help::read(&base).unwrap().unwrap();
    assert_eq!(
        help[r#"{"metric": "own"}"#].text,
        "The program's own counter"
    );
    assert_eq!(help[r#"{"metric": "jobs"}"#].text, "Jobs done");
    assert_eq!(help.len(), 2, "{help:?}");
    drop(publication);
}
