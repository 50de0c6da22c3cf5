//! The drift-and-retraining simulation's entry in the analysis registry (`[drift]` settings,
//! the second part of the "Robustness, Drift & Retraining" README section).

use crate::analysis::{Analysis, json_of};
use crate::findings::Findings;
use crate::plot::Figure;
use crate::settings::{Settings, SettingsError};

/// A simulated production year with drift alarms and three retraining policies.
pub struct Drift;

impl Analysis for Drift {
    fn name(&self) -> &'static str {
        "drift"
    }
    fn title(&self) -> &'static str {
        "Drift and retraining"
    }
    fn template_source(&self) -> &'static str {
        include_str!("../../../templates/drift.md")
    }
    fn check_settings(&self, settings: &Settings) -> Result<(), SettingsError> {
        settings.drift.check(settings.folds)
    }
    fn figures(&self, findings: &Findings) -> Vec<Figure> {
        let roles = &findings.provenance.settings.roles;
        super::figures::drift_timeline(&findings.drift, roles.unit(&roles.target))
            .into_iter()
            .collect()
    }
    fn findings_json(&self, findings: &Findings) -> serde_json::Value {
        json_of(&findings.drift)
    }
    fn not_run(&self, findings: &Findings) -> Option<String> {
        findings.drift.skipped.clone()
    }
}
