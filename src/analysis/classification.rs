//! Growth-potential classification: can we tell, from what is known about a prospect before they
//! buy (the demographic columns and the category), who will end up in the low-engagement
//! "growth potential" group defined by [`features::growth_label`]?
//!
//! Three models (logistic regression from linfa-logistic, a decision tree from linfa-trees, a
//! random forest from linfa-ensemble), each with and without SMOTE ([`crate::ml::smote`])
//! applied inside training folds only, are scored by repeated cross-validation under stratified
//! group k-fold (the default: duplicate rows never straddle folds) and naive shuffled k-fold
//! beside it. Every score comes from out-of-fold probabilities, at 0.5 and at a threshold chosen
//! on the training folds alone (inner cross-validation), never on the test fold.
//!
//! The honest feature set is checked with [`features::check_no_leakage`]; a **leaky ablation**
//! that adds the label's own inputs is fitted only to show how much such leakage inflates F1.

use std::collections::BTreeMap;

use linfa::DatasetBase;
use linfa::prelude::*;
use linfa_ensemble::EnsembleLearnerParams;
use linfa_logistic::LogisticRegression;
use linfa_trees::{DecisionTree, DecisionTreeValidParams, TreeNode};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::Dataset;
use crate::features::{self, GROWTH_LABEL, LeakageError};
use crate::ml::class_metrics::{self, Confusion, ThresholdChoice};
use crate::ml::cv::{self, CvError, Scheme};
use crate::ml::smote::{self, SmoteError, SmoteParams};
use crate::rng;
use crate::settings::{Roles, Settings};
use crate::stats;

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
    /// Repeats of the outer cross-validation; `None` uses the global `repeats`. Default 2
    /// (not the global 3): with the nested threshold choice each configuration costs
    /// 15 fits per repeat, and 2 repeats keep the analysis inside its time budget.
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
    /// Iteration cap of the logistic regression's L-BFGS (default 100).
    pub logistic_max_iterations: u64,
    /// Depth cap of the single decision tree; 0 means unlimited (default 4: a readable tree
    /// whose leaves hold enough rows to give graded probabilities).
    pub tree_max_depth: usize,
    /// Trees in the random forest (default 10: linfa-trees scans every row at every node, so
    /// forest size is the analysis' main cost; 10 trees give 11 vote levels).
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
        ClassificationSettings {
            repeats: Some(2),
            default_threshold: 0.5,
            min_precision: 0.75,
            target_f1: 0.80,
            target_precision: 0.75,
            logistic_alpha: 1.0,
            logistic_max_iterations: 100,
            tree_max_depth: 4,
            forest_trees: 10,
            forest_max_depth: 4,
            forest_bootstrap_proportion: 0.5,
            forest_feature_proportion: 0.7,
            smote: SmoteParams::default(),
        }
    }
}

/// The classifiers compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassifierKind {
    /// L2-penalised logistic regression (linfa-logistic) on features standardised in-fold.
    Logistic,
    /// One CART tree (linfa-trees, Gini); probability = positive share of its leaf's training rows.
    DecisionTree,
    /// Bagged CART trees with a random feature subspace per tree (linfa-ensemble);
    /// probability = share of trees voting positive.
    RandomForest,
}

impl ClassifierKind {
    /// Every model, simplest first.
    pub const ALL: [ClassifierKind; 3] = [
        ClassifierKind::Logistic,
        ClassifierKind::DecisionTree,
        ClassifierKind::RandomForest,
    ];

    /// A display name, for example "logistic regression".
    pub fn name(self) -> &'static str {
        match self {
            ClassifierKind::Logistic => "logistic regression",
            ClassifierKind::DecisionTree => "decision tree",
            ClassifierKind::RandomForest => "random forest",
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
    #[error("fitting the {model} failed: {message}")]
    Fit {
        /// The model.
        model: &'static str,
        /// The library's message.
        message: String,
    },
}

/// A score summarised over repeats: mean, sample sd (0 for one value) and count. Same shape as
/// the regression's fold summary, kept here until the shared metrics module lands.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 when n < 2.
    pub sd: f64,
    /// Number of values.
    pub n: usize,
}

impl Spread {
    /// Summarises values (NaNs dropped).
    pub fn of(values: &[f64]) -> Spread {
        let v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        Spread {
            mean: if v.is_empty() { 0.0 } else { stats::mean(&v) },
            sd: if v.len() < 2 { 0.0 } else { stats::sd(&v) },
            n: v.len(),
        }
    }
}

/// The label being predicted.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LabelSummary {
    /// The label's name.
    pub name: String,
    /// The columns it is computed from (never model inputs in the honest set).
    pub inputs: Vec<String>,
    /// Rows labelled positive.
    pub positives: usize,
    /// All rows.
    pub rows: usize,
    /// Share of rows labelled positive.
    pub share: f64,
    /// Positive distinct rows (duplicate groups) and all distinct rows.
    pub distinct_positives: usize,
    /// Distinct rows (duplicate groups).
    pub distinct_rows: usize,
}

/// How every score was measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Protocol {
    /// Outer folds.
    pub folds: usize,
    /// Outer repeats (each with freshly seeded folds, shared by all models).
    pub repeats: usize,
    /// Inner folds used on each training fold to choose the threshold (the other outer folds).
    pub inner_folds: usize,
    /// Rows scored (every row, once per repeat).
    pub rows: usize,
    /// The default scheme and its description.
    pub default_scheme: Scheme,
    /// Description of the default scheme.
    pub default_scheme_description: String,
    /// The naive scheme computed beside it.
    pub naive_scheme: Scheme,
    /// Description of the naive scheme.
    pub naive_scheme_description: String,
    /// How scores are aggregated.
    pub aggregation: String,
    /// How the threshold is chosen.
    pub threshold_rule: String,
    /// Definition of PR-AUC used.
    pub pr_auc_definition: String,
    /// How the best model is named.
    pub best_rule: String,
    /// How SMOTE is applied.
    pub smote_rule: String,
    /// The settings of the analysis (model sizes, SMOTE, thresholds).
    pub settings: ClassificationSettings,
}

impl Default for Protocol {
    fn default() -> Self {
        protocol(&Settings::default(), 0)
    }
}

/// Metrics at one thresholding rule, from pooled out-of-fold predictions.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ThresholdMetrics {
    /// Precision over repeats.
    pub precision: Spread,
    /// Recall over repeats.
    pub recall: Spread,
    /// F1 over repeats.
    pub f1: Spread,
    /// Accuracy over repeats.
    pub accuracy: Spread,
    /// Confusion matrix summed over repeats (every row counted once per repeat).
    pub confusion: Confusion,
}

/// One model × SMOTE × feature set × scheme, cross-validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigResult {
    /// The model.
    pub model: ClassifierKind,
    /// Whether SMOTE oversampled the minority inside each training fold.
    pub smote: bool,
    /// The feature set.
    pub features: FeatureSet,
    /// The encoded feature columns the model saw.
    pub columns: Vec<String>,
    /// The cross-validation scheme.
    pub scheme: Scheme,
    /// The scheme in words, with k.
    pub scheme_description: String,
    /// Outer folds.
    pub folds: usize,
    /// Outer repeats.
    pub repeats: usize,
    /// Inner folds for the threshold choice (the other outer folds: folds − 1).
    pub inner_folds: usize,
    /// Rows scored per repeat.
    pub rows: usize,
    /// Metrics at the fixed default threshold (0.5).
    pub at_default: ThresholdMetrics,
    /// Metrics at the threshold chosen on each fold's training rows.
    pub at_chosen: ThresholdMetrics,
    /// The chosen thresholds over all folds of all repeats.
    pub chosen_threshold: Spread,
    /// Folds (of folds × repeats) whose training rows allowed a threshold with precision ≥ the
    /// floor; the others fell back to the F1-maximising threshold.
    pub constraint_met_folds: usize,
    /// ROC-AUC over repeats (pooled out-of-fold probabilities of each repeat).
    pub roc_auc: Spread,
    /// PR-AUC as average precision, over repeats.
    pub average_precision: Spread,
}

