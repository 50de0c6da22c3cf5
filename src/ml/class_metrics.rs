//! Binary-classification metrics over plain slices: confusion matrix, precision, recall, F1,
//! ROC curve and ROC-AUC, precision-recall curve and PR-AUC, threshold sweeps, and the
//! constrained threshold choice (maximise F1 subject to a precision floor).
//!
//! Conventions (each matches scikit-learn, and the tests check it to 1e-9):
//! - A score `s` is predicted positive at threshold `t` when `s >= t`.
//! - Undefined ratios (precision with no predicted positives, recall with no actual
//!   positives, F1 when precision + recall is 0) are 0, as sklearn's `zero_division=0`.
//! - ROC-AUC is the trapezoidal area under the ROC curve built over the distinct scores, which
//!   counts tied positive/negative pairs as one half (sklearn `roc_auc_score`).
//! - **PR-AUC is average precision** (sklearn `average_precision_score`): the step-wise sum
//!   `Σ (R_k − R_{k−1}) · P_k` over the distinct thresholds, not the trapezoidal area, which
//!   interpolates linearly between precision-recall points and overstates the area.

use serde::Serialize;

/// Counts of a binary confusion matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Confusion {
    /// Actual positives predicted positive.
    pub tp: usize,
    /// Actual negatives predicted positive.
    pub fp: usize,
    /// Actual negatives predicted negative.
    pub tn: usize,
    /// Actual positives predicted negative.
    #[serde(rename = "fn")]
    pub fn_: usize,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

impl Confusion {
    /// The confusion matrix of predicted against actual labels.
    pub fn from_predictions(actual: &[bool], predicted: &[bool]) -> Confusion {
        assert_eq!(actual.len(), predicted.len(), "one prediction per label");
        let mut c = Confusion::default();
        for (&a, &p) in actual.iter().zip(predicted) {
            match (a, p) {
                (true, true) => c.tp += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
                (true, false) => c.fn_ += 1,
            }
        }
        c
    }

    /// The confusion matrix when `score >= threshold` is predicted positive.
    pub fn at_threshold(actual: &[bool], scores: &[f64], threshold: f64) -> Confusion {
        assert_eq!(actual.len(), scores.len(), "one score per label");
        let predicted: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
        Confusion::from_predictions(actual, &predicted)
    }

    /// Element-wise sum (for pooling folds or repeats).
    pub fn plus(self, o: Confusion) -> Confusion {
        Confusion {
            tp: self.tp + o.tp,
            fp: self.fp + o.fp,
            tn: self.tn + o.tn,
            fn_: self.fn_ + o.fn_,
        }
    }

    /// Number of rows counted.
    pub fn total(&self) -> usize {
        self.tp + self.fp + self.tn + self.fn_
    }

    /// tp / (tp + fp); 0 with no predicted positives.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// tp / (tp + fn); 0 with no actual positives.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Harmonic mean of precision and recall, 2tp / (2tp + fp + fn); 0 when tp = 0.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// (tp + tn) / total.
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.total())
    }
}

/// Precision of `score >= threshold` against the labels.
pub fn precision(actual: &[bool], scores: &[f64], threshold: f64) -> f64 {
    Confusion::at_threshold(actual, scores, threshold).precision()
}

/// Recall of `score >= threshold` against the labels.
pub fn recall(actual: &[bool], scores: &[f64], threshold: f64) -> f64 {
    Confusion::at_threshold(actual, scores, threshold).recall()
}

/// F1 of `score >= threshold` against the labels.
pub fn f1(actual: &[bool], scores: &[f64], threshold: f64) -> f64 {
    Confusion::at_threshold(actual, scores, threshold).f1()
}

/// The confusion matrix and derived rates at one threshold of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SweepPoint {
    /// Scores at or above this value are predicted positive (one of the distinct scores).
    pub threshold: f64,
    /// The confusion matrix at this threshold.
    pub confusion: Confusion,
    /// Precision at this threshold.
    pub precision: f64,
    /// Recall (true-positive rate) at this threshold.
    pub recall: f64,
    /// False-positive rate at this threshold.
    pub fpr: f64,
    /// F1 at this threshold.
    pub f1: f64,
}

