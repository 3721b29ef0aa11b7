//! [`CantalRecorder`] (the `metrics::Recorder`) and its [`Builder`].

use crate::describe::Descriptions;
use crate::error::Error;
use crate::handles::{CounterHandle, GaugeHandle, HistogramHandle};
use crate::name::{self, BUCKET_KEY, Owned};
use cantal_core::{Counter, Float, Metric};
use cantal_core::{HISTOGRAM_KEY, INF_BOUND};
use cantal_mmap::Extender;
use metrics::{Key, KeyName, Metadata, SharedString, Unit};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// The default upper bounds of histogram buckets: Prometheus's (seconds,
/// from 5 ms to 10 s).
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The default cap on the slots the recorder's metrics take: 8192 (64 KiB
/// of values).
pub const DEFAULT_MAX_SLOTS: usize = 8192;

/// The default shortest time between two re-publications (replacements of
/// `P.meta`), which is also the longest time between a metric's first use
/// and its publication: 30 seconds. The original Cantal agent loses the
/// one scan (every 2 s) that follows each replacement, so while new keys
/// keep appearing it loses at most 1 scan in 15 (6.7 %); see "Re-publication"
/// in the [crate docs](crate).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// The shortest interval accepted (a shorter one is raised to it).
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// The recorder's own counter of refused registrations.
const DROPPED: &[(&str, &str)] = &[("group", "cantal_recorder"), ("metric", "dropped")];

/// The recorder's own counter of slots published after its first
/// publication (each in a replacement of `P.meta`).
const LATE: &[(&str, &str)] = &[("group", "cantal_recorder"), ("metric", "late_keys")];

/// How the recorder publishes: the histogram buckets, the cap on metrics,
/// and the re-publication interval.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let recorder = cantal_recorder::Builder::new()
///     .buckets(&[0.001, 0.01, 0.1, 1.0])
///     .max_slots(1000)
///     .interval(Duration::from_millis(500))
///     .build();
/// metrics::with_local_recorder(&recorder, || metrics::counter!("jobs").increment(1));
/// assert_eq!(recorder.slots(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    buckets: Vec<f64>,
    max_slots: usize,
    interval: Duration,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            buckets: DEFAULT_BUCKETS.to_vec(),
            max_slots: DEFAULT_MAX_SLOTS,
            interval: DEFAULT_INTERVAL,
        }
    }
}

impl Builder {
    /// The defaults: [`DEFAULT_BUCKETS`], [`DEFAULT_MAX_SLOTS`],
    /// [`DEFAULT_INTERVAL`].
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The upper bounds of every histogram's buckets (the same for all).
    /// They are sorted, duplicates and non-finite values left out; a `+Inf`
    /// bucket follows them. Each bound costs a slot per histogram; a record
    /// costs three atomic operations whatever the number of bounds (the
    /// bucket is found by binary search).
    pub fn buckets(mut self, bounds: &[f64]) -> Builder {
        let mut bounds: Vec<f64> = bounds.iter().copied().filter(|b| b.is_finite()).collect();
        bounds.sort_by(f64::total_cmp);
        bounds.dedup();
        self.buckets = bounds;
        self
    }

    /// The most slots (8-byte values) the recorder's metrics may take: a
    /// counter or gauge takes one, a histogram two plus one per bucket. A
    /// key that would go past it is refused: its handle does nothing,
    /// the counter `{"group": "cantal_recorder", "metric": "dropped"}`
    /// counts the refusal, and a warning is logged (once).
    pub fn max_slots(mut self, slots: usize) -> Builder {
        self.max_slots = slots;
        self
    }

