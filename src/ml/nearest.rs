//! The nearest-centroid kernels shared by the segmentation's k-means and the Gaussian mixture's
//! k-means initialisation: rows kept both row by row and column by column ([`Flat`]), and loops
//! that compute the squared distances of [`LANES`] rows at once to each centroid (compiled for
//! AVX2 where the processor has it). Every distance adds the same squares in the same order from
//! +0.0 as the one-row loop ([`sq_dist_flat`]), so results are the same bits as that loop's;
//! `D` is the row width when it is known at compile time (0: read it from the rows).

use ndarray::Array2;

/// Rows of equal width `d` stored one after another (the layout the centroid sums scan), and
/// the same values column by column (the layout the distance loops scan several rows at once).
pub(crate) struct Flat {
    /// `n × d` values, row by row.
    pub(crate) values: Vec<f64>,
    /// The same values column by column: column `t` is `cols[t·n..(t + 1)·n]`.
    pub(crate) cols: Vec<f64>,
    /// Values per row (at least 1).
    pub(crate) d: usize,
}

impl Flat {
    /// Both layouts of a matrix's rows (a matrix without columns gets width 1 and no values).
    pub(crate) fn from_matrix(x: &Array2<f64>) -> Flat {
        let d = x.ncols().max(1);
        let values: Vec<f64> = x.iter().copied().collect();
        let cols = if x.ncols() == 0 {
            Vec::new()
        } else {
            x.t().iter().copied().collect()
        };
        Flat { values, cols, d }
    }

    /// Both layouts of `values`, rows of `d ≥ 1` values one after another.
    pub(crate) fn from_rows(values: &[f64], d: usize) -> Flat {
        let n = values.len() / d;
        let cols = (0..d)
            .flat_map(|t| (0..n).map(move |i| values[i * d + t]))
            .collect();
        Flat {
            values: values.to_vec(),
            cols,
            d,
        }
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.values.len() / self.d
    }

    /// Row `i`'s values.
    pub(crate) fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.d..(i + 1) * self.d]
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
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2 (checked just above). The vector instructions
        // round every addition, subtraction and multiplication exactly as the scalar ones do.
        unsafe { nearest_all_avx2::<D>(rows, centroids, labels, dist) };
        return;
    }
    nearest_all_portable::<D>(rows, centroids, labels, dist);
}

/// [`nearest_all`] compiled for AVX2 (four values per instruction instead of two).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn nearest_all_avx2<const D: usize>(
    rows: &Flat,
    centroids: &[f64],
    labels: &mut [usize],
    dist: &mut [f64],
) {
    nearest_all_portable::<D>(rows, centroids, labels, dist);
}

#[inline(always)]
fn nearest_all_portable<const D: usize>(
    rows: &Flat,
    centroids: &[f64],
    labels: &mut [usize],
    dist: &mut [f64],
) {
    let d = if D == 0 { rows.d } else { D };
    let n = rows.len();
    let full = n / LANES * LANES;
    for i0 in (0..full).step_by(LANES) {
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
        for (l, (o, w)) in labels[i0..i0 + LANES].iter_mut().zip(which).enumerate() {
            *o = w as usize;
            // No centroid was closer than ∞ (distances of ∞ or NaN): the first one is taken,
            // with its own distance, as in the one-row loop below.
            dist[i0 + l] = if best[l] == f64::INFINITY {
                sq_dist_flat::<D>(rows.row(i0 + l), &centroids[..d], d)
            } else {
                best[l]
            };
        }
    }
    for i in full..n {
        let r = rows.row(i);
        let mut best = (0, f64::INFINITY);
        for (j, c) in centroids.chunks_exact(d).enumerate() {
            let s = sq_dist_flat::<D>(r, c, d);
            if s < best.1 {
                best = (j, s);
            }
        }
        labels[i] = best.0;
        dist[i] = if best.1 == f64::INFINITY {
            sq_dist_flat::<D>(r, &centroids[..d], d)
        } else {
            best.1
        };
    }
}

/// `out[i]` = squared distance from row `i` of `rows` to `point` ([`sq_dist_flat`]'s bits).
pub(crate) fn sq_dists_to<const D: usize>(rows: &Flat, point: &[f64], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: as in `nearest_all`.
        unsafe { sq_dists_to_avx2::<D>(rows, point, out) };
        return;
    }
    sq_dists_to_portable::<D>(rows, point, out);
}

/// [`sq_dists_to`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sq_dists_to_avx2<const D: usize>(rows: &Flat, point: &[f64], out: &mut [f64]) {
    sq_dists_to_portable::<D>(rows, point, out);
}

#[inline(always)]
fn sq_dists_to_portable<const D: usize>(rows: &Flat, point: &[f64], out: &mut [f64]) {
    let d = if D == 0 { rows.d } else { D };
    let n = rows.len();
    let full = n / LANES * LANES;
    for i0 in (0..full).step_by(LANES) {
        out[i0..i0 + LANES].copy_from_slice(&sq_dists_lanes::<D>(&rows.cols, n, d, i0, point));
    }
    for (i, o) in out.iter_mut().enumerate().take(n).skip(full) {
        *o = sq_dist_flat::<D>(rows.row(i), point, d);
    }
}