/// Out-of-fold curves of one honest model under the default scheme (first repeat).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurveSet {
    /// The model.
    pub model: ClassifierKind,
    /// Whether SMOTE was applied in training folds.
    pub smote: bool,
    /// ROC points (false-positive rate, true-positive rate).
    pub roc: Vec<(f64, f64)>,
    /// Precision-recall points (recall, precision).
    pub pr: Vec<(f64, f64)>,
    /// ROC-AUC of these points.
    pub roc_auc: f64,
    /// Average precision of these scores.
    pub average_precision: f64,
}

/// The best honest model under the default scheme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestModel {
    /// The model.
    pub model: ClassifierKind,
    /// Whether SMOTE was applied.
    pub smote: bool,
    /// Index into `results`.
    pub result_index: usize,
    /// Mean F1 at the chosen threshold.
    pub f1: f64,
    /// Mean precision at the chosen threshold.
    pub precision: f64,
    /// Mean recall at the chosen threshold.
    pub recall: f64,
    /// Mean ROC-AUC.
    pub roc_auc: f64,
    /// Mean chosen threshold.
    pub threshold: f64,
}

/// The mission's success targets, evaluated on the best honest model under the default scheme
/// at the training-fold-chosen threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetCheck {
    /// F1 must exceed this.
    pub f1_target: f64,
    /// Precision must exceed this.
    pub precision_target: f64,
    /// Measured mean F1.
    pub f1: f64,
    /// Measured mean precision.
    pub precision: f64,
    /// F1 above target.
    pub f1_met: bool,
    /// Precision above target.
    pub precision_met: bool,
    /// Both met.
    pub met: bool,
    /// The same check at the 0.5 threshold: F1, precision, both met.
    pub at_default: (f64, f64, bool),
}

/// Default-scheme F1 against naive-scheme F1 for one honest model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemeGap {
    /// The model.
    pub model: ClassifierKind,
    /// SMOTE on or off.
    pub smote: bool,
    /// Mean F1 (chosen threshold) under stratified group k-fold.
    pub group_f1: f64,
    /// Mean F1 (chosen threshold) under naive shuffled k-fold.
    pub naive_f1: f64,
    /// naive − group: how much row-level splitting flatters the model.
    pub gap: f64,
}

/// Honest against leaky F1 for one model, default scheme, chosen threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeakInflation {
    /// The model.
    pub model: ClassifierKind,
    /// SMOTE on or off.
    pub smote: bool,
    /// Mean F1 with honest features.
    pub honest_f1: f64,
    /// Mean F1 with the label's inputs added (the ablation).
    pub leaky_f1: f64,
    /// leaky − honest.
    pub inflation: f64,
    /// Mean ROC-AUC, honest.
    pub honest_roc_auc: f64,
    /// Mean ROC-AUC, leaky.
    pub leaky_roc_auc: f64,
}

/// Results of the classification analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ClassificationFindings {
    /// Set when the analysis could not run (then everything else is empty).
    pub error: Option<String>,
    /// Present when the table exceeded `sample_cap` and everything below (label, folds, SMOTE,
    /// models) was computed on the shared seeded sample of whole duplicate groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<crate::data::SampleInfo>,
    /// The label.
    pub label: LabelSummary,
    /// How scores were measured.
    pub protocol: Protocol,
    /// Honest feature columns (raw names), checked free of the label's inputs.
    pub honest_features: Vec<String>,
    /// Columns of the leaky ablation (raw names).
    pub leaky_features: Vec<String>,
    /// Every configuration: honest (× SMOTE on/off) × both schemes, then the leaky ablation
    /// (no SMOTE, default scheme).
    pub results: Vec<ConfigResult>,
    /// The best honest model (default scheme, chosen threshold).
    pub best: Option<BestModel>,
    /// The success targets on the best model.
    pub targets: Option<TargetCheck>,
    /// Group-aware against naive F1, per honest model.
    pub scheme_gaps: Vec<SchemeGap>,
    /// Honest against leaky F1, per model (without SMOTE).
    pub leak_inflation: Vec<LeakInflation>,
    /// Out-of-fold ROC and PR curves of the honest models, default scheme, first repeat.
    pub curves: Vec<CurveSet>,
}

/// A feature matrix with named, encoded columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Rows of encoded features.
    pub x: Vec<Vec<f64>>,
    /// Encoded column names (`region=North` for a one-hot column).
    pub columns: Vec<String>,
}

/// The honest features: the demographic columns and the category.
pub fn honest_features(roles: &Roles) -> Vec<String> {
    let mut f = roles.demographic.clone();
    f.push(roles.category.clone());
    f
}

/// The leaky ablation's features: the honest ones plus the label's inputs.
pub fn leaky_features(roles: &Roles) -> Vec<String> {
    let mut f = roles.demographic.clone();
    for c in &roles.label_inputs {
        if !f.contains(c) {
            f.push(c.clone());
        }
    }
    f.push(roles.category.clone());
    f
}

/// Encodes `features` (numeric columns as they are, the category one-hot over its levels).
/// With [`FeatureSet::Honest`] the list is first checked with [`features::check_no_leakage`]
/// against the growth label, and refused if it shares a source with it.
///
/// ```
/// use customer_intel::analysis::classification::{design_matrix, FeatureSet};
/// use customer_intel::data;
/// let ds = data::synth(50, 1, &data::SynthSpec::default());
/// let loyalty = vec![ds.roles.label_inputs[0].clone()];
/// assert!(design_matrix(&ds, &loyalty, FeatureSet::Honest).is_err());
/// assert!(design_matrix(&ds, &loyalty, FeatureSet::LeakyAblation).is_ok());
/// ```
pub fn design_matrix(
    ds: &Dataset,
    features: &[String],
    set: FeatureSet,
) -> Result<Design, ClassificationError> {
    if set == FeatureSet::Honest {
        features::check_no_leakage(GROWTH_LABEL, features, &ds.roles)?;
    }
    let n = ds.n_rows();
    let mut x = vec![Vec::new(); n];
    let mut columns = Vec::new();
    for f in features {
        if *f == ds.roles.category {
            for level in &ds.roles.category_levels {
                columns.push(format!("{f}={level}"));
                for (row, c) in x.iter_mut().zip(&ds.category) {
                    row.push(if c == level { 1.0 } else { 0.0 });
                }
            }
        } else {
            let col = ds
                .numeric
                .get(f)
                .ok_or_else(|| ClassificationError::UnknownFeature(f.clone()))?;
            columns.push(f.clone());
            for (row, v) in x.iter_mut().zip(col) {
                row.push(*v);
            }
        }
    }
    Ok(Design { x, columns })
}

/// One configuration to cross-validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The model.
    pub model: ClassifierKind,
    /// SMOTE inside training folds.
    pub smote: bool,
    /// The feature set.
    pub features: FeatureSet,
    /// The outer (and inner) scheme.
    pub scheme: Scheme,
}

/// The out-of-fold record of one repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatRun {
    /// Out-of-fold probability of the positive class, per row.
    pub oof: Vec<f64>,
    /// The threshold applied to each row (its test fold's chosen threshold).
    pub threshold: Vec<f64>,
    /// Each fold's threshold choice, as made on its training rows.
    pub choices: Vec<ThresholdChoice>,
}

