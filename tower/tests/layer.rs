//! `RequestTrackerLayer` over hand-written services: exact counters for
//! every way a request ends, durations on a `ManualClock`.

use cantal::RequestTracker;
use cantal::clock::ManualClock;
use cantal_tower::{Classify, ErrorsOnly, RequestTrackerLayer};
use http::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::future::{Future, poll_fn, ready};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use tower::{Layer, Service, ServiceExt, service_fn};

type Tracker = RequestTracker<&'static ManualClock>;

/// `(requests, errors, total_duration, in_progress)`.
fn counts(t: &Tracker) -> (u64, u64, u64, i64) {
    (
        t.requests().get(),
        t.errors().get(),
        t.total_duration().get(),
        t.in_progress().get(),
    )
}

fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls a future that is ready at once.
fn now<F: Future>(future: F) -> F::Output {
    match poll_once(pin!(future)) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future was pending"),
    }
}

fn status(code: u16) -> Response<()> {
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::from_u16(code).unwrap();
    response
}

/// A service answering the status in the request's path (`/503`).
fn by_path(request: Request<()>) -> std::future::Ready<Result<Response<()>, Infallible>> {
    let code = request.uri().path()[1..].parse().unwrap();
    ready(Ok(status(code)))
}

fn get(path: &str) -> Request<()> {
    Request::get(path).body(()).unwrap()
}

#[test]
fn a_success_counts_one_request_and_its_duration_until_ready() {
    static CLOCK: ManualClock = ManualClock::new(0);
    static T: Tracker = RequestTracker::with_clock("t.success", &[], &CLOCK);
    let open = Arc::new(AtomicBool::new(false));
    let gate = open.clone();
    let mut service = RequestTrackerLayer::new(&T).layer(service_fn(move |_: Request<()>| {
        let gate = gate.clone();
        poll_fn(move |_| {
            if gate.load(Ordering::Relaxed) {
                Poll::Ready(Ok::<_, Infallible>(status(200)))
            } else {
                Poll::Pending
            }
        })
    }));

    let mut future = Box::pin(service.call(get("/")));
    assert_eq!(counts(&T), (0, 0, 0, 1)); // in progress from `call`
    assert!(poll_once(future.as_mut()).is_pending());
    CLOCK.advance_ms(120);
    assert_eq!(counts(&T), (0, 0, 0, 1));
    open.store(true, Ordering::Relaxed);
    let Poll::Ready(Ok(response)) = poll_once(future.as_mut()) else {
        panic!("not ready");
    };
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(counts(&T), (1, 0, 120, 0));
    // Finished when ready: time after that is not the request's.
    CLOCK.advance_ms(1000);
    drop(future);
    assert_eq!(counts(&T), (1, 0, 120, 0));
}

#[test]
fn an_err_is_an_error_and_passes_through() {
    static CLOCK: ManualClock = ManualClock::new(0);
    static T: Tracker = RequestTracker::with_clock("t.err", &[], &CLOCK);
    let service = RequestTrackerLayer::new(&T).layer(service_fn(|_: Request<()>| {
        CLOCK.advance_ms(9);
        ready(Err::<Response<()>, _>("refused"))
    }));
    assert_eq!(
        now(service.clone().oneshot(get("/"))).unwrap_err(),
        "refused"
    );
    assert_eq!(now(service.oneshot(get("/"))).unwrap_err(), "refused");
    assert_eq!(counts(&T), (2, 2, 18, 0));
}

#[test]
fn by_default_5xx_are_errors_and_4xx_are_not() {
    static CLOCK: ManualClock = ManualClock::new(0);
    static T: Tracker = RequestTracker::with_clock("t.5xx", &[], &CLOCK);
    let service = RequestTrackerLayer::new(&T).layer(service_fn(by_path));
    let mut seen = Vec::new();
    for code in [200, 204, 301, 404, 429, 500, 503, 599] {
        let response = now(service.clone().oneshot(get(&format!("/{code}")))).unwrap();
        seen.push(response.status().as_u16());
    }
    assert_eq!(seen, [200, 204, 301, 404, 429, 500, 503, 599]);
    assert_eq!(counts(&T), (8, 3, 0, 0));
}

