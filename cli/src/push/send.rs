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

/// Where requests go: `http://HOST:PORT/PATH` or `https://...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Over TLS.
    tls: bool,
    /// `HOST:PORT` (port 80 or 443 when not given).
    authority: String,
    /// The path and query, from `/`.
    path: String,
}

impl Target {
    /// Parses `--remote-write`'s URL.
    pub(crate) fn parse(url: &str) -> std::result::Result<Target, String> {
        let (tls, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(rest), _) => (false, rest),
            (_, Some(rest)) => (true, rest),
            _ => return Err(format!("{url:?}: not an http:// or https:// URL")),
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(format!(
                "{url:?}: no host, or credentials in the URL (use --remote-write.basic-auth-file)"
            ));
        }
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok());
        let authority = if has_port {
            authority.to_string()
        } else {
            format!("{authority}:{}", if tls { 443 } else { 80 })
        };
        Ok(Target {
            tls,
            authority,
            path: path.to_string(),
        })
    }

    /// Whether requests go over TLS.
    pub(crate) fn is_tls(&self) -> bool {
        self.tls
    }

    /// The host name (or address) the certificate must name.
    fn host(&self) -> &str {
        let host = self
            .authority
            .rsplit_once(':')
            .map_or(&*self.authority, |(h, _)| h);
        host.trim_start_matches('[').trim_end_matches(']')
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority, self.path)
    }
}

/// The system's certificate authorities (Debian's bundle), when
/// `--remote-write.ca-file` is not given.
pub(crate) const SYSTEM_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A TLS client trusting the certificate authorities of the PEM file
/// `ca_file`.
pub(crate) fn tls_client(ca_file: &std::path::Path) -> Result<tokio_rustls::TlsConnector> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let what = |e: &dyn fmt::Display| {
        Failure(format!("--remote-write.ca-file {}: {e}", ca_file.display()))
    };
    let pem = std::fs::read(ca_file).map_err(|e| what(&e))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots
            .add(cert.map_err(|e| what(&e))?)
            .map_err(|e| what(&e))?;
    }
    if roots.is_empty() {
        return Err(what(&"no certificate in it"));
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| what(&e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(std::sync::Arc::new(
        config,
    )))
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

/// POSTs `body` (a snappy-compressed `WriteRequest`) to `target`, over
/// `tls` when the target is `https://`.
pub(crate) async fn post(
    target: &Target,
    tls: Option<&tokio_rustls::TlsConnector>,
    auth: Option<&str>,
    body: Bytes,
) -> Outcome {
    match tokio::time::timeout(REQUEST_TIMEOUT, attempt(target, tls, auth, body)).await {
        Ok(Ok(status)) if status.is_success() => Outcome::Accepted,
        Ok(Ok(status)) if status.is_client_error() => Outcome::Refused(format!("HTTP {status}")),
        Ok(Ok(status)) => Outcome::Retry(format!("HTTP {status}")),
        Ok(Err(e)) => Outcome::Retry(e),
        Err(_) => Outcome::Retry(format!("no answer within {}s", REQUEST_TIMEOUT.as_secs())),
    }
}

async fn attempt(
    target: &Target,
    tls: Option<&tokio_rustls::TlsConnector>,
    auth: Option<&str>,
    body: Bytes,
) -> std::result::Result<hyper::StatusCode, String> {
    let stream = tokio::net::TcpStream::connect(&target.authority)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    match (target.tls, tls) {
        (true, Some(connector)) => {
            let name = rustls_pki_types::ServerName::try_from(target.host().to_string())
                .map_err(|e| format!("{}: {e}", target.host()))?;
            let stream = connector
                .connect(name, stream)
                .await
                .map_err(|e| format!("TLS: {e}"))?;
            request(hyper_util::rt::TokioIo::new(stream), target, auth, body).await
        }
        (true, None) => Err("https:// without a TLS client".into()),
        (false, _) => request(hyper_util::rt::TokioIo::new(stream), target, auth, body).await,
    }
}

/// The request itself, over the connection `io`.
async fn request<I>(
    io: I,
    target: &Target,
    auth: Option<&str>,
    body: Bytes,
) -> std::result::Result<hyper::StatusCode, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
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
        .body(Full::new(body))
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
        let https = Target::parse("https://prom/x").unwrap();
        assert_eq!(
            (https.to_string().as_str(), https.host()),
            ("https://prom:443/x", "prom")
        );
        assert!(Target::parse("ftp://prom/x").is_err());
        assert!(Target::parse("http://u:p@prom/x").is_err());
        let mut b = Backoff::new();
        let waits: Vec<u64> = (0..7).map(|_| b.fail().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        b.reset();
        assert_eq!((b.fail().as_secs(), b.retry_at().is_some()), (1, true));
    }
}
