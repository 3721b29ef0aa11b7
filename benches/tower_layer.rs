//! A request through `cantal_tower::RequestTrackerLayer` beside the same
//! request through the bare service, in one group (`tower_layer`) so that
//! the ratio comes from one run.
//!
//! `cargo bench -p cantal-benches --bench tower_layer`.
//!
//! The services answer with a ready future, polled once with a no-op
//! waker (after `poll_ready`, as a caller would): what is measured is the
//! layer (a request guard: two clock reads and four atomic updates, and
//! the classification), not an executor. `layer, manual clock` takes the
//! clock reads out; `guard only` is `RequestTracker::request()` and its
//! drop without any service.

use cantal::clock::ManualClock;
use cantal::{Collection, Fixed, RequestTracker};
use cantal_static::StaticBuffer;
use cantal_tower::{ErrorsOnly, RequestTrackerLayer};
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use std::convert::Infallible;
use std::future::{Future, poll_fn, ready};
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use tower::{Layer, Service, service_fn};

static JOBS: RequestTracker = RequestTracker::new("bench.jobs", &[]);
static HTTP: RequestTracker = RequestTracker::new("bench.http", &[]);
static MANUAL: ManualClock = ManualClock::new(1_700_000_000_000);
static JOBS_MANUAL: RequestTracker<&ManualClock> =
    RequestTracker::with_clock("bench.jobs_manual", &[], &MANUAL);

static BUFFER: StaticBuffer<512> = StaticBuffer::new();

/// Publishes the trackers, so that they count in their slots (the fast
/// path of a running program), not in their inline storage.
fn start() {
    let mut metrics: Collection<Fixed<16>> = Collection::fixed();
    metrics.register(&JOBS).unwrap();
    metrics.register(&HTTP).unwrap();
    metrics.register(&JOBS_MANUAL).unwrap();
    let active = metrics.start(BUFFER.claim().unwrap()).unwrap();
    std::mem::forget(active);
}

/// Polls a future that must be ready at once.
#[inline(always)]
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the bench services are always ready"),
    }
}

/// One request as a caller makes it: `poll_ready`, `call`, the future.
#[inline(always)]
fn request<S: Service<R>, R>(service: &mut S, request: R) -> Result<S::Response, S::Error> {
    now(poll_fn(|cx| service.poll_ready(cx)))?;
    now(service.call(request))
}

fn tower_layer(c: &mut Criterion) {
    start();
    let plus_one = service_fn(|n: u64| ready(Ok::<u64, Infallible>(n + 1)));
    let ok = service_fn(|_: Request<()>| ready(Ok::<_, Infallible>(Response::new(()))));

    let mut g = c.benchmark_group("tower_layer");
    let mut bare = plus_one;
    g.bench_function("u64: bare service", |b| {
        b.iter(|| request(&mut bare, black_box(1)))
    });
    let mut layered = RequestTrackerLayer::new(&JOBS)
        .classify(ErrorsOnly)
        .layer(plus_one);
    g.bench_function("u64: layer", |b| {
        b.iter(|| request(&mut layered, black_box(1)))
    });
    let mut manual = RequestTrackerLayer::new(&JOBS_MANUAL)
        .classify(ErrorsOnly)
        .layer(plus_one);
    g.bench_function("u64: layer, manual clock", |b| {
        b.iter(|| request(&mut manual, black_box(1)))
    });
    g.bench_function("guard only: request() + drop", |b| {
        b.iter(|| drop(black_box(JOBS.request())))
    });
    g.bench_function("guard only, manual clock", |b| {
        b.iter(|| drop(black_box(JOBS_MANUAL.request())))
    });

    let mut bare = ok;
    g.bench_function("http: bare service", |b| {
        b.iter(|| request(&mut bare, black_box(Request::new(()))))
    });
    let mut layered = RequestTrackerLayer::new(&HTTP).layer(ok);
    g.bench_function("http: layer (5xx check)", |b| {
        b.iter(|| request(&mut layered, black_box(Request::new(()))))
    });
    g.finish();

    // The layer counted every request it served, and nothing is left in
    // progress: the figures above measured real work.
    assert!(JOBS.requests().get() > 0 && HTTP.requests().get() > 0);
    assert_eq!(JOBS.in_progress().get() + HTTP.in_progress().get(), 0);
    assert_eq!(JOBS.errors().get() + HTTP.errors().get(), 0);
}

criterion_group!(benches, tower_layer);
criterion_main!(benches);
