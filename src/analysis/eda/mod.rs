//! Exploratory data analysis: per-column profiles, Pearson and Spearman correlations,
//! multicollinearity (variance inflation factors and the condition number of the standardised
//! predictors), duplicate rows and what they do to a random train/test split, statistics by
//! category level, plot-ready distributions, and a list of alerts with evidence and a
//! recommendation. Every threshold lives in [`EdaSettings`].
//!
//! Columns are addressed through [`crate::settings::Roles`] only: predictors are
//! `roles.numeric`, the target `roles.target`, the grouping column `roles.category`.

pub mod contract;
pub mod figures;

use linfa::prelude::*;
use linfa_linalg::eigh::EigValsh;
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::features;
use crate::rng;
use crate::settings::{Settings, SettingsError};
use crate::stats;

/// Thresholds and sizes of the exploratory analysis. Every alert rule reads its threshold here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdaSettings {
    /// A pair of predictors with |Pearson r| at or above this is highly correlated (default 0.9).
    pub high_correlation: f64,
    /// A predictor with a variance inflation factor at or above this is collinear (default 10,
    /// the usual rule of thumb).
    pub high_vif: f64,
    /// The standardised predictors are ill-conditioned when the condition number
    /// √(λmax/λmin) of their correlation matrix is at or above this (default 30, Belsley's bound).
    pub condition_number: f64,
    /// A category level with a share of rows below this is sparse (default 0.05). Feature
    /// engineering merges such levels too.
    pub sparse_share: f64,
    /// A column with |sample skewness G1| at or above this is skewed (default 1).
    pub skew: f64,
    /// Tukey fences: values beyond this many interquartile ranges outside the quartiles are
    /// outliers (default 1.5).
    pub outlier_iqr: f64,
    /// A candidate feature whose |Pearson r| with the target is at or above this is suspected
    /// target leakage (default 0.98).
    pub leakage_correlation: f64,
    /// A column whose most frequent value covers at least this share of rows is (near-)constant
    /// (default 0.95).
    pub near_constant_share: f64,
    /// A categorical column whose distinct values number at least this share of rows is
    /// near-unique, an identifier in disguise (default 0.95). Numeric measurements may
    /// legitimately be unique per row, so the rule applies to the category column.
    pub near_unique_share: f64,
    /// Duplicate rows at or above this share of the table make the duplicate alert critical
    /// (default 0.05); below it the alert is a warning.
    pub duplicate_critical_share: f64,
    /// Test share of the random split whose test rows are checked for twins in training (default 0.2).
    pub split_test_share: f64,
    /// Number of seeded random splits averaged for the twin share (default 20).
    pub split_repeats: usize,
    /// Number of equal-width histogram bins per numeric column (default 16).
    pub histogram_bins: usize,
    /// Number of points at which the density outline is evaluated (default 80).
    pub density_points: usize,
}

impl Default for EdaSettings {
    fn default() -> Self {
        EdaSettings {
            high_correlation: 0.9,
            high_vif: 10.0,
            condition_number: 30.0,
            sparse_share: 0.05,
            skew: 1.0,
            outlier_iqr: 1.5,
            leakage_correlation: 0.98,
            near_constant_share: 0.95,
            near_unique_share: 0.95,
            duplicate_critical_share: 0.05,
            split_test_share: 0.2,
            split_repeats: 20,
            histogram_bins: 16,
            density_points: 80,
        }
    }
}

impl EdaSettings {
    /// Checks every value: shares lie in (0, 1], thresholds are positive and bounded, sizes are
    /// counts within their limits; the error names the `eda.` key, its value and the range.
    pub fn check(&self) -> Result<(), SettingsError> {
        use crate::bounds;
        for (name, v) in [
            ("high_correlation", self.high_correlation),
            ("sparse_share", self.sparse_share),
            ("leakage_correlation", self.leakage_correlation),
            ("near_constant_share", self.near_constant_share),
            ("near_unique_share", self.near_unique_share),
            ("duplicate_critical_share", self.duplicate_critical_share),
            ("split_test_share", self.split_test_share),
        ] {
            bounds::open_closed(&format!("eda.{name}"), v, 0.0, 1.0)?;
        }
        for (name, v) in [
            ("high_vif", self.high_vif),
            ("condition_number", self.condition_number),
            ("skew", self.skew),
            ("outlier_iqr", self.outlier_iqr),
        ] {
            bounds::open_closed(&format!("eda.{name}"), v, 0.0, 1e6)?;
        }
        bounds::count("eda.split_repeats", self.split_repeats, 1, 1_000)?;
        bounds::count("eda.histogram_bins", self.histogram_bins, 1, 200)?;
        bounds::count("eda.density_points", self.density_points, 1, 2_000)?;
        Ok(())
    }
}

/// Results of the exploratory analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct EdaFindings {
    /// Number of rows analysed.
    pub rows: usize,
    /// Profile of each numeric column: the predictors, then the target.
    pub numeric: Vec<NumericProfile>,
    /// Profile of the category column.
    pub category: CategoryProfile,
    /// Correlation matrices of the numeric columns.
    pub correlation: Correlations,
    /// Multicollinearity of the predictors.
    pub collinearity: Collinearity,
    /// Duplicate rows and their effect on a random split.
    pub duplicates: Duplicates,
    /// Statistics of the target and predictors by category level.
    pub groups: GroupStats,
    /// Histogram and density outline of each numeric column.
    pub distributions: Vec<Distribution>,
    /// Box-plot statistics of the target by category level.
    pub target_by_category: Vec<BoxStats>,
    /// Target against each predictor, coloured by category level (plot-ready points).
    pub scatter: Scatter,
    /// Alerts, most severe first.
    pub alerts: Vec<Alert>,
}

