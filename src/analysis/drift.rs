//! Drift analysis (work in progress: being implemented under its issue).

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::settings::Settings;

/// Settings of the drift analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftSettings {}

/// Results of the drift analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DriftFindings {}

/// Runs the drift analysis.
pub fn run(_ds: &Dataset, _settings: &Settings) -> DriftFindings {
    DriftFindings::default()
}
