//! Model fitting for segmentation: the standardised feature matrix, seeded k-means and Gaussian
//! mixtures from linfa-clustering, the mixture's log-likelihood and BIC, and a 2-D PCA from
//! linfa-reduction. Everything here is deterministic given its random stream.

use linfa::DatasetBase;
use linfa::traits::{Fit, Predict};
use linfa_reduction::Pca;
use ndarray::{Array2, Axis};
use rand::Rng as _;

use super::{SegmentationError, SegmentationSettings};
use crate::data::Dataset;
use crate::ml::cluster_metrics;
use crate::ml::nearest::{Flat, nearest_from, sq_dist_flat, sq_dists_to};
use crate::rng::Rng;
use crate::stats;

/// Rows the k-means loops take at a time (Lloyd's rounds in [`lloyd_runs`], the seeding's passes,
/// the inertia): their columns (a few values each) stay in the processor's cache while every
/// step and every run that needs them reads them.
const LLOYD_BLOCK: usize = 4096;

/// The ranges of rows, in order, that the k-means loops take at a time: [`LLOYD_BLOCK`] rows
/// each, the last one shorter.
fn row_blocks(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n)
        .step_by(LLOYD_BLOCK)
        .map(move |start| start..(start + LLOYD_BLOCK).min(n))
}

/// The index of the first smallest value (later equal ones do not replace it; a NaN never
/// replaces, and is never replaced as the first value): which k-means run, or which seeding
/// trial, is kept.
fn first_lowest(values: &[f64]) -> usize {
    let mut keep = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v < values[keep] {
            keep = i;
        }
    }
    keep
}

/// The standardised feature matrix and what is needed to map back to original units.
#[derive(Debug, Clone)]
pub(crate) struct Features {
    /// Feature (column) names, in order.
    pub names: Vec<String>,
    /// Row-major z-scores, one row per customer.
    pub rows: Vec<Vec<f64>>,
    /// Column means used for centring.
    pub means: Vec<f64>,
    /// Column standard deviations (n − 1) used for scaling.
    pub sds: Vec<f64>,
}

/// The features the settings ask for: the listed columns, or every numeric role column
/// (features, then the target) when the list is empty.
pub(crate) fn feature_names(ds: &Dataset, s: &SegmentationSettings) -> Vec<String> {
    if s.features.is_empty() {
        ds.roles.numeric_columns()
    } else {
        s.features.clone()
    }
}

/// Builds the z-scored feature matrix (mean and n − 1 standard deviation of all rows).
pub(crate) fn features(
    ds: &Dataset,
    s: &SegmentationSettings,
) -> Result<Features, SegmentationError> {
    let z = standardised_columns(ds, s)?;
    let rows = (0..z.rows.len()).map(|i| z.rows.row(i)).collect();
    Ok(Features {
        names: z.names,
        rows,
        means: z.means,
        sds: z.sds,
    })
}

/// The z-scored features column by column: what [`features`] arranges in rows.
pub(crate) struct Columns {
    /// Feature names, in order.
    pub names: Vec<String>,
    /// The z-scored columns, one after another in one buffer (the k-means loops' layout).
    pub rows: Flat,
    /// Column means used for centring.
    pub means: Vec<f64>,
    /// Column standard deviations (n − 1) used for scaling.
    pub sds: Vec<f64>,
}

/// The z-scored feature columns (mean and n − 1 standard deviation of all rows), refusing
/// unknown and constant features; [`features`] without one allocation per row, written
/// straight into one buffer (at a million rows, fresh memory is much of the cost here).
pub(crate) fn standardised_columns(
    ds: &Dataset,
    s: &SegmentationSettings,
) -> Result<Columns, SegmentationError> {
    let names = feature_names(ds, s);
    if names.is_empty() {
        return Err(SegmentationError::NoFeatures);
    }
    let n = ds.n_rows();
    let mut cols = Vec::with_capacity(n * names.len());
    let (mut means, mut sds) = (Vec::new(), Vec::new());
    for name in &names {
        let col = ds
            .numeric
            .get(name)
            .ok_or_else(|| SegmentationError::UnknownFeature(name.clone()))?;
        let (m, sd) = (stats::mean(col), stats::sd(col));
        if !(sd > 0.0) {
            return Err(SegmentationError::ConstantFeature(name.clone()));
        }
        if !m.is_finite() || !sd.is_finite() {
            return Err(SegmentationError::Fit(format!(
                "feature '{name}' has a mean or spread too large to compute in floating point"
            )));
        }
        stats::standardize_onto(col, m, sd, &mut cols);
        means.push(m);
        sds.push(sd);
    }
    Ok(Columns {
        rows: Flat::from_column_major(cols, names.len()),
        names,
        means,
        sds,
    })
}