/// Profile of one numeric column. Statistics are over the finite values.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct NumericProfile {
    /// Column name.
    pub column: String,
    /// Unit from the roles (may be empty).
    pub unit: String,
    /// Finite values.
    pub count: usize,
    /// Missing (non-finite) values.
    pub missing: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub sd: f64,
    /// Minimum.
    pub min: f64,
    /// First quartile (type 7).
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile (type 7).
    pub q3: f64,
    /// Maximum.
    pub max: f64,
    /// Adjusted Fisher–Pearson skewness G1.
    pub skewness: f64,
    /// Bias-adjusted excess kurtosis G2.
    pub kurtosis: f64,
    /// Number of distinct values.
    pub distinct: usize,
    /// Share of rows holding the most frequent value.
    pub top_value_share: f64,
    /// Lower Tukey fence (q1 − k·IQR, k = `outlier_iqr`).
    pub lower_fence: f64,
    /// Upper Tukey fence (q3 + k·IQR).
    pub upper_fence: f64,
    /// Values below the lower fence.
    pub outliers_low: usize,
    /// Values above the upper fence.
    pub outliers_high: usize,
}

/// Profile of the category column.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CategoryProfile {
    /// Column name.
    pub column: String,
    /// Each level (in the roles' order) with its rows and share.
    pub levels: Vec<LevelShare>,
    /// Levels with at least one row.
    pub distinct: usize,
    /// Rows with an empty level.
    pub missing: usize,
}

/// Rows of one category level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelShare {
    /// Level name.
    pub level: String,
    /// Rows.
    pub rows: usize,
    /// Share of all rows.
    pub share: f64,
}

/// A correlation between two columns.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PairCorrelation {
    /// First column.
    pub a: String,
    /// Second column.
    pub b: String,
    /// Pearson r.
    pub pearson: f64,
    /// Spearman ρ.
    pub spearman: f64,
}

/// Pearson and Spearman correlation matrices.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Correlations {
    /// Row and column order of the matrices: the predictors, then the target.
    pub columns: Vec<String>,
    /// Pearson correlation matrix.
    pub pearson: Vec<Vec<f64>>,
    /// Spearman rank correlation matrix (Pearson on average ranks).
    pub spearman: Vec<Vec<f64>>,
    /// The pair of predictors with the largest |Pearson r|.
    pub max_predictor_pair: PairCorrelation,
    /// Each predictor's correlation with the target, in predictor order.
    pub with_target: Vec<PairCorrelation>,
}

/// Variance inflation factor of one predictor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vif {
    /// Predictor.
    pub column: String,
    /// R² of the predictor regressed on the other predictors (with intercept).
    pub r_squared: f64,
    /// 1 / (1 − R²).
    pub vif: f64,
}

/// Multicollinearity of the predictors.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Collinearity {
    /// The predictors (`roles.numeric`).
    pub predictors: Vec<String>,
    /// One VIF per predictor, in predictor order.
    pub vif: Vec<Vif>,
    /// Eigenvalues of the predictors' correlation matrix, largest first.
    pub eigenvalues: Vec<f64>,
    /// √(λmax / λmin): the 2-norm condition number of the standardised predictor matrix.
    pub condition_number: f64,
    /// How the numbers were computed.
    pub method: String,
}

/// Duplicate rows (identical on every role column except the id).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Duplicates {
    /// Rows.
    pub rows: usize,
    /// Distinct rows (= duplicate groups).
    pub distinct_rows: usize,
    /// Rows that repeat an earlier row (rows − distinct rows).
    pub duplicate_rows: usize,
    /// duplicate_rows / rows.
    pub duplicate_share: f64,
    /// Size of the largest group.
    pub largest_group: usize,
    /// Groups with more than one row.
    pub groups_with_copies: usize,
    /// Number of groups of each size, smallest size first: (size, groups).
    pub group_size_counts: Vec<(usize, usize)>,
    /// What duplicates do to a random train/test split.
    pub split: TwinShare,
}

/// Share of a random split's test rows that have an identical twin among the training rows.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TwinShare {
    /// Test share of each split.
    pub test_share: f64,
    /// Test rows per split.
    pub test_rows: usize,
    /// Number of seeded random splits.
    pub repeats: usize,
    /// Twin share of the first split.
    pub first_split: f64,
    /// Mean twin share over the splits.
    pub mean: f64,
    /// Smallest twin share over the splits.
    pub min: f64,
    /// Largest twin share over the splits.
    pub max: f64,
    /// The exact expected twin share of a uniformly random split of this size (hypergeometric).
    pub expected: f64,
    /// How the splits were drawn.
    pub method: String,
}

/// Statistics by category level.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct GroupStats {
    /// The category column.
    pub category: String,
    /// The columns summarised: the target, then the predictors.
    pub columns: Vec<String>,
    /// One entry per level, in the roles' order.
    pub levels: Vec<LevelStats>,
}

/// Statistics of one category level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelStats {
    /// Level.
    pub level: String,
    /// Rows.
    pub rows: usize,
    /// Share of all rows.
    pub share: f64,
    /// Mean of each column in [`GroupStats::columns`] order (NaN, serialised as null, when empty).
    pub mean: Vec<f64>,
    /// Median of each column, same order.
    pub median: Vec<f64>,
}

/// Histogram and density outline of one numeric column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    /// Column.
    pub column: String,
    /// Unit.
    pub unit: String,
    /// Bin edges (bins + 1 values); bins are [left, right), the last one closed.
    pub edges: Vec<f64>,
    /// Rows per bin.
    pub counts: Vec<usize>,
    /// Where the density outline was evaluated.
    pub density_x: Vec<f64>,
    /// Gaussian kernel density at `density_x`, scaled to rows per bin (density × n × bin width).
    pub density_y: Vec<f64>,
    /// Kernel bandwidth (Scott's rule: sd · n^(−1/5), as scipy's `gaussian_kde`).
    pub bandwidth: f64,
}

