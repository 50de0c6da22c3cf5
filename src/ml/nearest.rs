//! The nearest-centroid kernels shared by the segmentation's k-means and the Gaussian mixture's
//! k-means initialisation: rows kept column by column ([`Flat`]), and loops
//! that compute the squared distances of [`LANES`] rows at once to each centroid (compiled for
//! AVX2 where the processor has it). Every distance adds the same squares in the same order from
//! +0.0 as the one-row loop ([`sq_dist_flat`]), so results are the same bits as that loop's;
//! `D` is the row width when it is known at compile time (0: read it from the rows).

use ndarray::Array2;

/// Rows of equal width `d` kept column by column (the layout the distance loops scan several
/// rows at once, and the centroid sums read): one copy of the values, not two.
pub(crate) struct Flat {
    /// The values column by column: column `t` is `cols[t·n..(t + 1)·n]`.
    pub(crate) cols: Vec<f64>,
    /// Rows (each column's length).
    n: usize,
    /// Values per row (at least 1).
    pub(crate) d: usize,
}

impl Flat {
    /// A matrix's rows (a matrix without columns gets width 1 and no rows).
    pub(crate) fn from_matrix(x: &Array2<f64>) -> Flat {
        if x.ncols() == 0 {
            return Flat {
                cols: Vec::new(),
                n: 0,
                d: 1,
            };
        }
        Flat {
            cols: x.t().iter().copied().collect(),
            n: x.nrows(),
            d: x.ncols(),
        }
    }

    /// Columns of equal length already one after another in `cols` (`d ≥ 1` of them; row `i`
    /// is every column's value `i`): the same as [`Flat::from_matrix`] of their matrix.
    pub(crate) fn from_column_major(cols: Vec<f64>, d: usize) -> Flat {
        Flat {
            n: cols.len() / d,
            cols,
            d,
        }
    }

    /// Rows of `d ≥ 1` values one after another (`values.len() / d` of them), rearranged.
    pub(crate) fn from_rows(values: &[f64], d: usize) -> Flat {
        let n = values.len() / d;
        let cols = (0..d)
            .flat_map(|t| (0..n).map(move |i| values[i * d + t]))
            .collect();
        Flat { cols, n, d }
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// Row `i`'s values, gathered from the columns (for the few rows handled one at a time).
    pub(crate) fn row(&self, i: usize) -> Vec<f64> {
        (0..self.d).map(|t| self.cols[t * self.n + i]).collect()
    }

    /// Every row, one after another (the layout the one-row reference loops of the tests read).
    #[cfg(test)]
    pub(crate) fn row_major(&self) -> Vec<f64> {
        (0..self.n).flat_map(|i| self.row(i)).collect()
    }
}

/// Squared Euclidean distance over the first `d` values (`D` when it is not 0), summed in
/// dimension order ([`cluster_metrics::sq_dist`]'s arithmetic, so the same bits).
#[inline(always)]
pub(crate) fn sq_dist_flat<const D: usize>(a: &[f64], b: &[f64], d: usize) -> f64 {
    let d = if D == 0 { d } else { D };
    let (a, b) = (&a[..d], &b[..d]);
    let mut s = 0.0;
    for t in 0..d {
        s += (a[t] - b[t]) * (a[t] - b[t]);
    }
    s
}

/// Rows the distance loops handle together (one pass over a centroid's values per group; the
/// rows' sums are independent, so they fill the processor's vector lanes).
pub(crate) const LANES: usize = 8;

/// Squared distances from rows `i0..i0 + LANES` (column layout, `n` rows) to `point`, each
/// summed over the columns in order from +0.0 ([`sq_dist_flat`]'s arithmetic, so the same bits).
#[inline(always)]
fn sq_dists_lanes<const D: usize>(
    cols: &[f64],
    n: usize,
    d: usize,
    i0: usize,
    point: &[f64],
) -> [f64; LANES] {
    let d = if D == 0 { d } else { D };
    let mut s = [0.0f64; LANES];
    for (t, &p) in point[..d].iter().enumerate() {
        let x: &[f64; LANES] = cols[t * n + i0..t * n + i0 + LANES]
            .try_into()
            .expect("a full group of rows");
        for l in 0..LANES {
            s[l] += (x[l] - p) * (x[l] - p);
        }
    }
    s
}

/// For every row of `rows`, the index of its nearest centroid (flat, `d` values each; the first
/// on ties) in `labels` and its squared distance to it in `dist`.
pub(crate) fn nearest_all<const D: usize>(
    rows: &Flat,
    centroids: &[f64],
    labels: &mut [usize],
    dist: &mut [f64],
) {
    nearest_from::<D>(rows, centroids, 0, labels, dist);
}

/// [`nearest_all`] for the `labels.len()` rows from row `from` on (`labels[0]` and `dist[0]` are
/// row `from`'s): a block of rows whose values are then still in the cache.
pub(crate) fn nearest_from<const D: usize>(
    rows: &Flat,
    centroids: &[f64],
    from: usize,
    labels: &mut [usize],
    dist: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2 (checked just above). The vector instructions
        // round every addition, subtraction and multiplication exactly as the scalar ones do.
        unsafe { nearest_all_avx2::<D>(rows, centroids, from, labels, dist) };
        return;
    }
    nearest_all_portable::<D>(rows, centroids, from, labels, dist);
}

