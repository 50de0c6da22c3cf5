//! The analyses and their contract. Each analysis is a pure, seeded function of a
//! [`crate::data::Dataset`] and [`crate::settings::Settings`] returning a serialisable findings
//! struct, and it declares itself once, as an [`Analysis`] in [`REGISTRY`]: its name (findings
//! field, settings table, README marker, template and figure prefix), how its settings are
//! validated, its built-in template, the figures it draws from findings and its typed success
//! targets. Settings checks, README sections, built-in templates, figures, the scorecard and the
//! notebook display all iterate the registry, so a new analysis is one folder plus one line here
//! (see CONTRIBUTING.md). Running stays explicit in [`crate::pipeline`], which owns the parallel
//! schedule.

pub mod classification;
pub mod drift;
pub mod eda;
pub mod regression;
pub mod robustness;
pub mod segmentation;

#[cfg(test)]
mod scale_tests;

use crate::findings::Findings;
use crate::plot::Figure;
use crate::settings::{Settings, SettingsError};
use crate::targets::Target;

/// What every analysis declares about itself. Implemented by a unit struct in the analysis'
/// folder (`contract.rs`) and listed once in [`REGISTRY`].
pub trait Analysis: Sync {
    /// The analysis' one name: its field in [`Findings`] and `findings.json`, its `[NAME]`
    /// settings table, its README markers `<!-- report:NAME:start/end -->`, its template
    /// `NAME.md` and the prefix `NAME_` of its figure files.
    fn name(&self) -> &'static str;

    /// A short human title, used by the notebook display.
    fn title(&self) -> &'static str;

    /// Further top-level fields of [`Findings`] this analysis is responsible for (the EDA also
    /// reports the dataset profile and the engineered features).
    fn also_owns(&self) -> &'static [&'static str] {
        &[]
    }

    /// The built-in text of its template `NAME.md` (embedded from `templates/`).
    fn template_source(&self) -> &'static str;

    /// Checks every value of its settings tables; the error names the key, the value and the
    /// allowed range. Called when settings load, before anything runs or is written.
    fn check_settings(&self, settings: &Settings) -> Result<(), SettingsError>;

    /// The figures it draws from findings (never from a refit), each named `NAME_*.svg`.
    fn figures(&self, findings: &Findings) -> Vec<Figure>;

    /// Its success targets, measured (empty when the analysis has none).
    fn targets(&self, _findings: &Findings) -> Vec<Target> {
        Vec::new()
    }

    /// Its part of the findings as JSON, for generic displays (the notebook table).
    fn findings_json(&self, findings: &Findings) -> serde_json::Value;

    /// Why it did not run on the analysed table, in words (`None`: it ran). An analysis below
    /// its declared minimum (rows, distinct rows, classes, levels; see its `run`) or whose fit
    /// failed is skipped with this reason, which its README section, the report and the slides
    /// show; the rest of the build goes on.
    fn not_run(&self, _findings: &Findings) -> Option<String> {
        None
    }
}

/// An analysis that did not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotRun {
    /// The analysis' name.
    pub name: &'static str,
    /// Its title.
    pub title: &'static str,
    /// The reason, in words.
    pub reason: String,
}

/// Every analysis that did not run on the analysed table, in registry order.
pub fn not_run(findings: &Findings) -> Vec<NotRun> {
    REGISTRY
        .iter()
        .filter_map(|a| {
            a.not_run(findings).map(|reason| NotRun {
                name: a.name(),
                title: a.title(),
                reason,
            })
        })
        .collect()
}

/// Every analysis, in report order (the order of README sections, figures and targets).
pub static REGISTRY: &[&dyn Analysis] = &[
    &eda::contract::Eda,
    &regression::contract::Regression,
    &classification::contract::Classification,
    &segmentation::contract::Segmentation,
    &robustness::contract::Robustness,
    &drift::contract::Drift,
];

/// The registered analysis called `name`, if any.
pub fn find(name: &str) -> Option<&'static dyn Analysis> {
    REGISTRY.iter().copied().find(|a| a.name() == name)
}

/// Checks the settings tables of every registered analysis, in registry order.
pub fn check_settings(settings: &Settings) -> Result<(), SettingsError> {
    REGISTRY.iter().try_for_each(|a| a.check_settings(settings))
}

/// Every figure the findings support, in registry order.
pub fn figures(findings: &Findings) -> Vec<Figure> {
    REGISTRY.iter().flat_map(|a| a.figures(findings)).collect()
}

/// Every success target, in registry order, each judged ([`Target::judged`]).
pub fn targets(findings: &Findings) -> Vec<Target> {
    REGISTRY
        .iter()
        .flat_map(|a| a.targets(findings))
        .map(Target::judged)
        .collect()
}

/// The part of the findings an analysis owns, serialised (`Null` if it cannot be).
pub(crate) fn json_of<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    /// Every top-level findings section belongs to exactly one analysis, every analysis has its
    /// built-in template, and the README carries its markers.
    #[test]
    fn every_findings_section_has_an_entry_a_template_and_markers() {
        let ds = crate::data::synth(120, 1, &crate::data::SynthSpec::default());
        let mut s = Settings::default();
        s.repeats = 1;
        let f = crate::pipeline::analyze(&ds, &s);
        let v = serde_json::to_value(&f).unwrap();
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        for key in v.as_object().unwrap().keys() {
            if key == "findings_version" || key == "provenance" {
                continue;
            }
            let owners: Vec<&str> = REGISTRY
                .iter()
                .filter(|a| a.name() == key || a.also_owns().contains(&key.as_str()))
                .map(|a| a.name())
                .collect();
            assert_eq!(
                owners.len(),
                1,
                "findings section `{key}` has owners {owners:?}"
            );
        }
        let builtin = crate::render::templates::builtin();
        for a in REGISTRY {
            let name = a.name();
            let template = format!("{name}.md");
            assert!(
                builtin
                    .iter()
                    .any(|(n, src)| *n == template && *src == a.template_source()),
                "{name}: template {template} is not built in"
            );
            for m in ["start", "end"] {
                let marker = format!("<!-- report:{name}:{m} -->");
                assert!(readme.contains(&marker), "README lacks {marker}");
            }
            assert!(v.get(name).is_some(), "{name} is not a findings field");
            for fig in a.figures(&f) {
                assert!(
                    fig.name.starts_with(&format!("{name}_")),
                    "{name}: {}",
                    fig.name
                );
            }
        }
        let names: Vec<&str> = REGISTRY.iter().map(|a| a.name()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
}
