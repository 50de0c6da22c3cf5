//! Sparse category levels merged inside the models (the plan's "group the East category with
//! another category to stabilise the model").
//!
//! The rule is the EDA's ([`crate::features::merge_sparse_levels`]) made fold-safe: it is decided
//! on the rows a model is fitted on, and only on them. On those rows, a level of the category
//! holding under `eda.sparse_share` of them joins the kept level (share at or above the
//! threshold) whose vector of standardised demographic means is nearest in Euclidean distance
//! (ties to the earlier level); a level with no fitting rows cannot be profiled and joins the
//! most frequent kept level (ties to the earlier level). Only the demographic columns are read,
//! never the target, the label or its inputs. The decision ([`LevelMap`]) is applied the same way
//! to the fitted rows, to the rows scored, to the saved models (recorded in their header) and by
//! `report score`.
//!
//! [`ablation_row`] and [`recommend`] compare models with and without the merge on the same
//! folds (paired differences); [`fold_decisions`] tallies what each training fold decided.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::ml::cv::Fold;
use crate::ml::metrics::FoldSummary;
use crate::settings::Roles;
use crate::stats;

/// One merge decision, made on some fitting rows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LevelMap {
    /// The category column.
    pub column: String,
    /// (sparse level, the level it joins), in level order; levels not listed stay as they are.
    pub merges: Vec<(String, String)>,
}

impl LevelMap {
    /// The level a value is encoded as.
    pub fn apply<'a>(&'a self, level: &'a str) -> &'a str {
        self.merges
            .iter()
            .find(|(from, _)| from == level)
            .map_or(level, |(_, to)| to.as_str())
    }
}

/// A level's index in `levels` (the code [`MergeSource`] keeps per row), `None` for a value that
/// is none of them.
fn level_code(levels: &[String], value: &str) -> Option<u32> {
    levels.iter().position(|l| l == value).map(|p| p as u32)
}

/// What the merge is decided from: each row's level and the demographic columns, copied from a
/// dataset so that a design matrix can carry it into its folds.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeSource {
    column: String,
    levels: Vec<String>,
    /// Each row's level as its index in `levels` (`u32::MAX` for a value that is none of them),
    /// so that the per-fold counts compare integers rather than strings.
    codes: Vec<u32>,
    profile: Vec<Vec<f64>>,
    min_share: f64,
}

impl MergeSource {
    /// The merge inputs of a dataset, with the sparse-share threshold.
    pub fn of(ds: &Dataset, min_share: f64) -> MergeSource {
        let levels = &ds.roles.category_levels;
        let codes = ds
            .category
            .iter()
            .map(|v| level_code(levels, v).unwrap_or(u32::MAX))
            .collect();
        MergeSource {
            column: ds.roles.category.clone(),
            levels: levels.clone(),
            codes,
            profile: ds
                .roles
                .demographic
                .iter()
                .map(|c| ds.col(c).to_vec())
                .collect(),
            min_share,
        }
    }

