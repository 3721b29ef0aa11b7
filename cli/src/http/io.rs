//! [`Timed`]: a stream whose reads and writes fail with `TimedOut` when
//! they make no progress for too long (an idle or stalled peer).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// A stream with an idle (read) timeout and a write timeout. Each timer
/// starts when an operation first waits and is cleared when one completes.
pub(crate) struct Timed<S> {
    inner: S,
    idle: Duration,
    write: Duration,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl<S> Timed<S> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: S, idle: Duration, write: Duration) -> Timed<S> {
        Timed {
            inner,
            idle,
            write,
            read_timer: None,
            write_timer: None,
        }
    }
}

/// The answer of an operation that waits: `Pending` until `after` has
/// passed since it first waited, then a `TimedOut` error naming `what`.
fn waited<T>(
    timer: &mut Option<Pin<Box<Sleep>>>,
    after: Duration,
    what: &'static str,
    cx: &mut Context<'_>,
) -> Poll<io::Result<T>> {
    let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(after)));
    match sleep.as_mut().poll(cx) {
        Poll::Ready(()) => {
            *timer = None;
            Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)))
        }
        Poll::Pending => Poll::Pending,
    }
}

/// `poll` answered: `Ready` clears the timer, `Pending` waits on it.
fn timed<T>(
    poll: Poll<io::Result<T>>,
    timer: &mut Option<Pin<Box<Sleep>>>,
    after: Duration,
    what: &'static str,
    cx: &mut Context<'_>,
) -> Poll<io::Result<T>> {
    match poll {
        Poll::Ready(r) => {
            *timer = None;
            Poll::Ready(r)
        }
        Poll::Pending => waited(timer, after, what, cx),
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Timed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        timed(poll, &mut this.read_timer, this.idle, "idle timeout", cx)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Timed<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, b);
        timed(poll, &mut this.write_timer, this.write, "write timeout", cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        timed(poll, &mut this.write_timer, this.write, "write timeout", cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        timed(poll, &mut this.write_timer, this.write, "write timeout", cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        timed(poll, &mut this.write_timer, this.write, "write timeout", cx)
    }
}
