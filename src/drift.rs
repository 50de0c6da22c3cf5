//! Drift of a batch of customers against the training data: the saved training profile
//! ([`TrainingProfile`], stored in the spend model file) and the per-feature comparison
//! ([`compare`]) that `report score`, `report drift` and the service's `/v1/drift` print.
//!
//! The statistics are those of the drift simulation ([`crate::ml::drift_metrics`]): PSI over
//! bins cut at the training data's quantiles, PSI over the category's levels, and the two-sample
//! Kolmogorov–Smirnov statistic. The alarm rule is the simulation's (`settings.drift.psi_alarm`,
//! PSI above it on a feature), applied only when the batch is large enough to judge: PSI from
//! sampling alone has a large-sample mean of about (bins − 1)·(1/n_reference + 1/n_batch)
//! (PSI is close to a χ² statistic), and a batch is judged when that floor is at most half the
//! alarm level, so sampling noise alone rarely raises the alarm.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::ml::drift_metrics;
use crate::stats;

/// Largest number of training values a profile keeps per numeric column for the KS statistic.
/// Columns with more values keep this many evenly spaced order statistics (type-7 quantiles),
/// which makes the KS statistic approximate (to about 1/this).
pub const REFERENCE_SAMPLE_MAX: usize = 2000;

/// What a saved model keeps of one numeric training column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericProfile {
    /// The column.
    pub column: String,
    /// Smallest training value.
    pub min: f64,
    /// Largest training value.
    pub max: f64,
    /// Median training value (the dashboard's default input).
    pub median: f64,
    /// Inner PSI bin edges: the training values' quantiles ([`drift_metrics::quantile_edges`]).
    pub edges: Vec<f64>,
    /// Share of the training rows in each bin (`edges.len() + 1` shares).
    pub shares: Vec<f64>,
    /// The training values, sorted; or [`REFERENCE_SAMPLE_MAX`] evenly spaced quantiles of them.
    pub sample: Vec<f64>,
    /// Whether `sample` holds every training value (KS exact) or quantiles (KS approximate).
    pub sample_is_exact: bool,
}

/// What a saved model keeps of the category column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryProfile {
    /// The column.
    pub column: String,
    /// The levels, in the roles' order.
    pub levels: Vec<String>,
    /// Share of the training rows at each level.
    pub shares: Vec<f64>,
}

/// The training data as the drift checks and the dashboard need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingProfile {
    /// Training rows.
    pub rows: usize,
    /// Quantile bins asked for (`settings.drift.psi_bins`; tied values can give fewer).
    pub bins: usize,
    /// PSI alarm level (`settings.drift.psi_alarm`).
    pub psi_alarm: f64,
    /// Every numeric role column, in the roles' order.
    pub numeric: Vec<NumericProfile>,
    /// The category column.
    pub category: CategoryProfile,
}

/// The profile of a table's numeric role columns and category.
///
/// ```
/// use customer_intel::{data, drift};
/// let ds = data::synth(500, 1, &data::SynthSpec::default());
/// let p = drift::profile(&ds, 10, 0.2);
/// assert_eq!(p.rows, 500);
/// assert!(p.numeric.iter().all(|c| (c.shares.iter().sum::<f64>() - 1.0).abs() < 1e-9));
/// ```
pub fn profile(ds: &Dataset, bins: usize, psi_alarm: f64) -> TrainingProfile {
    let numeric = ds
        .roles
        .numeric_columns()
        .into_iter()
        .filter_map(|c| ds.numeric.get(&c).map(|v| numeric_profile(&c, v, bins)))
        .collect();
    let levels = ds.roles.category_levels.clone();
    let shares = level_shares(&ds.category, &levels);
    TrainingProfile {
        rows: ds.n_rows(),
        bins,
        psi_alarm,
        numeric,
        category: CategoryProfile {
            column: ds.roles.category.clone(),
            levels,
            shares,
        },
    }
}

