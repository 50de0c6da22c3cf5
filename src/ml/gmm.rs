//! A full-covariance Gaussian mixture fitted exactly as linfa-clustering 0.8's
//! `GaussianMixtureModel` fits one with its defaults (k-means initialisation, one EM run), bit for
//! bit, but with the initialisation's k-means on flat rows and vector loops.
//!
//! linfa initialises the responsibilities from its own k-means (ten k-means++ runs of Lloyd's
//! "m_k-means" variant, the lowest inertia kept) and spends most of a mixture fit there: a profile
//! of a million-row build put 13 % of all CPU time in that k-means, per row and centroid through
//! ndarray views. This module runs the same arithmetic in the same order on plain slices (the
//! distances of eight rows at a time through [`crate::ml::nearest`]'s vector loops) — the same
//! k-means++ draws from the same random stream (rand's `WeightedIndex`), the same squared distances
//! summed dimension by dimension, the same centroid sums with the old centroid counted as one more
//! member, the same convergence test and inertia sum (ndarray's own `sum`) — and then runs EM with
//! the same ndarray operations as linfa, on arrays of the same shapes and layouts, so every float
//! comes out the same. `tests/gmm_exact.rs` compares whole fits with linfa's on many tables.
//! Errors are linfa's own `GmmError` values with linfa's messages; where linfa would panic (a NaN
//! responsibility in its `predict`), [`Mixture::predict`] returns `None` instead, and where its
//! k-means++ weights sum to +∞, [`fit`] returns an error.

use linfa_clustering::{GmmError, KMeansError};
use linfa_linalg::{cholesky::*, triangular::*};
use ndarray::{Array, Array1, Array2, Array3, ArrayView1, Axis, Zip, s};
use rand::Rng;
use rand::distributions::{Distribution, WeightedIndex};

use crate::ml::nearest::{self, Flat};

/// linfa-clustering's k-means defaults, which its mixture's initialisation uses.
const KMEANS_RUNS: usize = 10;
const KMEANS_TOLERANCE: f64 = 1e-4;
const KMEANS_MAX_ITERATIONS: usize = 300;

/// A fitted mixture: what linfa's `GaussianMixtureModel` would hold after the same fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    /// Component weights (sum 1).
    pub weights: Array1<f64>,
    /// Component means, one row per component.
    pub means: Array2<f64>,
    /// Component covariance matrices (`k × d × d`), the regularisation on their diagonals.
    pub covariances: Array3<f64>,
    /// Cholesky factors of the precision matrices, as linfa keeps them.
    precisions_chol: Array3<f64>,
}

/// EM settings (linfa's `reg_covariance`, `tolerance` and `max_n_iterations`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixtureParams {
    /// Number of components.
    pub k: usize,
    /// Added to every covariance diagonal.
    pub reg_covar: f64,
    /// EM stops when the mean log-likelihood moves by less than this.
    pub tolerance: f64,
    /// EM iteration cap; not converging by then is an error, as in linfa.
    pub max_iterations: u64,
}

/// Squared Euclidean distance summed dimension by dimension from zero (ndarray-stats'
/// `sq_l2_dist`, which linfa's `L2Dist::rdistance` calls; `(a − b)²` equals `(b − a)²` exactly).
#[inline(always)]
fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        let d = x - y;
        s += d * d;
    }
    s
}

/// linfa's `closest_centroid`: the first centroid's distance is the start, and a later one
/// replaces it only when strictly smaller (so a NaN start is never replaced).
#[inline(always)]
fn closest(row: &[f64], centroids: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, sq_dist(&centroids[..d], row));
    for (j, c) in centroids.chunks_exact(d).enumerate() {
        let dist = sq_dist(c, row);
        if dist < best.1 {
            best = (j, dist);
        }
    }
    best
}

/// Every row's nearest centroid (flat, `d` values each) and its squared distance, as linfa's
/// [`closest`] gives them. With `rows` (only built for finite values) the vector loops of
/// [`nearest::nearest_all`] do it: for finite distances "first strictly smaller one wins from
/// centroid 0's distance" and "first minimum" are the same choice, and each distance is summed in
/// the same order from +0.0 (`(a − b)²` equals `(b − a)²` exactly), so the bits are the same.
/// Without it (a NaN or infinite value, where linfa keeps centroid 0 for a NaN start), the
/// one-row loop runs.
#[inline(always)]
fn assign<const D: usize>(
    rows: Option<&Flat>,
    x: &[f64],
    d: usize,
    centroids: &[f64],
    members: &mut [usize],
    dists: &mut [f64],
) {
    match rows {
        Some(rows) => nearest::nearest_all::<D>(rows, centroids, members, dists),
        None => {
            for (i, (m, dist)) in members.iter_mut().zip(dists.iter_mut()).enumerate() {
                (*m, *dist) = closest(&x[i * d..(i + 1) * d], centroids, d);
            }
        }
    }
}