/// Box-plot statistics of the target within one category level (Tukey whiskers).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoxStats {
    /// Level.
    pub level: String,
    /// Rows.
    pub rows: usize,
    /// Lowest value within the lower fence.
    pub whisker_low: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// Highest value within the upper fence.
    pub whisker_high: f64,
    /// Values beyond the fences.
    pub outliers: Vec<f64>,
}

/// The target against each predictor, as points coloured by category level.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Scatter {
    /// The y column (the target) and its unit.
    pub y: (String, String),
    /// The x columns (the predictors) and their units.
    pub x: Vec<(String, String)>,
    /// Category levels; a point's level is an index into this.
    pub levels: Vec<String>,
    /// Rows drawn (all rows, or a seeded sample of `sample_cap` rows).
    pub rows: Vec<usize>,
    /// Whether `rows` is a sample.
    pub sampled: bool,
    /// Per row in `rows`: its x value for each predictor, its y value and its level index.
    pub points: Vec<(Vec<f64>, f64, usize)>,
}

/// How serious an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Changes how models must be validated or what they may use.
    Critical,
    /// Worth acting on.
    Warning,
    /// Worth knowing.
    Info,
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Rows identical on every column except the id.
    DuplicateRows,
    /// A candidate feature derived from the target or correlating with it almost perfectly.
    TargetLeakage,
    /// A predictor with a high variance inflation factor.
    HighVif,
    /// Ill-conditioned standardised predictor matrix.
    IllConditioned,
    /// A pair of predictors with high |r|.
    HighCorrelation,
    /// A category level with few rows.
    SparseCategory,
    /// A strongly skewed column.
    Skewed,
    /// Values beyond the Tukey fences.
    Outliers,
    /// A constant or near-constant column.
    Constant,
    /// A near-unique categorical column.
    NearUnique,
    /// Missing values.
    MissingValues,
}

/// One named number backing an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// What the number is.
    pub name: String,
    /// The number.
    pub value: f64,
}

/// A data-quality or modelling alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// How serious.
    pub severity: Severity,
    /// The columns (or levels) concerned.
    pub subject: Vec<String>,
    /// The numbers behind it.
    pub evidence: Vec<Evidence>,
    /// The threshold of the rule that fired (from [`EdaSettings`]).
    pub threshold: f64,
    /// What to do, in one line.
    pub recommendation: String,
}

fn ev(name: &str, value: f64) -> Evidence {
    Evidence {
        name: name.into(),
        value,
    }
}

/// Runs the exploratory analysis.
///
/// ```
/// use customer_intel::{analysis::eda, data, settings::Settings};
/// let ds = data::synth(300, 1, &data::SynthSpec::default());
/// let f = eda::run(&ds, &Settings::default());
/// assert_eq!(f.duplicates.duplicate_rows, 0);
/// assert_eq!(f.collinearity.vif.len(), 4);
/// ```
pub fn run(ds: &Dataset, settings: &Settings) -> EdaFindings {
    let es = &settings.eda;
    let roles = &ds.roles;
    let columns = roles.numeric_columns();
    let numeric: Vec<NumericProfile> = columns
        .iter()
        .map(|c| profile(c, roles.unit(c), ds.col(c), es.outlier_iqr))
        .collect();
    let category = category_profile(ds);
    let correlation = correlations(ds);
    let collinearity = collinearity(ds);
    let duplicates = duplicates(ds, settings);
    let groups = group_stats(ds);
    let distributions = columns
        .iter()
        .map(|c| {
            distribution(
                c,
                roles.unit(c),
                &sampled(ds.col(c), settings.sample_cap, settings.seed, c),
                es.histogram_bins,
                es.density_points,
            )
        })
        .collect();
    let target_by_category = box_stats(ds, es.outlier_iqr);
    let scatter = scatter(ds, settings);
    let mut f = EdaFindings {
        rows: ds.n_rows(),
        numeric,
        category,
        correlation,
        collinearity,
        duplicates,
        groups,
        distributions,
        target_by_category,
        scatter,
        alerts: Vec::new(),
    };
    f.alerts = alerts(ds, settings, &f);
    f
}

/// Finite values of a column, or a seeded sample of `cap` of them when there are more.
fn sampled(x: &[f64], cap: usize, seed: u64, label: &str) -> Vec<f64> {
    let finite: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() <= cap {
        return finite;
    }
    let mut r = rng::stream(seed, &format!("eda.density_sample.{label}"));
    finite.choose_multiple(&mut r, cap).copied().collect()
}

/// The profile of one numeric column (statistics over finite values; Tukey fences at `k` IQR).
pub fn profile(column: &str, unit: &str, x: &[f64], k: f64) -> NumericProfile {
    let mut v: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    v.sort_unstable_by(f64::total_cmp);
    let (q1, median, q3) = (
        stats::quantile_sorted(&v, 0.25),
        stats::quantile_sorted(&v, 0.5),
        stats::quantile_sorted(&v, 0.75),
    );
    let iqr = q3 - q1;
    let (lower_fence, upper_fence) = (q1 - k * iqr, q3 + k * iqr);
    let (mut distinct, mut top, mut run) = (0usize, 0usize, 0usize);
    for i in 0..v.len() {
        if i == 0 || v[i] != v[i - 1] {
            distinct += 1;
            run = 0;
        }
        run += 1;
        top = top.max(run);
    }
    NumericProfile {
        column: column.into(),
        unit: unit.into(),
        count: v.len(),
        missing: x.len() - v.len(),
        mean: stats::mean(&v),
        sd: stats::sd(&v),
        min: v.first().copied().unwrap_or(f64::NAN),
        q1,
        median,
        q3,
        max: v.last().copied().unwrap_or(f64::NAN),
        skewness: stats::skewness(&v),
        kurtosis: stats::kurtosis(&v),
        distinct,
        top_value_share: top as f64 / x.len().max(1) as f64,
        lower_fence,
        upper_fence,
        outliers_low: v.iter().filter(|&&a| a < lower_fence).count(),
        outliers_high: v.iter().filter(|&&a| a > upper_fence).count(),
    }
}