impl TrainingProfile {
    /// Checks the shapes the comparison relies on: each numeric column has one share per bin
    /// (`edges.len() + 1`), a non-empty sorted sample and finite bounds; the category has one
    /// share per level; the alarm level is positive. A model file that breaks one is refused at
    /// load instead of failing a request.
    pub fn check(&self) -> Result<(), String> {
        if !(self.psi_alarm > 0.0) || !self.psi_alarm.is_finite() {
            return Err(format!(
                "training_profile.psi_alarm is {}; rule: a positive number",
                self.psi_alarm
            ));
        }
        for p in &self.numeric {
            let c = &p.column;
            if p.shares.len() != p.edges.len() + 1 {
                return Err(format!(
                    "training_profile column '{c}' has {} shares for {} edges; rule: one share per bin (edges + 1)",
                    p.shares.len(),
                    p.edges.len()
                ));
            }
            if p.sample.is_empty() || p.sample.windows(2).any(|w| !(w[0] <= w[1])) {
                return Err(format!(
                    "training_profile column '{c}' has an empty or unsorted sample; rule: the training values, sorted"
                ));
            }
            if !(p.min.is_finite() && p.max.is_finite() && p.min <= p.max) {
                return Err(format!(
                    "training_profile column '{c}' has the range {} to {}; rule: finite, min at most max",
                    p.min, p.max
                ));
            }
        }
        if self.category.shares.len() != self.category.levels.len() {
            return Err(format!(
                "training_profile category '{}' has {} shares for {} levels; rule: one share per level",
                self.category.column,
                self.category.shares.len(),
                self.category.levels.len()
            ));
        }
        Ok(())
    }
}

/// The profile of one column's present values (gaps, NaN, are left out: drift is measured on
/// what is there; a table's gaps are reported by its missing-value profile).
fn numeric_profile(column: &str, values: &[f64], bins: usize) -> NumericProfile {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let edges = drift_metrics::quantile_edges(&sorted, bins);
    let shares = drift_metrics::bin_shares(&sorted, &edges);
    let exact = sorted.len() <= REFERENCE_SAMPLE_MAX;
    let sample = if exact {
        sorted.clone()
    } else {
        (0..REFERENCE_SAMPLE_MAX)
            .map(|i| stats::quantile_sorted(&sorted, i as f64 / (REFERENCE_SAMPLE_MAX - 1) as f64))
            .collect()
    };
    NumericProfile {
        column: column.to_string(),
        min: sorted.first().copied().unwrap_or(f64::NAN),
        max: sorted.last().copied().unwrap_or(f64::NAN),
        median: stats::quantile_sorted(&sorted, 0.5),
        edges,
        shares,
        sample,
        sample_is_exact: exact,
    }
}

fn level_shares(values: &[String], levels: &[String]) -> Vec<f64> {
    let mut counts = vec![0; levels.len()];
    count_levels(values.iter().map(String::as_str), levels, &mut counts);
    shares(&counts, values.len())
}

/// Each count as a share of `n` rows (0 for every level when `n` is 0).
fn shares(counts: &[usize], n: usize) -> Vec<f64> {
    counts.iter().map(|&k| k as f64 / n.max(1) as f64).collect()
}

/// Adds to `counts` (one per training level, in `levels` order) how many `values` equal each
/// level; values of other levels are counted nowhere (their share is what the levels miss).
pub fn count_levels<'a>(
    values: impl IntoIterator<Item = &'a str>,
    levels: &[String],
    counts: &mut [usize],
) {
    for v in values {
        if let Some(i) = levels.iter().position(|l| l == v) {
            counts[i] += 1;
        }
    }
}

