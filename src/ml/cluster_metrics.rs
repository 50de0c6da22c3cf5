//! Internal and external cluster-validity measures (silhouette, Davies–Bouldin,
//! Calinski–Harabasz, adjusted Rand index) and elbow (knee) detection on a score curve.
//!
//! No maintained Rust crate of the pinned stack offers these, so they are written here and tested
//! against scikit-learn's values on small fixed inputs. Points are rows (`&[Vec<f64>]`), labels are
//! cluster indices `0..k`; a label that never occurs is an empty cluster and is skipped. Distances
//! are Euclidean. Definitions follow scikit-learn's `sklearn.metrics` where one exists, including its
//! conventions for degenerate inputs (noted per function).

/// Squared Euclidean distance between two points of equal length.
pub fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Euclidean distance between two points of equal length.
pub fn dist(a: &[f64], b: &[f64]) -> f64 {
    sq_dist(a, b).sqrt()
}

/// Number of cluster slots: one more than the largest label (0 for no points).
fn n_slots(labels: &[usize]) -> usize {
    labels.iter().max().map_or(0, |m| m + 1)
}

/// Points per label, indexed by label (`0..=max label`).
pub fn cluster_sizes(labels: &[usize]) -> Vec<usize> {
    let mut sizes = vec![0; n_slots(labels)];
    for &l in labels {
        sizes[l] += 1;
    }
    sizes
}

/// Number of non-empty clusters.
fn n_clusters(labels: &[usize]) -> usize {
    cluster_sizes(labels).iter().filter(|&&s| s > 0).count()
}

/// Mean of the points of each label (an empty label gets an empty vector).
pub fn centroids(x: &[Vec<f64>], labels: &[usize]) -> Vec<Vec<f64>> {
    assert_eq!(x.len(), labels.len(), "one label per point");
    let d = x.first().map_or(0, Vec::len);
    let sizes = cluster_sizes(labels);
    let mut c = vec![vec![0.0; d]; sizes.len()];
    for (p, &l) in x.iter().zip(labels) {
        for (acc, v) in c[l].iter_mut().zip(p) {
            *acc += v;
        }
    }
    for (row, &s) in c.iter_mut().zip(&sizes) {
        if s == 0 {
            row.clear();
        } else {
            row.iter_mut().for_each(|v| *v /= s as f64);
        }
    }
    c
}

/// Within-cluster sum of squared distances to each cluster's own mean (k-means inertia).
pub fn inertia(x: &[Vec<f64>], labels: &[usize]) -> f64 {
    let c = centroids(x, labels);
    x.iter().zip(labels).map(|(p, &l)| sq_dist(p, &c[l])).sum()
}

/// Silhouette value of every point: `(b − a) / max(a, b)`, where `a` is the mean distance to the
/// other points of its cluster and `b` the smallest mean distance to the points of another cluster.
///
/// Quadratic in the number of points. A point alone in its cluster gets 0 (scikit-learn's
/// `silhouette_samples` convention). Needs at least two non-empty clusters (otherwise all 0).
pub fn silhouette_samples(x: &[Vec<f64>], labels: &[usize]) -> Vec<f64> {
    silhouette_samples_many(x, &[labels])
        .pop()
        .expect("one labelling in, one out")
}

/// [`silhouette_samples`] for several labellings of the same points at once: each pairwise
/// distance is computed once per point and shared, so scoring k = 2..10 costs about one
/// silhouette. The points are split across the machine's cores ([`crate::par::map`]); each
/// point's sums run over the other points in index order, so the values do not depend on the
/// number of threads.
pub fn silhouette_samples_many(x: &[Vec<f64>], labellings: &[&[usize]]) -> Vec<Vec<f64>> {
    silhouette_samples_many_with(x, labellings, true)
}

/// [`silhouette_samples_many`] on the calling thread only (for callers that already run
/// several of them in parallel). Same values, bit for bit.
pub fn silhouette_samples_many_serial(x: &[Vec<f64>], labellings: &[&[usize]]) -> Vec<Vec<f64>> {
    silhouette_samples_many_with(x, labellings, false)
}

/// Points per parallel task of the silhouette.
const SILHOUETTE_CHUNK: usize = 256;

