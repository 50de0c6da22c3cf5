//! Classification analysis (work in progress: being implemented under its issue).

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::settings::Settings;

/// Settings of the classification analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassificationSettings {}

/// Results of the classification analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ClassificationFindings {}

/// Runs the classification analysis.
pub fn run(_ds: &Dataset, _settings: &Settings) -> ClassificationFindings {
    ClassificationFindings::default()
}
