//! Drift and retraining simulation: how a spend model trained on one period fares as the
//! customer population shifts month by month, what the monitors see, and what three retraining
//! policies cost.
//!
//! The synthetic generator ([`crate::data::synth`]), calibrated to the analysed table's means,
//! spreads, correlation and category mix, draws a reference period and then monthly batches in
//! which the income level, the region mix, the spend–income relation and the share of a young
//! low-spend segment shift on a schedule ([`DriftScenario`]). Features arrive with each batch;
//! labels (spend) arrive one batch late. Monitors per batch: PSI per feature (quantile bins from
//! the reference; level shares for the category), the two-sample KS statistic per numeric
//! feature, and each policy's model RMSE on the batch once its labels are in.
//!
//! Policies ([`Policy`]): never retrain; retrain after every batch; retrain when an alarm fires
//! (PSI of the newest batch against the deployed model's training data above
//! [`DriftSettings::psi_alarm`] on any feature, or the deployed model's RMSE on the newest
//! labelled batch above [`DriftSettings::rmse_alarm`] × the reference RMSE). A retrain fits on
//! the [`DriftSettings::train_window`] newest labelled batches. The monitored model is ordinary
//! least squares (linfa-linear) on the numeric features and the one-hot category: cheap enough to
//! refit every month.

#[cfg(test)]
mod before;
pub mod contract;
pub mod figures;

use std::collections::BTreeMap;

use linfa::prelude::*;
use linfa_linear::{FittedLinearRegression, LinearRegression};
use ndarray::{Array1, Array2};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, SynthSpec, synth_with_roles};
use crate::features;
use crate::ml::cv::{self, Scheme};
use crate::ml::drift_metrics;
use crate::rng;
use crate::settings::{Roles, Settings};
use crate::stats;

/// A knob that holds its base value before `onset` and then moves linearly, batch by batch, to
/// `end`, which it reaches at the last batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ramp {
    /// First batch (1-based) that differs from the reference.
    pub onset: usize,
    /// Value at the last batch.
    pub end: f64,
}

impl Ramp {
    /// The knob's value at `batch` (1-based) of `batches`, starting from `base`.
    pub fn at(&self, base: f64, batch: usize, batches: usize) -> f64 {
        if batch < self.onset || self.onset == 0 || self.onset > batches {
            return base;
        }
        let steps = (batches - self.onset + 1) as f64;
        base + (self.end - base) * (batch - self.onset + 1) as f64 / steps
    }
}

/// The population shift schedule, in terms of the generator's [`SynthSpec`] knobs. In a
/// settings file every key may be omitted, also inside a ramp table: an omitted key takes that
/// knob's default (`[drift.scenario.spend_income_slope]` with only `end` keeps onset 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ScenarioInput")]
pub struct DriftScenario {
    /// Multiplier on income (reference: 1): the income mix moves up. Default: from batch 4 to 1.35.
    pub income_scale: Ramp,
    /// Extra spend per 1,000 of income above the mean (reference: 0): the spend–income relation
    /// changes (concept drift). Default: from batch 7 to 8 spend units per 1,000 income units.
    pub spend_income_slope: Ramp,
    /// Share of a new young, low-income, low-spend segment (reference: 0). Default: from batch 9 to 0.3.
    pub young_share: Ramp,
    /// First batch whose region mix moves towards [`DriftScenario::region_mix_end`]. Default: 4.
    pub region_onset: usize,
    /// Category weights at the last batch, in the roles' level order (reference: the analysed
    /// table's shares). Default: the third level triples its weight.
    pub region_mix_end: Vec<f64>,
}

/// A ramp as written in a settings file: either key may be omitted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RampInput {
    onset: Option<usize>,
    end: Option<f64>,
}

impl RampInput {
    fn or(self, default: Ramp) -> Ramp {
        Ramp {
            onset: self.onset.unwrap_or(default.onset),
            end: self.end.unwrap_or(default.end),
        }
    }
}

/// [`DriftScenario`] as written in a settings file, every key optional.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ScenarioInput {
    income_scale: Option<RampInput>,
    spend_income_slope: Option<RampInput>,
    young_share: Option<RampInput>,
    region_onset: Option<usize>,
    region_mix_end: Option<Vec<f64>>,
}

impl From<ScenarioInput> for DriftScenario {
    fn from(i: ScenarioInput) -> Self {
        let d = DriftScenario::default();
        let ramp = |r: Option<RampInput>, default: Ramp| match r {
            Some(r) => r.or(default),
            None => default,
        };
        DriftScenario {
            income_scale: ramp(i.income_scale, d.income_scale),
            spend_income_slope: ramp(i.spend_income_slope, d.spend_income_slope),
            young_share: ramp(i.young_share, d.young_share),
            region_onset: i.region_onset.unwrap_or(d.region_onset),
            region_mix_end: i.region_mix_end.unwrap_or(d.region_mix_end),
        }
    }
}

impl Default for DriftScenario {
    fn default() -> Self {
        DriftScenario {
            income_scale: Ramp {
                onset: 4,
                end: 1.35,
            },
            spend_income_slope: Ramp { onset: 7, end: 8.0 },
            young_share: Ramp { onset: 9, end: 0.3 },
            region_onset: 4,
            region_mix_end: vec![1.0, 1.0, 3.0, 1.0],
        }
    }
}

/// Settings of the drift simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftSettings {
    /// Rows of the reference period the first model is trained on. Default 600.
    pub reference_rows: usize,
    /// Number of monthly batches after the reference period (at least 2). Default 12.
    pub batches: usize,
    /// Rows per batch. Default 200.
    pub batch_rows: usize,
    /// Quantile bins for PSI. Default 10.
    pub psi_bins: usize,
    /// PSI above which a feature raises an alarm. Default 0.2.
    pub psi_alarm: f64,
    /// RMSE alarm: the deployed model's RMSE on the newest labelled batch above this multiple of
    /// the reference RMSE. Default 1.5.
    pub rmse_alarm: f64,
    /// A retrain fits on this many newest labelled batches. Default 2.
    pub train_window: usize,
    /// The shift schedule.
    pub scenario: DriftScenario,
    /// Independent simulations (seeded replicates of the whole year, each with its own
    /// reference period and batches) the policy comparison and the PSI null band are computed
    /// over. Default 30; the first replicate is the trajectory shown batch by batch.
    pub seeds: usize,
    /// Share of replicates a policy must have the lowest pooled RMSE in to be named the winner.
    /// Default 0.8.
    pub winner_share: f64,
}

impl Default for DriftSettings {
    fn default() -> Self {
        DriftSettings {
            reference_rows: 600,
            batches: 12,
            batch_rows: 200,
            psi_bins: 10,
            psi_alarm: 0.2,
            rmse_alarm: 1.5,
            train_window: 2,
            scenario: DriftScenario::default(),
            seeds: 30,
            winner_share: 0.8,
        }
    }
}

