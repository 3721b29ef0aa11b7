//! The Prometheus data model against a real Prometheus (gated on
//! `CANTAL_PROMETHEUS_TESTS=1`, or run when `prometheus` is installed):
//! series that continue across a restart, a recorder histogram that
//! `histogram_quantile()` reads, `sum by` over two processes of one app,
//! a colliding name elsewhere that changes none of our series, and the
//! README's dashboard queries on our library's and the Python client's
//! output. Publishers are child processes (this test binary run again with
//! `CANTAL_PROM_ROLE` set, or python3); the exporter reads only their
//! files.
#![forbid(unsafe_code)]

mod common;

use cantal_core::{
    Branch, Collection, Counter, Float, RequestTracker, State, TimedFork, TimedRequestTracker,
};
use cantal_testkit::TempDir;
use common::{
    Exporter, Prometheus, Stopper, first_line, get, have, promtool_check, python_available,
};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

const ROLE: &str = "CANTAL_PROM_ROLE";

static HTTP: RequestTracker = RequestTracker::new("http", &[]);
/// Its durations in a histogram (microseconds in the file, seconds served).
static API: TimedRequestTracker = TimedRequestTracker::new("api", &[]);
static TICKS: Counter = Counter::new(&[("group", "model"), ("metric", "ticks")]);
static QUEUE: Float = Float::new(&[("metric", "queue_len")]);
static MAIN: State = State::new(&[("state", "main")]);
/// A job whose `work` branch takes about 20 ms each time (its durations in
/// a histogram per branch, microseconds in the file, seconds served).
const JOB_BRANCHES: [&str; 2] = ["work", "wait"];
const WORK: Branch<2> = Branch::named(&JOB_BRANCHES, "work");
const WAIT: Branch<2> = Branch::named(&JOB_BRANCHES, "wait");
static JOB: TimedFork<2> = TimedFork::new(&JOB_BRANCHES, "job", &[]);

// What the colliding process publishes: our names with other types.
static C_REQUESTS: Float = Float::new(&[("group", "http"), ("metric", "requests")]);
static C_QUEUE: Counter = Counter::new(&[("metric", "queue_len")]);
static C_TICKS: Float = Float::new(&[("group", "model"), ("metric", "ticks")]);

/// The children's side; does nothing in a normal test run. Publishes at
/// `CANTAL_PATH`, prints `started`, works until its standard input closes.
#[test]
fn child_main() {
    let Some(role) = std::env::var_os(ROLE) else {
        return;
    };
    match role.to_str() {
        Some("lib") => lib_child(),
        Some("collide") => collide_child(),
        Some("recorder") => recorder_child(),
        other => panic!("role {other:?}"),
    }
}

/// A RequestTracker (every 20 ms a request of 50 ms, every fourth an
/// error), a ticking counter, a level and a state.
fn lib_child() {
    let mut metrics = Collection::growable();
    metrics.register(&HTTP).unwrap();
    metrics.register(&API).unwrap();
    metrics.register(&TICKS).unwrap();
    metrics.register(&QUEUE).unwrap();
    metrics.register(&MAIN).unwrap();
    metrics.register(&JOB).unwrap();
    // Without CANTAL_PATH: the default path.
    let mut publisher = cantal_mmap::Publisher::new();
    if let Some(path) = std::env::var_os("CANTAL_PATH") {
        publisher = publisher.path(path);
    }
    let publication = publisher.publish(metrics).unwrap();
    MAIN.enter("serving");
    QUEUE.set(3.0);
    std::thread::spawn(|| {
        for i in 0u64.. {
            HTTP.requests().incr(1);
            HTTP.total_duration().incr(50);
            if i % 4 == 0 {
                HTTP.errors().incr(1);
            }
            // Nine of ten API requests take 50 ms, one 2 s.
            let took = if i % 10 == 9 { 2_000 } else { 50 };
            API.duration().record_duration(Duration::from_millis(took));
            TICKS.incr(1);
            let mut job = JOB.context();
            job.enter(WORK);
            std::thread::sleep(Duration::from_millis(20));
            job.enter(WAIT);
        }
    });
    println!("started");
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    drop(publication);
}