/// Row-major rows to an ndarray matrix.
pub(crate) fn to_matrix(rows: &[Vec<f64>]) -> Array2<f64> {
    let d = rows.first().map_or(0, Vec::len);
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    Array2::from_shape_vec((rows.len(), d), flat).expect("rows have equal length")
}

/// A fitted k-means partition with canonical labels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Partition {
    /// Cluster per row, `0..k`, ordered by ascending centroid on the ordering feature.
    pub labels: Vec<usize>,
    /// Centroids in standardised units, in label order.
    pub centroids: Vec<Vec<f64>>,
}

/// Fits k-means and assigns every row of `x` to its nearest final centroid. Labels are
/// renumbered by ascending centroid value on feature `order_by` (ties: the next features), so
/// the same partition always gets the same labels.
///
/// Each of the `n_init` runs starts from [`greedy_kmeans_plus_plus_in`] seeds and runs plain
/// Lloyd iterations ([`lloyd_runs`]); the run with the lowest inertia is kept (the first on ties).
/// linfa-clustering 0.8's k-means is not used: its update counts the old centroid as one more
/// member of its cluster (an "m_k-means" step), which stops at different, worse fixed points,
/// and its k-means++ draws one candidate per centre; on the bundled table that left k ≥ 8 in
/// optima up to 10% worse than scikit-learn's.
pub(crate) fn kmeans(
    x: &Array2<f64>,
    k: usize,
    s: &SegmentationSettings,
    rng: Rng,
    order_by: usize,
) -> Result<Partition, SegmentationError> {
    kmeans_flat(&Flat::from_matrix(x), k, s, rng, order_by)
}

/// [`kmeans`] on rows already in the column layout (a whole table's rows, standardised straight
/// into it by [`standardised_columns`] instead of through a matrix).
pub(crate) fn kmeans_flat(
    rows: &Flat,
    k: usize,
    s: &SegmentationSettings,
    mut rng: Rng,
    order_by: usize,
) -> Result<Partition, SegmentationError> {
    let n = rows.len();
    if k == 0 || k > n {
        return Err(SegmentationError::Fit(format!(
            "k-means with k = {k} on {n} rows"
        )));
    }
    // The loops are compiled once per small width, so the distance loop is unrolled; the
    // arithmetic (and so every result) is the same for every width.
    let (flat, labels) = match rows.d {
        2 => kmeans_runs::<2>(rows, k, s, &mut rng),
        3 => kmeans_runs::<3>(rows, k, s, &mut rng),
        4 => kmeans_runs::<4>(rows, k, s, &mut rng),
        5 => kmeans_runs::<5>(rows, k, s, &mut rng),
        6 => kmeans_runs::<6>(rows, k, s, &mut rng),
        7 => kmeans_runs::<7>(rows, k, s, &mut rng),
        8 => kmeans_runs::<8>(rows, k, s, &mut rng),
        _ => kmeans_runs::<0>(rows, k, s, &mut rng),
    };
    let centroids: Vec<Vec<f64>> = flat.chunks_exact(rows.d).map(<[f64]>::to_vec).collect();
    Ok(canonical(labels, &centroids, order_by))
}