impl DriftSettings {
    /// Checks every value; the error names the `drift.` key, its value and the allowed range.
    /// The reference period must hold at least 10 rows per cross-validation fold.
    pub fn check(&self, folds: usize) -> Result<(), crate::settings::SettingsError> {
        use crate::bounds;
        bounds::count("drift.batches", self.batches, 2, 120)?;
        bounds::count_tied(
            "drift.reference_rows",
            self.reference_rows,
            10 * folds.max(2),
            1_000_000,
            "folds",
        )?;
        bounds::count("drift.batch_rows", self.batch_rows, 20, 1_000_000)?;
        bounds::count("drift.psi_bins", self.psi_bins, 2, 100)?;
        bounds::open_closed("drift.psi_alarm", self.psi_alarm, 0.0, 10.0)?;
        bounds::open_closed("drift.rmse_alarm", self.rmse_alarm, 0.0, 100.0)?;
        bounds::count_tied(
            "drift.train_window",
            self.train_window,
            1,
            self.batches,
            "drift.batches",
        )?;
        bounds::count("drift.seeds", self.seeds, 1, 1000)?;
        bounds::open_closed("drift.winner_share", self.winner_share, 0.5, 1.0)?;
        let sc = &self.scenario;
        for (key, ramp) in [
            ("income_scale", &sc.income_scale),
            ("spend_income_slope", &sc.spend_income_slope),
            ("young_share", &sc.young_share),
        ] {
            // An onset after the last batch is allowed: the knob then never moves.
            bounds::count(
                &format!("drift.scenario.{key}.onset"),
                ramp.onset,
                0,
                10_000,
            )?;
        }
        bounds::open_closed(
            "drift.scenario.income_scale.end",
            sc.income_scale.end,
            0.0,
            100.0,
        )?;
        bounds::closed(
            "drift.scenario.spend_income_slope.end",
            sc.spend_income_slope.end,
            -1e6,
            1e6,
        )?;
        bounds::closed(
            "drift.scenario.young_share.end",
            sc.young_share.end,
            0.0,
            1.0,
        )?;
        // Like the ramps' onsets: 0 or an onset after the last batch leaves the mix alone.
        bounds::count("drift.scenario.region_onset", sc.region_onset, 0, 10_000)?;
        for (i, w) in sc.region_mix_end.iter().enumerate() {
            bounds::closed(&format!("drift.scenario.region_mix_end[{i}]"), *w, 0.0, 1e6)?;
        }
        Ok(())
    }
}

/// A retraining policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Keep the reference model forever.
    Never,
    /// Retrain after every batch on the newest labelled batches.
    EveryBatch,
    /// Retrain only when a PSI or RMSE alarm fires.
    OnAlarm,
}

impl Policy {
    /// All policies, in report order.
    pub const ALL: [Policy; 3] = [Policy::Never, Policy::EveryBatch, Policy::OnAlarm];

    /// Stable short name (`never`, `every_batch`, `on_alarm`), as in findings and metric names.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Never => "never",
            Policy::EveryBatch => "every_batch",
            Policy::OnAlarm => "on_alarm",
        }
    }
}

/// What the monitors know at the end of a batch, when a policy decides.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    /// Largest PSI of the newest batch's features against the deployed model's training data.
    pub max_psi: f64,
    /// The feature with that PSI.
    pub max_psi_feature: String,
    /// The deployed model's RMSE on the newest labelled batch, if one is new since it was trained.
    pub rmse: Option<f64>,
    /// Whether labelled data newer than the deployed model's training data exists.
    pub new_labels: bool,
}

/// Why an alarm fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AlarmReason {
    /// A feature's PSI crossed the threshold.
    Psi {
        /// The feature.
        feature: String,
        /// Its PSI.
        psi: f64,
    },
    /// The RMSE on the newest labelled batch crossed the threshold.
    Rmse {
        /// The RMSE.
        rmse: f64,
        /// The threshold it crossed (multiple × reference RMSE).
        threshold: f64,
    },
}

/// A policy's decision at the end of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Whether to retrain now.
    pub retrain: bool,
    /// The alarms that fired (only the alarm policy looks).
    pub alarms: Vec<AlarmReason>,
}

/// The decision rule of each policy, separated from the simulation so it can be tested alone.
/// A retrain needs new labelled data; without it the policy keeps its model (alarms are still
/// reported).
pub fn decide(policy: Policy, m: &Monitor, psi_alarm: f64, rmse_threshold: f64) -> Decision {
    match policy {
        Policy::Never => Decision {
            retrain: false,
            alarms: Vec::new(),
        },
        Policy::EveryBatch => Decision {
            retrain: m.new_labels,
            alarms: Vec::new(),
        },
        Policy::OnAlarm => {
            let mut alarms = Vec::new();
            if m.max_psi > psi_alarm {
                alarms.push(AlarmReason::Psi {
                    feature: m.max_psi_feature.clone(),
                    psi: m.max_psi,
                });
            }
            if let Some(rmse) = m.rmse.filter(|&r| r > rmse_threshold) {
                alarms.push(AlarmReason::Rmse {
                    rmse,
                    threshold: rmse_threshold,
                });
            }
            Decision {
                retrain: m.new_labels && !alarms.is_empty(),
                alarms,
            }
        }
    }
}

/// The monitors of one batch against the reference period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchMonitor {
    /// Batch number, 1-based.
    pub batch: usize,
    /// The generator's knobs for this batch.
    pub income_scale: f64,
    /// Extra spend per 1,000 of income above the mean.
    pub spend_income_slope: f64,
    /// Share of the young segment.
    pub young_share: f64,
    /// Category weights (normalised to shares).
    pub region_mix: Vec<f64>,
    /// PSI per monitored feature (numeric features and the category) against the reference.
    pub psi: BTreeMap<String, f64>,
    /// Two-sample KS statistic per numeric feature against the reference.
    pub ks: BTreeMap<String, f64>,
    /// Largest PSI of the batch.
    pub max_psi: f64,
}

/// An alarm raised at the end of a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    /// The batch at whose end it fired.
    pub batch: usize,
    /// Why.
    pub reasons: Vec<AlarmReason>,
    /// Whether a retrain followed (it cannot without new labels).
    pub retrained: bool,
}

/// How one policy fared over the whole simulation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyOutcome {
    /// The policy.
    pub policy: Policy,
    /// RMSE of the deployed model on each batch (known one batch later, when the labels arrive).
    pub rmse: Vec<f64>,
    /// RMSE pooled over every prediction from batch 1 to each batch (cumulative error).
    pub cumulative_rmse: Vec<f64>,
    /// Which model served each batch: 0 is the reference model, k the k-th retrain.
    pub model_version: Vec<usize>,
    /// Batches at whose end the policy retrained.
    pub retrained_after: Vec<usize>,
    /// Number of retrains.
    pub retrains: usize,
    /// Alarms raised (alarm policy only).
    pub alarms: Vec<Alarm>,
    /// RMSE pooled over every prediction of every batch.
    pub pooled_rmse: f64,
    /// Sum of squared errors over every batch, in target units squared.
    pub total_squared_error: f64,
}

/// How the simulation was set up and calibrated.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DriftSetup {
    /// The settings used.
    pub settings: DriftSettings,
    /// The monitored model.
    pub model: String,
    /// The model's numeric input columns (the category enters too: see `model_inputs`).
    pub model_features: Vec<String>,
    /// Every model input in words: the numeric columns, then the category as one-hot columns
    /// with the first level dropped.
    pub model_inputs: Vec<String>,
    /// The monitored features (numeric features and the category).
    pub monitored_features: Vec<String>,
    /// Labels arrive this many batches after the features.
    pub label_delay_batches: usize,
    /// Generator calibration: means of the numeric columns (roles order, target last).
    pub base_means: Vec<f64>,
    /// Generator calibration: standard deviations in the same order.
    pub base_sds: Vec<f64>,
    /// Generator calibration: latent-factor weight (√ of the mean pairwise Pearson r of the table).
    pub base_correlation: f64,
    /// Generator calibration: category shares of the table.
    pub base_region_mix: Vec<f64>,
    /// Out-of-fold RMSE of the model on the reference period.
    pub reference_rmse: f64,
    /// How the reference RMSE was measured.
    pub reference_rmse_scheme: String,
    /// The RMSE alarm threshold (rmse_alarm × reference RMSE).
    pub rmse_threshold: f64,
    /// PSI expected from sampling alone, with no shift: (bins − 1)·(1/reference rows + 1/batch
    /// rows), the large-sample mean of PSI (≈ a χ² statistic) between two samples of one
    /// distribution. Batches near this value have not drifted.
    pub psi_sampling_floor: f64,
    /// KS statistic above which the two samples differ at the 5 % level (asymptotic:
    /// 1.358·√((n + m)/(n·m))).
    pub ks_critical_5pct: f64,
}

