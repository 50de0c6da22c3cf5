//! The Results scorecard: each success target of the mission against the measured value,
//! honest (group-aware validation, honest features, distinct rows) and naive (shuffled k-fold,
//! all rows), met or not. The targets are constants here, stated once:
//!
//! - **Spend regression**: R² > [`REG_R2`] *and* RMSE "well below" the target's standard
//!   deviation, taken as RMSE ≤ [`REG_RMSE_RATIO`] × sd (R² > 0.80 alone allows RMSE up to
//!   0.45 sd; the ratio is reported beside it so a reader sees both).
//! - **Growth-potential classification**: F1 > [`CLS_F1`] with precision > [`CLS_PRECISION`].
//! - **Segmentation**: silhouette > [`SEG_SILHOUETTE`]; the honest value is on distinct rows
//!   (copies of a row sit at distance 0 from each other and inflate the silhouette).

use serde::Serialize;

use crate::findings::Findings;

/// Regression target: R² must exceed this.
pub const REG_R2: f64 = 0.80;
/// Regression target: RMSE must be at most this multiple of the target's standard deviation.
pub const REG_RMSE_RATIO: f64 = 0.5;
/// Classification target: F1 must exceed this.
pub const CLS_F1: f64 = 0.80;
/// Classification target: precision must exceed this.
pub const CLS_PRECISION: f64 = 0.75;
/// Segmentation target: silhouette must exceed this.
pub const SEG_SILHOUETTE: f64 = 0.55;

/// One measured value against a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    /// What was measured (model and feature set, or k).
    pub subject: String,
    /// How it was measured (CV scheme, folds × repeats, rows).
    pub scheme: String,
    /// The headline metric (R², F1, silhouette).
    pub value: f64,
    /// Its spread across folds, when there is one.
    pub spread: Option<f64>,
    /// The second condition's metric (RMSE / sd, precision), when the target has one.
    pub second: Option<f64>,
    /// Whether every condition of the target holds.
    pub met: bool,
}

/// One success target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// `regression`, `classification` or `segmentation`.
    pub area: &'static str,
    /// The business question in a few words.
    pub question: &'static str,
    /// The target as stated, for example `R² > 0.80 and RMSE ≤ 0.5 × sd`.
    pub goal: String,
    /// Name of the headline metric.
    pub metric: &'static str,
    /// Name of the second condition's metric, if any.
    pub second_metric: Option<&'static str>,
    /// Honest measurement (`None` until the analysis has run).
    pub honest: Option<Measure>,
    /// Naive measurement, shown to make the gap visible.
    pub naive: Option<Measure>,
}

/// All targets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// The targets, in section order.
    pub targets: Vec<Target>,
    /// How many targets have an honest measurement.
    pub measured: usize,
    /// How many targets are met by the honest measurement.
    pub met: usize,
}

/// Builds the scorecard from findings.
pub fn build(f: &Findings) -> Scorecard {
    let targets = vec![regression(f), classification(f), segmentation(f)];
    let measured = targets.iter().filter(|t| t.honest.is_some()).count();
    let met = targets.iter().filter(|t| t.honest.as_ref().is_some_and(|m| m.met)).count();
    Scorecard { targets, measured, met }
}

fn regression(_f: &Findings) -> Target {
    Target {
        area: "regression",
        question: "How much will a customer spend?",
        goal: format!("R² > {REG_R2:.2} and RMSE ≤ {REG_RMSE_RATIO} × sd(spend)"),
        metric: "R²",
        second_metric: Some("RMSE / sd"),
        honest: None,
        naive: None,
    }
}

fn classification(_f: &Findings) -> Target {
    Target {
        area: "classification",
        question: "Which customers have growth potential?",
        goal: format!("F1 > {CLS_F1:.2} with precision > {CLS_PRECISION:.2}"),
        metric: "F1",
        second_metric: Some("precision"),
        honest: None,
        naive: None,
    }
}

fn segmentation(_f: &Findings) -> Target {
    Target {
        area: "segmentation",
        question: "Which customers behave alike?",
        goal: format!("silhouette > {SEG_SILHOUETTE:.2}"),
        metric: "silhouette",
        second_metric: None,
        honest: None,
        naive: None,
    }
}