/// The `n_init` seeded runs of [`kmeans`] on rows of width `D` (0: any width, `rows.d`): the
/// lowest-inertia run's centroids (flat) and every row's nearest of them.
///
/// The runs' Lloyd rounds go side by side ([`lloyd_runs`]), and so do their inertias, summed a
/// block of rows at a time without keeping labels; only the kept run's labels are computed, once,
/// at the end (the same centroids and the same distance loop give the same labels), so no
/// row-length buffer is written per run.
fn kmeans_runs<const D: usize>(
    rows: &Flat,
    k: usize,
    s: &SegmentationSettings,
    rng: &mut Rng,
) -> (Vec<f64>, Vec<usize>) {
    let n = rows.len();
    let block = LLOYD_BLOCK.min(n);
    let mut block_labels = vec![0usize; block];
    let mut block_dist = vec![0.0; block];
    // The seeds of every run first (in the order they draw from the random stream; Lloyd's
    // rounds draw nothing), then all runs side by side.
    let mut seeding = SeedingScratch::default();
    let seeds: Vec<Vec<f64>> = (0..s.n_init.max(1))
        .map(|_| greedy_kmeans_plus_plus_in::<D>(rows, k, rng, &mut seeding))
        .collect();
    drop(seeding);
    let finals = lloyd_runs::<D>(rows, seeds, s.tolerance, s.max_iterations as usize);
    // Each run's squared distances of the rows to their nearest centroid, summed in row order.
    let mut inertia = vec![stats::sum_start(); finals.len()];
    for r in row_blocks(n) {
        let (labels, dist) = (&mut block_labels[..r.len()], &mut block_dist[..r.len()]);
        for (centroids, total) in finals.iter().zip(inertia.iter_mut()) {
            nearest_from::<D>(rows, centroids, r.start, labels, dist);
            for &v in dist.iter() {
                *total += v;
            }
        }
    }
    let keep = first_lowest(&inertia);
    let flat = finals.into_iter().nth(keep).expect("at least one run");
    let mut labels = vec![0usize; n];
    for r in row_blocks(n) {
        let dist = &mut block_dist[..r.len()];
        nearest_from::<D>(rows, &flat, r.start, &mut labels[r], dist);
    }
    (flat, labels)
}

/// Index of the centroid (flat, `d` values each) nearest to `row`; first on ties.
#[cfg(test)]
#[inline(always)]
fn nearest_flat<const D: usize>(row: &[f64], centroids: &[f64], d: usize) -> usize {
    let d = if D == 0 { d } else { D };
    let mut best = (0, f64::INFINITY);
    for (j, c) in centroids.chunks_exact(d).enumerate() {
        let dist = sq_dist_flat::<D>(row, c, d);
        if dist < best.1 {
            best = (j, dist);
        }
    }
    best.0
}

/// Lloyd's algorithm from each of `starts` (centroids, flat, `rows.d` values each), every run
/// on its own: assign every row to its nearest centroid (first on ties), move each centroid to
/// the mean of its rows (an emptied cluster keeps its centroid), until the centroids move by
/// less than `tolerance` in total squared distance or after `max_iterations` rounds. Returns each
/// run's final centroids, in the order of `starts`.
///
/// Every row is compared with every centroid in every round, a few rows at a time
/// ([`nearest_from`], on a block of [`LLOYD_BLOCK`] rows at a time): on the few columns and few
/// clusters of a segmentation, those vector loops cost less than skipping rows with distance
/// bounds (Hamerly's, measured slower here). The runs go through their rounds side by side, each
/// block of rows serving every run still moving while it is in the cache, so a table larger than
/// the cache is read from memory once a round instead of once a round per run. Each run's
/// distances add the same squares in the same order as [`sq_dist_flat`], and its centroid sums
/// add each cluster's rows in index order, so each result is [`lloyd_plain`]'s, bit for bit.
fn lloyd_runs<const D: usize>(
    rows: &Flat,
    starts: Vec<Vec<f64>>,
    tolerance: f64,
    max_iterations: usize,
) -> Vec<Vec<f64>> {
    /// One run's centroids, this round's sums and counts, and whether it has stopped.
    struct Run {
        centroids: Vec<f64>,
        sums: Vec<f64>,
        counts: Vec<usize>,
        moving: bool,
    }
    let d = if D == 0 { rows.d } else { D };
    let n = rows.len();
    let mut runs: Vec<Run> = starts
        .into_iter()
        .map(|centroids| Run {
            sums: vec![0.0; centroids.len()],
            counts: vec![0; centroids.len() / d],
            centroids,
            moving: true,
        })
        .collect();
    let mut new = vec![0.0; d];
    let block = LLOYD_BLOCK.min(n);
    let mut assigned = vec![0usize; block];
    let mut dist = vec![0.0; block];
    for _ in 0..max_iterations.max(1) {
        for run in runs.iter_mut().filter(|r| r.moving) {
            run.sums.fill(0.0);
            run.counts.fill(0);
        }
        // One block of rows at a time: for every run, assigned, then added to the run's
        // centroid sums while the block's values are still in the cache.
        for block_rows in row_blocks(n) {
            let len = block_rows.len();
            let (labels, dist) = (&mut assigned[..len], &mut dist[..len]);
            for run in runs.iter_mut().filter(|r| r.moving) {
                nearest_from::<D>(rows, &run.centroids, block_rows.start, labels, dist);
                for (i, &j) in block_rows.clone().zip(labels.iter()) {
                    run.counts[j] += 1;
                    for (t, s) in run.sums[j * d..(j + 1) * d].iter_mut().enumerate() {
                        *s += rows.cols[t * n + i];
                    }
                }
            }
        }
        for run in runs.iter_mut().filter(|r| r.moving) {
            let mut shift = 0.0;
            for (j, &count) in run.counts.iter().enumerate() {
                if count == 0 {
                    continue;
                }
                for (v, s) in new.iter_mut().zip(&run.sums[j * d..(j + 1) * d]) {
                    *v = s / count as f64;
                }
                let c = &mut run.centroids[j * d..(j + 1) * d];
                shift += sq_dist_flat::<D>(c, &new, d);
                c.copy_from_slice(&new);
            }
            // A NaN shift (an infinite value) does not stop a run, as in the plain loop.
            run.moving = shift > tolerance * tolerance || shift.is_nan();
        }
        if runs.iter().all(|r| !r.moving) {
            break;
        }
    }
    runs.into_iter().map(|r| r.centroids).collect()
}