#[test]
fn a_predicate_replaces_the_default() {
    static CLOCK: ManualClock = ManualClock::new(0);
    static ANY: Tracker = RequestTracker::with_clock("t.pred.any", &[], &CLOCK);
    static CONFLICTS: Tracker = RequestTracker::with_clock("t.pred.409", &[], &CLOCK);
    let any = RequestTrackerLayer::new(&ANY)
        .failure_if(|s: StatusCode| s.is_client_error() || s.is_server_error())
        .layer(service_fn(by_path));
    fn conflict(status: StatusCode) -> bool {
        status == StatusCode::CONFLICT
    }
    let conflicts = RequestTrackerLayer::new(&CONFLICTS)
        .failure_if(conflict)
        .layer(service_fn(by_path));
    for code in [200, 404, 409, 429, 500] {
        now(any.clone().oneshot(get(&format!("/{code}")))).unwrap();
        now(conflicts.clone().oneshot(get(&format!("/{code}")))).unwrap();
    }
    assert_eq!(counts(&ANY), (5, 4, 0, 0));
    // Only the 409: the 500 is not an error under this predicate.
    assert_eq!(counts(&CONFLICTS), (5, 1, 0, 0));
}

#[test]
fn a_classifier_for_responses_that_are_not_http() {
    static CLOCK: ManualClock = ManualClock::new(0);
    static ONLY: Tracker = RequestTracker::with_clock("t.only", &[], &CLOCK);
    static ODD: Tracker = RequestTracker::with_clock("t.odd", &[], &CLOCK);

    #[derive(Clone, Copy)]
    struct Odd;
    impl Classify<u32> for Odd {
        fn is_failure(&self, response: &u32) -> bool {
            response % 2 == 1
        }
    }

    let halve = service_fn(|n: u32| ready(if n == 0 { Err("zero") } else { Ok(n / 2) }));
    let only = RequestTrackerLayer::new(&ONLY)
        .classify(ErrorsOnly)
        .layer(halve);
    let odd = RequestTrackerLayer::new(&ODD).classify(Odd).layer(halve);
    // 0 is an `Err`; 6 / 2 = 3 is odd.
    for (n, expected) in [(0, Err("zero")), (4, Ok(2)), (6, Ok(3)), (8, Ok(4))] {
        assert_eq!(now(only.clone().oneshot(n)), expected);
        assert_eq!(now(odd.clone().oneshot(n)), expected);
    }
    assert_eq!(counts(&ONLY), (4, 1, 0, 0));
    assert_eq!(counts(&ODD), (4, 2, 0, 0));
}

/// A service that panics in `call` itself, before making a future.
#[derive(Clone)]
struct PanicsInCall;

impl Service<Request<()>> for PanicsInCall {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<()>, Infallible>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: Request<()>) -> Self::Future {
        PANIC_CLOCK.advance_ms(7);
        panic!("handler bug in call");
    }
}

static PANIC_CLOCK: ManualClock = ManualClock::new(0);

#[test]
fn a_panic_in_call_is_an_error() {
    static T: Tracker = RequestTracker::with_clock("t.panic.call", &[], &PANIC_CLOCK);
    let mut service = RequestTrackerLayer::new(&T).layer(PanicsInCall);
    let unwound = catch_unwind(AssertUnwindSafe(|| service.call(get("/"))));
    assert!(unwound.is_err());
    assert_eq!(counts(&T), (1, 1, 7, 0));
}

/// A future that is pending once, then panics.
fn panics_on_second_poll(
    clock: &'static ManualClock,
) -> impl Future<Output = Result<Response<()>, Infallible>> {
    let mut polls = 0;
    poll_fn(move |_| {
        polls += 1;
        if polls == 1 {
            return Poll::Pending;
        }
        clock.advance_ms(5);
        panic!("handler bug in the future");
    })
}