/// Cross-validates one configuration on a design, keeping out-of-fold probabilities.
///
/// For each repeat r, folds come from `cv::split(scheme, groups, labels, folds, child_seed(seed, r))`
/// (the same folds for every model). The threshold of outer fold f is chosen by a nested CV
/// whose inner folds are the other outer folds: for every g ≠ f a model fitted on the rows of
/// neither f nor g scores fold g, which gives out-of-fold scores for all of f's training rows
/// ([`choose_fold_threshold`]). One model fitted without f and g serves both fold f and fold g,
/// so K(K−1)/2 pair models replace K inner CVs. Then the model is refitted on all of f's
/// training rows (SMOTE applied to them alone, if asked) and scores f's test rows.
pub fn cross_validate(
    design: &Design,
    labels: &[bool],
    groups: &[usize],
    settings: &Settings,
    config: Config,
) -> Result<Vec<RepeatRun>, ClassificationError> {
    let cs = &settings.classification;
    if settings.folds < 3 {
        return Err(ClassificationError::TooFewFolds(settings.folds));
    }
    let repeats = cs.repeats.unwrap_or(settings.repeats).max(1);
    let n = labels.len();
    let mut runs = Vec::with_capacity(repeats);
    for r in 0..repeats {
        let split_seed = rng::child_seed(settings.seed, r as u64);
        let folds = cv::split(
            config.scheme,
            groups,
            Some(labels),
            settings.folds,
            split_seed,
        )?;
        let fold_of = fold_index(&folds, n);
        let k = folds.len();
        // inner[f][i]: score of row i (outside fold f) by the model fitted without f and fold_of[i].
        let mut inner = vec![vec![f64::NAN; n]; k];
        for f in 0..k {
            for g in f + 1..k {
                let (scores, test) =
                    pair_scores(design, labels, &fold_of, f, g, cs, config, split_seed)?;
                for (&i, s) in test.iter().zip(scores) {
                    // Rows of g are inner-test rows for outer fold f, and vice versa.
                    inner[if fold_of[i] == g { f } else { g }][i] = s;
                }
            }
        }
        let mut run = RepeatRun {
            oof: vec![f64::NAN; n],
            threshold: vec![f64::NAN; n],
            choices: Vec::new(),
        };
        for (f, fold) in folds.iter().enumerate() {
            let train_labels: Vec<bool> = fold.train.iter().map(|&i| labels[i]).collect();
            let train_scores: Vec<f64> = fold.train.iter().map(|&i| inner[f][i]).collect();
            let choice =
                class_metrics::choose_threshold(&train_labels, &train_scores, cs.min_precision);
            let scores = fit_score(
                design,
                labels,
                &fold.train,
                &fold.test,
                cs,
                config,
                rng::child_seed(split_seed, f as u64),
            )?;
            for (&i, s) in fold.test.iter().zip(scores) {
                run.oof[i] = s;
                run.threshold[i] = choice.threshold;
            }
            run.choices.push(choice);
        }
        runs.push(run);
    }
    Ok(runs)
}

/// The fold of each row.
fn fold_index(folds: &[cv::Fold], n: usize) -> Vec<usize> {
    let mut fold_of = vec![usize::MAX; n];
    for (f, fold) in folds.iter().enumerate() {
        for &i in &fold.test {
            fold_of[i] = f;
        }
    }
    fold_of
}

/// Fits a model on the rows of neither fold `f` nor fold `g` and scores the rows of both.
/// Returns the scores and the scored rows.
#[allow(clippy::too_many_arguments)]
fn pair_scores(
    design: &Design,
    labels: &[bool],
    fold_of: &[usize],
    f: usize,
    g: usize,
    cs: &ClassificationSettings,
    config: Config,
    split_seed: u64,
) -> Result<(Vec<f64>, Vec<usize>), ClassificationError> {
    let (train, test): (Vec<usize>, Vec<usize>) =
        (0..labels.len()).partition(|&i| fold_of[i] != f && fold_of[i] != g);
    let seed = rng::child_seed(split_seed, 1000 + (f * 100 + g) as u64);
    Ok((
        fit_score(design, labels, &train, &test, cs, config, seed)?,
        test,
    ))
}

/// Chooses outer fold `f`'s threshold from its training rows only, as [`cross_validate`] does:
/// out-of-fold scores of the training rows from the pair models that exclude fold `f`, then
/// the threshold maximising F1 subject to the precision floor. Fold `f`'s rows are never fitted
/// on, and their scores and labels are never looked at.
#[allow(clippy::too_many_arguments)]
pub fn choose_fold_threshold(
    design: &Design,
    labels: &[bool],
    folds: &[cv::Fold],
    f: usize,
    settings: &Settings,
    config: Config,
    split_seed: u64,
) -> Result<ThresholdChoice, ClassificationError> {
    let cs = &settings.classification;
    let fold_of = fold_index(folds, labels.len());
    let mut score = vec![f64::NAN; labels.len()];
    for g in (0..folds.len()).filter(|&g| g != f) {
        let (a, b) = (f.min(g), f.max(g));
        let (scores, test) = pair_scores(design, labels, &fold_of, a, b, cs, config, split_seed)?;
        for (&i, s) in test.iter().zip(scores) {
            if fold_of[i] == g {
                score[i] = s;
            }
        }
    }
    let train = &folds[f].train;
    let train_labels: Vec<bool> = train.iter().map(|&i| labels[i]).collect();
    let train_scores: Vec<f64> = train.iter().map(|&i| score[i]).collect();
    Ok(class_metrics::choose_threshold(
        &train_labels,
        &train_scores,
        cs.min_precision,
    ))
}

/// Fits on `train` (oversampled with SMOTE from those rows alone when the config asks) and
/// returns positive-class probabilities for `test`.
fn fit_score(
    design: &Design,
    labels: &[bool],
    train: &[usize],
    test: &[usize],
    cs: &ClassificationSettings,
    config: Config,
    seed: u64,
) -> Result<Vec<f64>, ClassificationError> {
    let xs: Vec<&[f64]> = test.iter().map(|&i| design.x[i].as_slice()).collect();
    fit_score_rows(design, labels, train, &xs, cs, config, seed)
}

/// [`fit_score`] for test rows given as feature rows (of any table encoded like `design`).
fn fit_score_rows(
    design: &Design,
    labels: &[bool],
    train: &[usize],
    test: &[&[f64]],
    cs: &ClassificationSettings,
    config: Config,
    seed: u64,
) -> Result<Vec<f64>, ClassificationError> {
    with_training_rows(design, labels, train, cs, config, seed, |xt, yt| {
        fit_predict(config.model, cs, xt, yt, test, seed)
    })
}

/// Calls `f` with the training rows of `train` and their labels, with SMOTE's synthetic
/// minority rows appended (made from those rows alone, seeded by `seed`) when the config asks.
fn with_training_rows<R>(
    design: &Design,
    labels: &[bool],
    train: &[usize],
    cs: &ClassificationSettings,
    config: Config,
    seed: u64,
    f: impl FnOnce(&[&[f64]], &[bool]) -> Result<R, ClassificationError>,
) -> Result<R, ClassificationError> {
    let mut xt: Vec<&[f64]> = train.iter().map(|&i| design.x[i].as_slice()).collect();
    let mut yt: Vec<bool> = train.iter().map(|&i| labels[i]).collect();
    let extra;
    if config.smote {
        extra = smote::oversample(
            &design.x,
            labels,
            train,
            &cs.smote,
            &mut rng::stream(seed, "classification/smote"),
        )?;
        for s in &extra.synthetic {
            xt.push(&s.features);
            yt.push(extra.minority);
        }
    }
    f(&xt, &yt)
}

