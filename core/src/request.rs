//! [`RequestTracker`]: requests, their total duration, errors and those in
//! progress, as the reference client's `RequestTracker` publishes them.

use crate::clock::{Clock, DefaultClock};
use crate::counter::Counter;
use crate::histogram::{Histogram, elapsed_us};
use crate::level::Integer;
use crate::metric::{Metric, Metrics, Parts, Whole};
use crate::name::{Name, Pair};
use core::fmt;
use core::future::Future;

/// Four metrics that follow requests, incoming (served) or outgoing (made):
///
/// | metric | slot | name |
/// | --- | --- | --- |
/// | [`requests`](Self::requests) | counter | `{"group": G, "metric": "requests", ...}` |
/// | [`total_duration`](Self::total_duration) | counter, milliseconds | `{"group": G, "metric": "total_duration", ...}` |
/// | [`errors`](Self::errors) | counter | `{"group": G, "metric": "errors", ...}` |
/// | [`in_progress`](Self::in_progress) | level signed | `{"group": G, "metric": "in_progress", ...}` |
///
/// where `...` are the `extra` pairs; exactly the names of the reference
/// client's `RequestTracker(G, **extra)`. Register the tracker in a
/// collection as one value (it implements [`Metrics`]).
///
/// [`request`](Self::request) returns a guard that counts the request in
/// progress until it is dropped; the duration is measured on the clock `C`
/// (the monotonic clock of [`DefaultClock`] unless you give another, see
/// [`with_clock`](Self::with_clock)).
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::RequestTracker;
///
/// static HTTP: RequestTracker = RequestTracker::new("http", &[("service", "api")]);
///
/// fn serve(path: &str) -> u16 {
///     let mut request = HTTP.request();
///     let status = if path == "/" { 200 } else { 404 };
///     if status != 200 {
///         request.fail(); // counted in `errors` when the guard drops
///     }
///     status
/// }
///
/// serve("/");
/// serve("/missing");
/// let parsed: Result<u32, _> = HTTP.track(|| "12".parse::<u32>());
/// assert_eq!(parsed, Ok(12));
/// assert_eq!(HTTP.requests().get(), 3);
/// assert_eq!(HTTP.errors().get(), 1);
/// assert_eq!(HTTP.in_progress().get(), 0);
/// ```
///
/// A key of the four names cannot be given again in `extra`:
///
/// ```compile_fail
/// # extern crate cantal_core as cantal;
/// use cantal::RequestTracker;
///
/// static BAD: RequestTracker = RequestTracker::new("http", &[("metric", "x")]);
/// drop(BAD.request());
/// ```
pub struct RequestTracker<C = DefaultClock> {
    parts: TrackerParts,
    clock: C,
}

/// The four metrics, each named by its `metric` pair alone, and the pairs
/// they share.
struct TrackerParts {
    group: &'static str,
    extra: &'static [Pair],
    requests: Counter,
    total_duration: Counter,
    errors: Counter,
    in_progress: Integer,
}

/// The `metric` pair of each part, in the order of [`TrackerParts::part`].
const METRIC: [&[Pair]; 4] = [
    &[("metric", "requests")],
    &[("metric", "total_duration")],
    &[("metric", "errors")],
    &[("metric", "in_progress")],
];

/// `{"group": group, "metric": M, ...extra}`.
const fn whole_name(group: &'static str, extra: &'static [Pair], metric: &'static [Pair]) -> Name {
    Name::new(extra).with_pairs(metric).with("group", group)
}

impl Parts for TrackerParts {
    fn part(&self, index: usize) -> &dyn Metric {
        match index {
            0 => &self.requests,
            1 => &self.total_duration,
            2 => &self.errors,
            _ => &self.in_progress,
        }
    }
    fn part_name(&self, index: usize) -> Name {
        whole_name(self.group, self.extra, METRIC[index.min(3)])
    }
}

impl RequestTracker<DefaultClock> {
    /// A tracker for the group `group`, its names completed by `extra`
    /// pairs, measuring with the [`DefaultClock`].
    ///
    /// # Panics
    ///
    /// When `extra` has the key `group` or `metric`, or a key twice; in a
    /// `const` or `static` initializer this is a compile-time error.
    pub const fn new(group: &'static str, extra: &'static [Pair]) -> Self {
        Self::with_clock(group, extra, DefaultClock)
    }
}

impl<C: Clock> RequestTracker<C> {
    /// As [`new`](RequestTracker::new), measuring durations with `clock`:
    /// a firmware timer, or a [`ManualClock`](crate::clock::ManualClock)
    /// in tests (`&'static ManualClock` is a [`Clock`] too).
    ///
    /// # Panics
    ///
    /// As [`new`](RequestTracker::new).
    pub const fn with_clock(group: &'static str, extra: &'static [Pair], clock: C) -> Self {
        // The four names differ in the `metric` value alone: composing one
        // checks the keys of all.
        let _ = whole_name(group, extra, METRIC[0]);
        RequestTracker {
            parts: TrackerParts {
                group,
                extra,
                requests: Counter::part(METRIC[0]),
                total_duration: Counter::part(METRIC[1]),
                errors: Counter::part(METRIC[2]),
                in_progress: Integer::part(METRIC[3]),
            },
            clock,
        }
    }