    /// The category column's name.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// Decides the merge on `rows` alone (see the module documentation for the rule).
    pub fn decide(&self, rows: &[usize]) -> LevelMap {
        let n = rows.len().max(1) as f64;
        let mut tally = vec![0usize; self.levels.len()];
        for &i in rows {
            if let Some(t) = tally.get_mut(self.codes[i] as usize) {
                *t += 1;
            }
        }
        let counts: Vec<(&String, usize)> = self.levels.iter().zip(tally).collect();
        let kept: Vec<(&String, usize)> = counts
            .iter()
            .copied()
            .filter(|(_, k)| *k as f64 / n >= self.min_share)
            .collect();
        let mut merges = Vec::new();
        if kept.is_empty() {
            return LevelMap {
                column: self.column.clone(),
                merges,
            };
        }
        // Standardised mean of each demographic column within a level, on `rows` only.
        let stats_of: Vec<(f64, f64)> = self
            .profile
            .iter()
            .map(|c| {
                let v: Vec<f64> = rows.iter().map(|&i| c[i]).collect();
                (stats::mean(&v), stats::sd(&v))
            })
            .collect();
        let profile = |level: &str| -> Vec<f64> {
            let level = level_code(&self.levels, level);
            self.profile
                .iter()
                .zip(&stats_of)
                .map(|(c, (m, s))| {
                    let within: Vec<f64> = rows
                        .iter()
                        .filter(|&&i| Some(self.codes[i]) == level)
                        .map(|&i| c[i])
                        .collect();
                    let d = stats::mean(&within) - m;
                    if *s > 0.0 && s.is_finite() {
                        d / s
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let kept_profiles: Vec<(&String, Vec<f64>)> =
            kept.iter().map(|(l, _)| (*l, profile(l))).collect();
        for (level, k) in &counts {
            if *k as f64 / n >= self.min_share {
                continue;
            }
            let into = if *k == 0 {
                // Unseen on these rows: the most frequent kept level (first on ties).
                kept.iter()
                    .fold(None::<(&String, usize)>, |b, &(l, c)| match b {
                        Some(b) if b.1 >= c => Some(b),
                        _ => Some((l, c)),
                    })
                    .map(|b| b.0)
            } else {
                let p = profile(level);
                kept_profiles
                    .iter()
                    .map(|(l, q)| {
                        let d = p
                            .iter()
                            .zip(q)
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum::<f64>()
                            .sqrt();
                        (*l, d)
                    })
                    .fold(None::<(&String, f64)>, |b, d| match b {
                        Some(b) if b.1 <= d.1 => Some(b),
                        _ => Some(d),
                    })
                    .map(|b| b.0)
            };
            if let Some(to) = into {
                merges.push(((*level).clone(), to.clone()));
            }
        }
        LevelMap {
            column: self.column.clone(),
            merges,
        }
    }
}

/// Decides the merge of `ds` on `rows` alone, with threshold `min_share`.
///
/// ```
/// use customer_intel::{data, sparse};
/// let ds = data::synth(200, 3, &data::SynthSpec::default());
/// let all: Vec<usize> = (0..ds.n_rows()).collect();
/// let map = sparse::decide(&ds, &all, 0.0);
/// assert!(map.merges.is_empty()); // a zero threshold keeps every level
/// ```
pub fn decide(ds: &Dataset, rows: &[usize], min_share: f64) -> LevelMap {
    MergeSource::of(ds, min_share).decide(rows)
}

/// The rule, in words, for findings and model files.
pub fn rule(roles: &Roles, min_share: f64) -> String {
    format!(
        "decided on each model's fitting rows only (each training fold; all rows for the saved models): a level of {} \
         with under {:.1}% of those rows joins the level (of those at or above it) whose vector of standardised means \
         of {} on those rows is nearest in Euclidean distance, ties to the earlier level; a level with no fitting rows \
         joins the most frequent kept level; the merged level's indicator column is dropped and its rows encoded as \
         the level they joined, in training, in scoring and in the saved models",
        roles.category,
        100.0 * min_share,
        roles.demographic.join(", ")
    )
}

/// How often each merge was decided over a set of training folds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldDecision {
    /// The sparse level.
    pub level: String,
    /// The level it joined.
    pub into: String,
    /// Training folds in which this was decided.
    pub folds: usize,
    /// Of those, folds whose training rows held no row of the level (the unseen-level fallback).
    pub unseen: usize,
}

/// Tallies the decisions made on the training rows of `folds`.
pub fn fold_decisions(source: &MergeSource, folds: &[Fold]) -> Vec<FoldDecision> {
    let mut out: Vec<FoldDecision> = Vec::new();
    for fold in folds {
        let map = source.decide(&fold.train);
        for (from, to) in map.merges {
            let code = level_code(&source.levels, &from);
            let unseen = !fold.train.iter().any(|&i| Some(source.codes[i]) == code);
            match out.iter_mut().find(|d| d.level == from && d.into == to) {
                Some(d) => {
                    d.folds += 1;
                    d.unseen += usize::from(unseen);
                }
                None => out.push(FoldDecision {
                    level: from,
                    into: to,
                    folds: 1,
                    unseen: usize::from(unseen),
                }),
            }
        }
    }
    out
}

/// One model with and without the merge, scored on the same folds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AblationRow {
    /// The model (and its variant: feature set, SMOTE).
    pub model: String,
    /// The score compared (`R²`, `F1`).
    pub metric: String,
    /// Score with the merge (mean, sd, n over folds or repeats).
    pub merged: FoldSummary,
    /// Score without it.
    pub unmerged: FoldSummary,
    /// Paired differences, merged − unmerged, fold by fold (or repeat by repeat).
    pub difference: FoldSummary,
    /// The difference is below −1 sd of the paired differences: the merge hurts this model.
    pub hurts: bool,
    /// The difference is above +1 sd of the paired differences: the merge helps this model.
    pub helps: bool,
    /// This row is the analysis' recommended (best) model.
    pub best: bool,
}

/// A row of the ablation from per-fold scores of both variants (same folds, same order).
pub fn ablation_row(
    model: String,
    metric: &str,
    merged: &[f64],
    unmerged: &[f64],
    best: bool,
) -> AblationRow {
    let diff: Vec<f64> = merged.iter().zip(unmerged).map(|(a, b)| a - b).collect();
    let d = FoldSummary::of(&diff);
    AblationRow {
        model,
        metric: metric.to_string(),
        merged: FoldSummary::of(merged),
        unmerged: FoldSummary::of(unmerged),
        hurts: d.mean < -d.sd,
        helps: d.mean > d.sd,
        difference: d,
        best,
    }
}

/// The merge's ablation in one analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Ablation {
    /// Whether the analysis' main scores (and the saved model) use the merge
    /// (`features.merge_sparse_levels`).
    pub enabled: bool,
    /// The merge rule ([`rule`]).
    pub rule: String,
    /// The sparse-share threshold.
    pub min_share: f64,
    /// How the two variants were scored.
    pub scheme: String,
    /// Decisions over the training folds of that scheme (every repeat).
    pub fold_decisions: Vec<FoldDecision>,
    /// Training folds the decisions were made on.
    pub folds: usize,
    /// Every model, with and without the merge.
    pub rows: Vec<AblationRow>,
    /// The recommendation rule, in words.
    pub recommendation_rule: String,
    /// Whether merging is recommended by that rule.
    pub recommend_merge: bool,
    /// Why, with the numbers.
    pub reason: String,
}

/// The recommendation rule, in words.
pub const RECOMMENDATION_RULE: &str = "merge unless it lowers the recommended (best) model's mean score by more than one sd \
of its paired fold differences (merged − unmerged < −1 sd); without a best model, merge unless any model is hurt that way";

/// Applies [`RECOMMENDATION_RULE`] to ablation rows: (merge recommended, reason).
pub fn recommend(rows: &[AblationRow]) -> (bool, String) {
    let fmt = |r: &AblationRow| {
        format!(
            "{}: {} {:.4} merged vs {:.4} unmerged, difference {:+.4} (sd {:.4}, n = {})",
            r.model,
            r.metric,
            r.merged.mean,
            r.unmerged.mean,
            r.difference.mean,
            r.difference.sd,
            r.difference.n
        )
    };
    if let Some(b) = rows.iter().find(|r| r.best) {
        let verdict = if b.hurts {
            "the merge hurts the recommended model by more than one sd: keep every level"
        } else if b.helps {
            "the merge helps the recommended model by more than one sd: merge"
        } else {
            "the difference is within one sd: merge, as the plan asks, since it does not hurt"
        };
        return (!b.hurts, format!("{}; {verdict}", fmt(b)));
    }
    match rows.iter().find(|r| r.hurts) {
        Some(r) => (false, format!("{}; it hurts: keep every level", fmt(r))),
        None => (true, "no model is hurt by more than one sd: merge".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::cv::{self, Scheme};
    use crate::test_fixtures::bundled;

    #[test]
    fn on_all_rows_the_decision_is_the_eda_rule() {
        // The EDA's rule is checked against pandas in features::tests (East → North, distances
        // 0.456 / 0.900 / 1.891); deciding on every row must give the same map.
        let ds = bundled();
        let all: Vec<usize> = (0..ds.n_rows()).collect();
        let map = decide(&ds, &all, 0.05);
        assert_eq!(map.merges, vec![("East".to_string(), "North".to_string())]);
        assert_eq!(map.apply("East"), "North");
        assert_eq!(map.apply("West"), "West");
        let (_, values, _) = crate::features::merge_sparse_levels(&ds, 0.05);
        for (i, v) in values.iter().enumerate() {
            assert_eq!(map.apply(&ds.category[i]), v);
        }
    }

    #[test]
    fn nothing_from_the_test_fold_decides_the_merge() {
        let ds = bundled();
        let folds = cv::split(Scheme::GroupKFold, &ds.groups, None, 5, 7).unwrap();
        for fold in &folds {
            let before = decide(&ds, &fold.train, 0.05);
            // Rewrite every test row: all become East with extreme demographics. A decision
            // that read any test row would change (East would stop being sparse, or move).
            let mut other = ds.clone();
            for &i in &fold.test {
                other.category[i] = "East".into();
                for c in &ds.roles.demographic {
                    other.numeric.get_mut(c).unwrap()[i] = 1e6;
                }
            }
            assert_eq!(decide(&other, &fold.train, 0.05), before);
            // And the decision equals the rule applied to a table of the training rows alone.
            let train_only = ds.subset(&fold.train);
            let own: Vec<usize> = (0..train_only.n_rows()).collect();
            assert_eq!(decide(&train_only, &own, 0.05), before);
        }
    }

    #[test]
    fn an_unseen_level_joins_the_most_frequent_kept_level() {
        let ds = bundled();
        let rows: Vec<usize> = (0..ds.n_rows())
            .filter(|&i| ds.category[i] != "East")
            .collect();
        let map = decide(&ds, &rows, 0.05);
        let count = |l: &str| rows.iter().filter(|&&i| ds.category[i] == l).count();
        // North 78 (84 grouped North rows minus East's 6), South 77, West 77: North is the mode.
        assert_eq!(
            (count("North"), count("South"), count("West")),
            (78, 77, 77)
        );
        assert_eq!(map.merges, vec![("East".to_string(), "North".to_string())]);
    }

    #[test]
    fn recommendation_follows_the_one_sd_rule() {
        let hurt = ablation_row("m".into(), "R²", &[0.5, 0.6, 0.55], &[0.7, 0.8, 0.72], true);
        assert!(hurt.hurts && !recommend(&[hurt]).0);
        let noise = ablation_row(
            "m".into(),
            "R²",
            &[0.7, 0.8, 0.7],
            &[0.71, 0.78, 0.72],
            true,
        );
        assert!(!noise.hurts && recommend(std::slice::from_ref(&noise)).0);
        // Paired: differences −0.01, +0.02, −0.02 → mean −0.00333, sd 0.02082.
        assert!((noise.difference.mean + 0.01 / 3.0).abs() < 1e-12);
        assert!((noise.difference.sd - 0.020_816_659_994_661_33).abs() < 1e-12);
    }
}