fn category_profile(ds: &Dataset) -> CategoryProfile {
    let n = ds.n_rows().max(1) as f64;
    let levels: Vec<LevelShare> = ds
        .category_counts()
        .into_iter()
        .map(|(level, rows)| LevelShare {
            level,
            rows,
            share: rows as f64 / n,
        })
        .collect();
    CategoryProfile {
        column: ds.roles.category.clone(),
        distinct: levels.iter().filter(|l| l.rows > 0).count(),
        levels,
        missing: ds.category.iter().filter(|c| c.trim().is_empty()).count(),
    }
}

/// Pearson and Spearman matrices of the given columns (computed pairwise, unit diagonal).
pub fn correlation_matrices(cols: &[&[f64]]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let ranks: Vec<Vec<f64>> = cols.iter().map(|c| stats::ranks(c)).collect();
    let k = cols.len();
    let mut p = vec![vec![1.0; k]; k];
    let mut s = vec![vec![1.0; k]; k];
    for i in 0..k {
        for j in i + 1..k {
            p[i][j] = stats::pearson(cols[i], cols[j]);
            p[j][i] = p[i][j];
            s[i][j] = stats::pearson(&ranks[i], &ranks[j]);
            s[j][i] = s[i][j];
        }
    }
    (p, s)
}

fn correlations(ds: &Dataset) -> Correlations {
    let roles = &ds.roles;
    let columns = roles.numeric_columns();
    let cols: Vec<&[f64]> = columns.iter().map(|c| ds.col(c)).collect();
    let (pearson, spearman) = correlation_matrices(&cols);
    let k = roles.numeric.len();
    let t = columns
        .iter()
        .position(|c| c == &roles.target)
        .unwrap_or(columns.len() - 1);
    let pair = |i: usize, j: usize| PairCorrelation {
        a: columns[i].clone(),
        b: columns[j].clone(),
        pearson: pearson[i][j],
        spearman: spearman[i][j],
    };
    let mut best: Option<(usize, usize)> = None;
    for i in 0..k {
        for j in i + 1..k {
            let better = match best {
                None => pearson[i][j].is_finite(),
                Some((a, b)) => pearson[i][j].abs() > pearson[a][b].abs(),
            };
            if better {
                best = Some((i, j));
            }
        }
    }
    Correlations {
        max_predictor_pair: best.map(|(i, j)| pair(i, j)).unwrap_or_default(),
        with_target: (0..k).map(|i| pair(i, t)).collect(),
        columns,
        pearson,
        spearman,
    }
}

/// Variance inflation factors and R² of each column regressed (ordinary least squares with an
/// intercept, linfa-linear) on all the others. Columns are standardised first, which leaves R²
/// unchanged and keeps the least-squares problem well scaled. Returns (R², VIF) per column;
/// a constant column gets NaN.
pub fn vif(cols: &[&[f64]]) -> Vec<(f64, f64)> {
    let k = cols.len();
    let n = cols.first().map_or(0, |c| c.len());
    let z: Vec<Vec<f64>> = cols
        .iter()
        .map(|c| stats::standardize_with(c, stats::mean(c), stats::sd(c)))
        .collect();
    (0..k)
        .map(|j| {
            let sd = stats::sd(cols[j]);
            if k < 2 || n <= k || sd.is_nan() || sd <= 0.0 {
                return (f64::NAN, f64::NAN);
            }
            let others: Vec<usize> = (0..k).filter(|&i| i != j).collect();
            let x = Array2::from_shape_fn((n, k - 1), |(r, c)| z[others[c]][r]);
            let y = Array1::from(z[j].clone());
            let data = linfa::Dataset::new(x.clone(), y.clone());
            let Ok(model) = LinearRegression::new().fit(&data) else {
                return (f64::NAN, f64::NAN);
            };
            let pred = model.predict(&x);
            let ym = y.mean().unwrap_or(0.0);
            let ssr: f64 = y
                .iter()
                .zip(pred.iter())
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            let sst: f64 = y.iter().map(|a| (a - ym) * (a - ym)).sum();
            let r2 = 1.0 - ssr / sst;
            (r2, 1.0 / (1.0 - r2))
        })
        .collect()
}

/// Eigenvalues (largest first) of a symmetric matrix, by linfa-linalg's symmetric eigen solver.
pub fn symmetric_eigenvalues(m: &[Vec<f64>]) -> Vec<f64> {
    let k = m.len();
    let a = Array2::from_shape_fn((k, k), |(i, j)| m[i][j]);
    let mut ev: Vec<f64> = a
        .eigvalsh()
        .map(|v| v.to_vec())
        .unwrap_or_else(|_| vec![f64::NAN; k]);
    ev.sort_by(|a, b| b.total_cmp(a));
    ev
}

