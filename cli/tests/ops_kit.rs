//! The operations kit of `contrib/` against a real Prometheus (gated on
//! `CANTAL_PROMETHEUS_TESTS=1`, or run when `prometheus` is installed)
//! scraping a real exporter: every query of the Grafana dashboard, its
//! template variables resolved as Grafana resolves them, returns the
//! series this test's publishers serve, with the values they must have;
//! and the alerting rules, loaded into the same Prometheus, record those
//! series and fire on them. `promtool test rules` (in .ci/run) tests the
//! rules on made-up series; this test is what ties them to the real
//! names. cli/tests/ops_files.rs checks the files themselves.
//!
//! Publishers are child processes (this test binary run again with
//! `CANTAL_OPS_ROLE` set), plus a `sleep` whose `CANTAL_PATH` names a
//! malformed publication; the exporter reads only theirs.
#![forbid(unsafe_code)]

mod common;

use cantal_core::{Branch, Collection, Fork, RequestTracker, State};
use cantal_testkit::TempDir;
use common::contrib::{
    contrib, dashboard, panels, str_of, used_variables, variable_query, variables,
};
use common::{Exporter, KillOnDrop, Prometheus, Stopper, encode, get, have};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ROLE: &str = "CANTAL_OPS_ROLE";
/// Every publisher of this test is this app.
const APP: &str = "ops";

static HTTP: RequestTracker = RequestTracker::new("http", &[]);
static MAIN: State = State::new(&[("state", "main")]);
static PHASE: State = State::new(&[("group", "ops"), ("metric", "phase")]);
const BRANCHES: [&str; 2] = ["app", "sql"];
const IN_APP: Branch<2> = Branch::named(&BRANCHES, "app");
const IN_SQL: Branch<2> = Branch::named(&BRANCHES, "sql");
static JOBS: Fork<2> = Fork::new(&BRANCHES, "job", &[]);

/// The children's side; does nothing in a normal test run. Publishes at
/// `CANTAL_PATH`, prints `started`, works until its standard input closes.
#[test]
fn child_main() {
    let Some(role) = std::env::var_os(ROLE) else {
        return;
    };
    match role.to_str() {
        Some("lib") => lib_child(),
        Some("recorder") => recorder_child(),
        other => panic!("role {other:?}"),
    }
}

