//! Regression analysis (work in progress: being implemented under its issue).

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::settings::Settings;

/// Settings of the regression analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegressionSettings {}

/// Results of the regression analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RegressionFindings {}

/// Runs the regression analysis.
pub fn run(_ds: &Dataset, _settings: &Settings) -> RegressionFindings {
    RegressionFindings::default()
}
