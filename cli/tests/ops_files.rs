//! The files of `contrib/`, without Prometheus: the Grafana dashboard is
//! JSON Grafana can import (one data source, known variables, panels that
//! fit the grid); every alert is complete, unit-tested both ways and
//! documented; the systemd unit keeps what discovery needs and starts the
//! exporter of this tree with its command line. cli/tests/ops_kit.rs runs
//! them in a real Prometheus.
#![forbid(unsafe_code)]

mod common;

use cantal_testkit::TempDir;
use common::contrib::{
    contrib, dashboard, rules_yaml, str_of, used_variables, variable_query, variables,
};
use common::{Exporter, get};
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn the_dashboard_is_well_formed() {
    let dashboard = dashboard();
    // One data source, chosen by the user: a datasource variable that
    // every panel and every query names.
    let vars = variables(&dashboard);
    let ds = &vars[0];
    assert_eq!(
        (str_of(ds, "name"), str_of(ds, "type"), str_of(ds, "query")),
        ("DS_PROMETHEUS", "datasource", "prometheus")
    );
    let source = serde_json::json!({"type": "prometheus", "uid": "${DS_PROMETHEUS}"});
    let names: BTreeSet<&str> = vars.iter().map(|v| str_of(v, "name")).collect();
    assert_eq!(names.len(), vars.len(), "a variable named twice");
    for want in ["appname", "job", "tracker", "histogram"] {
        assert!(names.contains(want), "no variable {want}");
    }
    for var in &vars[1..] {
        assert_eq!(var["datasource"], source, "{var}");
        assert_eq!(str_of(var, "type"), "query");
        for used in used_variables(variable_query(var)) {
            assert!(names.contains(used.as_str()), "{used} in {var}");
        }
    }
    let mut ids = BTreeSet::new();
    let mut titles = BTreeSet::new();
    // Cells of the 24-column grid already taken, by (x, y).
    let mut taken = BTreeSet::new();
    let mut queries = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        assert!(
            ids.insert(panel["id"].as_u64().unwrap()),
            "id twice: {panel}"
        );
        let grid = &panel["gridPos"];
        let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| grid[k].as_u64().unwrap());
        assert!(w > 0 && h > 0 && x + w <= 24, "{panel}");
        for cell in (x..x + w).flat_map(|x| (y..y + h).map(move |y| (x, y))) {
            assert!(taken.insert(cell), "panels overlap at {cell:?}: {panel}");
        }
        if panel["type"] == "row" {
            if let Some(repeat) = panel["repeat"].as_str() {
                assert!(names.contains(repeat), "{panel}");
            }
            continue;
        }
        assert!(
            titles.insert(str_of(panel, "title")),
            "title twice: {panel}"
        );
        assert_eq!(panel["datasource"], source, "{panel}");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{panel}");
        let refs: BTreeSet<&str> = targets.iter().map(|t| str_of(t, "refId")).collect();
        assert_eq!(refs.len(), targets.len(), "refId twice: {panel}");
        for target in targets {
            assert_eq!(target["datasource"], source, "{target}");
            let expr = str_of(target, "expr");
            for used in used_variables(expr) {
                assert!(
                    names.contains(used.as_str()) || used == "__rate_interval",
                    "{used} in {expr}"
                );
            }
            queries += 1;
        }
    }
    assert!(queries >= 20, "{queries} queries");
}

