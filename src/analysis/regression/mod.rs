//! Spend regression: how well the spend target can be predicted from behavioural features
//! (everything known about a customer) and from demographic ones (what is known about a
//! prospect), validated without leakage.
//!
//! - Models: mean baseline, OLS, Ridge and Lasso (penalty chosen by an inner group-aware CV on
//!   each outer training fold, over [`RegressionSettings::penalty_grid`]), and a random forest
//!   (see [`crate::ml::regressors`] for why it comes from smartcore).
//! - Schemes: group k-fold (the honest default: duplicate rows never straddle train and test)
//!   and shuffled k-fold (naive, computed to show how copies inflate scores); `folds × repeats`.
//! - Scores: R², RMSE, MAE and RMSE / sd(target) per fold, summarised as mean ± sd.
//! - The best model is the one with the highest mean group-aware R² over every model and
//!   feature set ([`SelectionRule`]); its out-of-fold predictions feed the figures, and its
//!   permutation importance is computed on held-out group folds.
//! - Multicollinearity: bootstrap intervals of OLS and Ridge coefficients ([`bootstrap`]).
//!
//! Standardisation and penalty choice are fitted inside training folds only.

pub mod contract;
pub mod figures;

pub mod baselines;
pub mod bootstrap;
pub mod design;
pub mod importance;
mod validate;

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::{Dataset, SampleInfo};
use crate::features::LeakageError;
use crate::ml::cv::{CvError, Scheme};
use crate::ml::metrics::FoldSummary;
use crate::ml::regressors::{FitError, ForestParams, ModelKind};
use crate::rng;
use crate::settings::Settings;
use crate::sparse::{LevelMap, MergeSource};
use crate::stats;

pub use baselines::{Headline, RegressionBaselines, SingleColumn};
pub use bootstrap::{BootstrapFindings, CoefComparison, CoefInterval, ResampleUnit};
pub use design::{Design, FeatureSet};
pub use importance::{FeatureImportance, ImportanceFindings, SharedImportance};

/// Settings of the regression analysis. Folds, repeats and the seed come from [`Settings`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegressionSettings {
    /// Ridge and Lasso penalties tried by the inner CV, strictly increasing, in linfa's
    /// parametrisation on standardised predictors and target (ties go to the larger penalty).
    /// Penalties below 3e-3 are left out: they behave like OLS. Each inner training split fits
    /// the whole grid along one warm-started path ([`crate::ml::penalised`]).
    pub penalty_grid: Vec<f64>,
    /// Coordinate-descent sweeps allowed to a Lasso fit at one penalty (Ridge is solved in closed
    /// form). The solver's exact active-set steps converge in a few sweeps on the bundled data,
    /// so the budget only bounds pathological inputs; a fit that runs out stops unconverged.
    pub max_iterations: u32,
    /// Folds of the inner group-aware CV that chooses the penalty (fewer if a training fold has
    /// fewer duplicate groups).
    pub inner_folds: usize,
    /// Random-forest hyper-parameters. Trees are the analysis' main cost: 60 trees × 5 folds ×
    /// 3 repeats × 2 schemes × 2 feature sets keeps the whole analysis well under 0.5 s in release.
    pub forest: ForestParams,
    /// Bootstrap resamples of the OLS / Ridge coefficient comparison (at least 200).
    pub bootstrap_resamples: usize,
    /// Feature set whose coefficients are bootstrapped (the behavioural one is the collinear one).
    pub bootstrap_feature_set: FeatureSet,
    /// Shuffle repeats of permutation importance (at least 10).
    pub permutation_repeats: usize,
    /// |Pearson r| at or above which numeric features count as sharing importance.
    pub correlation_threshold: f64,
    /// Success target: mean group-aware R² above this.
    pub success_r2: f64,
    /// Success target: mean group-aware RMSE / sd(target) below this ("well below" the sd).
    pub success_rmse_over_sd: f64,
    /// The feature set the success target is judged on (see [`baselines::HEADLINE_RULE`];
    /// default demographic: the inputs known before purchase).
    pub headline_feature_set: FeatureSet,
}