/// Tie-breaking class weight of positive rows in the trees (negatives weigh 1).
///
/// linfa-trees picks a leaf's class by iterating a `HashMap` of class weights, whose order is
/// randomly seeded per map, so an exact tie between the classes would make predictions (and the
/// pruning that merges equal-prediction leaves) differ from run to run. With positives weighing
/// 1 + 2⁻¹², class totals below 4096 rows can never tie (and stay exact in f32), so ties go to
/// the positive class deterministically; split choices change by at most that relative amount.
const POSITIVE_WEIGHT: f32 = 1.0 + 1.0 / 4096.0;

/// A linfa-trees decision tree fitted with [`POSITIVE_WEIGHT`]. It implements linfa's `Fit` so
/// that linfa-ensemble can bag it (the ensemble's bootstrap drops dataset weights, so they are
/// attached here, per tree).
///
/// Identical rows (same features, same class) are merged into one row carrying their summed
/// weight before fitting. linfa-trees scans every row of the training set at every node, so on
/// this table (three quarters of rows are copies, and a bootstrap repeats rows further) merging
/// cuts the work several-fold. The tree is the same: class weights per node, hence Gini, splits
/// and leaf predictions, are unchanged; a merged row can never be split apart anyway.
#[derive(Debug, Clone)]
struct TieBreakingTree(DecisionTreeValidParams<f64, bool>);

impl Fit<Array2<f64>, Array1<bool>, linfa::Error> for TieBreakingTree {
    type Object = DecisionTree<f64, bool>;

    fn fit(
        &self,
        data: &DatasetBase<Array2<f64>, Array1<bool>>,
    ) -> Result<Self::Object, linfa::Error> {
        let (x, y) = (&data.records, &data.targets);
        let mut order: Vec<usize> = (0..x.nrows()).collect();
        let key_cmp = |a: &usize, b: &usize| {
            x.row(*a)
                .iter()
                .zip(x.row(*b).iter())
                .map(|(p, q)| p.total_cmp(q))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(y[*a].cmp(&y[*b]))
        };
        order.sort_by(key_cmp);
        let mut keep: Vec<usize> = Vec::new();
        let mut weight: Vec<f32> = Vec::new();
        for &i in &order {
            let w = if y[i] { POSITIVE_WEIGHT } else { 1.0 };
            match keep.last() {
                Some(&j) if key_cmp(&j, &i).is_eq() => {
                    *weight.last_mut().expect("paired with keep") += w
                }
                _ => {
                    keep.push(i);
                    weight.push(w);
                }
            }
        }
        let merged = DatasetBase::new(
            x.select(ndarray::Axis(0), &keep),
            y.select(ndarray::Axis(0), &keep),
        )
        .with_weights(Array1::from(weight));
        self.0.fit(&merged)
    }
}

fn tree_params(
    max_depth: usize,
) -> Result<DecisionTreeValidParams<f64, bool>, ClassificationError> {
    DecisionTree::<f64, bool>::params()
        .max_depth((max_depth > 0).then_some(max_depth))
        .check()
        .map_err(|e| ClassificationError::Fit {
            model: "decision tree",
            message: e.to_string(),
        })
}

/// The leaf a row falls into, following linfa-trees' own rule (`x[f] < split` goes left).
/// A fitted tree's probability at each leaf: the positive share of the training rows routed to
/// that leaf (the overall positive share for a leaf no training row reaches).
fn leaf_probability(
    root: &TreeNode<f64, bool>,
    train: &[&[f64]],
    labels: &[bool],
) -> impl Fn(&TreeNode<f64, bool>) -> f64 + use<> {
    let mut counts: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
    for (r, &y) in train.iter().zip(labels) {
        let id = std::ptr::from_ref(leaf(root, &|j| r[j])) as usize;
        let e = counts.entry(id).or_insert((0.0, 0.0));
        e.0 += f64::from(u8::from(y));
        e.1 += 1.0;
    }
    let share = labels.iter().filter(|&&l| l).count() as f64 / labels.len() as f64;
    move |n| {
        counts
            .get(&(std::ptr::from_ref(n) as usize))
            .map_or(share, |(p, t)| p / t)
    }
}

fn leaf<'a>(node: &'a TreeNode<f64, bool>, row: &dyn Fn(usize) -> f64) -> &'a TreeNode<f64, bool> {
    let mut node = node;
    while !node.is_leaf() {
        let (feature, split, _) = node.split();
        let children = node.children();
        let next = if row(feature) < split {
            children[0]
        } else {
            children[1]
        };
        match next {
            Some(child) => node = child,
            None => break,
        }
    }
    node
}

fn to_array(rows: &[&[f64]]) -> Array2<f64> {
    let width = rows.first().map_or(0, |r| r.len());
    Array2::from_shape_vec(
        (rows.len(), width),
        rows.iter().flat_map(|r| r.iter().copied()).collect(),
    )
    .expect("rows have equal width")
}

/// Fits one model and returns positive-class probabilities for `test`. A training set with a
/// single class predicts that class with probability 1 (no model can be fitted).
fn fit_predict(
    kind: ClassifierKind,
    cs: &ClassificationSettings,
    train: &[&[f64]],
    labels: &[bool],
    test: &[&[f64]],
    seed: u64,
) -> Result<Vec<f64>, ClassificationError> {
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 || positives == labels.len() {
        return Ok(vec![if positives == 0 { 0.0 } else { 1.0 }; test.len()]);
    }
    match kind {
        ClassifierKind::Logistic => {
            let (scale, model) = fit_logistic(cs, train, labels)?;
            let p = model.predict_probabilities(&standardized(test, &scale));
            let flip = !model.labels().pos.class;
            Ok(p.iter().map(|&v| if flip { 1.0 - v } else { v }).collect())
        }
        ClassifierKind::DecisionTree => {
            let tree = fit_tree(cs, train, labels)?;
            let root = tree.root_node();
            let probability = leaf_probability(root, train, labels);
            Ok(test
                .iter()
                .map(|r| probability(leaf(root, &|j| r[j])))
                .collect())
        }
        ClassifierKind::RandomForest => {
            let forest = fit_forest(cs, train, labels, seed)?;
            // Probability: share of trees voting positive (each tree sees its own columns).
            Ok(test
                .iter()
                .map(|r| {
                    let votes = forest
                        .models
                        .iter()
                        .zip(&forest.model_features)
                        .filter(|(t, cols)| {
                            leaf(t.root_node(), &|j| r[cols[j]]).prediction() == Some(true)
                        })
                        .count();
                    votes as f64 / forest.models.len() as f64
                })
                .collect())
        }
    }
}

fn fit_error(kind: ClassifierKind) -> impl Fn(&dyn std::fmt::Display) -> ClassificationError {
    move |e| ClassificationError::Fit {
        model: kind.name(),
        message: e.to_string(),
    }
}

/// Column means and standard deviations (1 where a column is constant) of the training rows.
fn logistic_scale(train: &[&[f64]]) -> Vec<(f64, f64)> {
    let width = train[0].len();
    (0..width)
        .map(|j| {
            let col: Vec<f64> = train.iter().map(|r| r[j]).collect();
            let sd = stats::sd(&col);
            (
                stats::mean(&col),
                if sd > 0.0 && sd.is_finite() { sd } else { 1.0 },
            )
        })
        .collect()
}

fn standardized(rows: &[&[f64]], scale: &[(f64, f64)]) -> Array2<f64> {
    let v: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().zip(scale).map(|(x, (c, s))| (x - c) / s).collect())
        .collect();
    let refs: Vec<&[f64]> = v.iter().map(Vec::as_slice).collect();
    to_array(&refs)
}

/// The logistic regression on features standardised with the training rows' statistics.
fn fit_logistic(
    cs: &ClassificationSettings,
    train: &[&[f64]],
    labels: &[bool],
) -> Result<
    (
        Vec<(f64, f64)>,
        linfa_logistic::FittedLogisticRegression<f64, bool>,
    ),
    ClassificationError,
