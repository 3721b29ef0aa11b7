//! The exporter benchmark's 100 publishers x 1,000 metrics, published into
//! a directory until killed, so that a real `cantal export --dir` process
//! can be scraped and its peak memory read (`benches/export-memory`).
//!
//! `cargo run --release -p cantal-benches --features export-memory --example
//! export_publishers -- DIR`

#[path = "../export_fixture.rs"]
mod fixture;

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .expect("usage: export_publishers DIR");
    let publications: Vec<_> = (0..fixture::PUBLISHERS)
        .map(|p| fixture::publish(&dir, p))
        .collect();
    println!(
        "published {} publications of {} metrics in {}",
        publications.len(),
        fixture::METRICS,
        dir.display()
    );
    loop {
        std::thread::park();
    }
}