fn collinearity(ds: &Dataset) -> Collinearity {
    let predictors = ds.roles.numeric.clone();
    let cols: Vec<&[f64]> = predictors.iter().map(|c| ds.col(c)).collect();
    let vifs = vif(&cols);
    let (corr, _) = correlation_matrices(&cols);
    let eigenvalues = symmetric_eigenvalues(&corr);
    let condition_number = match (eigenvalues.first(), eigenvalues.last()) {
        (Some(&hi), Some(&lo)) if lo > 0.0 => (hi / lo).sqrt(),
        (Some(_), Some(_)) => f64::INFINITY,
        _ => f64::NAN,
    };
    Collinearity {
        vif: predictors.iter().zip(vifs).map(|(c, (r_squared, vif))| Vif { column: c.clone(), r_squared, vif }).collect(),
        predictors,
        eigenvalues,
        condition_number,
        method: "VIF = 1/(1 − R²) of each standardised predictor regressed by OLS with intercept (linfa-linear) on the \
                 others; condition number = √(λmax/λmin) of the predictors' Pearson correlation matrix (linfa-linalg \
                 symmetric eigen solver)"
            .into(),
    }
}

/// Number of `test` rows whose duplicate group also has a row among `train`.
pub fn twinned_test_rows(groups: &[usize], train: &[usize], test: &[usize]) -> usize {
    let mut in_train = vec![false; groups.iter().max().map_or(0, |m| m + 1)];
    for &i in train {
        in_train[groups[i]] = true;
    }
    test.iter().filter(|&&i| in_train[groups[i]]).count()
}

/// The exact expected share of test rows with a twin in training when `m` of the rows are drawn
/// uniformly at random as the test set: the mean over rows of 1 − C(m−1, s−1) / C(n−1, s−1),
/// where s is the row's group size (the chance that all its s − 1 copies are in the test set too).
pub fn expected_twin_share(groups: &[usize], m: usize) -> f64 {
    let n = groups.len();
    if n < 2 || m == 0 {
        return 0.0;
    }
    let mut sizes = vec![0usize; groups.iter().max().map_or(0, |g| g + 1)];
    for &g in groups {
        sizes[g] += 1;
    }
    let p_all_copies_in_test = |s: usize| -> f64 {
        (0..s.saturating_sub(1))
            .map(|j| (m as f64 - 1.0 - j as f64).max(0.0) / (n as f64 - 1.0 - j as f64))
            .product()
    };
    groups
        .iter()
        .map(|&g| 1.0 - p_all_copies_in_test(sizes[g]))
        .sum::<f64>()
        / n as f64
}

fn duplicates(ds: &Dataset, settings: &Settings) -> Duplicates {
    let n = ds.n_rows();
    let sizes = ds.group_sizes();
    let mut size_counts = std::collections::BTreeMap::new();
    for &s in &sizes {
        *size_counts.entry(s).or_insert(0usize) += 1;
    }
    let es = &settings.eda;
    // Above sample_cap the random splits are drawn on the shared sample of whole duplicate
    // groups (copies stay together, so the twin structure is kept); `expected` uses every row.
    let sample = ds.sample_rows(
        settings.sample_cap,
        settings.seed,
        crate::data::ANALYSIS_SAMPLE,
    );
    let split_groups: Vec<usize> = match &sample {
        Some(rows) => rows.iter().map(|&i| ds.groups[i]).collect(),
        None => ds.groups.clone(),
    };
    let ns = split_groups.len();
    let m_all = ((n as f64) * es.split_test_share).round() as usize;
    let m_all = m_all.clamp(usize::from(n > 1), n.saturating_sub(1));
    let m = ((ns as f64) * es.split_test_share).round() as usize;
    let m = m.clamp(usize::from(ns > 1), ns.saturating_sub(1));
    let mut r = rng::stream(settings.seed, "eda.twin_split");
    let mut order: Vec<usize> = (0..ns).collect();
    let shares: Vec<f64> = (0..es.split_repeats)
        .map(|_| {
            order.shuffle(&mut r);
            let (test, train) = order.split_at(m);
            twinned_test_rows(&split_groups, train, test) as f64 / m.max(1) as f64
        })
        .collect();
    let on = match &sample {
        Some(_) => format!(
            ", on a seeded sample of {ns} of the {n} rows made of whole duplicate groups (stream '{}', sample_cap = {}); the expected share uses every row",
            crate::data::ANALYSIS_SAMPLE,
            settings.sample_cap
        ),
        None => String::new(),
    };
    Duplicates {
        rows: n,
        distinct_rows: ds.n_groups,
        duplicate_rows: n - ds.n_groups,
        duplicate_share: (n - ds.n_groups) as f64 / n.max(1) as f64,
        largest_group: sizes.iter().copied().max().unwrap_or(0),
        groups_with_copies: sizes.iter().filter(|&&s| s > 1).count(),
        group_size_counts: size_counts.into_iter().collect(),
        split: TwinShare {
            test_share: es.split_test_share,
            test_rows: m_all,
            repeats: shares.len(),
            first_split: shares.first().copied().unwrap_or(f64::NAN),
            mean: stats::mean(&shares),
            min: shares.iter().copied().fold(f64::INFINITY, f64::min),
            max: shares.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            expected: expected_twin_share(&ds.groups, m_all),
            method: format!(
                "{} uniformly random row splits ({} test rows of {ns}), seeded from the master seed (stream \
                 'eda.twin_split'); a test row is twinned when a row of its duplicate group is in training{on}",
                shares.len(),
                m
            ),
        },
    }
}

