//! [`Timed`]: a connection's stream with its timeouts, and [`Requests`],
//! which tells it whether a request is being answered.
//!
//! - **Header timeout**: from the first byte of a request (for the first
//!   request, from the connection's start; TLS handshake included) until
//!   its head is parsed, at most `header` may pass, however slowly the
//!   bytes trickle in (slowloris).
//! - **Idle timeout**: between requests, a read that waits `idle` with no
//!   byte fails. Not while a request is being answered: a long scrape
//!   does not close its connection.
//! - **Write timeout**: a write, flush or shutdown that makes no progress
//!   for `write` fails.
//!
//! A failure is an `io::ErrorKind::TimedOut` error, which makes hyper
//! close the connection.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// A connection's requests: a count incremented when one starts being
/// answered and when its answer is ready, so it is odd while one is
/// answered; and the read that waited meanwhile, woken when it is ready
/// so that its idle timer starts.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    count: AtomicU64,
    reader: Mutex<Option<Waker>>,
}

impl Requests {
    /// A request's head was parsed; its answer begins.
    pub(crate) fn started(&self) {
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    /// The request's answer is ready (its body is then written under the
    /// write timeout).
    pub(crate) fn answered(&self) {
        self.count.fetch_add(1, Ordering::AcqRel);
        if let Some(waker) = self.reader.lock().ok().and_then(|mut r| r.take()) {
            waker.wake();
        }
    }

    fn now(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }

    /// Wakes `waker` when the answer under way is ready.
    fn wake_when_answered(&self, waker: &Waker) {
        if let Ok(mut reader) = self.reader.lock() {
            *reader = Some(waker.clone());
        }
    }
}

/// The limits of a [`Timed`] stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) header: Duration,
    pub(crate) idle: Duration,
    pub(crate) write: Duration,
}

/// A stream under [`Timeouts`].
pub(crate) struct Timed<S> {
    inner: S,
    limits: Timeouts,
    requests: Arc<Requests>,
    /// The header deadline, and the value of `requests` when it was set:
    /// once `requests` moves on, that head was parsed.
    head: Option<(Pin<Box<Sleep>>, u64)>,
    idle: Option<Pin<Box<Sleep>>>,
    write: Option<Pin<Box<Sleep>>>,
}

impl<S> Timed<S> {
    /// Wraps a new connection's `inner`: its first request's header
    /// deadline starts now.
    pub(crate) fn new(inner: S, limits: Timeouts, requests: Arc<Requests>) -> Timed<S> {
        let head = Some((Box::pin(tokio::time::sleep(limits.header)), requests.now()));
        Timed {
            inner,
            limits,
            requests,
            head,
            idle: None,
            write: None,
        }
    }
}

/// `TimedOut`, naming `what`.
fn timed_out<T>(what: &'static str) -> Poll<io::Result<T>> {
    Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)))
}

/// Whether `timer` (started after `after` when first waited on) has
/// expired; it wakes `cx` when it does.
fn expired(timer: &mut Option<Pin<Box<Sleep>>>, after: Duration, cx: &mut Context<'_>) -> bool {
    let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(after)));
    sleep.as_mut().poll(cx).is_ready()
}

impl<S: AsyncRead + Unpin> AsyncRead for Timed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let now = this.requests.now();
        if this.head.as_ref().is_some_and(|(_, at)| *at != now) {
            this.head = None;
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        let answering = now % 2 == 1;
        if let Poll::Ready(r) = poll {
            this.idle = None;
            if buf.filled().len() > before && this.head.is_none() && !answering {
                let deadline = Box::pin(tokio::time::sleep(this.limits.header));
                this.head = Some((deadline, now));
            }
            if let Some((deadline, _)) = &mut this.head
                && deadline.as_mut().poll(cx).is_ready()
            {
                return timed_out("header timeout");
            }
            return Poll::Ready(r);
        }
        if let Some((deadline, _)) = &mut this.head
            && deadline.as_mut().poll(cx).is_ready()
        {
            return timed_out("header timeout");
        }
        if answering {
            this.idle = None;
            this.requests.wake_when_answered(cx.waker());
            // The answer may have become ready before the waker was left.
            if this.requests.now() != now {
                cx.waker().wake_by_ref();
            }
        } else if expired(&mut this.idle, this.limits.idle, cx) {
            return timed_out("idle timeout");
        }
        Poll::Pending
    }
}

impl<S: AsyncWrite + Unpin> Timed<S> {
    /// `poll` answered: `Ready` clears the write timer, `Pending` waits on it.
    fn written<T>(
        &mut self,
        poll: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(r) => {
                self.write = None;
                Poll::Ready(r)
            }
            Poll::Pending if expired(&mut self.write, self.limits.write, cx) => {
                self.write = None;
                timed_out("write timeout")
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Timed<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, b);
        this.written(poll, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.written(poll, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.written(poll, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.written(poll, cx)
    }
}
