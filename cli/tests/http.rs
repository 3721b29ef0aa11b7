//! `cantal export`'s HTTP front, from outside: its routes, negotiation,
//! gzip, limits (connections, file descriptors, request size, slow
//! clients), TLS with basic auth, and a clean stop on SIGTERM.
//!
//! Every request goes to 127.0.0.1. The exporters serve no publication
//! (`--no-proc --no-default-dirs`); the tests assert on what the front
//! itself answers (status lines, headers, its own `cantal_exporter_http_*`
//! series).
#![forbid(unsafe_code)]

mod common;

use cantal_testkit::TempDir;
use common::{BIN, Exporter, KillOnDrop, Prometheus, have};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The discovery flags that keep the exporter to publications nobody
/// has: these tests look only at the front.
const NOBODY: [&str; 2] = ["--no-proc", "--no-default-dirs"];

/// An exporter of no publication, with `args`.
fn exporter(args: &[&str]) -> Exporter {
    exporter_with(Command::new(BIN), args)
}

/// An exporter of no publication, started through `command`.
fn exporter_with(command: Command, args: &[&str]) -> Exporter {
    Exporter::start_with(command, &[&NOBODY[..], args].concat())
}

/// A response: status line, headers (`name: value` lines, names
/// lowercased), body bytes.
struct Answer {
    status: String,
    headers: String,
    body: Vec<u8>,
}