fn collide_child() {
    let mut metrics = Collection::growable();
    metrics.register(&C_REQUESTS).unwrap();
    metrics.register(&C_QUEUE).unwrap();
    metrics.register(&C_TICKS).unwrap();
    let path = std::env::var_os("CANTAL_PATH").unwrap();
    let publication = cantal_mmap::Publisher::new()
        .path(path)
        .publish(metrics)
        .unwrap();
    C_QUEUE.incr(5);
    println!("started");
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    drop(publication);
}

/// The `metrics` recorder, with bounds in milliseconds: a fixed
/// histogram whose 90th percentile is the bound 250 ms (50 values at 3 ms,
/// 40 at 200 ms, 10 at 3 s), and one that keeps growing in the same
/// proportions. Both are described in milliseconds, so served in seconds.
fn recorder_child() {
    cantal_recorder::Builder::new()
        .buckets(&[
            1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
        ])
        .install()
        .unwrap();
    let path = std::env::var_os("CANTAL_PATH").unwrap();
    let publication = cantal::Builder::new().path(path).start().unwrap();
    metrics::describe_histogram!("fixed", metrics::Unit::Milliseconds, "A fixed histogram");
    metrics::describe_histogram!("latency", metrics::Unit::Milliseconds, "Request latency");
    let record = |name: &'static str| {
        let h = metrics::histogram!(name);
        for (n, v) in [(5, 3.0), (4, 200.0), (1, 3000.0)] {
            for _ in 0..n {
                h.record(v);
            }
        }
    };
    for _ in 0..10 {
        record("fixed");
    }
    std::thread::spawn(move || {
        loop {
            record("latency");
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    // The recorder publishes within its interval (1 s).
    cantal::recorder::installed().unwrap().flush().unwrap();
    println!("started");
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    drop(publication);
}

/// A child of `role` publishing at `path` as app `app`.
fn spawn(role: &str, path: &Path, app: &str) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env("CANTAL_PATH", path);
    spawn_cmd(cmd, role, app)
}

/// A child of `role` run by `cmd`, as app `app`.
fn spawn_cmd(cmd: Command, role: &str, app: &str) -> Child {
    common::spawn_role(cmd, ROLE, role, app)
}

/// A Python reference-client publisher: a RequestTracker `http` doing a
/// request every 20 ms (every fourth an error, 50 ms each) and a state.
const PYTHON: &str = r#"
import cantal, sys, threading, time
http = cantal.RequestTracker("http")
main = cantal.State(state="main")
cantal.start()
main.enter("serving")
def work():
    i = 0
    while True:
        http.requests.incr()
        http.duration.incr(50)
        if i % 4 == 0:
            http.errors.incr()
        i += 1
        time.sleep(0.02)
threading.Thread(target=work, daemon=True).start()
print("started", flush=True)
sys.stdin.read()
"#;

/// An exporter on `listen` that reads only the publications of the
/// processes `pids` (found through /proc, so with their `CANTAL_APPNAME`).
fn exporter(listen: &str, pids: &[u32]) -> Exporter {
    let mut args = vec!["--no-default-dirs".to_string()];
    for pid in pids {
        args.push("--pid".into());
        args.push(pid.to_string());
    }
    Exporter::start_on(listen, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn pid(child: &Stopper) -> u32 {
    child.0.as_ref().map_or(0, Child::id)
}

/// The names and labels (no values) of the exposition's series whose
/// labels contain `needle`.
fn series(text: &str, needle: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains(needle))
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s.to_string()))
        .collect()
}

fn close(values: &[f64], want: f64, tolerance: f64) -> bool {
    values.len() == 1 && (values[0] - want).abs() <= tolerance
}