/// Every alert has a `for`, a severity and both annotations; every alert
/// is unit-tested firing and not firing (promtool only runs the tests
/// there are); every alert and recorded series is in contrib/README.md.
#[test]
fn every_alert_is_complete_tested_and_documented() {
    let rules = rules_yaml("cantal-rules.yml");
    let mut alerts = BTreeSet::new();
    let mut records = BTreeSet::new();
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            if let Some(name) = rule["record"].as_str() {
                records.insert(name.to_string());
                continue;
            }
            let name = str_of(rule, "alert");
            assert!(
                rule["for"].as_str().is_some_and(|f| !f.is_empty()),
                "{name}: for"
            );
            let severity = str_of(&rule["labels"], "severity");
            assert!(
                ["critical", "warning", "info"].contains(&severity),
                "{name}: {severity}"
            );
            for key in ["summary", "description"] {
                assert!(
                    !str_of(&rule["annotations"], key).is_empty(),
                    "{name}: {key}"
                );
            }
            assert!(alerts.insert(name.to_string()), "{name} twice");
        }
    }
    assert!(alerts.len() >= 9, "{alerts:?}");
    // Per alert: (seen firing, seen not firing).
    let mut tested: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    let tests = rules_yaml("cantal-rules.test.yml");
    for test in tests["tests"].as_array().unwrap() {
        for case in test["alert_rule_test"].as_array().into_iter().flatten() {
            let seen = tested
                .entry(str_of(case, "alertname").to_string())
                .or_default();
            if case["exp_alerts"].as_array().is_some_and(|a| !a.is_empty()) {
                seen.0 = true;
            } else {
                seen.1 = true;
            }
        }
    }
    for alert in &alerts {
        assert_eq!(
            tested.get(alert),
            Some(&(true, true)),
            "{alert}: (firing, not firing) tested"
        );
    }
    let readme = std::fs::read_to_string(contrib().join("README.md")).unwrap();
    for name in alerts.iter().chain(&records) {
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} is not in contrib/README.md"
        );
    }
}

/// The settings of the systemd unit's `[Service]` section, by key (a key
/// given twice keeps each value).
fn unit_settings() -> BTreeMap<String, Vec<String>> {
    let path = contrib().join("systemd/cantal-exporter.service");
    let text = std::fs::read_to_string(path).unwrap();
    let mut section = "";
    let mut settings: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if let Some((key, value)) = line.split_once('=')
            && section == "[Service]"
            && !line.starts_with('#')
        {
            settings
                .entry(key.to_string())
                .or_default()
                .push(value.to_string());
        }
    }
    settings
}

/// What the unit must keep for the exporter to find publishers at all
/// (a "harder" setting here hides them), and its command line is one the
/// exporter accepts: it starts and serves with it (the address replaced
/// by a free one, and looking only at an empty directory).
#[test]
fn the_systemd_unit_runs_the_exporter_it_ships_with() {
    let unit = unit_settings();
    let one = |key: &str| match unit.get(key).map(Vec::as_slice) {
        Some([value]) => value.as_str(),
        other => panic!("{key}: {other:?}"),
    };
    let caps = "CAP_DAC_READ_SEARCH CAP_SYS_PTRACE";
    assert_eq!(one("AmbientCapabilities"), caps);
    assert_eq!(one("CapabilityBoundingSet"), caps);
    assert_eq!(one("NoNewPrivileges"), "yes");
    assert_eq!(one("User"), "cantal-exporter");
    // The default paths /tmp/cantal.<uid>.<pid> and /run/user/<uid>/cantal.<pid>.
    assert_eq!(one("PrivateTmp"), "no");
    assert_eq!(one("ProtectHome"), "read-only");
    assert_eq!(one("ProtectSystem"), "strict");
    // Other users' processes in /proc, and the host's file permissions.
    for hides in ["DynamicUser", "ProtectProc", "ProcSubset", "PrivateUsers"] {
        assert!(!unit.contains_key(hides), "{hides}");
    }
    let exec = one("ExecStart");
    let words: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(words[..2], ["/usr/local/bin/cantal", "export"], "{exec}");
    // As root, `auto` would apply the ownership rule; as this user it must be asked for.
    assert!(exec.contains("--check-owner always"), "{exec}");
    let mut args = Vec::new();
    let mut rest = words[2..].iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--listen" => {
                rest.next();
            }
            other => args.push(other),
        }
    }
    let dir = TempDir::new("unit");
    let dir = dir.0.to_str().unwrap();
    args.extend(["--no-proc", "--no-default-dirs", "--dir", dir]);
    let exporter = Exporter::start(&args);
    let (status, _, body) = get(&exporter.addr, "/metrics", None);
    assert!(status.contains(" 200 "), "{status}: {}", exporter.stderr());
    assert!(
        body.contains("\ncantal_exporter_publishers{state=\"seen\"} 0\n"),
        "{body}"
    );
}