    /// Starts a request: `in_progress` goes up by one now. Dropping the
    /// returned guard finishes it: `requests` +1, `total_duration` + the
    /// milliseconds elapsed, `in_progress` -1, and `errors` +1 when it was
    /// marked failed ([`Request::fail`]) or is dropped by a panic (with
    /// `std`; see [`Request`]).
    pub fn request(&self) -> Request<'_, C> {
        self.start(None)
    }

    /// Starts a request whose duration `durations` also records (in
    /// microseconds) when it finishes.
    pub(crate) fn start<'t>(&'t self, durations: Option<&'t Histogram>) -> Request<'t, C> {
        let start_ns = self.clock.monotonic_ns();
        self.parts.in_progress.incr(1);
        Request {
            tracker: self,
            durations,
            start_ns,
            failed: false,
        }
    }

    /// Runs `f` as one request, counting an `Err` (or a panic, with `std`)
    /// as an error.
    ///
    /// # Errors
    ///
    /// Those of `f`, passed on.
    pub fn track<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        self.request().run(f)
    }

    /// Awaits `future` as one request, counting an `Err` (or a panic, with
    /// `std`) as an error.
    ///
    /// The request starts when the returned future is first polled. A
    /// future dropped before it completes (cancelled) counts as a finished
    /// request without error, with the time it ran.
    ///
    /// # Errors
    ///
    /// Those of `future`, passed on.
    pub async fn track_async<T, E, F>(&self, future: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.request().run_async(future).await
    }

    /// The `requests` counter: finished requests.
    pub fn requests(&self) -> &Counter {
        &self.parts.requests
    }

    /// The `total_duration` counter: milliseconds spent in finished
    /// requests (divide by `requests` for the average).
    pub fn total_duration(&self) -> &Counter {
        &self.parts.total_duration
    }

    /// The `errors` counter: failed requests. Count errors of your own
    /// with `errors().incr(1)`, as with the reference client.
    pub fn errors(&self) -> &Counter {
        &self.parts.errors
    }

    /// The `in_progress` gauge: requests started and not finished.
    pub fn in_progress(&self) -> &Integer {
        &self.parts.in_progress
    }

    /// The clock durations are measured with.
    pub fn clock(&self) -> &C {
        &self.clock
    }
}

impl<C: Clock> Metrics for RequestTracker<C> {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        f(Whole::<_, 0>::of(&self.parts));
        f(Whole::<_, 1>::of(&self.parts));
        f(Whole::<_, 2>::of(&self.parts));
        f(Whole::<_, 3>::of(&self.parts));
    }
}

impl<C> fmt::Debug for RequestTracker<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestTracker")
            .field("requests", &self.parts.requests.get())
            .field("total_duration", &self.parts.total_duration.get())
            .field("errors", &self.parts.errors.get())
            .field("in_progress", &self.parts.in_progress.get())
            .finish_non_exhaustive()
    }
}

/// A request in progress; returned by [`RequestTracker::request`] and
/// [`TimedRequestTracker::request`](crate::TimedRequestTracker::request).
/// Dropping it finishes the request.
///
/// It is `Send` (when the clock is `Sync`): a request may finish on
/// another thread than it started on.
///
/// A guard dropped while its thread panics counts an error. That needs
/// `std` (`std::thread::panicking`); without `std` a panic is not detected
/// (firmware usually aborts on panic anyway): call [`fail`](Self::fail) on
/// the error paths you know.
#[must_use = "the request finishes when the guard is dropped"]
pub struct Request<'t, C: Clock = DefaultClock> {
    tracker: &'t RequestTracker<C>,
    /// The duration histogram of a [`TimedRequestTracker`](crate::TimedRequestTracker).
    durations: Option<&'t Histogram>,
    start_ns: u64,
    failed: bool,
}

impl<C: Clock> Request<'_, C> {
    /// Marks the request failed (a 5xx status, a refused query...): it
    /// counts in `errors` when it finishes.
    pub fn fail(&mut self) {
        self.failed = true;
    }

    /// Whether [`fail`](Self::fail) was called.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// Milliseconds since the request started, as it would be counted now.
    pub fn elapsed_ms(&self) -> u64 {
        elapsed_ms(self.start_ns, self.tracker.clock.monotonic_ns())
    }

    /// Runs `f` as this request, marking it failed on an `Err`.
    pub(crate) fn run<T, E>(mut self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let result = f();
        if result.is_err() {
            self.fail();
        }
        result
    }

    /// Awaits `future` as this request, marking it failed on an `Err`.
    pub(crate) async fn run_async<T, E, F>(mut self, future: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let result = future.await;
        if result.is_err() {
            self.fail();
        }
        result
    }
}

/// Whole milliseconds from `start_ns` to `now_ns`: the difference of whole
/// milliseconds since the clock's origin, so that consecutive durations add
/// up to the total time (see [`Clock::monotonic_ms`]).
fn elapsed_ms(start_ns: u64, now_ns: u64) -> u64 {
    (now_ns / 1_000_000).saturating_sub(start_ns / 1_000_000)
}

impl<C: Clock> Drop for Request<'_, C> {
    fn drop(&mut self) {
        let tracker = self.tracker;
        let now_ns = tracker.clock.monotonic_ns();
        tracker.parts.in_progress.decr(1);
        tracker.parts.requests.incr(1);
        tracker
            .parts
            .total_duration
            .incr(elapsed_ms(self.start_ns, now_ns));
        if let Some(durations) = self.durations {
            durations.record(elapsed_us(self.start_ns, now_ns));
        }
        if self.failed || panicking() {
            tracker.parts.errors.incr(1);
        }
    }
}

impl<C: Clock> fmt::Debug for Request<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("start_ns", &self.start_ns)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "std")]
fn panicking() -> bool {
    extern crate std;
    std::thread::panicking()
}

#[cfg(not(feature = "std"))]
fn panicking() -> bool {
    false
}