#[test]
fn a_real_prometheus_reads_the_model() {
    if !have("prometheus", "CANTAL_PROMETHEUS_TESTS") {
        return;
    }
    let dir = TempDir::new("prom-model");
    let pubs = dir.0.join("pubs");
    std::fs::create_dir(&pubs).unwrap();
    let (a, b) = (pubs.join("a"), pubs.join("b"));
    let mut first = Stopper(Some(spawn("lib", &a, "restart")));
    let second = Stopper(Some(spawn("lib", &b, "model")));
    let third = Stopper(Some(spawn("lib", &pubs.join("b2"), "model")));
    let recorder = Stopper(Some(spawn("recorder", &pubs.join("rec"), "rec")));
    let python = python_available().then(|| {
        let mut cmd = Command::new("python3");
        cmd.args(["-c", PYTHON])
            .env("CANTAL_PATH", pubs.join("py"))
            .env("CANTAL_APPNAME", "py");
        let (child, line) = first_line(&mut cmd);
        assert_eq!(line, "started\n");
        Stopper(Some(child))
    });
    let collide = Stopper(Some(spawn("collide", &pubs.join("c"), "other")));
    let mut pids: Vec<u32> = [&second, &third, &recorder, &collide]
        .into_iter()
        .chain(python.as_ref())
        .map(pid)
        .collect();
    let listen = format!("127.0.0.1:{}", common::free_port());
    // First without the colliding process, then with it.
    let mut exporter = self::exporter(&listen, &[pid(&first)]);

    // A colliding name in another process changes none of our series.
    let path_a = format!("path=\"{}\"", a.display());
    let before = series(&get(&exporter.addr, "/metrics", None).2, &path_a);
    assert!(
        before.contains(&format!(
            "cantal_http_requests_total{{appname=\"restart\",{path_a}}}"
        )),
        "{before:?}"
    );
    drop(exporter);
    let everyone: Vec<u32> = pids.iter().copied().chain([pid(&first)]).collect();
    exporter = self::exporter(&listen, &everyone);
    let exposition = get(&exporter.addr, "/metrics", None).2;
    assert_eq!(series(&exposition, &path_a), before);
    assert!(
        exposition.contains("\ncantal_queue_len_total{appname=\"other\""),
        "{exposition}"
    );
    if have("promtool", "CANTAL_PROMETHEUS_TESTS") {
        promtool_check(&exposition).unwrap_or_else(|e| panic!("promtool: {e}\n{exposition}"));
    }

    let prometheus = Prometheus::scraping(&dir.0, &exporter.addr);
    let long = Duration::from_secs(60);
    let model = "appname=\"model\"";
    // sum by over the two processes of one app: both are counted.
    let two = prometheus.wait(
        &format!("count by (appname) (cantal_http_requests_total{{{model}}})"),
        long,
        |v| v == [2.0],
    );
    assert_eq!(two, [2.0]);
    let sum = prometheus.query(&format!("sum by (appname) (cantal_queue_len{{{model}}})"));
    assert_eq!(sum, [6.0]);
    // The other process's counter of that name is a series of its own
    // (in OpenMetrics, which Prometheus asks for, the two families share
    // the name cantal_queue_len; both are ingested).
    let theirs = prometheus.query("cantal_queue_len_total{appname=\"other\"}");
    assert_eq!(theirs, [5.0]);

    // The README's queries.
    dashboards(&prometheus, model);
    if python.is_some() {
        dashboards(&prometheus, "appname=\"py\"");
    }
    histograms(&prometheus);
    core_histograms(&prometheus, model);
    branch_histograms(&prometheus, model);

    // A restart with the same path continues the same series: Prometheus
    // sees a reset.
    let ticks = format!("cantal_model_ticks_total{{{path_a}}}");
    let high = prometheus.wait(&ticks, long, |v| v.len() == 1 && v[0] > 50.0);
    assert!(high.len() == 1 && high[0] > 50.0, "{high:?}");
    drop(first.0.take().map(|mut c| {
        drop(c.stdin.take());
        c.wait()
    }));
    first.0 = Some(spawn("lib", &a, "restart"));
    // A new pid: the exporter (on the same address) is told.
    drop(exporter);
    pids.push(pid(&first));
    let _exporter = self::exporter(&listen, &pids);
    let low = prometheus.wait(&ticks, long, |v| v.len() == 1 && v[0] < high[0]);
    assert!(
        low.len() == 1 && low[0] < high[0],
        "no restart seen: {low:?}"
    );
    let resets = prometheus.query(&format!("resets({ticks}[5m])"));
    assert!(resets.len() == 1 && resets[0] >= 1.0, "{resets:?}");
    let one = prometheus.query(&format!("count(count_over_time({ticks}[5m]))"));
    assert_eq!(one, [1.0], "one series across the restart");
    let rate = prometheus.wait(&format!("rate({ticks}[1m])"), long, |v| {
        v.len() == 1 && v[0] > 5.0
    });
    assert!(rate.len() == 1 && rate[0] > 5.0, "{rate:?}");
}