impl Default for RegressionSettings {
    fn default() -> Self {
        RegressionSettings {
            penalty_grid: vec![3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0],
            max_iterations: 300,
            inner_folds: 3,
            forest: ForestParams::default(),
            bootstrap_resamples: 200,
            bootstrap_feature_set: FeatureSet::Behavioural,
            permutation_repeats: 10,
            correlation_threshold: 0.8,
            success_r2: 0.80,
            success_rmse_over_sd: 0.5,
            headline_feature_set: FeatureSet::Demographic,
        }
    }
}

impl RegressionSettings {
    /// Checks every value; the error names the `regression.` key, its value and the allowed
    /// range (the same check runs when settings load, so a bad value never reaches a run).
    pub fn validate(&self) -> Result<(), crate::settings::SettingsError> {
        use crate::bounds;
        bounds::count(
            "regression.penalty_grid (entries)",
            self.penalty_grid.len(),
            1,
            50,
        )?;
        for (i, p) in self.penalty_grid.iter().enumerate() {
            bounds::open_closed(&format!("regression.penalty_grid[{i}]"), *p, 0.0, 1e6)?;
        }
        bounds::increasing(
            "regression.penalty_grid",
            &self.penalty_grid,
            (0.0, 1e6),
            (1, 50),
        )?;
        bounds::count(
            "regression.max_iterations",
            self.max_iterations as usize,
            1,
            100_000,
        )?;
        bounds::count("regression.inner_folds", self.inner_folds, 2, 20)?;
        bounds::count("regression.forest.trees", self.forest.trees, 1, 2_000)?;
        bounds::count(
            "regression.forest.max_depth",
            self.forest.max_depth as usize,
            0,
            64,
        )?;
        bounds::count(
            "regression.forest.min_samples_leaf",
            self.forest.min_samples_leaf,
            1,
            1_000,
        )?;
        bounds::open_closed(
            "regression.forest.max_features_share",
            self.forest.max_features_share,
            0.0,
            1.0,
        )?;
        bounds::count(
            "regression.bootstrap_resamples",
            self.bootstrap_resamples,
            200,
            100_000,
        )?;
        bounds::count(
            "regression.permutation_repeats",
            self.permutation_repeats,
            10,
            10_000,
        )?;
        bounds::open_closed(
            "regression.correlation_threshold",
            self.correlation_threshold,
            0.0,
            1.0,
        )?;
        bounds::closed("regression.success_r2", self.success_r2, 0.0, 1.0)?;
        bounds::open_closed(
            "regression.success_rmse_over_sd",
            self.success_rmse_over_sd,
            0.0,
            10.0,
        )?;
        Ok(())
    }

    /// [`RegressionSettings::validate`] as the analysis' own error.
    pub fn check(&self) -> Result<(), RegressionError> {
        self.validate()
            .map_err(|e| RegressionError::Settings(e.to_string()))
    }

    /// Whether a mean R² and a mean RMSE / sd meet the success target: R² above
    /// `success_r2` and RMSE / sd below `success_rmse_over_sd` (the one place "met" is decided).
    pub fn meets(&self, r2: f64, rmse_over_sd: f64) -> bool {
        r2 > self.success_r2 && rmse_over_sd < self.success_rmse_over_sd
    }
}

/// Why the regression could not run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RegressionError {
    /// A feature is derived from the target.
    #[error(transparent)]
    Leakage(#[from] LeakageError),
    /// Folds could not be made (too few rows or duplicate groups).
    #[error(transparent)]
    Cv(#[from] CvError),
    /// A model failed to fit.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// The regression settings are invalid.
    #[error("{0}")]
    Settings(String),
}

/// How the best model is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectionRule {
    /// Highest mean group-aware R² over all models and feature sets; ties go to the simpler
    /// model ([`ModelKind::ALL`] order), then the richer feature set.
    #[default]
    HighestMeanGroupAwareR2,
}

/// Cross-validated scores of one model × feature set × scheme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvScore {
    /// The model.
    pub model: ModelKind,
    /// The feature set.
    pub feature_set: FeatureSet,
    /// The scheme.
    pub scheme: Scheme,
    /// How it was measured ([`Scheme::describe`]).
    pub scheme_description: String,
    /// Folds per repeat.
    pub folds: usize,
    /// Repeats.
    pub repeats: usize,
    /// R² over all folds of all repeats.
    pub r2: FoldSummary,
    /// RMSE, target units.
    pub rmse: FoldSummary,
    /// MAE, target units.
    pub mae: FoldSummary,
    /// RMSE divided by the target's standard deviation over all rows.
    pub rmse_over_sd: FoldSummary,
    /// Penalty chosen on each outer training fold (Ridge and Lasso; empty otherwise).
    pub chosen_penalties: Vec<f64>,
}