/// [`nearest_all`] with AVX2 instructions written out: two groups of [`LANES`] rows at a time
/// keep their running distances, best distances and best centroids in vector registers (the
/// compiler's own vectorisation of the portable loop spilled them, and one group's chain of
/// compare-and-blend per centroid left the processor waiting). The same subtractions, multiplications and
/// additions in the same order, and a "less than" that is false for NaN as Rust's `<` is, so the
/// same labels and distances as [`nearest_all_portable`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn nearest_all_avx2<const D: usize>(
    rows: &Flat,
    centroids: &[f64],
    from: usize,
    labels: &mut [usize],
    dist: &mut [f64],
) {
    use std::arch::x86_64::{
        __m256d, _CMP_LT_OQ, _mm256_add_pd, _mm256_blendv_pd, _mm256_cmp_pd, _mm256_loadu_pd,
        _mm256_mul_pd, _mm256_set1_pd, _mm256_setzero_pd, _mm256_storeu_pd, _mm256_sub_pd,
    };
    // Two groups of LANES rows at a time: four independent chains of compare-and-blend per
    // centroid, enough to hide their latency.
    const G: usize = 2 * LANES;
    const H: usize = G / 4;
    let d = if D == 0 { rows.d } else { D };
    let n = rows.len();
    let full = from + labels.len() / G * G;
    for i0 in (from..full).step_by(G) {
        let mut best: [__m256d; H] = [_mm256_set1_pd(f64::INFINITY); H];
        let mut which: [__m256d; H] = [_mm256_setzero_pd(); H];
        // The centroid's index as a float, counted up exactly (small integers).
        let mut jf = _mm256_setzero_pd();
        let one = _mm256_set1_pd(1.0);
        for c in centroids.chunks_exact(d) {
            let mut s: [__m256d; H] = [_mm256_setzero_pd(); H];
            for (t, &p) in c[..d].iter().enumerate() {
                let p = _mm256_set1_pd(p);
                let x: &[f64; G] = rows.cols[t * n + i0..t * n + i0 + G]
                    .try_into()
                    .expect("a full group of rows");
                for (h, sh) in s.iter_mut().enumerate() {
                    // SAFETY: `x` holds G = 4·H values, so lanes 4h..4h + 4 are in bounds.
                    let xv = unsafe { _mm256_loadu_pd(x.as_ptr().add(4 * h)) };
                    let diff = _mm256_sub_pd(xv, p);
                    *sh = _mm256_add_pd(*sh, _mm256_mul_pd(diff, diff));
                }
            }
            for h in 0..H {
                let closer = _mm256_cmp_pd::<_CMP_LT_OQ>(s[h], best[h]);
                best[h] = _mm256_blendv_pd(best[h], s[h], closer);
                which[h] = _mm256_blendv_pd(which[h], jf, closer);
            }
            jf = _mm256_add_pd(jf, one);
        }
        let (mut b, mut w) = ([0.0f64; G], [0.0f64; G]);
        for h in 0..H {
            // SAFETY: lanes 4h..4h + 4 of `b` and `w` are in bounds.
            unsafe {
                _mm256_storeu_pd(b.as_mut_ptr().add(4 * h), best[h]);
                _mm256_storeu_pd(w.as_mut_ptr().add(4 * h), which[h]);
            }
        }
        finish_group::<D>(rows, centroids, i0, &b, &w, from, labels, dist);
    }
    nearest_tail::<D>(rows, centroids, full, from, labels, dist);
}

/// Writes the labels and distances of rows `i0..i0 + best.len()` (at `i0 - from` in `labels`
/// and `dist`) from their best squared distances and best centroids (as floats, `which`, as long
/// as `best`). No centroid was closer than ∞ (distances of ∞ or NaN): the first one is taken,
/// with its own distance, as in the one-row loop of [`nearest_tail`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn finish_group<const D: usize>(
    rows: &Flat,
    centroids: &[f64],
    i0: usize,
    best: &[f64],
    which: &[f64],
    from: usize,
    labels: &mut [usize],
    dist: &mut [f64],
) {
    let d = if D == 0 { rows.d } else { D };
    for l in 0..best.len() {
        labels[i0 - from + l] = which[l] as usize;
        dist[i0 - from + l] = if best[l] == f64::INFINITY {
            sq_dist_flat::<D>(&rows.row(i0 + l), &centroids[..d], d)
        } else {
            best[l]
        };
    }
}

