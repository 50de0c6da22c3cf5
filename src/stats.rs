//! Small numeric building blocks shared by the analyses: moments, quantiles, ranks and
//! correlations over plain slices. Conventions are stated per function (sample vs population).

/// The value f64 sums of `Iterator::sum` start from: loops that keep several running sums at
/// once start from it too, so that each gives `.sum()`'s bits.
pub fn sum_start() -> f64 {
    std::iter::empty::<f64>().sum()
}

/// Arithmetic mean; NaN for an empty slice.
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample variance (denominator n − 1); NaN for fewer than two values.
pub fn variance(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64
}

/// Sample standard deviation (denominator n − 1).
pub fn sd(x: &[f64]) -> f64 {
    variance(x).sqrt()
}

/// Quantile by linear interpolation between order statistics (Hyndman & Fan type 7, the
/// default of R's `quantile` and numpy's `percentile`). `q` in 0..=1; NaN for an empty slice.
pub fn quantile(x: &[f64], q: f64) -> f64 {
    let mut v = x.to_vec();
    // Values equal under total_cmp are bit-identical, so an unstable sort gives the same slice.
    v.sort_unstable_by(f64::total_cmp);
    quantile_sorted(&v, q)
}

/// [`quantile`] on an already sorted slice.
pub fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Median (type-7 quantile at 0.5).
pub fn median(x: &[f64]) -> f64 {
    quantile(x, 0.5)
}

/// Ranks starting at 1, ties given their average rank (as Spearman's correlation needs).
pub fn ranks(x: &[f64]) -> Vec<f64> {
    // Sort (value, index) pairs: contiguous, so much faster than sorting indices through `x` on
    // big columns. Values that compare equal under total_cmp are bit-identical, so the order
    // among them (the sort is unstable) cannot change any rank.
    let mut pairs: Vec<(f64, usize)> = x.iter().copied().zip(0..).collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j + 1 < pairs.len() && pairs[j + 1].0 == pairs[i].0 {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &(_, k) in &pairs[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Pearson's correlation coefficient; NaN when either side is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "pearson needs equal lengths");
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    sxy / (sxx * syy).sqrt()
}

/// Spearman's rank correlation (Pearson on average ranks).
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

/// Sample skewness, adjusted Fisher–Pearson (G1, as Excel's SKEW and pandas' `skew`).
pub fn skewness(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 3 {
        return f64::NAN;
    }
    let m = mean(x);
    let m2 = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n;
    let m3 = x.iter().map(|v| (v - m).powi(3)).sum::<f64>() / n;
    let g1 = m3 / m2.powf(1.5);
    g1 * (n * (n - 1.0)).sqrt() / (n - 2.0)
}

/// Sample excess kurtosis, bias-adjusted (G2, as Excel's KURT and pandas' `kurt`).
pub fn kurtosis(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 4 {
        return f64::NAN;
    }
    let m = mean(x);
    let m2 = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n;
    let m4 = x.iter().map(|v| (v - m).powi(4)).sum::<f64>() / n;
    let g2 = m4 / (m2 * m2) - 3.0;
    ((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))
}

/// Values standardised with the given centre and scale (a scale of 0 leaves values centred).
pub fn standardize_with(x: &[f64], centre: f64, scale: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    standardize_onto(x, centre, scale, &mut out);
    out
}

/// [`standardize_with`], appending the values to `out` (several columns into one buffer).
pub fn standardize_onto(x: &[f64], centre: f64, scale: f64, out: &mut Vec<f64>) {
    let s = if scale > 0.0 && scale.is_finite() {
        scale
    } else {
        1.0
    };
    out.extend(x.iter().map(|v| (v - centre) / s));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{Reference, close};

    // Reference values: tests/reference/stats.py (pandas Series.var / .skew / .kurt,
    // numpy.percentile, scipy.stats.rankdata and spearmanr, numpy.corrcoef) on the samples it
    // defines and stores with the values.
    fn reference() -> Reference {
        Reference::load("stats")
    }

    #[test]
    fn moments_match_reference() {
        let r = reference();
        let x = r.f64s("/x");
        assert!(close(mean(&x), r.f64("/mean"), 1e-15));
        assert!(close(variance(&x), r.f64("/variance"), 1e-12));
        assert!(
            close(skewness(&x), r.f64("/skewness"), 1e-9),
            "{}",
            skewness(&x)
        );
        assert!(
            close(kurtosis(&x), r.f64("/kurtosis"), 1e-9),
            "{}",
            kurtosis(&x)
        );
    }

    #[test]
    fn quantiles_match_numpy_linear() {
        let r = reference();
        let x = r.f64s("/x");
        for (q, want) in r
            .f64s("/quantiles/q")
            .into_iter()
            .zip(r.f64s("/quantiles/value"))
        {
            assert!(close(quantile(&x, q), want, 1e-12), "q {q}");
        }
        assert!(close(
            quantile(&r.f64s("/small/x"), r.f64("/small/q")),
            r.f64("/small/value"),
            1e-12
        ));
    }

    #[test]
    fn ranks_average_ties_and_spearman() {
        let r = reference();
        assert_eq!(ranks(&r.f64s("/ties/x")), r.f64s("/ties/ranks"));
        let (x, y) = (r.f64s("/x"), r.f64s("/y"));
        assert!(
            close(pearson(&x, &y), r.f64("/pearson"), 1e-9),
            "{}",
            pearson(&x, &y)
        );
        assert!(
            close(spearman(&x, &y), r.f64("/spearman"), 1e-9),
            "{}",
            spearman(&x, &y)
        );
    }
}
