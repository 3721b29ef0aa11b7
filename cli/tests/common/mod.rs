//! What the command's cross-process tests share: an exporter started on a
//! free loopback port, a minimal HTTP client, promtool, a real Prometheus
//! server and its query API, and the switches that make tests of
//! installed programs skip or insist.
// Each test binary uses a part of this module.
#![allow(dead_code)]

pub(crate) mod contrib;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_cantal");

/// `cantal export` on a free loopback port, its stderr collected; killed
/// when dropped.
pub(crate) struct Exporter {
    pub(crate) child: Child,
    pub(crate) addr: String,
    /// The URL scheme it printed (`http` or `https`).
    pub(crate) scheme: String,
    stderr: Arc<Mutex<String>>,
}

impl Exporter {
    pub(crate) fn start(args: &[&str]) -> Exporter {
        Exporter::start_with(Command::new(BIN), args)
    }

    /// Starts `cantal export` with `args`, listening on `listen`.
    pub(crate) fn start_on(listen: &str, args: &[&str]) -> Exporter {
        Exporter::spawn(Command::new(BIN), listen, args)
    }

    /// Starts `command` (BIN, or a wrapper that runs it) with `export` and
    /// `args`.
    pub(crate) fn start_with(command: Command, args: &[&str]) -> Exporter {
        Exporter::spawn(command, "127.0.0.1:0", args)
    }