/// Every distinct score as a threshold, from the highest (fewest predicted positives) to the
/// lowest (every row predicted positive), with the confusion matrix at each. One sort, then a
/// linear pass: O(n log n).
pub fn sweep(actual: &[bool], scores: &[f64]) -> Vec<SweepPoint> {
    assert_eq!(actual.len(), scores.len(), "one score per label");
    assert!(scores.iter().all(|s| !s.is_nan()), "scores must not be NaN");
    let pos = actual.iter().filter(|&&a| a).count();
    let neg = actual.len() - pos;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if actual[order[i]] {
                tp += 1
            } else {
                fp += 1
            }
            i += 1;
        }
        let confusion = Confusion {
            tp,
            fp,
            tn: neg - fp,
            fn_: pos - tp,
        };
        out.push(SweepPoint {
            threshold: s,
            confusion,
            precision: confusion.precision(),
            recall: confusion.recall(),
            fpr: ratio(fp, neg),
            f1: confusion.f1(),
        });
    }
    out
}

/// The ROC curve as (false-positive rate, true-positive rate) points, starting at (0, 0) and
/// ending at (1, 1), one point per distinct score (sklearn `roc_curve` with
/// `drop_intermediate=False`).
pub fn roc_curve(actual: &[bool], scores: &[f64]) -> Vec<(f64, f64)> {
    let mut pts = vec![(0.0, 0.0)];
    pts.extend(sweep(actual, scores).into_iter().map(|p| (p.fpr, p.recall)));
    pts
}

/// Area under the ROC curve by the trapezoid rule over [`roc_curve`]; NaN when only one class
/// is present (sklearn raises an error there).
pub fn roc_auc(actual: &[bool], scores: &[f64]) -> f64 {
    let pos = actual.iter().filter(|&&a| a).count();
    if pos == 0 || pos == actual.len() {
        return f64::NAN;
    }
    roc_curve(actual, scores)
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum()
}

/// The precision-recall curve as (recall, precision) points, one per distinct score from the
/// highest threshold down, preceded by the conventional (0, 1) start (sklearn's
/// `precision_recall_curve` lists the same points in the opposite order, ending at (0, 1)).
pub fn pr_curve(actual: &[bool], scores: &[f64]) -> Vec<(f64, f64)> {
    let mut pts = vec![(0.0, 1.0)];
    pts.extend(
        sweep(actual, scores)
            .into_iter()
            .map(|p| (p.recall, p.precision)),
    );
    pts
}

/// PR-AUC as **average precision**: `Σ (R_k − R_{k−1}) · P_k` over the distinct thresholds
/// from the highest down, with R_0 = 0 (sklearn `average_precision_score`). NaN without
/// positives.
pub fn average_precision(actual: &[bool], scores: &[f64]) -> f64 {
    if !actual.iter().any(|&a| a) {
        return f64::NAN;
    }
    let mut prev_recall = 0.0;
    let mut ap = 0.0;
    for p in sweep(actual, scores) {
        ap += (p.recall - prev_recall) * p.precision;
        prev_recall = p.recall;
    }
    ap
}

/// A threshold chosen by [`choose_threshold`] and the in-sample rates it achieved on the rows
/// it was chosen on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThresholdChoice {
    /// The threshold to apply to new scores (`score >= threshold` is positive).
    pub threshold: f64,
    /// Precision on the rows it was chosen on.
    pub precision: f64,
    /// Recall on the rows it was chosen on.
    pub recall: f64,
    /// F1 on the rows it was chosen on.
    pub f1: f64,
    /// Whether some threshold reached the precision floor. When none did, the threshold with
    /// the highest F1 regardless of precision was taken.
    pub constraint_met: bool,
}

