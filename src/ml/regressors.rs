//! Regression model wrappers over plain row-major matrices: the mean baseline, ordinary least
//! squares (linfa-linear's QR solve from linfa-linalg, called directly), Ridge and Lasso
//! (linfa-elasticnet's objective, solved along a penalty path by [`crate::ml::penalised`]) and a
//! random forest (smartcore).
//!
//! Linear models standardise predictors *and* the target with statistics of the rows they are
//! fitted on (so inside a cross-validation training fold only), which makes one penalty grid
//! meaningful for any target unit. It also matters for correctness: linfa-elasticnet's objective
//! (and [`crate::ml::penalised`], which keeps it) centres the target but not the predictors, so
//! its intercept is only right for centred predictors.
//!
//! linfa 0.8 has no regression trees (linfa-trees and linfa-ensemble only classify), so the
//! random forest comes from smartcore 0.7's `RandomForestRegressor`, a maintained
//! implementation, rather than a hand-written forest.

use ndarray::{Array1, Array2, Axis, ShapeBuilder};
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use thiserror::Error;

use crate::ml::penalised::Gram;
use crate::stats;

/// A dense row-major matrix of predictors.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Values, row after row.
    pub data: Vec<f64>,
}

impl Matrix {
    /// A matrix from row-major values; panics if the length is not `rows × cols`.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Matrix {
        assert_eq!(data.len(), rows * cols, "matrix data has the wrong length");
        Matrix { rows, cols, data }
    }

    /// The value at row `i`, column `j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    /// One row.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// One column, copied.
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.rows).map(|i| self.get(i, j)).collect()
    }

    /// The given rows (repeats allowed), in order.
    pub fn select_rows(&self, rows: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(rows.len() * self.cols);
        for &i in rows {
            data.extend_from_slice(self.row(i));
        }
        Matrix::new(rows.len(), self.cols, data)
    }
}

/// The regression models compared by the spend analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Predicts the training mean: the floor every model must beat.
    Mean,
    /// Ordinary least squares (linfa-linear).
    Ols,
    /// L2-penalised least squares (linfa-elasticnet's objective with l1_ratio 0).
    Ridge,
    /// L1-penalised least squares (linfa-elasticnet's objective with l1_ratio 1).
    Lasso,
    /// Random forest of regression trees (smartcore).
    RandomForest,
}

impl ModelKind {
    /// Every model, simplest first (the order also breaks ties in model selection).
    pub const ALL: [ModelKind; 5] = [
        ModelKind::Mean,
        ModelKind::Ols,
        ModelKind::Ridge,
        ModelKind::Lasso,
        ModelKind::RandomForest,
    ];

    /// Whether the model has a penalty chosen by inner cross-validation.
    pub fn is_penalised(self) -> bool {
        matches!(self, ModelKind::Ridge | ModelKind::Lasso)
    }

    /// Short display name.
    pub fn label(self) -> &'static str {
        match self {
            ModelKind::Mean => "mean baseline",
            ModelKind::Ols => "OLS",
            ModelKind::Ridge => "Ridge",
            ModelKind::Lasso => "Lasso",
            ModelKind::RandomForest => "random forest",
        }
    }
}

/// Hyper-parameters of the random forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForestParams {
    /// Number of trees.
    pub trees: usize,
    /// Maximum tree depth; 0 grows until leaves are pure or too small.
    pub max_depth: u16,
    /// Minimum rows in a leaf.
    pub min_samples_leaf: usize,
    /// Predictors tried at each split as a share of all predictors (rounded up, at least one).
    pub max_features_share: f64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            trees: 60,
            max_depth: 10,
            min_samples_leaf: 2,
            max_features_share: 1.0 / 3.0,
        }
    }
}

/// How to fit one model.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Penalty of Ridge or Lasso in linfa's parametrisation on standardised data
    /// (objective `1/(2n)·‖y − Xw‖² + penalty·(l1·‖w‖₁ + (1 − l1)/2·‖w‖²)`); ignored otherwise.
    pub penalty: f64,
    /// Random-forest settings; ignored by other models.
    pub forest: ForestParams,
    /// Coordinate-descent sweeps allowed to a Lasso fit at one penalty (Ridge is solved in
    /// closed form); see [`crate::ml::penalised`].
    pub max_iterations: u32,
    /// Seed of the forest's bootstrap and split sampling.
    pub seed: u64,
}

