//! Permutation importance of the best model on held-out group folds, and which correlated
//! features share importance.
//!
//! The model is fitted once per group fold (penalty chosen inside the training fold). A
//! feature's importance is the drop in out-of-fold R² when its values are shuffled among the
//! test rows of every fold (a category's one-hot columns move together). Each shuffle repeat
//! gives one drop; the findings keep their mean and spread over repeats.
//!
//! Correlated features can stand in for each other, so shuffling one at a time understates
//! what they carry together. Numeric features are clustered by single linkage at
//! `|Pearson r| ≥ correlation_threshold`; each cluster of two or more is also shuffled jointly
//! (one permutation applied to all its columns), and its joint drop is reported beside the sum
//! of its members' individual drops.

use rand::seq::SliceRandom;
use serde::Serialize;

use crate::ml::cv::Scheme;
use crate::ml::metrics::{self, FoldSummary};
use crate::ml::regressors::{Fitted, ModelKind};
use crate::rng;
use crate::settings::Settings;
use crate::stats;

use super::RegressionError;
use super::design::{Design, FeatureSet};
use super::validate;

/// Importance of one feature: the drop in out-of-fold R² when it is shuffled.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct FeatureImportance {
    /// Raw feature (a numeric column or the category).
    pub feature: String,
    /// R² drop over shuffle repeats (mean, sd, n = repeats).
    pub r2_drop: FoldSummary,
}

/// A cluster of mutually correlated numeric features and how they share importance.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SharedImportance {
    /// Member features.
    pub features: Vec<String>,
    /// Smallest |Pearson r| between two members.
    pub min_abs_correlation: f64,
    /// Mean individual R² drop of each member, in `features` order.
    pub individual_r2_drop: Vec<f64>,
    /// Sum of the members' mean individual drops.
    pub sum_individual_r2_drop: f64,
    /// R² drop when all members are shuffled together.
    pub joint_r2_drop: FoldSummary,
}

/// Permutation importance findings.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ImportanceFindings {
    /// The model explained.
    pub model: Option<ModelKind>,
    /// Its feature set.
    pub feature_set: Option<FeatureSet>,
    /// How held-out rows were chosen ([`Scheme::describe`]).
    pub scheme: String,
    /// Shuffle repeats per feature.
    pub repeats: usize,
    /// Rows used (all rows, or a seeded sample of `sample_cap`).
    pub rows_used: usize,
    /// Out-of-fold R² without shuffling.
    pub baseline_r2: f64,
    /// One entry per raw feature, in feature-set order.
    pub features: Vec<FeatureImportance>,
    /// |r| at or above which numeric features are clustered.
    pub correlation_threshold: f64,
    /// Clusters of two or more correlated features.
    pub correlated: Vec<SharedImportance>,
}