> {
    let scale = logistic_scale(train);
    let model = LogisticRegression::default()
        .alpha(cs.logistic_alpha)
        .max_iterations(cs.logistic_max_iterations)
        .fit(&DatasetBase::new(
            standardized(train, &scale),
            Array1::from(labels.to_vec()),
        ))
        .map_err(|e| fit_error(ClassifierKind::Logistic)(&e))?;
    Ok((scale, model))
}

fn fit_tree(
    cs: &ClassificationSettings,
    train: &[&[f64]],
    labels: &[bool],
) -> Result<DecisionTree<f64, bool>, ClassificationError> {
    let data = DatasetBase::new(to_array(train), Array1::from(labels.to_vec()));
    TieBreakingTree(tree_params(cs.tree_max_depth)?)
        .fit(&data)
        .map_err(|e| fit_error(ClassifierKind::DecisionTree)(&e))
}

fn fit_forest(
    cs: &ClassificationSettings,
    train: &[&[f64]],
    labels: &[bool],
    seed: u64,
) -> Result<linfa_ensemble::EnsembleLearner<DecisionTree<f64, bool>>, ClassificationError> {
    let data = DatasetBase::new(to_array(train), Array1::from(labels.to_vec()));
    EnsembleLearnerParams::new_fixed_rng(
        TieBreakingTree(tree_params(cs.forest_max_depth)?),
        rng::stream(seed, "classification/forest"),
    )
    .ensemble_size(cs.forest_trees)
    .bootstrap_proportion(cs.forest_bootstrap_proportion)
    .feature_proportion(cs.forest_feature_proportion)
    .fit(&data)
    .map_err(|e| fit_error(ClassifierKind::RandomForest)(&e))
}

/// One node of a [`SavedTree`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SavedNode {
    /// Rows whose `feature` is below `threshold` go to node `left`, the others to `right`
    /// (linfa-trees' rule).
    Split {
        /// Index into the model's encoded input columns.
        feature: usize,
        /// The split value.
        threshold: f64,
        /// Node index of the left child.
        left: usize,
        /// Node index of the right child.
        right: usize,
    },
    /// Where a row ends: the value it scores (a probability, or a 0/1 vote).
    Leaf(f64),
}

/// A binary decision tree as a flat list of nodes, the root first: what linfa-trees fitted,
/// written out through its public accessors (linfa-ensemble's forest has no serde support, and
/// the tree's needs ndarray's; this form also stays readable and independent of the library).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTree {
    /// The nodes; node 0 is the root.
    pub nodes: Vec<SavedNode>,
}

impl SavedTree {
    /// Flattens a linfa tree. A row stops where linfa's traversal stops (a leaf, or a split
    /// without the child it would go to); `value` gives the score of such a node.
    fn from_linfa(root: &TreeNode<f64, bool>, value: &dyn Fn(&TreeNode<f64, bool>) -> f64) -> Self {
        fn walk(
            node: &TreeNode<f64, bool>,
            value: &dyn Fn(&TreeNode<f64, bool>) -> f64,
            nodes: &mut Vec<SavedNode>,
        ) -> usize {
            let at = nodes.len();
            if node.is_leaf() {
                nodes.push(SavedNode::Leaf(value(node)));
                return at;
            }
            nodes.push(SavedNode::Leaf(f64::NAN)); // placeholder, replaced below
            let (feature, threshold, _) = node.split();
            let children = node.children();
            let child = |c: &Option<Box<TreeNode<f64, bool>>>, nodes: &mut Vec<SavedNode>| match c {
                Some(c) => walk(c, value, nodes),
                None => {
                    nodes.push(SavedNode::Leaf(value(node)));
                    nodes.len() - 1
                }
            };
            let left = child(children[0], nodes);
            let right = child(children[1], nodes);
            nodes[at] = SavedNode::Split {
                feature,
                threshold,
                left,
                right,
            };
            at
        }
        let mut nodes = Vec::new();
        walk(root, value, &mut nodes);
        SavedTree { nodes }
    }

    /// The value of the node a row ends in; `x(j)` is the row's encoded column `j`.
    pub fn score(&self, x: &dyn Fn(usize) -> f64) -> f64 {
        let mut i = 0;
        loop {
            match self.nodes[i] {
                SavedNode::Leaf(v) => return v,
                SavedNode::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => i = if x(feature) < threshold { left } else { right },
            }
        }
    }

    /// Checks that child indices point forward inside the list (so scoring terminates).
    fn check(&self) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("a tree has no nodes".into());
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if let SavedNode::Split { left, right, .. } = n {
                if *left <= i
                    || *right <= i
                    || *left >= self.nodes.len()
                    || *right >= self.nodes.len()
                {
                    return Err(format!("tree node {i} points to a child outside the tree"));
                }
            }
        }
        Ok(())
    }
}

/// A fitted growth-potential classifier in plain, serialisable form. Probabilities equal
/// those of the analysis' own models (see [`fit_predict`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SavedClassifier {
    /// The training rows had one class: every row scores this probability.
    Constant {
        /// The probability.
        probability: f64,
    },
    /// Logistic regression: `p = 1 / (1 + exp(−(Σ w_j·(x_j − mean_j)/sd_j + b)))`.
    Logistic {
        /// Training mean of each input column.
        means: Vec<f64>,
        /// Training standard deviation of each input column (1 for constant columns).
        sds: Vec<f64>,
        /// Coefficients on the standardised columns.
        coefficients: Vec<f64>,
        /// Intercept.
        intercept: f64,
        /// Whether linfa's positive class was `false` (then `p` is 1 − the above).
        flip: bool,
    },
    /// One tree; leaves hold the positive share of the training rows that reach them (the
    /// overall positive share for a leaf no training row reaches).
    DecisionTree {
        /// The tree.
        tree: SavedTree,
    },
    /// Bagged trees; leaves hold 1 (votes positive) or 0; the probability is the share of
    /// positive votes. Tree `t` reads encoded column `features[t][j]` as its column `j`.
    RandomForest {
        /// The trees.
        trees: Vec<SavedTree>,
        /// The encoded columns each tree sees (linfa-ensemble's random subspace).
        features: Vec<Vec<usize>>,
    },
}

impl SavedClassifier {
    /// Positive-class probability of one encoded row.
    pub fn probability(&self, x: &[f64]) -> f64 {
        match self {
            SavedClassifier::Constant { probability } => *probability,
            SavedClassifier::Logistic {
                means,
                sds,
                coefficients,
                intercept,
                flip,
            } => {
                let z: f64 = x
                    .iter()
                    .zip(means.iter().zip(sds))
                    .zip(coefficients)
                    .map(|((v, (m, s)), w)| (v - m) / s * w)
                    .sum::<f64>()
                    + intercept;
                let p = 1.0 / (1.0 + (-z).exp());
                if *flip { 1.0 - p } else { p }
            }
            SavedClassifier::DecisionTree { tree } => tree.score(&|j| x[j]),
            SavedClassifier::RandomForest { trees, features } => {
                let votes: f64 = trees
                    .iter()
                    .zip(features)
                    .map(|(t, cols)| t.score(&|j| x[cols[j]]))
                    .sum();
                votes / trees.len() as f64
            }
        }
    }

