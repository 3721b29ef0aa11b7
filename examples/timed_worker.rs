//! The worker of `examples/worker.rs` with a `TimedFork`: besides the
//! fork's counters, each branch's durations go into a histogram (µs), from
//! which readers estimate percentiles (`cantal read` and `watch` show
//! p50/p90/p99, `cantal export` serves `cantal_branch_duration_seconds`).
//!
//! ```text
//! cargo run --example timed_worker
//! ```
//!
//! The worker runs 40 jobs, then the program prints, for each branch, what
//! the fork counted and the bucket its median and 99th percentile fall in.

use cantal::{Branch, Collection, Fixed, Histogram, TimedFork};
use cantal_static::StaticBuffer;
use std::thread;
use std::time::Duration;

const BRANCHES: [&str; 3] = ["app", "redis", "sql"];
const APP: Branch<3> = Branch::named(&BRANCHES, "app");
const REDIS: Branch<3> = Branch::named(&BRANCHES, "redis");
const SQL: Branch<3> = Branch::named(&BRANCHES, "sql");

/// One fork per worker thread: a fork follows one job at a time.
static JOBS: TimedFork<3> = TimedFork::new(&BRANCHES, "worker.job", &[("worker", "1")]);

/// The upper bound (µs) of the bucket holding the `q` quantile.
fn quantile_bound(h: &Histogram, q: f64) -> String {
    let rank = (q * h.count() as f64).ceil() as u64;
    let mut seen = 0;
    for bucket in 0..cantal::DEFAULT_BUCKETS {
        seen += h.bucket(bucket);
        if seen >= rank.max(1) {
            return h
                .upper_bound(bucket)
                .map_or("+Inf".into(), |b| b.to_string());
        }
    }
    "-".into()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Published explicitly into a buffer leaked for the rest of the
    // program; a real service calls `cantal::start()` instead.
    let buffer: &'static StaticBuffer<2048> = Box::leak(Box::new(StaticBuffer::new()));
    let mut metrics: Collection<Fixed<256>> = Collection::fixed();
    metrics.register(&JOBS)?;
    let active = metrics.start(buffer.claim().ok_or("claimed already")?)?;
    println!(
        "{} slots, {} bytes of values",
        active.metrics().count(),
        active.layout().size()
    );

    for job in 0..40u64 {
        let mut ctx = JOBS.context();
        ctx.enter(APP);
        thread::sleep(Duration::from_millis(1));
        ctx.enter(REDIS);
        thread::sleep(Duration::from_micros(500));
        if job.is_multiple_of(4) {
            // A cache miss: ask the database, then update the cache.
            ctx.enter(SQL);
            thread::sleep(Duration::from_millis(3));
            ctx.enter(REDIS);
            thread::sleep(Duration::from_micros(500));
        }
        ctx.enter(APP);
    }

    let fork = JOBS.fork();
    for branch in fork.branches() {
        let h = JOBS.duration(branch);
        println!(
            "{:6} left {:3} times, {:4} ms; mean {:5} µs, p50 <= {} µs, p99 <= {} µs",
            fork.branch_name(branch),
            fork.count(branch).get(),
            fork.duration(branch).get(),
            h.sum() / h.count().max(1),
            quantile_bound(h, 0.5),
            quantile_bound(h, 0.99),
        );
    }
    Ok(())
}
