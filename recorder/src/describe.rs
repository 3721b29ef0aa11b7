//! `describe_counter!`, `describe_gauge!`, `describe_histogram!`: help
//! texts and units kept by `metrics` name, written to the publication's
//! help side file (`P.help`, see `cantal_mmap::help`) for every published
//! metric of a described name.

use cantal_mmap::Extender;
use metrics::Unit;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// The most descriptions kept (further ones are ignored): the recorder's
/// names are bounded by its slot cap, descriptions by this.
pub(crate) const MAX_DESCRIPTIONS: usize = 8192;

/// Descriptions, and which Cantal names they apply to.
#[derive(Default)]
pub(crate) struct Descriptions {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// By `metrics` name: the unit word and the text.
    by_name: HashMap<String, (Option<&'static str>, String)>,
    /// Every metric made: its `metrics` name and its canonical Cantal name
    /// as readers show it.
    shown: Vec<(String, String)>,
    /// Whether the help file is behind.
    changed: bool,
}

impl Descriptions {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `describe_*!(name, unit, text)`: the last description of a name
    /// wins.
    pub(crate) fn describe(&self, name: &str, unit: Option<Unit>, text: &str) {
        let mut st = self.state();
        if st.by_name.len() >= MAX_DESCRIPTIONS && !st.by_name.contains_key(name) {
            return;
        }
        let entry = (unit.map(|u| u.as_str()), text.to_string());
        if st.by_name.get(name) != Some(&entry) {
            st.by_name.insert(name.to_string(), entry);
            st.changed = true;
        }
    }

    /// A metric of `metrics` name `name` was made, shown by readers as
    /// `canonical`.
    pub(crate) fn made(&self, name: &str, canonical: String) {
        let mut st = self.state();
        if st.by_name.contains_key(name) {
            st.changed = true;
        }
        st.shown.push((name.to_string(), canonical));
    }

    /// The help file's lines: canonical name, unit word, text.
    fn lines(st: &State) -> Vec<cantal_mmap::help::HelpLine> {
        st.shown
            .iter()
            .filter_map(|(name, canonical)| {
                let (unit, text) = st.by_name.get(name)?;
                Some((canonical.clone(), unit.map(String::from), text.clone()))
            })
            .collect()
    }

    /// Gives the publication of `extender` the help lines, when a
    /// description or a described metric was added since the last time;
    /// the publication rewrites its help file.
    pub(crate) fn write(&self, extender: &Extender) -> Result<(), cantal_mmap::Error> {
        let lines = {
            let mut st = self.state();
            if !st.changed {
                return Ok(());
            }
            st.changed = false;
            Self::lines(&st)
        };
        extender
            .set_help(lines)
            .inspect_err(|_| self.state().changed = true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_described_metrics_get_lines_and_the_last_description_wins() {
        let d = Descriptions::default();
        d.made("a", r#"{"metric": "a"}"#.into());
        d.made("b", r#"{"metric": "b"}"#.into());
        assert!(!d.state().changed);
        d.describe("a", Some(Unit::Milliseconds), "first");
        d.describe("a", Some(Unit::Milliseconds), "A's text");
        d.made("a", r#"{"k": "v", "metric": "a"}"#.into());
        let st = d.state();
        assert!(st.changed);
        assert_eq!(
            Descriptions::lines(&st),
            [
                (
                    r#"{"metric": "a"}"#.to_string(),
                    Some("milliseconds".to_string()),
                    "A's text".to_string()
                ),
                (
                    r#"{"k": "v", "metric": "a"}"#.to_string(),
                    Some("milliseconds".to_string()),
                    "A's text".to_string()
                ),
            ]
        );
    }
}