    /// Checks the shape against the number of encoded input columns.
    pub fn check(&self, width: usize) -> Result<(), String> {
        let tree_ok = |t: &SavedTree, w: usize| -> Result<(), String> {
            t.check()?;
            for n in &t.nodes {
                if let SavedNode::Split { feature, .. } = n {
                    if *feature >= w {
                        return Err(format!("a tree splits on column {feature} of {w}"));
                    }
                }
            }
            Ok(())
        };
        match self {
            SavedClassifier::Constant { .. } => Ok(()),
            SavedClassifier::Logistic {
                means,
                sds,
                coefficients,
                ..
            } => {
                if means.len() != width || sds.len() != width || coefficients.len() != width {
                    return Err(format!(
                        "the logistic model has {}/{}/{} means/sds/coefficients for {width} input columns",
                        means.len(),
                        sds.len(),
                        coefficients.len()
                    ));
                }
                Ok(())
            }
            SavedClassifier::DecisionTree { tree } => tree_ok(tree, width),
            SavedClassifier::RandomForest { trees, features } => {
                if trees.is_empty() || trees.len() != features.len() {
                    return Err(format!(
                        "the forest has {} trees and {} feature lists",
                        trees.len(),
                        features.len()
                    ));
                }
                for (t, cols) in trees.iter().zip(features) {
                    if let Some(c) = cols.iter().find(|&&c| c >= width) {
                        return Err(format!("a tree reads column {c} of {width}"));
                    }
                    tree_ok(t, cols.len())?;
                }
                Ok(())
            }
        }
    }
}

/// Fits `kind` on the given rows exactly as [`fit_predict`] does and writes it out in plain form.
fn fit_saved(
    kind: ClassifierKind,
    cs: &ClassificationSettings,
    train: &[&[f64]],
    labels: &[bool],
    seed: u64,
) -> Result<SavedClassifier, ClassificationError> {
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 || positives == labels.len() {
        return Ok(SavedClassifier::Constant {
            probability: if positives == 0 { 0.0 } else { 1.0 },
        });
    }
    Ok(match kind {
        ClassifierKind::Logistic => {
            let (scale, model) = fit_logistic(cs, train, labels)?;
            SavedClassifier::Logistic {
                means: scale.iter().map(|s| s.0).collect(),
                sds: scale.iter().map(|s| s.1).collect(),
                coefficients: model.params().to_vec(),
                intercept: model.intercept(),
                flip: !model.labels().pos.class,
            }
        }
        ClassifierKind::DecisionTree => {
            let tree = fit_tree(cs, train, labels)?;
            let root = tree.root_node();
            let value = leaf_probability(root, train, labels);
            SavedClassifier::DecisionTree {
                tree: SavedTree::from_linfa(root, &value),
            }
        }
        ClassifierKind::RandomForest => {
            let forest = fit_forest(cs, train, labels, seed)?;
            let vote = |n: &TreeNode<f64, bool>| f64::from(u8::from(n.prediction() == Some(true)));
            SavedClassifier::RandomForest {
                trees: forest
                    .models
                    .iter()
                    .map(|t| SavedTree::from_linfa(t.root_node(), &vote))
                    .collect(),
                features: forest.model_features.clone(),
            }
        }
    })
}

/// The production growth-potential classifier: the best configuration refitted on every row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductionClassifier {
    /// The model.
    pub model: ClassifierKind,
    /// Whether SMOTE oversampled the minority of the training rows before fitting.
    pub smote: bool,
    /// The fitted model.
    pub fitted: SavedClassifier,
    /// `probability >= threshold` flags growth potential.
    pub threshold: f64,
    /// How the threshold was chosen, in words.
    pub threshold_rule: String,
    /// Precision, recall and F1 of the threshold on the out-of-fold probabilities it was chosen on.
    pub threshold_choice: (f64, f64, f64),
    /// Whether the precision floor could be met.
    pub constraint_met: bool,
    /// The seed of the final fit (SMOTE and the forest's bagging).
    pub seed: u64,
}

/// The seed of the production fit: derived from the settings' seed, distinct from every CV fit.
fn production_seed(settings: &Settings) -> u64 {
    rng::child_seed(settings.seed, 0x9_0d_u64 << 20)
}

/// Fits the production growth-potential classifier for `best` (the analysis' best honest
/// configuration) on every row of `ds`.
///
/// The threshold rule: the folds of the analysis' first repeat (stratified group k-fold,
/// `settings.folds`, seeded as the analysis seeds it) give every row an out-of-fold probability
/// from a model that never saw it or its copies — exactly the analysis' own out-of-fold
/// probabilities of that repeat; the threshold is the one maximising F1 subject to precision ≥
/// `min_precision` on them ([`class_metrics::choose_threshold`], the rule each outer fold uses).
/// The model is then fitted once on all rows (SMOTE on all rows when the configuration uses it),
/// seeded from `settings.seed`. Model hyper-parameters are the settings' (the analysis tunes only
/// the threshold).
pub fn fit_production(
    ds: &Dataset,
    settings: &Settings,
    best: &BestModel,
) -> Result<(ProductionClassifier, Design), ClassificationError> {
    let cs = &settings.classification;
    let (labels, _) = features::growth_label(ds, &settings.features);
    check_classes(&labels)?;
    let design = design_matrix(ds, &honest_features(&ds.roles), FeatureSet::Honest)?;
    let config = Config {
        model: best.model,
        smote: best.smote,
        features: FeatureSet::Honest,
        scheme: DEFAULT_SCHEME,
    };
    let split_seed = rng::child_seed(settings.seed, 0);
    let folds = cv::split(
        DEFAULT_SCHEME,
        &ds.groups,
        Some(&labels),
        settings.folds,
        split_seed,
    )?;
    let mut oof = vec![f64::NAN; labels.len()];
    for (f, fold) in folds.iter().enumerate() {
        let scores = fit_score(
            &design,
            &labels,
            &fold.train,
            &fold.test,
            cs,
            config,
            rng::child_seed(split_seed, f as u64),
        )?;
        for (&i, s) in fold.test.iter().zip(scores) {
            oof[i] = s;
        }
    }
    let choice = class_metrics::choose_threshold(&labels, &oof, cs.min_precision);
    let seed = production_seed(settings);
    let all: Vec<usize> = (0..labels.len()).collect();
    let fitted = with_training_rows(&design, &labels, &all, cs, config, seed, |xt, yt| {
        fit_saved(config.model, cs, xt, yt, seed)
    })?;
    Ok((
        ProductionClassifier {
            model: best.model,
            smote: best.smote,
            fitted,
            threshold: choice.threshold,
            threshold_rule: format!(
                "maximise F1 subject to precision >= {} on the out-of-fold probabilities of every row under {} (repeat 1 of the analysis, seed {}); if no threshold reaches the floor, the F1-maximising one",
                cs.min_precision,
                DEFAULT_SCHEME.describe(settings.folds),
                settings.seed
            ),
            threshold_choice: (choice.precision, choice.recall, choice.f1),
            constraint_met: choice.constraint_met,
            seed,
        },
        design,
    ))
}

/// Probabilities of `rows` (encoded like the honest design) from the production configuration
/// fitted with the analysis' library objects (linfa models, not the saved form): the reference
/// the saved classifier is tested against.
pub fn production_reference_scores(
    ds: &Dataset,
    settings: &Settings,
    best: &BestModel,
    rows: &[&[f64]],
) -> Result<Vec<f64>, ClassificationError> {
    let (labels, _) = features::growth_label(ds, &settings.features);
    let design = design_matrix(ds, &honest_features(&ds.roles), FeatureSet::Honest)?;
    let config = Config {
        model: best.model,
        smote: best.smote,
        features: FeatureSet::Honest,
        scheme: DEFAULT_SCHEME,
    };
    let all: Vec<usize> = (0..labels.len()).collect();
    fit_score_rows(
        &design,
        &labels,
        &all,
        rows,
        &settings.classification,
        config,
        production_seed(settings),
    )
}