/// linfa's k-means++ seeding with unit weights: the first centre drawn by `WeightedIndex` over
/// ones, each next one over the squared distance to the nearest centre chosen so far (index 0
/// when every distance is zero). Distances whose sum overflows to +∞ (values near the largest
/// f64), where linfa's `WeightedIndex` panics, are an error.
fn kmeans_plus_plus<const D: usize, R: Rng>(
    rows: Option<&Flat>,
    x: &[f64],
    (n, d, k): (usize, usize, usize),
    rng: &mut R,
    members: &mut [usize],
) -> Result<Vec<f64>, GmmError> {
    let mut centroids = vec![0.0; k * d];
    let ones = vec![1.0f64; n];
    let first = WeightedIndex::new(ones.iter())
        .expect("unit weights are valid")
        .sample(rng);
    centroids[..d].copy_from_slice(&x[first * d..(first + 1) * d]);
    let mut dists = vec![0.0f64; n];
    for c in 1..k {
        assign::<D>(rows, x, d, &centroids[..c * d], members, &mut dists);
        if dists.iter().all(|w| *w >= 0.0) && dists.iter().sum::<f64>() == f64::INFINITY {
            return Err(GmmError::InvalidValue(
                "the squared distances between rows overflow: values too large for a mixture"
                    .to_string(),
            ));
        }
        let idx = WeightedIndex::new(dists.iter()).map_or(0, |w| w.sample(rng));
        centroids[c * d..(c + 1) * d].copy_from_slice(&x[idx * d..(idx + 1) * d]);
    }
    Ok(centroids)
}

/// linfa-clustering's k-means fit with its defaults and the memberships its `predict` gives for
/// the kept centroids.
fn kmeans_memberships<R: Rng + Clone>(
    x: &[f64],
    n: usize,
    d: usize,
    k: usize,
    rng: &R,
) -> Result<Vec<usize>, GmmError> {
    let flat = x
        .iter()
        .all(|v| v.is_finite())
        .then(|| Flat::from_rows(x, d));
    let rows = flat.as_ref();
    // Compiled once per small width, so the distance loop is unrolled (the same arithmetic).
    match d {
        2 => kmeans_memberships_in::<2, R>(rows, x, (n, d, k), rng),
        3 => kmeans_memberships_in::<3, R>(rows, x, (n, d, k), rng),
        4 => kmeans_memberships_in::<4, R>(rows, x, (n, d, k), rng),
        5 => kmeans_memberships_in::<5, R>(rows, x, (n, d, k), rng),
        6 => kmeans_memberships_in::<6, R>(rows, x, (n, d, k), rng),
        _ => kmeans_memberships_in::<0, R>(rows, x, (n, d, k), rng),
    }
}

fn kmeans_memberships_in<const D: usize, R: Rng + Clone>(
    rows: Option<&Flat>,
    x: &[f64],
    (n, d, k): (usize, usize, usize),
    rng: &R,
) -> Result<Vec<usize>, GmmError> {
    let mut rng = rng.clone();
    let mut best: Option<Vec<f64>> = None;
    let mut min_inertia = f64::INFINITY;
    let mut dists = vec![0.0f64; n];
    let mut members = vec![0usize; n];
    for _ in 0..KMEANS_RUNS {
        let mut centroids = kmeans_plus_plus::<D, R>(rows, x, (n, d, k), &mut rng, &mut members)?;
        let mut iterations = 0;
        let inertia = loop {
            assign::<D>(rows, x, d, &centroids, &mut members, &mut dists);
            // Sums from zero in row order, then the old centroid as one more member, then the
            // division by the count (which starts at one for that old centroid).
            let mut sums = vec![0.0f64; k * d];
            let mut counts = vec![1usize; k];
            for (i, &m) in members.iter().enumerate() {
                for t in 0..d {
                    sums[m * d + t] += x[i * d + t];
                }
                counts[m] += 1;
            }
            for (s, c) in sums.iter_mut().zip(&centroids) {
                *s += *c;
            }
            for (j, &cnt) in counts.iter().enumerate() {
                for s in &mut sums[j * d..(j + 1) * d] {
                    *s /= cnt as f64;
                }
            }
            let moved = sq_dist(&centroids, &sums).sqrt();
            centroids = sums;
            iterations += 1;
            if moved < KMEANS_TOLERANCE || iterations == KMEANS_MAX_ITERATIONS {
                break ArrayView1::from(&dists[..]).sum();
            }
        };
        if inertia < min_inertia {
            min_inertia = inertia;
            best = Some(centroids);
        }
    }
    let centroids = best.ok_or(KMeansError::InertiaError)?;
    assign::<D>(rows, x, d, &centroids, &mut members, &mut dists);
    Ok(members)
}

