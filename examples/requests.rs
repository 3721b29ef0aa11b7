//! An HTTP-like server loop measured with `RequestTracker`s: requests
//! served, the SQL queries they make, errors, time spent, requests in
//! progress.
//!
//! ```text
//! cargo run --example requests
//! ```
//!
//! Four threads serve 50 requests each, then the program prints the meta
//! text the Cantal agent would read and the values it counted.

use cantal::{Collection, Fixed, RequestTracker};
use cantal_static::StaticBuffer;
use std::thread;
use std::time::Duration;

/// Incoming requests.
static HTTP: RequestTracker = RequestTracker::new("http", &[("service", "example")]);
/// The SQL queries made while serving them.
static SQL: RequestTracker = RequestTracker::new("http.sql", &[("service", "example")]);

/// Where the values live; a real service publishes into a file with
/// `cantal::start()` instead.
static BUFFER: StaticBuffer<128> = StaticBuffer::new();

/// A fake database: every seventh query fails.
fn query(id: u32) -> Result<String, &'static str> {
    thread::sleep(Duration::from_micros(300));
    if id.is_multiple_of(7) {
        Err("deadlock detected")
    } else {
        Ok(format!("row {id}"))
    }
}

/// Serves one request and returns its status.
fn serve(id: u32) -> u16 {
    let mut request = HTTP.request();
    thread::sleep(Duration::from_micros(200));
    let status = if id.is_multiple_of(10) {
        404 // no query for a missing page
    } else {
        match SQL.track(|| query(id)) {
            Ok(_row) => 200,
            Err(_) => 500,
        }
    };
    if status != 200 {
        request.fail();
    }
    status
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut metrics: Collection<Fixed<8>> = Collection::fixed();
    metrics.register(&HTTP)?;
    metrics.register(&SQL)?;
    let region = BUFFER.claim().ok_or("the buffer is claimed already")?;
    let active = metrics.start(region)?;

    let workers: Vec<_> = (0..4)
        .map(|worker| {
            thread::spawn(move || {
                (0..50)
                    .map(|i| serve(worker * 50 + i + 1))
                    .filter(|status| *status == 200)
                    .count()
            })
        })
        .collect();
    let mut ok = 0;
    for worker in workers {
        ok += worker.join().map_err(|_| "a worker panicked")?;
    }

    println!("meta:\n{}\n", active.meta());
    for (label, t) in [("http", &HTTP), ("http.sql", &SQL)] {
        let requests = t.requests().get();
        println!(
            "{label:9} requests {requests:4}  errors {:3}  total {:4} ms  avg {:.2} ms  in progress {}",
            t.errors().get(),
            t.total_duration().get(),
            t.total_duration().get() as f64 / requests.max(1) as f64,
            t.in_progress().get(),
        );
    }
    println!("{ok} requests answered 200");
    Ok(())
}