impl Answer {
    fn parse(response: &[u8]) -> Answer {
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("{:?}", String::from_utf8_lossy(response)));
        let head = String::from_utf8(response[..split].to_vec()).unwrap();
        let (status, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
        let headers = headers
            .lines()
            .map(|l| match l.split_once(':') {
                Some((n, v)) => format!("{}: {}", n.to_ascii_lowercase(), v.trim()),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        Answer {
            status: status.to_string(),
            headers,
            body: response[split + 4..].to_vec(),
        }
    }

    fn code(&self) -> u16 {
        self.status.split(' ').nth(1).unwrap().parse().unwrap()
    }

    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}: ");
        self.headers.lines().find_map(|l| l.strip_prefix(&prefix))
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// One HTTP/1.0 request with extra header lines, over any stream.
fn exchange(mut s: impl Read + Write, method: &str, path: &str, headers: &[&str]) -> Answer {
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: localhost\r\n");
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    s.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    if let Err(e) = s.read_to_end(&mut response) {
        // A TLS peer that closes without close_notify gave its answer.
        assert!(!response.is_empty(), "{e}");
    }
    Answer::parse(&response)
}

fn connect(addr: &str, timeout: Duration) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    s.set_write_timeout(Some(timeout)).unwrap();
    s
}

fn request(addr: &str, method: &str, path: &str, headers: &[&str]) -> Answer {
    exchange(
        connect(addr, Duration::from_secs(20)),
        method,
        path,
        headers,
    )
}

/// The front's own series in a body.
fn own_series(body: &str) -> Vec<&str> {
    body.lines()
        .filter(|l| l.starts_with("cantal_exporter_http_"))
        .collect()
}

/// The value of one of the front's series.
fn value(body: &str, series: &str) -> u64 {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{series} not in {body}"))
        .parse()
        .unwrap()
}

#[test]
fn routes_landing_page_and_telemetry_path() {
    let exporter = exporter(&["--web.telemetry-path", "/custom/metrics"]);
    let addr = &exporter.addr;
    let landing = request(addr, "GET", "/", &[]);
    assert_eq!(landing.code(), 200, "{}", landing.status);
    assert!(
        landing
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        landing.text().contains("<a href=\"/custom/metrics\">"),
        "{}",
        landing.text()
    );
    let metrics = request(addr, "GET", "/custom/metrics", &[]);
    assert_eq!(metrics.code(), 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    // The landing page's answer is counted by then.
    let body = metrics.text();
    assert_eq!(
        value(&body, "cantal_exporter_http_requests_total{code=\"200\"}"),
        1
    );
    assert_eq!(request(addr, "GET", "/metrics", &[]).code(), 404);
    let post = request(addr, "POST", "/custom/metrics", &[]);
    assert_eq!(post.code(), 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    let head = request(addr, "HEAD", "/custom/metrics", &[]);
    assert_eq!(head.code(), 200);
    assert!(head.body.is_empty());
    let body = request(addr, "GET", "/custom/metrics", &[]).text();
    assert_eq!(
        value(&body, "cantal_exporter_http_requests_total{code=\"404\"}"),
        1
    );
    assert_eq!(
        value(&body, "cantal_exporter_http_requests_total{code=\"405\"}"),
        1
    );
}

/// `--listen` takes a host name and an IPv6 address; the first stdout
/// line names the address bound.
#[test]
fn listen_takes_names_and_ipv6() {
    let ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    for (listen, host) in [("localhost:0", None), ("[::1]:0", Some("[::1]:"))] {
        if host.is_some() && !ipv6 {
            println!("SKIPPED: no IPv6 loopback");
            continue;
        }
        let mut child = KillOnDrop(
            Command::new(BIN)
                .args(["export", "--listen", listen])
                .args(NOBODY)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        BufReader::new(child.0.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim_end()
            .strip_prefix("cantal export: listening on http://")
            .and_then(|s| s.strip_suffix("/metrics"))
            .unwrap_or_else(|| panic!("{line}"));
        let bound: std::net::SocketAddr = addr.parse().unwrap();
        assert!(bound.ip().is_loopback(), "{bound}");
        if let Some(host) = host {
            assert!(addr.starts_with(host), "{addr}");
        }
        assert_eq!(request(addr, "GET", "/", &[]).code(), 200);
    }
}

#[test]
fn negotiation_honours_q_values() {
    let exporter = exporter(&[]);
    let addr = &exporter.addr;
    let refused = request(
        addr,
        "GET",
        "/metrics",
        &["Accept: application/openmetrics-text;q=0"],
    );
    assert!(
        refused
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{}",
        refused.headers
    );
    assert!(!refused.text().ends_with("# EOF\n"));
    let preferred = request(
        addr,
        "GET",
        "/metrics",
        &["Accept: text/plain;q=0.3, application/openmetrics-text;version=1.0.0;q=0.6"],
    );
    assert!(
        preferred
            .header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{}",
        preferred.headers
    );
    let om = preferred.text();
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(om.contains("# TYPE cantal_exporter_http_requests counter\n"));
    let lower = request(
        addr,
        "GET",
        "/metrics",
        &["Accept: text/plain;q=0.9, application/openmetrics-text;q=0.8"],
    );
    assert!(
        lower
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
}

#[test]
fn gzip_decodes_to_the_plain_body() {
    let exporter = exporter(&[]);
    let addr = &exporter.addr;
    let plain = request(addr, "GET", "/metrics", &[]);
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = request(addr, "GET", "/metrics", &["Accept-Encoding: gzip"]);
    assert_eq!(zipped.code(), 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&zipped.body[..])
        .read_to_string(&mut unzipped)
        .unwrap();
    // The same front series, the plain answer and its connection counted
    // once more.
    let plain = plain.text();
    let counted = [
        "cantal_exporter_http_requests_total{code=\"200\"} ",
        "cantal_exporter_http_connections_total{result=\"accepted\"} ",
    ];
    let expected: Vec<String> = own_series(&plain)
        .iter()
        .map(
            |l| match counted.iter().find_map(|c| Some((c, l.strip_prefix(c)?))) {
                Some((c, n)) => format!("{c}{}", n.parse::<u64>().unwrap() + 1),
                None => l.to_string(),
            },
        )
        .collect();
    assert_eq!(own_series(&unzipped), expected, "{unzipped}");
    let refused = request(addr, "GET", "/metrics", &["Accept-Encoding: gzip;q=0"]);
    assert_eq!(refused.header("content-encoding"), None);
}

/// Sends SIGTERM to the exporter and waits for its exit status.
fn terminate(exporter: &mut Exporter) -> Option<ExitStatus> {
    let kill = Command::new("kill")
        .args(["-TERM", &exporter.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    exporter.wait(Duration::from_secs(15))
}

#[test]
fn sigterm_exits_0() {
    // At once: the handler is in place before the address is printed.
    let mut first = exporter(&[]);
    let status = terminate(&mut first);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{status:?}");
    // After requests, with a connection kept open, which does not hold the
    // stop up.
    let mut exporter = exporter(&[]);
    let _idle = connect(&exporter.addr, Duration::from_secs(5));
    assert_eq!(request(&exporter.addr, "GET", "/metrics", &[]).code(), 200);
    let started = Instant::now();
    let status = terminate(&mut exporter);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let log = exporter.stderr();
    assert!(log.contains("SIGTERM: stopped"), "{log}");
}

#[test]
fn connections_over_the_cap_are_refused() {
    let exporter = exporter(&["--web.max-connections", "4"]);
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| connect(&exporter.addr, Duration::from_secs(10)))
        .collect();
    // The fifth is answered 503 at once and closed; the cap holds until
    // one of the four goes.
    let mut fifth = connect(&exporter.addr, Duration::from_secs(10));
    let mut response = Vec::new();
    fifth.read_to_end(&mut response).unwrap();
    assert_eq!(Answer::parse(&response).code(), 503);
    drop(idle);
    let body = get_within(&exporter.addr, Duration::from_secs(10)).expect("the cap never freed");
    assert!(
        value(
            &body,
            "cantal_exporter_http_connections_total{result=\"refused\"}"
        ) >= 1
    );
}

/// A GET retried until it is answered 200 or `limit` passes.
fn get_within(addr: &str, limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let addr: std::net::SocketAddr = addr.parse().unwrap();
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let _ = s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n");
            let mut response = Vec::new();
            if s.read_to_end(&mut response).is_ok() && response.get(8..13) == Some(b" 200 ") {
                return Some(Answer::parse(&response).text());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// With RLIMIT_NOFILE at 64, more silent connections than that make
/// `accept` fail (EMFILE): the exporter logs it, backs off, and serves
/// again once they are closed or time out; it never exits.
#[test]
fn survives_file_descriptor_exhaustion() {
    let mut wrapper = Command::new("prlimit");
    wrapper.args(["--nofile=64:64", "--", BIN]);
    let mut exporter = exporter_with(
        wrapper,
        &["--web.header-timeout", "2", "--web.max-connections", "1000"],
    );
    let addr = exporter.addr.clone();
    // Closed by the test.
    let idle: Vec<TcpStream> = (0..100)
        .map(|_| connect(&addr, Duration::from_secs(5)))
        .collect();
    assert!(
        get_within(&addr, Duration::from_millis(300)).is_none(),
        "the descriptors were not exhausted"
    );
    assert_eq!(exporter.exited(), None);
    drop(idle);
    let body = get_within(&addr, Duration::from_secs(20)).expect("not serving after EMFILE");
    assert!(value(&body, "cantal_exporter_http_accept_errors_total") >= 1);
    assert!(
        exporter.stderr().contains("cannot accept a connection"),
        "{}",
        exporter.stderr()
    );
    // Left open: they time out (--web.header-timeout 2: they never send
    // a request).
    let idle: Vec<TcpStream> = (0..100)
        .map(|_| connect(&addr, Duration::from_secs(5)))
        .collect();
    assert!(get_within(&addr, Duration::from_secs(30)).is_some());
    assert_eq!(exporter.exited(), None);
    drop(idle);
}

/// Writes up to `total` bytes of `a` (for at most 60 s) until the peer
/// stops taking them; how many it took.
fn stream_bytes(s: &mut TcpStream, total: usize) -> usize {
    let chunk = vec![b'a'; 1 << 16];
    let mut sent = 0usize;
    let started = Instant::now();
    while sent < total && started.elapsed() < Duration::from_secs(60) {
        match s.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    sent
}

/// A 200 MB request line is refused after --web.max-header-bytes, and the
/// exporter's memory stays small.
#[test]
fn huge_request_line_is_refused_in_bounded_memory() {
    const BOUND: u64 = 64 << 20;
    let exporter = exporter(&[]);
    let mut s = connect(&exporter.addr, Duration::from_secs(10));
    s.write_all(b"GET /").unwrap();
    let sent = stream_bytes(&mut s, 200_000_000);
    assert!(sent < 200_000_000, "the whole line was read");
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response);
    if !response.is_empty() {
        assert!(
            response.starts_with(b"HTTP/1.1 431"),
            "{:?}",
            String::from_utf8_lossy(&response)
        );
    }
    let rss = exporter.rss();
    assert!(rss < BOUND, "RSS {rss} bytes");
    assert!(get_within(&exporter.addr, Duration::from_secs(10)).is_some());
}

/// A request's body is never read: the connection closes after the
/// answer rather than take in 100 MB.
#[test]
fn request_bodies_are_not_read() {
    let exporter = exporter(&[]);
    let mut s = connect(&exporter.addr, Duration::from_secs(10));
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000000\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
    let sent = stream_bytes(&mut s, 100_000_000);
    assert!(sent < 100_000_000, "the whole body was taken in");
}

/// A client that sends one header byte a second is disconnected after the
/// header timeout.
#[test]
fn slowloris_is_disconnected() {
    let exporter = exporter(&["--web.header-timeout", "2"]);
    let mut s = connect(&exporter.addr, Duration::from_secs(1));
    let started = Instant::now();
    s.write_all(b"GET /metrics HTTP/1.1\r\nX-Slow: ").unwrap();
    let mut closed = None;
    for _ in 0..20 {
        if s.write_all(b"a").is_err() {
            closed = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 256];
        match s.read(&mut buf) {
            Ok(_) => {
                closed = Some(started.elapsed());
                break;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => {
                closed = Some(started.elapsed());
                break;
            }
        }
    }
    let closed = closed.expect("a slow client was never disconnected");
    assert!(closed < Duration::from_secs(6), "{closed:?}");
}

/// Between keep-alive requests the idle timeout governs, not the header
/// timeout; a connection that never sends a byte gets the header timeout.
#[test]
fn keep_alive_connections_wait_for_the_idle_timeout() {
    let exporter = exporter(&["--web.header-timeout", "1", "--web.idle-timeout", "3"]);
    let mut s = connect(&exporter.addr, Duration::from_millis(2500));
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let n = s.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    // Still open past the header timeout...
    let e = s.read(&mut buf).map(|n| n.to_string()).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{e}"
    );
    // ...and serving.
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let n = s.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0);
    let idle = answered.elapsed();
    assert!(idle < Duration::from_secs(9), "{idle:?}");
    // A connection that sends nothing is closed after the header timeout.
    let mut silent = connect(&exporter.addr, Duration::from_secs(10));
    let opened = Instant::now();
    assert_eq!(silent.read(&mut buf).unwrap_or(0), 0);
    assert!(
        opened.elapsed() < Duration::from_millis(2500),
        "{:?}",
        opened.elapsed()
    );
}

/// A client that asks for many responses and reads none is disconnected
/// once a write has made no progress for --web.write-timeout.
#[test]
fn stalled_reader_is_disconnected() {
    const REQUESTS: usize = 40_000;
    let exporter = exporter(&["--web.write-timeout", "1"]);
    let s = connect(&exporter.addr, Duration::from_secs(10));
    let mut writer = s.try_clone().unwrap();
    // Pipelined requests for the landing page: megabytes of answers,
    // more than the socket buffers hold.
    let sender = std::thread::spawn(move || {
        let one = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".repeat(1000);
        for _ in 0..REQUESTS / 1000 {
            if writer.write_all(&one).is_err() {
                break;
            }
        }
    });
    // The stall: nothing read for three write timeouts.
    std::thread::sleep(Duration::from_secs(3));
    let mut reader = s;
    let mut answers = 0;
    let mut buf = vec![0u8; 1 << 16];
    let mut tail = Vec::new();
    let started = Instant::now();
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tail.extend_from_slice(&buf[..n]);
                answers += tail.windows(12).filter(|w| w == b"HTTP/1.1 200").count();
                let keep = tail.len().saturating_sub(11);
                tail.drain(..keep);
            }
        }
        assert!(started.elapsed() < Duration::from_secs(30));
    }
    sender.join().unwrap();
    assert!(answers < REQUESTS, "every answer was written: {answers}");
    assert!(get_within(&exporter.addr, Duration::from_secs(10)).is_some());
}

// ---------------------------------------------------------------------
// TLS and basic auth.

/// A self-signed certificate for 127.0.0.1 and localhost, a bcrypt hash
/// of `secret` for `prometheus`, and the web configuration naming them.
fn web_config(dir: &TempDir) -> (std::path::PathBuf, Vec<u8>) {
    let key =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = key.cert.pem();
    std::fs::write(dir.path("cert.pem"), &cert).unwrap();
    std::fs::write(dir.path("key.pem"), key.signing_key.serialize_pem()).unwrap();
    let hash = bcrypt::hash("secret", 6).unwrap();
    let config = dir.path("web.yml");
    std::fs::write(
        &config,
        format!(
            "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: '{hash}'\n"
        ),
    )
    .unwrap();
    (config, key.cert.der().to_vec())
}

/// A client certificate and its key (DER).
type Identity = (Vec<u8>, Vec<u8>);

/// A TLS connection to `addr` that trusts only `cert`, with `identity`
/// when given.
fn tls_to(
    addr: &str,
    cert: &[u8],
    identity: Option<&Identity>,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(cert.to_vec())).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(cert.clone())],
                PrivatePkcs8KeyDer::from(key.clone()).into(),
            )
            .unwrap(),
    };
    let name = ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    rustls::StreamOwned::new(connection, connect(addr, Duration::from_secs(20)))
}

/// An HTTPS GET of /metrics that trusts only `cert`.
fn https(addr: &str, cert: &[u8], headers: &[&str]) -> Answer {
    exchange(tls_to(addr, cert, None), "GET", "/metrics", headers)
}

fn basic(user_password: &str) -> String {
    use base64::Engine;
    format!(
        "Authorization: Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_password)
    )
}

#[test]
fn tls_with_basic_auth() {
    let dir = TempDir::new("http-tls");
    let (config, cert) = web_config(&dir);
    let exporter = exporter(&["--web.config.file", config.to_str().unwrap()]);
    assert_eq!(exporter.scheme, "https");
    let right = basic("prometheus:secret");
    let ok = https(&exporter.addr, &cert, &[&right]);
    assert_eq!(ok.code(), 200, "{}", ok.status);
    assert!(ok.text().contains("cantal_exporter_http_requests_total"));
    let none = https(&exporter.addr, &cert, &[]);
    assert_eq!(none.code(), 401);
    assert!(
        none.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic realm=")),
        "{}",
        none.headers
    );
    let wrong = basic("prometheus:wrong");
    assert_eq!(https(&exporter.addr, &cert, &[&wrong]).code(), 401);
    let stranger = basic("mallory:secret");
    assert_eq!(https(&exporter.addr, &cert, &[&stranger]).code(), 401);
    // Plain HTTP on the TLS port gets no answer.
    let mut plain = connect(&exporter.addr, Duration::from_secs(10));
    let _ = plain.write_all(b"GET /metrics HTTP/1.0\r\n\r\n");
    let mut response = Vec::new();
    let _ = plain.read_to_end(&mut response);
    assert!(!response.starts_with(b"HTTP/1.1 200"));
}

/// An address that cannot be bound is a fatal error naming it: exit 1,
/// nothing on stdout.
#[test]
fn an_address_in_use_exits_1_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(BIN)
        .args(["export", "--listen", &addr])
        .args(NOBODY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(out.stdout.is_empty());
}

/// With `client_auth_type: RequireAndVerifyClientCert`, only a client
/// with a certificate signed by `client_ca_file` is answered.
#[test]
fn client_certificates_are_required_and_verified() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let dir = TempDir::new("http-mtls");
    let (config, cert) = web_config(&dir);
    let new_ca = || {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    };
    let ca = new_ca();
    std::fs::write(dir.path("clients.pem"), ca.pem()).unwrap();
    let identity = |issuer: &rcgen::Issuer<'_, KeyPair>| {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["scraper".to_string()]).unwrap();
        let cert = params.signed_by(&key, issuer).unwrap();
        (cert.der().to_vec(), key.serialize_der())
    };
    let trusted = identity(&ca);
    let stranger = identity(&new_ca());
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "  key_file: key.pem\n",
        "  key_file: key.pem\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: clients.pem\n",
    );
    std::fs::write(&config, text).unwrap();
    let exporter = exporter(&["--web.config.file", config.to_str().unwrap()]);
    let right = basic("prometheus:secret");
    let ok = exchange(
        tls_to(&exporter.addr, &cert, Some(&trusted)),
        "GET",
        "/metrics",
        &[&right],
    );
    assert_eq!(ok.code(), 200, "{}", ok.status);
    for identity in [None, Some(&stranger)] {
        let mut tls = tls_to(&exporter.addr, &cert, identity);
        let request = format!("GET /metrics HTTP/1.0\r\n{right}\r\n\r\n");
        let mut response = Vec::new();
        let answered = tls.write_all(request.as_bytes()).is_ok()
            && tls.read_to_end(&mut response).is_ok()
            && !response.is_empty();
        assert!(!answered, "{:?}", String::from_utf8_lossy(&response));
    }
}

