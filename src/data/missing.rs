//! Missing values: what counts as a gap in a cell ([`MissingSettings::values`]), what a run does
//! with gaps ([`MissingPolicy`]), the missingness profile the EDA reports ([`MissingProfile`]),
//! and the row views each analysis runs on ([`Views`]).
//!
//! A gap is held in a [`Dataset`] as `NaN` in a numeric column and as an empty string in the
//! category column; the loader never lets either through otherwise (a `NaN` written in a file
//! is a gap only when `"NaN"` is listed as a missing value and the policy accepts gaps). The id
//! is never allowed to be missing.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::Dataset;
use crate::settings::SettingsError;

/// What a run does with a table that has gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// Refuse the table: every gap is a violation naming its line (or row), column and value.
    #[default]
    Reject,
    /// Leave out every row with a gap in a role column, and say how many.
    DropRows,
    /// Impute numeric features with the median of the training rows, learned inside each
    /// training fold of the spend regression (never on the whole table) and stored in the saved
    /// models; rows with a missing target or category are left out and counted; the analyses
    /// that have no training folds to learn from (classification, segmentation, drift,
    /// robustness, the EDA statistics) run on the rows without gaps, and say how many they left out.
    Impute,
}

impl MissingPolicy {
    /// The policy as written in settings.
    pub fn name(self) -> &'static str {
        match self {
            MissingPolicy::Reject => "reject",
            MissingPolicy::DropRows => "drop_rows",
            MissingPolicy::Impute => "impute",
        }
    }
}

/// The `[data]` settings table: how gaps in the input are recognised and handled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MissingSettings {
    /// What to do with gaps (`reject`, `drop_rows` or `impute`; default `reject`, so a table
    /// with gaps is never analysed without the user choosing how).
    pub missing: MissingPolicy,
    /// Cell texts that mean "no value", matched after trimming white space and ignoring ASCII
    /// case (default: the empty cell, `NA`, `null`, `NaN`). A text that is neither a number nor
    /// one of these stays an error under every policy: a typo is not a gap. A Parquet null is
    /// always a gap.
    pub missing_values: Vec<String>,
    /// Share of a column's cells missing at or above which the EDA raises an alert.
    pub alert_share: f64,
}

impl Default for MissingSettings {
    fn default() -> Self {
        MissingSettings {
            missing: MissingPolicy::Reject,
            missing_values: vec![String::new(), "NA".into(), "null".into(), "NaN".into()],
            alert_share: 0.05,
        }
    }
}

impl MissingSettings {
    /// Settings that refuse every gap (what the plain loaders use).
    pub fn reject() -> MissingSettings {
        MissingSettings::default()
    }

    /// Whether the policy lets gaps through the loader.
    pub fn accepts_gaps(&self) -> bool {
        self.missing != MissingPolicy::Reject
    }

    /// Whether a trimmed cell text is a gap under these settings (always false under `reject`,
    /// whose messages keep naming each rule a cell breaks).
    pub fn is_gap(&self, trimmed: &str) -> bool {
        self.accepts_gaps()
            && self
                .missing_values
                .iter()
                .any(|m| m.trim().eq_ignore_ascii_case(trimmed))
    }

    /// Checks the values (`data.` keys).
    pub fn check(&self) -> Result<(), SettingsError> {
        crate::bounds::count(
            "data.missing_values (entries)",
            self.missing_values.len(),
            0,
            50,
        )?;
        crate::bounds::closed("data.alert_share", self.alert_share, 0.0, 1.0)?;
        Ok(())
    }
}

/// Gaps of one role column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnGaps {
    /// Column name.
    pub column: String,
    /// Cells with no value.
    pub missing: usize,
    /// `missing / rows`.
    pub share: f64,
}

/// Two columns that go missing in the same rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapPair {
    /// First column (role order).
    pub a: String,
    /// Second column.
    pub b: String,
    /// Rows where both are missing.
    pub both: usize,
}

/// The missingness of a table and what the run's policy did with it.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct MissingProfile {
    /// The policy (`reject`, `drop_rows`, `impute`).
    pub policy: String,
    /// Gaps per role column (numeric columns in role order, then the category).
    pub columns: Vec<ColumnGaps>,
    /// Cells with no value, over every role column.
    pub cells: usize,
    /// Rows with at least one gap.
    pub rows_with_gaps: usize,
    /// Column pairs missing together in at least one row, most frequent first.
    pub together: Vec<GapPair>,
    /// Rows the spend regression left out (a gap in the target or the category under `impute`;
    /// any gap under `drop_rows`).
    pub regression_rows_left_out: usize,
    /// Feature values the spend regression imputed (inside each training fold, from the
    /// training rows' medians).
    pub values_imputed: usize,
    /// Rows every other analysis left out (any gap).
    pub rows_left_out: usize,
    /// Columns whose share of gaps is at or above `data.alert_share`.
    pub alerts: Vec<String>,
    /// The alert threshold.
    pub alert_share: f64,
}

/// Whether row `i` has a gap in any role column present.
fn row_has_gap(ds: &Dataset, i: usize) -> bool {
    ds.numeric.values().any(|c| c[i].is_nan()) || ds.category[i].is_empty()
}