/// Points whose distance sums the silhouette accumulates together (see [`silhouette_block`]).
const SILHOUETTE_ROWS: usize = 32;
const _: () = assert!(
    SILHOUETTE_ROWS.is_multiple_of(4),
    "whole AVX2 vectors of four values"
);

fn silhouette_samples_many_with(
    x: &[Vec<f64>],
    labellings: &[&[usize]],
    parallel: bool,
) -> Vec<Vec<f64>> {
    let n = x.len();
    for l in labellings {
        assert_eq!(l.len(), n, "one label per point");
    }
    let sizes: Vec<Vec<usize>> = labellings.iter().map(|l| cluster_sizes(l)).collect();
    // Per labelling, the members of each cluster in ascending index order.
    let members: Vec<Vec<Vec<usize>>> = labellings
        .iter()
        .zip(&sizes)
        .map(|(l, sz)| {
            let mut m: Vec<Vec<usize>> = sz.iter().map(|&s| Vec::with_capacity(s)).collect();
            for (j, &lj) in l.iter().enumerate() {
                m[lj].push(j);
            }
            m
        })
        .collect();
    // For points `lo..hi`, per labelling, the sum of distances from each point to every cluster
    // (row-major (hi − lo) × slots); see `silhouette_block`.
    let width = x.first().map_or(0, Vec::len);
    let flat: Vec<f64> = x.iter().flatten().copied().collect();
    let points = Points {
        flat: &flat,
        width,
        n,
        members: &members,
        sizes: &sizes,
    };
    let block = |&(lo, hi): &(usize, usize)| -> Vec<Vec<f64>> { silhouette_block(&points, lo, hi) };
    let blocks: Vec<(usize, usize)> = (0..n)
        .step_by(SILHOUETTE_CHUNK)
        .map(|lo| (lo, (lo + SILHOUETTE_CHUNK).min(n)))
        .collect();
    let parts: Vec<Vec<Vec<f64>>> = if parallel {
        crate::par::map(&blocks, block)
    } else {
        blocks.iter().map(block).collect()
    };
    let mut sums: Vec<Vec<f64>> = sizes
        .iter()
        .map(|s| Vec::with_capacity(n * s.len()))
        .collect();
    for part in parts {
        for (s, p) in sums.iter_mut().zip(part) {
            s.extend(p);
        }
    }
    labellings
        .iter()
        .zip(&sums)
        .zip(&sizes)
        .map(|((labels, sums), sizes)| {
            if sizes.iter().filter(|&&s| s > 0).count() < 2 {
                return vec![0.0; n];
            }
            let slots = sizes.len();
            (0..n)
                .map(|i| {
                    let own = labels[i];
                    if sizes[own] < 2 {
                        return 0.0;
                    }
                    let a = sums[i * slots + own] / (sizes[own] - 1) as f64;
                    let b = (0..slots)
                        .filter(|&c| c != own && sizes[c] > 0)
                        .map(|c| sums[i * slots + c] / sizes[c] as f64)
                        .fold(f64::INFINITY, f64::min);
                    let m = a.max(b);
                    if m > 0.0 { (b - a) / m } else { 0.0 }
                })
                .collect()
        })
        .collect()
}

/// What every block of the silhouette reads: the points and, per labelling, each cluster's
/// members (ascending) and size.
#[derive(Clone, Copy)]
struct Points<'a> {
    /// `n` rows of `width` values, one after another.
    flat: &'a [f64],
    /// Values per point (0 is allowed: every distance is then 0).
    width: usize,
    /// Number of points.
    n: usize,
    /// Per labelling, per cluster, its points' indices in ascending order.
    members: &'a [Vec<Vec<usize>>],
    /// Per labelling, per cluster, its number of points.
    sizes: &'a [Vec<usize>],
}

/// For the points `lo..hi` of `p.flat` (`n` rows of `width` values), per labelling, the
/// sum of the distances from each point to the members of every cluster (row-major
/// (hi − lo) × slots). Each sum adds the cluster's members' distances in index order from +0.0,
/// as a loop over all points adding each to its cluster's sum would. The point itself is not
/// skipped: its distance to itself is exactly 0.0, and adding 0.0 to a sum that starts at +0.0
/// leaves it unchanged, bit for bit.
///
/// [`SILHOUETTE_ROWS`] points are handled together: their distances to every point `j` are
/// stored side by side (`d[j·B..(j + 1)·B]`), so summing a cluster adds one short row of values
/// per member with vector instructions, `B` independent chains of additions. Compiled for AVX2
/// where the processor has it; the vector instructions round exactly as the scalar ones, and the
/// square root is correctly rounded in both.
fn silhouette_block(p: &Points, lo: usize, hi: usize) -> Vec<Vec<f64>> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2 (checked just above).
        return unsafe { silhouette_block_avx2(p, lo, hi) };
    }
    silhouette_block_portable::<false>(p, lo, hi)
}