/// Computes permutation importance of `model` on `design` restricted to `rows`.
pub(crate) fn run(
    model: ModelKind,
    set: FeatureSet,
    design: &Design,
    y_all: &[f64],
    groups_all: &[usize],
    rows: &[usize],
    settings: &Settings,
) -> Result<ImportanceFindings, RegressionError> {
    let rs = &settings.regression;
    let x = design.x.select_rows(rows);
    let y: Vec<f64> = rows.iter().map(|&i| y_all[i]).collect();
    let groups: Vec<usize> = rows.iter().map(|&i| groups_all[i]).collect();
    let folds = validate::outer_folds(&groups, Scheme::GroupKFold, settings, 0)?;
    let fold_seed = rng::child_seed(settings.seed, 0);
    let mut fitted: Vec<Fitted> = Vec::with_capacity(folds.len());
    for (f, fold) in folds.iter().enumerate() {
        let seed = rng::child_seed(fold_seed, 1 + f as u64);
        fitted.push(validate::fit_in_fold(model, &x, &y, &groups, &fold.train, settings, seed)?.0);
    }
    let oof = |cols: &[usize], perm_seed: Option<u64>| -> Vec<f64> {
        let mut out = vec![0.0; y.len()];
        for (f, fold) in folds.iter().enumerate() {
            let mut xt = x.select_rows(&fold.test);
            if let Some(s) = perm_seed {
                let mut order: Vec<usize> = (0..fold.test.len()).collect();
                order.shuffle(&mut rng::stream(
                    rng::child_seed(s, f as u64),
                    "permutation_importance",
                ));
                let orig = xt.clone();
                for (i, &src) in order.iter().enumerate() {
                    for &c in cols {
                        xt.data[i * xt.cols + c] = orig.get(src, c);
                    }
                }
            }
            for (&i, p) in fold.test.iter().zip(fitted[f].predict(&xt)) {
                out[i] = p;
            }
        }
        out
    };
    let baseline_r2 = metrics::r2(&y, &oof(&[], None));
    let drops = |key: usize, cols: &[usize]| -> FoldSummary {
        let d: Vec<f64> = (0..rs.permutation_repeats)
            .map(|rep| {
                let s = rng::child_seed(
                    rng::child_seed(settings.seed ^ 0x0919_4a7e, key as u64),
                    rep as u64,
                );
                baseline_r2 - metrics::r2(&y, &oof(cols, Some(s)))
            })
            .collect();
        FoldSummary::of(&d)
    };
    let features: Vec<FeatureImportance> = design
        .blocks
        .iter()
        .enumerate()
        .map(|(k, (name, cols))| FeatureImportance {
            feature: name.clone(),
            r2_drop: drops(k, cols),
        })
        .collect();

    // Single-linkage clusters of numeric features by |r|.
    let numeric: Vec<usize> = (0..design.blocks.len())
        .filter(|&k| design.blocks[k].0 != settings.roles.category && design.blocks[k].1.len() == 1)
        .collect();
    let col = |k: usize| x.column(design.blocks[k].1[0]);
    let mut cluster: Vec<usize> = (0..numeric.len()).collect();
    // Pairwise-complete: rows where either feature is a gap (under data.missing = "impute") are
    // left out of that pair's correlation.
    let abs_r = |a: usize, b: usize| {
        let (u, v): (Vec<f64>, Vec<f64>) = col(numeric[a])
            .into_iter()
            .zip(col(numeric[b]))
            .filter(|(p, q)| !p.is_nan() && !q.is_nan())
            .unzip();
        stats::pearson(&u, &v).abs()
    };
    for a in 0..numeric.len() {
        for b in a + 1..numeric.len() {
            if abs_r(a, b) >= rs.correlation_threshold {
                let (from, to) = (cluster[b], cluster[a]);
                for c in cluster.iter_mut() {
                    if *c == from {
                        *c = to;
                    }
                }
            }
        }
    }
    let mut correlated = Vec::new();
    let mut labels: Vec<usize> = cluster.clone();
    labels.sort_unstable();
    labels.dedup();
    for (ci, label) in labels.into_iter().enumerate() {
        let members: Vec<usize> = (0..numeric.len())
            .filter(|&a| cluster[a] == label)
            .collect();
        if members.len() < 2 {
            continue;
        }
        let mut min_r = f64::INFINITY;
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                min_r = min_r.min(abs_r(a, b));
            }
        }
        let individual: Vec<f64> = members
            .iter()
            .map(|&a| features[numeric[a]].r2_drop.mean)
            .collect();
        let cols: Vec<usize> = members
            .iter()
            .map(|&a| design.blocks[numeric[a]].1[0])
            .collect();
        correlated.push(SharedImportance {
            features: members
                .iter()
                .map(|&a| design.blocks[numeric[a]].0.clone())
                .collect(),
            min_abs_correlation: min_r,
            sum_individual_r2_drop: individual.iter().sum(),
            individual_r2_drop: individual,
            joint_r2_drop: drops(1000 + ci, &cols),
        });
    }
    Ok(ImportanceFindings {
        model: Some(model),
        feature_set: Some(set),
        scheme: Scheme::GroupKFold.describe(settings.folds),
        repeats: rs.permutation_repeats,
        rows_used: rows.len(),
        baseline_r2,
        features,
        correlation_threshold: rs.correlation_threshold,
        correlated,
    })
}
