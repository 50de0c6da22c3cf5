//! Elastic-net least squares (Lasso, Ridge and mixtures) fitted along a penalty path: the
//! solver behind [`crate::ml::regressors`]' Ridge and Lasso.
//!
//! linfa-elasticnet 0.8 fits one penalty at a time from zero coefficients (no warm start, no
//! path), and its coordinate descent walks the rows on every update; on near-collinear columns a
//! Lasso fit needs hundreds of sweeps and stops at a loose duality gap. Here the same objective,
//! in linfa's parametrisation,
//!
//! ```text
//! 1/(2n)·‖y − ȳ − Xw‖² + λ·(l1·‖w‖₁ + (1 − l1)/2·‖w‖²)
//! ```
//!
//! (linfa centres `y` and leaves `X` as it is; the analysis passes standardised, hence centred,
//! columns) is solved from the problem's Gram matrix `XᵀX` and `Xᵀ(y − ȳ)`, built once per
//! training set, so one coordinate sweep costs `p²` instead of `n·p`. Every few sweeps the
//! solver also solves the optimality conditions exactly on the current non-zero coefficients
//! and their signs (a Newton step on the active set); the result is kept when its duality gap
//! is smaller. Fits stop when the duality gap is below [`TOLERANCE`] × ‖y − ȳ‖², which the exact
//! active-set step reaches in a few sweeps, so the coefficients are the optimum to rounding, not
//! a loosely converged point. A path fits its penalties from the largest down, each
//! warm-started from the previous solution (as glmnet and scikit-learn's `lasso_path` do).
//!
//! Mapping to scikit-learn: `Lasso(alpha = λ)`, `ElasticNet(alpha = λ, l1_ratio = l1)` and
//! `lasso_path`/`enet_path` with the same alphas minimise the same function (their objective is
//! also divided by `n`); scikit-learn's `Ridge` minimises `‖y − Xw‖² + α‖w‖²`, so it matches
//! `l1 = 0` at `α = n·λ`. Tested against all three (tests/reference/ml_penalised.py).

use linfa_linalg::cholesky::SolveCInplace;
use ndarray::{Array2, ArrayView2};

/// Duality gap, relative to ‖y − ȳ‖², at which a fit counts as converged.
pub const TOLERANCE: f64 = 1e-12;

/// Coordinate sweeps between two exact active-set steps.
const SWEEPS_PER_NEWTON: u32 = 2;

/// The sufficient statistics of a least-squares problem: everything a fit at any penalty needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Gram {
    /// Rows of the problem.
    pub n: usize,
    /// Columns of the problem.
    pub p: usize,
    /// `XᵀX`, row-major `p × p`.
    pub xtx: Vec<f64>,
    /// `Xᵀ(y − ȳ)`.
    pub xty: Vec<f64>,
    /// `‖y − ȳ‖²`.
    pub yy: f64,
    /// `ȳ`, the intercept (the model predicts `ȳ + x·w`).
    pub y_mean: f64,
}

/// One solution of the path.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// The penalty λ.
    pub penalty: f64,
    /// Coefficients, one per column.
    pub coef: Vec<f64>,
    /// Intercept (`ȳ`).
    pub intercept: f64,
    /// Duality gap at the end (for `l1 = 0`, the bound `‖∇f‖² / (2·n·λ)` on the suboptimality).
    pub gap: f64,
    /// Coordinate sweeps used.
    pub sweeps: u32,
    /// Whether the gap fell below [`TOLERANCE`] × ‖y − ȳ‖² within the sweep budget.
    pub converged: bool,
}

impl Gram {
    /// The statistics of predictors `x` (`n × p`, any memory layout) and target `y`.
    pub fn new(x: ArrayView2<f64>, y: &[f64]) -> Gram {
        let (n, p) = x.dim();
        assert_eq!(n, y.len(), "predictors and target differ in length");
        Gram::from_rows(p, y, |i, out| {
            for (o, v) in out.iter_mut().zip(x.row(i)) {
                *o = *v;
            }
        })
    }