/// `histogram_quantile()` on a `TimedFork`'s `branch_duration` histogram
/// of the branch `work`, which takes 20 ms and a little more each time:
/// the median is in the bucket of 20 ms or the next (16384 to 24576 µs
/// with the default buckets), allowing for a slow machine up to 66 ms; a
/// unit wrong by a factor of 1000 (µs as s, or ms) would be far outside.
fn branch_histograms(prometheus: &Prometheus, app: &str) {
    let p50 = format!(
        "histogram_quantile(0.5, sum by (le) (rate(cantal_branch_duration_seconds_bucket{{{app},state=\"job.work\"}}[5m])))"
    );
    let within = |v: &[f64]| v.len() == 1 && v[0] > 0.016 && v[0] <= 0.066;
    let v = prometheus.wait(&p50, Duration::from_secs(60), within);
    assert!(within(&v), "{}", prometheus.query_raw(&p50));
}

/// Request rate, error ratio, mean latency, requests in progress and state
/// age for the app `app` (a label matcher), as in the README.
fn dashboards(prometheus: &Prometheus, app: &str) {
    let long = Duration::from_secs(60);
    let rate = format!("sum by (appname) (rate(cantal_http_requests_total{{{app}}}[5m]))");
    let v = prometheus.wait(&rate, long, |v| v.len() == 1 && v[0] > 1.0);
    assert!(v.len() == 1 && v[0] > 1.0, "{app} request rate: {v:?}");
    let errors = format!("sum by (appname) (rate(cantal_http_errors_total{{{app}}}[5m])) / {rate}");
    let v = prometheus.wait(&errors, long, |v| close(v, 0.25, 0.05));
    assert!(close(&v, 0.25, 0.05), "{app} error ratio: {v:?}");
    let latency = format!(
        "sum by (appname) (rate(cantal_http_duration_seconds_total{{{app}}}[5m])) / {rate}"
    );
    let v = prometheus.wait(&latency, long, |v| close(v, 0.05, 0.005));
    assert!(close(&v, 0.05, 0.005), "{app} mean latency: {v:?}");
    let age = format!("max(time() - cantal_state_start_seconds{{{app},state=\"main\"}})");
    let v = prometheus.query(&age);
    assert!(
        v.len() == 1 && (0.0..600.0).contains(&v[0]),
        "{app} state age: {v:?}"
    );
}

/// `histogram_quantile()` on the recorder's histograms.
fn histograms(prometheus: &Prometheus) {
    let long = Duration::from_secs(60);
    let fixed = "histogram_quantile(0.9, cantal_fixed_seconds_bucket{appname=\"rec\"})";
    let v = prometheus.wait(fixed, long, |v| v == [0.25]);
    assert_eq!(v, [0.25], "{}", prometheus.query_raw(fixed));
    // Recorded in milliseconds, served in seconds.
    let sum = prometheus.query("cantal_fixed_seconds_sum{appname=\"rec\"}");
    assert!(
        close(&sum, 10.0 * (5.0 * 0.003 + 4.0 * 0.2 + 3.0), 1e-9),
        "{sum:?}"
    );
    let count = prometheus.query("cantal_fixed_seconds_count{appname=\"rec\"}");
    assert_eq!(count, [100.0]);
    // p99 as in the README: in the bucket (2.5, 5] seconds.
    let p99 = "histogram_quantile(0.99, sum by (le) (rate(cantal_latency_seconds_bucket{appname=\"rec\"}[5m])))";
    let v = prometheus.wait(p99, long, |v| v.len() == 1 && v[0] > 2.5 && v[0] <= 5.0);
    assert!(
        v.len() == 1 && v[0] > 2.5 && v[0] <= 5.0,
        "{}",
        prometheus.query_raw(p99)
    );
}

