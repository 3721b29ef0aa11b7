//! `cantal export --remote-write` into a real Prometheus started with its
//! remote-write receiver (gated like the other Prometheus tests:
//! `CANTAL_PROMETHEUS_TESTS=1`): exact values queried back through the
//! HTTP API, and the samples of an outage of the receiver delivered once
//! it is back.
#![forbid(unsafe_code)]

mod common;

use cantal_core::{Collection, Counter};
use cantal_testkit::TempDir;
use common::{Exporter, Prometheus, free_port, get_body, have};
use std::time::{Duration, Instant};

static PUSHED: Counter = Counter::new(&[("metric", "pushed")]);
/// The other test's counter: a handle is published once.
static REFUSED: Counter = Counter::new(&[("metric", "refused")]);

/// Publishes `counter` alone in a directory `pubs` of `dir` (alive: this
/// process holds the lock), for `--dir`.
fn publish(
    dir: &TempDir,
    counter: &'static Counter,
) -> (std::path::PathBuf, cantal_mmap::Publication<'static>) {
    let pubs = dir.path("pubs");
    std::fs::create_dir(&pubs).unwrap();
    let mut metrics = Collection::growable();
    metrics.register(counter).unwrap();
    let publication = cantal_mmap::Publisher::new()
        .path(pubs.join("app"))
        .publish(metrics)
        .unwrap();
    (pubs, publication)
}