/// Results of the drift simulation.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DriftFindings {
    /// Why the simulation could not run on this table, in words (`None`: it ran). The other
    /// fields are then empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Setup and calibration.
    pub setup: DriftSetup,
    /// Monitors per batch against the reference period.
    pub batches: Vec<BatchMonitor>,
    /// One outcome per policy, in [`Policy::ALL`] order.
    pub policies: Vec<PolicyOutcome>,
    /// Smallest and largest PSI over every batch and feature.
    pub psi_range: (f64, f64),
    /// Smallest and largest KS statistic over every batch and numeric feature.
    pub ks_range: (f64, f64),
    /// First batch where some feature's PSI against the reference exceeds the alarm threshold.
    pub first_psi_alarm_batch: Option<usize>,
    /// The policy comparison repeated over seeded replicates of the whole simulation.
    pub replicates: Replicates,
    /// PSI of batches drawn with no drift at all, against their reference period.
    pub psi_null: PsiNull,
}

/// One policy's pooled RMSE over the replicates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySummary {
    /// The policy.
    pub policy: Policy,
    /// Mean of the per-replicate pooled RMSE.
    pub mean_pooled_rmse: f64,
    /// Sample sd (n − 1) of the per-replicate pooled RMSE.
    pub sd_pooled_rmse: f64,
    /// Replicates (n).
    pub n: usize,
    /// Replicates in which this policy had the lowest pooled RMSE (ties: the earlier policy in
    /// [`Policy::ALL`]).
    pub wins: usize,
    /// `wins / n`.
    pub win_share: f64,
}

/// The policy comparison over replicates, and the rule that names a winner.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Replicates {
    /// Replicates simulated.
    pub seeds: usize,
    /// One summary per policy, in [`Policy::ALL`] order.
    pub policies: Vec<PolicySummary>,
    /// The policy with the lowest pooled RMSE in at least `winner_share` of replicates, if any.
    pub winner: Option<Policy>,
    /// The policy with the most wins (named only as the most frequent, not as a winner).
    pub most_wins: Option<Policy>,
    /// The rule, in words.
    pub winner_rule: String,
}

/// PSI between a reference period and batches drawn from the same, undrifted generator: what
/// sampling noise alone produces, to read the alarm threshold against.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PsiNull {
    /// Undrifted batches scored (batches × replicates).
    pub batches: usize,
    /// 95th percentile of the largest PSI over the monitored features per batch (the alarm's
    /// statistic).
    pub max_psi_p95: f64,
    /// Largest value of that statistic seen.
    pub max_psi_max: f64,
    /// Mean PSI of a single feature.
    pub feature_psi_mean: f64,
    /// 95th percentile of a single feature's PSI (all monitored features pooled).
    pub feature_psi_p95: f64,
    /// Share of undrifted batches whose largest PSI exceeds the alarm threshold (false alarms).
    pub false_alarm_share: f64,
}

/// The numeric columns the model and monitors use: every numeric feature that may predict the
/// target without leakage.
pub(crate) fn numeric_features(roles: &Roles) -> Vec<String> {
    features::allowed_features(&roles.target, &roles.numeric, roles)
}

/// One table of the simulation reduced to what the model and the monitors read, so the over a
/// thousand batches a run draws need no ids, category strings or duplicate groups.
#[derive(Debug, Clone, Default)]
struct Batch {
    /// The numeric model features, in [`numeric_features`] order.
    x: Vec<Vec<f64>>,
    /// The target.
    y: Vec<f64>,
    /// Each row's category as the index of its first equal level in the roles' level order;
    /// `None` for a value that is no level.
    level: Vec<Option<usize>>,
    /// Each column of `x` sorted by [`f64::total_cmp`] (empty when only a model is fitted on
    /// the batch): PSI bins and KS read these instead of sorting again per comparison.
    sorted: Vec<Vec<f64>>,
}

impl Batch {
    fn n_rows(&self) -> usize {
        self.y.len()
    }

    fn with_sorted(mut self) -> Batch {
        self.sorted = self
            .x
            .iter()
            .map(|c| {
                let mut s = c.clone();
                // Values equal under total_cmp are bit-identical, so an unstable sort gives the
                // same sequence as a stable one.
                s.sort_unstable_by(f64::total_cmp);
                s
            })
            .collect();
        self
    }

    /// The model's columns of a table.
    fn from_dataset(ds: &Dataset, numeric: &[String]) -> Batch {
        let levels = &ds.roles.category_levels;
        Batch {
            x: numeric.iter().map(|c| ds.col(c).to_vec()).collect(),
            y: ds.target().to_vec(),
            level: ds
                .category
                .iter()
                .map(|v| levels.iter().position(|l| l == v))
                .collect(),
            sorted: Vec::new(),
        }
        .with_sorted()
    }

    /// Draws the batch [`crate::data::synth_with_roles_unhashed`] would draw with the same
    /// arguments, as columns only.
    fn synth(rows: usize, seed: u64, spec: &SynthSpec, roles: &Roles, numeric: &[String]) -> Batch {
        let cols = roles.numeric_columns();
        let mut drawn = crate::data::synth_columns(rows, seed, spec, roles);
        let index = |name: &str| {
            cols.iter()
                .position(|c| c == name)
                .expect("every model column is a numeric role column")
        };
        let levels = &roles.category_levels;
        // A level equal to an earlier one maps to that earlier one, as `position` on strings does.
        let first: Vec<usize> = (0..levels.len())
            .map(|i| levels.iter().position(|l| *l == levels[i]).unwrap_or(i))
            .collect();
        Batch {
            x: numeric
                .iter()
                .map(|c| std::mem::take(&mut drawn.numeric[index(c)]))
                .collect(),
            y: std::mem::take(&mut drawn.numeric[index(&roles.target)]),
            level: drawn.level.iter().map(|&l| Some(first[l])).collect(),
            sorted: Vec::new(),
        }
        .with_sorted()
    }

    /// The rows `rows`, in that order, without the sorted columns (for fitting and scoring).
    fn subset(&self, rows: &[usize]) -> Batch {
        Batch {
            x: self
                .x
                .iter()
                .map(|c| rows.iter().map(|&i| c[i]).collect())
                .collect(),
            y: rows.iter().map(|&i| self.y[i]).collect(),
            level: rows.iter().map(|&i| self.level[i]).collect(),
            sorted: Vec::new(),
        }
    }
}

/// Labelled batches as one design matrix (numeric features, then one-hot category without the
/// first level of `levels` levels) and target.
fn design(batches: &[&Batch], levels: usize) -> (Array2<f64>, Array1<f64>) {
    let n: usize = batches.iter().map(|d| d.n_rows()).sum();
    let k = batches.first().map_or(0, |b| b.x.len());
    let p = k + levels.saturating_sub(1);
    let mut x = Array2::<f64>::zeros((n, p));
    let mut y = Array1::<f64>::zeros(n);
    let mut row = 0;
    for b in batches {
        for i in 0..b.n_rows() {
            let mut xr = x.row_mut(row);
            for (j, c) in b.x.iter().enumerate() {
                xr[j] = c[i];
            }
            if let Some(l) = b.level[i].filter(|&l| l > 0) {
                xr[k + l - 1] = 1.0;
            }
            y[row] = b.y[i];
            row += 1;
        }
    }
    (x, y)
}

/// A least-squares model on the design columns that vary in its training data (a constant
/// column, such as the one-hot column of a level no training row has, carries no information
/// and would make the normal equations singular).
#[derive(Debug, Clone)]
struct Model {
    kept: Vec<usize>,
    fitted: Option<FittedLinearRegression<f64>>,
    /// The training mean of the target, the prediction when no column varies.
    mean: f64,
}

impl Model {
    fn predict(&self, x: &Array2<f64>) -> Array1<f64> {
        match &self.fitted {
            Some(m) => m.predict(&x.select(ndarray::Axis(1), &self.kept)),
            None => Array1::from_elem(x.nrows(), self.mean),
        }
    }
}

