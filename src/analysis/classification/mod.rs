//! Growth-potential classification: can we tell, from what is known about a prospect before they
//! buy (the demographic columns and the category), who will end up in the low-engagement
//! "growth potential" group defined by [`features::growth_label`]?
//!
//! Three models (an L2-penalised logistic regression, linfa-logistic's objective solved by Newton's
//! method in [`crate::ml::logistic`], a decision tree — linfa-trees' fit,
//! reproduced exactly by [`crate::ml::tree`] — and a random forest of such trees bagged as
//! linfa-ensemble does), each with and without SMOTE ([`crate::ml::smote`])
//! applied inside training folds only, are scored by repeated cross-validation under stratified
//! group k-fold (the default: duplicate rows never straddle folds) and naive shuffled k-fold
//! beside it. Every score comes from out-of-fold probabilities, at 0.5 and at a threshold chosen
//! on the training folds alone (inner cross-validation), never on the test fold.
//!
//! The honest feature set is checked with [`features::check_no_leakage`]; a **leaky ablation**
//! that adds the label's own inputs is fitted only to show how much such leakage inflates F1.
//!
//! Layout: the settings, the error and [`run`] are here; the result types are in `findings.rs`,
//! the cross-validation protocol (design matrix, nested threshold choice, scoring) in
//! `protocol.rs`, and the refit of the best configuration on every row in `production.rs`. The
//! models themselves, and the plain form a fitted one is saved in, are [`crate::ml::classifiers`].

pub mod baselines;
pub mod contract;
pub mod figures;

mod findings;
mod production;
mod protocol;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::Dataset;
use crate::features::{self, GROWTH_LABEL, LeakageError};
use crate::ml::class_metrics;
use crate::ml::cv::{CvError, Scheme};
use crate::ml::smote::{SmoteError, SmoteParams};
use crate::settings::Settings;

pub use crate::ml::classifiers::{
    ClassifierError, ClassifierKind, ClassifierParams, SavedClassifier, SavedNode, SavedTree,
};
pub use baselines::{ClassificationBaselines, OneSplitRule, Stump, fit_stump};
pub use findings::{
    BestModel, ClassificationFindings, ConfigResult, CurveSet, LabelSummary, LeakInflation,
    Protocol, SchemeGap, Spread, TargetCheck, ThresholdMetrics,
};
pub use production::{
    ProductionClassifier, fit_production, production_design, production_reference_scores,
};
pub use protocol::{
    Config, Design, RepeatRun, choose_fold_threshold, cross_validate, cv_f1, design_matrix,
    evaluate, honest_features, leaky_features,
};
use protocol::{check_classes, summarise, thin};

/// The default, group-aware scheme of this analysis.
pub const DEFAULT_SCHEME: Scheme = Scheme::StratifiedGroupKFold;
/// The naive scheme computed beside it.
pub const NAIVE_SCHEME: Scheme = Scheme::KFold;

/// Settings of the classification analysis. Defaults are chosen so that the whole analysis
/// (3 models × SMOTE on/off × 2 schemes, plus the leaky ablation, with inner CV for thresholds)
/// runs well under 0.3 s in release on the bundled 238 rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassificationSettings {
    /// Repeats of the outer cross-validation; `None` (the default) uses the global `repeats`
    /// (3). Every score's spread is over folds × repeats test folds (15 by default); with 2
    /// repeats the sd used to be over two pooled values, too few to mean anything.
    pub repeats: Option<usize>,
    /// The conventional threshold reported beside the chosen one (default 0.5).
    pub default_threshold: f64,
    /// Precision floor of the threshold choice: maximise F1 subject to precision ≥ this (0.75).
    pub min_precision: f64,
    /// Success target: F1 above this (0.80).
    pub target_f1: f64,
    /// Success target: precision above this (0.75).
    pub target_precision: f64,
    /// L2 penalty of the logistic regression on standardised features (linfa's `alpha`, the
    /// inverse of sklearn's `C`; default 1.0).
    pub logistic_alpha: f64,
    /// Cap on the logistic regression's Newton steps (default 100; fits converge in 5 to 20).
    pub logistic_max_iterations: u64,
    /// Depth cap of the single decision tree; 0 means unlimited (default 4: a readable tree
    /// whose leaves hold enough rows to give graded probabilities).
    pub tree_max_depth: usize,
    /// Trees in the random forest (default 10: forest size drives the analysis' cost; 10 trees
    /// give 11 vote levels).
    pub forest_trees: usize,
    /// Depth cap of each forest tree; 0 means unlimited (default 4).
    pub forest_max_depth: usize,
    /// Share of training rows drawn (with replacement) for each forest tree (default 0.5:
    /// subsampled bagging, half the cost of full bootstraps).
    pub forest_bootstrap_proportion: f64,
    /// Share of encoded feature columns drawn (with replacement, per tree: linfa-ensemble's
    /// random subspace) for each forest tree (default 0.7).
    pub forest_feature_proportion: f64,
    /// SMOTE parameters (k = 5 neighbours, oversample the minority to the majority's count).
    pub smote: SmoteParams,
}