/// A model could not be fitted.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FitError {
    /// No training rows, or predictors and target of different lengths.
    #[error("cannot fit on {rows} rows with {targets} targets")]
    BadShape {
        /// Rows of the predictor matrix.
        rows: usize,
        /// Length of the target.
        targets: usize,
    },
    /// The underlying library refused.
    #[error("{model:?} fit failed: {message}")]
    Library {
        /// The model.
        model: ModelKind,
        /// The library's message.
        message: String,
    },
}

/// Column means and scales fitted on training rows. Columns constant in the training rows
/// (scale 0) are dropped, since no coefficient can be estimated for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean of each input column.
    pub mean: Vec<f64>,
    /// Sample standard deviation (n − 1) of each input column.
    pub scale: Vec<f64>,
    /// Input columns kept (non-constant), ascending.
    pub keep: Vec<usize>,
}

impl Standardizer {
    /// Fits on the rows of `x`. The sums run over the rows in order, as [`stats::mean`] and
    /// [`stats::sd`] add a copied column (same values, same bits), without copying any column.
    pub fn fit(x: &Matrix) -> Standardizer {
        let (n, p) = (x.rows, x.cols);
        let zero = stats::sum_start();
        let mut total = vec![zero; p];
        for r in x.data.chunks_exact(p.max(1)) {
            for (t, v) in total.iter_mut().zip(r) {
                *t += v;
            }
        }
        let mean: Vec<f64> = if n == 0 {
            vec![f64::NAN; p]
        } else {
            total.iter().map(|t| t / n as f64).collect()
        };
        let scale: Vec<f64> = if n < 2 {
            vec![0.0; p]
        } else {
            let mut squares = vec![zero; p];
            for r in x.data.chunks_exact(p.max(1)) {
                for ((s, v), m) in squares.iter_mut().zip(r).zip(&mean) {
                    *s += (v - m) * (v - m);
                }
            }
            squares
                .iter()
                .map(|s| (s / (n - 1) as f64).sqrt())
                .collect()
        };
        let keep = (0..p)
            .filter(|&j| scale[j] > 1e-12 * (1.0 + mean[j].abs()))
            .collect();
        Standardizer { mean, scale, keep }
    }

    /// Value `v` of input column `j`, standardised: the one formula every use shares.
    #[inline(always)]
    fn scaled(&self, j: usize, v: f64) -> f64 {
        (v - self.mean[j]) / self.scale[j]
    }

    /// The kept columns of `x`, standardised, as a column-major ndarray matrix (the tests feed
    /// it to linfa; the fits and predictions standardise row by row or straight into their own
    /// matrix instead).
    #[cfg(test)]
    pub fn transform(&self, x: &Matrix) -> Array2<f64> {
        Array2::from_shape_fn((x.rows, self.keep.len()).f(), |(i, k)| {
            let j = self.keep[k];
            self.scaled(j, x.get(i, j))
        })
    }

    /// The kept columns of one raw `row`, standardised into `out` (one value per kept column),
    /// without building a standardised matrix.
    pub fn transform_row(&self, row: &[f64], out: &mut [f64]) {
        for (o, &j) in out.iter_mut().zip(&self.keep) {
            *o = self.scaled(j, row[j]);
        }
    }
}

/// A fitted regression model. It serialises as it is (smartcore's forest through smartcore's
/// own `serde` support), so a saved model predicts with exactly the code that fitted it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fitted {
    /// Predicts a constant.
    Mean(f64),
    /// A linear model on standardised predictors and target.
    Linear(LinearFit),
    /// A random forest on raw predictors (trees do not need scaling).
    Forest(Box<RandomForestRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>>),
    /// A model fitted on rows with gaps (`NaN` inputs): each input column's gaps were filled
    /// with the median of that column's observed values in the rows it was fitted on (inside a
    /// cross-validation training fold, only those rows), and predictions fill gaps the same way,
    /// as scikit-learn's `SimpleImputer(strategy="median")` in a pipeline does. Only fits on
    /// rows with gaps produce it, so a table without gaps fits exactly as before.
    Imputed {
        /// The fill value of each input column.
        medians: Vec<f64>,
        /// The model fitted on the filled rows.
        model: Box<Fitted>,
    },
}