#[test]
fn bad_web_config_names_the_key() {
    let dir = TempDir::new("http-badconfig");
    let config = dir.path("web.yml");
    std::fs::write(
        &config,
        "tls_server_config:\n  cert_file: c\n  key_file: k\nrate_limit: {}\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["export", "--listen", "127.0.0.1:0", "--web.config.file"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rate_limit") && err.contains("web.yml"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// A real Prometheus scrapes over HTTPS with basic auth, trusting the
/// test's certificate; its query API says `up == 1`.
#[test]
fn real_prometheus_scrapes_over_tls_with_basic_auth() {
    if !have("prometheus", "CANTAL_PROMETHEUS_TESTS") {
        return;
    }
    let dir = TempDir::new("http-prometheus");
    let (config, _) = web_config(&dir);
    let exporter = exporter(&["--web.config.file", config.to_str().unwrap()]);
    let prometheus = Prometheus::start(
        &dir.0,
        &format!(
            "  - job_name: cantal_tls\n    scheme: https\n    basic_auth:\n      username: prometheus\n      password: secret\n    tls_config:\n      ca_file: {}\n      server_name: localhost\n    static_configs:\n      - targets: ['{}']\n",
            dir.path("cert.pem").display(),
            exporter.addr
        ),
    );
    let up = prometheus.query_until("/api/v1/query?query=up%7Bjob%3D%22cantal_tls%22%7D", |b| {
        b.contains("\"1\"]")
    });
    if let Err(last) = up {
        panic!(
            "Prometheus never saw up == 1; last answer: {last}\n{}",
            exporter.stderr()
        );
    }
}