/// A RequestTracker `http` (every 20 ms a request of 50 ms, every fourth
/// an error), a state `main` ("serving"), a state with a group
/// (`ops.phase`, "loading") and a Fork `job` that spends 10 ms in `app`
/// then 30 ms in `sql`, over and over.
fn lib_child() {
    let mut metrics = Collection::growable();
    metrics.register(&HTTP).unwrap();
    metrics.register(&MAIN).unwrap();
    metrics.register(&PHASE).unwrap();
    metrics.register(&JOBS).unwrap();
    let path = std::env::var_os("CANTAL_PATH").unwrap();
    let publication = cantal_mmap::Publisher::new()
        .path(path)
        .publish(metrics)
        .unwrap();
    MAIN.enter("serving");
    PHASE.enter("loading");
    std::thread::spawn(|| {
        for i in 0u64.. {
            HTTP.requests().incr(1);
            HTTP.total_duration().incr(50);
            if i % 4 == 0 {
                HTTP.errors().incr(1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    std::thread::spawn(|| {
        loop {
            let mut job = JOBS.context();
            job.enter(IN_APP);
            std::thread::sleep(Duration::from_millis(10));
            job.enter(IN_SQL);
            std::thread::sleep(Duration::from_millis(30));
        }
    });
    println!("started");
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    drop(publication);
}

/// The `metrics` recorder: a histogram `latency` described in
/// milliseconds (so served in seconds as `cantal_latency_seconds`), fed
/// every 20 ms with 5 values of 3 ms, 4 of 200 ms and 1 of 3 s.
fn recorder_child() {
    cantal_recorder::Builder::new()
        .buckets(&[
            1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
        ])
        .install()
        .unwrap();
    let path = std::env::var_os("CANTAL_PATH").unwrap();
    let publication = cantal::Builder::new().path(path).start().unwrap();
    metrics::describe_histogram!("latency", metrics::Unit::Milliseconds, "Request latency");
    let latency = metrics::histogram!("latency");
    std::thread::spawn(move || {
        loop {
            for (n, v) in [(5, 3.0), (4, 200.0), (1, 3000.0)] {
                for _ in 0..n {
                    latency.record(v);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    // The recorder publishes within its interval (1 s).
    cantal::recorder::installed().unwrap().flush().unwrap();
    println!("started");
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    drop(publication);
}

fn spawn(role: &str, path: &Path) -> Stopper {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env("CANTAL_PATH", path);
    Stopper(Some(common::spawn_role(cmd, ROLE, role, APP)))
}

fn pid(child: &Stopper) -> u32 {
    child.0.as_ref().map_or(0, Child::id)
}

/// One sample of an instant query's answer.
#[derive(Debug)]
struct Sample {
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of `expr` now, or Prometheus's error.
fn query(prometheus: &Prometheus, expr: &str) -> Result<Vec<Sample>, String> {
    let raw = prometheus.query_raw(expr);
    let answer: Value = serde_json::from_str(&raw).map_err(|e| format!("{e}: {raw}"))?;
    if answer["status"] != "success" {
        return Err(raw);
    }
    let result = &answer["data"]["result"];
    let samples = match answer["data"]["resultType"].as_str() {
        Some("vector") => result.as_array().unwrap().clone(),
        // A scalar answer (not used by the dashboard): one sample.
        Some("scalar") => vec![serde_json::json!({"metric": {}, "value": result})],
        other => return Err(format!("result type {other:?}: {raw}")),
    };
    Ok(samples
        .iter()
        .map(|s| Sample {
            labels: s["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect(),
            value: s["value"][1].as_str().unwrap().parse().unwrap(),
        })
        .collect())
}

/// Polls `expr` every half second until `check` accepts its samples (at
/// most 60 s); the error is the last complaint. A query Prometheus
/// refuses fails at once.
fn wait_for(
    prometheus: &Prometheus,
    expr: &str,
    check: impl Fn(&[Sample]) -> Result<(), String>,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let samples = query(prometheus, expr).map_err(|e| format!("refused: {e}"))?;
        let said = if samples.is_empty() {
            Err("no data".to_string())
        } else {
            check(&samples)
        };
        match said {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() > deadline => return Err(format!("{e}: {samples:?}")),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// A test of a query's samples: what is wrong with them.
type Check = dyn Fn(&[Sample]) -> Result<(), String>;

/// The value of the only sample whose labels include `pairs`.
fn value_of(samples: &[Sample], pairs: &[(&str, &str)]) -> Result<f64, String> {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            pairs
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    match found[..] {
        [one] => Ok(one.value),
        _ => Err(format!("{} samples with {pairs:?}", found.len())),
    }
}

fn within(what: &str, value: f64, low: f64, high: f64) -> Result<(), String> {
    if (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(format!("{what}: {value} outside [{low}, {high}]"))
    }
}

/// The seconds since the Unix epoch now.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// What the query `ref_id` of the panel `title` must answer, for this
/// test's publishers: a RequestTracker `http` (50 requests a second at
/// most, one in four an error, 50 ms each), a Fork `job` (10 ms in `app`,
/// 30 ms in `sql`), states `main` and `ops.phase`, a histogram
/// `latency_seconds`, three publishers of which one is malformed. A panel
/// this does not know fails the test: each new panel gets its check.
fn expected(title: &str, ref_id: &str, s: &[Sample]) -> Result<(), String> {
    let all = |pairs: &[(&str, &str)]| value_of(s, pairs);
    let one = || all(&[]);
    let count = |n: usize| {
        if s.len() == n {
            Ok(())
        } else {
            Err(format!("{} samples, not {n}", s.len()))
        }
    };
    let (app, sql) = (&[("state", "job.app")], &[("state", "job.sql")]);
    match (title, ref_id) {
        ("Publishers served", _) => within(title, one()?, 2.0, 2.0),
        ("Publishers not served", _) => within(title, one()?, 1.0, 1.0),
        ("Publishers not served, and why", _) => within(
            title,
            all(&[("reason", "malformed"), ("appname", APP)])?,
            0.0,
            0.0,
        ),
        ("Not served, by reason", _) => within(title, all(&[("reason", "malformed")])?, 1.0, 1.0),
        ("Requests per second", _) => within(title, all(&[("appname", APP)])?, 5.0, 51.0),
        ("Error ratio", _) => within(title, one()?, 0.2, 0.3),
        ("Mean latency", _) => within(title, one()?, 0.045, 0.055),
        // The child counts requests without request guards.
        ("In progress", _) => within(title, one()?, 0.0, 0.0),
        ("Time in each branch", _) => {
            count(2)?;
            let (a, q) = (all(app)?, all(sql)?);
            within("app", a, 0.01, 1.05)?;
            within("sql", q, a, 1.05)
        }
        ("Branch entries per second", _) => {
            count(2)?;
            within("app", all(app)?, 2.0, 100.0)?;
            within("sql", all(sql)?, 2.0, 100.0)
        }
        ("Mean time per entry", _) => {
            count(2)?;
            let (a, q) = (all(app)?, all(sql)?);
            within("app", a, 0.009, 0.5)?;
            within("sql", q, a.max(0.029), 0.5)
        }
        ("Current states", _) => {
            count(3)?;
            let ms = now() * 1000.0;
            let main = [("family", "cantal_state_start_seconds"), ("state", "main")];
            within(
                "main",
                all(&[main[0], main[1], ("state_text", "serving")])?,
                ms - 600e3,
                ms,
            )?;
            let phase = [
                ("family", "cantal_ops_phase_state_start_seconds"),
                ("state_text", "loading"),
            ];
            within("ops.phase", all(&phase)?, ms - 600e3, ms)?;
            within(
                "the fork",
                all(&[main[0], ("state", "job")])?,
                ms - 600e3,
                ms,
            )
        }
        ("State age", _) => {
            within("main", all(&[("state", "main")])?, 0.0, 600.0)?;
            let phase = [("family", "cantal_ops_phase_state_start_seconds")];
            within("ops.phase", all(&phase)?, 0.0, 600.0)
        }
        // 50 % of the values are 3 ms, 40 % 200 ms, 10 % 3 s: the median
        // and the 90th percentile are the bounds 5 ms and 250 ms (a little
        // either side as the counts of a rate's window go), the 99th is
        // interpolated in (2.5 s, 5 s]: 4.75 s.
        ("Quantiles", "A") => within("p50", one()?, 0.0045, 0.0055),
        ("Quantiles", "B") => within("p90", one()?, 0.23, 0.27),
        ("Quantiles", "C") => within("p99", one()?, 4.5, 5.0),
        ("Mean", _) => within(title, one()?, 0.37, 0.39),
        ("Observations per second", _) => within(title, one()?, 10.0, 600.0),
        ("Scrape duration", _) => within(title, one()?, 0.0, 8.0),
        ("Publishers", _) => {
            within("seen", all(&[("state", "seen")])?, 3.0, 3.0)?;
            within("read", all(&[("state", "read")])?, 2.0, 2.0)
        }
        ("Refused, by reason", _) => {
            count(1)?;
            within(title, all(&[("reason", "malformed")])?, 1.0, 1.0)
        }
        // The malformed publisher, once a scrape (every second).
        ("Read errors per second", _) => within(title, one()?, 0.3, 3.0),
        ("HTTP responses per second", _) => within(title, all(&[("code", "200")])?, 0.3, 3.0),
        ("Layout memory", _) => within(title, one()?, 1.0, 1e9),
        _ => panic!("no expectation for the panel {title:?} query {ref_id}: add one"),
    }
}

/// The values of a variable's `label_values(SELECTOR, LABEL)` query with
/// the variables `chosen` put in, through its regex: Grafana's label
/// values API call, and a regex `/^PREFIX(.+)SUFFIX$/` applied as Grafana
/// does (the capture group is the value).
fn variable_values(
    prometheus: &Prometheus,
    var: &Value,
    chosen: &BTreeMap<String, String>,
) -> Vec<String> {
    let query = substitute(variable_query(var), chosen);
    let inner = query
        .strip_prefix("label_values(")
        .and_then(|q| q.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not label_values(SELECTOR, LABEL): {query}"));
    let (selector, label) = inner.rsplit_once(',').unwrap();
    let path = format!(
        "/api/v1/label/{}/values?match%5B%5D={}",
        label.trim(),
        encode(selector.trim())
    );
    let raw = get(&prometheus.addr, &path, None).2;
    let answer: Value = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{e}: {raw}"));
    assert_eq!(answer["status"], "success", "{query}: {raw}");
    let values = answer["data"].as_array().unwrap().iter();
    let values = values.map(|v| v.as_str().unwrap().to_string());
    let regex = var["regex"].as_str().unwrap_or("");
    if regex.is_empty() {
        return values.collect();
    }
    let (prefix, suffix) = regex
        .strip_prefix("/^")
        .and_then(|r| r.strip_suffix("$/"))
        .and_then(|r| r.split_once("(.+)"))
        .unwrap_or_else(|| panic!("a regex this test cannot apply: {regex}"));
    values
        .filter_map(|v| {
            let middle = v.strip_prefix(prefix)?.strip_suffix(suffix)?;
            (!middle.is_empty()).then(|| middle.to_string())
        })
        .collect()
}

/// `text` with Grafana's variables put in: `$name` and `${name}` of
/// `chosen`, `$__rate_interval` as Grafana computes it for a 1 s scrape
/// interval (at least 4 intervals; a minute, so that rates are stable).
fn substitute(text: &str, chosen: &BTreeMap<String, String>) -> String {
    let mut out = text.replace("$__rate_interval", "1m");
    // Longest names first, so that no name is taken for a prefix of another.
    let mut names: Vec<&String> = chosen.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for name in names {
        let value = &chosen[name];
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    let left = used_variables(&out);
    assert!(left.is_empty(), "{left:?} left in {out}");
    out
}

/// The exporter's series of `name` in the exposition `text`.
fn exposed<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .collect()
}

#[test]
fn the_dashboard_and_the_rules_on_a_real_prometheus() {
    if !have("prometheus", "CANTAL_PROMETHEUS_TESTS") {
        return;
    }
    let dashboard = dashboard();
    let dir = TempDir::new("ops-kit");
    let pubs = dir.0.join("pubs");
    std::fs::create_dir(&pubs).unwrap();
    let lib = spawn("lib", &pubs.join("lib"));
    let recorder = spawn("recorder", &pubs.join("rec"));
    // A running process whose publication is malformed: cantal_up 0
    // with the reason "malformed", an error a scrape.
    let broken = pubs.join("broken");
    std::fs::write(broken.with_extension("meta"), "counter 8: {broken\n").unwrap();
    std::fs::write(broken.with_extension("values"), [0u8; 8]).unwrap();
    let sleeper = KillOnDrop(
        Command::new("sleep")
            .arg("600")
            .env("CANTAL_PATH", &broken)
            .env("CANTAL_APPNAME", APP)
            .spawn()
            .unwrap(),
    );
    let pids = [pid(&lib), pid(&recorder), sleeper.0.id()].map(|p| p.to_string());
    let mut args = vec!["--no-default-dirs"];
    args.extend(pids.iter().flat_map(|p| ["--pid", p.as_str()]));
    let exporter = Exporter::start(&args);
    // What the dashboard and the rules are written for.
    let text = get(&exporter.addr, "/metrics", None).2;
    let up = exposed(&text, "cantal_up");
    assert_eq!(up.len(), 3, "{text}");
    let down: Vec<_> = up.iter().filter(|l| l.ends_with(" 0")).collect();
    assert!(
        down.len() == 1
            && down[0].contains("reason=\"malformed\"")
            && down[0].contains(&format!("appname=\"{APP}\"")),
        "{up:?}"
    );
    for family in [
        "cantal_http_requests_total",
        "cantal_http_errors_total",
        "cantal_http_duration_seconds_total",
        "cantal_http_in_progress",
        "cantal_state_start_seconds",
        "cantal_ops_phase_state_start_seconds",
        "cantal_state_count_total",
        "cantal_state_duration_seconds_total",
        "cantal_latency_seconds_bucket",
        "cantal_exporter_http_requests_total",
    ] {
        assert!(!exposed(&text, family).is_empty(), "no {family}:\n{text}");
    }

    let rules = contrib().join("prometheus/cantal-rules.yml");
    let prometheus = Prometheus::scraping_with_rules(&dir.0, &exporter.addr, &[&rules]);

    // The variables as Grafana resolves them, each with the ones before
    // it chosen: the data source is not a query; job and appname are
    // tried with this test's values and with "All" (their allValue).
    let vars = variables(&dashboard);
    let mut failures = Vec::new();
    let mut queries = 0;
    for all in [false, true] {
        let mut chosen = BTreeMap::new();
        let mut repeats: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for var in &vars[1..] {
            let name = str_of(var, "name").to_string();
            let want: &[&str] = match name.as_str() {
                "job" => &["cantal"],
                "appname" => &[APP],
                "tracker" => &["http"],
                "histogram" => &["latency_seconds"],
                other => panic!("no expected values for the variable {other}"),
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            let values = loop {
                let values = variable_values(&prometheus, var, &chosen);
                if values == want || Instant::now() > deadline {
                    break values;
                }
                std::thread::sleep(Duration::from_millis(500));
            };
            assert_eq!(values, want, "the values of ${name}");
            let value = match var["allValue"].as_str() {
                Some(any) if all => any.to_string(),
                _ => values[0].clone(),
            };
            chosen.insert(name.clone(), value);
            repeats.insert(name, values);
        }
        for (repeat, panel) in panels(&dashboard) {
            let title = str_of(panel, "title");
            // A repeated row's panels, once for each value of its variable.
            let values = repeat.as_ref().map_or(vec![None], |r| {
                repeats[r]
                    .iter()
                    .map(|v| Some((r.clone(), v.clone())))
                    .collect()
            });
            for value in values {
                let mut chosen = chosen.clone();
                chosen.extend(value);
                for target in panel["targets"].as_array().unwrap() {
                    let ref_id = str_of(target, "refId");
                    let expr = substitute(str_of(target, "expr"), &chosen);
                    queries += 1;
                    if let Err(e) = wait_for(&prometheus, &expr, |s| expected(title, ref_id, s)) {
                        failures.push(format!("{title} {ref_id} (all: {all}): {expr}\n  {e}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(queries >= 40, "{queries} queries");

    // The rules, on the same series.
    let app = format!("appname=\"{APP}\"");
    let checks: [(String, &Check); 5] = [
        (
            format!("cantal:tracker_error_ratio:rate5m{{{app},tracker=\"http\"}}"),
            &|s| within("error ratio", value_of(s, &[])?, 0.2, 0.3),
        ),
        (
            format!("cantal:tracker_requests_total{{{app}}}"),
            // One copy, of the tracker: not the exporter's HTTP counter.
            &|s| {
                within(
                    "requests",
                    value_of(s, &[("tracker", "http")])?,
                    1.0,
                    f64::MAX,
                )
            },
        ),
        (format!("cantal:state_age_seconds{{{app}}}"), &|s| {
            let main = [("family", "cantal_state_start_seconds"), ("state", "main")];
            within("main", value_of(s, &main)?, 0.0, 600.0)
        }),
        (
            format!("ALERTS{{alertname=\"CantalPublisherDown\",{app}}}"),
            &|s| within("down", value_of(s, &[("reason", "malformed")])?, 1.0, 1.0),
        ),
        (
            format!("ALERTS{{alertname=\"CantalRequestErrorRatioHigh\",{app}}}"),
            &|s| {
                within(
                    "error ratio",
                    value_of(s, &[("tracker", "http")])?,
                    1.0,
                    1.0,
                )
            },
        ),
    ];
    for (expr, check) in checks {
        wait_for(&prometheus, &expr, check).unwrap_or_else(|e| panic!("{expr}: {e}"));
    }
    // The alerts' templates, rendered on real labels.
    let alerts = get(&prometheus.addr, "/api/v1/alerts", None).2;
    let alerts: Value = serde_json::from_str(&alerts).unwrap();
    let summaries: BTreeSet<&str> = alerts["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| str_of(&a["annotations"], "summary"))
        .collect();
    let down = format!(
        "Cantal publisher {APP} {} is not served (malformed)",
        broken.display()
    );
    assert!(summaries.contains(down.as_str()), "{summaries:?}");
    // humanizePercentage: "25%", "25.03%"...
    let ratio = summaries.iter().find_map(|s| {
        s.strip_prefix(&format!("{APP}: "))?
            .strip_suffix("% of http requests fail")?
            .parse::<f64>()
            .ok()
    });
    assert!(
        ratio.is_some_and(|r| (20.0..=30.0).contains(&r)),
        "{summaries:?}"
    );
    // And nothing else fires: the exporter is up, nobody is stale, no
    // limit is reached, no state is old. (The malformed publisher's
    // errors make CantalExporterReadErrors pending too.)
    let names = query(&prometheus, "count by (alertname) (ALERTS)").unwrap();
    let names: BTreeSet<&str> = names
        .iter()
        .map(|s| s.labels["alertname"].as_str())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "CantalExporterReadErrors",
            "CantalPublisherDown",
            "CantalRequestErrorRatioHigh"
        ])
    );
}