/// [`silhouette_block`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn silhouette_block_avx2(p: &Points, lo: usize, hi: usize) -> Vec<Vec<f64>> {
    silhouette_block_portable::<true>(p, lo, hi)
}

/// The body of [`silhouette_block`]; `AVX2` says the caller checked that the processor has AVX2,
/// so the member sums use [`sum_side_by_side_avx2`] (decided once per block, not per sum).
#[inline(always)]
fn silhouette_block_portable<const AVX2: bool>(p: &Points, lo: usize, hi: usize) -> Vec<Vec<f64>> {
    let Points {
        flat,
        width,
        n,
        members,
        sizes,
    } = *p;
    const B: usize = SILHOUETTE_ROWS;
    let mut sums: Vec<Vec<f64>> = sizes
        .iter()
        .map(|s| vec![0.0; (hi - lo) * s.len()])
        .collect();
    let mut d = vec![0.0; B * n];
    // The block's points column by column: column t of point i + b is xi[t·B + b]; a block with
    // fewer than B points left repeats its last point (those lanes are computed, not used).
    let mut xi = vec![0.0; width * B];
    let mut i = lo;
    while i < hi {
        let m = B.min(hi - i);
        for t in 0..width {
            for b in 0..B {
                xi[t * B + b] = flat[(i + b.min(m - 1)) * width + t];
            }
        }
        match width {
            2 => distances_side_by_side::<2>(flat, &xi, width, &mut d),
            3 => distances_side_by_side::<3>(flat, &xi, width, &mut d),
            4 => distances_side_by_side::<4>(flat, &xi, width, &mut d),
            5 => distances_side_by_side::<5>(flat, &xi, width, &mut d),
            6 => distances_side_by_side::<6>(flat, &xi, width, &mut d),
            _ => distances_side_by_side::<0>(flat, &xi, width, &mut d),
        }
        for (s, (mem, sz)) in sums.iter_mut().zip(members.iter().zip(sizes)) {
            let slots = sz.len();
            for (c, cm) in mem.iter().enumerate() {
                let t = sum_side_by_side::<AVX2>(&d, cm);
                for (b, &v) in t.iter().enumerate().take(m) {
                    s[(i + b - lo) * slots + c] = v;
                }
            }
        }
        i += m;
    }
    sums
}

/// `t[b]` = the sum of `d[j·B + b]` over `members` in the order given, from +0.0, for every `b`
/// of a [`SILHOUETTE_ROWS`]-wide row: one vector addition per four values when `AVX2` (the
/// compiler keeps such sums scalar and spills them), plain loops otherwise. Every lane adds the
/// same values in the same order either way, so the same bits.
#[inline(always)]
fn sum_side_by_side<const AVX2: bool>(d: &[f64], members: &[usize]) -> [f64; SILHOUETTE_ROWS] {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: `AVX2` is only true in code reached after the processor was checked for AVX2.
        return unsafe { sum_side_by_side_avx2(d, members) };
    }
    sum_side_by_side_plain(d, members)
}

/// [`sum_side_by_side`] one value at a time (processors without AVX2, and the tests' reference).
fn sum_side_by_side_plain(d: &[f64], members: &[usize]) -> [f64; SILHOUETTE_ROWS] {
    let mut t = [0.0f64; SILHOUETTE_ROWS];
    for &j in members {
        let r = &d[j * SILHOUETTE_ROWS..(j + 1) * SILHOUETTE_ROWS];
        for (a, &v) in t.iter_mut().zip(r) {
            *a += v;
        }
    }
    t
}

