//! Cross-validation of one model on one design: outer folds by scheme and repeat, the penalty
//! of Ridge and Lasso chosen by an inner group-aware CV on each outer training fold, and
//! per-fold R², RMSE and MAE with the out-of-fold predictions of the first repeat.

use crate::ml::cv::{self, Fold, Scheme};
use crate::ml::metrics;
use crate::ml::regressors::{self, FitOptions, Fitted, Matrix, ModelKind};
use crate::rng;
use crate::settings::Settings;

use super::RegressionError;
use crate::data::Dataset;
use crate::sparse::MergeSource;

/// The predictors of a fit: the matrix of some rows, encoded as decided on the fitting rows
/// alone (a fixed design ignores them; a design with merged sparse levels decides its merge on
/// them, see [`crate::sparse`]).
pub(crate) trait Predictors {
    /// The predictor matrix of `rows`, encoded as decided on `fit_rows` (dataset row indices).
    fn matrix(&self, fit_rows: &[usize], rows: &[usize]) -> Result<Matrix, RegressionError>;

    /// The matrices of `a` and of `b`, both encoded as decided on `fit_rows` (decided once).
    fn matrices(
        &self,
        fit_rows: &[usize],
        a: &[usize],
        b: &[usize],
    ) -> Result<(Matrix, Matrix), RegressionError> {
        Ok((self.matrix(fit_rows, a)?, self.matrix(fit_rows, b)?))
    }
}

impl Predictors for Matrix {
    fn matrix(&self, _fit_rows: &[usize], rows: &[usize]) -> Result<Matrix, RegressionError> {
        Ok(self.select_rows(rows))
    }
}

/// A feature list whose category's sparse levels are merged, decided on each fit's rows.
pub(crate) struct MergedDesign<'a> {
    /// The dataset.
    ds: &'a Dataset,
    /// The raw features (checked for leakage once, by [`MergedDesign::new`]).
    names: Vec<String>,
    /// What the merge is decided from.
    source: MergeSource,
}

impl<'a> MergedDesign<'a> {
    /// The merged design of `names`, refused when a feature leaks the target.
    pub fn new(
        ds: &'a Dataset,
        names: Vec<String>,
        source: MergeSource,
    ) -> Result<MergedDesign<'a>, crate::features::LeakageError> {
        crate::features::check_no_leakage(&ds.roles.target, &names, &ds.roles)?;
        Ok(MergedDesign { ds, names, source })
    }
}

impl Predictors for MergedDesign<'_> {
    fn matrix(&self, fit_rows: &[usize], rows: &[usize]) -> Result<Matrix, RegressionError> {
        let map = self.source.decide(fit_rows);
        Ok(super::design::design_rows_checked(self.ds, &self.names, &map, fit_rows, rows).x)
    }

    fn matrices(
        &self,
        fit_rows: &[usize],
        a: &[usize],
        b: &[usize],
    ) -> Result<(Matrix, Matrix), RegressionError> {
        let map = self.source.decide(fit_rows);
        let d =
            |rows| super::design::design_rows_checked(self.ds, &self.names, &map, fit_rows, rows).x;
        Ok((d(a), d(b)))
    }
}

/// Per-fold scores of one cross-validation, all repeats, and repeat 0's out-of-fold predictions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CvRun {
    /// R² per fold (repeat-major).
    pub r2: Vec<f64>,
    /// RMSE per fold.
    pub rmse: Vec<f64>,
    /// MAE per fold.
    pub mae: Vec<f64>,
    /// Out-of-fold prediction of every row in repeat 0.
    pub oof: Vec<f64>,
    /// Penalty chosen on each outer training fold (penalised models only).
    pub penalties: Vec<f64>,
}

/// The outer folds of `repeat`: seeded by `child_seed(settings.seed, repeat)`, so every model
/// and feature set is scored on the same folds (paired comparisons).
pub(crate) fn outer_folds(
    groups: &[usize],
    scheme: Scheme,
    settings: &Settings,
    repeat: usize,
) -> Result<Vec<Fold>, RegressionError> {
    Ok(cv::split(
        scheme,
        groups,
        None,
        settings.folds,
        rng::child_seed(settings.seed, repeat as u64),
    )?)
}

/// Runs `predict(fold, seed)` on every outer fold of every repeat and scores its test-row
/// predictions. `predict` sees only the fold's row lists; what it trains on is its business,
/// which lets tests spy on the rows each prediction was allowed to learn from.
pub(crate) fn run_folds(
    y: &[f64],
    groups: &[usize],
    scheme: Scheme,
    settings: &Settings,
    predict: &mut dyn FnMut(&Fold, u64) -> Result<(Vec<f64>, Option<f64>), RegressionError>,
) -> Result<CvRun, RegressionError> {
    let mut run = CvRun {
        r2: vec![],
        rmse: vec![],
        mae: vec![],
        oof: vec![f64::NAN; y.len()],
        penalties: vec![],
    };
    for repeat in 0..settings.repeats {
        let folds = outer_folds(groups, scheme, settings, repeat)?;
        let seed = rng::child_seed(settings.seed, repeat as u64);
        for (f, fold) in folds.iter().enumerate() {
            let (pred, penalty) = predict(fold, rng::child_seed(seed, 1 + f as u64))?;
            let actual: Vec<f64> = fold.test.iter().map(|&i| y[i]).collect();
            run.r2.push(metrics::r2(&actual, &pred));
            run.rmse.push(metrics::rmse(&actual, &pred));
            run.mae.push(metrics::mae(&actual, &pred));
            run.penalties.extend(penalty);
            if repeat == 0 {
                for (&i, p) in fold.test.iter().zip(pred) {
                    run.oof[i] = p;
                }
            }
        }
    }
    Ok(run)
}