fn group_stats(ds: &Dataset) -> GroupStats {
    let roles = &ds.roles;
    let mut columns = vec![roles.target.clone()];
    columns.extend(
        roles
            .numeric
            .iter()
            .filter(|c| **c != roles.target)
            .cloned(),
    );
    let n = ds.n_rows().max(1) as f64;
    let data: Vec<&[f64]> = columns.iter().map(|c| ds.col(c)).collect();
    let levels = roles
        .category_levels
        .iter()
        .map(|level| {
            let rows: Vec<usize> = (0..ds.n_rows())
                .filter(|&i| &ds.category[i] == level)
                .collect();
            let vals: Vec<Vec<f64>> = data
                .iter()
                .map(|x| rows.iter().map(|&i| x[i]).collect())
                .collect();
            LevelStats {
                level: level.clone(),
                rows: rows.len(),
                share: rows.len() as f64 / n,
                mean: vals.iter().map(|v| stats::mean(v)).collect(),
                median: vals.iter().map(|v| stats::median(v)).collect(),
            }
        })
        .collect();
    GroupStats {
        category: roles.category.clone(),
        columns,
        levels,
    }
}

/// Equal-width histogram of `x` with `bins` bins over [min, max] and a Gaussian kernel density
/// (Scott's bandwidth) evaluated at `points` equally spaced points over the same range.
pub fn distribution(
    column: &str,
    unit: &str,
    x: &[f64],
    bins: usize,
    points: usize,
) -> Distribution {
    let n = x.len();
    let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if n == 0 {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins)
        .map(|i| if i == bins { hi } else { lo + width * i as f64 })
        .collect();
    let mut counts = vec![0usize; bins];
    for &v in x {
        let b = (((v - lo) / width).floor() as usize).min(bins - 1);
        counts[b] += 1;
    }
    let bandwidth = stats::sd(x) * (n as f64).powf(-0.2);
    let density_x: Vec<f64> = (0..points)
        .map(|i| lo + (hi - lo) * i as f64 / (points.max(2) - 1) as f64)
        .collect();
    let density_y = density_x
        .iter()
        .map(|&t| {
            if bandwidth.is_nan() || bandwidth <= 0.0 {
                return 0.0;
            }
            let d = kde(x, bandwidth, t);
            d * n as f64 * width
        })
        .collect();
    Distribution {
        column: column.into(),
        unit: unit.into(),
        edges,
        counts,
        density_x,
        density_y,
        bandwidth,
    }
}

/// Gaussian kernel density estimate of `x` with bandwidth `h`, at `t`.
pub fn kde(x: &[f64], h: f64, t: f64) -> f64 {
    let norm = 1.0 / (x.len() as f64 * h * (2.0 * std::f64::consts::PI).sqrt());
    x.iter()
        .map(|v| (-0.5 * ((t - v) / h).powi(2)).exp())
        .sum::<f64>()
        * norm
}

fn box_stats(ds: &Dataset, k: f64) -> Vec<BoxStats> {
    let y = ds.target();
    ds.roles
        .category_levels
        .iter()
        .map(|level| {
            let mut v: Vec<f64> = (0..ds.n_rows())
                .filter(|&i| &ds.category[i] == level)
                .map(|i| y[i])
                .collect();
            v.sort_unstable_by(f64::total_cmp);
            let (q1, median, q3) = (
                stats::quantile_sorted(&v, 0.25),
                stats::quantile_sorted(&v, 0.5),
                stats::quantile_sorted(&v, 0.75),
            );
            let (lf, uf) = (q1 - k * (q3 - q1), q3 + k * (q3 - q1));
            let inside: Vec<f64> = v.iter().copied().filter(|&a| a >= lf && a <= uf).collect();
            BoxStats {
                level: level.clone(),
                rows: v.len(),
                whisker_low: inside.first().copied().unwrap_or(f64::NAN),
                q1,
                median,
                q3,
                whisker_high: inside.last().copied().unwrap_or(f64::NAN),
                outliers: v.iter().copied().filter(|&a| a < lf || a > uf).collect(),
            }
        })
        .collect()
}

fn scatter(ds: &Dataset, settings: &Settings) -> Scatter {
    let roles = &ds.roles;
    let n = ds.n_rows();
    let mut rows: Vec<usize> = (0..n).collect();
    let sampled = n > settings.sample_cap;
    if sampled {
        let mut r = rng::stream(settings.seed, "eda.scatter_sample");
        rows = rows
            .choose_multiple(&mut r, settings.sample_cap)
            .copied()
            .collect();
        rows.sort_unstable();
    }
    let level_index = |c: &str| {
        roles
            .category_levels
            .iter()
            .position(|l| l == c)
            .unwrap_or(0)
    };
    let y = ds.target();
    Scatter {
        y: (roles.target.clone(), roles.unit(&roles.target).to_string()),
        x: roles
            .numeric
            .iter()
            .map(|c| (c.clone(), roles.unit(c).to_string()))
            .collect(),
        levels: roles.category_levels.clone(),
        points: rows
            .iter()
            .map(|&i| {
                (
                    roles.numeric.iter().map(|c| ds.col(c)[i]).collect(),
                    y[i],
                    level_index(&ds.category[i]),
                )
            })
            .collect(),
        rows,
        sampled,
    }
}

fn fmt3(v: f64) -> String {
    format!("{v:.3}")
}

