//! A line-protocol TCP server that counts its open connections with
//! [`Integer::guard`]: shared by `examples/connections.rs` and
//! `tests/connections.rs` (through `#[path]`), so that the test drives the
//! example's own code.
//!
//! Every line a client sends is a request:
//!
//! - `ping`: answered `pong`;
//! - `echo TEXT`: answered `TEXT`;
//! - `panic`: the connection's task panics (to show that the count goes
//!   down all the same);
//! - anything else: answered `error: unknown request`.
//!
//! A line longer than [`MAX_LINE`] bytes, or cut short by the client
//! going away, ends the connection.

use cantal::{Integer, IntegerGuard};
use std::future::Future;
use std::io;
use std::pin::pin;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The longest request line, newline included.
pub(crate) const MAX_LINE: u64 = 1024;

/// Accepts connections on `listener` until `shutdown` completes, each
/// served by [`connection`] in a task of its own and counted in
/// `connections` from its accept to its end. At shutdown the open
/// connections are aborted, and this returns once their tasks (and so
/// their guards) are gone: `connections` is back where it started.
///
/// # Errors
///
/// An error of `accept` (out of file descriptors, say) ends the server;
/// a connection's own errors and panics end only that connection.
pub(crate) async fn serve(
    listener: TcpListener,
    connections: &'static Integer,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut tasks = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    let result = loop {
        tokio::select! {
            () = &mut shutdown => break Ok(()),
            accepted = listener.accept() => match accepted {
                // Counted from here: the guard moves into the task.
                Ok((stream, _peer)) => drop(tasks.spawn(connection(stream, connections.guard()))),
                Err(e) => break Err(e),
            },
            // Reap finished tasks so that the set does not grow.
            Some(finished) = tasks.join_next() => {
                if let Err(e) = finished {
                    eprintln!("a connection ended abnormally: {e}");
                }
            }
        }
    };
    tasks.shutdown().await;
    result
}

/// Serves one connection. `_open` is its unit of the connection count: it
/// lives in this future, so it is dropped (and the count goes down)
/// however the connection ends: the client closes it, an I/O error, a
/// panic, or the task is aborted.
///
/// # Errors
///
/// Reading or writing the socket, a request line cut short or too long,
/// or not UTF-8.
pub(crate) async fn connection(stream: TcpStream, _open: IntegerGuard<'static>) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        if (&mut read).take(MAX_LINE).read_line(&mut line).await? == 0 {
            return Ok(()); // closed between two requests
        }
        let Some(request) = line.strip_suffix('\n') else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "request cut short or too long",
            ));
        };
        let request = request.strip_suffix('\r').unwrap_or(request);
        let reply = match request {
            "ping" => "pong",
            "panic" => panic!("asked to panic"),
            _ => request
                .strip_prefix("echo ")
                .unwrap_or("error: unknown request"),
        };
        write.write_all(reply.as_bytes()).await?;
        write.write_all(b"\n").await?;
    }
}