/// Rows `start..from + labels.len()`, one at a time: [`nearest_from`] for the rows after the
/// last full group (row `i` at `i - from` in `labels` and `dist`).
#[inline(always)]
fn nearest_tail<const D: usize>(
    rows: &Flat,
    centroids: &[f64],
    start: usize,
    from: usize,
    labels: &mut [usize],
    dist: &mut [f64],
) {
    let d = if D == 0 { rows.d } else { D };
    for i in start..from + labels.len() {
        let r = &rows.row(i);
        let mut best = (0, f64::INFINITY);
        for (j, c) in centroids.chunks_exact(d).enumerate() {
            let s = sq_dist_flat::<D>(r, c, d);
            if s < best.1 {
                best = (j, s);
            }
        }
        labels[i - from] = best.0;
        dist[i - from] = if best.1 == f64::INFINITY {
            sq_dist_flat::<D>(r, &centroids[..d], d)
        } else {
            best.1
        };
    }
}

#[inline(always)]
fn nearest_all_portable<const D: usize>(
    rows: &Flat,
    centroids: &[f64],
    from: usize,
    labels: &mut [usize],
    dist: &mut [f64],
) {
    let d = if D == 0 { rows.d } else { D };
    let n = rows.len();
    let full = from + labels.len() / LANES * LANES;
    for i0 in (from..full).step_by(LANES) {
        let mut best = [f64::INFINITY; LANES];
        // The index as a float, so that the choice is made in the same vector lanes.
        let mut which = [0.0f64; LANES];
        for (j, c) in centroids.chunks_exact(d).enumerate() {
            let s = sq_dists_lanes::<D>(&rows.cols, n, d, i0, c);
            let jf = j as f64;
            for l in 0..LANES {
                let closer = s[l] < best[l];
                best[l] = if closer { s[l] } else { best[l] };
                which[l] = if closer { jf } else { which[l] };
            }
        }
        finish_group::<D>(rows, centroids, i0, &best, &which, from, labels, dist);
    }
    nearest_tail::<D>(rows, centroids, full, from, labels, dist);
}

/// `out[i]` = squared distance from row `from + i` of `rows` to `point` ([`sq_dist_flat`]'s
/// bits), for `out.len()` rows.
pub(crate) fn sq_dists_to<const D: usize>(
    rows: &Flat,
    point: &[f64],
    from: usize,
    out: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: as in `nearest_all`.
        unsafe { sq_dists_to_avx2::<D>(rows, point, from, out) };
        return;
    }
    sq_dists_to_portable::<D>(rows, point, from, out);
}

/// [`sq_dists_to`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sq_dists_to_avx2<const D: usize>(rows: &Flat, point: &[f64], from: usize, out: &mut [f64]) {
    sq_dists_to_portable::<D>(rows, point, from, out);
}

