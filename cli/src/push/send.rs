//! One remote-write request over HTTP/1.1 (hyper's client), and the
//! retry policy.

use crate::fail::{Failure, Result};
use bytes::Bytes;
use http_body_util::Full;
use std::fmt;
use std::time::{Duration, Instant};

/// How long one request may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The first and the longest wait before a retry.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Where requests go: `http://HOST:PORT/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// `HOST:PORT` (port 80 when not given).
    authority: String,
    /// The path and query, from `/`.
    path: String,
}

impl Target {
    /// Parses `--remote-write`'s URL (only `http://`: for TLS, put a proxy
    /// such as the receiver's own in front).
    pub(crate) fn parse(url: &str) -> std::result::Result<Target, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("{url:?}: only http:// URLs are supported (https:// is not yet)")
        })?;
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(format!(
                "{url:?}: no host, or credentials in the URL (use --remote-write.basic-auth-file)"
            ));
        }
        let authority = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Ok(Target {
            authority,
            path: path.to_string(),
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority, self.path)
    }
}

/// The `Authorization` header value for the `USER:PASSWORD` in `path`.
pub(crate) fn basic_auth(path: &std::path::Path) -> Result<String> {
    use base64::Engine as _;
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure(format!(
            "--remote-write.basic-auth-file {}: {e}",
            path.display()
        ))
    })?;
    let line = text.lines().next().unwrap_or_default();
    if !line.contains(':') {
        return Err(Failure(format!(
            "--remote-write.basic-auth-file {}: the first line is not USER:PASSWORD",
            path.display()
        )));
    }
    Ok(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(line)
    ))
}

/// What became of a request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 2xx.
    Accepted,
    /// 4xx: the receiver will never take it.
    Refused(String),
    /// 5xx, a timeout, a connection error: try again later.
    Retry(String),
}

/// POSTs `body` (a snappy-compressed `WriteRequest`) to `target`.
pub(crate) async fn post(target: &Target, auth: Option<&str>, body: Vec<u8>) -> Outcome {
    match tokio::time::timeout(REQUEST_TIMEOUT, attempt(target, auth, body)).await {
        Ok(Ok(status)) if status.is_success() => Outcome::Accepted,
        Ok(Ok(status)) if status.is_client_error() => Outcome::Refused(format!("HTTP {status}")),
        Ok(Ok(status)) => Outcome::Retry(format!("HTTP {status}")),
        Ok(Err(e)) => Outcome::Retry(e),
        Err(_) => Outcome::Retry(format!("no answer within {}s", REQUEST_TIMEOUT.as_secs())),
    }
}

async fn attempt(
    target: &Target,
    auth: Option<&str>,
    body: Vec<u8>,
) -> std::result::Result<hyper::StatusCode, String> {
    let stream = tokio::net::TcpStream::connect(&target.authority)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(connection);
    let mut request = hyper::Request::post(&target.path)
        .header(hyper::header::HOST, &target.authority)
        .header(hyper::header::CONTENT_TYPE, "application/x-protobuf")
        .header(hyper::header::CONTENT_ENCODING, "snappy")
        .header(
            hyper::header::USER_AGENT,
            concat!("cantal-export/", env!("CARGO_PKG_VERSION")),
        )
        .header("X-Prometheus-Remote-Write-Version", "0.1.0");
    if let Some(auth) = auth {
        request = request.header(hyper::header::AUTHORIZATION, auth);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))?;
    Ok(response.status())
}

/// Exponential back-off between failed attempts.
pub(crate) struct Backoff {
    next: Duration,
    retry_at: Option<Instant>,
}

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff {
            next: FIRST_BACKOFF,
            retry_at: None,
        }
    }

    /// An attempt failed: the wait before the next one (doubling, at most
    /// 30 s).
    pub(crate) fn fail(&mut self) -> Duration {
        let wait = self.next;
        self.retry_at = Some(Instant::now() + wait);
        self.next = (self.next * 2).min(MAX_BACKOFF);
        wait
    }

    /// An attempt succeeded (or was refused for good).
    pub(crate) fn reset(&mut self) {
        self.next = FIRST_BACKOFF;
        self.retry_at = None;
    }

    /// When the next attempt may be made, after a failure.
    pub(crate) fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_backoff() {
        let t = Target::parse("http://prom:9090/api/v1/write").unwrap();
        assert_eq!(t.to_string(), "http://prom:9090/api/v1/write");
        assert_eq!(
            Target::parse("http://prom").unwrap().to_string(),
            "http://prom:80/"
        );
        assert!(Target::parse("https://prom/x").is_err());
        assert!(Target::parse("http://u:p@prom/x").is_err());
        let mut b = Backoff::new();
        let waits: Vec<u64> = (0..7).map(|_| b.fail().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        b.reset();
        assert_eq!((b.fail().as_secs(), b.retry_at().is_some()), (1, true));
    }
}
