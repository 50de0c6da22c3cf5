//! Distribution-shift monitors: the population stability index (PSI) with bins cut at the
//! reference sample's quantiles, PSI over category levels, and the two-sample
//! Kolmogorov–Smirnov statistic. Pure functions over slices, used by [`crate::analysis::drift`].

use crate::stats;

/// Share given to an empty bin before taking logarithms, so PSI stays finite when a bin that
/// the reference filled is empty in the current batch (or the other way round).
pub const PSI_FLOOR: f64 = 1e-4;

/// Inner bin edges for PSI: the reference's type-7 quantiles at 1/b, 2/b, …, (b−1)/b, with
/// repeated values dropped (a column with many ties yields fewer, wider bins).
///
/// A value `x` falls in bin `i` = number of edges strictly below `x`, so bins are
/// `(-∞, e₁], (e₁, e₂], …, (e_m, ∞)` (numpy: `np.searchsorted(edges, x, side="left")`).
pub fn quantile_edges(reference: &[f64], bins: usize) -> Vec<f64> {
    let mut sorted = reference.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile_edges_sorted(&sorted, bins)
}

/// [`quantile_edges`] of a sample already sorted by [`f64::total_cmp`] (no copy, no sort): for
/// callers that bin one reference many times or also need it sorted for [`ks_statistic_sorted`].
pub fn quantile_edges_sorted(sorted: &[f64], bins: usize) -> Vec<f64> {
    let mut edges: Vec<f64> = Vec::with_capacity(bins.saturating_sub(1));
    for i in 1..bins {
        let e = stats::quantile_sorted(sorted, i as f64 / bins as f64);
        if edges.last().is_none_or(|&last| e > last) {
            edges.push(e);
        }
    }
    edges
}

/// Share of `values` in each bin defined by `edges` (see [`quantile_edges`]); `edges.len() + 1` shares.
pub fn bin_shares(values: &[f64], edges: &[f64]) -> Vec<f64> {
    let mut counts = vec![0usize; edges.len() + 1];
    for &x in values {
        counts[edges.partition_point(|&e| e < x)] += 1;
    }
    let n = values.len().max(1) as f64;
    counts.into_iter().map(|c| c as f64 / n).collect()
}

/// [`bin_shares`] of values sorted by [`f64::total_cmp`]: one binary search per edge instead of
/// one per value, the same shares. Falls back to [`bin_shares`] when a value or an edge is NaN
/// (the sorted order then does not follow `<=`).
pub fn bin_shares_sorted(sorted: &[f64], edges: &[f64]) -> Vec<f64> {
    let nan_value =
        sorted.first().is_some_and(|x| x.is_nan()) || sorted.last().is_some_and(|x| x.is_nan());
    if nan_value || edges.iter().any(|e| e.is_nan()) {
        return bin_shares(sorted, edges);
    }
    let n = sorted.len().max(1) as f64;
    // A value lands in bin i when edges[i-1] < x <= edges[i]: the bin holds the values at most
    // edges[i] minus those at most edges[i-1] (edges are strictly increasing).
    let mut shares = Vec::with_capacity(edges.len() + 1);
    let mut below = 0usize;
    for e in edges {
        let upto = below + sorted[below..].partition_point(|&x| x <= *e);
        shares.push((upto - below) as f64 / n);
        below = upto;
    }
    shares.push((sorted.len() - below) as f64 / n);
    shares
}

/// PSI between two vectors of bin shares: Σ (c − r) · ln(c / r), each share first raised to at
/// least [`PSI_FLOOR`]. 0 means identical; the usual reading is < 0.1 stable, 0.1–0.25 a
/// moderate shift, > 0.25 a major shift.
pub fn psi_from_shares(reference: &[f64], current: &[f64]) -> f64 {
    assert_eq!(
        reference.len(),
        current.len(),
        "PSI needs the same bins on both sides"
    );
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| {
            let (r, c) = (r.max(PSI_FLOOR), c.max(PSI_FLOOR));
            (c - r) * (c / r).ln()
        })
        .sum()
}

