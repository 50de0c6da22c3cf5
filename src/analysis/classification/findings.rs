//! What the classification analysis returns: the plain, serialisable results that
//! `report/findings.json`, the templates and the figures read.

use serde::Serialize;

use super::{ClassificationSettings, ClassifierKind, FeatureSet};
use crate::ml::class_metrics::Confusion;
use crate::ml::cv::Scheme;
use crate::settings::Settings;
use crate::stats;

/// A score summarised over test folds × repeats: mean, sample sd (0 for one value) and count. Same shape as
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
        super::protocol::describe(&Settings::default(), 0)
    }
}

/// Metrics at one thresholding rule, per test fold.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ThresholdMetrics {
    /// Precision over the test folds of all repeats.
    pub precision: Spread,
    /// Recall over the test folds of all repeats.
    pub recall: Spread,
    /// F1 over the test folds of all repeats.
    pub f1: Spread,
    /// Accuracy over the test folds of all repeats.
    pub accuracy: Spread,
    /// Confusion matrix summed over folds and repeats (every row counted once per repeat).
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
    /// ROC-AUC over the test folds of all repeats.
    pub roc_auc: Spread,
    /// PR-AUC as average precision, over the test folds of all repeats.
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
    /// The best one-split rule of each honest numeric feature: the target's baseline.
    pub baselines: super::baselines::ClassificationBaselines,
    /// Sparse category levels merged inside the models: the setting, the training folds'
    /// decisions, and every honest model (± SMOTE) with and without the merge.
    pub sparse_merge: crate::sparse::Ablation,
}