/// Naive against group-aware scores of one model × feature set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemeGap {
    /// The model.
    pub model: ModelKind,
    /// The feature set.
    pub feature_set: FeatureSet,
    /// Mean group-aware R².
    pub group_r2: f64,
    /// Mean naive R².
    pub naive_r2: f64,
    /// `naive_r2 − group_r2`: how much leaked copies inflate R².
    pub r2_inflation: f64,
    /// Mean group-aware RMSE / sd.
    pub group_rmse_over_sd: f64,
    /// Mean naive RMSE / sd.
    pub naive_rmse_over_sd: f64,
}

/// The best model and the figures behind its name.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct BestModel {
    /// The model.
    pub model: Option<ModelKind>,
    /// Its feature set.
    pub feature_set: Option<FeatureSet>,
    /// How it was chosen.
    pub rule: SelectionRule,
    /// Scheme the choice is based on.
    pub scheme: String,
    /// Its group-aware R².
    pub r2: FoldSummary,
    /// Its group-aware RMSE / sd.
    pub rmse_over_sd: FoldSummary,
}

/// The mission's success target evaluated for the best model of one feature set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuccessCheck {
    /// Feature set.
    pub feature_set: FeatureSet,
    /// Best model of that set by group-aware R².
    pub model: ModelKind,
    /// Its mean group-aware R².
    pub r2: f64,
    /// Its mean group-aware RMSE / sd.
    pub rmse_over_sd: f64,
    /// The R² threshold (must be exceeded).
    pub r2_threshold: f64,
    /// The RMSE / sd threshold (must be undercut).
    pub rmse_over_sd_threshold: f64,
    /// Whether both targets are met.
    pub met: bool,
}

/// Out-of-fold predictions of the best model (group-aware scheme, first repeat: each row is
/// predicted exactly once, by a model that never saw it or its copies).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct OutOfFold {
    /// Scheme and repeat the predictions come from.
    pub scheme: String,
    /// Observed target per row.
    pub actual: Vec<f64>,
    /// Out-of-fold prediction per row.
    pub predicted: Vec<f64>,
    /// `actual − predicted`.
    pub residual: Vec<f64>,
}

/// Results of the regression analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RegressionFindings {
    /// Set when the analysis could not run, with the reason; everything else is then empty.
    pub skipped: Option<String>,
    /// Present when the table exceeded `sample_cap` and everything below was computed on the
    /// shared seeded sample of whole duplicate groups ([`Dataset::capped`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleInfo>,
    /// Target column.
    pub target: String,
    /// Its unit.
    pub target_unit: String,
    /// Its standard deviation over all rows (the RMSE / sd denominator).
    pub target_sd: f64,
    /// Rows analysed (the sample's rows when [`RegressionFindings::sample`] is set).
    pub rows: usize,
    /// Duplicate groups among them.
    pub groups: usize,
    /// Design columns of each feature set.
    pub feature_sets: Vec<(FeatureSet, Vec<String>)>,
    /// Every model × feature set × scheme.
    pub scores: Vec<CvScore>,
    /// Naive against group-aware, per model × feature set.
    pub gaps: Vec<SchemeGap>,
    /// The best model.
    pub best: BestModel,
    /// Success targets per feature set.
    pub success: Vec<SuccessCheck>,
    /// Out-of-fold predictions of the best model.
    pub out_of_fold: OutOfFold,
    /// Bootstrap of OLS and Ridge coefficients.
    pub bootstrap: BootstrapFindings,
    /// Permutation importance of the best model (on the fixed design, every level its own column).
    pub importance: ImportanceFindings,
    /// The headline (the model the target is judged on) and the one-column baselines.
    pub baselines: RegressionBaselines,
    /// Sparse category levels merged inside the models: the setting, the decisions of the
    /// training folds, and every model with and without the merge under group k-fold.
    pub sparse_merge: crate::sparse::Ablation,
}

/// The two schemes compared, honest first.
const SCHEMES: [Scheme; 2] = [Scheme::GroupKFold, Scheme::KFold];

