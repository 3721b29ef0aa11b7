//! An axum application whose requests a Cantal `RequestTracker` counts:
//! one `.layer(RequestTrackerLayer::new(&HTTP))` line on the router.
//!
//! ```text
//! cargo run -p cantal-tower --example axum               # 3 seconds
//! cargo run -p cantal-tower --example axum -- --for 60   # or until Ctrl-C
//! ```
//!
//! It publishes `http` `requests`, `total_duration`, `errors` and
//! `in_progress` with `cantal::start()` (set `CANTAL_PATH` to choose the
//! files), serves on 127.0.0.1 (try `curl 127.0.0.1:PORT/slow`) and sends
//! itself a few requests a second, printing the counters twice a second.

#[path = "support/args.rs"]
mod args;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use cantal::RequestTracker;
use cantal_tower::RequestTrackerLayer;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

cantal::metrics! {
    /// The requests the application serves.
    static HTTP: RequestTracker = RequestTracker::new("http", &[("service", "axum-example")]);
}

async fn index() -> &'static str {
    "hello\n"
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(200)).await;
    "finally\n"
}

async fn fail() -> StatusCode {
    StatusCode::SERVICE_UNAVAILABLE // a 5xx: counted in `errors`
}

/// A GET over a connection of its own; the answer is not read further.
async fn request(port: u16, path: &'static str) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    stream.read_to_end(&mut Vec::new()).await?;
    Ok(())
}

fn print_counters(label: &str) {
    println!(
        "{label:>8}  requests {:4}  errors {:3}  total {:6} ms  in progress {}",
        HTTP.requests().get(),
        HTTP.errors().get(),
        HTTP.total_duration().get(),
        HTTP.in_progress().get(),
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let run_for = args::duration("axum")?;
    let publication = cantal::start()?;
    println!("metrics published at {}", publication.path().display());

    let app = Router::new()
        .route("/", get(index))
        .route("/slow", get(slow))
        .route("/fail", get(fail))
        .layer(RequestTrackerLayer::new(&HTTP)); // the one line

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    println!("serving on http://127.0.0.1:{port}/ for {run_for:?} (or until Ctrl-C)");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );

    let deadline = tokio::time::sleep(run_for);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(deadline, ctrl_c);
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let mut tick = 0u32;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                for path in ["/", "/", "/slow", "/fail", "/missing"] {
                    tokio::spawn(request(port, path));
                }
                tick += 1;
                if tick.is_multiple_of(5) {
                    print_counters(&format!("{:.1} s", f64::from(tick) / 10.0));
                }
            }
            () = &mut deadline => break,
            _ = &mut ctrl_c => break,
        }
    }

    let _ = stop.send(()); // waits for the requests in flight
    server.await??;
    print_counters("stopped");
    Ok(())
}
