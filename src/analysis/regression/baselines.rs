//! Regression baselines: how far one column alone gets, under the same group-aware protocol as
//! the headline, and which feature set is the headline and why.
//!
//! Every numeric feature is scored alone with OLS (intercept + that column) on the same outer
//! folds as the models of [`super::run`] (group k-fold, `folds × repeats`, seeded alike). The
//! best of them among the headline set's columns is the target's [`crate::targets::Baseline`]:
//! when it meets the target too, the target says nothing about the multi-column model.

use serde::Serialize;

use crate::data::Dataset;
use crate::ml::cv::Scheme;
use crate::ml::metrics::FoldSummary;
use crate::ml::regressors::ModelKind;
use crate::settings::Settings;

use super::design::{self, FeatureSet};
use super::{CvScore, RegressionError, validate};

/// The rule naming the headline feature set, in words (also stored in the findings).
pub const HEADLINE_RULE: &str = "the target is judged on the best group-aware model of the set named by \
`regression.headline_feature_set` (default: demographic, the inputs known before a customer's first purchase): \
the question is asked about prospects, and behavioural inputs such as loyalty and purchase frequency are \
recorded over the same purchases whose amount is the target, so they are not known in advance (the EDA flags \
them as possible target leakage); the behavioural set's best is shown beside it as what a model can do once a \
customer's history is known";

/// One numeric feature alone, OLS with intercept, group-aware CV.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SingleColumn {
    /// The column.
    pub column: String,
    /// Whether it belongs to the headline feature set.
    pub in_headline_set: bool,
    /// R² over all folds of all repeats (mean ± sd, n).
    pub r2: FoldSummary,
    /// RMSE / sd(target) over the same folds.
    pub rmse_over_sd: FoldSummary,
    /// Whether this one column meets the success target.
    pub meets: bool,
}

/// The headline model: the best group-aware model of the headline feature set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// The feature set the target is judged on.
    pub feature_set: FeatureSet,
    /// Its best model by mean group-aware R².
    pub model: ModelKind,
    /// Scheme of the scores.
    pub scheme: String,
    /// Its R² (mean ± sd, n).
    pub r2: FoldSummary,
    /// Its RMSE / sd.
    pub rmse_over_sd: FoldSummary,
}

/// Baselines of the spend regression.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RegressionBaselines {
    /// Which feature set is the headline, and why ([`HEADLINE_RULE`]).
    pub headline_rule: String,
    /// The headline model (absent when nothing was scored).
    pub headline: Option<Headline>,
    /// Every numeric feature alone, in roles order.
    pub single_column: Vec<SingleColumn>,
    /// Index into `single_column` of the best column of the headline set (the baseline).
    pub best_single: Option<usize>,
    /// Index into `single_column` of the best column of any set.
    pub best_single_any: Option<usize>,
    /// How the single columns were scored.
    pub scheme: String,
}

/// Scores every numeric feature alone and names the headline (the best model of the headline set
/// among `scores`, which [`super::try_run`] computed).
pub(crate) fn run(
    ds: &Dataset,
    settings: &Settings,
    scores: &[CvScore],
    target_sd: f64,
) -> Result<RegressionBaselines, RegressionError> {
    let rs = &settings.regression;
    let set = rs.headline_feature_set;
    let headline_cols = set.columns(&ds.roles);
    let y = ds.target();
    let mut single_column = Vec::new();
    for column in &ds.roles.numeric {
        let d = design::design_for(ds, std::slice::from_ref(column))?;
        let run = validate::cross_validate(
            ModelKind::Ols,
            &d.x,
            y,
            &ds.groups,
            Scheme::GroupKFold,
            settings,
        )?;
        let over: Vec<f64> = run.rmse.iter().map(|r| r / target_sd).collect();
        let (r2, rmse_over_sd) = (FoldSummary::of(&run.r2), FoldSummary::of(&over));
        single_column.push(SingleColumn {
            column: column.clone(),
            in_headline_set: headline_cols.contains(column),
            meets: rs.meets(r2.mean, rmse_over_sd.mean),
            r2,
            rmse_over_sd,
        });
    }
    let best_of = |pred: &dyn Fn(&SingleColumn) -> bool| {
        (0..single_column.len())
            .filter(|&i| pred(&single_column[i]) && !single_column[i].r2.mean.is_nan())
            .max_by(|&a, &b| {
                single_column[a]
                    .r2
                    .mean
                    .total_cmp(&single_column[b].r2.mean)
                    .then(b.cmp(&a))
            })
    };
    let best_single = best_of(&|c| c.in_headline_set);
    let best_single_any = best_of(&|_| true);
    // Models in ModelKind::ALL order; strict > keeps the simpler on ties (as the best model).
    let mut headline: Option<&CvScore> = None;
    for c in scores
        .iter()
        .filter(|c| c.feature_set == set && c.scheme == Scheme::GroupKFold)
    {
        if headline.is_none_or(|h| c.r2.mean > h.r2.mean) {
            headline = Some(c);
        }
    }
    Ok(RegressionBaselines {
        headline_rule: HEADLINE_RULE.into(),
        headline: headline.map(|h| Headline {
            feature_set: set,
            model: h.model,
            scheme: h.scheme_description.clone(),
            r2: h.r2,
            rmse_over_sd: h.rmse_over_sd,
        }),
        single_column,
        best_single,
        best_single_any,
        scheme: format!(
            "OLS with intercept on one column, {} × {} repeats (the headline's folds)",
            Scheme::GroupKFold.describe(settings.folds),
            settings.repeats
        ),
    })
}