/// `histogram_quantile()` on a `TimedRequestTracker`'s duration histogram
/// (the core's buckets, not cumulative in the file, in microseconds): the
/// median is in the default bucket (49152, 65536] µs that holds 50 ms, the
/// 95th percentile in the one that holds 2 s, (1572864, 2097152] µs.
fn core_histograms(prometheus: &Prometheus, app: &str) {
    let long = Duration::from_secs(60);
    let quantile = |q: f64| {
        format!(
            "histogram_quantile({q}, sum by (le) (rate(cantal_api_request_duration_seconds_bucket{{{app}}}[5m])))"
        )
    };
    let within = |low: f64, high: f64| move |v: &[f64]| v.len() == 1 && v[0] > low && v[0] <= high;
    let p50 = quantile(0.5);
    let v = prometheus.wait(&p50, long, within(0.049152, 0.065536));
    assert!(
        within(0.049152, 0.065536)(&v),
        "{}",
        prometheus.query_raw(&p50)
    );
    let p95 = quantile(0.95);
    let v = prometheus.wait(&p95, long, within(1.572864, 2.097152));
    assert!(
        within(1.572864, 2.097152)(&v),
        "{}",
        prometheus.query_raw(&p95)
    );
    let mean = format!(
        "sum(rate(cantal_api_request_duration_seconds_sum{{{app}}}[5m])) / sum(rate(cantal_api_request_duration_seconds_count{{{app}}}[5m]))"
    );
    let v = prometheus.wait(&mean, long, |v| close(v, 0.245, 0.03));
    assert!(close(&v, 0.245, 0.03), "{}", prometheus.query_raw(&mean));
}

/// The built example binaries (`cargo test --workspace` builds them into
/// `target/debug/examples`), when they are there.
fn examples_dir() -> Option<std::path::PathBuf> {
    // This test is target/debug/deps/prom_model-<hash>.
    let dir = std::env::current_exe()
        .ok()?
        .parent()?
        .parent()?
        .join("examples");
    let all = [
        "tutorial",
        "demo",
        "requests",
        "worker",
        "axum",
        "connections",
    ];
    if all.iter().all(|e| dir.join(e).is_file()) {
        return Some(dir);
    }
    assert!(
        !common::wanted("CANTAL_EXAMPLES_TESTS"),
        "CANTAL_EXAMPLES_TESTS=1 but the examples are not built in {}",
        dir.display()
    );
    println!("SKIPPED: the examples are not built ({})", dir.display());
    None
}

/// The meta text an example printed after `meta:`.
fn printed_meta(stdout: &str) -> String {
    let (_, rest) = stdout.split_once("meta:\n").expect("no meta printed");
    rest.split_once("\n\n")
        .map_or(rest, |(meta, _)| meta)
        .to_string()
}

