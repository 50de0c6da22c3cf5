//! Robustness: how the headline scores degrade when the data get noisier.
//!
//! Gaussian noise with a standard deviation of 0, 5, 10, 20 and 40 % of each column's own
//! standard deviation is added, separately, to every numeric feature and to the target, in
//! several seeded repeats per level. Each noisy table is scored by the other analyses' public
//! scoring functions (group-aware cross-validation), so the curves measure the same thing as the
//! headline scores.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::settings::Settings;

/// Settings of the robustness analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RobustnessSettings {
    /// Noise levels as fractions of each column's standard deviation. Default 0, .05, .1, .2, .4.
    pub levels: Vec<f64>,
    /// Seeded noise draws per level. Default 3.
    pub repeats: usize,
}

impl Default for RobustnessSettings {
    fn default() -> Self {
        RobustnessSettings {
            levels: vec![0.0, 0.05, 0.1, 0.2, 0.4],
            repeats: 3,
        }
    }
}

/// What the noise is added to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseOn {
    /// Every numeric feature (not the target).
    Features,
    /// The target only.
    Target,
}

impl NoiseOn {
    /// Stable short name (`features`, `target`).
    pub fn name(self) -> &'static str {
        match self {
            NoiseOn::Features => "features",
            NoiseOn::Target => "target",
        }
    }
}

/// One noise level of a curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoisePoint {
    /// Noise sd as a fraction of the column's sd.
    pub level: f64,
    /// Mean score over the repeats.
    pub mean: f64,
    /// Standard deviation of the score over the repeats (n − 1; 0 for one repeat).
    pub sd: f64,
    /// Smallest score.
    pub min: f64,
    /// Largest score.
    pub max: f64,
}

/// A degradation curve: one score against the noise level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoiseCurve {
    /// Score name (`ols_r2`, `best_regressor_r2`, `best_classifier_f1`, `silhouette`).
    pub score: String,
    /// The model or method scored.
    pub model: String,
    /// How the score is measured.
    pub measured_by: String,
    /// Where the noise goes.
    pub noise_on: NoiseOn,
    /// One point per level.
    pub points: Vec<NoisePoint>,
}

/// Results of the robustness analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RobustnessFindings {
    /// The curves.
    pub curves: Vec<NoiseCurve>,
    /// Scores that could not be swept, with the reason.
    pub missing: Vec<String>,
}

/// Runs the robustness analysis.
pub fn run(_ds: &Dataset, _settings: &Settings) -> RobustnessFindings {
    RobustnessFindings::default()
}