#[test]
fn a_future_panicking_and_dropped_after_the_unwinding_is_an_error() {
    // As behind a `catch_unwind` (tower-http's `CatchPanic`): the future is
    // dropped later, when nothing is panicking any more.
    static CLOCK: ManualClock = ManualClock::new(0);
    static T: Tracker = RequestTracker::with_clock("t.panic.later", &[], &CLOCK);
    let mut service = RequestTrackerLayer::new(&T)
        .layer(service_fn(|_: Request<()>| panics_on_second_poll(&CLOCK)));
    let mut future = Box::pin(service.call(get("/")));
    assert!(poll_once(future.as_mut()).is_pending());
    let unwound = catch_unwind(AssertUnwindSafe(|| poll_once(future.as_mut())));
    assert!(unwound.is_err());
    assert_eq!(counts(&T), (0, 0, 0, 1)); // still held by the future
    CLOCK.advance_ms(100);
    drop(future);
    assert_eq!(counts(&T), (1, 1, 105, 0));
}

#[tokio::test]
async fn a_future_panicking_in_a_task_is_one_error() {
    // tokio drops a panicked task's future during the unwinding: the
    // panic must be counted once, not twice.
    static CLOCK: ManualClock = ManualClock::new(0);
    static T: Tracker = RequestTracker::with_clock("t.panic.task", &[], &CLOCK);
    let service = RequestTrackerLayer::new(&T).layer(service_fn(|_: Request<()>| {
        let mut polls = 0;
        poll_fn(move |cx| -> Poll<Result<Response<()>, Infallible>> {
            polls += 1;
            if polls == 1 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            panic!("handler bug in a task");
        })
    }));
    let outcome = tokio::spawn(service.oneshot(get("/"))).await;
    assert!(outcome.unwrap_err().is_panic());
    assert_eq!(counts(&T), (1, 1, 0, 0));
}

#[test]
fn a_cancelled_request_counts_its_time_and_no_error() {
    static CLOCK: ManualClock = ManualClock::new(0);
    static T: Tracker = RequestTracker::with_clock("t.cancel", &[], &CLOCK);
    let mut service = RequestTrackerLayer::new(&T).layer(service_fn(|_: Request<()>| {
        std::future::pending::<Result<Response<()>, Infallible>>()
    }));

    let mut future = Box::pin(service.call(get("/")));
    assert!(poll_once(future.as_mut()).is_pending());
    CLOCK.advance_ms(40);
    assert_eq!(counts(&T), (0, 0, 0, 1));
    drop(future); // the client went away
    assert_eq!(counts(&T), (1, 0, 40, 0));

    // Never polled at all: still a request, started at `call`.
    let future = service.call(get("/"));
    CLOCK.advance_ms(3);
    assert_eq!(counts(&T), (1, 0, 40, 1));
    drop(future);
    assert_eq!(counts(&T), (2, 0, 43, 0));
}

#[tokio::test]
async fn an_aborted_task_is_a_cancelled_request() {
    static CLOCK: ManualClock = ManualClock::new(0);
    static T: Tracker = RequestTracker::with_clock("t.abort", &[], &CLOCK);
    let (started, is_started) = tokio::sync::oneshot::channel::<()>();
    let mut started = Some(started);
    let service = RequestTrackerLayer::new(&T).layer(service_fn(move |_: Request<()>| {
        let _ = started.take().map(|s| s.send(()));
        std::future::pending::<Result<Response<()>, Infallible>>()
    }));
    let task = tokio::spawn(service.oneshot(get("/")));
    is_started.await.unwrap(); // the request is in the service
    assert_eq!(counts(&T), (0, 0, 0, 1));
    CLOCK.advance_ms(15);
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(counts(&T), (1, 0, 15, 0));
}
