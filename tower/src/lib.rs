//! A tower [`Layer`](tower::Layer) that counts the requests of any
//! [`Service`](tower::Service) with a Cantal
//! [`RequestTracker`](cantal_core::RequestTracker): requests finished,
//! their total duration, errors, and requests in progress.
//!
//! - [`RequestTrackerLayer`]: the layer, over a `&'static RequestTracker`;
//!   one line in an axum router or a [`tower::ServiceBuilder`].
//! - [`RequestTrackerService`]: the service it wraps around yours.
//! - [`ResponseFuture`]: the future of a request; it holds the tracker's
//!   request guard, so a request is counted however it ends.
//! - [`Classify`]: which successful responses count as errors:
//!   [`ServerErrors`] (the default: a 5xx status), a closure over the
//!   [`StatusCode`](http::StatusCode) ([`RequestTrackerLayer::failure_if`]),
//!   or [`ErrorsOnly`] for services whose responses are not HTTP.
//!
//! # How requests are counted
//!
//! | the request | `requests` | `errors` | `total_duration` |
//! | --- | --- | --- | --- |
//! | ends with `Ok` and a response the classifier accepts | +1 | | call to completion |
//! | ends with `Ok` and a failure (default: 5xx) | +1 | +1 | call to completion |
//! | ends with `Err` | +1 | +1 | call to completion |
//! | panics in `call` | +1 | +1 | call to the panic |
//! | panics in its future | +1 | +1 | call to the drop of the future (under tokio: the panic) |
//! | its future is dropped first (cancelled, client gone) | +1 | | call to the drop |
//!
//! `in_progress` counts the requests between `call` and their end. The
//! layer takes no lock and allocates nothing: the guard lives inside the
//! pin-projected [`ResponseFuture`].
//!
//! # Example
//!
//! ```
//! use cantal_core::RequestTracker;
//! use cantal_tower::RequestTrackerLayer;
//! use http::{Request, Response, StatusCode};
//! use std::convert::Infallible;
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! static HTTP: RequestTracker = RequestTracker::new("http", &[("service", "api")]);
//!
//! async fn handle(request: Request<()>) -> Result<Response<()>, Infallible> {
//!     let mut response = Response::new(());
//!     if request.uri() != "/" {
//!         *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
//!     }
//!     Ok(response)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let service = RequestTrackerLayer::new(&HTTP).layer(service_fn(handle));
//! service.clone().oneshot(Request::get("/").body(())?).await?;
//! service.oneshot(Request::get("/busy").body(())?).await?;
//!
//! assert_eq!(HTTP.requests().get(), 2);
//! assert_eq!(HTTP.errors().get(), 1); // the 503
//! assert_eq!(HTTP.in_progress().get(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! In an axum application, publish the tracker with `cantal::metrics!` and
//! `cantal::start()`, then add the layer to the router:
//!
//! ```text
//! let app = Router::new().route("/", get(index)).layer(RequestTrackerLayer::new(&HTTP));
//! ```
//!
//! Through the `cantal` facade (feature `tower`) this crate is
//! `cantal::tower`.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![deny(missing_docs, unreachable_pub)]

mod classify;
mod future;
mod layer;

pub use crate::{
    classify::{Classify, ErrorsOnly, ServerErrors},
    future::ResponseFuture,
    layer::{RequestTrackerLayer, RequestTrackerService},
};
