//! [`TimedRequestTracker`]: a [`RequestTracker`] that also keeps the
//! distribution of request durations in a [`Histogram`].

use crate::clock::{Clock, DefaultClock};
use crate::histogram::Histogram;
use crate::metric::{Metric, Metrics};
use crate::name::Pair;
use crate::request::{Request, RequestTracker};
use core::fmt;
use core::future::Future;

/// The four metrics of a [`RequestTracker`], with the same names, plus a
/// `request_duration` [`Histogram`] of the requests' durations in
/// microseconds (its unit set, so `cantal export` serves
/// `cantal_<group>_request_duration_seconds`, the usual Prometheus name)
/// (default buckets, 1 µs to 67 s), from which readers estimate p50 or
/// p99 latency:
///
/// | slots | name |
/// | --- | --- |
/// | buckets | `{"group": G, "metric": "request_duration", "cantal_le": "<bound>", ...}` |
/// | count | `{"group": G, "metric": "request_duration", "cantal_histogram": "count", ...}` |
/// | sum (µs) | `{"group": G, "metric": "request_duration", "cantal_histogram": "sum", ...}` |
///
/// Replace `RequestTracker::new(...)` by `TimedRequestTracker::new(...)`
/// with the same arguments to get them; a plain [`RequestTracker`] keeps
/// the reference client's four slots. The guard is the same [`Request`];
/// finishing it costs three atomic adds more than with a plain tracker, and
/// no more clock reads.
///
/// For other bucket bounds, put a [`RequestTracker`] and a
/// [`Histogram::with_bounds`] in a [`Metrics`] struct of your own and
/// record durations with a [`Timer`](crate::Timer) yourself.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::{TimedRequestTracker, clock::ManualClock};
///
/// static CLOCK: ManualClock = ManualClock::new(0);
/// static HTTP: TimedRequestTracker<&ManualClock> =
///     TimedRequestTracker::with_clock("http", &[("service", "api")], &CLOCK);
///
/// let request = HTTP.request();
/// CLOCK.advance_ns(1_500_000); // 1.5 ms
/// drop(request);
/// assert_eq!(HTTP.tracker().requests().get(), 1);
/// assert_eq!(HTTP.tracker().total_duration().get(), 1); // whole milliseconds
/// assert_eq!(HTTP.duration().sum(), 1_500); // microseconds
/// let bucket = HTTP.duration().bucket_of(1_500);
/// assert_eq!(HTTP.duration().upper_bound(bucket), Some(1_536));
/// assert_eq!(HTTP.duration().bucket(bucket), 1);
/// ```
pub struct TimedRequestTracker<C = DefaultClock> {
    tracker: RequestTracker<C>,
    duration: Histogram,
}

impl TimedRequestTracker<DefaultClock> {
    /// A tracker for the group `group`, its names completed by `extra`
    /// pairs, measuring with the [`DefaultClock`].
    ///
    /// # Panics
    ///
    /// As [`RequestTracker::new`], and when `extra` has a `cantal_le` or
    /// `cantal_histogram` key.
    pub const fn new(group: &'static str, extra: &'static [Pair]) -> Self {
        Self::with_clock(group, extra, DefaultClock)
    }
}

impl<C: Clock> TimedRequestTracker<C> {
    /// As [`new`](TimedRequestTracker::new), measuring with `clock`.
    ///
    /// # Panics
    ///
    /// As [`new`](TimedRequestTracker::new).
    pub const fn with_clock(group: &'static str, extra: &'static [Pair], clock: C) -> Self {
        TimedRequestTracker {
            tracker: RequestTracker::with_clock(group, extra, clock),
            duration: Histogram::duration(group, extra),
        }
    }

    /// Starts a request; dropping the guard finishes it as
    /// [`RequestTracker::request`]'s does, and also records its duration
    /// in the histogram.
    pub fn request(&self) -> Request<'_, C> {
        self.tracker.start(Some(&self.duration))
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

    /// Awaits `future` as one request, as
    /// [`RequestTracker::track_async`] does.
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

    /// The four metrics of the reference client.
    pub fn tracker(&self) -> &RequestTracker<C> {
        &self.tracker
    }

    /// The durations of finished requests, in microseconds.
    pub fn duration(&self) -> &Histogram {
        &self.duration
    }
}

impl<C: Clock> Metrics for TimedRequestTracker<C> {
    fn for_each<'a>(&'a self, f: &mut dyn FnMut(&'a dyn Metric)) {
        self.tracker.for_each(f);
        self.duration.for_each(f);
    }
}

impl<C> fmt::Debug for TimedRequestTracker<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimedRequestTracker")
            .field("tracker", &self.tracker)
            .field("duration", &self.duration)
            .finish()
    }
}
