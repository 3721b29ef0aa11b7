//! The connection-counting server of `examples/connections.rs`: its
//! `Integer` goes back to exactly zero however connections end.

#[path = "../examples/support/line_server.rs"]
mod line_server;

mod common;

use cantal::Integer;
use common::wait_until;
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server on 127.0.0.1 (a free port) counting into `connections`; send
/// on the sender to stop it.
async fn start(
    connections: &'static Integer,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(line_server::serve(listener, connections, async {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

/// Sends `request` and reads the reply line (without its newline).
async fn ask(stream: &mut BufReader<TcpStream>, request: &str) -> String {
    stream
        .get_mut()
        .write_all(format!("{request}\n").as_bytes())
        .await
        .unwrap();
    let mut reply = String::new();
    stream.read_line(&mut reply).await.unwrap();
    reply.trim_end().to_owned()
}

async fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    BufReader::new(TcpStream::connect(addr).await.unwrap())
}

#[tokio::test]
async fn clients_that_leave_bring_the_count_back_to_zero() {
    static CONNECTIONS: Integer = Integer::new(&[("test", "leave")]);
    let (addr, stop, server) = start(&CONNECTIONS).await;
    let mut clients = Vec::new();
    for i in 0..5 {
        let mut client = connect(addr).await;
        assert_eq!(ask(&mut client, "ping").await, "pong");
        assert_eq!(ask(&mut client, &format!("echo {i}")).await, i.to_string());
        assert_eq!(ask(&mut client, "what").await, "error: unknown request");
        clients.push(client);
        // Answered, so accepted and counted.
        assert_eq!(CONNECTIONS.get(), i + 1);
    }
    for open in (0..5).rev() {
        drop(clients.pop());
        wait_until(&format!("{open} connections are open"), || {
            CONNECTIONS.get() == open
        })
        .await;
    }
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert_eq!(CONNECTIONS.get(), 0);
}

#[tokio::test]
async fn clients_vanishing_mid_request_are_not_counted_forever() {
    static CONNECTIONS: Integer = Integer::new(&[("test", "vanish")]);
    let (addr, stop, server) = start(&CONNECTIONS).await;
    let mut stays = connect(addr).await;
    assert_eq!(ask(&mut stays, "ping").await, "pong");

    // Half a request, then a clean close (FIN).
    let mut half = connect(addr).await;
    assert_eq!(ask(&mut half, "ping").await, "pong");
    half.get_mut().write_all(b"ec").await.unwrap();
    assert_eq!(CONNECTIONS.get(), 2);
    drop(half);
    wait_until("the half-closed client is gone", || CONNECTIONS.get() == 1).await;

    // Half a request, then a reset (RST): the server's read fails.
    let mut reset = connect(addr).await;
    assert_eq!(ask(&mut reset, "ping").await, "pong");
    reset.get_mut().write_all(b"echo half of it").await.unwrap();
    assert_eq!(CONNECTIONS.get(), 2);
    reset.get_ref().set_zero_linger().unwrap();
    drop(reset);
    wait_until("the reset client is gone", || CONNECTIONS.get() == 1).await;

    // A line longer than the limit ends the connection too.
    let mut long = connect(addr).await;
    let line = vec![b'x'; line_server::MAX_LINE as usize + 10];
    long.get_mut().write_all(&line).await.unwrap();
    let mut rest = Vec::new();
    // Closed by the server (EOF, or a reset if it left bytes unread).
    let _ = long.read_to_end(&mut rest).await;
    assert!(rest.is_empty(), "a reply to a long line: {rest:?}");
    wait_until("the long-line client is gone", || CONNECTIONS.get() == 1).await;

    // The one that stayed was never disturbed.
    assert_eq!(ask(&mut stays, "echo still here").await, "still here");
    drop(stays);
    wait_until("no connection is open", || CONNECTIONS.get() == 0).await;
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert_eq!(CONNECTIONS.get(), 0);
}

#[tokio::test]
async fn a_panicking_handler_gives_its_connection_back() {
    static CONNECTIONS: Integer = Integer::new(&[("test", "panic")]);
    let (addr, stop, server) = start(&CONNECTIONS).await;
    let mut stays = connect(addr).await;
    assert_eq!(ask(&mut stays, "ping").await, "pong");

    for _ in 0..3 {
        let mut doomed = connect(addr).await;
        assert_eq!(ask(&mut doomed, "ping").await, "pong");
        assert_eq!(CONNECTIONS.get(), 2);
        doomed.get_mut().write_all(b"panic\n").await.unwrap();
        // The task died: the server closed the socket, with no reply.
        let mut rest = Vec::new();
        let _ = doomed.read_to_end(&mut rest).await; // EOF, or a reset
        assert!(rest.is_empty(), "a reply after panic: {rest:?}");
        wait_until("the panicked connection is uncounted", || {
            CONNECTIONS.get() == 1
        })
        .await;
    }

    // The server goes on serving.
    let mut after = connect(addr).await;
    assert_eq!(ask(&mut after, "ping").await, "pong");
    assert_eq!(ask(&mut stays, "ping").await, "pong");
    assert_eq!(CONNECTIONS.get(), 2);
    drop((after, stays));
    wait_until("no connection is open", || CONNECTIONS.get() == 0).await;
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_aborts_open_connections_and_uncounts_them() {
    static CONNECTIONS: Integer = Integer::new(&[("test", "shutdown")]);
    let (addr, stop, server) = start(&CONNECTIONS).await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        let mut client = connect(addr).await;
        assert_eq!(ask(&mut client, "ping").await, "pong");
        idle.push(client);
    }
    let mut midway = connect(addr).await;
    assert_eq!(ask(&mut midway, "ping").await, "pong");
    midway.get_mut().write_all(b"echo unfinis").await.unwrap();
    assert_eq!(CONNECTIONS.get(), 4);

    // The clients keep their sockets open: only the aborts uncount them,
    // and `serve` returns once the aborted tasks are dropped.
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert_eq!(CONNECTIONS.get(), 0);
    for mut client in idle.into_iter().chain([midway]) {
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }
}

#[tokio::test]
async fn an_aborted_connection_task_drops_its_guard() {
    static CONNECTIONS: Integer = Integer::new(&[("test", "abort")]);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    // Aborted while waiting for a request.
    let mut client = connect(addr).await;
    let (stream, _) = listener.accept().await.unwrap();
    let task = tokio::spawn(line_server::connection(stream, CONNECTIONS.guard()));
    assert_eq!(ask(&mut client, "ping").await, "pong"); // the task runs
    assert_eq!(CONNECTIONS.get(), 1);
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(CONNECTIONS.get(), 0);

    // Aborted before it ever ran: counted at accept, uncounted all the same.
    let _client = connect(addr).await;
    let (stream, _) = listener.accept().await.unwrap();
    let task = tokio::spawn(line_server::connection(stream, CONNECTIONS.guard()));
    assert_eq!(CONNECTIONS.get(), 1);
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(CONNECTIONS.get(), 0);
}