/// Whether row `i` lacks its target or category (left out of every analysis under `impute`).
fn row_lacks_target_or_category(ds: &Dataset, i: usize) -> bool {
    ds.category[i].is_empty()
        || ds
            .numeric
            .get(&ds.roles.target)
            .is_some_and(|t| t[i].is_nan())
}

impl Dataset {
    /// Whether any role cell is a gap.
    pub fn has_gaps(&self) -> bool {
        (0..self.n_rows()).any(|i| row_has_gap(self, i))
    }

    /// Rows without any gap, in order.
    pub fn complete_rows(&self) -> Vec<usize> {
        (0..self.n_rows())
            .filter(|&i| !row_has_gap(self, i))
            .collect()
    }

    /// The missingness profile of the table (policy fields left at zero; see [`Views::profile`]).
    pub fn missing_profile(&self, settings: &MissingSettings) -> MissingProfile {
        let n = self.n_rows();
        let mut masks: Vec<(String, Vec<bool>)> = self
            .roles
            .numeric_columns()
            .into_iter()
            .filter_map(|c| {
                let v = self.numeric.get(&c)?;
                Some((c, v.iter().map(|x| x.is_nan()).collect()))
            })
            .collect();
        masks.push((
            self.roles.category.clone(),
            self.category.iter().map(String::is_empty).collect(),
        ));
        let share = |k: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
        let columns: Vec<ColumnGaps> = masks
            .iter()
            .map(|(c, m)| {
                let missing = m.iter().filter(|&&b| b).count();
                ColumnGaps {
                    column: c.clone(),
                    missing,
                    share: share(missing),
                }
            })
            .collect();
        let mut together = Vec::new();
        for (i, (a, ma)) in masks.iter().enumerate() {
            for (b, mb) in &masks[i + 1..] {
                let both = ma.iter().zip(mb).filter(|(x, y)| **x && **y).count();
                if both > 0 {
                    together.push(GapPair {
                        a: a.clone(),
                        b: b.clone(),
                        both,
                    });
                }
            }
        }
        together.sort_by_key(|p| std::cmp::Reverse(p.both));
        let alerts = columns
            .iter()
            .filter(|c| c.missing > 0 && c.share >= settings.alert_share)
            .map(|c| c.column.clone())
            .collect();
        MissingProfile {
            policy: settings.missing.name().to_string(),
            cells: columns.iter().map(|c| c.missing).sum(),
            columns,
            rows_with_gaps: (0..n).filter(|&i| row_has_gap(self, i)).count(),
            together,
            regression_rows_left_out: 0,
            values_imputed: 0,
            rows_left_out: 0,
            alerts,
            alert_share: settings.alert_share,
        }
    }
}

/// The rows each analysis runs on under a policy. With no gaps both views borrow the table.
#[derive(Debug, Clone)]
pub struct Views<'a> {
    /// The spend regression's rows: under `impute` every row with its target and category
    /// (numeric feature gaps left as `NaN`, imputed inside each training fold); otherwise the
    /// rows without gaps.
    pub regression: Cow<'a, Dataset>,
    /// Every other analysis' rows: the rows without gaps.
    pub complete: Cow<'a, Dataset>,
    /// The profile, with the policy's counts filled in.
    pub profile: MissingProfile,
}

impl<'a> Views<'a> {
    /// Splits a loaded table into the views of `settings.missing`.
    ///
    /// ```
    /// use customer_intel::data::{self, MissingSettings, Views};
    /// let ds = data::synth(50, 1, &data::SynthSpec::default());
    /// let v = Views::new(&ds, &MissingSettings::default());
    /// assert_eq!(v.complete.n_rows(), 50);
    /// assert_eq!(v.profile.cells, 0);
    /// ```
    pub fn new(ds: &'a Dataset, settings: &MissingSettings) -> Views<'a> {
        let mut profile = ds.missing_profile(settings);
        if profile.rows_with_gaps == 0 {
            return Views {
                regression: Cow::Borrowed(ds),
                complete: Cow::Borrowed(ds),
                profile,
            };
        }
        let complete_rows = ds.complete_rows();
        let complete = ds.subset(&complete_rows);
        profile.rows_left_out = ds.n_rows() - complete_rows.len();
        let regression = if settings.missing == MissingPolicy::Impute {
            let rows: Vec<usize> = (0..ds.n_rows())
                .filter(|&i| !row_lacks_target_or_category(ds, i))
                .collect();
            let features = &ds.roles.numeric;
            profile.values_imputed = rows
                .iter()
                .map(|&i| {
                    features
                        .iter()
                        .filter(|c| ds.numeric.get(*c).is_some_and(|v| v[i].is_nan()))
                        .count()
                })
                .sum();
            profile.regression_rows_left_out = ds.n_rows() - rows.len();
            ds.subset(&rows)
        } else {
            profile.regression_rows_left_out = profile.rows_left_out;
            complete.clone()
        };
        Views {
            regression: Cow::Owned(regression),
            complete: Cow::Owned(complete),
            profile,
        }
    }
}
