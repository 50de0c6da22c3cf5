//! Multicollinearity made visible: OLS and Ridge refitted on bootstrap resamples, each
//! coefficient (per one standard deviation of its predictor, in target units) summarised by its
//! 95% percentile interval, its width, and how often its sign disagrees with the full-data fit.
//!
//! Resampling unit: the duplicate group. Copies of a row are one observation recorded several
//! times, so resampling rows would treat them as independent evidence and understate the
//! spread; each resample draws as many groups as there are, with replacement, and takes every
//! row of each drawn group.

use rand::Rng as _;
use serde::Serialize;

use crate::ml::regressors::{self, FitOptions, Matrix, ModelKind};
use crate::rng;
use crate::stats;

use super::RegressionError;

/// What one bootstrap resample is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResampleUnit {
    /// Whole duplicate groups drawn with replacement (copies stay together).
    #[default]
    DuplicateGroup,
}

/// Bootstrap summary of one coefficient under one model.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CoefInterval {
    /// Estimate on all rows used.
    pub estimate: f64,
    /// 2.5% percentile (type 7) of the resampled coefficients.
    pub lo: f64,
    /// 97.5% percentile of the resampled coefficients.
    pub hi: f64,
    /// `hi − lo`.
    pub width: f64,
    /// Share of resamples whose coefficient sign differs from the sign of `estimate`.
    pub sign_flip_share: f64,
    /// Resamples in which the coefficient could be estimated (its column was not constant).
    pub resamples_used: usize,
}

/// One predictor's OLS and Ridge bootstrap intervals on the same resamples.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CoefComparison {
    /// Design column (a numeric feature or one category level).
    pub column: String,
    /// OLS coefficient, target units per standard deviation of the predictor.
    pub ols: CoefInterval,
    /// Ridge coefficient in the same units.
    pub ridge: CoefInterval,
    /// Ridge interval width divided by OLS interval width.
    pub ridge_to_ols_width: f64,
}

/// The bootstrap of OLS and Ridge coefficients.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct BootstrapFindings {
    /// Number of resamples.
    pub resamples: usize,
    /// What is resampled.
    pub unit: ResampleUnit,
    /// Rows the bootstrap ran on (all rows, or a seeded sample of `sample_cap`).
    pub rows_used: usize,
    /// Duplicate groups among those rows (the number drawn per resample).
    pub groups_used: usize,
    /// Ridge penalty, chosen by group-aware CV on all rows used (standardised units).
    pub ridge_penalty: f64,
    /// Unit of the target; coefficients are in this unit per standard deviation of their predictor.
    pub target_unit: String,
    /// One entry per design column.
    pub coefficients: Vec<CoefComparison>,
}

#[allow(clippy::too_many_arguments)]
/// Runs the bootstrap on the given rows of `x` / `y`, resampling their duplicate groups.
pub(crate) fn run(
    x: &Matrix,
    y: &[f64],
    groups: &[usize],
    columns: &[String],
    ridge_penalty: f64,
    resamples: usize,
    max_iterations: u32,
    seed: u64,
    target_unit: &str,
) -> Result<BootstrapFindings, RegressionError> {
    let mut members: std::collections::BTreeMap<usize, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, &g) in groups.iter().enumerate() {
        members.entry(g).or_default().push(i);
    }
    let members: Vec<Vec<usize>> = members.into_values().collect();
    // Over each column's observed values (gaps under data.missing = "impute" are left out).
    let col_sd: Vec<f64> = (0..x.cols)
        .map(|j| {
            let seen: Vec<f64> = x.column(j).into_iter().filter(|v| !v.is_nan()).collect();
            stats::sd(&seen)
        })
        .collect();
    let ols_opts = FitOptions {
        penalty: 0.0,
        forest: Default::default(),
        max_iterations,
        seed,
    };
    let ridge_opts = FitOptions {
        penalty: ridge_penalty,
        ..ols_opts.clone()
    };
    let per_sd = |model: ModelKind,
                  rows: &[usize],
                  opts: &FitOptions|
     -> Result<Vec<f64>, RegressionError> {
        let xs = x.select_rows(rows);
        let ys: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
        let fit = regressors::fit(model, &xs, &ys, opts)?;
        let raw = fit.linear().expect("linear model").coef_raw();
        Ok(raw.iter().zip(&col_sd).map(|(c, s)| c * s).collect())
    };
    let all: Vec<usize> = (0..y.len()).collect();
    let full = [
        per_sd(ModelKind::Ols, &all, &ols_opts)?,
        per_sd(ModelKind::Ridge, &all, &ridge_opts)?,
    ];
    let mut draws: [Vec<Vec<f64>>; 2] = [vec![Vec::new(); x.cols], vec![Vec::new(); x.cols]];
    let mut r = rng::stream(seed, "regression_bootstrap");
    for _ in 0..resamples {
        let rows: Vec<usize> = (0..members.len())
            .flat_map(|_| members[r.gen_range(0..members.len())].iter().copied())
            .collect();
        let coefs = [
            per_sd(ModelKind::Ols, &rows, &ols_opts)?,
            per_sd(ModelKind::Ridge, &rows, &ridge_opts)?,
        ];
        for m in 0..2 {
            for (j, c) in coefs[m].iter().enumerate() {
                if c.is_finite() {
                    draws[m][j].push(*c);
                }
            }
        }
    }
    let summarise = |estimate: f64, d: &[f64]| -> CoefInterval {
        let lo = stats::quantile(d, 0.025);
        let hi = stats::quantile(d, 0.975);
        let flips = d
            .iter()
            .filter(|c| c.signum() != estimate.signum() || **c == 0.0)
            .count();
        CoefInterval {
            estimate,
            lo,
            hi,
            width: hi - lo,
            sign_flip_share: if d.is_empty() {
                0.0
            } else {
                flips as f64 / d.len() as f64
            },
            resamples_used: d.len(),
        }
    };
    let coefficients = (0..x.cols)
        .map(|j| {
            let ols = summarise(full[0][j], &draws[0][j]);
            let ridge = summarise(full[1][j], &draws[1][j]);
            CoefComparison {
                column: columns[j].clone(),
                ridge_to_ols_width: if ols.width > 0.0 {
                    ridge.width / ols.width
                } else {
                    0.0
                },
                ols,
                ridge,
            }
        })
        .collect();
    Ok(BootstrapFindings {
        resamples,
        unit: ResampleUnit::DuplicateGroup,
        rows_used: y.len(),
        groups_used: members.len(),
        ridge_penalty,
        target_unit: target_unit.to_string(),
        coefficients,
    })
}
