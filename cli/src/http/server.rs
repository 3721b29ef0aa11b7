//! [`serve`]: binds, accepts within the connection cap, survives `accept`
//! errors with back-off, serves each connection with hyper under the
//! header, idle and write timeouts, and stops cleanly on SIGTERM/SIGINT.

use super::io::{Requests, Timed, Timeouts};
use super::respond::Front;
use super::settings::{SCRAPE_QUEUE, SHUTDOWN_GRACE, Settings};
use super::worker::{self, Fatal, Scrape, Stats};
use super::{auth::Auth, webconfig};
use crate::fail::{Failure, Result};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{Semaphore, watch};

/// What a connection over the cap is told before it is closed.
const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/// Binds the first address `listen` resolves to that can be bound
/// (`:PORT` is every address, IPv6 and IPv4, else every IPv4 address).
fn bind(listen: &str) -> Result<std::net::TcpListener> {
    let spec = match listen.strip_prefix(':') {
        Some(port) => vec![format!("[::]:{port}"), format!("0.0.0.0:{port}")],
        None => vec![listen.to_string()],
    };
    let mut last = None;
    for spec in spec {
        let addrs = spec
            .to_socket_addrs()
            .map_err(|e| Failure(format!("cannot resolve --listen {listen}: {e}")))?;
        for addr in addrs {
            match std::net::TcpListener::bind(addr) {
                Ok(l) => return Ok(l),
                Err(e) => last = Some(format!("cannot listen on {addr} (--listen {listen}): {e}")),
            }
        }
    }
    Err(Failure(last.unwrap_or_else(|| {
        format!("--listen {listen} resolves to no address")
    })))
}

/// Serves `scrape` on `settings.listen` until SIGTERM or SIGINT (then
/// `Ok`), or a fatal error.
pub(crate) fn serve(settings: Settings, scrape: Scrape) -> Result<()> {
    let web = match &settings.web_config {
        Some(path) => Some(webconfig::load(path)?),
        None => None,
    };
    let listener = bind(&settings.listen)?;
    let bound = listener
        .local_addr()
        .map_err(|e| Failure(format!("--listen {}: {e}", settings.listen)))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Failure(format!("--listen {}: {e}", settings.listen)))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // bcrypt verifications; scrapes have their own thread.
        .max_blocking_threads(2)
        .build()
        .map_err(|e| Failure(format!("cannot start the HTTP runtime: {e}")))?;
    let (tls, users) = web.map_or((None, Default::default()), |w| (w.tls, w.users));
    let stats = Arc::new(Stats::default());
    let fatal = Arc::new(Fatal::default());
    let jobs = worker::spawn(scrape, Arc::clone(&stats), Arc::clone(&fatal), SCRAPE_QUEUE)
        .map_err(|e| Failure(format!("cannot start the scrape thread: {e}")))?;
    let front = Arc::new(Front {
        telemetry_path: settings.telemetry_path.clone(),
        auth: (!users.is_empty()).then(|| Auth::new(users)),
        jobs,
        stats,
        fatal,
    });
    // Before the address is printed: whoever reads it may stop us at once.
    let (listener, stops) = {
        let _runtime = runtime.enter();
        let listener = TcpListener::from_std(listener)
            .map_err(|e| Failure(format!("--listen {}: {e}", settings.listen)))?;
        let stop =
            |kind, name| signal(kind).map_err(|e| Failure(format!("cannot handle {name}: {e}")));
        let stops = (
            stop(SignalKind::terminate(), "SIGTERM")?,
            stop(SignalKind::interrupt(), "SIGINT")?,
        );
        (listener, stops)
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    {
        let mut stdout = std::io::stdout().lock();
        let path = &settings.telemetry_path;
        let _ = writeln!(
            stdout,
            "cantal export: listening on {scheme}://{bound}{path}"
        );
        let _ = stdout.flush();
    }
    let server = Server {
        settings,
        tls: tls.map(tokio_rustls::TlsAcceptor::from),
        front,
        bound,
    };
    let result = runtime.block_on(server.run(listener, stops));
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// The parts every connection shares.
struct Server {
    settings: Settings,
    tls: Option<tokio_rustls::TlsAcceptor>,
    front: Arc<Front>,
    bound: SocketAddr,
}

/// A rate-limited log of `accept` errors with an exponential back-off.
struct Backoff {
    delay: Duration,
    logged: Option<Instant>,
    unlogged: u64,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);
    const LOG_EVERY: Duration = Duration::from_secs(10);

    /// Logs `e` (at most once every LOG_EVERY) and returns the delay before
    /// the next `accept`.
    fn failed(&mut self, e: &std::io::Error) -> Duration {
        if self.logged.is_none_or(|at| at.elapsed() >= Self::LOG_EVERY) {
            let more = match self.unlogged {
                0 => String::new(),
                n => format!(" ({n} more since the last message)"),
            };
            eprintln!("cantal export: cannot accept a connection: {e}{more}; retrying");
            self.logged = Some(Instant::now());
            self.unlogged = 0;
        } else {
            self.unlogged += 1;
        }
        let delay = self.delay;
        self.delay = (self.delay * 2).clamp(Self::FIRST, Self::MAX);
        delay
    }
}

/// Whether an `accept` error means the listening socket itself is broken.
fn fatal_accept(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EBADF | libc::EINVAL | libc::ENOTSOCK | libc::EOPNOTSUPP | libc::EFAULT)
    )
}

