//! The classification baseline: the best one-split rule (a depth-1 threshold, "positive when
//! `column ≤ v`" or "when `column > v`") on each honest numeric feature, scored under the same
//! protocol as the models (the same stratified group folds and repeats; each fold's rule chosen
//! on its training rows alone), and fitted once on the whole table to say how many rows it
//! misclassifies. When one rule misclassifies (almost) no row, the label *is* a threshold of
//! one column on this table, and any model that meets the target may only have found that cut.

use serde::Serialize;

use crate::data::Dataset;
use crate::ml::class_metrics::Confusion;
use crate::ml::cv;
use crate::rng;
use crate::settings::Settings;

use super::{DEFAULT_SCHEME, Spread, contract};

/// Share of rows (at most) a one-column rule may misclassify on the whole table for the label
/// to be called "(almost) a threshold of one column".
pub const ALMOST_THRESHOLD_SHARE: f64 = 0.01;

/// A fitted one-split rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stump {
    /// The cut: rows with value ≤ cut are "below" (midway between the two observed values it
    /// separates, as scikit-learn's trees place it).
    pub cut: f64,
    /// The largest observed value at or below the cut: the rule reads `column ≤ below_max`.
    pub below_max: f64,
    /// Whether rows below the cut are predicted positive (else rows above it).
    pub positive_below: bool,
    /// Training rows it misclassifies.
    pub errors: usize,
}

impl Stump {
    /// The rule's prediction for one value.
    pub fn predict(&self, value: f64) -> bool {
        (value <= self.cut) == self.positive_below
    }
}

/// The one-split rule with the fewest misclassified rows (every row counts, copies included, as
/// in a depth-1 decision tree on these rows). Candidate cuts lie midway between consecutive
/// distinct values; ties go to the smaller cut, then to "positive below". With one distinct
/// value the rule predicts the majority class for every row.
pub fn fit_stump(values: &[f64], labels: &[bool]) -> Stump {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let total_pos = labels.iter().filter(|&&l| l).count();
    let total_neg = labels.len() - total_pos;
    let mut best = Stump {
        cut: f64::INFINITY,
        below_max: order.last().map_or(f64::NAN, |&i| values[i]),
        positive_below: total_pos > total_neg,
        errors: total_pos.min(total_neg),
    };
    let mut found = false;
    let (mut pos, mut neg) = (0usize, 0usize);
    for (j, &i) in order.iter().enumerate() {
        if labels[i] {
            pos += 1;
        } else {
            neg += 1;
        }
        let Some(&next) = order.get(j + 1) else { break };
        if values[next] == values[i] {
            continue;
        }
        let cut = (values[i] + values[next]) / 2.0;
        for positive_below in [true, false] {
            let errors = if positive_below {
                neg + (total_pos - pos)
            } else {
                pos + (total_neg - neg)
            };
            if !found || errors < best.errors {
                found = true;
                best = Stump {
                    cut,
                    below_max: values[i],
                    positive_below,
                    errors,
                };
            }
        }
    }
    best
}

/// One honest numeric feature's best one-split rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OneSplitRule {
    /// The column.
    pub column: String,
    /// Its unit.
    pub unit: String,
    /// The rule fitted on every row of the table.
    pub whole_table: Stump,
    /// Rows it misclassifies on the whole table.
    pub misclassified: usize,
    /// Distinct rows (duplicate groups) it misclassifies.
    pub misclassified_distinct: usize,
    /// Rows of the table.
    pub rows: usize,
    /// F1 under the models' protocol: per repeat, out-of-fold predictions of the rule chosen on
    /// each fold's training rows, pooled; mean ± sd over repeats (n = repeats).
    pub f1: Spread,
    /// Precision, the same way.
    pub precision: Spread,
    /// Recall, the same way.
    pub recall: Spread,
    /// Whether the rule meets the classification target (F1 and precision).
    pub meets: bool,
}