/// Weights (unnormalised), means and covariances from responsibilities (linfa's
/// `estimate_gaussian_parameters`, full covariances).
fn gaussian_parameters(
    x: &Array2<f64>,
    resp: &Array2<f64>,
    reg_covar: f64,
) -> Result<(Array1<f64>, Array2<f64>, Array3<f64>), GmmError> {
    use ndarray_stats::QuantileExt;
    let nk = resp.sum_axis(Axis(0));
    if nk.min()? < &(10.0 * f64::EPSILON) {
        return Err(GmmError::EmptyCluster(format!(
            "Cluster #{} has no more point. Consider decreasing number of clusters or change initialization.",
            nk.argmin()? + 1
        )));
    }
    let nk2 = nk.to_owned().insert_axis(Axis(1));
    let means = resp.t().dot(x) / nk2;
    let (k, d) = (means.nrows(), means.ncols());
    let mut covariances = Array::zeros((k, d, d));
    for j in 0..k {
        let diff = x - &means.row(j);
        let m = &diff.t() * &resp.index_axis(Axis(1), j);
        let mut cov = m.dot(&diff) / nk[j];
        cov.diag_mut().mapv_inplace(|v| v + reg_covar);
        covariances.slice_mut(s![j, .., ..]).assign(&cov);
    }
    Ok((nk, means, covariances))
}

/// Cholesky factors of the precisions (linfa's `compute_precisions_cholesky_full`).
fn precisions_cholesky(covariances: &Array3<f64>) -> Result<Array3<f64>, GmmError> {
    let (k, d) = (covariances.shape()[0], covariances.shape()[1]);
    let mut out = Array::zeros((k, d, d));
    for (j, cov) in covariances.outer_iter().enumerate() {
        let sol = {
            let decomp = cov.cholesky()?;
            decomp.solve_triangular_into(Array::eye(d), UPLO::Lower)?
        };
        out.slice_mut(s![j, .., ..]).assign(&sol.t());
    }
    Ok(out)
}

impl Mixture {
    /// Per row and component, `log w_k + log N(x | μ_k, Σ_k)` (linfa's
    /// `estimate_weighted_log_prob`).
    fn weighted_log_prob(&self, x: &Array2<f64>) -> Array2<f64> {
        let (n, d) = x.dim();
        let k = self.means.nrows();
        let log_det = self
            .precisions_chol
            .to_owned()
            .into_shape_with_order((k, d * d))
            .expect("k × d × d values")
            .slice(s![.., ..; d + 1])
            .to_owned()
            .mapv(|v| v.ln())
            .sum_axis(Axis(1));
        let mut log_prob: Array2<f64> = Array::zeros((n, k));
        Zip::indexed(self.means.rows())
            .and(self.precisions_chol.outer_iter())
            .for_each(|j, mu, prec_chol| {
                let diff = (&x.to_owned() - &mu).dot(&prec_chol);
                log_prob
                    .slice_mut(s![.., j])
                    .assign(&diff.mapv(|v| v * v).sum_axis(Axis(1)))
            });
        let log_gauss =
            log_prob.mapv(|v| -0.5 * (v + d as f64 * f64::ln(2. * std::f64::consts::PI))) + log_det;
        log_gauss + self.weights.mapv(|w| w.ln())
    }

    /// Each row's log-likelihood and log-responsibilities (linfa's `estimate_log_prob_resp`).
    fn log_prob_resp(&self, x: &Array2<f64>) -> (Array1<f64>, Array2<f64>) {
        let weighted = self.weighted_log_prob(x);
        let norm = weighted
            .mapv(|v| v.exp())
            .sum_axis(Axis(1))
            .mapv(|v| v.ln());
        let log_resp = weighted - norm.to_owned().insert_axis(Axis(1));
        (norm, log_resp)
    }

