//! Eda analysis (work in progress: being implemented under its issue).

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::settings::Settings;

/// Settings of the eda analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdaSettings {}

/// Results of the eda analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct EdaFindings {}

/// Runs the eda analysis.
pub fn run(_ds: &Dataset, _settings: &Settings) -> EdaFindings {
    EdaFindings::default()
}