    /// The statistics of `y.len()` rows of `p` predictors that need not exist as a matrix:
    /// `row(i, buf)` writes row `i` into `buf` when the single pass over the rows reaches it (a
    /// standardised row computed on the fly, say). Every sum adds its terms in row order, as a
    /// dot product of two copied columns would, so the result is the same to the last bit.
    pub fn from_rows(p: usize, y: &[f64], mut row: impl FnMut(usize, &mut [f64])) -> Gram {
        let n = y.len();
        let y_mean = if n == 0 {
            0.0
        } else {
            y.iter().sum::<f64>() / n as f64
        };
        let zero = crate::stats::sum_start();
        let mut xtx = vec![zero; p * p];
        let mut xty = vec![zero; p];
        let mut yy = zero;
        let mut buf = vec![0.0; p];
        for (i, &yi) in y.iter().enumerate() {
            row(i, &mut buf);
            let yc = yi - y_mean;
            for (j, &a) in buf.iter().enumerate() {
                for (s, &b) in xtx[j * p + j..(j + 1) * p].iter_mut().zip(&buf[j..]) {
                    *s += a * b;
                }
                xty[j] += a * yc;
            }
            yy += yc * yc;
        }
        for j in 0..p {
            for k in j + 1..p {
                xtx[k * p + j] = xtx[j * p + k];
            }
        }
        Gram {
            n,
            p,
            xtx,
            xty,
            yy,
            y_mean,
        }
    }

    /// The smallest Lasso penalty (`l1_ratio` 1) at which every coefficient is zero:
    /// `max |Xᵀ(y − ȳ)| / n`.
    pub fn lambda_max(&self) -> f64 {
        self.xty.iter().fold(0.0, |m: f64, v| m.max(v.abs())) / self.n.max(1) as f64
    }

    fn g(&self, j: usize, k: usize) -> f64 {
        self.xtx[j * self.p + k]
    }

    /// `Xᵀr − l2·w` with `r = y − ȳ − Xw`, and `‖r‖²`, `rᵀ(y − ȳ)`.
    fn residual_stats(&self, w: &[f64], l2: f64) -> (Vec<f64>, f64, f64) {
        let p = self.p;
        let gw: Vec<f64> = (0..p)
            .map(|j| (0..p).map(|k| self.g(j, k) * w[k]).sum())
            .collect();
        let wc: f64 = w.iter().zip(&self.xty).map(|(a, b)| a * b).sum();
        let wgw: f64 = w.iter().zip(&gw).map(|(a, b)| a * b).sum();
        let xtr_l2 = (0..p).map(|j| self.xty[j] - gw[j] - l2 * w[j]).collect();
        ((xtr_l2), (self.yy - 2.0 * wc + wgw).max(0.0), self.yy - wc)
    }

    /// The duality gap of `w` for the objective multiplied by `n` (the formula of linfa and
    /// scikit-learn); for `l1 = 0` the bound `‖∇‖² / (2·l2)` (strong convexity), since that dual
    /// gap degenerates to the primal objective there.
    fn gap(&self, w: &[f64], l1: f64, l2: f64) -> f64 {
        let (xta, r2, ry) = self.residual_stats(w, l2);
        if l1 <= 0.0 {
            return if l2 > 0.0 {
                xta.iter().map(|v| v * v).sum::<f64>() / (2.0 * l2)
            } else {
                f64::INFINITY
            };
        }
        let dual_norm = xta.iter().fold(0.0, |m: f64, v| m.max(v.abs()));
        let (c, mut gap) = if dual_norm > l1 {
            let c = l1 / dual_norm;
            (c, 0.5 * (r2 + r2 * c * c))
        } else {
            (1.0, r2)
        };
        let l1_norm: f64 = w.iter().map(|v| v.abs()).sum();
        let w2: f64 = w.iter().map(|v| v * v).sum();
        gap += l1 * l1_norm - c * ry + 0.5 * l2 * (1.0 + c * c) * w2;
        gap
    }

