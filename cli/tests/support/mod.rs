//! What the `cantal` binary's test files share: an exporter on a free
//! port, a minimal HTTP client, the gates of the optional tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `cantal` binary.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_cantal");

/// `cantal export` on a free loopback port; killed when dropped.
pub(crate) struct Exporter {
    child: Child,
    /// `host:port`.
    pub(crate) addr: String,
}

impl Exporter {
    /// Starts `cantal export` with `args` on a free port.
    pub(crate) fn start(args: &[&str]) -> Exporter {
        Exporter::start_on("127.0.0.1:0", args)
    }

    /// Starts `cantal export` with `args`, listening on `listen`.
    pub(crate) fn start_on(listen: &str, args: &[&str]) -> Exporter {
        let mut cmd = Command::new(BIN);
        cmd.args(["export", "--listen", listen]).args(args);
        let (child, line) = first_line(&mut cmd);
        let addr = line
            .trim_end()
            .strip_prefix("cantal export: listening on http://")
            .and_then(|s| s.strip_suffix("/metrics"))
            .unwrap_or_else(|| panic!("{line}"))
            .to_string();
        Exporter { child, addr }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.0 GET: (status line, headers, body).
pub(crate) fn get(addr: &str, path: &str, accept: Option<&str>) -> (String, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_string(), headers.to_string(), body.to_string())
}

pub(crate) fn wanted(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| v == "1")
}

pub(crate) fn have(program: &str, var: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(!wanted(var), "{var}=1 but {program} is missing");
        println!("SKIPPED: {program}");
    }
    ok
}

/// Spawns `cmd` with piped standard input and output; returns it with
/// the first line it printed.
pub(crate) fn first_line(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

/// A child process killed when dropped.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether python3 can import the reference client (asserting so under
/// `CANTAL_PYTHON_TESTS=1`).
pub(crate) fn python_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import cantal"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CANTAL_PYTHON_TESTS").is_none_or(|v| v != "1"),
            "CANTAL_PYTHON_TESTS=1 but python3 cannot import cantal"
        );
        println!("SKIPPED: python3 -c 'import cantal' fails");
    }
    ok
}

/// A real Prometheus server scraping `cantal export`, in a temporary
/// directory; killed when dropped.
pub(crate) struct Prometheus {
    _server: KillOnDrop,
    /// `127.0.0.1:port` of its HTTP API.
    pub(crate) addr: String,
}

impl Prometheus {
    /// Starts Prometheus with its data in `dir`, scraping `target` (an
    /// exporter's `host:port`) every second; returns once its API answers
    /// (at most 60 s).
    pub(crate) fn start(dir: &std::path::Path, target: &str) -> Prometheus {
        let port = free_port();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: cantal\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let server = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = KillOnDrop(server);
        let addr = format!("127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(&addr).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "Prometheus never listened"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Prometheus {
            _server: server,
            addr,
        }
    }

    /// The raw JSON answer of an instant query.
    pub(crate) fn query_raw(&self, expr: &str) -> String {
        get(
            &self.addr,
            &format!("/api/v1/query?query={}", encode(expr)),
            None,
        )
        .2
    }

    /// The values of an instant query's result, as numbers (`NaN` too).
    pub(crate) fn query(&self, expr: &str) -> Vec<f64> {
        let body = self.query_raw(expr);
        // Every sample is `"value":[<time>,"<number>"]`.
        body.split("\"value\":[")
            .skip(1)
            .filter_map(|rest| {
                let (_, after) = rest.split_once(",\"")?;
                let (number, _) = after.split_once('"')?;
                number.parse().ok()
            })
            .collect()
    }

    /// Polls `expr` every 500 ms until `want` holds for its values, at
    /// most `timeout`; the last values.
    pub(crate) fn wait(
        &self,
        expr: &str,
        timeout: Duration,
        want: impl Fn(&[f64]) -> bool,
    ) -> Vec<f64> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let values = self.query(expr);
            if want(&values) || std::time::Instant::now() > deadline {
                return values;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Percent-encodes a query parameter.
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Whether promtool accepts `text` (the Prometheus text format); its
/// complaints otherwise.
pub(crate) fn promtool_check(text: &str) -> Result<(), String> {
    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    p.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let o = p.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if o.status.success() && said.trim().is_empty() {
        Ok(())
    } else {
        Err(said)
    }
}