/// The median of each column's observed (non-`NaN`) values; 0 for a column with none observed
/// (a column missing in every training row then carries no information, as a constant).
pub fn column_medians(x: &Matrix) -> Vec<f64> {
    (0..x.cols)
        .map(|j| {
            let seen: Vec<f64> = x.column(j).into_iter().filter(|v| !v.is_nan()).collect();
            if seen.is_empty() {
                0.0
            } else {
                stats::median(&seen)
            }
        })
        .collect()
}

/// `x` with each `NaN` replaced by its column's fill value.
pub fn fill_gaps(x: &Matrix, fill: &[f64]) -> Matrix {
    let data = x
        .data
        .iter()
        .enumerate()
        .map(|(k, &v)| if v.is_nan() { fill[k % x.cols] } else { v })
        .collect();
    Matrix::new(x.rows, x.cols, data)
}

/// A linear model fitted on standardised predictors and target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearFit {
    /// Predictor standardisation (training rows).
    pub x_scaler: Standardizer,
    /// Training mean of the target.
    pub y_mean: f64,
    /// Training standard deviation of the target (1 if constant).
    pub y_scale: f64,
    /// Coefficients on the kept standardised predictors, in standardised-target units.
    pub coef: Vec<f64>,
    /// Intercept in standardised-target units.
    pub intercept: f64,
}

impl LinearFit {
    /// Coefficient of every input column in target units per one *raw* unit of the predictor;
    /// NaN for columns dropped as constant.
    pub fn coef_raw(&self) -> Vec<f64> {
        let mut out = vec![f64::NAN; self.x_scaler.mean.len()];
        for (k, &j) in self.x_scaler.keep.iter().enumerate() {
            out[j] = self.coef[k] * self.y_scale / self.x_scaler.scale[j];
        }
        out
    }

    /// Intercept in target units for raw predictors.
    pub fn intercept_raw(&self) -> f64 {
        let shift: f64 = self
            .x_scaler
            .keep
            .iter()
            .enumerate()
            .map(|(k, &j)| self.coef[k] * self.x_scaler.mean[j] / self.x_scaler.scale[j])
            .sum();
        self.y_mean + self.y_scale * (self.intercept - shift)
    }
}