/// Every raw sample of `series` over the last 10 minutes: (unix seconds,
/// value).
fn raw_samples(prometheus: &Prometheus, series: &str) -> Vec<(f64, f64)> {
    let answer = prometheus.query_raw(&format!("{series}[10m]"));
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
    v["data"]["result"][0]["values"]
        .as_array()
        .map(|values| {
            values
                .iter()
                .filter_map(|p| Some((p[0].as_f64()?, p[1].as_str()?.parse().ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits (at most 60 s) until `found` holds for the raw samples.
fn wait_samples(
    prometheus: &Prometheus,
    series: &str,
    found: impl Fn(&[(f64, f64)]) -> bool,
) -> Vec<(f64, f64)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let samples = raw_samples(prometheus, series);
        if found(&samples) || Instant::now() > deadline {
            return samples;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// `cantal export` of the publications in `pubs`, pushing to `url` every
/// half second, with more flags `extra`.
fn pushing(pubs: &std::path::Path, url: &str, extra: &[&str]) -> Exporter {
    let pubs = pubs.to_str().unwrap();
    let base = [
        "--no-proc",
        "--no-default-dirs",
        "--dir",
        pubs,
        "--remote-write",
        url,
        "--remote-write.interval",
        "0.5",
    ];
    Exporter::start(&[&base[..], extra].concat())
}

/// The value of the exporter's own series `line` (name and labels, then a
/// space) in `own`; -1 when it has none.
fn own_value(own: &str, line: &str) -> f64 {
    own.lines()
        .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
        .unwrap_or(-1.0)
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn remote_write_delivers_exact_values_and_survives_an_outage() {
    if !have("prometheus", "CANTAL_PROMETHEUS_TESTS") {
        return eprintln!("skipped: prometheus is not installed");
    }
    let dir = TempDir::new("push");
    let (pubs, publication) = publish(&dir, &PUSHED);
    PUSHED.incr(42);

    let port = free_port();
    let prometheus = Prometheus::receiving(&dir.0, port);
    let url = format!("http://127.0.0.1:{port}/api/v1/write");
    let exporter = pushing(&pubs, &url, &["--remote-write.label", "instance=test"]);
    let series = "cantal_pushed_total{job=\"cantal\",instance=\"test\"}";
    let before = wait_samples(&prometheus, series, |s| s.iter().any(|&(_, v)| v == 42.0));
    assert!(
        before.iter().any(|&(_, v)| v == 42.0),
        "{before:?}\n{}\nexporter stderr: {}",
        prometheus.query_raw(series),
        exporter.stderr()
    );

    // The receiver goes away; what is scraped meanwhile waits in the queue.
    drop(prometheus);
    let outage_start = unix_now();
    PUSHED.incr(100);
    std::thread::sleep(Duration::from_secs(3));
    let outage_end = unix_now();
    PUSHED.incr(858);
    let prometheus = Prometheus::receiving(&dir.0, port);
    let after = wait_samples(&prometheus, series, |s| s.iter().any(|&(_, v)| v == 1000.0));
    let during: Vec<&(f64, f64)> = after
        .iter()
        .filter(|&&(t, v)| v == 142.0 && t >= outage_start - 0.5 && t <= outage_end + 0.5)
        .collect();
    assert!(
        during.len() >= 3,
        "samples scraped during the outage not delivered: {after:?}\n{}",
        exporter.stderr()
    );
    assert!(after.iter().any(|&(_, v)| v == 1000.0), "{after:?}");
    // The exporter counted the failed attempts and dropped nothing.
    let own = get_body(&exporter.addr, "/metrics");
    let value = |line: &str| own_value(&own, line);
    assert!(
        value("cantal_exporter_remote_write_failures_total ") >= 1.0,
        "{own}"
    );
    assert_eq!(
        value("cantal_exporter_remote_write_samples_total{result=\"dropped\"} "),
        0.0
    );
    assert_eq!(
        value("cantal_exporter_remote_write_samples_total{result=\"rejected\"} "),
        0.0
    );
    assert!(
        exporter.stderr().contains("retrying in"),
        "{}",
        exporter.stderr()
    );
    drop(publication);
}

/// A receiver that answers every request with `status` and counts them.
fn fake_receiver(status: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (addr, count)
}

/// A 4xx is not retried (each request is sent once, its samples counted
/// as rejected); a 5xx is retried with back-off (failures counted,
/// nothing rejected).
#[test]
fn refusals_are_dropped_and_server_errors_retried() {
    let dir = TempDir::new("push-fake");
    let (pubs, publication) = publish(&dir, &REFUSED);
    for (status, refused) in [
        ("400 Bad Request", true),
        ("503 Service Unavailable", false),
    ] {
        let (addr, count) = fake_receiver(status);
        let url = format!("http://{addr}/api/v1/write");
        let exporter = pushing(&pubs, &url, &[]);
        std::thread::sleep(Duration::from_millis(2600));
        let own = get_body(&exporter.addr, "/metrics");
        let requests = count.load(std::sync::atomic::Ordering::SeqCst) as f64;
        let rejected = own_value(
            &own,
            "cantal_exporter_remote_write_samples_total{result=\"rejected\"} ",
        );
        let failures = own_value(&own, "cantal_exporter_remote_write_failures_total ");
        if refused {
            // About five scrapes (fewer under load), each sent once and refused.
            assert!(
                (2.0..=8.0).contains(&requests),
                "{requests} requests\n{own}"
            );
            assert!(rejected > 0.0 && failures == 0.0, "{own}");
        } else {
            // Retried after 1 s, then 2 s: about 2 attempts, not 5.
            assert!(
                (1.0..=3.0).contains(&requests),
                "{requests} requests\n{own}"
            );
            assert!(failures >= 1.0 && rejected == 0.0, "{own}");
        }
    }
    drop(publication);
}

static OVER_TLS: Counter = Counter::new(&[("metric", "over_tls")]);

/// A certificate authority and a certificate it signed for 127.0.0.1,
/// written as `ca.pem`, `cert.pem` and `key.pem` in `dir`.
fn certificates(dir: &TempDir) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    std::fs::write(dir.path("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.path("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path("key.pem"), key.serialize_pem()).unwrap();
}

/// Over TLS with basic auth, into a real Prometheus whose web
/// configuration asks for both: accepted with the right CA and password;
/// refused (401, not retried) with a wrong password; failing (retried)
/// with a CA that did not sign its certificate.
#[test]
fn remote_write_over_tls_with_basic_auth() {
    if !have("prometheus", "CANTAL_PROMETHEUS_TESTS") {
        return eprintln!("skipped: prometheus is not installed");
    }
    let dir = TempDir::new("push-tls");
    certificates(&dir);
    let hash = bcrypt::hash("secret", 6).unwrap();
    let web = dir.path("web.yml");
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  writer: '{hash}'\n"
        ),
    )
    .unwrap();
    let (pubs, publication) = publish(&dir, &OVER_TLS);
    let port = free_port();
    let _prometheus = Prometheus::receiving_with(
        &dir.0,
        port,
        &[&format!("--web.config.file={}", web.display())],
    );
    std::fs::write(dir.path("right"), "writer:secret\n").unwrap();
    std::fs::write(dir.path("wrong"), "writer:guess\n").unwrap();
    // Another CA: signed nothing the server has.
    let other = TempDir::new("push-tls-other");
    certificates(&other);
    let url = format!("https://127.0.0.1:{port}/api/v1/write");
    let run = |password: &str, ca: &std::path::Path| {
        let auth = dir.path(password);
        let exporter = pushing(
            &pubs,
            &url,
            &[
                "--remote-write.ca-file",
                ca.to_str().unwrap(),
                "--remote-write.basic-auth-file",
                auth.to_str().unwrap(),
            ],
        );
        std::thread::sleep(Duration::from_millis(2000));
        let own = get_body(&exporter.addr, "/metrics");
        let value = |line: &str| own_value(&own, line);
        let result = |r: &str| {
            value(&format!(
                "cantal_exporter_remote_write_samples_total{{result=\"{r}\"}} "
            ))
        };
        (
            result("sent"),
            result("rejected"),
            value("cantal_exporter_remote_write_failures_total "),
            exporter.stderr(),
        )
    };
    let (sent, rejected, failures, stderr) = run("right", &dir.path("ca.pem"));
    assert!(
        sent > 0.0 && rejected == 0.0 && failures == 0.0,
        "{sent} {rejected} {failures}\n{stderr}"
    );
    let (sent, rejected, failures, stderr) = run("wrong", &dir.path("ca.pem"));
    assert!(
        sent == 0.0 && rejected > 0.0 && failures == 0.0,
        "{sent} {rejected} {failures}\n{stderr}"
    );
    assert!(stderr.contains("401"), "{stderr}");
    let (sent, rejected, failures, stderr) = run("right", &other.path("ca.pem"));
    assert!(
        sent == 0.0 && rejected == 0.0 && failures >= 1.0,
        "{sent} {rejected} {failures}\n{stderr}"
    );
    assert!(stderr.contains("TLS"), "{stderr}");
    drop(publication);
}