/// Plain Lloyd iterations, one row and one centroid at a time, one run: Lloyd as first written, kept
/// as the reference the vector version is tested against bit for bit.
#[cfg(test)]
fn lloyd_plain<const D: usize>(
    rows: &Flat,
    mut centroids: Vec<f64>,
    tolerance: f64,
    max_iterations: usize,
) -> Vec<f64> {
    let d = if D == 0 { rows.d } else { D };
    let k = centroids.len() / d;
    let mut sums = vec![0.0; k * d];
    let mut counts = vec![0usize; k];
    let mut new = vec![0.0; d];
    for _ in 0..max_iterations.max(1) {
        sums.fill(0.0);
        counts.fill(0);
        for r in rows.row_major().chunks_exact(d) {
            let j = nearest_flat::<D>(r, &centroids, d);
            counts[j] += 1;
            for (s, v) in sums[j * d..(j + 1) * d].iter_mut().zip(r) {
                *s += v;
            }
        }
        let mut shift = 0.0;
        for j in 0..k {
            let n = counts[j];
            if n == 0 {
                continue;
            }
            for (v, s) in new.iter_mut().zip(&sums[j * d..(j + 1) * d]) {
                *v = s / n as f64;
            }
            let c = &mut centroids[j * d..(j + 1) * d];
            shift += sq_dist_flat::<D>(c, &new, d);
            c.copy_from_slice(&new);
        }
        if shift <= tolerance * tolerance {
            break;
        }
    }
    centroids
}

/// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with the local trials of their
/// "greedy" variant): the first centre is a uniformly drawn row; each further centre is the
/// best of `2 + ⌊ln k⌋` candidates, each drawn with probability proportional to its squared
/// distance to the nearest centre so far, "best" meaning the lowest total squared distance
/// once it is added. Returns `k` rows of `rows` (`k ≤ rows.len()`), flat. (With fresh
/// buffers: the tests' entry to [`greedy_kmeans_plus_plus_in`].)
#[cfg(test)]
fn greedy_kmeans_plus_plus<const D: usize>(rows: &Flat, k: usize, rng: &mut Rng) -> Vec<f64> {
    greedy_kmeans_plus_plus_in::<D>(rows, k, rng, &mut SeedingScratch::default())
}

/// The row-length buffer of the greedy k-means++ seeding (each row's squared distance to its
/// nearest centre so far), kept from one k-means run to the next (at ten million rows a fresh
/// one is 80 MB of new memory for every run), and a block of distances.
#[derive(Default)]
struct SeedingScratch {
    closest: Vec<f64>,
    block: Vec<f64>,
}

/// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with the local trials of their
/// "greedy" variant), as described at `greedy_kmeans_plus_plus`, with its buffers in `scratch`
/// (any contents; every value used is written first).
///
/// Each step draws its trials' weights first (the draws do not depend on the rows, so the
/// random stream is consumed as when they were drawn one trial at a time), finds every
/// trial's row in one running sum over the distances ([`first_rows_above`]), adds up every
/// trial's total in one pass over the rows, and then lowers the distances to the chosen
/// centre's in place: three passes a step whatever the number of trials, and one row-length
/// buffer. Every sum adds the same values in the same order as the one-trial-at-a-time
/// reference in `fit_exact_tests`, so the centres are the same bits.
fn greedy_kmeans_plus_plus_in<const D: usize>(
    rows: &Flat,
    k: usize,
    rng: &mut Rng,
    scratch: &mut SeedingScratch,
) -> Vec<f64> {
    let n = rows.len();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let first = rng.gen_range(0..n);
    let mut centres: Vec<f64> = rows.row(first);
    let SeedingScratch { closest, block } = scratch;
    closest.resize(n, 0.0);
    block.resize(LLOYD_BLOCK.min(n), 0.0);
    // Distances to the first centre, and their total (the first step's "potential").
    let mut potential = stats::sum_start();
    for r in row_blocks(n) {
        let start = r.start;
        let out = &mut closest[r];
        sq_dists_to::<D>(rows, &centres, start, out);
        for &v in out.iter() {
            potential += v;
        }
    }
    let mut targets = Vec::with_capacity(trials);
    let mut totals = Vec::with_capacity(trials);
    for _ in 1..k {
        targets.clear();
        for _ in 0..trials {
            targets.push(rng.r#gen::<f64>() * potential);
        }
        let picks = first_rows_above(closest, &targets);
        let candidates: Vec<Vec<f64>> = picks.iter().map(|&c| rows.row(c)).collect();
        // Every trial's total squared distance once its candidate is added, in row order.
        totals.clear();
        totals.resize(trials, stats::sum_start());
        for r in row_blocks(n) {
            let out = &mut block[..r.len()];
            let (start, near) = (r.start, &closest[r]);
            for (candidate, total) in candidates.iter().zip(totals.iter_mut()) {
                sq_dists_to::<D>(rows, candidate, start, out);
                for (&c, &t) in near.iter().zip(out.iter()) {
                    *total += c.min(t);
                }
            }
        }
        let pick = first_lowest(&totals);
        for r in row_blocks(n) {
            let out = &mut block[..r.len()];
            let (start, near) = (r.start, &mut closest[r]);
            sq_dists_to::<D>(rows, &candidates[pick], start, out);
            for (c, &t) in near.iter_mut().zip(out.iter()) {
                *c = c.min(t);
            }
        }
        potential = totals[pick];
        centres.extend_from_slice(&candidates[pick]);
    }
    centres
}

/// For each target, the first row whose running sum of `weights` (from +0.0, in row order)
/// exceeds it, or the last row when none does: a row drawn with probability proportional to its
/// weight for a target drawn uniformly below the total (rows of weight 0 are never drawn). The
/// weights are non-negative, so the running sum never decreases and one pass serves every
/// target, taken in increasing order.
fn first_rows_above(weights: &[f64], targets: &[f64]) -> Vec<usize> {
    let last = weights.len().saturating_sub(1);
    let mut picks = vec![last; targets.len()];
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by(|&a, &b| targets[a].total_cmp(&targets[b]));
    let mut next = 0;
    let mut acc = 0.0;
    for (i, &w) in weights.iter().enumerate() {
        if next == order.len() {
            break;
        }
        acc += w;
        while next < order.len() && acc > targets[order[next]] {
            picks[order[next]] = i;
            next += 1;
        }
    }
    picks
}

/// [`nearest`] for row-major rows.
pub(crate) fn nearest_rows(rows: &[Vec<f64>], centroids: &[Vec<f64>]) -> Vec<usize> {
    rows.iter().map(|r| nearest_one(r, centroids)).collect()
}

fn nearest_one(row: &[f64], centroids: &[Vec<f64>]) -> usize {
    let mut best = (0, f64::INFINITY);
    for (j, c) in centroids.iter().enumerate() {
        let d = cluster_metrics::sq_dist(row, c);
        if d < best.1 {
            best = (j, d);
        }
    }
    best.0
}

/// Index of the nearest centroid (squared Euclidean; first on ties) for every row of `x`.
pub(crate) fn nearest(x: &Array2<f64>, centroids: &[Vec<f64>]) -> Vec<usize> {
    x.axis_iter(Axis(0))
        .map(|row| nearest_one(&row.to_vec(), centroids))
        .collect()
}

/// Drops empty clusters and renumbers the rest by ascending centroid on `order_by`.
fn canonical(labels: Vec<usize>, centroids: &[Vec<f64>], order_by: usize) -> Partition {
    let sizes = cluster_metrics::cluster_sizes(&labels);
    let mut live: Vec<usize> = (0..centroids.len())
        .filter(|&j| sizes.get(j).copied().unwrap_or(0) > 0)
        .collect();
    live.sort_by(|&a, &b| {
        let key = |j: usize| {
            let c = &centroids[j];
            std::iter::once(c[order_by])
                .chain(c.iter().copied())
                .collect::<Vec<f64>>()
        };
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut rename = vec![usize::MAX; centroids.len()];
    for (new, &old) in live.iter().enumerate() {
        rename[old] = new;
    }
    Partition {
        labels: labels.iter().map(|&l| rename[l]).collect(),
        centroids: live.iter().map(|&j| centroids[j].clone()).collect(),
    }
}

/// One fitted Gaussian mixture: hard labels, log-likelihood and BIC.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MixtureFit {
    /// Most probable component per row.
    pub labels: Vec<usize>,
    /// Total log-likelihood of the rows under the mixture.
    pub log_likelihood: f64,
    /// Number of free parameters (full covariances).
    pub n_parameters: usize,
    /// Bayesian information criterion, `−2 log L + p ln n` (lower is better).
    pub bic: f64,
}

/// Free parameters of a `k`-component, `d`-dimensional full-covariance mixture:
/// `k − 1` weights, `k·d` means and `k·d(d+1)/2` covariances (as scikit-learn counts them).
pub(crate) fn mixture_parameters(k: usize, d: usize) -> usize {
    (k - 1) + k * d + k * d * (d + 1) / 2
}

/// Fits a full-covariance Gaussian mixture (linfa-clustering's, initialised by its own seeded
/// k-means, reproduced bit for bit by [`crate::ml::gmm`]) and computes its log-likelihood and
/// BIC. A non-converged EM run, an emptied component or a non-positive-definite covariance is
/// linfa's error, returned as its message.
pub(crate) fn mixture(
    x: &Array2<f64>,
    k: usize,
    s: &SegmentationSettings,
    rng: Rng,
) -> Result<MixtureFit, String> {
    let params = crate::ml::gmm::MixtureParams {
        k,
        reg_covar: s.gmm_reg_covar,
        tolerance: s.gmm_tolerance,
        max_iterations: s.gmm_max_iterations,
    };
    let model = crate::ml::gmm::fit(x, &params, &rng).map_err(|e| e.to_string())?;
    let labels: Vec<usize> = model
        .predict(x)
        .ok_or_else(|| format!("k = {k}: a component's responsibility is not a number"))?;
    let weights = model.weights.to_vec();
    let means: Vec<Vec<f64>> = model.means.outer_iter().map(|r| r.to_vec()).collect();
    let covs: Vec<Vec<Vec<f64>>> = model
        .covariances
        .outer_iter()
        .map(|c| c.outer_iter().map(|r| r.to_vec()).collect())
        .collect();
    let log_likelihood = mixture_log_likelihood(x, &weights, &means, &covs)
        .ok_or_else(|| format!("k = {k}: a fitted covariance is not positive definite"))?;
    let n_parameters = mixture_parameters(k, x.ncols());
    let bic = -2.0 * log_likelihood + n_parameters as f64 * (x.nrows() as f64).ln();
    Ok(MixtureFit {
        labels,
        log_likelihood,
        n_parameters,
        bic,
    })
}

/// Lower Cholesky factor of a small symmetric positive-definite matrix (`None` if it is not).
fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let d = a.len();
    let mut l = vec![vec![0.0; d]; d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = a[i][j] - (0..j).map(|m| l[i][m] * l[j][m]).sum::<f64>();
            if i == j {
                if !(s > 0.0) {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// `Σ_i log Σ_k w_k N(x_i | μ_k, Σ_k)`, evaluated with log-sum-exp (`None` if a covariance is
/// not positive definite).
pub(crate) fn mixture_log_likelihood(
    x: &Array2<f64>,
    weights: &[f64],
    means: &[Vec<f64>],
    covs: &[Vec<Vec<f64>>],
) -> Option<f64> {
    let d = x.ncols();
    let chol: Vec<Vec<Vec<f64>>> = covs.iter().map(|c| cholesky(c)).collect::<Option<_>>()?;
    let log_norm: Vec<f64> = chol
        .iter()
        .zip(weights)
        .map(|(l, w)| {
            let log_det: f64 = (0..d).map(|i| 2.0 * l[i][i].ln()).sum();
            w.ln() - 0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + log_det)
        })
        .collect();
    let mut total = 0.0;
    let mut z = vec![0.0; d];
    let mut terms = vec![0.0; weights.len()];
    for row in x.outer_iter() {
        for (k, l) in chol.iter().enumerate() {
            // Solve L z = x − μ by forward substitution; the Mahalanobis distance is |z|².
            for i in 0..d {
                let s: f64 = row[i] - means[k][i] - (0..i).map(|m| l[i][m] * z[m]).sum::<f64>();
                z[i] = s / l[i][i];
            }
            terms[k] = log_norm[k] - 0.5 * z.iter().map(|v| v * v).sum::<f64>();
        }
        let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        total += m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln();
    }
    Some(total)
}

/// A 2-D principal-component projection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Projection {
    /// PC1/PC2 scores of the rows shown.
    pub scores: Vec<[f64; 2]>,
    /// PC1/PC2 coordinates of the centroids.
    pub centroids: Vec<[f64; 2]>,
    /// Share of the total variance of the standardised features (on the fit rows) carried by
    /// PC1 and PC2.
    pub variance_share: [f64; 2],
    /// The two components' loadings (one value per feature).
    pub loadings: [Vec<f64>; 2],
}

/// Fits a 2-component PCA (linfa-reduction) on the standardised fit rows and projects the rows
/// shown and the centroids. The variance shares are computed here (score variance ÷ total
/// feature variance) because linfa's ratio is relative to the retained components only. Each
/// component's sign is fixed so that its loading on feature `orient_by` is non-negative
/// (readability; PCA signs are arbitrary).
pub(crate) fn pca(
    x_fit: &Array2<f64>,
    x_show: &Array2<f64>,
    centroids: &[Vec<f64>],
    orient_by: usize,
) -> Result<Projection, SegmentationError> {
    let model = Pca::params(2)
        .fit(&DatasetBase::from(x_fit.clone()))
        .map_err(|e| SegmentationError::Fit(format!("PCA: {e}")))?;
    let comps = model.components();
    let flip: Vec<f64> = (0..2)
        .map(|c| {
            if comps[[c, orient_by]] < 0.0 {
                -1.0
            } else {
                1.0
            }
        })
        .collect();
    let project = |x: &Array2<f64>| -> Vec<[f64; 2]> {
        let proj: Array2<f64> = model.predict(x);
        proj.outer_iter()
            .map(|r| [flip[0] * r[0], flip[1] * r[1]])
            .collect()
    };
    let fit_scores = project(x_fit);
    let total: f64 = x_fit
        .axis_iter(Axis(1))
        .map(|c| stats::variance(&c.to_vec()))
        .sum();
    let share =
        |c: usize| stats::variance(&fit_scores.iter().map(|s| s[c]).collect::<Vec<_>>()) / total;
    let variance_share = [share(0), share(1)];
    let loadings = [
        comps.row(0).iter().map(|v| flip[0] * v).collect(),
        comps.row(1).iter().map(|v| flip[1] * v).collect(),
    ];
    Ok(Projection {
        scores: project(x_show),
        centroids: project(&to_matrix(centroids)),
        variance_share,
        loadings,
    })
}

#[cfg(test)]
#[path = "fit_exact_tests.rs"]
mod exact_tests;

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs and values of tests/reference/analysis_segmentation_fit.py.
    fn reference() -> crate::test_fixtures::Reference {
        crate::test_fixtures::Reference::load("analysis_segmentation_fit")
    }

    /// Runs vector and plain Lloyd from the same k-means++ seeds at widths `D`/`d` and
    /// compares the centroids bit for bit; returns how many runs were compared.
    fn compare_lloyd<const D: usize>(x: &[Vec<f64>], ks: &[usize], seed: u64) -> usize {
        let rows = Flat::from_matrix(&to_matrix(x));
        let mut runs = 0;
        for &k in ks {
            let mut r = crate::rng::stream(seed, &format!("lloyd/{k}"));
            let mut starts = Vec::new();
            for _ in 0..3 {
                let seeds = greedy_kmeans_plus_plus::<D>(&rows, k, &mut r);
                starts.push(seeds);
            }
            // The runs side by side, each against its own plain run.
            for (tol, iters) in [(1e-4, 300), (0.0, 7), (1e-2, 300)] {
                let vector = lloyd_runs::<D>(&rows, starts.clone(), tol, iters);
                for (got, seeds) in vector.iter().zip(&starts) {
                    let plain = lloyd_plain::<D>(&rows, seeds.clone(), tol, iters);
                    let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(got), bits(&plain), "k {k} tol {tol} iters {iters}");
                    runs += 1;
                }
            }
        }
        runs
    }

    /// The vector Lloyd iterations reach the plain ones' centroids bit for bit: uniform
    /// tables (no structure, many slow rounds, as the null reference draws them), blobs,
    /// integer grids with many exact ties between centroids, repeated rows, and widths with
    /// an unrolled (2, 5) and a generic (9) distance loop.
    #[test]
    fn vector_lloyd_equals_plain_lloyd_bit_for_bit() {
        use rand::Rng as _;
        let mut runs = 0;
        for seed in 0..4u64 {
            let mut r = crate::rng::stream(seed, "lloyd-data");
            let uniform5: Vec<Vec<f64>> = (0..600)
                .map(|_| (0..5).map(|_| r.gen_range(-2.0..2.0)).collect())
                .collect();
            runs += compare_lloyd::<5>(&uniform5, &[2, 3, 5, 8, 10], seed);
            let blobs2: Vec<Vec<f64>> = (0..400)
                .map(|i| {
                    let c = (i % 4) as f64 * 3.0;
                    vec![c + r.gen_range(-1.0..1.0), -c + r.gen_range(-1.0..1.0)]
                })
                .collect();
            runs += compare_lloyd::<2>(&blobs2, &[2, 4, 7], seed);
            let grid2: Vec<Vec<f64>> = (0..300)
                .map(|_| vec![r.gen_range(0..4) as f64, r.gen_range(0..3) as f64])
                .collect();
            runs += compare_lloyd::<2>(&grid2, &[2, 3, 6, 9], seed);
            let wide9: Vec<Vec<f64>> = (0..250)
                .map(|i| {
                    (0..9)
                        .map(|j| {
                            if i % 3 == 0 {
                                j as f64
                            } else {
                                r.gen_range(-1.0..1.0)
                            }
                        })
                        .collect()
                })
                .collect();
            runs += compare_lloyd::<0>(&wide9, &[2, 5, 10], seed);
        }
        assert_eq!(runs, 4 * 15 * 9);
    }

    #[test]
    fn mixture_log_likelihood_matches_scipy() {
        // Two 2-D components; reference: scipy.stats.multivariate_normal.logpdf summed with
        // scipy.special.logsumexp on the same arrays.
        let r = reference();
        let x = to_matrix(&r.f64ss("/x"));
        let weights = r.f64s("/weights");
        let means = r.f64ss("/means");
        let covs: Vec<Vec<Vec<f64>>> = (0..weights.len())
            .map(|i| r.f64ss(&format!("/covariances/{i}")))
            .collect();
        let ll = mixture_log_likelihood(&x, &weights, &means, &covs).unwrap();
        assert!((ll - r.f64("/log_likelihood")).abs() < 1e-10, "{ll}");
        assert!(
            mixture_log_likelihood(
                &x,
                &weights,
                &means,
                &[covs[0].clone(), vec![vec![0.0; 2]; 2]]
            )
            .is_none()
        );
    }

    #[test]
    fn mixture_parameter_count_matches_sklearn() {
        // sklearn GaussianMixture(covariance_type="full")._n_parameters().
        let r = reference();
        assert_eq!(
            mixture_parameters(r.usize("/parameters/k"), r.usize("/parameters/d")),
            r.usize("/parameters/count")
        );
    }
}