impl Fitted {
    /// Predicts the target for every row of `x` (same columns as in training).
    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        self.try_predict(x)
            .expect("a fitted model predicts rows of its width")
    }

    /// [`Fitted::predict`], with an error instead of a panic when `x` does not have the columns
    /// the model was fitted on (for models read from a file).
    pub fn try_predict(&self, x: &Matrix) -> Result<Vec<f64>, String> {
        match self {
            Fitted::Imputed { medians, model } => {
                if medians.len() != x.cols {
                    return Err(format!(
                        "the imputer has {} fill values for {} input columns",
                        medians.len(),
                        x.cols
                    ));
                }
                model.try_predict(&fill_gaps(x, medians))
            }
            Fitted::Mean(m) => Ok(vec![*m; x.rows]),
            Fitted::Linear(l) => {
                let s = &l.x_scaler;
                if s.mean.len() != x.cols
                    || s.scale.len() != x.cols
                    || s.keep.len() != l.coef.len()
                    || s.keep.iter().any(|&j| j >= x.cols)
                {
                    return Err(format!(
                        "the linear model has {} means, {} scales, {} kept columns and {} coefficients for {} input columns",
                        s.mean.len(),
                        s.scale.len(),
                        s.keep.len(),
                        l.coef.len(),
                        x.cols
                    ));
                }
                // Row by row, each row standardised into a small buffer (no standardised copy of
                // the table); the products are added in column order from +0.0, so one row
                // scored alone gets the same bits as inside a batch.
                let mut z = vec![0.0; s.keep.len()];
                Ok((0..x.rows)
                    .map(|i| {
                        s.transform_row(x.row(i), &mut z);
                        let v = z.iter().zip(&l.coef).fold(0.0, |sum, (a, b)| sum + a * b);
                        l.y_mean + l.y_scale * (v + l.intercept)
                    })
                    .collect())
            }
            Fitted::Forest(f) => {
                let m = DenseMatrix::new(x.rows, x.cols, x.data.clone(), false)
                    .map_err(|e| e.to_string())?;
                // A forest read from a damaged file can hold node indices that make smartcore
                // index out of bounds: report that as an error, not a crash.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.predict(&m)))
                    .map_err(|_| "the forest's trees are inconsistent".to_string())?
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// The linear part, if the model is linear.
    pub fn linear(&self) -> Option<&LinearFit> {
        match self {
            Fitted::Linear(l) => Some(l),
            Fitted::Imputed { model, .. } => model.linear(),
            _ => None,
        }
    }
}

/// Fits `kind` on predictors `x` and target `y`. When `x` has gaps (`NaN`), they are filled
/// with the medians of these rows first and the result is a [`Fitted::Imputed`].
pub fn fit(kind: ModelKind, x: &Matrix, y: &[f64], opts: &FitOptions) -> Result<Fitted, FitError> {
    if x.rows == 0 || x.rows != y.len() {
        return Err(FitError::BadShape {
            rows: x.rows,
            targets: y.len(),
        });
    }
    if x.data.iter().any(|v| v.is_nan()) {
        let medians = column_medians(x);
        let model = fit(kind, &fill_gaps(x, &medians), y, opts)?;
        return Ok(Fitted::Imputed {
            medians,
            model: Box::new(model),
        });
    }
    let lib = |message: String| FitError::Library {
        model: kind,
        message,
    };
    match kind {
        ModelKind::Mean => Ok(Fitted::Mean(stats::mean(y))),
        ModelKind::Ridge | ModelKind::Lasso => {
            Ok(fit_path(kind, x, y, &[opts.penalty], opts.max_iterations)?
                .pop()
                .expect("one penalty, one fit"))
        }
        ModelKind::Ols => {
            let (x_scaler, y_mean, y_scale, t) = standardise(x, y);
            if x_scaler.keep.is_empty() {
                return Ok(Fitted::Linear(LinearFit {
                    x_scaler,
                    y_mean,
                    y_scale,
                    coef: vec![],
                    intercept: 0.0,
                }));
            }
            let (coef, intercept) = ols_qr(x, &x_scaler, t).map_err(|e| lib(e.to_string()))?;
            if coef.iter().any(|c| !c.is_finite()) || !intercept.is_finite() {
                return Err(lib("non-finite coefficients".into()));
            }
            Ok(Fitted::Linear(LinearFit {
                x_scaler,
                y_mean,
                y_scale,
                coef,
                intercept,
            }))
        }
        ModelKind::RandomForest => {
            let p = &opts.forest;
            let m =
                ((x.cols as f64 * p.max_features_share).ceil() as usize).clamp(1, x.cols.max(1));
            let mut params = RandomForestRegressorParameters::default()
                .with_n_trees(p.trees.max(1))
                .with_min_samples_leaf(p.min_samples_leaf.max(1))
                .with_m(m)
                .with_seed(opts.seed);
            if p.max_depth > 0 {
                params = params.with_max_depth(p.max_depth);
            }
            let xm = DenseMatrix::new(x.rows, x.cols, x.data.clone(), false)
                .map_err(|e| lib(e.to_string()))?;
            let f = RandomForestRegressor::fit(&xm, &y.to_vec(), params)
                .map_err(|e| lib(e.to_string()))?;
            Ok(Fitted::Forest(Box::new(f)))
        }
    }
}

/// Least squares with an intercept on the standardised kept columns of `x` and target `t`: what
/// linfa-linear's `LinearRegression` computes (the same QR solve of linfa-linalg on the same
/// column-major matrix `[Z, 1]`, so the same bits; a test compares them), with `[Z, 1]` written
/// once instead of built as `Z` and then copied beside a column of ones, and `t` moved in rather
/// than copied. Returns the coefficients and the intercept.
fn ols_qr(
    x: &Matrix,
    scaler: &Standardizer,
    t: Vec<f64>,
) -> Result<(Vec<f64>, f64), linfa_linalg::LinalgError> {
    use linfa_linalg::qr::LeastSquaresQrInto;
    let p = scaler.keep.len();
    let mut a = Array2::<f64>::zeros((x.rows, p + 1).f());
    for (k, &j) in scaler.keep.iter().enumerate() {
        for (i, v) in a.column_mut(k).iter_mut().enumerate() {
            *v = scaler.scaled(j, x.get(i, j));
        }
    }
    a.column_mut(p).fill(1.0);
    let b = Array1::from(t).insert_axis(Axis(1));
    let params = a.least_squares_into(b)?.remove_axis(Axis(1));
    Ok((params.slice(ndarray::s![..p]).to_vec(), params[p]))
}

/// The standardisation of a linear fit, fitted on these rows: the predictor scaler, the target's
/// mean and scale (1 if constant) and the standardised target. The standardised predictors are
/// left to the caller (row by row, [`Standardizer::transform_row`]).
fn standardise(x: &Matrix, y: &[f64]) -> (Standardizer, f64, f64, Vec<f64>) {
    let x_scaler = Standardizer::fit(x);
    let y_mean = stats::mean(y);
    let s = if y.len() < 2 { 0.0 } else { stats::sd(y) };
    let y_scale = if s > 0.0 { s } else { 1.0 };
    let t = y.iter().map(|v| (v - y_mean) / y_scale).collect();
    (x_scaler, y_mean, y_scale, t)
}

/// Fits Ridge or Lasso (`kind`) at every penalty of `penalties` (linfa's parametrisation on
/// standardised predictors and target, as [`FitOptions::penalty`]), returned in that order. The
/// rows are standardised (and gaps filled, as in [`fit`]) once and the penalties are fitted along
/// one warm-started path ([`crate::ml::penalised`]); each result equals [`fit`] at that penalty
/// (both are the optimum, to rounding). `max_iterations` bounds a Lasso fit's sweeps per penalty.
pub fn fit_path(
    kind: ModelKind,
    x: &Matrix,
    y: &[f64],
    penalties: &[f64],
    max_iterations: u32,
) -> Result<Vec<Fitted>, FitError> {
    let lib = |message: String| FitError::Library {
        model: kind,
        message,
    };
    if x.rows == 0 || x.rows != y.len() {
        return Err(FitError::BadShape {
            rows: x.rows,
            targets: y.len(),
        });
    }
    let l1_ratio = match kind {
        ModelKind::Ridge => 0.0,
        ModelKind::Lasso => 1.0,
        _ => return Err(lib("only Ridge and Lasso have a penalty path".into())),
    };
    if x.data.iter().any(|v| v.is_nan()) {
        let medians = column_medians(x);
        let fits = fit_path(kind, &fill_gaps(x, &medians), y, penalties, max_iterations)?;
        return Ok(fits
            .into_iter()
            .map(|model| Fitted::Imputed {
                medians: medians.clone(),
                model: Box::new(model),
            })
            .collect());
    }
    let (x_scaler, y_mean, y_scale, t) = standardise(x, y);
    let linear = |coef: Vec<f64>, intercept: f64| {
        Fitted::Linear(LinearFit {
            x_scaler: x_scaler.clone(),
            y_mean,
            y_scale,
            coef,
            intercept,
        })
    };
    if x_scaler.keep.is_empty() {
        return Ok(penalties.iter().map(|_| linear(vec![], 0.0)).collect());
    }
    // The Gram matrix of the standardised rows, each row standardised as the pass reaches it.
    Gram::from_rows(x_scaler.keep.len(), &t, |i, out| {
        x_scaler.transform_row(x.row(i), out)
    })
    .path(penalties, l1_ratio, max_iterations.max(1))
    .into_iter()
    .map(|s| {
        if s.coef.iter().any(|c| !c.is_finite()) || !s.intercept.is_finite() {
            return Err(lib("non-finite coefficients".into()));
        }
        Ok(linear(s.coef, s.intercept))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scaler and the Gram matrix, both summed row by row without copying a column, equal bit
    /// for bit what copied columns give: `stats::mean` and `stats::sd` per column, and dot
    /// products of the standardised columns (how both were computed before). Values with a large
    /// common offset make the rounding depend on the order of the additions, so a change of order
    /// fails here; one constant column checks that it is dropped.
    /// A linear model's prediction of one row is the same, bit for bit, alone or inside a batch,
    /// and equals the standardised row's products added in column order; with nine columns an
    /// eight-way unrolled dot product (ndarray's, on a contiguous row) would round differently.
    #[test]
    fn a_row_predicts_the_same_alone_and_in_a_batch() {
        use rand::Rng;
        let mut rng = crate::rng::stream(5, "predict");
        let (rows, cols) = (300, 9);
        let data: Vec<f64> = (0..rows * cols).map(|_| rng.gen_range(-1e3..1e3)).collect();
        let x = Matrix::new(rows, cols, data);
        let y: Vec<f64> = (0..rows)
            .map(|i| x.row(i).iter().sum::<f64>() + rng.gen_range(-1.0..1.0))
            .collect();
        let m = fit(ModelKind::Ols, &x, &y, &opts(0.0)).unwrap();
        let l = m.linear().unwrap();
        let batch = m.predict(&x);
        let mut z = vec![0.0; cols];
        for (i, b) in batch.iter().enumerate() {
            let alone = m.predict(&x.select_rows(&[i]));
            assert_eq!(alone[0].to_bits(), b.to_bits(), "row {i}");
            l.x_scaler.transform_row(x.row(i), &mut z);
            let mut v = 0.0;
            for (a, b) in z.iter().zip(&l.coef) {
                v += a * b;
            }
            let want = l.y_mean + l.y_scale * (v + l.intercept);
            assert_eq!(b.to_bits(), want.to_bits(), "row {i}");
        }
        assert_eq!(m.predict(&Matrix::new(0, cols, vec![])), Vec::<f64>::new());
    }

    /// The OLS solve built here gives linfa-linear's `LinearRegression` coefficients and
    /// intercept bit for bit (the same QR on the same matrix layout), on well-posed and nearly
    /// collinear columns; a singular design fails as linfa's does.
    #[test]
    fn ols_qr_equals_linfa_linear_regression_bit_for_bit() {
        use linfa::traits::Fit;
        use rand::Rng;
        let mut rng = crate::rng::stream(9, "ols-qr");
        for (rows, cols, collinear) in [
            (5, 1, false),
            (40, 3, false),
            (500, 6, true),
            (3000, 7, true),
        ] {
            let mut data: Vec<f64> = (0..rows * cols)
                .map(|_| rng.gen_range(-100.0..100.0))
                .collect();
            if collinear {
                for i in 0..rows {
                    data[i * cols + 1] = 2.0 * data[i * cols] + rng.gen_range(-1e-3..1e-3);
                }
            }
            let x = Matrix::new(rows, cols, data);
            let y: Vec<f64> = (0..rows)
                .map(|i| x.row(i).iter().sum::<f64>() + rng.gen_range(-5.0..5.0))
                .collect();
            let (scaler, _, _, t) = standardise(&x, &y);
            let m = linfa_linear::LinearRegression::new()
                .fit(&linfa::Dataset::new(
                    scaler.transform(&x),
                    Array1::from(t.clone()),
                ))
                .unwrap();
            let (coef, intercept) = ols_qr(&x, &scaler, t).unwrap();
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&coef), bits(&m.params().to_vec()), "{rows} × {cols}");
            assert_eq!(
                intercept.to_bits(),
                m.intercept().to_bits(),
                "{rows} × {cols}"
            );
        }
        // Two identical columns: linfa refuses, and so does this.
        let x = Matrix::new(4, 2, vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 5.0, 5.0]);
        let y = vec![1.0, 2.0, 2.5, 4.0];
        let (scaler, _, _, t) = standardise(&x, &y);
        let linfa_err = linfa_linear::LinearRegression::new()
            .fit(&linfa::Dataset::new(
                scaler.transform(&x),
                Array1::from(t.clone()),
            ))
            .map(|_| ())
            .map_err(|e| e.to_string());
        let ours = ols_qr(&x, &scaler, t)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(ours, linfa_err);
    }

    #[test]
    fn scaler_and_gram_from_rows_equal_column_copies() {
        use rand::Rng;
        let mut rng = crate::rng::stream(11, "scaler");
        for (rows, cols) in [(1, 3), (2, 1), (3, 2), (37, 4), (2000, 7)] {
            let mut data: Vec<f64> = (0..rows * cols)
                .map(|_| 1e6 + rng.gen_range(-50.0..50.0) + rng.r#gen::<f64>() * 1e-3)
                .collect();
            for i in 0..rows {
                data[i * cols] = 4.25;
            }
            let x = Matrix::new(rows, cols, data);
            let y: Vec<f64> = (0..rows).map(|_| rng.gen_range(0.0..1e4)).collect();
            let s = Standardizer::fit(&x);
            for j in 0..cols {
                let c = x.column(j);
                assert_eq!(s.mean[j].to_bits(), stats::mean(&c).to_bits());
                let sd = if rows < 2 { 0.0 } else { stats::sd(&c) };
                assert_eq!(s.scale[j].to_bits(), sd.to_bits());
            }
            assert!(!s.keep.contains(&0), "the constant column is dropped");
            assert_eq!(s.keep.len(), if rows < 2 { 0 } else { cols - 1 });

            let (_, _, _, t) = standardise(&x, &y);
            let p = s.keep.len();
            let g = Gram::from_rows(p, &t, |i, out| s.transform_row(x.row(i), out));
            let z = s.transform(&x);
            let cols_z: Vec<Vec<f64>> = (0..p).map(|k| z.column(k).to_vec()).collect();
            let t_mean = t.iter().sum::<f64>() / rows as f64;
            let tc: Vec<f64> = t.iter().map(|v| v - t_mean).collect();
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
            for j in 0..p {
                for k in 0..p {
                    let want = dot(&cols_z[j], &cols_z[k]);
                    assert_eq!(g.xtx[j * p + k].to_bits(), want.to_bits(), "({j}, {k})");
                }
                assert_eq!(g.xty[j].to_bits(), dot(&cols_z[j], &tc).to_bits());
            }
            assert_eq!(g.yy.to_bits(), dot(&tc, &tc).to_bits());
            assert_eq!(g.y_mean.to_bits(), t_mean.to_bits());
            assert_eq!(g, Gram::new(z.view(), &t));
        }
    }

    fn opts(penalty: f64) -> FitOptions {
        FitOptions {
            penalty,
            forest: ForestParams::default(),
            max_iterations: 1000,
            seed: 7,
        }
    }

    // A fixed 8×3 problem and its references: tests/reference/ml_regressors.py
    // (numpy `np.linalg.lstsq(np.hstack([X, ones]), y)` for OLS).
    fn reference() -> crate::test_fixtures::Reference {
        crate::test_fixtures::Reference::load("ml_regressors")
    }

    fn problem() -> (Matrix, Vec<f64>) {
        let r = reference();
        let rows = r.f64ss("/x");
        let x = Matrix::new(rows.len(), 3, rows.iter().flatten().copied().collect());
        (x, r.f64s("/y"))
    }

    #[test]
    fn ols_matches_numpy_lstsq() {
        let r = reference();
        let (x, y) = problem();
        let f = fit(ModelKind::Ols, &x, &y, &opts(0.0)).unwrap();
        let l = f.linear().unwrap();
        let want = r.f64s("/ols/coef");
        let intercept = r.f64("/ols/intercept");
        assert_eq!(l.coef_raw().len(), want.len());
        for (c, w) in l.coef_raw().iter().zip(&want) {
            assert!((c - w).abs() < 1e-9, "{c} vs {w}");
        }
        assert!((l.intercept_raw() - intercept).abs() < 1e-9);
        // Predictions agree with the raw-unit equation.
        let p = f.predict(&x);
        let manual = intercept + want[0] * 4.0 + want[1] * 3.0 + want[2] * 2.0;
        assert!((p[3] - manual).abs() < 1e-8);
    }

    #[test]
    fn ridge_shrinks_and_tiny_penalty_approaches_ols() {
        let (x, y) = problem();
        let norm = |f: &Fitted| f.linear().unwrap().coef.iter().map(|c| c * c).sum::<f64>();
        let ols = fit(ModelKind::Ols, &x, &y, &opts(0.0)).unwrap();
        let weak = fit(ModelKind::Ridge, &x, &y, &opts(1e-6)).unwrap();
        let strong = fit(ModelKind::Ridge, &x, &y, &opts(1.0)).unwrap();
        assert!(norm(&strong) < norm(&weak));
        for (a, b) in ols.predict(&x).iter().zip(weak.predict(&x)) {
            assert!((a - b).abs() < 1e-2, "{a} vs {b}");
        }
    }

    // Reference: tests/reference/ml_regressors.py — numpy, Z and t standardised with ddof=1,
    // w = solve(ZᵀZ + n·λ·I, Zᵀt) rescaled to raw units, cross-checked there against
    // scikit-learn `Ridge(alpha=n·λ)` on Z, t.
    #[test]
    fn ridge_matches_the_closed_form() {
        let r = reference();
        let (x, y) = problem();
        let cases = r.get("/ridge").as_array().unwrap().len();
        assert!(cases >= 2);
        for i in 0..cases {
            let penalty = r.f64(&format!("/ridge/{i}/penalty"));
            let want = r.f64s(&format!("/ridge/{i}/coef"));
            let intercept = r.f64(&format!("/ridge/{i}/intercept"));
            let f = fit(ModelKind::Ridge, &x, &y, &opts(penalty)).unwrap();
            let l = f.linear().unwrap();
            for (c, w) in l.coef_raw().iter().zip(want) {
                assert!((c - w).abs() < 1e-9, "penalty {penalty}: {c} vs {w}");
            }
            assert!((l.intercept_raw() - intercept).abs() < 1e-9);
        }
    }

    #[test]
    fn path_fits_equal_single_fits_and_fill_gaps_the_same_way() {
        let (x, y) = problem();
        let grid = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0];
        for kind in [ModelKind::Lasso, ModelKind::Ridge] {
            let path = fit_path(kind, &x, &y, &grid, 100_000).unwrap();
            for (f, &p) in path.iter().zip(&grid) {
                let single = fit(kind, &x, &y, &opts(p)).unwrap();
                let (a, b) = (f.linear().unwrap(), single.linear().unwrap());
                for (u, v) in a.coef.iter().zip(&b.coef) {
                    assert!((u - v).abs() < 1e-9, "{kind:?} at {p}: {u} vs {v}");
                }
            }
        }
        // With a gap, every fit of the path fills it with the training median, as `fit` does.
        let mut holey = x.clone();
        holey.data[4] = f64::NAN;
        let path = fit_path(ModelKind::Lasso, &holey, &y, &grid, 1000).unwrap();
        let single = fit(ModelKind::Lasso, &holey, &y, &opts(grid[2])).unwrap();
        assert!(matches!(path[2], Fitted::Imputed { .. }));
        for (a, b) in path[2].predict(&holey).iter().zip(single.predict(&holey)) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        assert!(fit_path(ModelKind::Ols, &x, &y, &grid, 10).is_err());
    }

    #[test]
    fn constant_columns_are_dropped_not_fatal() {
        let x = Matrix::new(4, 2, vec![1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 4.0, 5.0]);
        let y = [2.0, 4.0, 6.0, 8.0];
        let f = fit(ModelKind::Ols, &x, &y, &opts(0.0)).unwrap();
        let c = f.linear().unwrap().coef_raw();
        assert!((c[0] - 2.0).abs() < 1e-9 && c[1].is_nan());
        assert!((f.predict(&x)[2] - 6.0).abs() < 1e-9);
    }

    #[test]
    fn forest_is_seeded_and_fits() {
        let (x, y) = problem();
        let a = fit(ModelKind::RandomForest, &x, &y, &opts(0.0))
            .unwrap()
            .predict(&x);
        let b = fit(ModelKind::RandomForest, &x, &y, &opts(0.0))
            .unwrap()
            .predict(&x);
        assert_eq!(a, b);
        assert!(crate::ml::metrics::r2(&y, &a) > 0.5);
    }
}