/// [`sum_side_by_side`] with AVX2 vector additions (eight independent chains of four lanes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sum_side_by_side_avx2(d: &[f64], members: &[usize]) -> [f64; SILHOUETTE_ROWS] {
    use std::arch::x86_64::{
        __m256d, _mm256_add_pd, _mm256_loadu_pd, _mm256_setzero_pd, _mm256_storeu_pd,
    };
    const V: usize = SILHOUETTE_ROWS / 4;
    let mut acc: [__m256d; V] = [_mm256_setzero_pd(); V];
    for &j in members {
        let r: &[f64; SILHOUETTE_ROWS] = d[j * SILHOUETTE_ROWS..(j + 1) * SILHOUETTE_ROWS]
            .try_into()
            .expect("SILHOUETTE_ROWS distances per point");
        for (v, a) in acc.iter_mut().enumerate() {
            // SAFETY: `r` holds SILHOUETTE_ROWS values, so lanes 4v..4v + 4 are in bounds.
            *a = _mm256_add_pd(*a, unsafe { _mm256_loadu_pd(r.as_ptr().add(4 * v)) });
        }
    }
    let mut t = [0.0f64; SILHOUETTE_ROWS];
    for (v, a) in acc.iter().enumerate() {
        // SAFETY: lanes 4v..4v + 4 of `t` are in bounds.
        unsafe { _mm256_storeu_pd(t.as_mut_ptr().add(4 * v), *a) };
    }
    t
}

/// `d[j·B + b]` = Euclidean distance from the block's point `b` (column `t` of it in
/// `xi[t·B + b]`) to point `j` of `flat` (rows of `width` values; `W` is the width when known at
/// compile time, 0 otherwise): [`dist`]'s arithmetic (the squares of `a[t] − b[t]` added in
/// column order from +0.0, then the square root), so the same bits.
#[inline(always)]
fn distances_side_by_side<const W: usize>(flat: &[f64], xi: &[f64], width: usize, d: &mut [f64]) {
    const B: usize = SILHOUETTE_ROWS;
    let w = if W == 0 { width } else { W };
    for (j, out) in d.chunks_exact_mut(B).enumerate() {
        let xj = &flat[j * w..(j + 1) * w];
        let mut s = [0.0f64; B];
        for (t, &bt) in xj.iter().enumerate() {
            let a: &[f64; B] = xi[t * B..(t + 1) * B]
                .try_into()
                .expect("B values per column");
            for b in 0..B {
                s[b] += (a[b] - bt) * (a[b] - bt);
            }
        }
        for b in 0..B {
            out[b] = s[b].sqrt();
        }
    }
}

/// Mean of a list of silhouette values (0 for none).
pub fn mean_silhouette(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        0.0
    } else {
        samples.iter().sum::<f64>() / samples.len() as f64
    }
}

/// Mean silhouette value over all points (scikit-learn `silhouette_score`); in [−1, 1].
pub fn silhouette_score(x: &[Vec<f64>], labels: &[usize]) -> f64 {
    mean_silhouette(&silhouette_samples(x, labels))
}

/// Davies–Bouldin index: the mean over clusters of the worst ratio
/// `(s_i + s_j) / d(c_i, c_j)`, with `s` the mean distance of a cluster's points to its centroid.
/// Lower is better; 0 when all centroids coincide (scikit-learn's convention).
pub fn davies_bouldin(x: &[Vec<f64>], labels: &[usize]) -> f64 {
    let c = centroids(x, labels);
    let sizes = cluster_sizes(labels);
    let mut scatter = vec![0.0; c.len()];
    for (p, &l) in x.iter().zip(labels) {
        scatter[l] += dist(p, &c[l]);
    }
    let live: Vec<usize> = (0..c.len()).filter(|&i| sizes[i] > 0).collect();
    for &i in &live {
        scatter[i] /= sizes[i] as f64;
    }
    if live.len() < 2 {
        return 0.0;
    }
    let mut any_apart = false;
    let mut total = 0.0;
    for &i in &live {
        let mut worst: f64 = 0.0;
        for &j in &live {
            if i == j {
                continue;
            }
            let d = dist(&c[i], &c[j]);
            if d > 0.0 {
                any_apart = true;
                worst = worst.max((scatter[i] + scatter[j]) / d);
            } else {
                worst = f64::INFINITY;
            }
        }
        total += worst;
    }
    if any_apart {
        total / live.len() as f64
    } else {
        0.0
    }
}