/// PSI of a numeric column: `bins` quantile bins cut on `reference` ([`quantile_edges`]).
///
/// ```
/// use customer_intel::ml::drift_metrics::psi;
/// let reference: Vec<f64> = (0..100).map(f64::from).collect();
/// assert!(psi(&reference, &reference, 10).abs() < 1e-12);
/// let shifted: Vec<f64> = reference.iter().map(|x| x + 30.0).collect();
/// assert!(psi(&reference, &shifted, 10) > 0.25);
/// ```
pub fn psi(reference: &[f64], current: &[f64], bins: usize) -> f64 {
    let edges = quantile_edges(reference, bins);
    psi_from_shares(&bin_shares(reference, &edges), &bin_shares(current, &edges))
}

/// PSI of a categorical column, one bin per level in `levels` (values outside `levels` are ignored).
pub fn psi_categorical(reference: &[String], current: &[String], levels: &[String]) -> f64 {
    psi_from_shares(
        &level_shares(reference, levels),
        &level_shares(current, levels),
    )
}

/// Share of `values` equal to each of `levels` (values outside `levels` count in the total only).
pub fn level_shares(values: &[String], levels: &[String]) -> Vec<f64> {
    let n = values.len().max(1) as f64;
    levels
        .iter()
        .map(|l| values.iter().filter(|x| *x == l).count() as f64 / n)
        .collect()
}

/// Two-sample Kolmogorov–Smirnov statistic: the largest gap between the two empirical CDFs,
/// evaluated at every observed value (ties handled: both CDFs step past a tied value together).
/// Same value as `scipy.stats.ks_2samp(a, b).statistic`. NaN if either sample is empty or holds
/// a NaN (a NaN has no place in an ordering of values, so there is no CDF to compare).
///
/// ```
/// use customer_intel::ml::drift_metrics::ks_statistic;
/// assert_eq!(ks_statistic(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 0.0);
/// assert_eq!(ks_statistic(&[1.0, 2.0], &[3.0, 4.0]), 1.0);
/// assert!(ks_statistic(&[1.0, f64::NAN], &[2.0, f64::NAN]).is_nan());
/// ```
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    ks_statistic_sorted(&a, &b)
}

