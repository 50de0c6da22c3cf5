//! Regression metrics (R², RMSE, MAE) and [`FoldSummary`], the mean ± spread of a score over
//! cross-validation folds that every supervised analysis reports.

use serde::Serialize;

use crate::stats;

/// Coefficient of determination, `1 − SS_res / SS_tot` with `SS_tot` taken around the mean of
/// `actual`. As scikit-learn's `r2_score` does, a constant `actual` gives 1 for a perfect
/// prediction and 0 otherwise (instead of a division by zero). Panics on unequal lengths.
pub fn r2(actual: &[f64], predicted: &[f64]) -> f64 {
    assert_eq!(actual.len(), predicted.len(), "r2 needs equal lengths");
    let m = stats::mean(actual);
    let ss_tot: f64 = actual.iter().map(|a| (a - m).powi(2)).sum();
    let ss_res: f64 = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p).powi(2))
        .sum();
    if ss_tot == 0.0 {
        return if ss_res == 0.0 { 1.0 } else { 0.0 };
    }
    1.0 - ss_res / ss_tot
}

/// Root mean squared error. Panics on unequal lengths; NaN for empty input.
pub fn rmse(actual: &[f64], predicted: &[f64]) -> f64 {
    assert_eq!(actual.len(), predicted.len(), "rmse needs equal lengths");
    let se: Vec<f64> = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p).powi(2))
        .collect();
    stats::mean(&se).sqrt()
}

/// Mean absolute error. Panics on unequal lengths; NaN for empty input.
pub fn mae(actual: &[f64], predicted: &[f64]) -> f64 {
    assert_eq!(actual.len(), predicted.len(), "mae needs equal lengths");
    let ae: Vec<f64> = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p).abs())
        .collect();
    stats::mean(&ae)
}

/// A score summarised over cross-validation folds (all folds of all repeats).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct FoldSummary {
    /// Mean over folds.
    pub mean: f64,
    /// Sample standard deviation over folds (n − 1); 0 when there is a single fold.
    pub sd: f64,
    /// Number of fold scores summarised.
    pub n: usize,
}

impl FoldSummary {
    /// Summarises per-fold scores.
    ///
    /// ```
    /// use customer_intel::ml::metrics::FoldSummary;
    /// let s = FoldSummary::of(&[0.5, 0.7, 0.9]);
    /// assert!((s.mean - 0.7).abs() < 1e-12 && (s.sd - 0.2).abs() < 1e-12 && s.n == 3);
    /// ```
    pub fn of(values: &[f64]) -> FoldSummary {
        FoldSummary {
            mean: stats::mean(values),
            sd: if values.len() < 2 {
                0.0
            } else {
                stats::sd(values)
            },
            n: values.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: tests/reference/ml_metrics.py — scikit-learn r2_score(y, p),
    // sqrt(mean_squared_error(y, p)), mean_absolute_error(y, p) on the arrays it stores.
    fn reference() -> crate::test_fixtures::Reference {
        crate::test_fixtures::Reference::load("ml_metrics")
    }

    #[test]
    fn metrics_match_sklearn() {
        let r = reference();
        let (y, p) = (r.f64s("/y"), r.f64s("/p"));
        assert!((r2(&y, &p) - r.f64("/r2")).abs() < 1e-9);
        assert!((rmse(&y, &p) - r.f64("/rmse")).abs() < 1e-9);
        assert!((mae(&y, &p) - r.f64("/mae")).abs() < 1e-9);
    }

    #[test]
    fn r2_of_constant_truth_follows_sklearn() {
        // sklearn: r2_score([2,2,2],[2,2,2]) and r2_score([2,2,2],[1,2,3]).
        let r = reference();
        assert_eq!(
            r2(&[2.0; 3], &[2.0; 3]),
            r.f64("/r2_constant_truth_perfect")
        );
        assert_eq!(
            r2(&[2.0; 3], &[1.0, 2.0, 3.0]),
            r.f64("/r2_constant_truth_imperfect")
        );
        // Predicting the mean scores exactly 0.
        let y = r.f64s("/y");
        let m = stats::mean(&y);
        assert!(r2(&y, &vec![m; y.len()]).abs() < 1e-12);
    }

    #[test]
    fn fold_summary_of_one_value_has_zero_spread() {
        assert_eq!(
            FoldSummary::of(&[0.3]),
            FoldSummary {
                mean: 0.3,
                sd: 0.0,
                n: 1
            }
        );
    }
}