/// Calinski–Harabasz index (variance-ratio criterion):
/// `[B / (k − 1)] / [W / (n − k)]` with `B` the between-cluster and `W` the within-cluster sum of
/// squares. Higher is better; 1 when `W` is 0 (scikit-learn's convention).
pub fn calinski_harabasz(x: &[Vec<f64>], labels: &[usize]) -> f64 {
    let n = x.len();
    let k = n_clusters(labels);
    if n == 0 || k < 2 || n <= k {
        return 0.0;
    }
    let d = x[0].len();
    let mut mean = vec![0.0; d];
    for p in x {
        for (m, v) in mean.iter_mut().zip(p) {
            *m += v / n as f64;
        }
    }
    let c = centroids(x, labels);
    let sizes = cluster_sizes(labels);
    let between: f64 = c
        .iter()
        .zip(&sizes)
        .filter(|(_, s)| **s > 0)
        .map(|(ci, &s)| s as f64 * sq_dist(ci, &mean))
        .sum();
    let within: f64 = x.iter().zip(labels).map(|(p, &l)| sq_dist(p, &c[l])).sum();
    if within == 0.0 {
        1.0
    } else {
        between * (n - k) as f64 / (within * (k - 1) as f64)
    }
}

fn pairs(m: usize) -> f64 {
    let m = m as f64;
    m * (m - 1.0) / 2.0
}

/// Adjusted Rand index between two labellings of the same points (Hubert & Arabie 1985): the Rand
/// index corrected for the agreement expected by chance. 1 for identical partitions (up to
/// renaming), about 0 for independent ones, negative for worse than chance. When both labellings
/// are trivial (one cluster, or all singletons) the result is 1, as in scikit-learn.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    assert_eq!(
        a.len(),
        b.len(),
        "both labellings must cover the same points"
    );
    let n = a.len();
    let (ra, rb) = (n_slots(a), n_slots(b));
    let mut table = vec![0usize; ra * rb];
    for (&i, &j) in a.iter().zip(b) {
        table[i * rb + j] += 1;
    }
    let sum_cells: f64 = table.iter().map(|&c| pairs(c)).sum();
    let sum_a: f64 = cluster_sizes(a).iter().map(|&c| pairs(c)).sum();
    let sum_b: f64 = cluster_sizes(b).iter().map(|&c| pairs(c)).sum();
    let total = pairs(n);
    if total == 0.0 {
        return 1.0;
    }
    let expected = sum_a * sum_b / total;
    let max = 0.5 * (sum_a + sum_b);
    if max == expected {
        return 1.0;
    }
    (sum_cells - expected) / (max - expected)
}