/// [`ks_statistic`] of two samples already sorted by [`f64::total_cmp`]: the merge alone, for
/// callers that compare one sorted reference with many batches. NaN if either sample is empty or
/// holds a NaN (the merge below would stop advancing at two NaNs).
pub fn ks_statistic_sorted(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() || a.iter().chain(b).any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference samples (integers with ties, like the bundled table's columns) and values:
    // tests/reference/ml_drift_metrics.py (scipy.stats.ks_2samp; PSI by a numpy recipe).
    fn reference() -> crate::test_fixtures::Reference {
        crate::test_fixtures::Reference::load("ml_drift_metrics")
    }

    fn samples() -> (Vec<f64>, Vec<f64>) {
        let r = reference();
        (r.f64s("/ref"), r.f64s("/cur"))
    }

    #[test]
    fn ks_matches_scipy() {
        let r = reference();
        let (a, b) = samples();
        // scipy.stats.ks_2samp(REF, CUR).statistic
        assert!(
            (ks_statistic(&a, &b) - r.f64("/ks")).abs() < 1e-12,
            "{}",
            ks_statistic(&a, &b)
        );
        // Shift with heavy ties.
        let (ta, tb) = (r.f64s("/ks_ties/a"), r.f64s("/ks_ties/b"));
        assert!((ks_statistic(&ta, &tb) - r.f64("/ks_ties/statistic")).abs() < 1e-12);
        // Symmetric.
        assert_eq!(ks_statistic(&a, &b), ks_statistic(&b, &a));
    }

    #[test]
    fn psi_matches_numpy_by_hand() {
        // numpy: edges = np.unique(np.percentile(REF, [10,20,...,90])) (linear = type 7);
        // shares = np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges)+1)/len(x);
        // psi = sum((c-r)*log(c/r)) with shares floored at 1e-4.
        let r = reference();
        let (a, b) = samples();
        for bins in [10, 4] {
            let edges = quantile_edges(&a, bins);
            let want_edges = r.f64s(&format!("/edges_{bins}"));
            assert_eq!(edges.len(), want_edges.len());
            for (e, w) in edges.iter().zip(want_edges) {
                assert!((e - w).abs() < 1e-9, "{edges:?}");
            }
            let want = r.f64(&format!("/psi_{bins}"));
            assert!(
                (psi(&a, &b, bins) - want).abs() < 1e-12,
                "{}",
                psi(&a, &b, bins)
            );
        }
    }

    #[test]
    fn psi_of_identical_samples_is_zero_and_floor_keeps_it_finite() {
        let (a, _) = samples();
        assert!(psi(&a, &a, 10).abs() < 1e-15);
        let far: Vec<f64> = a.iter().map(|x| x + 1000.0).collect();
        let p = psi(&a, &far, 10);
        assert!(p.is_finite() && p > 5.0, "{p}");
    }

    /// Samples with heavy ties, ±0, infinities and (optionally) NaN, from a seeded stream.
    fn awkward_sample(seed: u64, n: usize, nan: bool) -> Vec<f64> {
        use rand::Rng as _;
        let mut r = crate::rng::stream(seed, "drift-metrics-test");
        (0..n)
            .map(|_| match r.gen_range(0..40) {
                0 => f64::INFINITY,
                1 => f64::NEG_INFINITY,
                2 => -0.0,
                3 => 0.0,
                4 if nan => f64::NAN,
                5 if nan => -f64::NAN,
                _ => (r.r#gen::<f64>() * 12.0).round() + r.gen_range(0..3) as f64 * 0.5,
            })
            .collect()
    }

    #[test]
    fn sorted_binning_and_ks_equal_the_unsorted_code_path() {
        let mut checked = 0;
        for seed in 0..300u64 {
            let nan = seed % 5 == 0;
            let (n, m) = (1 + (seed as usize * 37) % 250, (seed as usize * 11) % 90);
            let a = awkward_sample(seed, n, nan);
            // NaN in one sample only: with NaN in both, the merge never advances (a known hang
            // of ks_statistic, left as it is: the drift simulation never sees NaN).
            let b = awkward_sample(seed + 10_000, m, false);
            let mut sa = a.clone();
            sa.sort_by(f64::total_cmp);
            let mut sb = b.clone();
            sb.sort_unstable_by(f64::total_cmp);
            for bins in [2, 3, 10, 25] {
                let edges = quantile_edges(&a, bins);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&quantile_edges_sorted(&sa, bins)), bits(&edges));
                assert_eq!(
                    bits(&bin_shares_sorted(&sa, &edges)),
                    bits(&bin_shares(&a, &edges))
                );
                assert_eq!(
                    bits(&bin_shares_sorted(&sb, &edges)),
                    bits(&bin_shares(&b, &edges))
                );
                checked += 1;
            }
            let (want, got) = (ks_statistic(&a, &b), ks_statistic_sorted(&sa, &sb));
            assert!(
                want.to_bits() == got.to_bits(),
                "seed {seed}: {want} vs {got}"
            );
        }
        assert_eq!(checked, 1200);
        // Edges between tied values, and values on an edge, land as np.searchsorted(side="left").
        let v = [1.0, 2.0, 2.0, 2.0, 3.0, 5.0];
        assert_eq!(
            bin_shares_sorted(&v, &[2.0, 4.0]),
            vec![4.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0]
        );
    }

    #[test]
    fn categorical_psi_matches_hand_computation() {
        let r = reference();
        let levels = r.strings("/categorical/levels");
        let (a, b) = (r.strings("/categorical/ref"), r.strings("/categorical/cur"));
        // shares a = .25 each; b = .125 .125 .5 .25:
        // 2·(−.125·ln .5) + .25·ln 2 = 0.25·ln2 + 0.25·ln2 = 0.5·ln 2 (numpy agrees).
        let want = r.f64("/categorical/psi");
        assert!((want - 0.5 * std::f64::consts::LN_2).abs() < 1e-15);
        assert!((psi_categorical(&a, &b, &levels) - want).abs() < 1e-12);
    }
}