/// One numeric feature of a batch against the training data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureDrift {
    /// The column.
    pub column: String,
    /// PSI over the training quantile bins.
    pub psi: f64,
    /// Two-sample KS statistic against the training values.
    pub ks: f64,
    /// Whether `ks` used every training value (else the saved quantiles).
    pub ks_exact: bool,
    /// KS above which the samples differ at the 5 % level (asymptotic 1.358·√((n+m)/(n·m))).
    pub ks_critical_5pct: f64,
    /// PSI above the alarm level in a batch large enough to judge.
    pub psi_alarm: bool,
    /// KS above its 5 % critical value.
    pub ks_differs: bool,
    /// Median of the batch.
    pub median: f64,
    /// Median of the training data.
    pub training_median: f64,
    /// Batch values outside the training range `[min, max]`.
    pub outside_training_range: usize,
    /// The training range.
    pub training_range: (f64, f64),
}

/// The category mix of a batch against the training data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryDrift {
    /// The column.
    pub column: String,
    /// The levels.
    pub levels: Vec<String>,
    /// Training share per level.
    pub training_shares: Vec<f64>,
    /// Batch share per level.
    pub batch_shares: Vec<f64>,
    /// PSI over the levels.
    pub psi: f64,
    /// PSI above the alarm level in a batch large enough to judge.
    pub psi_alarm: bool,
}

/// A batch's drift summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftReport {
    /// Customers in the batch.
    pub rows: usize,
    /// Training rows.
    pub reference_rows: usize,
    /// PSI bins asked for.
    pub bins: usize,
    /// PSI alarm level.
    pub psi_alarm_level: f64,
    /// PSI expected from sampling alone: (bins − 1)·(1/n_reference + 1/n_batch).
    pub psi_sampling_floor: f64,
    /// Whether the batch is large enough to judge (sampling floor ≤ alarm / 2).
    pub judged: bool,
    /// Smallest batch that would be judged (`None` if the training data is too small for any).
    pub min_rows_to_judge: Option<usize>,
    /// The rule, in words.
    pub rule: String,
    /// Per numeric feature present in the batch.
    pub features: Vec<FeatureDrift>,
    /// The category mix.
    pub category: CategoryDrift,
    /// Whether any alarm fired.
    pub alarm: bool,
    /// Plain-language warnings, most serious first.
    pub warnings: Vec<String>,
}

/// Compares a batch (numeric columns by name, category values) with a training profile.
/// Columns the profile has but the batch lacks (the spend of new customers) are skipped.
///
/// ```
/// use customer_intel::{data, drift};
/// let ds = data::synth(2000, 1, &data::SynthSpec::default());
/// let p = drift::profile(&ds, 10, 0.2);
/// let same = drift::compare(&p, &ds.numeric, &ds.category);
/// assert!(same.judged && !same.alarm);
/// assert!(same.features.iter().all(|f| f.psi < 1e-12 && f.ks == 0.0));
/// ```
pub fn compare(
    profile: &TrainingProfile,
    numeric: &BTreeMap<String, Vec<f64>>,
    category: &[String],
) -> DriftReport {
    let levels = &profile.category.levels;
    let mut counts = vec![0; levels.len()];
    count_levels(category.iter().map(String::as_str), levels, &mut counts);
    compare_counted(profile, numeric, &counts, category.len())
}