/// Runs the regression analysis; a failure (too few duplicate groups for the folds, a leaking
/// feature, invalid settings) is reported in [`RegressionFindings::skipped`].
///
/// ```
/// use customer_intel::{analysis::regression, data, settings::Settings};
/// let ds = data::synth(120, 3, &data::SynthSpec::default());
/// let mut settings = Settings::default();
/// settings.repeats = 1; // a quick run
/// settings.regression.forest.trees = 10;
/// let f = regression::run(&ds, &settings);
/// assert!(f.skipped.is_none());
/// assert!(f.best.r2.mean > 0.5);
/// ```
pub fn run(ds: &Dataset, settings: &Settings) -> RegressionFindings {
    let capped = ds.capped(
        settings.sample_cap,
        settings.seed,
        crate::data::ANALYSIS_SAMPLE,
    );
    let mut f = try_run(&capped.data, settings).unwrap_or_else(|e| RegressionFindings {
        skipped: Some(e.to_string()),
        ..Default::default()
    });
    f.sample = capped.sample;
    f
}

/// Runs the regression analysis on every row of `ds` (no sample cap; [`run`] applies it),
/// returning the first error.
pub fn try_run(ds: &Dataset, settings: &Settings) -> Result<RegressionFindings, RegressionError> {
    let rs = &settings.regression;
    rs.check()?;
    let y = ds.target();
    let target_sd = stats::sd(y);
    let designs: Vec<(FeatureSet, Design)> = FeatureSet::ALL
        .iter()
        .map(|&s| Ok((s, design::design(ds, s)?)))
        .collect::<Result<_, RegressionError>>()?;

    let merge_on = settings.features.merge_sparse_levels;
    let source = MergeSource::of(ds, settings.eda.sparse_share);
    let merged: Vec<validate::MergedDesign> = FeatureSet::ALL
        .iter()
        .map(|s| validate::MergedDesign::new(ds, s.columns(&ds.roles), source.clone()))
        .collect::<Result<_, _>>()?;
    // Every (feature set, model, scheme) cross-validation, with the other merge variant's under
    // group k-fold, is seeded on its own: they run in parallel and are read back in job order,
    // so the findings (and the first error) are those of the plain nested loop.
    let jobs: Vec<(usize, ModelKind, Scheme)> = (0..designs.len())
        .flat_map(|i| ModelKind::ALL.into_iter().map(move |m| (i, m)))
        .flat_map(|(i, m)| SCHEMES.into_iter().map(move |sc| (i, m, sc)))
        .collect();
    let cv_runs = || {
        crate::par::map(&jobs, |&(i, model, scheme)| {
            let (d, md) = (&designs[i].1, &merged[i]);
            let (main, other): (&dyn validate::Predictors, &dyn validate::Predictors) =
                if merge_on { (md, &d.x) } else { (&d.x, md) };
            let run = validate::cross_validate(model, main, y, &ds.groups, scheme, settings)?;
            let alt = if scheme == Scheme::GroupKFold {
                Some(validate::cross_validate(
                    model, other, y, &ds.groups, scheme, settings,
                )?)
            } else {
                None
            };
            Ok::<_, RegressionError>((run, alt))
        })
    };
    // The coefficient bootstrap needs none of the scores: it runs beside the CV runs (its error,
    // if any, is reported after theirs, as in the sequential order).
    // Work beyond the CV runs uses at most sample_cap rows (a seeded sample on big tables).
    let rows = capped_rows(ds.n_rows(), settings.sample_cap, settings.seed);
    let coefficient_bootstrap = || -> Result<_, RegressionError> {
        let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let groups: Vec<usize> = rows.iter().map(|&i| ds.groups[i]).collect();
        let bd = &designs
            .iter()
            .find(|(s, _)| *s == rs.bootstrap_feature_set)
            .expect("both sets built")
            .1;
        let bx = bd.x.select_rows(&rows);
        let by = pick(y);
        let ridge_penalty = validate::choose_penalty(
            ModelKind::Ridge,
            &bx,
            &by,
            &groups,
            &(0..by.len()).collect::<Vec<usize>>(),
            settings,
            rng::child_seed(settings.seed, 0xb007),
        )?;
        bootstrap::run(
            &bx,
            &by,
            &groups,
            &bd.columns,
            ridge_penalty,
            rs.bootstrap_resamples,
            rs.max_iterations,
            rng::child_seed(settings.seed, 0xb008),
            ds.roles.unit(&ds.roles.target),
        )
    };
    let (runs, bootstrap) = crate::par::join(cv_runs, coefficient_bootstrap);
    let mut scores = Vec::new();
    let mut oof_of = Vec::new();
    // (model, set, main per-fold R², other variant's per-fold R²) under group k-fold.
    let mut paired: Vec<(ModelKind, FeatureSet, Vec<f64>, Vec<f64>)> = Vec::new();
    for (&(i, model, scheme), result) in jobs.iter().zip(runs) {
        let (run, alt) = result?;
        let set = designs[i].0;
        scores.push(score_of(model, set, scheme, &run, target_sd, settings));
        if let Some(alt) = alt {
            paired.push((model, set, run.r2.clone(), alt.r2));
            oof_of.push(((model, set), run.oof));
        }
    }
    let find = |m: ModelKind, s: FeatureSet, sc: Scheme| {
        scores
            .iter()
            .find(|c| c.model == m && c.feature_set == s && c.scheme == sc)
            .expect("every combination scored")
    };
    let gaps: Vec<SchemeGap> = designs
        .iter()
        .flat_map(|(set, _)| ModelKind::ALL.iter().map(move |&m| (m, *set)))
        .map(|(model, set)| {
            let (g, n) = (
                find(model, set, Scheme::GroupKFold),
                find(model, set, Scheme::KFold),
            );
            SchemeGap {
                model,
                feature_set: set,
                group_r2: g.r2.mean,
                naive_r2: n.r2.mean,
                r2_inflation: n.r2.mean - g.r2.mean,
                group_rmse_over_sd: g.rmse_over_sd.mean,
                naive_rmse_over_sd: n.rmse_over_sd.mean,
            }
        })
        .collect();

    // Best by mean group-aware R²: models in ALL order, then sets in ALL order; strict > keeps
    // the earlier (simpler model, richer set) on ties.
    let best_in = |sets: &[FeatureSet]| -> &CvScore {
        let mut best: Option<&CvScore> = None;
        for m in ModelKind::ALL {
            for &s in sets {
                let c = find(m, s, Scheme::GroupKFold);
                if best.is_none_or(|b| c.r2.mean > b.r2.mean) {
                    best = Some(c);
                }
            }
        }
        best.expect("at least one score")
    };
    let top = best_in(&FeatureSet::ALL);
    let best = BestModel {
        model: Some(top.model),
        feature_set: Some(top.feature_set),
        rule: SelectionRule::HighestMeanGroupAwareR2,
        scheme: top.scheme_description.clone(),
        r2: top.r2,
        rmse_over_sd: top.rmse_over_sd,
    };
    let success = FeatureSet::ALL
        .iter()
        .map(|&s| {
            let b = best_in(&[s]);
            SuccessCheck {
                feature_set: s,
                model: b.model,
                r2: b.r2.mean,
                rmse_over_sd: b.rmse_over_sd.mean,
                r2_threshold: rs.success_r2,
                rmse_over_sd_threshold: rs.success_rmse_over_sd,
                met: rs.meets(b.r2.mean, b.rmse_over_sd.mean),
            }
        })
        .collect();
    let mut folds_all = Vec::new();
    for r in 0..settings.repeats {
        folds_all.extend(validate::outer_folds(
            &ds.groups,
            Scheme::GroupKFold,
            settings,
            r,
        )?);
    }
    let rows_ab: Vec<crate::sparse::AblationRow> = paired
        .iter()
        .map(|(m, s, main, alt)| {
            let (with, without) = if merge_on { (main, alt) } else { (alt, main) };
            crate::sparse::ablation_row(
                format!("{} on {} features", m.label(), s.label()),
                "R²",
                with,
                without,
                *m == top.model && *s == top.feature_set,
            )
        })
        .collect();
    let (recommend_merge, reason) = crate::sparse::recommend(&rows_ab);
    let sparse_merge = crate::sparse::Ablation {
        enabled: merge_on,
        rule: crate::sparse::rule(&ds.roles, settings.eda.sparse_share),
        min_share: settings.eda.sparse_share,
        scheme: format!(
            "{}, paired per-fold R² (both variants on the same folds)",
            Scheme::GroupKFold.describe(settings.folds)
        ),
        fold_decisions: crate::sparse::fold_decisions(&source, &folds_all),
        folds: folds_all.len(),
        rows: rows_ab,
        recommendation_rule: crate::sparse::RECOMMENDATION_RULE.into(),
        recommend_merge,
        reason,
    };
    let predicted = oof_of
        .iter()
        .find(|(k, _)| *k == (top.model, top.feature_set))
        .expect("best was scored")
        .1
        .clone();
    let out_of_fold = OutOfFold {
        scheme: format!(
            "{}, repeat 1 of {}",
            Scheme::GroupKFold.describe(settings.folds),
            settings.repeats
        ),
        actual: y.to_vec(),
        residual: y.iter().zip(&predicted).map(|(a, p)| a - p).collect(),
        predicted,
    };

    let bootstrap = bootstrap?;
    let td = &designs
        .iter()
        .find(|(s, _)| *s == top.feature_set)
        .expect("both sets built")
        .1;
    let importance = importance::run(
        top.model,
        top.feature_set,
        td,
        y,
        &ds.groups,
        &rows,
        settings,
    )?;
    let baselines = baselines::run(ds, settings, &scores, target_sd)?;

    Ok(RegressionFindings {
        skipped: None,
        sample: None,
        target: ds.roles.target.clone(),
        target_unit: ds.roles.unit(&ds.roles.target).to_string(),
        target_sd,
        rows: ds.n_rows(),
        groups: ds.n_groups,
        feature_sets: designs
            .iter()
            .map(|(s, d)| (*s, d.columns.clone()))
            .collect(),
        scores,
        gaps,
        best,
        success,
        out_of_fold,
        bootstrap,
        importance,
        baselines,
        sparse_merge,
    })
}

