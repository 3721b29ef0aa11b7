//! The files of `contrib/` that tests read: the Grafana dashboard (its
//! variables, panels and the `$variables` its queries use), the
//! Prometheus rules and their unit tests.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `contrib/` of the repository.
pub(crate) fn contrib() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../contrib")
}

/// The dashboard, parsed by a strict JSON parser.
pub(crate) fn dashboard() -> Value {
    let path = contrib().join("grafana/cantal-dashboard.json");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {v}"))
}

/// The dashboard's template variables, in order.
pub(crate) fn variables(dashboard: &Value) -> &[Value] {
    dashboard["templating"]["list"].as_array().unwrap()
}

/// A variable's query (a string, or an object with `query`).
pub(crate) fn variable_query(var: &Value) -> &str {
    var["query"]["query"]
        .as_str()
        .or_else(|| var["query"].as_str())
        .unwrap_or_else(|| panic!("no query in {var}"))
}

/// Every panel that is not a row, with the variable its row repeats on.
pub(crate) fn panels(dashboard: &Value) -> Vec<(Option<String>, &Value)> {
    let mut repeat = None;
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        if panel["type"] == "row" {
            // A collapsed row keeps its panels inside; ours are open.
            assert_eq!(panel["panels"], Value::Array(vec![]), "{panel}");
            repeat = panel["repeat"].as_str().map(str::to_string);
        } else {
            out.push((repeat.clone(), panel));
        }
    }
    out
}

/// The names a Grafana expression uses: `$name` and `${name}` (not the
/// `$1` of a `label_replace` replacement).
pub(crate) fn used_variables(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let (braced, body) = match rest.strip_prefix('{') {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let name: String = body
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            if braced {
                assert!(body[name.len()..].starts_with('}'), "{expr}");
            }
            names.insert(name);
        }
    }
    names
}

/// A YAML file of `contrib/prometheus`, as JSON values.
pub(crate) fn rules_yaml(name: &str) -> Value {
    let path = contrib().join("prometheus").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
