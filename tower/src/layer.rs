//! [`RequestTrackerLayer`] and the [`RequestTrackerService`] it makes.

use crate::classify::{Classify, ServerErrors};
use crate::future::{FailOnUnwind, ResponseFuture};
use cantal_core::RequestTracker;
use cantal_core::clock::{Clock, DefaultClock};
use core::fmt;
use core::task::{Context, Poll};
use http::StatusCode;
use tower::{Layer, Service};

/// A [`Layer`] counting every request of the service it wraps with a
/// `&'static` [`RequestTracker`]; see the [crate docs](crate) for what is
/// counted when.
///
/// `K` tells which successful responses are errors: [`ServerErrors`] (5xx)
/// unless changed with [`failure_if`](Self::failure_if) or
/// [`classify`](Self::classify).
///
/// # Examples
///
/// ```
/// use cantal_core::RequestTracker;
/// use cantal_tower::{ErrorsOnly, RequestTrackerLayer};
/// use http::StatusCode;
///
/// static HTTP: RequestTracker = RequestTracker::new("http", &[]);
/// static JOBS: RequestTracker = RequestTracker::new("jobs", &[]);
///
/// // 5xx and 429 are errors:
/// let http = RequestTrackerLayer::new(&HTTP).failure_if(|status: StatusCode| {
///     status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
/// });
/// // A service that is not HTTP: only `Err` is an error.
/// let jobs = RequestTrackerLayer::new(&JOBS).classify(ErrorsOnly);
/// # let _ = (http, jobs);
/// ```
pub struct RequestTrackerLayer<C: 'static = DefaultClock, K = ServerErrors> {
    tracker: &'static RequestTracker<C>,
    classify: K,
}

impl<C: Clock> RequestTrackerLayer<C, ServerErrors> {
    /// A layer counting into `tracker`, a 5xx response being an error.
    pub const fn new(tracker: &'static RequestTracker<C>) -> Self {
        RequestTrackerLayer {
            tracker,
            classify: ServerErrors,
        }
    }
}

impl<C: Clock, K> RequestTrackerLayer<C, K> {
    /// Counts as errors the responses whose status `failure` returns
    /// `true` for (an `Err` still is one), instead of 5xx.
    pub fn failure_if<F>(self, failure: F) -> RequestTrackerLayer<C, F>
    where
        F: Fn(StatusCode) -> bool + Clone,
    {
        self.classify(failure)
    }

    /// Tells the errors among the responses with `classify` (see
    /// [`Classify`]), instead of 5xx.
    pub fn classify<K2>(self, classify: K2) -> RequestTrackerLayer<C, K2> {
        RequestTrackerLayer {
            tracker: self.tracker,
            classify,
        }
    }

    /// The tracker counted into.
    pub fn tracker(&self) -> &'static RequestTracker<C> {
        self.tracker
    }
}

impl<S, C: Clock, K: Clone> Layer<S> for RequestTrackerLayer<C, K> {
    type Service = RequestTrackerService<S, C, K>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestTrackerService {
            inner,
            tracker: self.tracker,
            classify: self.classify.clone(),
        }
    }
}

impl<C, K: Clone> Clone for RequestTrackerLayer<C, K> {
    fn clone(&self) -> Self {
        RequestTrackerLayer {
            tracker: self.tracker,
            classify: self.classify.clone(),
        }
    }
}

impl<C, K: Copy> Copy for RequestTrackerLayer<C, K> {}

impl<C, K: fmt::Debug> fmt::Debug for RequestTrackerLayer<C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestTrackerLayer")
            .field("tracker", self.tracker)
            .field("classify", &self.classify)
            .finish()
    }
}

/// A service counting the requests of `S` with a [`RequestTracker`]; made
/// by [`RequestTrackerLayer`].
///
/// Each [`call`](Service::call) starts a request (`in_progress` +1) and
/// returns a [`ResponseFuture`] that finishes it. Readiness and errors are
/// those of `S`, unchanged.
pub struct RequestTrackerService<S, C: 'static = DefaultClock, K = ServerErrors> {
    inner: S,
    tracker: &'static RequestTracker<C>,
    classify: K,
}

impl<S, C, K> RequestTrackerService<S, C, K> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The tracker counted into.
    pub fn tracker(&self) -> &'static RequestTracker<C> {
        self.tracker
    }
}

impl<S, C, K, R> Service<R> for RequestTrackerService<S, C, K>
where
    S: Service<R>,
    C: Clock,
    K: Classify<S::Response> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, C, K>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let mut tracked = self.tracker.request();
        let watch = FailOnUnwind::new(&mut tracked);
        let inner = self.inner.call(request);
        watch.disarm();
        ResponseFuture::new(inner, tracked, self.classify.clone())
    }
}

impl<S: Clone, C, K: Clone> Clone for RequestTrackerService<S, C, K> {
    fn clone(&self) -> Self {
        RequestTrackerService {
            inner: self.inner.clone(),
            tracker: self.tracker,
            classify: self.classify.clone(),
        }
    }
}

impl<S: fmt::Debug, C, K: fmt::Debug> fmt::Debug for RequestTrackerService<S, C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestTrackerService")
            .field("inner", &self.inner)
            .field("tracker", self.tracker)
            .field("classify", &self.classify)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorsOnly;
    use core::future::{Ready, ready};
    use std::pin::pin;
    use std::task::Waker;

    /// A service answering `Ok(n * 2)` for even `n`, `Err(n)` for odd.
    #[derive(Clone, Debug)]
    struct Double;

    impl Service<u32> for Double {
        type Response = u32;
        type Error = u32;
        type Future = Ready<Result<u32, u32>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), u32>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, n: u32) -> Self::Future {
            ready(if n.is_multiple_of(2) {
                Ok(n * 2)
            } else {
                Err(n)
            })
        }
    }

    fn run<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("a ready future was pending"),
        }
    }

    #[test]
    fn layer_copies_and_the_service_passes_results_through() {
        static T: RequestTracker = RequestTracker::new("unit.layer", &[]);
        let layer = RequestTrackerLayer::new(&T).classify(ErrorsOnly);
        let copy = layer; // `Copy` with a unit classifier
        assert!(core::ptr::eq(layer.tracker(), copy.tracker()));
        let mut service = copy.layer(Double);
        assert!(core::ptr::eq(service.tracker(), &T));
        assert_eq!(run(service.call(4)), Ok(8));
        assert_eq!(run(service.call(3)), Err(3));
        assert_eq!(T.requests().get(), 2);
        assert_eq!(T.errors().get(), 1);
        assert_eq!(T.in_progress().get(), 0);
        assert!(format!("{service:?}").contains("Double"));
        let Double = service.into_inner();
    }
}