#[cfg(test)]
mod tests;

/// The production spend regressor: the best model refitted on every row.
#[derive(Debug)]
pub struct ProductionRegressor {
    /// The model kind.
    pub model: ModelKind,
    /// Its feature set.
    pub feature_set: FeatureSet,
    /// The fitted model.
    pub fitted: crate::ml::regressors::Fitted,
    /// The penalty chosen for Ridge or Lasso.
    pub penalty: Option<f64>,
    /// The design it was fitted on (column names and one-hot blocks).
    pub design: Design,
    /// The seed of the fit (the forest's bootstrap, the inner folds of the penalty choice).
    pub seed: u64,
    /// The sparse-level merge decided on every training row (empty when
    /// `features.merge_sparse_levels` is off or no level is sparse); `design` encodes it.
    pub merges: LevelMap,
}

/// Fits the best model of `findings` on every row of `ds`.
///
/// The rule: the penalty of Ridge or Lasso is chosen exactly as on each outer training fold of
/// the analysis — the grid penalty with the smallest pooled squared error over an inner group
/// k-fold (`inner_folds`) of the rows, ties to the larger penalty — here on all rows; the forest
/// takes the settings' hyper-parameters. The fit uses every row (the cross-validation already
/// fits on 80% of every row per fold, so one all-rows fit costs less than one repeat of it) and
/// is seeded from `settings.seed`.
pub fn fit_production(
    ds: &Dataset,
    settings: &Settings,
    findings: &RegressionFindings,
) -> Result<ProductionRegressor, RegressionError> {
    let (Some(model), Some(feature_set)) = (findings.best.model, findings.best.feature_set) else {
        return Err(RegressionError::Settings(
            "the regression has no best model to save".into(),
        ));
    };
    settings.regression.check()?;
    let all: Vec<usize> = (0..ds.n_rows()).collect();
    let seed = rng::child_seed(settings.seed, 0x5_9e_u64 << 20);
    let names = feature_set.columns(&ds.roles);
    let source = MergeSource::of(ds, settings.eda.sparse_share);
    let (design, merges, fitted, penalty) = if settings.features.merge_sparse_levels {
        let merges = source.decide(&all);
        let design = design::design_rows(ds, &names, &merges, &all, &all)?;
        let md = validate::MergedDesign::new(ds, names, source)?;
        let (fitted, penalty) =
            validate::fit_in_fold(model, &md, ds.target(), &ds.groups, &all, settings, seed)?;
        (design, merges, fitted, penalty)
    } else {
        let design = design::design(ds, feature_set)?;
        let (fitted, penalty) = validate::fit_in_fold(
            model,
            &design.x,
            ds.target(),
            &ds.groups,
            &all,
            settings,
            seed,
        )?;
        let merges = LevelMap {
            column: ds.roles.category.clone(),
            merges: Vec::new(),
        };
        (design, merges, fitted, penalty)
    };
    Ok(ProductionRegressor {
        model,
        feature_set,
        fitted,
        penalty,
        design,
        seed,
        merges,
    })
}