impl Default for ClassificationSettings {
    fn default() -> Self {
        let p = ClassifierParams::default();
        ClassificationSettings {
            repeats: None,
            default_threshold: 0.5,
            min_precision: 0.75,
            target_f1: 0.80,
            target_precision: 0.75,
            logistic_alpha: p.logistic_alpha,
            logistic_max_iterations: p.logistic_max_iterations,
            tree_max_depth: p.tree_max_depth,
            forest_trees: p.forest_trees,
            forest_max_depth: p.forest_max_depth,
            forest_bootstrap_proportion: p.forest_bootstrap_proportion,
            forest_feature_proportion: p.forest_feature_proportion,
            smote: SmoteParams::default(),
        }
    }
}

impl ClassificationSettings {
    /// The model hyper-parameters of these settings, in the form [`crate::ml::classifiers`]
    /// fits with (the same fields, without the analysis' thresholds, targets and SMOTE).
    pub fn classifier_params(&self) -> ClassifierParams {
        ClassifierParams {
            logistic_alpha: self.logistic_alpha,
            logistic_max_iterations: self.logistic_max_iterations,
            tree_max_depth: self.tree_max_depth,
            forest_trees: self.forest_trees,
            forest_max_depth: self.forest_max_depth,
            forest_bootstrap_proportion: self.forest_bootstrap_proportion,
            forest_feature_proportion: self.forest_feature_proportion,
        }
    }
}

/// Which columns a model may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureSet {
    /// The demographic columns and the one-hot category: checked free of the label's inputs.
    Honest,
    /// The honest columns plus the label's own inputs. An ablation, fitted only to measure how
    /// much leakage inflates scores; never a candidate for the best model.
    LeakyAblation,
}

/// Errors of the classification analysis.
#[derive(Debug, Error)]
pub enum ClassificationError {
    /// A feature set shares source columns with the label.
    #[error(transparent)]
    Leakage(#[from] LeakageError),
    /// Folds could not be made.
    #[error(transparent)]
    Cv(#[from] CvError),
    /// SMOTE could not run on a training fold.
    #[error("SMOTE failed on a training fold: {0}")]
    Smote(#[from] SmoteError),
    /// A feature is neither a numeric role column nor the category.
    #[error("feature '{0}' is not a numeric role column or the category of the table")]
    UnknownFeature(String),
    /// The label has one class only.
    #[error(
        "the growth label has {positives} positives among {rows} rows: a classifier needs both classes"
    )]
    OneClass {
        /// Positive rows.
        positives: usize,
        /// All rows.
        rows: usize,
    },
    /// Fewer than 3 folds: the nested threshold choice needs at least two other folds.
    #[error(
        "the classification needs at least 3 folds (the threshold is chosen by a nested CV over the other folds), got {0}"
    )]
    TooFewFolds(usize),
    /// A model failed to fit.
    #[error(transparent)]
    Fit(#[from] ClassifierError),
}

/// F1 of each repeat at its folds' chosen thresholds.
fn repeat_f1(labels: &[bool], runs: &[RepeatRun]) -> Vec<f64> {
    runs.iter()
        .map(|r| {
            let p: Vec<bool> = (0..labels.len())
                .map(|i| r.oof[i] >= r.threshold[i])
                .collect();
            class_metrics::Confusion::from_predictions(labels, &p).f1()
        })
        .collect()
}

/// The best-model rule, in words (also stored in the findings).
pub const BEST_RULE: &str = "highest mean F1 at the training-fold-chosen threshold under stratified group k-fold, \
among honest models with and without SMOTE; ties go to the higher mean ROC-AUC, then to the simpler model \
(logistic < tree < forest), then to no SMOTE";

/// Runs the classification analysis.
///
/// ```
/// use customer_intel::analysis::classification::run;
/// use customer_intel::{data, settings::Settings};
/// let ds = data::synth(150, 2, &data::SynthSpec::default());
/// let mut s = Settings::default();
/// s.repeats = 1;
/// let f = run(&ds, &s);
/// assert!(f.error.is_none());
/// assert_eq!(f.results.len(), 3 * 2 * 2 + 3); // honest × SMOTE × 2 schemes, leaky ablation
/// assert!(f.best.is_some());
/// ```
pub fn run(ds: &Dataset, settings: &Settings) -> ClassificationFindings {
    let capped = ds.capped(
        settings.sample_cap,
        settings.seed,
        crate::data::ANALYSIS_SAMPLE,
    );
    let mut f = match try_run(&capped.data, settings) {
        Ok(f) => f,
        Err(e) => ClassificationFindings {
            error: Some(e.to_string()),
            ..Default::default()
        },
    };
    f.sample = capped.sample;
    f
}

