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
    let mut edges: Vec<f64> = Vec::with_capacity(bins.saturating_sub(1));
    for i in 1..bins {
        let e = stats::quantile_sorted(&sorted, i as f64 / bins as f64);
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
    let shares = |v: &[String]| -> Vec<f64> {
        let n = v.len().max(1) as f64;
        levels
            .iter()
            .map(|l| v.iter().filter(|x| *x == l).count() as f64 / n)
            .collect()
    };
    psi_from_shares(&shares(reference), &shares(current))
}

/// Two-sample Kolmogorov–Smirnov statistic: the largest gap between the two empirical CDFs,
/// evaluated at every observed value (ties handled: both CDFs step past a tied value together).
/// Same value as `scipy.stats.ks_2samp(a, b).statistic`. NaN if either sample is empty.
///
/// ```
/// use customer_intel::ml::drift_metrics::ks_statistic;
/// assert_eq!(ks_statistic(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 0.0);
/// assert_eq!(ks_statistic(&[1.0, 2.0], &[3.0, 4.0]), 1.0);
/// ```
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
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

    // Reference sample: integers with ties, like the bundled table's columns.
    const REF: [f64; 30] = [
        25., 34., 45., 22., 29., 41., 36., 28., 52., 31., 39., 44., 27., 33., 48., 26., 37., 42.,
        30., 35., 25., 34., 45., 50., 29., 38., 40., 31., 47., 33.,
    ];
    const CUR: [f64; 24] = [
        30., 38., 49., 26., 33., 45., 40., 32., 56., 35., 43., 48., 31., 37., 52., 30., 41., 46.,
        22., 22., 23., 21., 20., 60.,
    ];

    #[test]
    fn ks_matches_scipy() {
        // scipy 1.17.1: scipy.stats.ks_2samp(REF, CUR).statistic = 0.175
        assert!(
            (ks_statistic(&REF, &CUR) - 0.175).abs() < 1e-12,
            "{}",
            ks_statistic(&REF, &CUR)
        );
        // Shift with heavy ties: ks_2samp([1,1,2,2,3], [2,2,2,3,3]).statistic = 0.4
        assert!((ks_statistic(&[1., 1., 2., 2., 3.], &[2., 2., 2., 3., 3.]) - 0.4).abs() < 1e-12);
        // Symmetric.
        assert_eq!(ks_statistic(&REF, &CUR), ks_statistic(&CUR, &REF));
    }

    #[test]
    fn psi_matches_numpy_by_hand() {
        // numpy: edges = np.unique(np.percentile(REF, [10,20,...,90])) (linear = type 7);
        // shares = np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges)+1)/len(x);
        // psi = sum((c-r)*log(c/r)) with shares floored at 1e-4.
        let edges = quantile_edges(&REF, 10);
        let want_edges = [25.9, 28.8, 30.7, 33.0, 34.5, 37.4, 40.3, 44.2, 47.1];
        assert_eq!(edges.len(), want_edges.len());
        for (e, w) in edges.iter().zip(want_edges) {
            assert!((e - w).abs() < 1e-9, "{edges:?}");
        }
        assert!(
            (psi(&REF, &CUR, 10) - PSI_REF_CUR_10).abs() < 1e-12,
            "{}",
            psi(&REF, &CUR, 10)
        );
        assert!(
            (psi(&REF, &CUR, 4) - PSI_REF_CUR_4).abs() < 1e-12,
            "{}",
            psi(&REF, &CUR, 4)
        );
    }

    // numpy 2.4.6 with the recipe in psi_matches_numpy_by_hand (edges for 4 bins: 29.25, 34.5, 41.75).
    const PSI_REF_CUR_10: f64 = 0.658_662_730_729_840_9;
    const PSI_REF_CUR_4: f64 = 0.021_618_313_038_590_322;

    #[test]
    fn psi_of_identical_samples_is_zero_and_floor_keeps_it_finite() {
        assert!(psi(&REF, &REF, 10).abs() < 1e-15);
        let far: Vec<f64> = REF.iter().map(|x| x + 1000.0).collect();
        let p = psi(&REF, &far, 10);
        assert!(p.is_finite() && p > 5.0, "{p}");
    }

    #[test]
    fn categorical_psi_matches_hand_computation() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let levels = s(&["N", "S", "E", "W"]);
        let r = s(&["N", "N", "S", "S", "E", "E", "W", "W"]);
        let c = s(&["N", "S", "E", "E", "E", "E", "W", "W"]);
        // shares r = .25 each; c = .125 .125 .5 .25:
        // 2·(−.125·ln .5) + .25·ln 2 = 0.25·ln2 + 0.25·ln2 = 0.5·ln 2
        let want = 0.5 * std::f64::consts::LN_2;
        assert!((psi_categorical(&r, &c, &levels) - want).abs() < 1e-12);
    }
}
