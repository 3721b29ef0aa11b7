//! A TCP server counting its open connections in a published Cantal
//! `Integer`, as the reference client's "Incoming (server) connections"
//! integration does for aiohttp.
//!
//! ```text
//! cargo run -p cantal-tower --example connections               # 3 seconds
//! cargo run -p cantal-tower --example connections -- --for 60   # or until Ctrl-C
//! ```
//!
//! It publishes `{"group": "tcp.server", "metric": "connections"}` with
//! `cantal::start()` (set `CANTAL_PATH` to choose the files), serves a
//! line protocol on 127.0.0.1 (try `nc 127.0.0.1 PORT` and type `ping`)
//! and runs a few clients of its own: some stay, some leave, some vanish
//! in the middle of a request. Twice a second it prints the count.

#[path = "support/args.rs"]
mod args;
#[path = "support/line_server.rs"]
mod line_server;

use cantal::{Counter, Integer};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

cantal::metrics! {
    /// Connections open now.
    static CONNECTIONS: Integer = Integer::new(&[("group", "tcp.server"), ("metric", "connections")]);
    /// Demo clients done (left or vanished).
    static CLIENTS: Counter = Counter::new(&[("group", "tcp.demo"), ("metric", "clients")]);
}

/// One demo client: connects, makes `requests` pings, then either leaves
/// cleanly or vanishes half way through a request.
async fn client(port: u16, requests: u32, vanish: bool) -> std::io::Result<()> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut reply = String::new();
    for _ in 0..requests {
        write.write_all(b"ping\n").await?;
        reply.clear();
        read.read_line(&mut reply).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    if vanish {
        write.write_all(b"ec").await?; // and gone, mid-request
    }
    CLIENTS.incr(1);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let run_for = args::duration("connections")?;
    let publication = cantal::start()?;
    println!("metrics published at {}", publication.path().display());

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    println!("serving on 127.0.0.1:{port} for {run_for:?} (or until Ctrl-C)");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(line_server::serve(listener, &CONNECTIONS, async {
        let _ = stopped.await;
    }));

    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    let deadline = tokio::time::sleep(run_for);
    let ctrl_c = tokio::signal::ctrl_c(); // one listener for the whole run
    tokio::pin!(deadline, ctrl_c);
    let mut round = 0u32;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                // A few new clients each tick, of varied lifetimes.
                for i in 0..3 {
                    tokio::spawn(client(port, 1 + (round + i) % 5, i == 2));
                }
                round += 1;
                println!(
                    "{:5.1} s  connections open: {:2}  clients done: {}",
                    started.elapsed().as_secs_f64(),
                    CONNECTIONS.get(),
                    CLIENTS.get(),
                );
            }
            () = &mut deadline => break,
            _ = &mut ctrl_c => break,
        }
    }

    let _ = stop.send(());
    server.await??; // aborts the connections still open
    println!("stopped; connections open: {}", CONNECTIONS.get());
    Ok(())
}
