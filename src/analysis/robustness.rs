//! Robustness analysis (work in progress: being implemented under its issue).

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::settings::Settings;

/// Settings of the robustness analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RobustnessSettings {}

/// Results of the robustness analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RobustnessFindings {}

/// Runs the robustness analysis.
pub fn run(_ds: &Dataset, _settings: &Settings) -> RobustnessFindings {
    RobustnessFindings::default()
}
