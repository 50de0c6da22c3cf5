//! `Findings`: one serialisable struct holding every analysis result and the run's provenance.
//! It is the contract between analysis and everything that renders (templates, plots,
//! tracking, notebooks): those read findings and never refit a model.

use serde::Serialize;

use crate::analysis::{
    classification::ClassificationFindings, drift::DriftFindings, eda::EdaFindings,
    regression::RegressionFindings, robustness::RobustnessFindings,
    segmentation::SegmentationFindings,
};
use crate::data::{DatasetProfile, Provenance};
use crate::features::FeatureFindings;
use crate::settings::Settings;

/// Version of the findings layout; bumped when a field changes meaning.
pub const FINDINGS_VERSION: u32 = 1;

/// Who produced the findings, from what, and how.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunProvenance {
    /// The data file (path, rows, SHA-256).
    pub data: Provenance,
    /// This crate's version.
    pub crate_version: String,
    /// The master seed.
    pub seed: u64,
    /// The complete settings used.
    pub settings: Settings,
}

/// Every result of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Findings {
    /// Layout version ([`FINDINGS_VERSION`]).
    pub findings_version: u32,
    /// Provenance of the run.
    pub provenance: RunProvenance,
    /// Shape of the table, duplicates, category counts.
    pub dataset: DatasetProfile,
    /// Exploratory analysis.
    pub eda: EdaFindings,
    /// Engineered features and the growth-potential label.
    pub features: FeatureFindings,
    /// Spend regression.
    pub regression: RegressionFindings,
    /// Growth-potential classification.
    pub classification: ClassificationFindings,
    /// Segmentation.
    pub segmentation: SegmentationFindings,
    /// Noise sweeps.
    pub robustness: RobustnessFindings,
    /// Drift and retraining simulation.
    pub drift: DriftFindings,
}

impl Findings {
    /// The findings as pretty JSON with a final newline (the bytes of `report/findings.json`).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("findings always serialise");
        s.push('\n');
        s
    }
}