/// The alerts of an EDA: duplicates, leakage, correlation, collinearity, imbalance and the rest,
/// most severe first, judged from `f` (leakage from `ds`'s engineered features). The streamed build
/// calls it again once `f` holds the whole file's exact figures.
pub(crate) fn alerts(ds: &Dataset, settings: &Settings, f: &EdaFindings) -> Vec<Alert> {
    let es = &settings.eda;
    let roles = &ds.roles;
    let mut out = Vec::new();

    let d = &f.duplicates;
    if d.duplicate_rows > 0 {
        out.push(Alert {
            kind: AlertKind::DuplicateRows,
            severity: if d.duplicate_share >= es.duplicate_critical_share { Severity::Critical } else { Severity::Warning },
            subject: vec![format!("all columns except {}", roles.id)],
            evidence: vec![
                ev("duplicate_rows", d.duplicate_rows as f64),
                ev("duplicate_share", d.duplicate_share),
                ev("distinct_rows", d.distinct_rows as f64),
                ev("largest_group", d.largest_group as f64),
                ev("test_rows_with_training_twin", d.split.mean),
            ],
            threshold: es.duplicate_critical_share,
            recommendation: format!(
                "validate with group-aware splits on duplicate groups: {:.0}% of a random {:.0}% test set has an exact twin in training, so naive scores measure recall, not generalisation",
                100.0 * d.split.mean,
                100.0 * d.split.test_share
            ),
        });
    }

    // Target leakage: engineered features derived from the target, and candidates that track it almost exactly.
    let y = ds.target();
    let table = features::engineer_numeric(ds, settings);
    for (name, x) in &table.numeric {
        let sources = features::sources_of(name, roles);
        if sources.contains(&roles.target) {
            let (a, b): (Vec<f64>, Vec<f64>) = x
                .iter()
                .zip(y)
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .map(|(a, b)| (*a, *b))
                .unzip();
            out.push(Alert {
                kind: AlertKind::TargetLeakage,
                severity: Severity::Info,
                subject: vec![name.clone(), roles.target.clone()],
                evidence: vec![ev("pearson_r", stats::pearson(&a, &b))],
                threshold: es.leakage_correlation,
                recommendation: format!(
                    "{name} is derived from {}: never a predictor of it (features::allowed_features excludes it)",
                    roles.target
                ),
            });
        }
    }
    let mut candidates: Vec<(String, Vec<f64>)> = roles
        .numeric
        .iter()
        .map(|c| (c.clone(), ds.col(c).to_vec()))
        .collect();
    candidates.extend(
        table
            .numeric
            .iter()
            .filter(|(n, _)| !features::sources_of(n, roles).contains(&roles.target))
            .cloned(),
    );
    for (name, x) in &candidates {
        let (a, b): (Vec<f64>, Vec<f64>) = x
            .iter()
            .zip(y)
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .map(|(a, b)| (*a, *b))
            .unzip();
        let r = stats::pearson(&a, &b);
        if r.abs() >= es.leakage_correlation {
            out.push(Alert {
                kind: AlertKind::TargetLeakage,
                severity: Severity::Warning,
                subject: vec![name.clone(), roles.target.clone()],
                evidence: vec![ev("pearson_r", r)],
                threshold: es.leakage_correlation,
                recommendation: format!(
                    "{name} tracks {} almost exactly (r = {}): check it is known before the outcome, and report models with and without it",
                    roles.target,
                    fmt3(r)
                ),
            });
        }
    }

    for v in &f.collinearity.vif {
        if v.vif >= es.high_vif {
            out.push(Alert {
                kind: AlertKind::HighVif,
                severity: Severity::Warning,
                subject: vec![v.column.clone()],
                evidence: vec![ev("vif", v.vif), ev("r_squared_on_other_predictors", v.r_squared)],
                threshold: es.high_vif,
                recommendation: format!(
                    "{} is {:.1}% explained by the other predictors: read linear coefficients with care; prefer regularised models or a reduced feature set",
                    v.column,
                    100.0 * v.r_squared
                ),
            });
        }
    }
    let c = &f.collinearity;
    if c.condition_number >= es.condition_number {
        out.push(Alert {
            kind: AlertKind::IllConditioned,
            severity: Severity::Warning,
            subject: c.predictors.clone(),
            evidence: vec![ev("condition_number", c.condition_number), ev("smallest_eigenvalue", c.eigenvalues.last().copied().unwrap_or(f64::NAN))],
            threshold: es.condition_number,
            recommendation: "the standardised predictors are nearly linearly dependent: use ridge or elastic-net rather than plain least squares".into(),
        });
    }

    let corr = &f.correlation;
    let k = roles.numeric.len();
    let mut pairs = Vec::new();
    for i in 0..k {
        for j in i + 1..k {
            if corr.pearson[i][j].abs() >= es.high_correlation {
                pairs.push((i, j));
            }
        }
    }
    pairs.sort_by(|a, b| {
        corr.pearson[b.0][b.1]
            .abs()
            .total_cmp(&corr.pearson[a.0][a.1].abs())
    });
    for (i, j) in pairs {
        out.push(Alert {
            kind: AlertKind::HighCorrelation,
            severity: Severity::Warning,
            subject: vec![corr.columns[i].clone(), corr.columns[j].clone()],
            evidence: vec![ev("pearson_r", corr.pearson[i][j]), ev("spearman_rho", corr.spearman[i][j])],
            threshold: es.high_correlation,
            recommendation: format!(
                "{} and {} carry nearly the same information: do not interpret their separate effects",
                corr.columns[i], corr.columns[j]
            ),
        });
    }

    for l in &f.category.levels {
        if l.share < es.sparse_share {
            out.push(Alert {
                kind: AlertKind::SparseCategory,
                severity: Severity::Warning,
                subject: vec![f.category.column.clone(), l.level.clone()],
                evidence: vec![ev("rows", l.rows as f64), ev("share", l.share)],
                threshold: es.sparse_share,
                recommendation: format!(
                    "{} has too few rows for stable estimates: use {} (merged levels) or stratify splits on it",
                    l.level,
                    features::grouped_name(roles)
                ),
            });
        }
    }

    for p in &f.numeric {
        if p.skewness.abs() >= es.skew {
            out.push(Alert {
                kind: AlertKind::Skewed,
                severity: Severity::Info,
                subject: vec![p.column.clone()],
                evidence: vec![ev("skewness", p.skewness)],
                threshold: es.skew,
                recommendation: format!(
                    "consider a log or rank transform of {} for linear models",
                    p.column
                ),
            });
        }
        let outliers = p.outliers_low + p.outliers_high;
        if outliers > 0 {
            out.push(Alert {
                kind: AlertKind::Outliers,
                severity: Severity::Info,
                subject: vec![p.column.clone()],
                evidence: vec![
                    ev("outliers", outliers as f64),
                    ev("share", outliers as f64 / f.rows.max(1) as f64),
                    ev("lower_fence", p.lower_fence),
                    ev("upper_fence", p.upper_fence),
                ],
                threshold: es.outlier_iqr,
                recommendation: format!("check the extreme values of {} for entry errors; prefer robust losses if they are real", p.column),
            });
        }
        if p.top_value_share >= es.near_constant_share {
            out.push(Alert {
                kind: AlertKind::Constant,
                severity: Severity::Warning,
                subject: vec![p.column.clone()],
                evidence: vec![
                    ev("top_value_share", p.top_value_share),
                    ev("distinct", p.distinct as f64),
                ],
                threshold: es.near_constant_share,
                recommendation: format!("{} barely varies: drop it as a predictor", p.column),
            });
        }
        if p.missing > 0 {
            out.push(Alert {
                kind: AlertKind::MissingValues,
                severity: Severity::Warning,
                subject: vec![p.column.clone()],
                evidence: vec![
                    ev("missing", p.missing as f64),
                    ev("share", p.missing as f64 / f.rows.max(1) as f64),
                ],
                threshold: 0.0,
                recommendation: format!(
                    "impute {} inside training folds only, or drop the rows and say so",
                    p.column
                ),
            });
        }
    }
    let cat = &f.category;
    let n = f.rows.max(1) as f64;
    let top = cat.levels.iter().map(|l| l.share).fold(0.0, f64::max);
    if top >= es.near_constant_share {
        out.push(Alert {
            kind: AlertKind::Constant,
            severity: Severity::Warning,
            subject: vec![cat.column.clone()],
            evidence: vec![ev("top_level_share", top)],
            threshold: es.near_constant_share,
            recommendation: format!("{} barely varies: drop it as a predictor", cat.column),
        });
    }
    let distinct_values = ds
        .category
        .iter()
        .map(String::as_str)
        .collect::<std::collections::BTreeSet<&str>>()
        .len();
    if f.rows > 1 && distinct_values as f64 / n >= es.near_unique_share {
        out.push(Alert {
            kind: AlertKind::NearUnique,
            severity: Severity::Warning,
            subject: vec![cat.column.clone()],
            evidence: vec![ev("distinct", distinct_values as f64), ev("distinct_share", distinct_values as f64 / n)],
            threshold: es.near_unique_share,
            recommendation: format!("{} is nearly unique per row, an identifier in disguise: do not use it as a feature", cat.column),
        });
    }
    if cat.missing > 0 {
        out.push(Alert {
            kind: AlertKind::MissingValues,
            severity: Severity::Warning,
            subject: vec![cat.column.clone()],
            evidence: vec![ev("missing", cat.missing as f64)],
            threshold: 0.0,
            recommendation: format!(
                "give missing {} its own level or drop those rows, and say so",
                cat.column
            ),
        });
    }
    out.sort_by_key(|a| (a.severity, a.kind));
    out
}