    /// One cyclic coordinate-descent sweep (linfa's update, on the Gram matrix).
    fn sweep(&self, w: &mut [f64], l1: f64, l2: f64) {
        let p = self.p;
        for j in 0..p {
            let gjj = self.g(j, j);
            if gjj.abs() <= f64::EPSILON {
                continue;
            }
            let mut tmp = self.xty[j] + gjj * w[j];
            for (k, wk) in w.iter().enumerate() {
                tmp -= self.g(j, k) * wk;
            }
            w[j] = tmp.signum() * (tmp.abs() - l1).max(0.0) / (gjj + l2);
        }
    }

    /// The exact minimiser on the active set of `w` with its signs fixed:
    /// `(G_AA + l2·I) v = Xᵀ_A(y − ȳ) − l1·sign(w_A)`, zero elsewhere; `None` when the system
    /// is singular or a coefficient changes sign (the active set or signs were not final).
    fn newton(&self, w: &[f64], l1: f64, l2: f64) -> Option<Vec<f64>> {
        let active: Vec<usize> = (0..self.p)
            .filter(|&j| w[j] != 0.0 || (l1 <= 0.0 && self.g(j, j) > f64::EPSILON))
            .collect();
        let mut out = vec![0.0; self.p];
        if active.is_empty() {
            return Some(out);
        }
        let m = active.len();
        let mut a = Array2::from_shape_fn((m, m), |(i, k)| {
            self.g(active[i], active[k]) + if i == k { l2 } else { 0.0 }
        });
        let mut b = Array2::from_shape_fn((m, 1), |(i, _)| {
            let j = active[i];
            self.xty[j] - l1 * w[j].signum()
        });
        a.solvec_inplace(&mut b).ok()?;
        for (i, &j) in active.iter().enumerate() {
            let v = b[[i, 0]];
            if !v.is_finite() || (l1 > 0.0 && v * w[j] <= 0.0) {
                return None;
            }
            out[j] = v;
        }
        Some(out)
    }

    /// Replaces `w` (with duality gap `gap`) by its exact active-set solution when that has
    /// the smaller gap.
    fn try_newton(&self, w: &mut Vec<f64>, gap: &mut f64, l1: f64, l2: f64) {
        if let Some(v) = self.newton(w, l1, l2) {
            let g = self.gap(&v, l1, l2);
            if g < *gap {
                (*w, *gap) = (v, g);
            }
        }
    }

    /// Minimises the objective at `penalty` and `l1_ratio` starting from `start` (a warm start;
    /// zeros for a cold one), with at most `max_sweeps` coordinate sweeps.
    pub fn solve(&self, penalty: f64, l1_ratio: f64, start: &[f64], max_sweeps: u32) -> Solution {
        assert_eq!(start.len(), self.p, "warm start of the wrong length");
        let n = self.n as f64;
        let (l1, l2) = (n * penalty * l1_ratio, n * penalty * (1.0 - l1_ratio));
        let tol = TOLERANCE * self.yy;
        let mut w = start.to_vec();
        let mut gap = self.gap(&w, l1, l2);
        let mut sweeps = 0;
        // A start that is already optimal (zero at a large penalty, or the previous solution)
        // costs no sweep.
        if l1 <= 0.0 {
            self.try_newton(&mut w, &mut gap, l1, l2);
        }
        while gap > tol && sweeps < max_sweeps {
            self.sweep(&mut w, l1, l2);
            sweeps += 1;
            gap = self.gap(&w, l1, l2);
            if gap > tol && sweeps % SWEEPS_PER_NEWTON == 0 {
                self.try_newton(&mut w, &mut gap, l1, l2);
            }
        }
        Solution {
            penalty,
            coef: w,
            intercept: self.y_mean,
            gap: gap / n.max(1.0),
            sweeps,
            converged: gap <= tol,
        }
    }