impl Server {
    async fn run(self, listener: TcpListener, stops: (Signal, Signal)) -> Result<()> {
        let (mut term, mut int) = stops;
        let max = self.settings.max_connections;
        let slots = Arc::new(Semaphore::new(max));
        let (closing, closed) = watch::channel(false);
        let this = Arc::new(self);
        let fatal = Arc::clone(&this.front.fatal);
        let outcome = tokio::select! {
            r = Arc::clone(&this).accept(&listener, &slots, &closed) => r,
            _ = term.recv() => Ok("SIGTERM"),
            _ = int.recv() => Ok("SIGINT"),
            _ = fatal.notify.notified() => Err(Failure(fatal.message().unwrap_or_default())),
        };
        drop(listener);
        let why = outcome?;
        eprintln!(
            "cantal export: {why}: stopped listening on {}; finishing requests",
            this.bound
        );
        let _ = closing.send(true);
        let all = u32::try_from(max).unwrap_or(u32::MAX);
        let finished = tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all)).await;
        if finished.is_err() {
            eprintln!(
                "cantal export: {why}: requests still open after {SHUTDOWN_GRACE:?}; closing them"
            );
        }
        eprintln!("cantal export: {why}: stopped");
        Ok(())
    }

    /// Accepts until the listening socket fails for good.
    async fn accept(
        self: Arc<Self>,
        listener: &TcpListener,
        slots: &Arc<Semaphore>,
        closed: &watch::Receiver<bool>,
    ) -> Result<&'static str> {
        let mut backoff = Backoff {
            delay: Backoff::FIRST,
            logged: None,
            unlogged: 0,
        };
        let stats = &self.front.stats;
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    backoff.delay = Backoff::FIRST;
                    match Arc::clone(slots).try_acquire_owned() {
                        Ok(slot) => {
                            stats.accepted.fetch_add(1, Ordering::Relaxed);
                            let this = Arc::clone(&self);
                            let closed = closed.clone();
                            tokio::spawn(async move {
                                this.connection(stream, closed).await;
                                drop(slot);
                            });
                        }
                        Err(_) => {
                            stats.refused.fetch_add(1, Ordering::Relaxed);
                            let _ = stream.try_write(BUSY);
                        }
                    }
                }
                Err(e) if fatal_accept(&e) => {
                    return Err(Failure(format!(
                        "cannot accept connections on {}: {e}",
                        self.bound
                    )));
                }
                Err(e) => {
                    stats.accept_errors.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(backoff.failed(&e)).await;
                }
            }
        }
    }

    /// Serves one connection (after its TLS handshake) until it closes,
    /// times out, or the server stops.
    async fn connection(&self, stream: TcpStream, closed: watch::Receiver<bool>) {
        let s = &self.settings;
        let _ = stream.set_nodelay(true);
        let limits = Timeouts {
            header: s.header_timeout,
            idle: s.idle_timeout,
            write: s.write_timeout,
        };
        let requests = Arc::new(Requests::default());
        let stream = Timed::new(stream, limits, Arc::clone(&requests));
        match &self.tls {
            None => self.http(TokioIo::new(stream), requests, closed).await,
            Some(tls) => {
                let handshake = tokio::time::timeout(s.header_timeout, tls.accept(stream));
                if let Ok(Ok(stream)) = handshake.await {
                    self.http(TokioIo::new(stream), requests, closed).await;
                }
            }
        }
    }

    async fn http<I>(&self, io: I, requests: Arc<Requests>, mut closed: watch::Receiver<bool>)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let s = &self.settings;
        let front = Arc::clone(&self.front);
        let service = hyper::service::service_fn(move |request| {
            let (front, requests) = (Arc::clone(&front), Arc::clone(&requests));
            requests.started();
            async move {
                let response = front.respond(request).await;
                requests.answered();
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            // Timed keeps the header timeout: hyper's also runs between
            // keep-alive requests, where the idle timeout should.
            .header_read_timeout(None)
            .max_buf_size(s.max_header_bytes.max(8192))
            .max_header_size(s.max_header_bytes)
            .max_headers(64)
            .keep_alive(true);
        let connection = builder.serve_connection(io, service);
        tokio::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => {}
            () = async { drop(closed.wait_for(|c| *c).await) } => {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Backoff, bind};
    use std::time::Duration;

    #[test]
    fn binds_names_and_ipv6() {
        let l = bind("localhost:0").unwrap();
        assert!(l.local_addr().unwrap().ip().is_loopback());
        if let Ok(l) = bind("[::1]:0") {
            assert!(l.local_addr().unwrap().is_ipv6());
        }
        let e = bind("localhost").err().unwrap().0;
        assert!(e.contains("--listen localhost"), "{e}");
    }

    #[test]
    fn backoff_grows_to_a_second() {
        let mut b = Backoff {
            delay: Backoff::FIRST,
            logged: None,
            unlogged: 0,
        };
        let e = std::io::Error::from_raw_os_error(libc::EMFILE);
        let delays: Vec<Duration> = (0..12).map(|_| b.failed(&e)).collect();
        assert_eq!(delays[0], Backoff::FIRST);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(delays[11], Backoff::MAX);
        assert_eq!(b.unlogged, 11);
    }
}
