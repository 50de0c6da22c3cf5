//! The drift simulation's model, monitors and policy loop as they were before the lean batches
//! (commit 26cdad9), kept verbatim for the tests only: [`super::simulate`] and
//! [`super::psi_by_feature`] must give the same values as this code path, bit for bit.

#![allow(dead_code)]

use std::collections::BTreeMap;

use linfa::prelude::*;
use linfa_linear::{FittedLinearRegression, LinearRegression};
use ndarray::{Array1, Array2};

use super::{
    Alarm, BatchMonitor, DriftSettings, Monitor, Policy, PolicyOutcome, decide, numeric_features,
};
use crate::data::Dataset;
use crate::ml::cv::{self, Scheme};
use crate::ml::drift_metrics;
use crate::settings::Roles;

/// One labelled batch as a design matrix (numeric features, then one-hot category without the
/// first level) and target.
fn design(batches: &[&Dataset], numeric: &[String]) -> (Array2<f64>, Array1<f64>) {
    let levels = &batches[0].roles.category_levels;
    let n: usize = batches.iter().map(|d| d.n_rows()).sum();
    let p = numeric.len() + levels.len().saturating_sub(1);
    let mut x = Array2::<f64>::zeros((n, p));
    let mut y = Array1::<f64>::zeros(n);
    let mut row = 0;
    for ds in batches {
        let cols: Vec<&[f64]> = numeric.iter().map(|c| ds.col(c)).collect();
        let target = ds.target();
        for i in 0..ds.n_rows() {
            for (k, c) in cols.iter().enumerate() {
                x[[row, k]] = c[i];
            }
            if let Some(l) = levels
                .iter()
                .position(|l| *l == ds.category[i])
                .filter(|&l| l > 0)
            {
                x[[row, numeric.len() + l - 1]] = 1.0;
            }
            y[row] = target[i];
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

fn fit(batches: &[&Dataset], numeric: &[String]) -> Option<Model> {
    let (x, y) = design(batches, numeric);
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

/// Squared errors of a model on a batch.
fn squared_errors(model: &Model, ds: &Dataset, numeric: &[String]) -> Vec<f64> {
    let (x, y) = design(&[ds], numeric);
    squared_errors_xy(model, &x, &y)
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
pub(super) fn psi_against(
    reference: &[&Dataset],
    current: &Dataset,
    numeric: &[String],
    bins: usize,
) -> BTreeMap<String, f64> {
    PsiReference::new(reference, &current.roles, numeric, bins).against(current)
}

/// What PSI needs from a reference (several batches pooled), computed once and compared with
/// any number of batches: each numeric feature's quantile edges and bin shares, and the
/// category's level shares. [`PsiReference::against`] equals [`drift_metrics::psi`] and
/// [`drift_metrics::psi_categorical`] on the pooled reference, value for value.
struct PsiReference {
    /// Numeric feature, its bin edges and the reference's share in each bin.
    numeric: Vec<(String, Vec<f64>, Vec<f64>)>,
    /// The category's name and levels, and the reference's share of each level.
    category: (String, Vec<String>, Vec<f64>),
}

impl PsiReference {
    fn new(reference: &[&Dataset], roles: &Roles, numeric: &[String], bins: usize) -> PsiReference {
        let numeric = numeric
            .iter()
            .map(|c| {
                let r: Vec<f64> = reference
                    .iter()
                    .flat_map(|d| d.col(c).iter().copied())
                    .collect();
                let edges = drift_metrics::quantile_edges(&r, bins);
                let shares = drift_metrics::bin_shares(&r, &edges);
                (c.clone(), edges, shares)
            })
            .collect();
        let r: Vec<String> = reference
            .iter()
            .flat_map(|d| d.category.iter().cloned())
            .collect();
        let levels = roles.category_levels.clone();
        let shares = drift_metrics::level_shares(&r, &levels);
        PsiReference {
            numeric,
            category: (roles.category.clone(), levels, shares),
        }
    }

    fn against(&self, current: &Dataset) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (c, edges, shares) in &self.numeric {
            let cur = drift_metrics::bin_shares(current.col(c), edges);
            out.insert(c.clone(), drift_metrics::psi_from_shares(shares, &cur));
        }
        let (name, levels, shares) = &self.category;
        let cur = drift_metrics::level_shares(&current.category, levels);
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
pub(super) fn simulate(
    reference: &Dataset,
    batches: &[Dataset],
    cfg: &DriftSettings,
    folds: usize,
    seed: u64,
) -> Result<(Vec<BatchMonitor>, Vec<PolicyOutcome>, f64), String> {
    let roles = &reference.roles;
    let numeric = numeric_features(roles);

    // Reference RMSE: pooled out-of-fold squared error of the model on the reference period.
    let folds =
        cv::split(Scheme::GroupKFold, &reference.groups, None, folds, seed).map_err(|e| {
            format!("the simulated reference period cannot be split into {folds} group folds ({e})")
        })?;
    let mut oof = Vec::with_capacity(reference.n_rows());
    for f in &folds {
        let train = reference.subset(&f.train);
        let test = reference.subset(&f.test);
        if let Some(m) = fit(&[&train], &numeric) {
            oof.extend(squared_errors(&m, &test, &numeric));
        }
    }
    let reference_rmse = rmse_of(&oof);
    let rmse_threshold = cfg.rmse_alarm * reference_rmse;

    // PSI references, each computed once: the reference period, and every training window a
    // policy deploys (the same windows recur across policies).
    let reference_psi = PsiReference::new(&[reference], roles, &numeric, cfg.psi_bins);
    let mut window_psi: BTreeMap<Vec<usize>, PsiReference> = BTreeMap::new();
    let monitors: Vec<BatchMonitor> = batches
        .iter()
        .enumerate()
        .map(|(t, b)| {
            let psi = reference_psi.against(b);
            let ks = numeric
                .iter()
                .map(|c| {
                    (
                        c.clone(),
                        drift_metrics::ks_statistic(reference.col(c), b.col(c)),
                    )
                })
                .collect();
            let max_psi = max_entry(&psi).1;
            BatchMonitor {
                batch: t + 1,
                income_scale: 1.0,
                spend_income_slope: 0.0,
                young_share: 0.0,
                region_mix: Vec::new(),
                psi,
                ks,
                max_psi,
            }
        })
        .collect();

    // Each batch's design matrix, built once: every policy scores every batch.
    let batch_xy: Vec<(Array2<f64>, Array1<f64>)> =
        batches.iter().map(|b| design(&[b], &numeric)).collect();
    let reference_model = fit(&[reference], &numeric).ok_or_else(|| {
        "no least-squares model could be fitted to the simulated reference period".to_string()
    })?;
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
                let psi = match &trained_on {
                    None => reference_psi.against(&batches[t]),
                    Some(v) => window_psi
                        .entry(v.clone())
                        .or_insert_with(|| {
                            let training: Vec<&Dataset> = v.iter().map(|&i| &batches[i]).collect();
                            PsiReference::new(&training, roles, &numeric, cfg.psi_bins)
                        })
                        .against(&batches[t]),
                };
                let (max_psi_feature, max_psi) = max_entry(&psi);
                let rmse = if new_labels {
                    newest_labelled.map(|l| {
                        rmse_of(&squared_errors_xy(&model, &batch_xy[l].0, &batch_xy[l].1))
                    })
                } else {
                    None
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
                    let data: Vec<&Dataset> = window.iter().map(|&i| &batches[i]).collect();
                    if let Some(m) = fit(&data, &numeric) {
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