fn fit(batches: &[&Batch], levels: usize) -> Option<Model> {
    let (x, y) = design(batches, levels);
    if y.is_empty() || !y.iter().all(|v| v.is_finite()) || !x.iter().all(|v| v.is_finite()) {
        return None;
    }
    let mean = y.mean()?;
    let kept: Vec<usize> = (0..x.ncols())
        .filter(|&j| {
            let c = x.column(j);
            c.iter().any(|&v| v != c[0])
        })
        .collect();
    if kept.is_empty() {
        return Some(Model {
            kept,
            fitted: None,
            mean,
        });
    }
    let xk = x.select(ndarray::Axis(1), &kept);
    let fitted = LinearRegression::new()
        .fit(&linfa::Dataset::new(xk, y))
        .ok()?;
    Some(Model {
        kept,
        fitted: Some(fitted),
        mean,
    })
}

/// Squared errors of a model on a batch's design matrix and target.
fn squared_errors_xy(model: &Model, x: &Array2<f64>, y: &Array1<f64>) -> Vec<f64> {
    let pred = model.predict(x);
    pred.iter()
        .zip(y.iter())
        .map(|(p, t)| (p - t) * (p - t))
        .collect()
}

fn rmse_of(se: &[f64]) -> f64 {
    (se.iter().sum::<f64>() / se.len().max(1) as f64).sqrt()
}

/// PSI of each monitored feature of `current` against `reference` (several batches pooled).
fn psi_against(
    reference: &[&Dataset],
    current: &Dataset,
    numeric: &[String],
    bins: usize,
) -> BTreeMap<String, f64> {
    let lean: Vec<Batch> = reference
        .iter()
        .map(|d| Batch::from_dataset(d, numeric))
        .collect();
    let lean_refs: Vec<&Batch> = lean.iter().collect();
    PsiReference::new(&lean_refs, &current.roles, numeric, bins)
        .against(&Batch::from_dataset(current, numeric))
}

/// What PSI needs from a reference (several batches pooled), computed once and compared with
/// any number of batches: each numeric feature's quantile edges and bin shares, and the
/// category's level shares. [`PsiReference::against`] equals [`drift_metrics::psi`] and
/// [`drift_metrics::psi_categorical`] on the pooled reference, value for value.
struct PsiReference {
    /// Numeric feature, its bin edges and the reference's share in each bin.
    numeric: Vec<(String, Vec<f64>, Vec<f64>)>,
    /// The category's name, the index of each level's first equal level, and the reference's
    /// share of each level.
    category: (String, Vec<usize>, Vec<f64>),
}

/// Share of rows per level, as [`drift_metrics::level_shares`] counts them on the strings:
/// `first[j]` is the index of the first level equal to level j.
fn level_shares(batches: &[&Batch], first: &[usize]) -> Vec<f64> {
    let mut counts = vec![0usize; first.len()];
    let mut n = 0;
    for b in batches {
        n += b.n_rows();
        for l in b.level.iter().flatten() {
            counts[*l] += 1;
        }
    }
    let n = n.max(1) as f64;
    first.iter().map(|&f| counts[f] as f64 / n).collect()
}

impl PsiReference {
    fn new(reference: &[&Batch], roles: &Roles, numeric: &[String], bins: usize) -> PsiReference {
        let numeric = numeric
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let pooled;
                let sorted: &[f64] = if let [one] = reference {
                    &one.sorted[k]
                } else {
                    let mut r: Vec<f64> = reference
                        .iter()
                        .flat_map(|d| d.sorted[k].iter().copied())
                        .collect();
                    r.sort_unstable_by(f64::total_cmp);
                    pooled = r;
                    &pooled
                };
                let edges = drift_metrics::quantile_edges_sorted(sorted, bins);
                let shares = drift_metrics::bin_shares_sorted(sorted, &edges);
                (c.clone(), edges, shares)
            })
            .collect();
        let levels = &roles.category_levels;
        let first: Vec<usize> = (0..levels.len())
            .map(|i| levels.iter().position(|l| *l == levels[i]).unwrap_or(i))
            .collect();
        let shares = level_shares(reference, &first);
        PsiReference {
            numeric,
            category: (roles.category.clone(), first, shares),
        }
    }

    fn against(&self, current: &Batch) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (k, (c, edges, shares)) in self.numeric.iter().enumerate() {
            let cur = drift_metrics::bin_shares_sorted(&current.sorted[k], edges);
            out.insert(c.clone(), drift_metrics::psi_from_shares(shares, &cur));
        }
        let (name, first, shares) = &self.category;
        let cur = level_shares(&[current], first);
        out.insert(name.clone(), drift_metrics::psi_from_shares(shares, &cur));
        out
    }
}

fn max_entry(m: &BTreeMap<String, f64>) -> (String, f64) {
    m.iter()
        .fold((String::new(), f64::NEG_INFINITY), |acc, (k, &v)| {
            if v > acc.1 { (k.clone(), v) } else { acc }
        })
}

/// Runs the three policies over a reference period and a sequence of batches; returns the batch
/// monitors (generator knobs left at their neutral values), the policy outcomes and the reference
/// RMSE. Exposed so tests can build their own scenarios.
pub fn simulate(
    reference: &Dataset,
    batches: &[Dataset],
    cfg: &DriftSettings,
    folds: usize,
    seed: u64,
) -> Result<(Vec<BatchMonitor>, Vec<PolicyOutcome>, f64), String> {
    let numeric = numeric_features(&reference.roles);
    let lean: Vec<Batch> = batches
        .iter()
        .map(|b| Batch::from_dataset(b, &numeric))
        .collect();
    simulate_lean(
        reference,
        &Batch::from_dataset(reference, &numeric),
        &lean,
        cfg,
        folds,
        seed,
    )
}