#[inline(always)]
fn sq_dists_to_portable<const D: usize>(rows: &Flat, point: &[f64], from: usize, out: &mut [f64]) {
    let d = if D == 0 { rows.d } else { D };
    let n = rows.len();
    let full = out.len() / LANES * LANES;
    for g in (0..full).step_by(LANES) {
        out[g..g + LANES].copy_from_slice(&sq_dists_lanes::<D>(&rows.cols, n, d, from + g, point));
    }
    for (i, o) in out.iter_mut().enumerate().skip(full) {
        *o = sq_dist_flat::<D>(&rows.row(from + i), point, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    /// Rows built from joined columns equal rows built from their matrix, and read back row by row
    /// they are the matrix's rows.
    #[test]
    fn column_major_equals_from_matrix() {
        let mut r = crate::rng::stream(4, "flat-columns");
        for (n, d) in [(0, 3), (1, 1), (7, 3), (100, 5)] {
            let columns: Vec<Vec<f64>> = (0..d)
                .map(|_| (0..n).map(|_| r.gen_range(-1.0..1.0)).collect())
                .collect();
            let x = Array2::from_shape_fn((n, d), |(i, t)| columns[t][i]);
            let (a, b) = (
                Flat::from_column_major(columns.concat(), d),
                Flat::from_matrix(&x),
            );
            assert_eq!((a.n, a.d), (b.n, b.d), "{n} × {d}");
            assert_eq!(a.cols, b.cols, "{n} × {d}");
            assert_eq!(a.row_major(), x.iter().copied().collect::<Vec<_>>());
        }
    }

    /// The dispatched kernels (AVX2 on processors that have it) equal the portable loops and the
    /// one-row loop: labels, and distances as bits, at unrolled and generic widths, with exact
    /// ties between centroids, copies, infinite and NaN values, and rows left after the groups.
    #[test]
    fn vector_kernels_equal_portable_and_one_row_loops() {
        let mut r = crate::rng::stream(3, "nearest-kernels");
        for (n, d, k) in [(8, 2, 3), (61, 3, 4), (203, 5, 9), (40, 9, 2), (17, 1, 5)] {
            let mut values: Vec<f64> = (0..n * d)
                .map(|_| f64::from(r.gen_range(-3i32..4)) * 0.5 + r.gen_range(0.0..1e-3))
                .collect();
            values[d] = f64::INFINITY;
            values[2 * d] = f64::NAN;
            for i in (3..n).step_by(7) {
                let (a, b) = values.split_at_mut(i * d);
                b[..d].copy_from_slice(&a[(i - 2) * d..(i - 1) * d]);
            }
            let rows = Flat::from_rows(&values, d);
            // Centroids: copies of rows (ties with those rows) and two equal centroids.
            let mut centroids: Vec<f64> = (0..k).flat_map(|j| rows.row(3 + j)).collect();
            let first = centroids[..d].to_vec();
            centroids[(k - 1) * d..].copy_from_slice(&first);
            let (mut l1, mut d1) = (vec![0; n], vec![0.0; n]);
            let (mut l2, mut d2) = (vec![0; n], vec![0.0; n]);
            nearest_all::<0>(&rows, &centroids, &mut l1, &mut d1);
            nearest_all_portable::<0>(&rows, &centroids, 0, &mut l2, &mut d2);
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(l1, l2, "n {n} d {d} k {k}");
            assert_eq!(bits(&d1), bits(&d2), "n {n} d {d} k {k}");
            let (mut l3, mut d3) = (vec![0; n], vec![0.0; n]);
            nearest_tail::<0>(&rows, &centroids, 0, 0, &mut l3, &mut d3);
            assert_eq!(l1, l3, "n {n} d {d} k {k}");
            assert_eq!(bits(&d1), bits(&d3), "n {n} d {d} k {k}");
            if d == 5 {
                nearest_all::<5>(&rows, &centroids, &mut l2, &mut d2);
                assert_eq!((l1.clone(), bits(&d1)), (l2.clone(), bits(&d2)));
            }
            // Blocks of rows starting anywhere, full groups or not: the same rows' results.
            for (from, len) in [
                (0, n),
                (1, n - 1),
                (5, 20.min(n - 5)),
                (n - 3, 3),
                (n / 2, 0),
            ] {
                let (mut lb, mut db) = (vec![0; len], vec![0.0; len]);
                nearest_from::<0>(&rows, &centroids, from, &mut lb, &mut db);
                assert_eq!(lb, l1[from..from + len], "n {n} d {d} k {k} from {from}");
                assert_eq!(bits(&db), bits(&d1[from..from + len]));
                nearest_all_portable::<0>(&rows, &centroids, from, &mut lb, &mut db);
                assert_eq!(lb, l1[from..from + len], "n {n} d {d} k {k} from {from}");
                assert_eq!(bits(&db), bits(&d1[from..from + len]));
            }
        }
    }

    /// Distances to a point from any first row, for any number of rows (full groups of
    /// [`LANES`] and rows after them), are the one-row loop's bits.
    #[test]
    fn distances_from_any_row_equal_the_one_row_loop() {
        let mut r = crate::rng::stream(6, "sq-dists-to");
        for (n, d) in [(5, 2), (41, 3), (100, 5), (37, 9)] {
            let values: Vec<f64> = (0..n * d).map(|_| r.gen_range(-2.0..2.0)).collect();
            let rows = Flat::from_rows(&values, d);
            let point: Vec<f64> = (0..d).map(|_| r.gen_range(-1.0..1.0)).collect();
            for (from, len) in [(0, n), (1, n - 1), (3, (n - 3).min(17)), (n - 1, 1), (n, 0)] {
                let mut out = vec![0.0; len];
                sq_dists_to::<0>(&rows, &point, from, &mut out);
                let want: Vec<u64> = (from..from + len)
                    .map(|i| sq_dist_flat::<0>(&values[i * d..(i + 1) * d], &point, d).to_bits())
                    .collect();
                let got: Vec<u64> = out.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, want, "n {n} d {d} from {from}");
                if d == 5 {
                    sq_dists_to::<5>(&rows, &point, from, &mut out);
                    assert_eq!(out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want);
                }
            }
        }
    }
}