    /// How often, at most, new metrics are published once the recorder is
    /// connected: the recorder's thread replaces `P.meta` (growing the
    /// values file) at most once per interval, with every key first used
    /// in it, and only when there is one. A metric becomes visible to
    /// readers at most this long after its first use. The original agent
    /// loses the scan after each replacement: with its 2-second scan, an
    /// interval of `I` seconds loses at most `2 / I` of its scans while
    /// keys keep appearing (the default, [`DEFAULT_INTERVAL`], 1 in 15),
    /// none once they stop. At least [`MIN_INTERVAL`].
    pub fn interval(mut self, interval: Duration) -> Builder {
        self.interval = interval.max(MIN_INTERVAL);
        self
    }

    /// The recorder, not installed anywhere: use it with
    /// `metrics::with_local_recorder`, or install it yourself.
    pub fn build(self) -> CantalRecorder {
        let mut names = Names::default();
        let mut own = |pairs: &'static [(&'static str, &'static str)]| {
            let counter: &'static Counter = Box::leak(Box::new(Counter::new(pairs)));
            let owned = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
            names.taken.insert(name::sorted(owned.collect()));
            names.pending.push(counter);
            counter
        };
        let (dropped, late) = (own(DROPPED), own(LATE));
        CantalRecorder {
            inner: Arc::new(Inner {
                buckets: self.buckets,
                max_slots: self.max_slots,
                interval: self.interval,
                counters: RwLock::default(),
                gauges: RwLock::default(),
                histograms: RwLock::default(),
                names: Mutex::new(names),
                descriptions: Descriptions::default(),
                dropped,
                late,
                published_once: AtomicBool::new(false),
                replaced: Mutex::new(None),
                replacements: AtomicU64::new(0),
                warned_cap: AtomicBool::new(false),
                warned_kind: AtomicBool::new(false),
                warned_static: AtomicBool::new(false),
                warned_help: AtomicBool::new(false),
                extender: Mutex::new(None),
            }),
        }
    }
}

/// A `metrics` [`Recorder`](metrics::Recorder) that publishes into Cantal
/// files: counters as `counter 8`, gauges as `level 8 float`, histograms
/// in `cantal_core::Histogram`'s shape (a count counter, a float sum, a
/// counter per bucket holding its own range, `+Inf` included).
///
/// Each key gets its Cantal metrics on first use; they count in memory
/// until the recorder is [connected](CantalRecorder::connect) to a
/// publication, which publishes them, and those created later, at most an
/// [interval](Builder::interval) after their creation. Cloning gives
/// another handle to the same recorder.
///
/// See the [crate docs](crate) for the names and the limits.
#[derive(Clone)]
pub struct CantalRecorder {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CantalRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CantalRecorder")
            .field("slots", &self.slots())
            .field("max_slots", &self.inner.max_slots)
            .finish_non_exhaustive()
    }
}

/// A `HashMap` hasher for `metrics::Key`, which hashes itself to the one
/// `u64` it computed when made: passed through as it is.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Never called by `Key` (it writes one u64); fold anything else.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Map<T> = RwLock<HashMap<Key, Arc<T>, BuildHasherDefault<KeyHasher>>>;

struct Inner {
    buckets: Vec<f64>,
    max_slots: usize,
    interval: Duration,
    counters: Map<CounterHandle>,
    gauges: Map<GaugeHandle>,
    histograms: Map<HistogramHandle>,
    names: Mutex<Names>,
    dropped: &'static Counter,
    /// Slots published after the first publication.
    late: &'static Counter,
    /// Whether the first publication is done.
    published_once: AtomicBool,
    /// When the last re-publication replaced `P.meta`.
    replaced: Mutex<Option<Instant>>,
    /// How many re-publications replaced `P.meta`.
    replacements: AtomicU64,
    warned_cap: AtomicBool,
    warned_kind: AtomicBool,
    warned_static: AtomicBool,
    warned_help: AtomicBool,
    /// The publication, once connected.
    extender: Mutex<Option<Extender>>,
    /// `describe_*!` texts, for the help side file.
    descriptions: Descriptions,
}

/// The Cantal names in use, and the metrics not published yet.
#[derive(Default)]
struct Names {
    /// Every name given to a metric (sorted pairs).
    taken: HashSet<Owned>,
    /// Slots used by keys (the recorder's own counter is not counted).
    slots: usize,
    /// Made, not yet published.
    pending: Vec<&'static dyn Metric>,
}

