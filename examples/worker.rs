//! A worker whose jobs go through branches of a `Fork`: its own code,
//! Redis, SQL. The fork's state shows where the worker is now; the
//! counters where its time went.
//!
//! ```text
//! cargo run --example worker
//! ```
//!
//! The worker runs 40 jobs, then the program prints the meta text, the
//! values bytes the Cantal agent would read, and what each branch counted.

use cantal::{Branch, Collection, Fixed, Fork};
use cantal_static::StaticBuffer;
use std::thread;
use std::time::Duration;

const BRANCHES: [&str; 3] = ["app", "redis", "sql"];
const APP: Branch<3> = Branch::named(&BRANCHES, "app");
const REDIS: Branch<3> = Branch::named(&BRANCHES, "redis");
const SQL: Branch<3> = Branch::named(&BRANCHES, "sql");

/// One fork per worker thread: a fork follows one job at a time.
static JOBS: Fork<3> = Fork::new(&BRANCHES, "worker.job", &[("worker", "1")]);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Published explicitly into a buffer leaked for the rest of the
    // program; a real service calls `cantal::start()` instead.
    let buffer: &'static StaticBuffer<256> = Box::leak(Box::new(StaticBuffer::new()));
    let mut metrics: Collection<Fixed<8>> = Collection::fixed();
    metrics.register(&JOBS)?;
    let active = metrics.start(buffer.claim().ok_or("claimed already")?)?;

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
        if job == 39 {
            let now = JOBS.state().get().ok_or("in a branch")?;
            println!("state now: {:?} since {} ms", now.text(), now.timestamp());
        }
    }

    println!("meta:\n{}\n", active.meta());
    let mut values = vec![0u8; active.layout().size()];
    active.read_values(&mut values);
    println!("values ({} bytes):", values.len());
    for line in values.chunks(16) {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        println!("  {}", hex.join(" "));
    }
    println!();
    for branch in JOBS.branches() {
        println!(
            "{:6} entered {:3} times, {:4} ms",
            JOBS.branch_name(branch),
            JOBS.count(branch).get(),
            JOBS.duration(branch).get()
        );
    }
    Ok(())
}
