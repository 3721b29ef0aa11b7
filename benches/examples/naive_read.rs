//! The reader benchmark's publication and its naive reader, as a program,
//! for the whole-process comparison with `cantal read --json`
//! (`benches/read-memory`):
//!
//!     naive_read write BASE   # writes BASE.meta and BASE.values
//!     naive_read read BASE    # prints them as JSON lines
use std::io::Write;

#[path = "../read_fixture.rs"]
mod fixture;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("write"), Some(base)) => fixture::write(base.as_ref())?,
        (Some("read"), Some(base)) => std::io::stdout()
            .lock()
            .write_all(&fixture::naive_read(base)?)?,
        _ => return Err("usage: naive_read write|read BASE".into()),
    }
    Ok(())
}
