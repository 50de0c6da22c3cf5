//! Success targets as data: what an analysis promises (a goal with thresholds taken from its
//! settings) and what it measured, honestly and naively. Analyses build their [`Target`]s from
//! their own typed findings; the scorecard and the conclusions only collect them, so a target's
//! threshold and its "met" are each decided in one place.
//!
//! A target is judged in two steps ([`Verdict`]): met or not on the honest measurement, and then
//! *informative or not*: each analysis also measures a [`Baseline`], the simplest thing that
//! could reach the same goal under the same protocol (one column, one split, structureless data
//! with the same spread). A target the baseline also meets is met but says nothing about the model.

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
    /// The simplest thing that could reach the goal, measured the same way (`None` when the
    /// analysis could not measure it).
    pub baseline: Option<Baseline>,
    /// The two-step verdict; set by [`Target::judged`] from `honest` and `baseline`.
    pub verdict: Verdict,
    /// The verdict in words ([`Target::verdict_words`]), for templates.
    pub verdict_text: &'static str,
}

/// What kind of trivial competitor a baseline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineKind {
    /// A model on one column alone.
    OneColumn,
    /// A one-split rule (a depth-1 threshold) on one column.
    OneSplit,
    /// Seeded tables without the structure the target claims (no clusters) but with the data's spread.
    NullTables,
}

/// The simplest thing that could reach a target, measured under the target's own protocol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// Its kind.
    pub kind: BaselineKind,
    /// What it is, e.g. `OLS on age alone` or `annual_income ≤ 53,000`.
    pub subject: String,
    /// How it was measured (scheme, folds × repeats, rows; for null tables the draws and the quantile).
    pub scheme: String,
    /// Its value of the target's headline metric (for null tables: the stated upper quantile).
    pub value: f64,
    /// Its spread, when there is one.
    pub spread: Option<f64>,
    /// How many values the mean and spread are over (folds × repeats, repeats or null draws).
    pub n: usize,
    /// Its value of the target's second metric, when the target has one.
    pub second: Option<f64>,
    /// Whether the baseline meets the target too (for null tables: whether at least the stated
    /// share of structureless tables reaches it).
    pub meets: bool,
}

/// The two-step verdict on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The analysis produced no honest measurement.
    #[default]
    NotMeasured,
    /// The honest measurement misses the target.
    Missed,
    /// Met, and the baseline misses it: the model adds something the trivial rule does not.
    MetInformative,
    /// Met, but the baseline meets it too: the target does not tell the model from the trivial rule.
    MetUninformative,
    /// Met, but no baseline could be measured, so whether it is informative is unknown.
    MetUnjudged,
}

impl Verdict {
    /// The verdict from whether the honest measurement meets the target and the baseline, if any.
    pub fn of(honest_met: Option<bool>, baseline: Option<&Baseline>) -> Verdict {
        match (honest_met, baseline) {
            (None, _) => Verdict::NotMeasured,
            (Some(false), _) => Verdict::Missed,
            (Some(true), None) => Verdict::MetUnjudged,
            (Some(true), Some(b)) if b.meets => Verdict::MetUninformative,
            (Some(true), Some(_)) => Verdict::MetInformative,
        }
    }

    /// The verdict in a few words, naming the kind of baseline that also meets the target.
    pub fn words(self, baseline: Option<BaselineKind>) -> &'static str {
        match (self, baseline) {
            (Verdict::NotMeasured, _) => "not measured",
            (Verdict::Missed, _) => "missed",
            (Verdict::MetInformative, _) => "met, and informative",
            (Verdict::MetUninformative, Some(BaselineKind::OneColumn)) => {
                "met, but a one-column model meets it too"
            }
            (Verdict::MetUninformative, Some(BaselineKind::OneSplit)) => {
                "met, but a one-column rule meets it too"
            }
            (Verdict::MetUninformative, _) => "met, but structureless data reaches it",
            (Verdict::MetUnjudged, _) => "met (no baseline measured)",
        }
    }
}

impl Target {
    /// The target with its [`Verdict`] set from its honest measurement and its baseline.
    pub fn judged(mut self) -> Target {
        self.verdict = Verdict::of(self.honest.as_ref().map(|m| m.met), self.baseline.as_ref());
        self.verdict_text = self.verdict_words();
        self
    }

    /// The verdict in words (see [`Verdict::words`]).
    pub fn verdict_words(&self) -> &'static str {
        self.verdict.words(self.baseline.as_ref().map(|b| b.kind))
    }
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