    fn spawn(mut command: Command, listen: &str, args: &[&str]) -> Exporter {
        let mut child = command
            .args(["export", "--listen", listen])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let rest = line
            .trim_end()
            .strip_prefix("cantal export: listening on ")
            .unwrap_or_else(|| panic!("{line:?}; stderr: {}", stderr.lock().unwrap()));
        let (scheme, rest) = rest.split_once("://").unwrap();
        let addr = rest.split_once('/').unwrap().0.to_string();
        Exporter {
            child,
            addr,
            scheme: scheme.to_string(),
            stderr,
        }
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The exit status, if it has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Waits (at most `limit`) for the exit status.
    pub(crate) fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The resident set size, in bytes.
    pub(crate) fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kb * 1024
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the environment variable `var` is `1`.
pub(crate) fn wanted(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| v == "1")
}

/// Whether `program` runs; when it does not, the test skips, unless `var`
/// is `1`, which makes it fail.
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

/// A child process, killed when dropped.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `sleep` whose environment names `path` as its CANTAL_PATH, once
/// `/proc` shows it (before its exec, `/proc/PID/environ` is still ours).
pub(crate) fn naming(path: &Path) -> KillOnDrop {
    let child = KillOnDrop(
        Command::new("sleep")
            .arg("60")
            .env("CANTAL_PATH", path)
            .spawn()
            .unwrap(),
    );
    let environ = format!("/proc/{}/environ", child.0.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read(&environ).is_ok_and(|e| e.windows(12).any(|w| w == b"CANTAL_PATH=")) {
        assert!(
            Instant::now() < deadline,
            "{environ} never showed CANTAL_PATH"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

/// A process of user 65534 (nobody, through `setpriv`), its environment's
/// `CANTAL_PATH` set to `path`; returned once it runs as that user (root
/// only).
pub(crate) fn process_of_nobody(path: &Path) -> KillOnDrop {
    let child = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .args(["sleep", "60"])
        .env("CANTAL_PATH", path)
        .spawn()
        .unwrap();
    let child = KillOnDrop(child);
    let status = format!("/proc/{}/status", child.0.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    // After setpriv's exec of sleep: the real uid is nobody's.
    while !std::fs::read_to_string(&status)
        .is_ok_and(|s| s.contains("\nUid:\t65534\t") && s.starts_with("Name:\tsleep"))
    {
        assert!(Instant::now() < deadline, "setpriv never ran sleep");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// A minimal HTTP/1.0 GET of `path` from `addr`: the body.
pub(crate) fn get_body(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string())
}

/// A real Prometheus server on a free loopback port, with its data in
/// `dir`; killed when dropped.
pub(crate) struct Prometheus {
    _server: KillOnDrop,
    /// `127.0.0.1:port` of its HTTP API.
    pub(crate) addr: String,
}

impl Prometheus {
    /// Starts Prometheus with its data in `dir`, scraping `target` (an
    /// exporter's `host:port`) every second.
    pub(crate) fn scraping(dir: &Path, target: &str) -> Prometheus {
        Prometheus::start(
            dir,
            &format!("  - job_name: cantal\n    static_configs:\n      - targets: ['{target}']\n"),
        )
    }

    /// As [`scraping`](Prometheus::scraping), also evaluating the rule
    /// files `rules` every second.
    pub(crate) fn scraping_with_rules(dir: &Path, target: &str, rules: &[&Path]) -> Prometheus {
        let files: String = rules
            .iter()
            .map(|r| format!("  - '{}'\n", r.display()))
            .collect();
        Prometheus::start_config(
            dir,
            &format!(
                "  - job_name: cantal\n    static_configs:\n      - targets: ['{target}']\nrule_files:\n{files}"
            ),
        )
    }

    /// Starts Prometheus scraping every second with `scrape_configs` (the
    /// YAML list, indented by two spaces); returns once its API answers
    /// (at most 60 s).
    pub(crate) fn start(dir: &Path, scrape_configs: &str) -> Prometheus {
        Prometheus::start_config(dir, scrape_configs)
    }

    /// A Prometheus that scrapes nothing and receives remote writes
    /// (`--web.enable-remote-write-receiver`) on `port`, its data in `dir`
    /// (started again on the same port and data, it keeps what it had).
    pub(crate) fn receiving(dir: &Path, port: u16) -> Prometheus {
        Prometheus::receiving_with(dir, port, &[])
    }

    /// As [`receiving`](Prometheus::receiving), with more flags (such as
    /// `--web.config.file=...`).
    pub(crate) fn receiving_with(dir: &Path, port: u16, flags: &[&str]) -> Prometheus {
        let all = [&["--web.enable-remote-write-receiver"], flags].concat();
        Prometheus::spawn(dir, "  []\n", port, &all)
    }

    /// As [`start`](Prometheus::start); `rest` is the configuration from
    /// the first scrape config on (other top-level keys may follow it).
    fn start_config(dir: &Path, rest: &str) -> Prometheus {
        Prometheus::spawn(dir, rest, free_port(), &[])
    }

    fn spawn(dir: &Path, rest: &str, port: u16, flags: &[&str]) -> Prometheus {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{rest}"
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
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = KillOnDrop(server);
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "Prometheus never listened");
            std::thread::sleep(Duration::from_millis(100));
        }
        // It listens before its storage is open, answering 503 until then:
        // wait until /-/ready says it is (plain HTTP only; a TLS server is
        // waited for by its caller's retries).
        if !flags.iter().any(|f| f.starts_with("--web.config.file")) {
            while get(&addr, "/-/ready", None).0.split(' ').nth(1) != Some("200") {
                assert!(Instant::now() < deadline, "Prometheus never became ready");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Prometheus {
            _server: server,
            addr,
        }
    }

    /// Asks the query API `path` every half second until `found` holds
    /// for its answer (`Ok`) or 60 s pass (`Err` with the last answer).
    pub(crate) fn query_until(
        &self,
        path: &str,
        found: impl Fn(&str) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = String::new();
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
            if TcpStream::connect(&self.addr).is_err() {
                continue;
            }
            let body = get_body(&self.addr, path);
            if found(&body) {
                return Ok(());
            }
            last = body;
        }
        Err(last)
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

/// Runs this test binary again as a child publisher, with `cmd`'s
/// environment: only its test `child_main`, with the variable `role_var`
/// set to `role` and `CANTAL_APPNAME` to `app`. Returns once the child
/// printed `started`; its other output is drained.
pub(crate) fn spawn_role(mut cmd: Command, role_var: &str, role: &str, app: &str) -> Child {
    cmd.args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
        .env(role_var, role)
        .env("CANTAL_APPNAME", app);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // One reader for every line: the harness may print `running 1 test`
    // before `started`, and both may come in one read, so a reader made
    // for the first line alone could swallow the second with its buffer.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut child = Stopper(Some(child));
    let mut seen = String::new();
    while !seen.contains("started") {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        seen.push_str(&line);
    }
    assert!(seen.contains("started"), "{role} child: {seen}");
    // The rest of its output, drained so that it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    child.0.take().unwrap()
}

/// Stops a child by closing its input when dropped (a child of
/// [`spawn_role`] then removes its files and exits).
pub(crate) struct Stopper(pub(crate) Option<Child>);

impl Drop for Stopper {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
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