/// Why a key gets no metric.
enum Refused {
    Cap,
    Taken,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    /// Takes `names` (one per slot) for `key` when they are free and
    /// within the cap, and calls `make` with them, under the names lock, to
    /// make (and leak) the metrics and queue them for publication; counts
    /// the refusal otherwise. A refused key costs no memory.
    fn admit<T>(
        &self,
        key: &Key,
        names: Vec<Owned>,
        make: impl FnOnce(&[Owned], &mut Vec<&'static dyn Metric>) -> T,
    ) -> Option<T> {
        let mut st = lock(&self.names);
        let why = if st.slots.saturating_add(names.len()) > self.max_slots {
            Refused::Cap
        } else if names.iter().any(|n| st.taken.contains(n)) {
            Refused::Taken
        } else {
            let made = make(&names, &mut st.pending);
            st.slots += names.len();
            st.taken.extend(names);
            return Some(made);
        };
        drop(st);
        self.refuse(key, why);
        None
    }

    /// Counts and reports a refused key.
    fn refuse(&self, key: &Key, why: Refused) {
        self.dropped.incr(1);
        match why {
            Refused::Cap => {
                if !self.warned_cap.swap(true, Ordering::Relaxed) {
                    log::warn!(
                        "Cantal metrics recorder: the cap of {} slots is reached; metric {} and \
                         further new keys are not published (counted in \
                         {{\"group\": \"cantal_recorder\", \"metric\": \"dropped\"}})",
                        self.max_slots,
                        key.name(),
                    );
                }
            }
            Refused::Taken => {
                if !self.warned_kind.swap(true, Ordering::Relaxed) {
                    log::warn!(
                        "Cantal metrics recorder: metric {} has the Cantal name of a metric of \
                         another kind (or of a histogram's part); it is not published (counted \
                         in {{\"group\": \"cantal_recorder\", \"metric\": \"dropped\"}})",
                        key.name(),
                    );
                }
            }
        }
    }

    fn counter(&self, key: &Key) -> Option<Arc<CounterHandle>> {
        get_or_make(&self.counters, key, || {
            let pairs = name::sorted(name::pairs(key.name(), labels(key), &[]));
            self.admit(key, vec![pairs], |names, pending| {
                let metric: &'static Counter =
                    Box::leak(Box::new(Counter::with_name(name::leak(&names[0]))));
                pending.push(metric);
                self.descriptions
                    .made(key.name(), metric.name().to_string());
                Arc::new(CounterHandle(metric))
            })
        })
    }

    fn gauge(&self, key: &Key) -> Option<Arc<GaugeHandle>> {
        get_or_make(&self.gauges, key, || {
            let pairs = name::sorted(name::pairs(key.name(), labels(key), &[]));
            self.admit(key, vec![pairs], |names, pending| {
                let metric: &'static Float =
                    Box::leak(Box::new(Float::with_name(name::leak(&names[0]))));
                pending.push(metric);
                self.descriptions
                    .made(key.name(), metric.name().to_string());
                Arc::new(GaugeHandle(metric))
            })
        })
    }

    fn histogram(&self, key: &Key) -> Option<Arc<HistogramHandle>> {
        get_or_make(&self.histograms, key, || self.make_histogram(key))
    }

    fn make_histogram(&self, key: &Key) -> Option<Arc<HistogramHandle>> {
        // `le` stays reserved too: Prometheus gives it to the buckets.
        let base = name::pairs(key.name(), labels(key), &[BUCKET_KEY, HISTOGRAM_KEY, "le"]);
        // The core histogram's shape (docs/histogram.md), with float bounds
        // and a float sum: count, sum, each finite bucket, +Inf.
        let mut names = vec![
            name::part(&base, (HISTOGRAM_KEY, "count".into())),
            name::part(&base, (HISTOGRAM_KEY, "sum".into())),
        ];
        for bound in &self.buckets {
            names.push(name::part(&base, (BUCKET_KEY, name::bound_text(*bound))));
        }
        names.push(name::part(&base, (BUCKET_KEY, INF_BOUND.into())));
        let buckets = &self.buckets;
        self.admit(key, names, |names, pending| {
            let leak_counter = |n: &Owned| -> &'static Counter {
                Box::leak(Box::new(Counter::with_name(name::leak(n))))
            };
            let count = leak_counter(&names[0]);
            let sum: &'static Float = Box::leak(Box::new(Float::with_name(name::leak(&names[1]))));
            let (finite, last) = names[2..].split_at(buckets.len());
            let buckets: Vec<(f64, Counter)> = buckets
                .iter()
                .zip(finite)
                .map(|(bound, n)| (*bound, Counter::with_name(name::leak(n))))
                .collect();
            let buckets: &'static [(f64, Counter)] = Box::leak(buckets.into_boxed_slice());
            let overflow = leak_counter(&last[0]);
            pending.push(count);
            pending.push(sum);
            // Readers show the parts as one histogram, named without the
            // count's pair.
            let shown = cantal_mmap::histogram::exclusive_histogram_name(&count.name().to_string());
            self.descriptions.made(key.name(), shown);
            pending.extend(buckets.iter().map(|(_, c)| c as &'static dyn Metric));
            pending.push(overflow);
            Arc::new(HistogramHandle {
                count,
                sum,
                buckets,
                overflow,
            })
        })
    }

    /// Publishes the pending metrics (and retries a meta file that could
    /// not be written); the number published.
    fn flush(&self, extender: &Extender) -> Result<usize, cantal_mmap::Error> {
        let batch = std::mem::take(&mut lock(&self.names).pending);
        // The help file first: a reader that sees the new meta file finds
        // the help of its new metrics.
        if let Err(e) = self.descriptions.write(extender)
            && !self.warned_help.swap(true, Ordering::Relaxed)
        {
            log::warn!("Cantal metrics recorder: cannot write the help file: {e}");
        }
        match extender.extend(&batch) {
            Ok(left_out) => {
                if !left_out.is_empty() {
                    // Names of the publication's own metrics (`metrics!`
                    // statics): those keep them.
                    self.dropped.incr(left_out.len() as u64);
                    if !self.warned_static.swap(true, Ordering::Relaxed) {
                        log::warn!(
                            "Cantal metrics recorder: {} is published already (a `metrics!` \
                             static?); the recorder's metric of that name is not published \
                             (counted in {{\"group\": \"cantal_recorder\", \"metric\": \
                             \"dropped\"}})",
                            left_out[0].name(),
                        );
                    }
                }
                let published = batch.len() - left_out.len();
                if published > 0 {
                    log::debug!("Cantal metrics recorder: published {published} new slots");
                    self.published(published);
                }
                Ok(published)
            }
            Err(e) => {
                // Not moved into the files: they go again next time. (Moved
                // but not yet in the meta file: the extender rewrites it.)
                let mut st = lock(&self.names);
                let later = std::mem::take(&mut st.pending);
                st.pending = batch.into_iter().filter(|m| !m.is_published()).collect();
                st.pending.extend(later);
                Err(e)
            }
        }
    }
}

impl Inner {
    /// Counts a publication of `slots` new slots: after the first, they
    /// are late and their publication replaced `P.meta`.
    fn published(&self, slots: usize) {
        if self.published_once.swap(true, Ordering::Relaxed) {
            self.late.incr(slots as u64);
            self.replacements.fetch_add(1, Ordering::Relaxed);
            *lock(&self.replaced) = Some(Instant::now());
        }
    }

    /// When the thread may replace `P.meta` again: an interval after the
    /// last replacement (`None`: any time).
    fn next_replacement(&self) -> Option<Instant> {
        lock(&self.replaced).map(|at| at + self.interval)
    }
}

fn labels(key: &Key) -> impl Iterator<Item = (&str, &str)> {
    key.labels().map(|l| (l.key(), l.value()))
}

impl CantalRecorder {
    /// Publishes the recorder's metrics into the publication of
    /// `extender`: those made so far at once, later ones from a thread at
    /// most an [interval](Builder::interval) after they are made. The
    /// thread stops when the publication is dropped (whose drop joins it).
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyConnected`] for a second call; [`Error::Spawn`];
    /// [`Error::Publish`] when the first publication fails (the thread
    /// still retries it every interval while the publication lives).
    pub fn connect(&self, extender: Extender) -> Result<(), Error> {
        {
            let mut connected = lock(&self.inner.extender);
            if let Some(ext) = &*connected {
                return Err(Error::AlreadyConnected { path: ext.path() });
            }
            *connected = Some(extender.clone());
        }
        let first = self.inner.flush(&extender);
        let inner = self.inner.clone();
        let worker_extender = extender.clone();
        let worker = std::thread::Builder::new()
            .name("cantal-recorder".into())
            .spawn(move || run(&inner, &worker_extender));
        match worker {
            Ok(worker) => extender.attach_worker(worker),
            Err(source) => {
                *lock(&self.inner.extender) = None;
                return Err(Error::Spawn {
                    path: extender.path(),
                    source,
                });
            }
        }
        first.map(|_| ()).map_err(Error::Publish)
    }

    /// Publishes the metrics made since the last publication now, instead
    /// of at the next interval; returns how many slots were added (0 when
    /// not connected). This replaces `P.meta` whatever the interval (it is
    /// the program's explicit choice); the thread's next replacement then
    /// waits a whole interval after it.
    ///
    /// # Errors
    ///
    /// [`Error::Publish`] (the metrics are tried again later).
    pub fn flush(&self) -> Result<usize, Error> {
        let extender = lock(&self.inner.extender).clone();
        match extender {
            Some(ext) => self.inner.flush(&ext).map_err(Error::Publish),
            None => Ok(0),
        }
    }

    /// The slots taken by the recorder's metrics (its own `dropped`
    /// counter aside).
    pub fn slots(&self) -> usize {
        lock(&self.inner.names).slots
    }

    /// How many registrations were refused (the cap reached, or a name
    /// taken by a metric of another kind).
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.get()
    }

    /// How many slots were published late: after the recorder's first
    /// publication, each batch in a replacement of `P.meta`. Also published
    /// as the counter `{"group": "cantal_recorder", "metric": "late_keys"}`.
    pub fn late_keys(&self) -> u64 {
        self.inner.late.get()
    }

    /// How many times a re-publication replaced `P.meta` (the first
    /// publication, at [`connect`](Self::connect), not counted). This and
    /// [`late_keys`](Self::late_keys) are counted just after the new meta
    /// is in place: a reader may see new keys a moment before.
    pub fn replacements(&self) -> u64 {
        self.inner.replacements.load(Ordering::Relaxed)
    }
}

/// The re-publication thread: every interval (and never sooner than an
/// interval after the last replacement), until the publication is dropped.
fn run(inner: &Inner, extender: &Extender) {
    let mut failing = false;
    let mut next = Instant::now() + inner.interval;
    loop {
        if extender.wait_closed(next.saturating_duration_since(Instant::now())) {
            return;
        }
        // An explicit flush meanwhile pushes this one back.
        if let Some(due) = inner.next_replacement()
            && due > Instant::now()
        {
            next = due;
            continue;
        }
        next = Instant::now() + inner.interval;
        match inner.flush(extender) {
            Ok(_) => failing = false,
            Err(_) if extender.is_closed() => return,
            Err(e) => {
                if !failing {
                    log::warn!("Cantal metrics recorder: cannot publish new metrics: {e}");
                }
                failing = true;
            }
        }
    }
}

impl metrics::Recorder for CantalRecorder {
    fn describe_counter(&self, name: KeyName, unit: Option<Unit>, text: SharedString) {
        self.inner.descriptions.describe(name.as_str(), unit, &text);
    }

    fn describe_gauge(&self, name: KeyName, unit: Option<Unit>, text: SharedString) {
        self.inner.descriptions.describe(name.as_str(), unit, &text);
    }

    fn describe_histogram(&self, name: KeyName, unit: Option<Unit>, text: SharedString) {
        self.inner.descriptions.describe(name.as_str(), unit, &text);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
        match self.inner.counter(key) {
            Some(h) => metrics::Counter::from_arc(h),
            None => metrics::Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> metrics::Gauge {
        match self.inner.gauge(key) {
            Some(h) => metrics::Gauge::from_arc(h),
            None => metrics::Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
        match self.inner.histogram(key) {
            Some(h) => metrics::Histogram::from_arc(h),
            None => metrics::Histogram::noop(),
        }
    }
}

/// The handle of `key` in `map`; the first time, the one `make` gives
/// (made under the write lock, after looking again: two threads that
/// register one key at once get the same handle).
fn get_or_make<H>(
    map: &Map<H>,
    key: &Key,
    make: impl FnOnce() -> Option<Arc<H>>,
) -> Option<Arc<H>> {
    if let Some(h) = map.read().unwrap_or_else(PoisonError::into_inner).get(key) {
        return Some(h.clone());
    }
    let mut map = map.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(h) = map.get(key) {
        return Some(h.clone());
    }
    let handle = make()?;
    map.insert(key.clone(), handle.clone());
    Some(handle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::with_local_recorder;

    #[test]
    fn the_same_key_is_the_same_metric_and_counts_before_connecting() {
        let r = Builder::new().build();
        with_local_recorder(&r, || {
            metrics::counter!("c", "a" => "1", "b" => "2").increment(2);
            metrics::counter!("c", "b" => "2", "a" => "1").increment(3);
        });
        assert_eq!(r.slots(), 1);
        let h = r.inner.counter(&Key::from_parts(
            "c",
            vec![metrics::Label::new("a", "1"), metrics::Label::new("b", "2")],
        ));
        assert_eq!(h.unwrap().0.get(), 5);
    }

    #[test]
    fn another_kind_with_the_same_name_is_refused() {
        let r = Builder::new().build();
        with_local_recorder(&r, || {
            metrics::counter!("x").increment(1);
            metrics::gauge!("x").set(1.0);
            metrics::histogram!("y").record(1.0);
            // Not a histogram's part (those have a `cantal_histogram` or
            // `cantal_le` pair): a counter of its own.
            metrics::counter!("y_count").increment(1);
        });
        assert_eq!(r.dropped(), 1);
        assert_eq!(r.slots(), 1 + 3 + DEFAULT_BUCKETS.len() + 1);
    }

    #[test]
    fn the_cap_refuses_new_keys_and_keeps_old_ones() {
        let r = Builder::new().max_slots(3).buckets(&[1.0]).build();
        with_local_recorder(&r, || {
            for i in 0..5 {
                metrics::counter!("c", "i" => i.to_string()).increment(1);
            }
            metrics::histogram!("h").record(1.0); // needs 3
            metrics::counter!("c", "i" => "0").increment(1);
        });
        assert_eq!(r.slots(), 3);
        assert_eq!(r.dropped(), 3);
        let key = Key::from_parts("c", vec![metrics::Label::new("i", "0")]);
        assert_eq!(r.inner.counter(&key).unwrap().0.get(), 2);
    }

    #[test]
    fn buckets_are_sorted_and_finite() {
        let b = Builder::new().buckets(&[5.0, f64::NAN, 1.0, 5.0, f64::INFINITY]);
        assert_eq!(b.buckets, [1.0, 5.0]);
        assert_eq!(
            Builder::new().interval(Duration::ZERO).interval,
            MIN_INTERVAL
        );
    }
}