/// [`simulate`] on the model's columns of the reference period (`lean_reference`, the columns of
/// `reference`, whose duplicate groups the folds keep together) and of the batches.
fn simulate_lean(
    reference: &Dataset,
    lean_reference: &Batch,
    batches: &[Batch],
    cfg: &DriftSettings,
    folds: usize,
    seed: u64,
) -> Result<(Vec<BatchMonitor>, Vec<PolicyOutcome>, f64), String> {
    let roles = &reference.roles;
    let numeric = numeric_features(roles);
    let levels = roles.category_levels.len();

    // Reference RMSE: pooled out-of-fold squared error of the model on the reference period.
    let folds =
        cv::split(Scheme::GroupKFold, &reference.groups, None, folds, seed).map_err(|e| {
            format!("the simulated reference period cannot be split into {folds} group folds ({e})")
        })?;
    let mut oof = Vec::with_capacity(reference.n_rows());
    for f in &folds {
        let train = lean_reference.subset(&f.train);
        if let Some(m) = fit(&[&train], levels) {
            let (x, y) = design(&[&lean_reference.subset(&f.test)], levels);
            oof.extend(squared_errors_xy(&m, &x, &y));
        }
    }
    let reference_rmse = rmse_of(&oof);
    let rmse_threshold = cfg.rmse_alarm * reference_rmse;

    // PSI references, each computed once: the reference period, and every training window a
    // policy deploys (the same windows recur across policies).
    let reference_psi = PsiReference::new(&[lean_reference], roles, &numeric, cfg.psi_bins);
    let mut window_psi: BTreeMap<Vec<usize>, PsiReference> = BTreeMap::new();
    // The newest batch's PSI against the reference period, computed once for the monitors and
    // for every policy still serving the reference model.
    let batch_psi: Vec<BTreeMap<String, f64>> =
        batches.iter().map(|b| reference_psi.against(b)).collect();
    let monitors: Vec<BatchMonitor> = batches
        .iter()
        .zip(&batch_psi)
        .enumerate()
        .map(|(t, (b, psi))| {
            let ks = numeric
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    (
                        c.clone(),
                        drift_metrics::ks_statistic_sorted(&lean_reference.sorted[k], &b.sorted[k]),
                    )
                })
                .collect();
            let max_psi = max_entry(psi).1;
            BatchMonitor {
                batch: t + 1,
                income_scale: 1.0,
                spend_income_slope: 0.0,
                young_share: 0.0,
                region_mix: Vec::new(),
                psi: psi.clone(),
                ks,
                max_psi,
            }
        })
        .collect();

    // Each batch's design matrix, built once: every policy scores every batch.
    let batch_xy: Vec<(Array2<f64>, Array1<f64>)> =
        batches.iter().map(|b| design(&[b], levels)).collect();
    let reference_model = fit(&[lean_reference], levels).ok_or_else(|| {
        "no least-squares model could be fitted to the simulated reference period".to_string()
    })?;
    // A retrain's model depends only on its window: fitted once, shared by the policies.
    let mut window_model: BTreeMap<Vec<usize>, Option<Model>> = BTreeMap::new();
    let outcomes = Policy::ALL
        .iter()
        .map(|&policy| {
            // The deployed model, the batches it was trained on (None: the reference period), and
            // the newest batch index whose labels it has seen.
            let mut model = reference_model.clone();
            let mut trained_on: Option<Vec<usize>> = None;
            let mut version = 0;
            let mut out = PolicyOutcome {
                policy,
                rmse: Vec::new(),
                cumulative_rmse: Vec::new(),
                model_version: Vec::new(),
                retrained_after: Vec::new(),
                retrains: 0,
                alarms: Vec::new(),
                pooled_rmse: 0.0,
                total_squared_error: 0.0,
            };
            let (mut sse, mut count) = (0.0, 0usize);
            for t in 0..batches.len() {
                // Serve batch t; its error becomes known when its labels arrive at the end of t+1.
                let se = squared_errors_xy(&model, &batch_xy[t].0, &batch_xy[t].1);
                sse += se.iter().sum::<f64>();
                count += se.len();
                out.rmse.push(rmse_of(&se));
                out.cumulative_rmse.push((sse / count.max(1) as f64).sqrt());
                out.model_version.push(version);
                if t + 1 == batches.len() {
                    break;
                }
                // End of batch t: features of 0..=t are known, labels of 0..t (one batch late).
                let newest_labelled = t.checked_sub(1);
                let seen = trained_on.as_ref().and_then(|v| v.last().copied());
                let new_labels = match (newest_labelled, seen) {
                    (Some(l), Some(s)) => l > s,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                // Only the alarm policy reads the monitor; the others decide on new labels alone.
                let (max_psi_feature, max_psi, rmse) = if policy == Policy::OnAlarm {
                    let (feature, max) = match &trained_on {
                        None => max_entry(&batch_psi[t]),
                        Some(v) => max_entry(
                            &window_psi
                                .entry(v.clone())
                                .or_insert_with(|| {
                                    let training: Vec<&Batch> =
                                        v.iter().map(|&i| &batches[i]).collect();
                                    PsiReference::new(&training, roles, &numeric, cfg.psi_bins)
                                })
                                .against(&batches[t]),
                        ),
                    };
                    let rmse = if new_labels {
                        newest_labelled.map(|l| {
                            rmse_of(&squared_errors_xy(&model, &batch_xy[l].0, &batch_xy[l].1))
                        })
                    } else {
                        None
                    };
                    (feature, max, rmse)
                } else {
                    (String::new(), f64::NAN, None)
                };
                let m = Monitor {
                    max_psi,
                    max_psi_feature,
                    rmse,
                    new_labels,
                };
                let d = decide(policy, &m, cfg.psi_alarm, rmse_threshold);
                let mut retrained = false;
                if let (true, Some(newest)) = (d.retrain, newest_labelled) {
                    let first = (newest + 1).saturating_sub(cfg.train_window.max(1));
                    let window: Vec<usize> = (first..=newest).collect();
                    let fitted = window_model
                        .entry(window.clone())
                        .or_insert_with(|| {
                            let data: Vec<&Batch> = window.iter().map(|&i| &batches[i]).collect();
                            fit(&data, levels)
                        })
                        .clone();
                    if let Some(m) = fitted {
                        model = m;
                        trained_on = Some(window);
                        version += 1;
                        retrained = true;
                        out.retrained_after.push(t + 1);
                    }
                }
                if !d.alarms.is_empty() {
                    out.alarms.push(Alarm {
                        batch: t + 1,
                        reasons: d.alarms,
                        retrained,
                    });
                }
            }
            out.retrains = out.retrained_after.len();
            out.total_squared_error = sse;
            out.pooled_rmse = (sse / count.max(1) as f64).sqrt();
            out
        })
        .collect();
    Ok((monitors, outcomes, reference_rmse))
}

/// The generator calibrated to the analysed table: its means, spreads, category shares and a
/// latent-factor weight matching its mean pairwise correlation.
fn base_spec(ds: &Dataset) -> SynthSpec {
    let cols = ds.roles.numeric_columns();
    let means = cols.iter().map(|c| stats::mean(ds.col(c))).collect();
    let sds = cols.iter().map(|c| stats::sd(ds.col(c))).collect();
    let mut rs = Vec::new();
    for i in 0..cols.len() {
        for j in i + 1..cols.len() {
            rs.push(stats::pearson(ds.col(&cols[i]), ds.col(&cols[j])));
        }
    }
    let r = stats::mean(&rs);
    let correlation = if r.is_finite() {
        r.clamp(0.0, 1.0).sqrt()
    } else {
        0.0
    };
    let counts = ds.category_counts();
    let n = ds.n_rows().max(1) as f64;
    SynthSpec {
        correlation,
        region_mix: counts.iter().map(|(_, c)| *c as f64 / n).collect(),
        means,
        sds,
        ..SynthSpec::default()
    }
}

/// The generator's spec for batch `t` (1-based) of the scenario.
fn batch_spec(base: &SynthSpec, cfg: &DriftSettings, t: usize) -> SynthSpec {
    let s = &cfg.scenario;
    let n = cfg.batches;
    let mix_t = Ramp {
        onset: s.region_onset,
        end: 1.0,
    }
    .at(0.0, t, n);
    let base_sum: f64 = base.region_mix.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let end_sum: f64 = s.region_mix_end.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let region_mix = (0..base.region_mix.len())
        .map(|i| {
            let b = base.region_mix[i] / base_sum;
            let e = s.region_mix_end.get(i).copied().unwrap_or(0.0).max(0.0) / end_sum;
            b + (e - b) * mix_t
        })
        .collect();
    SynthSpec {
        income_scale: s.income_scale.at(base.income_scale, t, n),
        spend_income_slope: s.spend_income_slope.at(base.spend_income_slope, t, n),
        young_share: s.young_share.at(base.young_share, t, n),
        region_mix,
        ..base.clone()
    }
}

/// Runs the drift simulation calibrated to `ds`, seeded from `settings.seed`.
///
/// ```
/// use customer_intel::{analysis::drift, data, settings::Settings};
/// let ds = data::synth(300, 1, &data::SynthSpec::default());
/// let f = drift::run(&ds, &Settings::default());
/// assert_eq!(f.batches.len(), 12);
/// assert_eq!(f.policies.len(), 3);
/// ```
pub fn run(ds: &Dataset, settings: &Settings) -> DriftFindings {
    let skipped = |reason: String| DriftFindings {
        skipped: Some(reason),
        ..Default::default()
    };
    if let Some(reason) = below_minimum(ds) {
        return skipped(reason);
    }
    try_run(ds, settings).unwrap_or_else(skipped)
}