fn threshold_metrics(
    labels: &[bool],
    runs: &[RepeatRun],
    predicted: impl Fn(&RepeatRun, usize) -> bool,
) -> ThresholdMetrics {
    let conf: Vec<Confusion> = runs
        .iter()
        .map(|run| {
            let p: Vec<bool> = (0..labels.len()).map(|i| predicted(run, i)).collect();
            Confusion::from_predictions(labels, &p)
        })
        .collect();
    let of = |f: fn(&Confusion) -> f64| Spread::of(&conf.iter().map(f).collect::<Vec<_>>());
    ThresholdMetrics {
        precision: of(Confusion::precision),
        recall: of(Confusion::recall),
        f1: of(Confusion::f1),
        accuracy: of(Confusion::accuracy),
        confusion: conf.iter().fold(Confusion::default(), |a, &c| a.add(c)),
    }
}

/// Summarises the out-of-fold runs of one configuration.
fn summarise(
    labels: &[bool],
    runs: &[RepeatRun],
    design: &Design,
    settings: &Settings,
    config: Config,
) -> ConfigResult {
    let cs = &settings.classification;
    let t0 = cs.default_threshold;
    let thresholds: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.choices.iter().map(|c| c.threshold))
        .collect();
    ConfigResult {
        model: config.model,
        smote: config.smote,
        features: config.features,
        columns: design.columns.clone(),
        scheme: config.scheme,
        scheme_description: config.scheme.describe(settings.folds),
        folds: settings.folds,
        repeats: runs.len(),
        inner_folds: settings.folds - 1,
        rows: labels.len(),
        at_default: threshold_metrics(labels, runs, |r, i| r.oof[i] >= t0),
        at_chosen: threshold_metrics(labels, runs, |r, i| r.oof[i] >= r.threshold[i]),
        chosen_threshold: Spread::of(&thresholds),
        constraint_met_folds: runs
            .iter()
            .flat_map(|r| &r.choices)
            .filter(|c| c.constraint_met)
            .count(),
        roc_auc: Spread::of(
            &runs
                .iter()
                .map(|r| class_metrics::roc_auc(labels, &r.oof))
                .collect::<Vec<_>>(),
        ),
        average_precision: Spread::of(
            &runs
                .iter()
                .map(|r| class_metrics::average_precision(labels, &r.oof))
                .collect::<Vec<_>>(),
        ),
    }
}

/// Cross-validates one configuration on a dataset and summarises it.
pub fn evaluate(
    ds: &Dataset,
    settings: &Settings,
    config: Config,
) -> Result<ConfigResult, ClassificationError> {
    let (labels, _) = features::growth_label(ds, &settings.features);
    let feats = match config.features {
        FeatureSet::Honest => honest_features(&ds.roles),
        FeatureSet::LeakyAblation => leaky_features(&ds.roles),
    };
    let design = design_matrix(ds, &feats, config.features)?;
    check_classes(&labels)?;
    let runs = cross_validate(&design, &labels, &ds.groups, settings, config)?;
    Ok(summarise(&labels, &runs, &design, settings, config))
}

/// Group-aware cross-validated F1 of one honest model at the training-fold-chosen threshold
/// (stratified group k-fold, `settings.folds` × repeats, SMOTE inside training folds if asked):
/// mean and sd over repeats. The entry point for robustness sweeps.
///
/// ```
/// use customer_intel::analysis::classification::{cv_f1, ClassifierKind};
/// use customer_intel::{data, settings::Settings};
/// let ds = data::synth(120, 3, &data::SynthSpec::default());
/// let mut s = Settings::default();
/// s.classification.repeats = Some(1);
/// let f1 = cv_f1(&ds, &s, ClassifierKind::Logistic, false).unwrap();
/// assert!(f1.mean >= 0.0 && f1.mean <= 1.0 && f1.n == 1);
/// ```
pub fn cv_f1(
    ds: &Dataset,
    settings: &Settings,
    model: ClassifierKind,
    smote: bool,
) -> Result<Spread, ClassificationError> {
    let config = Config {
        model,
        smote,
        features: FeatureSet::Honest,
        scheme: DEFAULT_SCHEME,
    };
    Ok(evaluate(ds, settings, config)?.at_chosen.f1)
}

fn check_classes(labels: &[bool]) -> Result<(), ClassificationError> {
    let positives = labels.iter().filter(|&&l| l).count();
    if positives < 2 || labels.len() - positives < 2 {
        return Err(ClassificationError::OneClass {
            positives,
            rows: labels.len(),
        });
    }
    Ok(())
}

