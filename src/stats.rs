//! Small numeric building blocks shared by the analyses: moments, quantiles, ranks and
//! correlations over plain slices. Conventions are stated per function (sample vs population).

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
    let s = if scale > 0.0 && scale.is_finite() {
        scale
    } else {
        1.0
    };
    x.iter().map(|v| (v - centre) / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::close;

    // Reference values below were computed with numpy 1.26 / scipy 1.11 / pandas 2.1
    // on the same inputs (pandas Series.skew / .kurt, scipy.stats.spearmanr, numpy.percentile).
    const X: [f64; 8] = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];

    #[test]
    fn moments_match_reference() {
        assert_eq!(mean(&X), 5.0);
        assert!(close(variance(&X), 32.0 / 7.0, 1e-12));
        assert!(
            close(skewness(&X), 0.818_487_553_356_799_7, 1e-9),
            "{}",
            skewness(&X)
        );
        assert!(close(kurtosis(&X), 0.940_625, 1e-9), "{}", kurtosis(&X));
    }

    #[test]
    fn quantiles_match_numpy_linear() {
        assert_eq!(quantile(&X, 0.25), 4.0);
        assert_eq!(quantile(&X, 0.5), 4.5);
        assert_eq!(quantile(&X, 0.75), 5.5);
        assert!(close(quantile(&[1.0, 2.0, 3.0, 4.0], 0.1), 1.3, 1e-12));
    }

    #[test]
    fn ranks_average_ties_and_spearman() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0]), vec![1.5, 3.0, 1.5, 4.0]);
        let y = [1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 8.0, 7.0];
        assert!(
            close(pearson(&X, &y), 0.845_594_324_664_470_3, 1e-9),
            "{}",
            pearson(&X, &y)
        );
        assert!(
            close(spearman(&X, &y), 0.883_851_509_052_425_4, 1e-9),
            "{}",
            spearman(&X, &y)
        );
    }
}