/// Chooses the threshold that maximises F1 among the thresholds whose precision is at least
/// `min_precision`; when none reaches the floor, the F1-maximising threshold overall.
///
/// Ties in F1 go to the higher precision, then to the higher threshold. The returned threshold
/// lies halfway between the chosen distinct score and the next lower distinct score, so it
/// classifies the rows it was chosen on exactly as the sweep did while not sitting on a
/// training score (for the lowest score, the score itself). Use it only on rows the scores
/// were not fitted on (out-of-fold scores of the training folds), never on the test fold.
pub fn choose_threshold(actual: &[bool], scores: &[f64], min_precision: f64) -> ThresholdChoice {
    let pts = sweep(actual, scores);
    assert!(!pts.is_empty(), "cannot choose a threshold without scores");
    let better = |a: &SweepPoint, b: &SweepPoint| {
        a.f1.total_cmp(&b.f1)
            .then(a.precision.total_cmp(&b.precision))
            .then(a.threshold.total_cmp(&b.threshold))
    };
    let pick = |filter: &dyn Fn(&SweepPoint) -> bool| -> Option<usize> {
        (0..pts.len())
            .filter(|&i| filter(&pts[i]))
            .max_by(|&a, &b| better(&pts[a], &pts[b]))
    };
    let (idx, met) = match pick(&|p| p.precision >= min_precision) {
        Some(i) => (i, true),
        None => (pick(&|_| true).expect("non-empty"), false),
    };
    let p = pts[idx];
    let threshold = match pts.get(idx + 1) {
        Some(next) => (p.threshold + next.threshold) / 2.0,
        None => p.threshold,
    };
    ThresholdChoice {
        threshold,
        precision: p.precision,
        recall: p.recall,
        f1: p.f1,
        constraint_met: met,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::assert_near;

    // Fixed arrays with ties (0.8, 0.35, 0.1 appear for both classes) and their reference values,
    // tests/reference/ml_class_metrics.py (scikit-learn):
    //   precision_score(Y, S >= t), recall_score, f1_score, confusion_matrix for t in {0.5, 0.3};
    //   roc_auc_score(Y, S); average_precision_score(Y, S);
    //   roc_curve(Y, S, drop_intermediate=False); precision_recall_curve(Y, S);
    //   the threshold rule of choose_threshold evaluated with precision_score / f1_score.
    fn reference() -> crate::test_fixtures::Reference {
        crate::test_fixtures::Reference::load("ml_class_metrics")
    }

    fn arrays() -> (Vec<bool>, Vec<f64>) {
        let r = reference();
        (r.bools("/y"), r.f64s("/s"))
    }

    /// Agreement required with the scikit-learn references.
    const TOL: f64 = 1e-9;

    #[test]
    fn threshold_metrics_match_sklearn() {
        let r = reference();
        let (y, s) = arrays();
        for i in 0..2 {
            let at = |k: &str| format!("/at/{i}/{k}");
            let t = r.f64(&at("threshold"));
            assert_near(precision(&y, &s, t), r.f64(&at("precision")), TOL);
            assert_near(recall(&y, &s, t), r.f64(&at("recall")), TOL);
            assert_near(f1(&y, &s, t), r.f64(&at("f1")), TOL);
            let c = Confusion::at_threshold(&y, &s, t);
            assert_eq!(
                c,
                Confusion {
                    tp: r.usize(&at("tp")),
                    fp: r.usize(&at("fp")),
                    tn: r.usize(&at("tn")),
                    fn_: r.usize(&at("fn"))
                },
                "t {t}"
            );
            assert_near(c.accuracy(), (c.tp + c.tn) as f64 / y.len() as f64, TOL);
        }
    }

    #[test]
    fn auc_and_average_precision_match_sklearn() {
        let r = reference();
        let (y, s) = arrays();
        assert_near(roc_auc(&y, &s), r.f64("/roc_auc"), TOL);
        assert_near(average_precision(&y, &s), r.f64("/average_precision"), TOL);
        assert!(roc_auc(&[true, true], &[0.1, 0.2]).is_nan());
    }

    #[test]
    fn curves_match_sklearn() {
        let r = reference();
        let (y, s) = arrays();
        let roc = roc_curve(&y, &s);
        // sklearn roc_curve(drop_intermediate=False), including the (0, 0) start.
        let (fpr, tpr) = (r.f64s("/roc/fpr"), r.f64s("/roc/tpr"));
        assert_eq!(roc.len(), fpr.len());
        for (i, &(a, b)) in roc.iter().enumerate() {
            assert_near(a, fpr[i], TOL);
            assert_near(b, tpr[i], TOL);
        }
        let pr = pr_curve(&y, &s);
        // sklearn precision_recall_curve, read from the highest threshold down.
        let prec = r.f64s("/pr_precision");
        assert_eq!(pr.len(), prec.len());
        for (i, &(_, p)) in pr.iter().enumerate() {
            assert_near(p, prec[i], TOL);
        }
    }

    #[test]
    fn chosen_threshold_maximises_f1_under_the_precision_floor() {
        // Floor 0.75: reachable (the best F1 with precision >= 0.75, reported as the midpoint to
        // the next lower score). Floor 1.01: unreachable, so the best F1 overall.
        let r = reference();
        let (y, s) = arrays();
        for i in 0..2 {
            let at = |k: &str| format!("/choose/{i}/{k}");
            let c = choose_threshold(&y, &s, r.f64(&at("floor")));
            assert_eq!(c.constraint_met, r.bool(&at("constraint_met")));
            assert_near(c.threshold, r.f64(&at("threshold")), TOL);
            assert_near(c.f1, r.f64(&at("f1")), TOL);
            if c.constraint_met {
                assert_near(c.precision, r.f64(&at("precision")), TOL);
            }
        }
    }
}