/// Keeps at most `max` points of a curve, always the first and last (for compact findings).
fn thin(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max {
        return points;
    }
    let last = points.len() - 1;
    (0..max).map(|i| points[i * last / (max - 1)]).collect()
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
        protocol: protocol(settings, labels.len()),
        honest_features: honest_features(&ds.roles),
        leaky_features: leaky_features(&ds.roles),
        ..Default::default()
    };
    check_classes(&labels)?;
    let honest = design_matrix(ds, &out.honest_features, FeatureSet::Honest)?;
    let leaky = design_matrix(ds, &out.leaky_features, FeatureSet::LeakyAblation)?;

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
    for config in plan {
        let design = if config.features == FeatureSet::Honest {
            &honest
        } else {
            &leaky
        };
        let runs = cross_validate(design, &labels, &ds.groups, settings, config)?;
        if config.features == FeatureSet::Honest && config.scheme == DEFAULT_SCHEME {
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
            met: f1 > cs.target_f1 && p > cs.target_precision,
            at_default: (f1d, pd, f1d > cs.target_f1 && pd > cs.target_precision),
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

fn protocol(settings: &Settings, rows: usize) -> Protocol {
    let cs = &settings.classification;
    Protocol {
        folds: settings.folds,
        repeats: cs.repeats.unwrap_or(settings.repeats).max(1),
        inner_folds: settings.folds - 1,
        rows,
        default_scheme: DEFAULT_SCHEME,
        default_scheme_description: DEFAULT_SCHEME.describe(settings.folds),
        naive_scheme: NAIVE_SCHEME,
        naive_scheme_description: NAIVE_SCHEME.describe(settings.folds),
        aggregation: "each repeat's out-of-fold probabilities are pooled over its folds and scored once; \
                      scores are the mean and sample sd over repeats; confusion matrices are summed over repeats"
            .into(),
        threshold_rule: format!(
            "per outer fold, the threshold maximising F1 subject to precision >= {} on out-of-fold scores of the \
             training rows from a nested {}-fold CV whose inner folds are the other outer folds (models fitted \
             without the test fold); if no threshold reaches the floor, the F1-maximising one; applied to that \
             fold's test rows",
            cs.min_precision,
            settings.folds - 1
        ),
        pr_auc_definition: "average precision: sum over distinct thresholds of (recall step) x precision, \
                            not the trapezoidal area"
            .into(),
        best_rule: BEST_RULE.into(),
        smote_rule: format!(
            "inside every training fold (outer and inner) only: minority grown to {} x the majority count with \
             k = {} nearest same-class neighbours on standardised features",
            cs.smote.ratio, cs.smote.k
        ),
        settings: cs.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data;

    fn bundled() -> Dataset {
        data::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/customer_purchasing_behaviors.csv"
        )))
        .expect("bundled data loads")
    }

    #[test]
    fn honest_features_refuse_the_label_inputs() {
        let ds = bundled();
        let honest = honest_features(&ds.roles);
        assert_eq!(honest, vec!["age", "annual_income", "region"]);
        let d = design_matrix(&ds, &honest, FeatureSet::Honest).unwrap();
        assert_eq!(
            d.columns,
            vec![
                "age",
                "annual_income",
                "region=North",
                "region=South",
                "region=East",
                "region=West"
            ]
        );
        for bad in &ds.roles.label_inputs {
            let mut f = honest.clone();
            f.push(bad.clone());
            match design_matrix(&ds, &f, FeatureSet::Honest) {
                Err(ClassificationError::Leakage(e)) => assert_eq!(&e.feature, bad),
                other => panic!("{bad} was not refused: {other:?}"),
            }
        }
        // The ablation is allowed only when flagged as such.
        let leaky = leaky_features(&ds.roles);
        assert!(leaky.contains(&"loyalty_score".to_string()));
        assert!(design_matrix(&ds, &leaky, FeatureSet::LeakyAblation).is_ok());
    }

    /// A one-feature design where the feature predicts the label with some noise.
    fn toy(n: usize) -> (Design, Vec<bool>, Vec<usize>) {
        let x: Vec<Vec<f64>> = (0..n)
            .map(|i| vec![((i * 37) % n) as f64 / n as f64])
            .collect();
        let labels: Vec<bool> = (0..n)
            .map(|i| x[i][0] + 0.25 * ((i * 13 % 7) as f64 / 7.0 - 0.5) > 0.6)
            .collect();
        (
            Design {
                x,
                columns: vec!["f".into()],
            },
            labels,
            (0..n).collect(),
        )
    }

    #[test]
    fn threshold_is_chosen_without_the_test_fold() {
        let (design, labels, groups) = toy(90);
        let mut settings = Settings::default();
        settings.classification.repeats = Some(1);
        for (model, smote) in [
            (ClassifierKind::Logistic, true),
            (ClassifierKind::DecisionTree, false),
        ] {
            // Naive k-fold: the split does not look at labels, so changing test-fold labels
            // leaves the folds alone and isolates what the threshold depends on.
            let config = Config {
                model,
                smote,
                features: FeatureSet::Honest,
                scheme: Scheme::KFold,
            };
            let folds = cv::kfold(
                labels.len(),
                settings.folds,
                rng::child_seed(settings.seed, 0),
            )
            .unwrap();
            let test0 = &folds[0].test;
            let run = &cross_validate(&design, &labels, &groups, &settings, config).unwrap()[0];
            let applied = run.choices[0].threshold;
            assert!(test0.iter().all(|&i| run.threshold[i] == applied));
            // It is exactly what the training rows alone give.
            let alone = choose_fold_threshold(
                &design,
                &labels,
                &folds,
                0,
                &settings,
                config,
                rng::child_seed(settings.seed, 0),
            )
            .unwrap();
            assert_eq!(alone, run.choices[0]);

            // Scramble the test fold: invert its labels and move its features.
            let mut labels2 = labels.clone();
            let mut design2 = design.clone();
            for &i in test0 {
                labels2[i] = !labels2[i];
                design2.x[i][0] = 1.0 - design2.x[i][0];
            }
            let run2 = &cross_validate(&design2, &labels2, &groups, &settings, config).unwrap()[0];
            assert_eq!(
                run2.choices[0], run.choices[0],
                "{model:?}: fold 0's threshold moved with its test rows"
            );
            // ...although choosing on the test fold would have given a different threshold.
            let test_labels: Vec<bool> = test0.iter().map(|&i| labels2[i]).collect();
            let test_scores: Vec<f64> = test0.iter().map(|&i| run2.oof[i]).collect();
            let peeking = class_metrics::choose_threshold(
                &test_labels,
                &test_scores,
                settings.classification.min_precision,
            );
            assert!(
                (peeking.threshold - applied).abs() > 1e-9,
                "{model:?}: construction does not discriminate"
            );
        }
    }

    #[test]
    fn logistic_probabilities_match_sklearn() {
        // sklearn 1.9.1: LogisticRegression(C=1.0, tol=1e-10, max_iter=10000) fitted on the
        // standardised (ddof=1) 12 rows below; predict_proba[:, 1] of the 4 test rows.
        let train: Vec<Vec<f64>> = vec![
            vec![1.0, 20.0],
            vec![2.0, 18.0],
            vec![3.0, 25.0],
            vec![4.0, 22.0],
            vec![5.0, 30.0],
            vec![6.0, 27.0],
            vec![7.0, 35.0],
            vec![8.0, 31.0],
            vec![9.0, 40.0],
            vec![10.0, 38.0],
            vec![11.0, 45.0],
            vec![12.0, 41.0],
        ];
        let y = [
            false, false, true, false, false, true, false, true, true, false, true, true,
        ];
        let test: Vec<Vec<f64>> = vec![
            vec![0.0, 10.0],
            vec![6.5, 30.0],
            vec![13.0, 50.0],
            vec![4.0, 40.0],
        ];
        let want = [
            0.134_138_213_015_891_96,
            0.489_498_981_094_597_05,
            0.855_799_827_534_679_2,
            0.502_279_751_447_687_2,
        ];
        let cs = ClassificationSettings {
            logistic_max_iterations: 1000,
            ..Default::default()
        };
        let tr: Vec<&[f64]> = train.iter().map(Vec::as_slice).collect();
        let te: Vec<&[f64]> = test.iter().map(Vec::as_slice).collect();
        let got = fit_predict(ClassifierKind::Logistic, &cs, &tr, &y, &te, 0).unwrap();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-4, "{got:?} vs {want:?}");
        }
        // The labels flipped give the complementary probabilities (orientation check).
        let flipped: Vec<bool> = y.iter().map(|v| !v).collect();
        let got2 = fit_predict(ClassifierKind::Logistic, &cs, &tr, &flipped, &te, 0).unwrap();
        for (a, b) in got.iter().zip(&got2) {
            assert!((a + b - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn tree_probabilities_are_leaf_shares() {
        // Depth-1 tree on one feature. Weighted Gini of each cut, by hand: after 1: 0.267,
        // after 2: 0.417, after 3: 0.222, after 4: 0.333, after 5: 0.400, so the cut is at 3.5;
        // the left leaf holds 1 positive of 3 rows, the right 3 of 3.
        let train: Vec<Vec<f64>> = vec![
            vec![1.0],
            vec![2.0],
            vec![3.0],
            vec![4.0],
            vec![5.0],
            vec![6.0],
        ];
        let y = [false, true, false, true, true, true];
        let cs = ClassificationSettings {
            tree_max_depth: 1,
            ..Default::default()
        };
        let tr: Vec<&[f64]> = train.iter().map(Vec::as_slice).collect();
        let te: Vec<Vec<f64>> = vec![vec![0.0], vec![3.4], vec![3.6], vec![9.0]];
        let te: Vec<&[f64]> = te.iter().map(Vec::as_slice).collect();
        let got = fit_predict(ClassifierKind::DecisionTree, &cs, &tr, &y, &te, 0).unwrap();
        assert_eq!(got, vec![1.0 / 3.0, 1.0 / 3.0, 1.0, 1.0]);
    }

    #[test]
    fn bundled_data_findings_are_complete_and_deterministic() {
        let ds = bundled();
        let mut settings = Settings::default();
        settings.classification.repeats = Some(1);
        let f = run(&ds, &settings);
        assert_eq!(f.error, None);
        // 90 of 238 rows labelled (pandas rank/quantile reference in the features tests' spirit:
        // computed with pandas 2.x on the bundled CSV).
        assert_eq!((f.label.positives, f.label.rows), (90, 238));
        assert_eq!(f.results.len(), 15);
        assert_eq!(f.curves.len(), 6);
        for r in &f.results {
            assert_eq!(r.at_chosen.confusion.total(), 238);
            assert!(r.roc_auc.mean > 0.5 && r.roc_auc.mean <= 1.0, "{r:?}");
        }
        for g in &f.scheme_gaps {
            assert!(
                g.naive_f1 >= g.group_f1 - 0.05,
                "naive scoring should not trail group scoring by much: {g:?}"
            );
        }
        assert!(f.best.is_some() && f.targets.is_some());
        assert_eq!(
            f,
            run(&ds, &settings),
            "same data and settings must give the same findings"
        );
    }
}