/// Cross-validates `model` on predictors `x` (one row per dataset row).
pub(crate) fn cross_validate(
    model: ModelKind,
    x: &dyn Predictors,
    y: &[f64],
    groups: &[usize],
    scheme: Scheme,
    settings: &Settings,
) -> Result<CvRun, RegressionError> {
    run_folds(y, groups, scheme, settings, &mut |fold, seed| {
        let (xt, xv) = x.matrices(&fold.train, &fold.train, &fold.test)?;
        let (fitted, penalty) =
            fit_on_matrix(model, &xt, x, y, groups, &fold.train, settings, seed)?;
        Ok((fitted.predict(&xv), penalty))
    })
}

/// Fits `model` on the `train` rows only; a penalised model first chooses its penalty by an
/// inner group-aware CV on those same rows (each inner fit encoded as decided on its own rows).
pub(crate) fn fit_in_fold(
    model: ModelKind,
    x: &dyn Predictors,
    y: &[f64],
    groups: &[usize],
    train: &[usize],
    settings: &Settings,
    seed: u64,
) -> Result<(Fitted, Option<f64>), RegressionError> {
    fit_on_matrix(
        model,
        &x.matrix(train, train)?,
        x,
        y,
        groups,
        train,
        settings,
        seed,
    )
}

/// [`fit_in_fold`] with the `train` rows' matrix `xt` already built from `x`.
#[allow(clippy::too_many_arguments)]
fn fit_on_matrix(
    model: ModelKind,
    xt: &Matrix,
    x: &dyn Predictors,
    y: &[f64],
    groups: &[usize],
    train: &[usize],
    settings: &Settings,
    seed: u64,
) -> Result<(Fitted, Option<f64>), RegressionError> {
    let yt: Vec<f64> = train.iter().map(|&i| y[i]).collect();
    let penalty = if model.is_penalised() {
        Some(choose_penalty(model, x, y, groups, train, settings, seed)?)
    } else {
        None
    };
    let opts = FitOptions {
        penalty: penalty.unwrap_or(0.0),
        forest: settings.regression.forest.clone(),
        max_iterations: settings.regression.max_iterations,
        seed,
    };
    Ok((regressors::fit(model, xt, &yt, &opts)?, penalty))
}

/// The grid penalty with the smallest pooled squared error over an inner group k-fold of the
/// rows `rows` (`inner_folds`, fewer if there are fewer groups). Ties go to the larger penalty.
/// `y` and `groups` are indexed by dataset row, like `rows`.
pub(crate) fn choose_penalty(
    model: ModelKind,
    x: &dyn Predictors,
    y: &[f64],
    groups: &[usize],
    rows: &[usize],
    settings: &Settings,
    seed: u64,
) -> Result<f64, RegressionError> {
    let rs = &settings.regression;
    let gt: Vec<usize> = rows.iter().map(|&i| groups[i]).collect();
    let distinct = gt.iter().collect::<std::collections::BTreeSet<_>>().len();
    let k = rs.inner_folds.min(distinct);
    let folds = cv::split(
        Scheme::GroupKFold,
        &gt,
        None,
        k,
        rng::child_seed(seed, 0x1a2e),
    )?;
    let splits: Vec<(Matrix, Vec<f64>, Matrix, Vec<f64>)> = folds
        .iter()
        .map(|f| {
            let tr: Vec<usize> = f.train.iter().map(|&k| rows[k]).collect();
            let te: Vec<usize> = f.test.iter().map(|&k| rows[k]).collect();
            let (xt, xv) = x.matrices(&tr, &tr, &te)?;
            Ok((
                xt,
                tr.iter().map(|&i| y[i]).collect(),
                xv,
                te.iter().map(|&i| y[i]).collect(),
            ))
        })
        .collect::<Result<_, RegressionError>>()?;
    // Each inner split is standardised once and the whole grid is fitted along one
    // warm-started path; the pooled squared error is summed per penalty in split order.
    let mut sse = vec![0.0; rs.penalty_grid.len()];
    for (xt, yt, xv, yv) in &splits {
        let fits = regressors::fit_path(model, xt, yt, &rs.penalty_grid, rs.max_iterations)?;
        for (s, fitted) in sse.iter_mut().zip(&fits) {
            *s += yv
                .iter()
                .zip(fitted.predict(xv))
                .map(|(a, p)| (a - p).powi(2))
                .sum::<f64>();
        }
    }
    let mut best = (f64::INFINITY, f64::NAN);
    for (&penalty, &s) in rs.penalty_grid.iter().zip(&sse) {
        if s <= best.0 {
            best = (s, penalty);
        }
    }
    Ok(best.1)
}