/// Mean ± sd of the cross-validated R² of one model, feature set and scheme, with
/// `settings.folds × settings.repeats` folds seeded from `settings.seed` (the same folds
/// [`run`] uses). Meant for sweeps such as robustness to noise.
///
/// ```
/// use customer_intel::analysis::regression::{cv_r2, FeatureSet};
/// use customer_intel::ml::{cv::Scheme, regressors::ModelKind};
/// use customer_intel::{data, settings::Settings};
/// let ds = data::synth(150, 5, &data::SynthSpec::default());
/// let s = cv_r2(&ds, &Settings::default(), ModelKind::Ols, FeatureSet::Behavioural, Scheme::GroupKFold).unwrap();
/// assert_eq!(s.n, 15);
/// assert!(s.mean > 0.8);
/// ```
pub fn cv_r2(
    ds: &Dataset,
    settings: &Settings,
    model: ModelKind,
    features: FeatureSet,
    scheme: Scheme,
) -> Result<FoldSummary, RegressionError> {
    cv_r2_for(ds, settings, model, &features.columns(&ds.roles), scheme)
}

/// One model on one feature set cross-validated with and without the sparse-level merge
/// ([`crate::sparse`]) on the same group k-folds (`settings.folds × settings.repeats`, seeded from
/// `settings.seed`, the folds [`run`] uses): the paired per-fold R² difference, merged −
/// unmerged, with its sd and n. The merge is decided on each training fold only, with threshold
/// `eda.sparse_share`; `features.merge_sparse_levels` is ignored (both variants are scored).
/// Meant for notebooks (the East ablation); [`run`] reports every model in
/// [`RegressionFindings::sparse_merge`].
///
/// ```
/// use customer_intel::analysis::regression::{merge_ablation, FeatureSet};
/// use customer_intel::{data, ml::regressors::ModelKind, settings::Settings};
/// let spec = data::SynthSpec { region_mix: vec![1.0, 1.0, 0.05, 1.0], ..Default::default() };
/// let ds = data::synth(200, 5, &spec);
/// let mut s = Settings::default();
/// s.repeats = 1;
/// let row = merge_ablation(&ds, &s, ModelKind::Ols, FeatureSet::Demographic).unwrap();
/// assert_eq!(row.difference.n, 5);
/// assert!((row.difference.mean - (row.merged.mean - row.unmerged.mean)).abs() < 1e-12);
/// ```
pub fn merge_ablation(
    ds: &Dataset,
    settings: &Settings,
    model: ModelKind,
    features: FeatureSet,
) -> Result<crate::sparse::AblationRow, RegressionError> {
    settings.regression.check()?;
    let d = design::design(ds, features)?;
    let md = validate::MergedDesign::new(
        ds,
        features.columns(&ds.roles),
        MergeSource::of(ds, settings.eda.sparse_share),
    )?;
    let (y, g, sch) = (ds.target(), &ds.groups, Scheme::GroupKFold);
    let with = validate::cross_validate(model, &md, y, g, sch, settings)?.r2;
    let without = validate::cross_validate(model, &d.x, y, g, sch, settings)?.r2;
    Ok(crate::sparse::ablation_row(
        format!("{} on {} features", model.label(), features.label()),
        "R²",
        &with,
        &without,
        false,
    ))
}