/// [`compare`] for a batch whose category column was only counted ([`count_levels`]) as it
/// streamed by: `level_counts` per training level and `n` rows in all. Same report.
pub fn compare_counted(
    profile: &TrainingProfile,
    numeric: &BTreeMap<String, Vec<f64>>,
    level_counts: &[usize],
    n: usize,
) -> DriftReport {
    let nr = profile.rows;
    let b = profile.bins.saturating_sub(1) as f64;
    let alarm = profile.psi_alarm;
    let floor = b * (1.0 / nr.max(1) as f64 + 1.0 / n.max(1) as f64);
    let judged = n > 0 && floor <= alarm / 2.0;
    let room = alarm / 2.0 - b / nr.max(1) as f64;
    let min_rows = (room > 0.0).then(|| (b / room).ceil().max(1.0) as usize);
    let mut warnings = Vec::new();
    let mut alarm_warnings = Vec::new();
    let features: Vec<FeatureDrift> = profile
        .numeric
        .iter()
        .filter_map(|p| numeric.get(&p.column).map(|v| (p, v)))
        .map(|(p, all)| {
            // Gaps (NaN) are left out, as in the training profile. The batch is sorted once
            // for the bin shares, the KS merge and the median (each equal to its unsorted form).
            let mut present: Vec<f64> = all.iter().copied().filter(|x| !x.is_nan()).collect();
            present.sort_unstable_by(f64::total_cmp);
            let v = &present;
            let psi = drift_metrics::psi_from_shares(
                &p.shares,
                &drift_metrics::bin_shares_sorted(v, &p.edges),
            );
            let mut reference = p.sample.clone();
            reference.sort_unstable_by(f64::total_cmp);
            let ks = drift_metrics::ks_statistic_sorted(&reference, v);
            let crit = 1.358 * ((nr + n) as f64 / (nr.max(1) * n.max(1)) as f64).sqrt();
            let outside = v.iter().filter(|&&x| x < p.min || x > p.max).count();
            let f = FeatureDrift {
                column: p.column.clone(),
                psi,
                ks,
                ks_exact: p.sample_is_exact,
                ks_critical_5pct: crit,
                psi_alarm: judged && psi > alarm,
                ks_differs: ks > crit,
                median: stats::quantile_sorted(v, 0.5),
                training_median: p.median,
                outside_training_range: outside,
                training_range: (p.min, p.max),
            };
            if f.psi_alarm {
                alarm_warnings.push(format!(
                    "'{}' has drifted: PSI {:.3} is above the alarm level {} (median {} in this batch, {} in training; KS {:.3})",
                    f.column,
                    f.psi,
                    alarm,
                    num(f.median),
                    num(f.training_median),
                    f.ks
                ));
            }
            if outside > 0 {
                warnings.push(format!(
                    "{outside} of {n} customers have '{}' outside the training range {} to {}: their predictions are extrapolations",
                    f.column,
                    num(p.min),
                    num(p.max)
                ));
            }
            f
        })
        .collect();
    let c = &profile.category;
    let batch_shares = shares(level_counts, n);
    let cpsi = drift_metrics::psi_from_shares(&c.shares, &batch_shares);
    let category = CategoryDrift {
        column: c.column.clone(),
        levels: c.levels.clone(),
        training_shares: c.shares.clone(),
        psi: cpsi,
        psi_alarm: judged && cpsi > alarm,
        batch_shares,
    };
    if category.psi_alarm {
        let mix = |s: &[f64]| {
            c.levels
                .iter()
                .zip(s)
                .map(|(l, x)| format!("{l} {:.0}%", 100.0 * x))
                .collect::<Vec<_>>()
                .join(", ")
        };
        alarm_warnings.push(format!(
            "the '{}' mix has drifted: PSI {:.3} is above the alarm level {} ({} in this batch; {} in training)",
            c.column,
            cpsi,
            alarm,
            mix(&category.batch_shares),
            mix(&c.shares)
        ));
    }
    if !judged {
        warnings.insert(
            0,
            match min_rows {
                Some(m) => format!(
                    "only {n} customers: sampling alone gives a PSI of about {floor:.3}, too close to the alarm level {alarm} to judge drift; PSI is shown but no alarm is raised below {m} customers"
                ),
                None => format!(
                    "the training data's {nr} rows are too few to judge drift of any batch at the alarm level {alarm} with {} bins",
                    profile.bins
                ),
            },
        );
    }
    let any = !alarm_warnings.is_empty();
    alarm_warnings.extend(warnings);
    DriftReport {
        rows: n,
        reference_rows: nr,
        bins: profile.bins,
        psi_alarm_level: alarm,
        psi_sampling_floor: floor,
        judged,
        min_rows_to_judge: min_rows,
        rule: format!(
            "alarm when a feature's PSI (over {} quantile bins of the training data) is above {alarm}, judged only when the PSI expected from sampling alone, (bins − 1)·(1/{nr} + 1/n), is at most half of {alarm}; KS is compared with its 5% critical value 1.358·√((n + {nr})/(n·{nr}))",
            profile.bins
        ),
        features,
        category,
        alarm: any,
        warnings: alarm_warnings,
    }
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

impl DriftReport {
    /// A few plain lines for a terminal: one per feature, then the warnings.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "drift against the {} training rows ({} customers{}):",
            self.reference_rows,
            self.rows,
            if self.judged {
                ""
            } else {
                ", too few to judge"
            }
        )];
        for f in &self.features {
            out.push(format!(
                "  {:<20} PSI {:>6.3}{}  KS {:.3} (5% critical {:.3})",
                f.column,
                f.psi,
                if f.psi_alarm { " ALARM" } else { "      " },
                f.ks,
                f.ks_critical_5pct
            ));
        }
        out.push(format!(
            "  {:<20} PSI {:>6.3}{}",
            self.category.column,
            self.category.psi,
            if self.category.psi_alarm {
                " ALARM"
            } else {
                ""
            }
        ));
        out
    }

    /// A small self-contained HTML page of the summary.
    pub fn to_html(&self, title: &str) -> String {
        use crate::html::escape;
        let mut rows = String::new();
        for f in &self.features {
            rows.push_str(&format!(
                "<tr{}><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                if f.psi_alarm { " class=\"alarm\"" } else { "" },
                escape(&f.column),
                f.psi,
                f.ks,
                f.ks_critical_5pct,
                num(f.median),
                num(f.training_median),
                f.outside_training_range
            ));
        }
        let mut mix = String::new();
        for ((l, t), b) in self
            .category
            .levels
            .iter()
            .zip(&self.category.training_shares)
            .zip(&self.category.batch_shares)
        {
            mix.push_str(&format!(
                "<tr><td>{}</td><td>{:.1}%</td><td>{:.1}%</td></tr>\n",
                escape(l),
                100.0 * t,
                100.0 * b
            ));
        }
        let warnings: String = self
            .warnings
            .iter()
            .map(|w| format!("<li>{}</li>", escape(w)))
            .collect();
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}}table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.3rem .7rem;text-align:right}}td:first-child,th:first-child{{text-align:left}}tr.alarm{{background:#fde2e1}}.verdict{{font-weight:600}}</style></head>\n<body><h1>{t}</h1>\n<p class=\"verdict\">{verdict}</p>\n<ul>{warnings}</ul>\n<table><tr><th>feature</th><th>PSI</th><th>KS</th><th>KS 5% critical</th><th>batch median</th><th>training median</th><th>outside training range</th></tr>\n{rows}</table>\n<h2>{c} mix (PSI {cpsi:.3})</h2>\n<table><tr><th>level</th><th>training</th><th>batch</th></tr>\n{mix}</table>\n<p><small>Rule: {rule}.</small></p></body></html>\n",
            t = escape(title),
            verdict = if self.alarm {
                "Drift alarm: the batch differs from the training data."
            } else if self.judged {
                "No drift alarm."
            } else {
                "Too few customers to judge drift."
            },
            c = escape(&self.category.column),
            cpsi = self.category.psi,
            rule = escape(&self.rule),
        )
    }
}

