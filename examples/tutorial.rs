//! The Cantal tutorial, in Rust: a main loop that counts its iterations.
//!
//! ```text
//! CANTAL_PATH=$XDG_RUNTIME_DIR/tutorial cargo run --example tutorial
//! cargo run --example tutorial -- --for 2   # stop after two seconds
//! ```
//!
//! While it runs, the Cantal agent (or `cantal read $CANTAL_PATH`) shows the
//! counter `{"group": "main_loop", "metric": "ticks"}` growing by ten a
//! second.

use cantal::Counter;
use std::time::{Duration, Instant};

cantal::metrics! {
    /// Iterations of the main loop.
    static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let run_for = run_for()?;
    let publication = cantal::start()?;
    println!(
        "publishing metrics to {}.{{meta,values}}",
        publication.path().display()
    );
    let started = Instant::now();
    loop {
        TICKS.incr(1);
        if run_for.is_some_and(|limit| started.elapsed() >= limit) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("ticked {} times", TICKS.get());
    Ok(())
}

/// `--for SECONDS` on the command line (or `TUTORIAL_FOR=SECONDS`): how long
/// to run; forever without it.
fn run_for() -> Result<Option<Duration>, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut seconds = std::env::var("TUTORIAL_FOR").ok();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--for" => seconds = Some(args.next().ok_or("--for needs a number of seconds")?),
            other => return Err(format!("unknown argument {other:?} (try --for SECONDS)").into()),
        }
    }
    match seconds {
        Some(s) => Ok(Some(Duration::try_from_secs_f64(s.parse()?)?)),
        None => Ok(None),
    }
}