/// The smallest table the simulation can be calibrated to, in words when `ds` is below it: at
/// least two distinct rows, and every numeric column with a finite mean and spread (the
/// generator draws from them; a spread that overflows, as with an income of 1e300, cannot be
/// simulated).
pub fn below_minimum(ds: &Dataset) -> Option<String> {
    let distinct = ds.n_groups;
    if distinct < 2 {
        return Some(format!(
            "the drift simulation needs at least 2 distinct rows to calibrate its generator; the table has {distinct}"
        ));
    }
    for c in ds.roles.numeric_columns() {
        let (m, sd) = (stats::mean(ds.col(&c)), stats::sd(ds.col(&c)));
        if !m.is_finite() || !sd.is_finite() {
            return Some(format!(
                "the drift simulation cannot calibrate its generator: column '{c}' has a mean or spread too large to compute in floating point"
            ));
        }
    }
    None
}

fn try_run(ds: &Dataset, settings: &Settings) -> Result<DriftFindings, String> {
    let cfg = &settings.drift;
    let roles = &ds.roles;
    let base = base_spec(ds);
    let root: u64 = rng::stream(settings.seed, "drift").r#gen();
    let specs: Vec<SynthSpec> = (1..=cfg.batches)
        .map(|t| batch_spec(&base, cfg, t))
        .collect();
    // Replicate 0 keeps the original seeds (the trajectory shown); the others derive theirs.
    let roots: Vec<u64> = (0..cfg.seeds.max(1))
        .map(|r| {
            if r == 0 {
                root
            } else {
                rng::child_seed(root, 1_000_000 + r as u64)
            }
        })
        .collect();
    let numeric = numeric_features(roles);
    let runs = crate::par::map(&roots, |&root| {
        // The reference period is a whole table (its duplicate groups keep the CV folds
        // honest); the batches are only the columns the model and monitors read.
        let reference = crate::data::synth_with_roles_unhashed(
            cfg.reference_rows,
            rng::child_seed(root, 0),
            &base,
            roles,
        );
        let lean_reference = Batch::from_dataset(&reference, &numeric);
        let batches: Vec<Batch> = specs
            .iter()
            .enumerate()
            .map(|(t, s)| {
                Batch::synth(
                    cfg.batch_rows,
                    rng::child_seed(root, t as u64 + 1),
                    s,
                    roles,
                    &numeric,
                )
            })
            .collect();
        // Undrifted batches: the reference generator, fresh seeds.
        let reference_psi = PsiReference::new(&[&lean_reference], roles, &numeric, cfg.psi_bins);
        let null_max_psi: Vec<(f64, Vec<f64>)> = (0..cfg.batches)
            .map(|t| {
                let b = Batch::synth(
                    cfg.batch_rows,
                    rng::child_seed(root, 500_000 + t as u64),
                    &base,
                    roles,
                    &numeric,
                );
                let psi = reference_psi.against(&b);
                (max_entry(&psi).1, psi.values().copied().collect())
            })
            .collect();
        let sim = simulate_lean(
            &reference,
            &lean_reference,
            &batches,
            cfg,
            settings.folds,
            rng::child_seed(root, u64::MAX),
        );
        (sim, null_max_psi)
    });
    let mut replicate_runs = runs
        .into_iter()
        .map(|(sim, null)| sim.map(|s| (s, null)))
        .collect::<Result<Vec<_>, String>>()?;
    let replicates = summarise_replicates(
        &replicate_runs
            .iter()
            .map(|((_, p, _), _)| p.iter().map(|o| o.pooled_rmse).collect())
            .collect::<Vec<Vec<f64>>>(),
        cfg.winner_share,
    );
    let null_max: Vec<f64> = replicate_runs
        .iter()
        .flat_map(|(_, n)| n.iter().map(|(m, _)| *m))
        .collect();
    let null_feature: Vec<f64> = replicate_runs
        .iter()
        .flat_map(|(_, n)| n.iter().flat_map(|(_, v)| v.iter().copied()))
        .collect();
    let psi_null = PsiNull {
        batches: null_max.len(),
        max_psi_p95: stats::quantile(&null_max, 0.95),
        max_psi_max: null_max.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        feature_psi_mean: stats::mean(&null_feature),
        feature_psi_p95: stats::quantile(&null_feature, 0.95),
        false_alarm_share: null_max.iter().filter(|&&m| m > cfg.psi_alarm).count() as f64
            / null_max.len().max(1) as f64,
    };
    let ((mut monitors, policies, reference_rmse), _) = replicate_runs.swap_remove(0);
    for (m, s) in monitors.iter_mut().zip(&specs) {
        m.income_scale = s.income_scale;
        m.spend_income_slope = s.spend_income_slope;
        m.young_share = s.young_share;
        m.region_mix = s.region_mix.clone();
    }
    let all_psi: Vec<f64> = monitors
        .iter()
        .flat_map(|m| m.psi.values().copied())
        .collect();
    let all_ks: Vec<f64> = monitors
        .iter()
        .flat_map(|m| m.ks.values().copied())
        .collect();
    let range = |v: &[f64]| {
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let mut monitored = numeric.clone();
    monitored.push(roles.category.clone());
    let mut model_inputs = numeric.clone();
    model_inputs.push(format!("{} (one-hot, first level dropped)", roles.category));
    Ok(DriftFindings {
        skipped: None,
        setup: DriftSetup {
            settings: cfg.clone(),
            model: "ordinary least squares (linfa-linear) with intercept".into(),
            model_features: numeric,
            model_inputs,
            monitored_features: monitored,
            label_delay_batches: 1,
            base_means: base.means.clone(),
            base_sds: base.sds.clone(),
            base_correlation: base.correlation,
            base_region_mix: base.region_mix.clone(),
            reference_rmse,
            reference_rmse_scheme: format!(
                "{} on the {} reference rows, pooled out-of-fold squared error",
                Scheme::GroupKFold.describe(settings.folds),
                cfg.reference_rows
            ),
            rmse_threshold: cfg.rmse_alarm * reference_rmse,
            psi_sampling_floor: (cfg.psi_bins as f64 - 1.0)
                * (1.0 / cfg.reference_rows as f64 + 1.0 / cfg.batch_rows as f64),
            ks_critical_5pct: 1.358
                * ((cfg.reference_rows + cfg.batch_rows) as f64
                    / (cfg.reference_rows * cfg.batch_rows) as f64)
                    .sqrt(),
        },
        first_psi_alarm_batch: monitors
            .iter()
            .find(|m| m.max_psi > cfg.psi_alarm)
            .map(|m| m.batch),
        psi_range: range(&all_psi),
        ks_range: range(&all_ks),
        batches: monitors,
        policies,
        replicates,
        psi_null,
    })
}

/// Summarises per-replicate pooled RMSE (`pooled[r][p]`: replicate r, policy p in
/// [`Policy::ALL`] order): mean ± sd, wins, and the winner by the stated rule (lowest pooled
/// RMSE in at least `winner_share` of replicates).
pub fn summarise_replicates(pooled: &[Vec<f64>], winner_share: f64) -> Replicates {
    let n = pooled.len();
    let mut wins = vec![0usize; Policy::ALL.len()];
    for r in pooled {
        let best = (0..r.len()).fold(0, |b, p| if r[p] < r[b] { p } else { b });
        if !r.is_empty() {
            wins[best] += 1;
        }
    }
    let policies: Vec<PolicySummary> = Policy::ALL
        .iter()
        .enumerate()
        .map(|(p, &policy)| {
            let v: Vec<f64> = pooled.iter().filter_map(|r| r.get(p).copied()).collect();
            PolicySummary {
                policy,
                mean_pooled_rmse: stats::mean(&v),
                sd_pooled_rmse: if v.len() < 2 { 0.0 } else { stats::sd(&v) },
                n: v.len(),
                wins: wins[p],
                win_share: wins[p] as f64 / n.max(1) as f64,
            }
        })
        .collect();
    let most = policies
        .iter()
        .fold(None::<&PolicySummary>, |b, s| match b {
            Some(b) if b.wins >= s.wins => Some(b),
            _ => Some(s),
        })
        .filter(|s| s.wins > 0);
    Replicates {
        seeds: n,
        winner: most
            .filter(|s| s.win_share >= winner_share)
            .map(|s| s.policy),
        most_wins: most.map(|s| s.policy),
        winner_rule: format!(
            "a policy is named the winner only when it has the lowest pooled RMSE in at least {:.0}% of the {n} seeded replicates",
            winner_share * 100.0
        ),
        policies,
    }
}

/// The simulated data [`run`] monitors and reports in full (its first replicate): the reference
/// period and every batch, generated with the same calibration, scenario and seeds. Lets a
/// notebook recompute a batch's PSI by hand.
///
/// ```
/// use customer_intel::{analysis::drift, data, settings::Settings};
/// let ds = data::synth(300, 1, &data::SynthSpec::default());
/// let s = Settings::default();
/// let f = drift::run(&ds, &s);
/// let (reference, batches) = drift::scenario(&ds, &s).unwrap();
/// assert_eq!((reference.n_rows(), batches.len()), (s.drift.reference_rows, s.drift.batches));
/// let psi = drift::psi_by_feature(&[&reference], &batches[5], s.drift.psi_bins);
/// assert_eq!(psi, f.batches[5].psi);
/// ```
pub fn scenario(ds: &Dataset, settings: &Settings) -> Result<(Dataset, Vec<Dataset>), String> {
    if let Some(reason) = below_minimum(ds) {
        return Err(reason);
    }
    let cfg = &settings.drift;
    let base = base_spec(ds);
    let root: u64 = rng::stream(settings.seed, "drift").r#gen();
    let reference = synth_with_roles(
        cfg.reference_rows,
        rng::child_seed(root, 0),
        &base,
        &ds.roles,
    );
    let batches = (1..=cfg.batches)
        .map(|t| {
            synth_with_roles(
                cfg.batch_rows,
                rng::child_seed(root, t as u64),
                &batch_spec(&base, cfg, t),
                &ds.roles,
            )
        })
        .collect();
    Ok((reference, batches))
}

/// PSI of every monitored feature (the numeric model inputs and the category) of `current`
/// against `training` (one or more tables pooled), with `bins` quantile bins of the pooled
/// training values: the statistic behind both the batch monitors (training = the reference
/// period) and the alarm policy (training = the deployed model's training batches).
pub fn psi_by_feature(
    training: &[&Dataset],
    current: &Dataset,
    bins: usize,
) -> BTreeMap<String, f64> {
    psi_against(training, current, &numeric_features(&current.roles), bins)
}

/// The batches (1-based) the model `outcome`'s policy had deployed was trained on when it
/// decided at the end of `batch`; `None` when that model is still the reference model. A
/// retrain at the end of batch r uses the labelled batches then known (labels arrive one batch
/// late: up to r − 1), at most `train_window` of them.
///
/// ```
/// use customer_intel::analysis::drift::{training_batches, Policy, PolicyOutcome};
/// let o = PolicyOutcome { policy: Policy::OnAlarm, rmse: vec![], cumulative_rmse: vec![],
///     model_version: vec![], retrained_after: vec![5, 8], retrains: 2, alarms: vec![],
///     pooled_rmse: 0.0, total_squared_error: 0.0 };
/// assert_eq!(training_batches(&o, 5, 2), None);            // decided before its first retrain
/// assert_eq!(training_batches(&o, 6, 2), Some(vec![3, 4]));
/// assert_eq!(training_batches(&o, 9, 2), Some(vec![6, 7]));
/// ```
pub fn training_batches(
    outcome: &PolicyOutcome,
    batch: usize,
    train_window: usize,
) -> Option<Vec<usize>> {
    let r = outcome
        .retrained_after
        .iter()
        .copied()
        .filter(|&r| r < batch)
        .max()?;
    let newest = r.checked_sub(1).filter(|&n| n >= 1)?;
    let first = (newest + 1).saturating_sub(train_window.max(1)).max(1);
    Some((first..=newest).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synth;

    fn monitor(max_psi: f64, rmse: Option<f64>, new_labels: bool) -> Monitor {
        Monitor {
            max_psi,
            max_psi_feature: "x".into(),
            rmse,
            new_labels,
        }
    }

    #[test]
    fn ramp_holds_then_moves_linearly_to_its_end() {
        let r = Ramp { onset: 4, end: 1.9 };
        let v: Vec<f64> = (1..=12).map(|t| r.at(1.0, t, 12)).collect();
        assert_eq!(&v[..3], &[1.0, 1.0, 1.0]);
        assert!(
            (v[3] - 1.1).abs() < 1e-12 && (v[11] - 1.9).abs() < 1e-12,
            "{v:?}"
        );
        assert_eq!(
            Ramp { onset: 0, end: 5.0 }.at(1.0, 7, 12),
            1.0,
            "onset 0 switches a ramp off"
        );
    }

    #[test]
    fn decision_rules() {
        let (psi, rmse) = (0.2, 30.0);
        // Never: not even with every alarm ringing.
        assert!(!decide(Policy::Never, &monitor(5.0, Some(99.0), true), psi, rmse).retrain);
        // Every batch: whenever there are new labels, and only then.
        assert!(
            decide(
                Policy::EveryBatch,
                &monitor(0.0, Some(1.0), true),
                psi,
                rmse
            )
            .retrain
        );
        assert!(!decide(Policy::EveryBatch, &monitor(0.0, None, false), psi, rmse).retrain);
        // On alarm: quiet monitors keep the model.
        let d = decide(Policy::OnAlarm, &monitor(0.19, Some(29.9), true), psi, rmse);
        assert!(!d.retrain && d.alarms.is_empty());
        // PSI alone fires (strictly above the threshold).
        let d = decide(Policy::OnAlarm, &monitor(0.21, Some(10.0), true), psi, rmse);
        assert!(d.retrain);
        assert_eq!(
            d.alarms,
            vec![AlarmReason::Psi {
                feature: "x".into(),
                psi: 0.21
            }]
        );
        assert!(!decide(Policy::OnAlarm, &monitor(0.2, None, true), psi, rmse).retrain);
        // RMSE alone fires.
        let d = decide(Policy::OnAlarm, &monitor(0.0, Some(31.0), true), psi, rmse);
        assert_eq!(
            d.alarms,
            vec![AlarmReason::Rmse {
                rmse: 31.0,
                threshold: 30.0
            }]
        );
        assert!(d.retrain);
        // An alarm without new labels is reported but cannot retrain.
        let d = decide(Policy::OnAlarm, &monitor(0.9, None, false), psi, rmse);
        assert!(!d.retrain && d.alarms.len() == 1);
    }

    /// Three stable batches, then an abrupt, lasting change of the spend–income relation and of
    /// the income level from batch 4 on.
    fn step_scenario() -> (Dataset, Vec<Dataset>) {
        let base = SynthSpec::default();
        let shifted = SynthSpec {
            income_scale: 1.3,
            spend_income_slope: 10.0,
            ..base.clone()
        };
        let reference = synth(600, 100, &base);
        let batches = (1..=8u64)
            .map(|t| synth(400, 100 + t, if t <= 3 { &base } else { &shifted }))
            .collect();
        (reference, batches)
    }

    #[test]
    fn policies_on_a_step_change() {
        let (reference, batches) = step_scenario();
        let cfg = DriftSettings::default();
        let (monitors, outcomes, reference_rmse) =
            simulate(&reference, &batches, &cfg, 5, 7).unwrap();
        assert!(
            reference_rmse > 0.0 && reference_rmse < 40.0,
            "{reference_rmse}"
        );
        // Income PSI is quiet before the step and loud after it.
        for m in &monitors[..3] {
            assert!(
                m.psi["annual_income"] < 0.1,
                "batch {}: {:?}",
                m.batch,
                m.psi
            );
        }
        for m in &monitors[3..] {
            assert!(
                m.psi["annual_income"] > 0.5 && m.ks["annual_income"] > 0.3,
                "batch {}: {:?}",
                m.batch,
                m.psi
            );
        }
        let [never, every, alarm] = [&outcomes[0], &outcomes[1], &outcomes[2]];
        assert_eq!(
            (never.policy, every.policy, alarm.policy),
            (Policy::Never, Policy::EveryBatch, Policy::OnAlarm)
        );
        assert_eq!(never.retrains, 0);
        assert_eq!(never.model_version, vec![0; 8]);
        // Labels arrive one batch late: nothing to learn from at the end of batch 1, so
        // every-batch retrains after batches 2..=7 (a retrain after the last batch serves nothing).
        assert_eq!(every.retrained_after, vec![2, 3, 4, 5, 6, 7]);
        assert_eq!(every.model_version, vec![0, 0, 1, 2, 3, 4, 5, 6]);
        // The alarm policy is quiet for the stable batches, fires at the step, and retrains less.
        assert!(
            alarm.alarms.iter().all(|a| a.batch >= 4),
            "{:?}",
            alarm.alarms
        );
        assert_eq!(alarm.alarms.first().map(|a| a.batch), Some(4));
        assert!(
            alarm.retrains >= 1 && alarm.retrains < every.retrains,
            "{:?}",
            alarm.retrained_after
        );
        // Before the step every policy serves the same (reference) model on batches 1 and 2.
        assert_eq!(never.rmse[..2], every.rmse[..2]);
        // After the step the never-retrain model is the worst, by a wide margin at the end.
        assert!(never.pooled_rmse > every.pooled_rmse && never.pooled_rmse > alarm.pooled_rmse);
        assert!(
            never.rmse[7] > 2.0 * every.rmse[7],
            "{} vs {}",
            never.rmse[7],
            every.rmse[7]
        );
        // Cumulative RMSE ends at the pooled RMSE, and pooled error is consistent with the per-batch RMSEs
        // (equal batch sizes: pooled MSE = mean of batch MSEs).
        for o in &outcomes {
            assert!((o.cumulative_rmse[7] - o.pooled_rmse).abs() < 1e-9);
            let mean_mse = o.rmse.iter().map(|r| r * r).sum::<f64>() / 8.0;
            assert!((mean_mse.sqrt() - o.pooled_rmse).abs() < 1e-9);
            assert!(
                (o.total_squared_error - mean_mse * 3200.0).abs() < 1e-6 * o.total_squared_error
            );
        }
    }

    /// Specs that move every knob the drift scenario moves, plus duplicates and an empty level.
    fn varied_specs() -> Vec<SynthSpec> {
        let base = SynthSpec::default();
        vec![
            base.clone(),
            SynthSpec {
                income_scale: 1.3,
                spend_income_slope: 10.0,
                young_share: 0.25,
                region_mix: vec![1.0, 0.5, 3.0, 0.0],
                ..base.clone()
            },
            SynthSpec {
                duplicate_rate: 0.3,
                correlation: 0.5,
                noise: 0.4,
                region_mix: vec![0.0, 1.0, 1.0, 2.0],
                ..base.clone()
            },
        ]
    }

    #[test]
    fn lean_batches_hold_the_columns_of_the_full_tables() {
        let roles = Roles::default();
        let numeric = numeric_features(&roles);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (i, spec) in varied_specs().iter().enumerate() {
            for seed in 0..25u64 {
                let seed = seed * 104_729 + i as u64;
                let full = crate::data::synth_with_roles_unhashed(150, seed, spec, &roles);
                let want = Batch::from_dataset(&full, &numeric);
                let got = Batch::synth(150, seed, spec, &roles, &numeric);
                for (k, name) in numeric.iter().enumerate() {
                    assert_eq!(bits(&got.x[k]), bits(full.col(name)));
                    assert_eq!(bits(&got.sorted[k]), bits(&want.sorted[k]));
                    let mut s = full.col(name).to_vec();
                    s.sort_by(f64::total_cmp);
                    assert_eq!(bits(&got.sorted[k]), bits(&s));
                }
                assert_eq!(bits(&got.y), bits(full.target()));
                assert_eq!(got.level, want.level);
                assert!(got.level.iter().all(Option::is_some));
            }
        }
    }

    #[test]
    fn simulate_and_psi_equal_the_code_path_before_lean_batches() {
        let roles = Roles::default();
        let specs = varied_specs();
        let mut compared = 0;
        for seed in 0..12u64 {
            let reference = synth(
                300 + 40 * seed as usize,
                900 + seed,
                &specs[(seed % 3) as usize],
            );
            let batches: Vec<Dataset> = (0..6u64)
                .map(|t| {
                    synth(
                        120 + 7 * t as usize,
                        1000 * seed + t,
                        &specs[((seed + t) % 3) as usize],
                    )
                })
                .collect();
            let cfg = DriftSettings {
                batches: 6,
                psi_bins: [10, 3, 25][(seed % 3) as usize],
                psi_alarm: [0.2, 0.02, 1.0][(seed % 3) as usize],
                rmse_alarm: [1.5, 1.05, 3.0][(seed / 3 % 3) as usize],
                train_window: 1 + (seed as usize % 3),
                ..DriftSettings::default()
            };
            let folds = 2 + (seed as usize % 4);
            let got = simulate(&reference, &batches, &cfg, folds, seed);
            let want = before::simulate(&reference, &batches, &cfg, folds, seed);
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "seed {seed}");
            for (t, b) in batches.iter().enumerate() {
                let training: Vec<&Dataset> = batches[..t].iter().chain([&reference]).collect();
                let numeric = numeric_features(&roles);
                assert_eq!(
                    format!("{:?}", psi_by_feature(&training, b, cfg.psi_bins)),
                    format!(
                        "{:?}",
                        before::psi_against(&training, b, &numeric, cfg.psi_bins)
                    )
                );
            }
            compared += 1;
        }
        assert_eq!(compared, 12);
    }

    #[test]
    fn invalid_settings_name_their_key() {
        assert!(DriftSettings::default().check(5).is_ok());
        let bad = DriftSettings {
            batches: 1,
            ..DriftSettings::default()
        };
        assert!(
            bad.check(5)
                .unwrap_err()
                .to_string()
                .contains("drift.batches")
        );
        let bad = DriftSettings {
            psi_alarm: f64::NAN,
            ..DriftSettings::default()
        };
        assert!(bad.check(5).unwrap_err().to_string().contains("psi_alarm"));
        let bad = DriftSettings {
            train_window: 0,
            ..DriftSettings::default()
        };
        assert!(
            bad.check(5)
                .unwrap_err()
                .to_string()
                .contains("train_window")
        );
    }

    #[test]
    fn run_is_seeded_and_follows_the_scenario() {
        let ds = synth(300, 3, &SynthSpec::default());
        let s = Settings::default();
        let a = run(&ds, &s);
        assert_eq!(a, run(&ds, &s));
        let b = run(
            &ds,
            &Settings {
                seed: 43,
                ..s.clone()
            },
        );
        assert_ne!(a.batches, b.batches);
        assert_eq!(a.batches.len(), 12);
        assert_eq!(a.batches[2].income_scale, 1.0);
        assert!((a.batches[11].income_scale - 1.35).abs() < 1e-12);
        assert!((a.batches[11].young_share - 0.3).abs() < 1e-12);
        let mix_sum: f64 = a.batches[11].region_mix.iter().sum();
        assert!((mix_sum - 1.0).abs() < 1e-12);
        // Income drifts more than loyalty by the end.
        assert!(a.batches[11].psi["annual_income"] > a.batches[11].psi["loyalty_score"]);
        assert!(a.psi_range.0 >= 0.0 && a.psi_range.0 < a.psi_range.1);
    }
}