/// Errors of `report drift`.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// The settings were invalid.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// A table was invalid or unreadable.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// Writing an output failed.
    #[error("cannot write '{path}': {message}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// What failed.
        message: String,
    },
}

/// Compares two CSV files (validated like `report build`; the current table may lack the spend
/// column) with the settings' bins and alarm level, and writes `drift.json` and `drift.html`
/// into `out_dir` (each written whole to a temporary file, then renamed into place).
pub fn between_files(
    reference: &std::path::Path,
    current: &std::path::Path,
    settings: &crate::settings::Settings,
    out_dir: &std::path::Path,
) -> Result<(DriftReport, Vec<std::path::PathBuf>), DriftError> {
    use std::io::Write;
    settings.check()?;
    let r = crate::data::load_with_roles(reference, &settings.roles)?;
    let mut roles = settings.roles.clone();
    roles.target_optional = true;
    let c = crate::data::load_with_roles(current, &roles)?;
    let p = profile(&r, settings.drift.psi_bins, settings.drift.psi_alarm);
    let report = compare(&p, &c.numeric, &c.category);
    let mut json = serde_json::to_string_pretty(&report).map_err(|e| DriftError::Write {
        path: out_dir.join("drift.json"),
        message: e.to_string(),
    })?;
    json.push('\n');
    let html = report.to_html(&format!(
        "Drift of {} against {}",
        current.display(),
        reference.display()
    ));
    let write_err = |path: &std::path::Path, e: &dyn std::fmt::Display| DriftError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(out_dir).map_err(|e| write_err(out_dir, &e))?;
    let mut files = Vec::new();
    for (name, bytes) in [
        ("drift.json", json.into_bytes()),
        ("drift.html", html.into_bytes()),
    ] {
        let path = out_dir.join(name);
        let mut f =
            crate::output::AtomicFile::create(&path).map_err(|e| write_err(path.as_path(), &e))?;
        f.write_all(&bytes)
            .map_err(|e| write_err(path.as_path(), &e))?;
        f.commit().map_err(|e| write_err(path.as_path(), &e))?;
        files.push(path);
    }
    Ok((report, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch made from the bundled table: every value shifted by a column-dependent amount and
    /// the rows taken in a scrambled order, so that sorting matters and values fall outside the
    /// training range; the regions counted as they would stream by.
    #[test]
    fn a_batch_sorted_once_and_counted_gives_the_plain_measures() {
        let ds = crate::test_fixtures::bundled();
        let p = profile(&ds, 10, 0.2);
        let n = ds.n_rows();
        let order: Vec<usize> = (0..n).map(|i| (i * 101 + 7) % n).collect();
        let numeric: BTreeMap<String, Vec<f64>> = ds
            .numeric
            .iter()
            .enumerate()
            .map(|(k, (c, v))| {
                let shift = (k as f64 + 1.0) * 0.07 * stats::sd(v);
                (c.clone(), order.iter().map(|&i| v[i] + shift).collect())
            })
            .collect();
        let category: Vec<String> = order.iter().map(|&i| ds.category[i].clone()).collect();
        let report = compare(&p, &numeric, &category);
        assert_eq!(report.features.len(), p.numeric.len());
        for (f, np) in report.features.iter().zip(&p.numeric) {
            let v = &numeric[&np.column];
            // Each measure on the unsorted batch, as it was computed before the batch was sorted.
            let psi = drift_metrics::psi_from_shares(
                &np.shares,
                &drift_metrics::bin_shares(v, &np.edges),
            );
            assert_eq!(f.psi.to_bits(), psi.to_bits(), "{}", f.column);
            let ks = drift_metrics::ks_statistic(&np.sample, v);
            assert_eq!(f.ks.to_bits(), ks.to_bits(), "{}", f.column);
            assert_eq!(f.median.to_bits(), stats::median(v).to_bits());
            let outside = v.iter().filter(|&&x| x < np.min || x > np.max).count();
            assert_eq!(f.outside_training_range, outside);
            assert!(
                outside > 0 && f.psi > 0.0,
                "{}: the shift is visible",
                f.column
            );
        }
        // Counting the regions (one chunk at a time) gives the same report as the strings.
        let mut counts = vec![0; p.category.levels.len()];
        for chunk in category.chunks(50) {
            count_levels(
                chunk.iter().map(String::as_str),
                &p.category.levels,
                &mut counts,
            );
        }
        assert_eq!(counts.iter().sum::<usize>(), n);
        assert_eq!(compare_counted(&p, &numeric, &counts, n), report);
        // A level the training data lacks is counted nowhere: the shares add up to less than 1.
        let mut other = category.clone();
        other[0] = "Atlantis".into();
        let r = compare(&p, &numeric, &other);
        let total: f64 = r.category.batch_shares.iter().sum();
        assert!((total - (n - 1) as f64 / n as f64).abs() < 1e-12, "{total}");
    }
}