fn score_of(
    model: ModelKind,
    feature_set: FeatureSet,
    scheme: Scheme,
    run: &validate::CvRun,
    target_sd: f64,
    settings: &Settings,
) -> CvScore {
    let over_sd: Vec<f64> = run.rmse.iter().map(|r| r / target_sd).collect();
    CvScore {
        model,
        feature_set,
        scheme,
        scheme_description: scheme.describe(settings.folds),
        folds: settings.folds,
        repeats: settings.repeats,
        r2: FoldSummary::of(&run.r2),
        rmse: FoldSummary::of(&run.rmse),
        mae: FoldSummary::of(&run.mae),
        rmse_over_sd: FoldSummary::of(&over_sd),
        chosen_penalties: run.penalties.clone(),
    }
}

/// All rows, or a seeded sample of `cap` of them (sorted) when there are more.
fn capped_rows(n: usize, cap: usize, seed: u64) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..n).collect();
    if n > cap {
        rows.shuffle(&mut rng::stream(seed, "regression_sample_cap"));
        rows.truncate(cap);
        rows.sort_unstable();
    }
    rows
}

/// Mean ± sd of the cross-validated R² of one model on any list of raw feature columns (numeric
/// role columns and/or the category, one-hot encoded), under `scheme`, with the same folds,
/// repeats, in-fold penalty choice and in-fold sparse-level merge as [`run`]. The building block
/// of a notebook's "try it yourself" cell: a feature list that leaks the target is refused with
/// an error.
///
/// ```
/// use customer_intel::analysis::regression::cv_r2_for;
/// use customer_intel::ml::{cv::Scheme, regressors::ModelKind};
/// use customer_intel::{data, settings::Settings};
/// let ds = data::synth(150, 5, &data::SynthSpec::default());
/// let mut s = Settings::default();
/// s.repeats = 1;
/// let age = vec!["age".to_string()];
/// let r2 = cv_r2_for(&ds, &s, ModelKind::Ols, &age, Scheme::GroupKFold).unwrap();
/// assert_eq!(r2.n, 5);
/// assert!(r2.mean > 0.5);
/// let spend = vec!["purchase_amount".to_string()];
/// assert!(cv_r2_for(&ds, &s, ModelKind::Ols, &spend, Scheme::GroupKFold).is_err());
/// ```
pub fn cv_r2_for(
    ds: &Dataset,
    settings: &Settings,
    model: ModelKind,
    columns: &[String],
    scheme: Scheme,
) -> Result<FoldSummary, RegressionError> {
    settings.regression.check()?;
    let d = design::design_for(ds, columns)?;
    let md = validate::MergedDesign::new(
        ds,
        columns.to_vec(),
        MergeSource::of(ds, settings.eda.sparse_share),
    )?;
    let x: &dyn validate::Predictors = if settings.features.merge_sparse_levels {
        &md
    } else {
        &d.x
    };
    Ok(FoldSummary::of(
        &validate::cross_validate(model, x, ds.target(), &ds.groups, scheme, settings)?.r2,
    ))
}