    /// Solutions at every penalty of `penalties` (any order; returned in that order), fitted
    /// from the largest penalty down, each warm-started from the previous solution, with at most
    /// `max_sweeps` sweeps per penalty.
    pub fn path(&self, penalties: &[f64], l1_ratio: f64, max_sweeps: u32) -> Vec<Solution> {
        let mut order: Vec<usize> = (0..penalties.len()).collect();
        order.sort_by(|&a, &b| penalties[b].total_cmp(&penalties[a]));
        let mut w = vec![0.0; self.p];
        let mut out: Vec<Option<Solution>> = vec![None; penalties.len()];
        for i in order {
            let s = self.solve(penalties[i], l1_ratio, &w, max_sweeps);
            w.clone_from(&s.coef);
            out[i] = Some(s);
        }
        out.into_iter()
            .map(|s| s.expect("every penalty solved"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::traits::Fit;
    use ndarray::Array2;

    fn reference() -> crate::test_fixtures::Reference {
        crate::test_fixtures::Reference::load("ml_penalised")
    }

    fn raw() -> (Array2<f64>, Vec<f64>) {
        let r = reference();
        let rows = r.f64ss("/x");
        let p = rows[0].len();
        let x = Array2::from_shape_vec((rows.len(), p), rows.concat()).unwrap();
        (x, r.f64s("/y"))
    }

    /// The fixed problem with its columns centred (as standardised columns are).
    fn centred() -> (Array2<f64>, Vec<f64>) {
        let (x, y) = raw();
        let mean = x.mean_axis(ndarray::Axis(0)).unwrap();
        (&x - &mean, y)
    }

    fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        for (u, v) in a.iter().zip(b) {
            assert!(
                (u - v).abs() <= tol * (1.0 + v.abs()),
                "{what}: {u} vs {v} ({a:?} vs {b:?})"
            );
        }
    }

    #[test]
    fn lasso_and_elastic_net_paths_match_scikit_learn() {
        let r = reference();
        let (x, y) = centred();
        let g = Gram::new(x.view(), &y);
        let alphas = r.f64s("/path/alphas");
        for (l1, key) in [(1.0, "lasso"), (0.5, "enet_l1_0.5")] {
            let want = r.f64ss(&format!("/path/{key}"));
            let path = g.path(&alphas, l1, 100_000);
            for (s, w) in path.iter().zip(&want) {
                assert!(s.converged, "{key} at {}: gap {}", s.penalty, s.gap);
                close(&s.coef, w, 1e-6, &format!("{key} at {}", s.penalty));
            }
            // Above λ_max every Lasso coefficient is zero, found without a sweep.
            if l1 == 1.0 {
                assert!(path[0].coef.iter().all(|&c| c == 0.0));
                assert_eq!(path[0].sweeps, 0);
                assert!((alphas[1] - g.lambda_max()).abs() < 1e-9 * alphas[1]);
            }
        }
    }

    #[test]
    fn ridge_matches_scikit_learn_at_n_times_the_penalty() {
        let r = reference();
        let (x, y) = centred();
        let g = Gram::new(x.view(), &y);
        let penalties = r.f64s("/ridge/penalties");
        let want = r.f64ss("/ridge/coefs");
        for (s, w) in g.path(&penalties, 0.0, 1000).iter().zip(&want) {
            assert!(s.converged && s.sweeps == 0, "closed form: {s:?}");
            close(&s.coef, w, 1e-9, &format!("ridge at {}", s.penalty));
        }
    }

    #[test]
    fn warm_started_path_equals_cold_single_fits_and_converged_linfa() {
        let (x, y) = centred();
        let g = Gram::new(x.view(), &y);
        let grid = [3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0];
        for l1 in [1.0, 0.5, 0.0] {
            let path = g.path(&grid, l1, 100_000);
            for s in &path {
                let cold = g.solve(s.penalty, l1, &[0.0; 5], 100_000);
                close(&s.coef, &cold.coef, 1e-9, "warm vs cold");
                // linfa-elasticnet on the same data, run to a tight tolerance: the same objective.
                let m = linfa_elasticnet::ElasticNet::params()
                    .penalty(s.penalty)
                    .l1_ratio(l1)
                    .tolerance(1e-14)
                    .max_iterations(1_000_000)
                    .fit(&linfa::Dataset::new(
                        x.clone(),
                        ndarray::Array1::from(y.clone()),
                    ))
                    .unwrap();
                close(
                    &s.coef,
                    m.hyperplane().as_slice().unwrap(),
                    1e-6,
                    &format!("linfa at {} (l1 {l1})", s.penalty),
                );
                assert!((s.intercept - m.intercept()).abs() < 1e-9);
            }
            // The warm start saves work: the whole path costs fewer sweeps than cold fits.
            if l1 > 0.0 {
                let warm: u32 = path.iter().map(|s| s.sweeps).sum();
                let cold: u32 = grid
                    .iter()
                    .map(|&p| g.solve(p, l1, &[0.0; 5], 100_000).sweeps)
                    .sum();
                assert!(warm <= cold, "warm {warm} vs cold {cold} sweeps");
            }
        }
    }

    /// LassoCV's protocol on fixed folds: centre each training fold (its intercept), fit the
    /// path, score the validation rows; the penalty with the least mean MSE, refitted on all rows.
    #[test]
    #[allow(clippy::needless_range_loop)] // fold f indexes rows' folds and the reference's MSE
    fn cross_validated_penalty_matches_lasso_cv() {
        let r = reference();
        let (x, y) = raw();
        let fold_of = r.usizes("/lasso_cv/fold_of");
        let alphas = r.f64s("/lasso_cv/alphas_desc");
        let want_mse = r.f64ss("/lasso_cv/mse");
        let centred_fit = |rows: &[usize]| {
            let xs = x.select(ndarray::Axis(0), rows);
            let mean = xs.mean_axis(ndarray::Axis(0)).unwrap();
            let ys: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
            (Gram::new((&xs - &mean).view(), &ys), mean)
        };
        let folds = fold_of.iter().max().unwrap() + 1;
        let mut mean_mse = vec![0.0; alphas.len()];
        for f in 0..folds {
            let train: Vec<usize> = (0..y.len()).filter(|&i| fold_of[i] != f).collect();
            let test: Vec<usize> = (0..y.len()).filter(|&i| fold_of[i] == f).collect();
            let (g, mean) = centred_fit(&train);
            for (k, s) in g.path(&alphas, 1.0, 100_000).iter().enumerate() {
                let mse = test
                    .iter()
                    .map(|&i| {
                        let xi = &x.row(i) - &mean;
                        let pred = s.intercept + xi.dot(&ndarray::Array1::from(s.coef.clone()));
                        (y[i] - pred).powi(2)
                    })
                    .sum::<f64>()
                    / test.len() as f64;
                close(&[mse], &[want_mse[k][f]], 1e-6, "validation MSE");
                mean_mse[k] += mse / folds as f64;
            }
        }
        let best = (0..alphas.len())
            .min_by(|&a, &b| mean_mse[a].total_cmp(&mean_mse[b]))
            .unwrap();
        assert_eq!(alphas[best], r.f64("/lasso_cv/alpha"));
        let all: Vec<usize> = (0..y.len()).collect();
        let (g, mean) = centred_fit(&all);
        let s = g.solve(alphas[best], 1.0, &[0.0; 5], 100_000);
        close(&s.coef, &r.f64s("/lasso_cv/coef"), 1e-6, "LassoCV coef_");
        let intercept = s.intercept - mean.dot(&ndarray::Array1::from(s.coef.clone()));
        close(
            &[intercept],
            &[r.f64("/lasso_cv/intercept")],
            1e-6,
            "LassoCV intercept_",
        );
    }
}
