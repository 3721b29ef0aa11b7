//! `RequestTrackerLayer` in an axum router: through `oneshot`, and served
//! by `axum::serve` on 127.0.0.1 to raw HTTP/1.1 clients, some of which
//! go away before their answer, or whose handler panics.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use cantal::RequestTracker;
use cantal_tower::RequestTrackerLayer;
use common::wait_until;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// `(requests, errors, in_progress)`; durations run on the real clock here.
fn counts(t: &RequestTracker) -> (u64, u64, i64) {
    (t.requests().get(), t.errors().get(), t.in_progress().get())
}

async fn panics() -> &'static str {
    panic!("handler bug")
}

fn app(tracker: &'static RequestTracker) -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/teapot", get(|| async { StatusCode::IM_A_TEAPOT }))
        .route("/panic", get(panics))
        .route("/slow", get(std::future::pending::<&'static str>))
        .layer(RequestTrackerLayer::new(tracker))
}

async fn status_of(router: &Router, path: &str) -> StatusCode {
    let request = Request::get(path).body(Body::empty()).unwrap();
    router.clone().oneshot(request).await.unwrap().status()
}

#[tokio::test]
async fn a_router_counts_its_requests() {
    static HTTP: RequestTracker = RequestTracker::new("axum.oneshot", &[]);
    let router = app(&HTTP);
    assert_eq!(status_of(&router, "/").await, StatusCode::OK);
    assert_eq!(
        status_of(&router, "/fail").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(status_of(&router, "/teapot").await, StatusCode::IM_A_TEAPOT);
    assert_eq!(counts(&HTTP), (3, 1, 0));
    // A request that no route takes goes through the layer as well.
    assert_eq!(status_of(&router, "/nowhere").await, StatusCode::NOT_FOUND);
    assert_eq!(counts(&HTTP), (4, 1, 0));
}

/// Serves `app(tracker)` on a free port until the returned sender fires.
async fn serve(
    tracker: &'static RequestTracker,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app(tracker))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (addr, stop, server)
}

/// Sends `GET path` and returns the status line, or `None` when the
/// server closed the connection without an answer.
async fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await; // EOF, or a reset
    let answer = String::from_utf8(answer).unwrap();
    answer.lines().next().map(str::to_owned)
}

#[tokio::test]
async fn served_over_tcp_every_ending_is_counted() {
    static HTTP: RequestTracker = RequestTracker::new("axum.tcp", &[]);
    let (addr, stop, server) = serve(&HTTP).await;

    assert_eq!(
        http_get(addr, "/").await.as_deref(),
        Some("HTTP/1.1 200 OK")
    );
    assert_eq!(
        http_get(addr, "/fail").await.as_deref(),
        Some("HTTP/1.1 500 Internal Server Error")
    );
    assert_eq!(counts(&HTTP), (2, 1, 0));

    // The handler panics: its connection's task dies, with no answer.
    assert_eq!(http_get(addr, "/panic").await, None);
    wait_until("the panic is counted", || counts(&HTTP) == (3, 2, 0)).await;

    // A client gone half way through its request line: no request
    // reached the service, so nothing is counted.
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /fa").await.unwrap();
    drop(half);

    // A client gone while its handler runs: hyper drops the request's
    // future, a cancelled request (no error).
    let mut impatient = TcpStream::connect(addr).await.unwrap();
    impatient
        .write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    wait_until("the slow request is in progress", || {
        HTTP.in_progress().get() == 1
    })
    .await;
    drop(impatient);
    wait_until("the slow request is cancelled", || {
        counts(&HTTP) == (4, 2, 0)
    })
    .await;

    assert_eq!(
        http_get(addr, "/").await.as_deref(),
        Some("HTTP/1.1 200 OK")
    );
    assert_eq!(counts(&HTTP), (5, 2, 0));
    stop.send(()).unwrap();
    server.await.unwrap();
}
