//! [`ResponseFuture`]: a request's future, holding its tracker guard.

use crate::classify::Classify;
use cantal_core::Request;
use cantal_core::clock::{Clock, DefaultClock};
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// The future of a request through a
    /// [`RequestTrackerService`](crate::RequestTrackerService): the inner
    /// service's future and the tracker's [`Request`] guard.
    ///
    /// The request finishes when the inner future completes (an `Err`, or
    /// a response that `K` calls a failure, counts as an error), when it
    /// panics (an error), or when this future is dropped before that (a
    /// cancelled request: no error, the time until the drop).
    #[must_use = "futures do nothing unless polled; dropping it finishes the request"]
    pub struct ResponseFuture<F, C = DefaultClock, K = crate::ServerErrors>
    where
        C: Clock,
        C: 'static,
    {
        #[pin]
        inner: F,
        request: Option<Request<'static, C>>,
        classify: K,
    }
}

impl<F, C: Clock, K> ResponseFuture<F, C, K> {
    /// Wraps `inner`, the future of the request `request`.
    pub(crate) fn new(inner: F, request: Request<'static, C>, classify: K) -> Self {
        ResponseFuture {
            inner,
            request: Some(request),
            classify,
        }
    }
}

impl<F, C, K, T, E> Future for ResponseFuture<F, C, K>
where
    F: Future<Output = Result<T, E>>,
    C: Clock,
    K: Classify<T>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(request) = this.request.as_mut() else {
            // Finished already: whatever the inner future does when polled
            // again is not ours to count.
            return this.inner.poll(cx);
        };
        let watch = FailOnUnwind::new(request);
        let poll = this.inner.poll(cx);
        let failed = match &poll {
            Poll::Pending => None,
            Poll::Ready(Ok(response)) => Some(this.classify.is_failure(response)),
            Poll::Ready(Err(_)) => Some(true),
        };
        watch.disarm();
        if let Some(failed) = failed
            && let Some(mut request) = this.request.take()
        {
            if failed {
                request.fail();
            }
            // The request ends when its response is ready, not when the
            // caller drops the future.
            drop(request);
        }
        poll
    }
}

impl<F, C: Clock, K> fmt::Debug for ResponseFuture<F, C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

/// Marks a request failed when dropped armed: while the code between
/// [`new`](Self::new) and [`disarm`](Self::disarm) unwinds from a panic.
///
/// The tracker's guard sees a panic by itself only when it is dropped
/// during the unwinding; a future that panics in `poll` is often dropped
/// later, after a `catch_unwind` (tower-http's `CatchPanic`, futures'
/// `catch_unwind`), and must still count an error.
pub(crate) struct FailOnUnwind<'g, 't, C: Clock> {
    request: &'g mut Request<'t, C>,
    armed: bool,
}

impl<'g, 't, C: Clock> FailOnUnwind<'g, 't, C> {
    /// Armed until [`disarm`](Self::disarm).
    #[inline(always)]
    pub(crate) fn new(request: &'g mut Request<'t, C>) -> Self {
        FailOnUnwind {
            request,
            armed: true,
        }
    }

    /// The code it watched returned.
    #[inline(always)]
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl<C: Clock> Drop for FailOnUnwind<'_, '_, C> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.armed {
            self.request.fail();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cantal_core::RequestTracker;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    #[test]
    fn an_armed_watch_fails_the_request_a_disarmed_one_does_not() {
        static T: RequestTracker = RequestTracker::new("unit.watch", &[]);
        let mut request = T.request();
        FailOnUnwind::new(&mut request).disarm();
        assert!(!request.is_failed());
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            let _watch = FailOnUnwind::new(&mut request);
            panic!("inside the watched code");
        }));
        assert!(unwound.is_err());
        // Not dropped during the unwinding, yet marked failed.
        assert!(request.is_failed());
        drop(request);
        assert_eq!((T.requests().get(), T.errors().get()), (1, 1));
    }
}
