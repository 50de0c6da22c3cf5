//! The noise sweep's entry in the analysis registry (`[robustness]` settings, the first part of
//! the "Robustness, Drift & Retraining" README section). It has no success target of its own: it
//! shows how the other analyses' scores move as noise is added.

use crate::analysis::{Analysis, json_of};
use crate::findings::Findings;
use crate::plot::Figure;
use crate::settings::{Settings, SettingsError};

/// Noise sweeps of the headline scores.
pub struct Robustness;

impl Analysis for Robustness {
    fn name(&self) -> &'static str {
        "robustness"
    }
    fn title(&self) -> &'static str {
        "Robustness to noise"
    }
    fn template_source(&self) -> &'static str {
        include_str!("../../../templates/robustness.md")
    }
    fn check_settings(&self, settings: &Settings) -> Result<(), SettingsError> {
        settings.robustness.check()
    }
    fn figures(&self, findings: &Findings) -> Vec<Figure> {
        super::figures::noise_curves(&findings.robustness)
            .into_iter()
            .collect()
    }
    fn findings_json(&self, findings: &Findings) -> serde_json::Value {
        json_of(&findings.robustness)
    }
    fn not_run(&self, findings: &Findings) -> Option<String> {
        findings.robustness.skipped.clone()
    }
}