fn try_run(
    ds: &Dataset,
    settings: &Settings,
) -> Result<ClassificationFindings, ClassificationError> {
    let cs = &settings.classification;
    let (labels, _) = features::growth_label(ds, &settings.features);
    let positives = labels.iter().filter(|&&l| l).count();
    let distinct = ds.distinct_row_indices();
    let mut out = ClassificationFindings {
        label: LabelSummary {
            name: GROWTH_LABEL.into(),
            inputs: ds.roles.label_inputs.clone(),
            positives,
            rows: labels.len(),
            share: positives as f64 / labels.len().max(1) as f64,
            distinct_positives: distinct.iter().filter(|&&i| labels[i]).count(),
            distinct_rows: distinct.len(),
        },
        protocol: protocol::describe(settings, labels.len()),
        honest_features: honest_features(&ds.roles),
        leaky_features: leaky_features(&ds.roles),
        ..Default::default()
    };
    check_classes(&labels)?;
    out.baselines = baselines::run(ds, &labels, settings)?;
    let honest = design_matrix(ds, &out.honest_features, FeatureSet::Honest)?
        .with_settings_merge(ds, settings);
    let leaky = design_matrix(ds, &out.leaky_features, FeatureSet::LeakyAblation)?
        .with_settings_merge(ds, settings);
    // The other variant of the honest design, for the merge ablation.
    let merge_on = settings.features.merge_sparse_levels;
    let source = crate::sparse::MergeSource::of(ds, settings.eda.sparse_share);
    let honest_other = Design {
        merge: (!merge_on).then(|| source.clone()),
        ..honest.clone()
    };
    let mut paired: Vec<(ClassifierKind, bool, Vec<f64>, Vec<f64>)> = Vec::new();

    let mut plan = Vec::new();
    for scheme in [DEFAULT_SCHEME, NAIVE_SCHEME] {
        for model in ClassifierKind::ALL {
            for smote in [false, true] {
                plan.push(Config {
                    model,
                    smote,
                    features: FeatureSet::Honest,
                    scheme,
                });
            }
        }
    }
    // The ablation only needs to show the size of the inflation: no SMOTE, default scheme.
    for model in ClassifierKind::ALL {
        plan.push(Config {
            model,
            smote: false,
            features: FeatureSet::LeakyAblation,
            scheme: DEFAULT_SCHEME,
        });
    }
    // Every configuration (and the merge ablation's other variant) is seeded on its own: the
    // cross-validations run in parallel and are collected in plan order.
    let design_of = |config: &Config| {
        if config.features == FeatureSet::Honest {
            &honest
        } else {
            &leaky
        }
    };
    let paired_config =
        |config: &Config| config.features == FeatureSet::Honest && config.scheme == DEFAULT_SCHEME;
    let tasks: Vec<(Config, bool)> = plan
        .iter()
        .flat_map(|&c| std::iter::once((c, false)).chain(paired_config(&c).then_some((c, true))))
        .collect();
    let mut cvs = crate::par::map(&tasks, |(config, other)| {
        let design = if *other {
            &honest_other
        } else {
            design_of(config)
        };
        cross_validate(design, &labels, &ds.groups, settings, *config)
    })
    .into_iter();
    for config in plan {
        let design = design_of(&config);
        let runs = cvs.next().expect("one cross-validation per task")?;
        if paired_config(&config) {
            let alt = cvs.next().expect("one cross-validation per task")?;
            paired.push((
                config.model,
                config.smote,
                repeat_f1(&labels, &runs),
                repeat_f1(&labels, &alt),
            ));
            let first = &runs[0];
            out.curves.push(CurveSet {
                model: config.model,
                smote: config.smote,
                roc: thin(class_metrics::roc_curve(&labels, &first.oof), 200),
                pr: thin(class_metrics::pr_curve(&labels, &first.oof), 200),
                roc_auc: class_metrics::roc_auc(&labels, &first.oof),
                average_precision: class_metrics::average_precision(&labels, &first.oof),
            });
        }
        out.results
            .push(summarise(&labels, &runs, design, settings, config));
    }

    let find = |m: ClassifierKind, s: bool, f: FeatureSet, sch: Scheme| {
        out.results
            .iter()
            .position(|r| r.model == m && r.smote == s && r.features == f && r.scheme == sch)
    };
    // Best honest model under the default scheme (see BEST_RULE).
    let best_idx = (0..out.results.len())
        .filter(|&i| {
            out.results[i].features == FeatureSet::Honest && out.results[i].scheme == DEFAULT_SCHEME
        })
        .max_by(|&a, &b| {
            let (ra, rb) = (&out.results[a], &out.results[b]);
            ra.at_chosen
                .f1
                .mean
                .total_cmp(&rb.at_chosen.f1.mean)
                .then(ra.roc_auc.mean.total_cmp(&rb.roc_auc.mean))
                .then(rb.model.cmp(&ra.model))
                .then(rb.smote.cmp(&ra.smote))
        });
    let best_key = best_idx.map(|i| (out.results[i].model, out.results[i].smote));
    let rows_ab: Vec<crate::sparse::AblationRow> = paired
        .iter()
        .map(|(m, smote, main, alt)| {
            let (with, without) = if merge_on { (main, alt) } else { (alt, main) };
            crate::sparse::ablation_row(
                format!(
                    "{}{}",
                    serde_json::to_value(m)
                        .ok()
                        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                        .unwrap_or_default(),
                    if *smote { " + SMOTE" } else { "" }
                ),
                "F1",
                with,
                without,
                best_key == Some((*m, *smote)),
            )
        })
        .collect();
    let (recommend_merge, reason) = crate::sparse::recommend(&rows_ab);
    let repeats = cs.repeats.unwrap_or(settings.repeats).max(1);
    let mut folds_all = Vec::new();
    for r in 0..repeats {
        folds_all.extend(crate::ml::cv::split(
            DEFAULT_SCHEME,
            &ds.groups,
            Some(&labels),
            settings.folds,
            crate::rng::child_seed(settings.seed, r as u64),
        )?);
    }
    out.sparse_merge = crate::sparse::Ablation {
        enabled: merge_on,
        rule: crate::sparse::rule(&ds.roles, settings.eda.sparse_share),
        min_share: settings.eda.sparse_share,
        scheme: format!(
            "{}, {} repeats; F1 at the training-fold-chosen threshold per repeat, paired (same folds)",
            DEFAULT_SCHEME.describe(settings.folds),
            repeats
        ),
        fold_decisions: crate::sparse::fold_decisions(&source, &folds_all),
        folds: folds_all.len(),
        rows: rows_ab,
        recommendation_rule: crate::sparse::RECOMMENDATION_RULE.into(),
        recommend_merge,
        reason,
    };
    if let Some(i) = best_idx {
        let r = &out.results[i];
        out.best = Some(BestModel {
            model: r.model,
            smote: r.smote,
            result_index: i,
            f1: r.at_chosen.f1.mean,
            precision: r.at_chosen.precision.mean,
            recall: r.at_chosen.recall.mean,
            roc_auc: r.roc_auc.mean,
            threshold: r.chosen_threshold.mean,
        });
        let (f1, p) = (r.at_chosen.f1.mean, r.at_chosen.precision.mean);
        let (f1d, pd) = (r.at_default.f1.mean, r.at_default.precision.mean);
        out.targets = Some(TargetCheck {
            f1_target: cs.target_f1,
            precision_target: cs.target_precision,
            f1,
            precision: p,
            f1_met: f1 > cs.target_f1,
            precision_met: p > cs.target_precision,
            met: contract::meets(cs, f1, p),
            at_default: (f1d, pd, contract::meets(cs, f1d, pd)),
        });
    }
    for model in ClassifierKind::ALL {
        for smote in [false, true] {
            let g = find(model, smote, FeatureSet::Honest, DEFAULT_SCHEME).map(|i| &out.results[i]);
            let nv = find(model, smote, FeatureSet::Honest, NAIVE_SCHEME).map(|i| &out.results[i]);
            let lk = find(model, smote, FeatureSet::LeakyAblation, DEFAULT_SCHEME)
                .map(|i| &out.results[i]);
            if let (Some(g), Some(nv)) = (g, nv) {
                out.scheme_gaps.push(SchemeGap {
                    model,
                    smote,
                    group_f1: g.at_chosen.f1.mean,
                    naive_f1: nv.at_chosen.f1.mean,
                    gap: nv.at_chosen.f1.mean - g.at_chosen.f1.mean,
                });
            }
            if let (Some(g), Some(lk)) = (g, lk) {
                out.leak_inflation.push(LeakInflation {
                    model,
                    smote,
                    honest_f1: g.at_chosen.f1.mean,
                    leaky_f1: lk.at_chosen.f1.mean,
                    inflation: lk.at_chosen.f1.mean - g.at_chosen.f1.mean,
                    honest_roc_auc: g.roc_auc.mean,
                    leaky_roc_auc: lk.roc_auc.mean,
                });
            }
        }
    }
    Ok(out)
}