/// Column profiles of a file too big to load whole, read with [`crate::data::for_each_chunk`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamedProfiles {
    /// Data rows read.
    pub rows: usize,
    /// One profile per numeric role column, exactly as [`run`] computes it on a loaded table.
    pub numeric: Vec<NumericProfile>,
    /// Rows per category level, in the roles' level order.
    pub category_counts: Vec<(String, usize)>,
    /// SHA-256 of the file.
    pub sha256: String,
}

/// The EDA's per-column aggregates (count, mean, sd, quantiles, outliers, … and the category
/// counts) of a CSV file, validated and read `rows_per_chunk` rows at a time, so ids, category
/// text and the CSV text are never held for the whole table: memory is one chunk plus 8 bytes
/// per row and numeric column (the exact quantiles need the values) plus the chunked reader's
/// id index (one id and line per row, for file-wide uniqueness).
///
/// ```
/// use customer_intel::{analysis::eda, data, settings::Settings};
/// let path = std::path::Path::new("data/customer_purchasing_behaviors.csv");
/// let s = Settings::default();
/// let streamed = eda::profiles_streamed(path, &s, 100).unwrap();
/// let whole = eda::run(&data::load(path).unwrap(), &s);
/// assert_eq!(streamed.numeric, whole.numeric);
/// ```
pub fn profiles_streamed(
    path: &std::path::Path,
    settings: &Settings,
    rows_per_chunk: usize,
) -> Result<StreamedProfiles, crate::data::DataError> {
    let roles = &settings.roles;
    let columns = roles.numeric_columns();
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); columns.len()];
    let mut counts = vec![0usize; roles.category_levels.len()];
    let summary = crate::data::for_each_chunk(path, roles, rows_per_chunk, |chunk| {
        for (v, c) in values.iter_mut().zip(&columns) {
            v.extend_from_slice(chunk.col(c));
        }
        for (k, (_, n)) in chunk.category_counts().into_iter().enumerate() {
            counts[k] += n;
        }
    })?;
    let numeric = columns
        .iter()
        .zip(values)
        .map(|(c, v)| profile(c, roles.unit(c), &v, settings.eda.outlier_iqr))
        .collect();
    Ok(StreamedProfiles {
        rows: summary.rows,
        numeric,
        category_counts: roles.category_levels.iter().cloned().zip(counts).collect(),
        sha256: summary.sha256,
    })
}