/// promtool accepts the exposition of every example in the repository:
/// those that publish files run with `CANTAL_PATH` in a private directory;
/// those that print their meta text (`requests`, `worker`) have it written
/// to a publication whose values file this test locks.
#[test]
fn promtool_accepts_every_example() {
    let Some(examples) = examples_dir() else {
        return;
    };
    if !have("promtool", "CANTAL_PROMETHEUS_TESTS") {
        return;
    }
    let dir = TempDir::new("examples");
    let mut checked = Vec::new();
    // Running publishers, found through their pids.
    for (name, env, args) in [
        ("tutorial", None, &["--for", "60"][..]),
        ("demo", Some(("CANTAL_DEMO_ROLE", "publisher")), &[][..]),
        ("axum", None, &["--for", "60"][..]),
        ("connections", None, &["--for", "60"][..]),
    ] {
        let base = dir.0.join(name);
        let mut cmd = Command::new(examples.join(name));
        cmd.args(args)
            .env("CANTAL_PATH", &base)
            .env("CANTAL_APPNAME", name)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null());
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let child = common::KillOnDrop(cmd.spawn().unwrap());
        let meta = base.with_extension("meta");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !meta.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "{name} never published"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let exporter = exporter("127.0.0.1:0", &[child.0.id()]);
        checked.push((name, get(&exporter.addr, "/metrics", None).2));
    }
    // Examples that print their meta text.
    for name in ["requests", "worker"] {
        let out = Command::new(examples.join(name)).output().unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta = printed_meta(&String::from_utf8_lossy(&out.stdout));
        let layout = cantal_mmap::read::ParsedMeta::parse(meta.as_bytes(), name).unwrap();
        let base = dir.0.join(name);
        let values = std::fs::File::create(base.with_extension("values")).unwrap();
        values.set_len(layout.size()).unwrap();
        values.try_lock().unwrap();
        std::fs::write(base.with_extension("meta"), &meta).unwrap();
        let exporter = Exporter::start(&[
            "--no-proc",
            "--no-default-dirs",
            "--dir",
            base.parent().unwrap().to_str().unwrap(),
        ]);
        checked.push((name, get(&exporter.addr, "/metrics", None).2));
        drop(values);
        std::fs::remove_file(base.with_extension("meta")).unwrap();
    }
    for (name, text) in checked {
        let path = format!("path=\"{}\"", dir.0.join(name).display());
        let ours = text
            .lines()
            .filter(|l| l.contains(&path) && !l.starts_with("cantal_up"))
            .count();
        assert!(ours > 0, "{name}: no series of its own\n{text}");
        promtool_check(&text).unwrap_or_else(|e| panic!("{name}: promtool: {e}\n{text}"));
    }
}

/// A library publisher at its default path (no `CANTAL_PATH`, no
/// `XDG_RUNTIME_DIR`: `/tmp/cantal.<uid>.<pid>`).
fn spawn_default(app: &str) -> Stopper {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env_remove("CANTAL_PATH").env_remove("XDG_RUNTIME_DIR");
    Stopper(Some(spawn_cmd(cmd, "lib", app)))
}

/// The `path` labels of the `cantal_model_ticks_total` series of app `app`.
fn tick_paths(pids: &[u32], app: &str) -> Vec<String> {
    // Default-path files are found in the default directories, looking
    // only at the names of these pids.
    let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
    let args: Vec<&str> = pids.iter().flat_map(|p| ["--pid", p.as_str()]).collect();
    let exporter = Exporter::start(&args);
    let body = get(&exporter.addr, "/metrics", None).2;
    let mut paths: Vec<String> = body
        .lines()
        .filter(|l| l.starts_with(&format!("cantal_model_ticks_total{{appname=\"{app}\",")))
        .filter_map(|l| {
            let at = l.find("path=\"")? + "path=\"".len();
            Some(l[at..at + l[at..].find('"')?].to_string())
        })
        .collect();
    paths.sort();
    paths
}

/// A process at its default path keeps its series when it restarts (the
/// pid is not in `path`), and a second one running at once gets its own.
#[test]
fn a_default_path_keeps_its_series_across_a_restart() {
    let uid = std::fs::metadata("/proc/self").map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid()
    });
    let normal = format!("/tmp/cantal.{}", uid.unwrap());
    let app = format!("default-{}", std::process::id());
    let first = spawn_default(&app);
    assert_eq!(
        tick_paths(&[pid(&first)], &app),
        std::slice::from_ref(&normal)
    );
    let second = spawn_default(&app);
    let both = tick_paths(&[pid(&first), pid(&second)], &app);
    // The smaller pid keeps the normalised path.
    let larger = pid(&first).max(pid(&second));
    assert_eq!(both, [normal.clone(), format!("{normal}.{larger}")]);
    drop(second);
    drop(first);
    let restarted = spawn_default(&app);
    assert_eq!(tick_paths(&[pid(&restarted)], &app), [normal]);
}
