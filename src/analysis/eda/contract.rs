//! The EDA's entry in the analysis registry: it owns the `eda`, `dataset` and `features`
//! sections of the findings and the `[eda]` and `[features]` settings tables.

use crate::analysis::{Analysis, json_of};
use crate::findings::Findings;
use crate::plot::Figure;
use crate::settings::{Settings, SettingsError};

/// Exploratory analysis: profiles, correlations, VIF, duplicates, category balance, alerts.
pub struct Eda;

impl Analysis for Eda {
    fn name(&self) -> &'static str {
        "eda"
    }
    fn title(&self) -> &'static str {
        "Exploratory analysis"
    }
    fn also_owns(&self) -> &'static [&'static str] {
        &["dataset", "features"]
    }
    fn template_source(&self) -> &'static str {
        include_str!("../../../templates/eda.md")
    }
    fn check_settings(&self, settings: &Settings) -> Result<(), SettingsError> {
        settings.eda.check()?;
        settings.features.check()
    }
    fn figures(&self, findings: &Findings) -> Vec<Figure> {
        super::figures::figures(findings)
    }
    fn findings_json(&self, findings: &Findings) -> serde_json::Value {
        json_of(&findings.eda)
    }
}
