//! Segmentation analysis (work in progress: being implemented under its issue).

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::settings::Settings;

/// Settings of the segmentation analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentationSettings {}

/// Results of the segmentation analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SegmentationFindings {}

/// Runs the segmentation analysis.
pub fn run(_ds: &Dataset, _settings: &Settings) -> SegmentationFindings {
    SegmentationFindings::default()
}
