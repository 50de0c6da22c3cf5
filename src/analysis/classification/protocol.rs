//! The cross-validation protocol of the classification: the design matrix (with its leakage
//! check), repeated outer folds, the threshold chosen per outer fold by a nested CV over the
//! other folds, SMOTE inside training folds only, and the summaries of out-of-fold scores.

use super::{
    BEST_RULE, ClassificationError, ClassificationSettings, ClassifierKind, ConfigResult,
    DEFAULT_SCHEME, FeatureSet, NAIVE_SCHEME, Protocol, Spread, ThresholdMetrics,
};
use crate::data::Dataset;
use crate::features::{self, GROWTH_LABEL};
use crate::ml::class_metrics::{self, Confusion, ThresholdChoice};
use crate::ml::classifiers;
use crate::ml::cv::{self, Scheme};
use crate::ml::smote;
use crate::rng;
use crate::settings::{Roles, Settings};
use crate::sparse::{LevelMap, MergeSource};

/// A feature matrix with named, encoded columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Rows of encoded features.
    pub x: Vec<Vec<f64>>,
    /// Encoded column names (`region=North` for a one-hot column).
    pub columns: Vec<String>,
    /// When set, every fit merges the category's sparse levels as decided on its own training
    /// rows ([`crate::sparse`]); `x` keeps one column per level.
    pub merge: Option<MergeSource>,
}

impl Design {
    /// This design with the sparse-level merge of the settings (`features.merge_sparse_levels`,
    /// threshold `eda.sparse_share`) applied inside every fit, or unchanged when it is off.
    pub fn with_settings_merge(mut self, ds: &Dataset, settings: &Settings) -> Design {
        self.merge = settings
            .features
            .merge_sparse_levels
            .then(|| MergeSource::of(ds, settings.eda.sparse_share));
        self
    }

    /// This design encoded through `map`: each merged level's indicator is added to the
    /// indicator of the level it joins and its column dropped (other columns unchanged).
    pub fn merged_by(&self, map: &LevelMap) -> Design {
        let plan = ColumnPlan::new(&self.columns, map);
        Design {
            x: self.x.iter().map(|r| plan.apply(r)).collect(),
            columns: plan.columns,
            merge: None,
        }
    }
}

/// Where each column of a one-hot design goes when levels merge.
struct ColumnPlan {
    target: Vec<usize>,
    columns: Vec<String>,
}

impl ColumnPlan {
    fn new(columns: &[String], map: &LevelMap) -> ColumnPlan {
        let prefix = format!("{}=", map.column);
        let level = |c: &str| c.strip_prefix(&prefix).map(str::to_string);
        let merged_away = |c: &str| level(c).is_some_and(|l| map.apply(&l) != l.as_str());
        let kept: Vec<String> = columns
            .iter()
            .filter(|c| !merged_away(c))
            .cloned()
            .collect();
        let target = columns
            .iter()
            .map(|c| {
                let to = match level(c) {
                    Some(l) => format!("{prefix}{}", map.apply(&l)),
                    None => c.clone(),
                };
                kept.iter()
                    .position(|k| *k == to)
                    .or_else(|| kept.iter().position(|k| k == c))
                    .unwrap_or(0)
            })
            .collect();
        ColumnPlan {
            target,
            columns: kept,
        }
    }

    fn apply(&self, row: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.columns.len()];
        for (v, &t) in row.iter().zip(&self.target) {
            out[t] += v;
        }
        out
    }
}