    /// Each row's most likely component (the first on ties), as linfa's `predict` gives it;
    /// `None` where linfa would panic (a responsibility that is NaN).
    pub fn predict(&self, x: &Array2<f64>) -> Option<Vec<usize>> {
        use ndarray_stats::QuantileExt;
        let (_, log_resp) = self.log_prob_resp(x);
        let resp = log_resp.mapv(f64::exp);
        resp.outer_iter().map(|row| row.argmax().ok()).collect()
    }
}

/// linfa's check of the parameters this module takes (its `GmmParams::check_ref`), with its
/// messages; linfa's `n_runs` is always its default of 1 here.
fn check(p: &MixtureParams) -> Result<(), GmmError> {
    let invalid = |m: &str| Err(GmmError::InvalidValue(m.to_string()));
    if p.k == 0 {
        invalid("`n_clusters` cannot be 0!")
    } else if p.tolerance <= 0.0 {
        invalid("`tolerance` must be greater than 0!")
    } else if p.reg_covar < 0.0 {
        invalid("`reg_covar` must be positive!")
    } else if p.max_iterations == 0 {
        invalid("`max_n_iterations` cannot be 0!")
    } else {
        Ok(())
    }
}

/// Fits a `p.k`-component mixture to the rows of `x` as linfa-clustering 0.8's
/// `GaussianMixtureModel::params_with_rng(p.k, rng)` with `p`'s regularisation, tolerance and
/// iteration cap fits it, with the same result or the same error (and an error, not linfa's
/// panic, for a table without rows or columns).
///
/// ```
/// use customer_intel::ml::gmm::{self, MixtureParams};
/// use ndarray::array;
/// use rand::SeedableRng;
/// let x = array![[0.0, 0.1], [0.2, 0.0], [0.1, 0.2], [5.0, 5.1], [5.2, 5.0], [5.1, 5.2]];
/// let p = MixtureParams { k: 2, reg_covar: 1e-6, tolerance: 1e-3, max_iterations: 100 };
/// let m = gmm::fit(&x, &p, &rand_chacha::ChaCha8Rng::seed_from_u64(1)).unwrap();
/// let labels = m.predict(&x).unwrap();
/// assert_eq!(labels[0], labels[2]);
/// assert_ne!(labels[0], labels[3]);
/// ```
pub fn fit<R: Rng + Clone>(
    x: &Array2<f64>,
    p: &MixtureParams,
    rng: &R,
) -> Result<Mixture, GmmError> {
    check(p)?;
    let x = x.as_standard_layout().into_owned();
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        // linfa panics here (its k-means++ draws from no rows, or splits rows of no values).
        return Err(GmmError::InvalidValue(format!(
            "a mixture needs at least one row and one column, got {n} × {d}"
        )));
    }
    let flat = x.as_slice().expect("standard layout");
    let members = kmeans_memberships(flat, n, d, p.k, rng)?;
    let mut resp = Array2::<f64>::zeros((n, p.k));
    for (i, &m) in members.iter().enumerate() {
        resp[[i, m]] = 1.0;
    }
    let (mut weights, means, covariances) = gaussian_parameters(&x, &resp, p.reg_covar)?;
    weights /= n as f64;
    let precisions_chol = precisions_cholesky(&covariances)?;
    let mut model = Mixture {
        weights,
        means,
        covariances,
        precisions_chol,
    };
    // One EM run (linfa's default `n_runs`), kept when its bound beats −∞ and it converged.
    let mut lower_bound = f64::NEG_INFINITY;
    let mut converged = false;
    for _ in 0..p.max_iterations {
        let previous = lower_bound;
        let (norm, log_resp) = model.log_prob_resp(&x);
        let mean = norm.mean().expect("at least one row");
        let (weights, means, covariances) =
            gaussian_parameters(&x, &log_resp.mapv(|v| v.exp()), p.reg_covar)?;
        model.means = means;
        model.weights = weights / n as f64;
        model.covariances = covariances;
        model.precisions_chol = precisions_cholesky(&model.covariances)?;
        lower_bound = mean;
        if (lower_bound - previous).abs() < p.tolerance {
            converged = true;
            break;
        }
    }
    if lower_bound > f64::NEG_INFINITY && converged {
        Ok(model)
    } else {
        Err(GmmError::NotConverged(format!(
            "EM fitting algorithm {} did not converge. Try different init parameters, \
             or increase max_n_iterations, tolerance or check for degenerate data.",
            2
        )))
    }
}