/// The knee (elbow) of a decreasing, convex curve such as inertia against k: the index of the point
/// farthest below the straight line joining the first and last points, after both axes are scaled
/// to [0, 1]. This is the maximum of the Kneedle difference curve (Satopää et al. 2011) without its
/// sensitivity threshold. `None` with fewer than three points or when no interior point lies below
/// the chord (no bend).
pub fn knee(xs: &[f64], ys: &[f64]) -> Option<usize> {
    assert_eq!(xs.len(), ys.len(), "one y per x");
    if xs.len() < 3 {
        return None;
    }
    let span = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo, (hi - lo).max(f64::MIN_POSITIVE))
    };
    let (xlo, xw) = span(xs);
    let (ylo, yw) = span(ys);
    let xn: Vec<f64> = xs.iter().map(|v| (v - xlo) / xw).collect();
    let yn: Vec<f64> = ys.iter().map(|v| (v - ylo) / yw).collect();
    let last = xs.len() - 1;
    let (x0, y0, x1, y1) = (xn[0], yn[0], xn[last], yn[last]);
    // Signed distance below the chord (positive when the curve sags under it); the constant norm
    // of the chord does not change the arg max.
    let below = |i: usize| (y1 - y0) * xn[i] - (x1 - x0) * yn[i] + x1 * y0 - y1 * x0;
    let sign = if (y1 - y0) * (x1 - x0) < 0.0 {
        1.0
    } else {
        -1.0
    };
    let mut best = None;
    let mut best_d = 1e-12;
    for i in 1..last {
        let d = sign * below(i);
        if d > best_d {
            best_d = d;
            best = Some(i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::assert_near;

    /// Ten 2-D points in three loose groups, two labellings of them, and scikit-learn's values
    /// (silhouette_score, silhouette_samples, davies_bouldin_score, calinski_harabasz_score,
    /// adjusted_rand_score): tests/reference/ml_cluster_metrics.py.
    fn reference() -> crate::test_fixtures::Reference {
        crate::test_fixtures::Reference::load("ml_cluster_metrics")
    }

    fn points() -> Vec<Vec<f64>> {
        reference().f64ss("/points")
    }

    fn labellings() -> (Vec<usize>, Vec<usize>) {
        let r = reference();
        (r.usizes("/labels"), r.usizes("/other"))
    }

    /// Agreement required with the scikit-learn references.
    const TOL: f64 = 1e-10;

    #[test]
    fn silhouette_matches_sklearn() {
        let r = reference();
        let x = points();
        let (labels, other) = labellings();
        assert_near(silhouette_score(&x, &labels), r.f64("/silhouette"), TOL);
        assert_near(
            silhouette_score(&x, &other),
            r.f64("/silhouette_other"),
            TOL,
        );
        let want = r.f64s("/silhouette_samples");
        assert_eq!(want.len(), x.len());
        for (a, b) in silhouette_samples(&x, &labels).iter().zip(want) {
            assert_near(*a, b, TOL);
        }
    }

    #[test]
    fn many_labellings_at_once_equal_one_at_a_time() {
        let x = points();
        let (labels, other) = labellings();
        let many = silhouette_samples_many(&x, &[labels.as_slice(), other.as_slice(), &[0; 10]]);
        assert_eq!(many[0], silhouette_samples(&x, &labels));
        assert_eq!(many[1], silhouette_samples(&x, &other));
        assert_eq!(many[2], vec![0.0; 10]);
    }

    /// The silhouette as first written: for every point, one pass over all other points in
    /// index order adding each distance to its cluster's sum.
    fn silhouette_one_pass(x: &[Vec<f64>], labels: &[usize]) -> Vec<f64> {
        let n = x.len();
        let sizes = cluster_sizes(labels);
        let slots = sizes.len();
        if sizes.iter().filter(|&&s| s > 0).count() < 2 {
            return vec![0.0; n];
        }
        (0..n)
            .map(|i| {
                let mut acc = vec![0.0; slots];
                for j in 0..n {
                    if j != i {
                        acc[labels[j]] += dist(&x[i], &x[j]);
                    }
                }
                let own = labels[i];
                if sizes[own] < 2 {
                    return 0.0;
                }
                let a = acc[own] / (sizes[own] - 1) as f64;
                let b = (0..slots)
                    .filter(|&c| c != own && sizes[c] > 0)
                    .map(|c| acc[c] / sizes[c] as f64)
                    .fold(f64::INFINITY, f64::min);
                let m = a.max(b);
                if m > 0.0 { (b - a) / m } else { 0.0 }
            })
            .collect()
    }

    /// The blocked sums ([`SILHOUETTE_ROWS`] points at a time, clusters' members gathered in
    /// index order) give the one-pass loop's values bit for bit: widths 1 to 9 (unrolled and
    /// generic distance loops), point counts that leave a part-filled group of points in a
    /// block and span several parallel blocks, empty label slots, singletons, repeated points.
    #[test]
    fn blocked_silhouette_equals_one_pass_bit_for_bit() {
        use rand::Rng as _;
        let mut r = crate::rng::stream(11, "silhouette-blocked");
        for (n, width, k) in [
            (7, 2, 3),
            (530, 5, 9),
            (263, 9, 4),
            (1030, 5, 2),
            (61, 1, 3),
            (64, 6, 5),
            (300, 3, 6),
        ] {
            let mut x: Vec<Vec<f64>> = (0..n)
                .map(|_| (0..width).map(|_| r.gen_range(-3.0..3.0)).collect())
                .collect();
            // Copies of earlier points (distance exactly 0 to them).
            for i in (5..n).step_by(5) {
                x[i] = x[i - 3].clone();
            }
            let mut labellings: Vec<Vec<usize>> = Vec::new();
            for kk in 2..=k {
                // Label kk + 1 never occurs below kk + 2 slots: an empty slot.
                labellings.push(
                    (0..n)
                        .map(|_| {
                            let l = r.gen_range(0..kk);
                            if l == 1 { kk + 1 } else { l }
                        })
                        .collect(),
                );
            }
            labellings[0][0] = k + 5; // a singleton
            let refs: Vec<&[usize]> = labellings.iter().map(Vec::as_slice).collect();
            let many = silhouette_samples_many(&x, &refs);
            let serial = silhouette_samples_many_serial(&x, &refs);
            for (i, l) in labellings.iter().enumerate() {
                let want = silhouette_one_pass(&x, l);
                let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&many[i]),
                    bits(&want),
                    "n {n} width {width} labelling {i}"
                );
                assert_eq!(
                    bits(&serial[i]),
                    bits(&want),
                    "n {n} width {width} labelling {i}"
                );
            }
        }
    }

    /// The AVX2 member sums equal the one-value-at-a-time loop bit for bit (values of mixed
    /// magnitude, so the order of the additions shows in the result; members repeated and
    /// out of order; none at all).
    #[test]
    fn vector_member_sums_equal_plain_sums_bit_for_bit() {
        use rand::Rng as _;
        let mut r = crate::rng::stream(5, "side-by-side");
        let n = 97;
        let d: Vec<f64> = (0..n * SILHOUETTE_ROWS)
            .map(|_| r.gen_range(0.0..1.0) * 10f64.powi(r.gen_range(-8..9)))
            .collect();
        // The vector sums where the processor has AVX2 (elsewhere both sides are the plain loop).
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        for len in [0, 1, 2, 5, 96, 300] {
            let members: Vec<usize> = (0..len).map(|_| r.gen_range(0..n)).collect();
            let bits = |v: [f64; SILHOUETTE_ROWS]| v.map(f64::to_bits);
            let vector = if avx2 {
                sum_side_by_side::<true>(&d, &members)
            } else {
                sum_side_by_side::<false>(&d, &members)
            };
            assert_eq!(
                bits(vector),
                bits(sum_side_by_side_plain(&d, &members)),
                "{len} members"
            );
        }
    }

    #[test]
    fn silhouette_of_a_singleton_is_zero() {
        let x = points();
        let (mut l, _) = labellings();
        l[9] = 3;
        assert_eq!(silhouette_samples(&x, &l)[9], 0.0);
        assert_eq!(silhouette_score(&x, &[0; 10]), 0.0);
    }

    #[test]
    fn davies_bouldin_and_calinski_harabasz_match_sklearn() {
        let r = reference();
        let x = points();
        let (labels, _) = labellings();
        assert_near(davies_bouldin(&x, &labels), r.f64("/davies_bouldin"), TOL);
        assert_near(
            calinski_harabasz(&x, &labels),
            r.f64("/calinski_harabasz"),
            TOL,
        );
    }

    #[test]
    fn adjusted_rand_matches_sklearn() {
        let r = reference();
        let (labels, other) = labellings();
        assert_near(adjusted_rand_index(&labels, &other), r.f64("/ari"), TOL);
        // Renaming clusters does not matter.
        let renamed: Vec<usize> = labels.iter().map(|l| (l + 1) % 3).collect();
        assert_near(adjusted_rand_index(&labels, &renamed), 1.0, TOL);
        assert_near(
            adjusted_rand_index(&r.usizes("/ari_2/a"), &r.usizes("/ari_2/b")),
            r.f64("/ari_2/value"),
            TOL,
        );
        assert_near(adjusted_rand_index(&[0, 0, 0], &[1, 1, 1]), 1.0, TOL);
    }

    #[test]
    fn inertia_and_centroids() {
        let x = vec![vec![0.0, 0.0], vec![2.0, 0.0], vec![10.0, 10.0]];
        let l = [0, 0, 1];
        assert_eq!(centroids(&x, &l), vec![vec![1.0, 0.0], vec![10.0, 10.0]]);
        assert_near(inertia(&x, &l), 2.0, TOL);
    }

    #[test]
    fn knee_of_an_elbow_curve() {
        let k = [2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        // Steep until k = 4, flat after: normalised distances below the chord peak at k = 4.
        let y = [100.0, 50.0, 20.0, 17.0, 15.0, 14.0];
        assert_eq!(knee(&k, &y), Some(2));
        // A straight line has no knee.
        assert_eq!(knee(&k, &[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]), None);
        assert_eq!(knee(&k[..2], &y[..2]), None);
    }
}