/// The design merged as decided on `train` alone, with its plan; `None` when the design does
/// not merge or nothing is sparse on those rows.
fn merge_for(design: &Design, train: &[usize]) -> Option<(Design, ColumnPlan)> {
    let map = design.merge.as_ref()?.decide(train);
    if map.merges.is_empty() {
        return None;
    }
    let plan = ColumnPlan::new(&design.columns, &map);
    let d = Design {
        x: design.x.iter().map(|r| plan.apply(r)).collect(),
        columns: plan.columns.clone(),
        merge: None,
    };
    Some((d, plan))
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
    Ok(Design {
        x,
        columns,
        merge: None,
    })
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
    /// Each fold's test rows (row indices), in fold order.
    pub folds: Vec<Vec<usize>>,
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
            folds: folds.iter().map(|f| f.test.clone()).collect(),
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
pub(super) fn fit_score(
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

/// [`fit_score`] for test rows given as feature rows (of any table encoded like `design`). When
/// the design merges sparse levels, the merge is decided on `train` and applied to the training
/// and the test rows alike.
pub(super) fn fit_score_rows(
    design: &Design,
    labels: &[bool],
    train: &[usize],
    test: &[&[f64]],
    cs: &ClassificationSettings,
    config: Config,
    seed: u64,
) -> Result<Vec<f64>, ClassificationError> {
    match merge_for(design, train) {
        None => fit_score_plain(design, labels, train, test, cs, config, seed),
        Some((d, plan)) => {
            let rows: Vec<Vec<f64>> = test.iter().map(|r| plan.apply(r)).collect();
            let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
            fit_score_plain(&d, labels, train, &refs, cs, config, seed)
        }
    }
}

fn fit_score_plain(
    design: &Design,
    labels: &[bool],
    train: &[usize],
    test: &[&[f64]],
    cs: &ClassificationSettings,
    config: Config,
    seed: u64,
) -> Result<Vec<f64>, ClassificationError> {
    with_training_rows(design, labels, train, cs, config, seed, |xt, yt| {
        Ok(classifiers::fit_predict(
            config.model,
            &cs.classifier_params(),
            xt,
            yt,
            test,
            seed,
        )?)
    })
}

/// Calls `f` with the training rows of `train` and their labels, with SMOTE's synthetic
/// minority rows appended (made from those rows alone, seeded by `seed`) when the config asks.
pub(super) fn with_training_rows<R>(
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

/// A score computed on every test fold of every repeat, summarised as mean ± sample sd over
/// those folds × repeats values (`n` = folds × repeats; NaN scores, such as ROC-AUC on a fold
/// with one class, are dropped and not counted).
fn per_fold(runs: &[RepeatRun], score: impl Fn(&RepeatRun, &[usize]) -> f64) -> Spread {
    let v: Vec<f64> = runs
        .iter()
        .flat_map(|run| {
            run.folds
                .iter()
                .map(|fold| score(run, fold))
                .collect::<Vec<_>>()
        })
        .collect();
    Spread::of(&v)
}

fn threshold_metrics(
    labels: &[bool],
    runs: &[RepeatRun],
    predicted: impl Fn(&RepeatRun, usize) -> bool,
) -> ThresholdMetrics {
    let fold_confusion = |run: &RepeatRun, fold: &[usize]| {
        let y: Vec<bool> = fold.iter().map(|&i| labels[i]).collect();
        let p: Vec<bool> = fold.iter().map(|&i| predicted(run, i)).collect();
        Confusion::from_predictions(&y, &p)
    };
    let of = |f: fn(&Confusion) -> f64| per_fold(runs, |run, fold| f(&fold_confusion(run, fold)));
    ThresholdMetrics {
        precision: of(Confusion::precision),
        recall: of(Confusion::recall),
        f1: of(Confusion::f1),
        accuracy: of(Confusion::accuracy),
        confusion: runs
            .iter()
            .flat_map(|run| run.folds.iter().map(move |fold| (run, fold)))
            .fold(Confusion::default(), |a, (run, fold)| {
                a.plus(fold_confusion(run, fold))
            }),
    }
}

/// ROC-AUC or average precision of one test fold's out-of-fold scores.
fn fold_ranking(
    labels: &[bool],
    run: &RepeatRun,
    fold: &[usize],
    metric: fn(&[bool], &[f64]) -> f64,
) -> f64 {
    let y: Vec<bool> = fold.iter().map(|&i| labels[i]).collect();
    let s: Vec<f64> = fold.iter().map(|&i| run.oof[i]).collect();
    metric(&y, &s)
}

/// Summarises the out-of-fold runs of one configuration.
pub(super) fn summarise(
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
        roc_auc: per_fold(runs, |run, fold| {
            fold_ranking(labels, run, fold, class_metrics::roc_auc)
        }),
        average_precision: per_fold(runs, |run, fold| {
            fold_ranking(labels, run, fold, class_metrics::average_precision)
        }),
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
    let design = design_matrix(ds, &feats, config.features)?.with_settings_merge(ds, settings);
    check_classes(&labels)?;
    let runs = cross_validate(&design, &labels, &ds.groups, settings, config)?;
    Ok(summarise(&labels, &runs, &design, settings, config))
}

/// Group-aware cross-validated F1 of one honest model at the training-fold-chosen threshold
/// (stratified group k-fold, `settings.folds` × repeats, SMOTE inside training folds if asked):
/// mean and sd over the folds × repeats test folds. The entry point for robustness sweeps.
///
/// ```
/// use customer_intel::analysis::classification::{cv_f1, ClassifierKind};
/// use customer_intel::{data, settings::Settings};
/// let ds = data::synth(120, 3, &data::SynthSpec::default());
/// let mut s = Settings::default();
/// s.classification.repeats = Some(1);
/// let f1 = cv_f1(&ds, &s, ClassifierKind::Logistic, false).unwrap();
/// assert!(f1.mean >= 0.0 && f1.mean <= 1.0 && f1.n == 5); // 5 folds × 1 repeat
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

pub(super) fn check_classes(labels: &[bool]) -> Result<(), ClassificationError> {
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
pub(super) fn thin(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max {
        return points;
    }
    let last = points.len() - 1;
    (0..max).map(|i| points[i * last / (max - 1)]).collect()
}

/// The protocol in words and numbers, as stored in the findings (`rows`: rows scored).
pub(super) fn describe(settings: &Settings, rows: usize) -> Protocol {
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
        aggregation: "every score is computed on each test fold of each repeat and reported as the mean and \
                      sample sd over those folds x repeats values (n beside every sd); confusion matrices are summed \
                      over folds and repeats (every row counted once per repeat)"
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
             k = {} nearest same-class neighbours on standardised features; neighbours are distinct points (copies \
             of a row count once and are never a row's own neighbours), base rows are every minority row, copies \
             included",
            cs.smote.ratio, cs.smote.k
        ),
        settings: cs.clone(),
    }
}
