//! Success targets as data: what an analysis promises (a goal with thresholds taken from its
//! settings) and what it measured, honestly and naively. Analyses build their [`Target`]s from
//! their own typed findings; the scorecard and the conclusions only collect them, so a target's
//! threshold and its "met" are each decided in one place.

use serde::Serialize;

/// One measured value against a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    /// What was measured (model and feature set, or k).
    pub subject: String,
    /// How it was measured (CV scheme, folds × repeats, rows).
    pub scheme: String,
    /// The headline metric (R², F1, silhouette).
    pub value: f64,
    /// Its spread across folds or repeats, when there is one.
    pub spread: Option<f64>,
    /// The second condition's metric (RMSE / sd, precision), when the target has one.
    pub second: Option<f64>,
    /// Whether every condition of the target holds.
    pub met: bool,
}

/// One success target of the mission, with its measurements.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// The analysis that owns the target (`regression`, `classification`, `segmentation`).
    pub area: &'static str,
    /// The business question in a few words.
    pub question: &'static str,
    /// The target as stated, with the thresholds from settings, e.g. `R² > 0.80 and RMSE < 0.5 × sd`.
    pub goal: String,
    /// Name of the headline metric.
    pub metric: &'static str,
    /// Name of the second condition's metric, if any.
    pub second_metric: Option<&'static str>,
    /// Honest measurement (`None` when the analysis produced no value).
    pub honest: Option<Measure>,
    /// Naive measurement, shown to make the gap visible.
    pub naive: Option<Measure>,
}

/// `random_forest` → `random forest`: a serialised enum name as words.
pub fn words(snake: &str) -> String {
    snake.replace('_', " ")
}

/// The serialised (snake_case) name of a unit enum variant, e.g. `ModelKind::RandomForest` →
/// `random_forest`; empty when the value does not serialise to a string.
pub fn serde_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
