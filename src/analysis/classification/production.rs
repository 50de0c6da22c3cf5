//! The production growth-potential classifier: the analysis' best honest configuration refitted
//! on every row, with its threshold chosen on out-of-fold probabilities, saved in plain form
//! for `report score`.

use serde::{Deserialize, Serialize};

use super::protocol::{check_classes, fit_score, fit_score_rows, with_training_rows};
use super::{
    BestModel, ClassificationError, ClassifierKind, Config, DEFAULT_SCHEME, Design, FeatureSet,
    SavedClassifier, design_matrix, honest_features,
};
use crate::data::Dataset;
use crate::features;
use crate::ml::class_metrics;
use crate::ml::classifiers;
use crate::ml::cv;
use crate::rng;
use crate::settings::Settings;
use crate::sparse::{LevelMap, MergeSource};

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
    /// The sparse-level merge decided on every training row, which the saved inputs encode
    /// (empty when `features.merge_sparse_levels` is off or no level is sparse).
    #[serde(default)]
    pub merges: LevelMap,
}

/// The production design: the honest design, merged as decided on every row when the settings
/// merge sparse levels (`features.merge_sparse_levels`), with the merge decided.
pub fn production_design(
    ds: &Dataset,
    settings: &Settings,
) -> Result<(Design, LevelMap), ClassificationError> {
    let raw = design_matrix(ds, &honest_features(&ds.roles), FeatureSet::Honest)?;
    let all: Vec<usize> = (0..ds.n_rows()).collect();
    let map = if settings.features.merge_sparse_levels {
        MergeSource::of(ds, settings.eda.sparse_share).decide(&all)
    } else {
        LevelMap {
            column: ds.roles.category.clone(),
            merges: Vec::new(),
        }
    };
    Ok((raw.merged_by(&map), map))
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
    // The out-of-fold probabilities merge inside each fold, as the analysis does.
    let design = design_matrix(ds, &honest_features(&ds.roles), FeatureSet::Honest)?
        .with_settings_merge(ds, settings);
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
    let (design, merges) = production_design(ds, settings)?;
    let fitted = with_training_rows(&design, &labels, &all, cs, config, seed, |xt, yt| {
        Ok(classifiers::fit(
            config.model,
            &cs.classifier_params(),
            xt,
            yt,
            seed,
        )?)
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
            merges,
        },
        design,
    ))
}

/// Probabilities of `rows` (encoded like the production design, [`production_design`]) from the production configuration
/// fitted with the analysis' library objects (linfa models, not the saved form): the reference
/// the saved classifier is tested against.
pub fn production_reference_scores(
    ds: &Dataset,
    settings: &Settings,
    best: &BestModel,
    rows: &[&[f64]],
) -> Result<Vec<f64>, ClassificationError> {
    let (labels, _) = features::growth_label(ds, &settings.features);
    let (design, _) = production_design(ds, settings)?;
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