/// Fits `model` on every row of `ds` with the given design (as it is: no sparse-level merge), the
/// way one training fold of [`run`] fits (a penalised model first chooses its penalty by the
/// inner group-aware CV),
/// seeded from `settings.seed`. Returns the fitted model and the penalty chosen (Ridge, Lasso).
/// Meant for a notebook cell that fits a model in the open and reads its coefficients.
///
/// ```
/// use customer_intel::analysis::regression::{design::design, fit_all_rows, FeatureSet};
/// use customer_intel::ml::regressors::ModelKind;
/// use customer_intel::{data, settings::Settings};
/// let ds = data::synth(120, 2, &data::SynthSpec::default());
/// let d = design(&ds, FeatureSet::Behavioural).unwrap();
/// let (fitted, penalty) = fit_all_rows(&ds, &Settings::default(), ModelKind::Ols, &d).unwrap();
/// assert!(penalty.is_none());
/// assert_eq!(fitted.linear().unwrap().coef_raw().len(), d.columns.len());
/// assert_eq!(fitted.predict(&d.x).len(), 120);
/// ```
pub fn fit_all_rows(
    ds: &Dataset,
    settings: &Settings,
    model: ModelKind,
    design: &Design,
) -> Result<(crate::ml::regressors::Fitted, Option<f64>), RegressionError> {
    settings.regression.check()?;
    let all: Vec<usize> = (0..ds.n_rows()).collect();
    validate::fit_in_fold(
        model,
        &design.x,
        ds.target(),
        &ds.groups,
        &all,
        settings,
        settings.seed,
    )
}