/// The one-split baselines of the classification.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ClassificationBaselines {
    /// How the rules were scored.
    pub scheme: String,
    /// One rule per honest numeric feature.
    pub rules: Vec<OneSplitRule>,
    /// Index of the rule with the highest cross-validated F1 (ties: fewer whole-table errors,
    /// then the earlier column): the target's baseline.
    pub best: Option<usize>,
    /// Indices of rules that misclassify at most [`ALMOST_THRESHOLD_SHARE`] of the rows on the
    /// whole table: the label is (almost) a threshold of each of these columns.
    pub label_is_threshold_of: Vec<usize>,
    /// The share used for "almost".
    pub almost_share: f64,
}

/// Scores the best one-split rule of every honest numeric feature.
pub(crate) fn run(
    ds: &Dataset,
    labels: &[bool],
    settings: &Settings,
) -> Result<ClassificationBaselines, super::ClassificationError> {
    let cs = &settings.classification;
    let repeats = cs.repeats.unwrap_or(settings.repeats).max(1);
    let n = labels.len();
    let distinct = ds.distinct_row_indices();
    let mut folds_of = Vec::with_capacity(repeats);
    for r in 0..repeats {
        folds_of.push(cv::split(
            DEFAULT_SCHEME,
            &ds.groups,
            Some(labels),
            settings.folds,
            rng::child_seed(settings.seed, r as u64),
        )?);
    }
    let mut rules = Vec::new();
    for column in &ds.roles.demographic {
        let Some(values) = ds.numeric.get(column) else {
            continue;
        };
        let whole = fit_stump(values, labels);
        let wrong = |i: usize| whole.predict(values[i]) != labels[i];
        let mut per = Vec::new();
        for folds in &folds_of {
            let mut predicted = vec![false; n];
            for fold in folds {
                let tv: Vec<f64> = fold.train.iter().map(|&i| values[i]).collect();
                let tl: Vec<bool> = fold.train.iter().map(|&i| labels[i]).collect();
                let stump = fit_stump(&tv, &tl);
                for &i in &fold.test {
                    predicted[i] = stump.predict(values[i]);
                }
            }
            per.push(Confusion::from_predictions(labels, &predicted));
        }
        let of = |f: fn(&Confusion) -> f64| Spread::of(&per.iter().map(f).collect::<Vec<_>>());
        let (f1, precision) = (of(Confusion::f1), of(Confusion::precision));
        rules.push(OneSplitRule {
            column: column.clone(),
            unit: ds.roles.unit(column).to_string(),
            whole_table: whole,
            misclassified: (0..n).filter(|&i| wrong(i)).count(),
            misclassified_distinct: distinct.iter().filter(|&&i| wrong(i)).count(),
            rows: n,
            meets: contract::meets(cs, f1.mean, precision.mean),
            recall: of(Confusion::recall),
            f1,
            precision,
        });
    }
    let best = (0..rules.len()).max_by(|&a, &b| {
        rules[a]
            .f1
            .mean
            .total_cmp(&rules[b].f1.mean)
            .then(rules[b].misclassified.cmp(&rules[a].misclassified))
            .then(b.cmp(&a))
    });
    let label_is_threshold_of = (0..rules.len())
        .filter(|&i| rules[i].misclassified as f64 <= ALMOST_THRESHOLD_SHARE * n as f64)
        .collect();
    Ok(ClassificationBaselines {
        scheme: format!(
            "{} × {repeats} repeats (the models' folds); each fold's rule chosen on its training rows",
            DEFAULT_SCHEME.describe(settings.folds)
        ),
        rules,
        best,
        label_is_threshold_of,
        almost_share: ALMOST_THRESHOLD_SHARE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stump_finds_the_exact_cut_and_direction() {
        // Positive above 3: the cut lies midway between 3 and 5.
        let v = [1.0, 2.0, 3.0, 3.0, 5.0, 8.0];
        let l = [false, false, false, false, true, true];
        let s = fit_stump(&v, &l);
        assert_eq!(
            (s.cut, s.below_max, s.positive_below, s.errors),
            (4.0, 3.0, false, 0)
        );
        // One error at best: the rule keeps the smaller cut on ties.
        let l2 = [true, true, false, true, false, false];
        let s2 = fit_stump(&v, &l2);
        assert_eq!((s2.cut, s2.positive_below, s2.errors), (2.5, true, 1));
        assert!(s2.predict(2.0) && !s2.predict(3.0));
    }
}
