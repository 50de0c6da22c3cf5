//! Feature engineering and feature lineage. Every feature declares the source columns it is
//! derived from, so a model can refuse features derived from its own target (leakage as a
//! type-level concern). Also home of the growth-potential label, whose sources are loyalty,
//! frequency and spend.
//!
//! Engineered features (see [`engineer`]): spend per purchase, spend-to-income ratio, log
//! income, income percentile, age group, income bracket (cut points in [`FeatureSettings`]),
//! the category with sparse levels merged into the level they most resemble, and one-hot
//! encodings of the categorical features.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::Dataset;
use crate::settings::{Roles, Settings, SettingsError};
use crate::stats;

/// Name of the engineered growth-potential label.
pub const GROWTH_LABEL: &str = "growth_potential";
/// Target ÷ purchase frequency (derived from the target: never a predictor of it).
pub const SPEND_PER_PURCHASE: &str = "spend_per_purchase";
/// Target ÷ income (derived from the target: never a predictor of it).
pub const SPEND_TO_INCOME: &str = "spend_to_income_ratio";
/// Natural log of (1 + income).
pub const LOG_INCOME: &str = "log_income";
/// Percentile rank of income (average rank ÷ n, in (0, 1]).
pub const INCOME_PERCENTILE: &str = "income_percentile";
/// Age binned at [`FeatureSettings::age_cuts`].
pub const AGE_GROUP: &str = "age_group";
/// Income binned at [`FeatureSettings::income_cuts`].
pub const INCOME_BRACKET: &str = "income_bracket";

/// Settings of feature engineering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureSettings {
    /// A customer has growth potential when their engagement composite is at or below this
    /// quantile of all customers' composites (default 1/3: the bottom third).
    pub growth_quantile: f64,
    /// The age-like column of `age_group`. Unset (the default): the first of `roles.demographic`.
    pub age_column: Option<String>,
    /// The income-like column of the income features. Unset (the default): the second of
    /// `roles.demographic`.
    pub income_column: Option<String>,
    /// The purchase-count column of `spend_per_purchase`. Unset (the default): the last of
    /// `roles.label_inputs` that is not the target (the bundled roles list loyalty, then frequency).
    pub frequency_column: Option<String>,
    /// Age-group cut points, increasing; each group is `[lower, upper)` (default 30, 40, 50:
    /// groups `<30`, `30-40`, `40-50`, `>=50`, i.e. under 30, thirties, forties, 50 and over).
    pub age_cuts: Vec<f64>,
    /// Income-bracket cut points, increasing, `[lower, upper)` (default 45,000 and 60,000: low
    /// below 45k, middle 45k to under 60k, high 60k and over; the bundled quartiles are 50k/59k/66.75k).
    pub income_cuts: Vec<f64>,
    /// Whether one-hot encodings drop the first level (a reference level for linear models).
    /// Default `false`: every level gets a column.
    pub one_hot_drop_first: bool,
    /// Whether the models (regression, classification, the saved models and `report score`)
    /// merge category levels below `eda.sparse_share`, decided on each training fold only
    /// ([`crate::sparse`]). Default `true`, the plan's mitigation; both variants are always
    /// scored side by side in the ablation.
    pub merge_sparse_levels: bool,
}

impl Default for FeatureSettings {
    fn default() -> Self {
        FeatureSettings {
            growth_quantile: 1.0 / 3.0,
            age_column: None,
            income_column: None,
            frequency_column: None,
            age_cuts: vec![30.0, 40.0, 50.0],
            income_cuts: vec![45_000.0, 60_000.0],
            one_hot_drop_first: false,
            merge_sparse_levels: true,
        }
    }
}

/// A column that engineered features read, named by what it measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureColumn {
    /// The age-like column.
    Age,
    /// The income-like column.
    Income,
    /// The purchase-count column.
    Frequency,
}

impl FeatureSettings {
    /// Resolves a feature column against the roles: the explicit setting if given (it must be a
    /// numeric role column), otherwise the role-based default documented on the field. The error
    /// says why no column could be used.
    pub fn column(&self, which: FeatureColumn, roles: &Roles) -> Result<String, String> {
        let (setting, explicit, inferred) = match which {
            FeatureColumn::Age => ("age_column", &self.age_column, roles.demographic.first()),
            FeatureColumn::Income => (
                "income_column",
                &self.income_column,
                roles.demographic.get(1),
            ),
            FeatureColumn::Frequency => (
                "frequency_column",
                &self.frequency_column,
                roles
                    .label_inputs
                    .iter()
                    .rfind(|c| **c != roles.target && roles.numeric.contains(c)),
            ),
        };
        match (explicit, inferred) {
            (Some(c), _) if roles.numeric_columns().contains(c) => Ok(c.clone()),
            (Some(c), _) => Err(format!(
                "features.{setting} names '{c}', which is not a numeric role column of this table"
            )),
            (None, Some(c)) => Ok(c.clone()),
            (None, None) => Err(format!(
                "features.{setting} is unset and the roles do not imply it"
            )),
        }
    }

    /// Checks the settings: the quantile lies in (0, 1) and cut points increase strictly.
    /// (Column names that the roles lack are not an error: those features are skipped and reported.)
    pub fn check(&self) -> Result<(), SettingsError> {
        use crate::bounds;
        bounds::open("features.growth_quantile", self.growth_quantile, 0.0, 1.0)?;
        bounds::increasing("features.age_cuts", &self.age_cuts, (-1e12, 1e12), (0, 20))?;
        bounds::increasing(
            "features.income_cuts",
            &self.income_cuts,
            (-1e12, 1e12),
            (0, 20),
        )?;
        Ok(())
    }
}

/// What feature engineering found and decided.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct FeatureFindings {
    /// Every feature with the columns it derives from.
    pub lineage: Vec<Lineage>,
    /// The composite cut-off value below which (inclusive) a customer is labelled.
    pub growth_cutoff: f64,
    /// Number of customers labelled with growth potential.
    pub growth_positive: usize,
    /// Share of customers labelled with growth potential.
    pub growth_share: f64,
    /// Summary of each engineered numeric feature.
    pub numeric: Vec<FeatureSummary>,
    /// Level counts of each engineered categorical feature.
    pub categorical: Vec<CategoricalFeatureSummary>,
    /// The rule by which sparse category levels are merged, in words.
    pub merge_rule: String,
    /// One entry per sparse category level: where it went and why.
    pub merges: Vec<LevelMerge>,
    /// Names of the one-hot columns of the categorical features (`feature=level`).
    pub one_hot: Vec<String>,
    /// Features that could not be built on this table, with the reason.
    pub skipped: Vec<SkippedFeature>,
    /// Features (raw and engineered) that may be used to predict the target.
    pub allowed_for_target: Vec<String>,
    /// Features (raw and engineered) that may be used to predict the growth label.
    pub allowed_for_label: Vec<String>,
}

/// Summary of one engineered numeric feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureSummary {
    /// Feature name.
    pub name: String,
    /// Mean over finite values.
    pub mean: f64,
    /// Sample standard deviation (n − 1) over finite values.
    pub sd: f64,
    /// Smallest finite value.
    pub min: f64,
    /// Largest finite value.
    pub max: f64,
    /// Rows where the feature is undefined (for example a zero denominator).
    pub undefined: usize,
}

/// Level counts of one engineered categorical feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoricalFeatureSummary {
    /// Feature name.
    pub name: String,
    /// Levels in order with their row counts.
    pub levels: Vec<(String, usize)>,
}

/// How one sparse category level was merged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelMerge {
    /// The sparse level.
    pub level: String,
    /// Its rows.
    pub rows: usize,
    /// Its share of all rows.
    pub share: f64,
    /// The level it was merged into (`None` when it has no rows or no level is large enough).
    pub merged_into: Option<String>,
    /// Distance to each candidate level, in level order (see [`FeatureFindings::merge_rule`]).
    pub distances: Vec<(String, f64)>,
    /// The columns whose standardised level means were compared.
    pub compared_on: Vec<String>,
}

/// A feature that was not built, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedFeature {
    /// Feature name.
    pub name: String,
    /// Why it was skipped.
    pub reason: String,
}

/// A feature and the source columns it is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lineage {
    /// Feature name.
    pub name: String,
    /// Columns it is derived from (a raw column lists itself).
    pub sources: Vec<String>,
    /// How it is computed, in words.
    pub rule: String,
}

/// A feature set was refused because it leaks the target.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "feature '{feature}' is derived from {shared:?}, which the target '{target}' is made from: refusing to predict a target from its own inputs"
)]
pub struct LeakageError {
    /// The target asked for.
    pub target: String,
    /// The offending feature.
    pub feature: String,
    /// The shared source columns.
    pub shared: Vec<String>,
}

/// Name of the category with sparse levels merged (`<category>_grouped`, e.g. `region_grouped`).
pub fn grouped_name(roles: &Roles) -> String {
    format!("{}_grouped", roles.category)
}

/// Name of a one-hot column: `feature=level`.
pub fn one_hot_name(feature: &str, level: &str) -> String {
    format!("{feature}={level}")
}

/// The lineage of every known feature with the default [`FeatureSettings`] column choices:
/// raw role columns, the category, the label and the engineered features.
///
/// Whatever the column choices, every feature computed from the target lists `roles.target`
/// among its sources, so leakage checks against the target are always right.
pub fn lineage(roles: &Roles) -> Vec<Lineage> {
    lineage_with(roles, &FeatureSettings::default())
}

/// The lineage of every known feature for the given column choices (engineered features whose
/// columns the roles lack are left out, as [`engineer`] skips them).
pub fn lineage_with(roles: &Roles, fs: &FeatureSettings) -> Vec<Lineage> {
    let mut out: Vec<Lineage> = roles
        .numeric_columns()
        .into_iter()
        .chain(std::iter::once(roles.category.clone()))
        .map(|c| Lineage {
            name: c.clone(),
            sources: vec![c],
            rule: "raw column".into(),
        })
        .collect();
    out.push(Lineage {
        name: GROWTH_LABEL.into(),
        sources: roles.label_inputs.clone(),
        rule: format!(
            "engagement composite (mean percentile rank of {}) at or below the growth quantile",
            roles.label_inputs.join(", ")
        ),
    });
    let t = &roles.target;
    let resolved = |w| fs.column(w, roles).ok();
    let (age, inc, freq) = (
        resolved(FeatureColumn::Age).unwrap_or_default(),
        resolved(FeatureColumn::Income).unwrap_or_default(),
        resolved(FeatureColumn::Frequency).unwrap_or_default(),
    );
    let has = |c: &str| !c.is_empty();
    let (age, inc, freq) = (&age, &inc, &freq);
    let mut add = |ok: bool, name: &str, sources: Vec<&String>, rule: String| {
        if ok {
            out.push(Lineage {
                name: name.into(),
                sources: sources.into_iter().cloned().collect(),
                rule,
            });
        }
    };
    // Target-derived features are always listed (with the target as a source), even when their
    // other column is missing, so a feature of that name can never pass as a raw column.
    fn with_t<'a>(t: &'a String, c: &'a String, present: bool) -> Vec<&'a String> {
        if present { vec![t, c] } else { vec![t] }
    }
    add(
        true,
        SPEND_PER_PURCHASE,
        with_t(t, freq, has(freq)),
        format!("{t} / {freq} (undefined when {freq} is 0)"),
    );
    add(
        true,
        SPEND_TO_INCOME,
        with_t(t, inc, has(inc)),
        format!("{t} / {inc} (undefined when {inc} is 0)"),
    );
    add(has(inc), LOG_INCOME, vec![inc], format!("ln(1 + {inc})"));
    add(
        has(inc),
        INCOME_PERCENTILE,
        vec![inc],
        format!("average rank of {inc} / n, in (0, 1]"),
    );
    add(
        has(age),
        AGE_GROUP,
        vec![age],
        format!(
            "{age} binned at {:?}, intervals [lower, upper)",
            fs.age_cuts
        ),
    );
    add(
        has(inc),
        INCOME_BRACKET,
        vec![inc],
        format!(
            "{inc} binned at {:?}, intervals [lower, upper)",
            fs.income_cuts
        ),
    );
    let mut grouped_sources = vec![&roles.category];
    grouped_sources.extend(roles.demographic.iter());
    add(
        true,
        &grouped_name(roles),
        grouped_sources,
        format!(
            "{} with levels below the sparse-level share merged into the level nearest in standardised means of {}",
            roles.category,
            roles.demographic.join(", ")
        ),
    );
    out
}

/// The source columns of a feature (itself, if unknown: treated as raw). A one-hot column
/// `feature=level` has the sources of `feature`.
pub fn sources_of(name: &str, roles: &Roles) -> Vec<String> {
    let base = name.split_once('=').map_or(name, |(f, _)| f);
    lineage(roles)
        .into_iter()
        .find(|l| l.name == base)
        .map(|l| l.sources)
        .unwrap_or_else(|| vec![base.to_string()])
}

/// Refuses a feature list in which any feature shares a source column with the target.
pub fn check_no_leakage(
    target: &str,
    features: &[String],
    roles: &Roles,
) -> Result<(), LeakageError> {
    let t = sources_of(target, roles);
    for f in features {
        let shared: Vec<String> = sources_of(f, roles)
            .into_iter()
            .filter(|s| t.contains(s))
            .collect();
        if !shared.is_empty() {
            return Err(LeakageError {
                target: target.into(),
                feature: f.clone(),
                shared,
            });
        }
    }
    Ok(())
}

/// The candidates that may be used to predict `target` (those sharing no source with it).
///
/// ```
/// use customer_intel::{features, settings::Roles};
/// let roles = Roles::default();
/// let all = vec!["annual_income".to_string(), "spend_per_purchase".to_string(), "log_income".to_string()];
/// assert_eq!(features::allowed_features("purchase_amount", &all, &roles), vec!["annual_income", "log_income"]);
/// ```
pub fn allowed_features(target: &str, candidates: &[String], roles: &Roles) -> Vec<String> {
    candidates
        .iter()
        .filter(|c| check_no_leakage(target, std::slice::from_ref(c), roles).is_ok())
        .cloned()
        .collect()
}

/// Engagement composite per row: the mean, over the label inputs, of each value's percentile
/// rank (average rank ÷ n, ties sharing their average rank), in (0, 1].
pub fn engagement_composite(ds: &Dataset) -> Vec<f64> {
    let n = ds.n_rows();
    let inputs = &ds.roles.label_inputs;
    let mut acc = vec![0.0; n];
    for c in inputs {
        for (a, r) in acc.iter_mut().zip(stats::ranks(ds.col(c))) {
            *a += r / n as f64;
        }
    }
    acc.iter().map(|a| a / inputs.len() as f64).collect()
}

/// The growth-potential label and the composite cut-off used: `true` when the engagement
/// composite is at or below the `growth_quantile` (type-7) of all composites.
pub fn growth_label(ds: &Dataset, settings: &FeatureSettings) -> (Vec<bool>, f64) {
    let comp = engagement_composite(ds);
    let cutoff = stats::quantile(&comp, settings.growth_quantile);
    (comp.iter().map(|&c| c <= cutoff).collect(), cutoff)
}

/// An engineered categorical column.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalColumn {
    /// Feature name.
    pub name: String,
    /// Levels in display order.
    pub levels: Vec<String>,
    /// Level per row.
    pub values: Vec<String>,
}

/// The engineered features of a dataset, row-aligned with it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// Numeric features in a fixed order (NaN where undefined).
    pub numeric: Vec<(String, Vec<f64>)>,
    /// Categorical features in a fixed order.
    pub categorical: Vec<CategoricalColumn>,
    /// How sparse category levels were merged.
    pub merges: Vec<LevelMerge>,
    /// Features that could not be built, and why.
    pub skipped: Vec<SkippedFeature>,
}

impl FeatureTable {
    /// A numeric feature by name.
    pub fn numeric(&self, name: &str) -> Option<&[f64]> {
        self.numeric
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// A categorical feature by name.
    pub fn categorical(&self, name: &str) -> Option<&CategoricalColumn> {
        self.categorical.iter().find(|c| c.name == name)
    }

    /// One-hot columns of every categorical feature (`feature=level`, 1.0 or 0.0), in order.
    pub fn one_hot(&self, drop_first: bool) -> Vec<(String, Vec<f64>)> {
        self.categorical
            .iter()
            .flat_map(|c| one_hot(&c.name, &c.values, &c.levels, drop_first))
            .collect()
    }
}

/// One-hot encodes `values` over `levels` (in that order): one column `feature=level` per
/// level, 1.0 where the row has that level. `drop_first` omits the first level's column.
/// Values outside `levels` get all zeros.
pub fn one_hot(
    feature: &str,
    values: &[String],
    levels: &[String],
    drop_first: bool,
) -> Vec<(String, Vec<f64>)> {
    levels
        .iter()
        .skip(usize::from(drop_first))
        .map(|l| {
            (
                one_hot_name(feature, l),
                values
                    .iter()
                    .map(|v| if v == l { 1.0 } else { 0.0 })
                    .collect(),
            )
        })
        .collect()
}

/// The bin of each value for increasing cut points: bin `k` holds `cuts[k-1] <= x < cuts[k]`.
pub fn bin_index(x: f64, cuts: &[f64]) -> usize {
    cuts.iter().take_while(|&&c| c <= x).count()
}

/// Labels of the bins of [`bin_index`]: `<c1`, `c1-c2`, …, `>=ck`.
pub fn bin_labels(cuts: &[f64]) -> Vec<String> {
    let f = |v: f64| {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            format!("{}", v as i64)
        } else {
            format!("{v}")
        }
    };
    if cuts.is_empty() {
        return vec!["all".into()];
    }
    let mut out = vec![format!("<{}", f(cuts[0]))];
    for w in cuts.windows(2) {
        out.push(format!("{}-{}", f(w[0]), f(w[1])));
    }
    out.push(format!(">={}", f(cuts[cuts.len() - 1])));
    out
}

fn binned(name: &str, x: &[f64], cuts: &[f64]) -> CategoricalColumn {
    let levels = bin_labels(cuts);
    let values = x
        .iter()
        .map(|&v| levels[bin_index(v, cuts)].clone())
        .collect();
    CategoricalColumn {
        name: name.into(),
        levels,
        values,
    }
}

fn ratio(num: &[f64], den: &[f64]) -> Vec<f64> {
    num.iter()
        .zip(den)
        .map(|(a, b)| if *b != 0.0 { a / b } else { f64::NAN })
        .collect()
}

/// The rule by which [`merge_sparse_levels`] merges levels, in words.
pub fn merge_rule(roles: &Roles, min_share: f64) -> String {
    format!(
        "a level of {} with under {:.1}% of rows is merged into the level (of those at or above it) whose vector of \
         standardised means of {} (level mean minus overall mean, divided by the overall standard deviation) is \
         nearest in Euclidean distance; ties go to the earlier level",
        roles.category,
        100.0 * min_share,
        roles.demographic.join(", ")
    )
}

/// Merges every category level with a share of rows below `min_share` into the level it most
/// resembles (see [`merge_rule`]). Returns the kept levels, each row's grouped level and the
/// merge decisions. Only the demographic columns are compared, so the grouping carries no
/// information from the target or the label inputs.
pub fn merge_sparse_levels(
    ds: &Dataset,
    min_share: f64,
) -> (Vec<String>, Vec<String>, Vec<LevelMerge>) {
    let roles = &ds.roles;
    let n = ds.n_rows().max(1) as f64;
    let counts = ds.category_counts();
    let cols = &roles.demographic;
    let profile = |level: &str| -> Vec<f64> {
        cols.iter()
            .map(|c| {
                let x = ds.col(c);
                let (m, s) = (stats::mean(x), stats::sd(x));
                let within: Vec<f64> = x
                    .iter()
                    .zip(&ds.category)
                    .filter(|(_, l)| *l == level)
                    .map(|(v, _)| *v)
                    .collect();
                let d = stats::mean(&within) - m;
                if s > 0.0 && s.is_finite() { d / s } else { 0.0 }
            })
            .collect()
    };
    let kept: Vec<&(String, usize)> = counts
        .iter()
        .filter(|(_, k)| *k as f64 / n >= min_share)
        .collect();
    let kept_profiles: Vec<(String, Vec<f64>)> =
        kept.iter().map(|(l, _)| (l.clone(), profile(l))).collect();
    let mut merges = Vec::new();
    let mut map: Vec<(String, String)> = Vec::new();
    for (level, k) in &counts {
        if *k as f64 / n >= min_share {
            continue;
        }
        let (mut into, mut distances) = (None, Vec::new());
        if *k > 0 && !kept_profiles.is_empty() {
            let p = profile(level);
            distances = kept_profiles
                .iter()
                .map(|(l, q)| {
                    (
                        l.clone(),
                        p.iter()
                            .zip(q)
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum::<f64>()
                            .sqrt(),
                    )
                })
                .collect();
            let best = distances
                .iter()
                .fold(None::<&(String, f64)>, |b, d| match b {
                    Some(b) if b.1 <= d.1 => Some(b),
                    _ => Some(d),
                });
            into = best.map(|b| b.0.clone());
        }
        if let Some(t) = &into {
            map.push((level.clone(), t.clone()));
        }
        merges.push(LevelMerge {
            level: level.clone(),
            rows: *k,
            share: *k as f64 / n,
            merged_into: into,
            distances,
            compared_on: cols.clone(),
        });
    }
    let levels: Vec<String> = if kept.is_empty() {
        counts.iter().map(|(l, _)| l.clone()).collect()
    } else {
        kept.iter().map(|(l, _)| l.clone()).collect()
    };
    let values = ds
        .category
        .iter()
        .map(|c| {
            map.iter()
                .find(|(from, _)| from == c)
                .map_or_else(|| c.clone(), |(_, to)| to.clone())
        })
        .collect();
    (levels, values, merges)
}

/// Builds every engineered feature of `ds`. Levels of the category below
/// `settings.eda.sparse_share` are merged (the same threshold the EDA alerts on).
///
/// ```
/// use customer_intel::{data, features, settings::Settings};
/// let ds = data::synth(200, 3, &data::SynthSpec::default());
/// let t = features::engineer(&ds, &Settings::default());
/// assert_eq!(t.numeric("spend_per_purchase").unwrap().len(), 200);
/// assert!(t.categorical("region_grouped").is_some());
/// ```
pub fn engineer(ds: &Dataset, settings: &Settings) -> FeatureTable {
    engineer_with(ds, settings, true)
}

/// The numeric features of [`engineer`] only (no categorical columns, no level merges): the same
/// values, without the per-row text of the binned and grouped columns (used by the EDA's leakage
/// alerts, which only read numbers).
///
/// ```
/// use customer_intel::{data, features, settings::Settings};
/// let ds = data::synth(200, 3, &data::SynthSpec::default());
/// let s = Settings::default();
/// assert_eq!(features::engineer_numeric(&ds, &s).numeric, features::engineer(&ds, &s).numeric);
/// ```
pub fn engineer_numeric(ds: &Dataset, settings: &Settings) -> FeatureTable {
    engineer_with(ds, settings, false)
}

fn engineer_with(ds: &Dataset, settings: &Settings, with_categorical: bool) -> FeatureTable {
    let fs = &settings.features;
    let roles = &ds.roles;
    let mut numeric = Vec::new();
    let mut categorical = Vec::new();
    let mut skipped = Vec::new();
    let mut skip = |names: &[&str], reason: &str| {
        skipped.extend(names.iter().map(|n| SkippedFeature {
            name: n.to_string(),
            reason: reason.into(),
        }))
    };
    let t = ds.target();
    match fs.column(FeatureColumn::Frequency, roles) {
        Ok(freq) => numeric.push((SPEND_PER_PURCHASE.to_string(), ratio(t, ds.col(&freq)))),
        Err(e) => skip(&[SPEND_PER_PURCHASE], &e),
    }
    match fs.column(FeatureColumn::Income, roles) {
        Ok(inc) => {
            let inc = ds.col(&inc);
            let n = inc.len() as f64;
            numeric.push((SPEND_TO_INCOME.to_string(), ratio(t, inc)));
            numeric.push((
                LOG_INCOME.to_string(),
                inc.iter().map(|v| v.ln_1p()).collect(),
            ));
            numeric.push((
                INCOME_PERCENTILE.to_string(),
                stats::ranks(inc).into_iter().map(|r| r / n).collect(),
            ));
            if with_categorical {
                categorical.push(binned(INCOME_BRACKET, inc, &fs.income_cuts));
            }
        }
        Err(e) => skip(
            &[
                SPEND_TO_INCOME,
                LOG_INCOME,
                INCOME_PERCENTILE,
                INCOME_BRACKET,
            ],
            &e,
        ),
    }
    if !with_categorical {
        return FeatureTable {
            numeric,
            categorical,
            merges: Vec::new(),
            skipped,
        };
    }
    match fs.column(FeatureColumn::Age, roles) {
        Ok(age) => categorical.insert(0, binned(AGE_GROUP, ds.col(&age), &fs.age_cuts)),
        Err(e) => skip(&[AGE_GROUP], &e),
    }
    let (levels, values, merges) = merge_sparse_levels(ds, settings.eda.sparse_share);
    categorical.push(CategoricalColumn {
        name: grouped_name(roles),
        levels,
        values,
    });
    FeatureTable {
        numeric,
        categorical,
        merges,
        skipped,
    }
}

/// Runs feature engineering: the growth label, the engineered features, their lineage and
/// which features each prediction task may use.
pub fn run(ds: &Dataset, settings: &Settings) -> FeatureFindings {
    let (label, cutoff) = growth_label(ds, &settings.features);
    let positive = label.iter().filter(|&&l| l).count();
    let table = engineer(ds, settings);
    let roles = &ds.roles;
    let numeric = table
        .numeric
        .iter()
        .map(|(name, v)| {
            let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            FeatureSummary {
                name: name.clone(),
                mean: stats::mean(&finite),
                sd: stats::sd(&finite),
                min: finite.iter().copied().fold(f64::INFINITY, f64::min),
                max: finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                undefined: v.len() - finite.len(),
            }
        })
        .collect();
    let categorical = table
        .categorical
        .iter()
        .map(|c| CategoricalFeatureSummary {
            name: c.name.clone(),
            levels: c
                .levels
                .iter()
                .map(|l| (l.clone(), c.values.iter().filter(|v| *v == l).count()))
                .collect(),
        })
        .collect();
    let one_hot: Vec<String> = table
        .one_hot(settings.features.one_hot_drop_first)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut candidates: Vec<String> = roles.numeric_columns();
    candidates.push(roles.category.clone());
    candidates.extend(table.numeric.iter().map(|(n, _)| n.clone()));
    candidates.extend(table.categorical.iter().map(|c| c.name.clone()));
    FeatureFindings {
        lineage: lineage_with(roles, &settings.features),
        growth_cutoff: cutoff,
        growth_positive: positive,
        growth_share: positive as f64 / ds.n_rows().max(1) as f64,
        numeric,
        categorical,
        merge_rule: merge_rule(roles, settings.eda.sparse_share),
        merges: table.merges,
        one_hot,
        skipped: table.skipped,
        allowed_for_target: allowed_features(&roles.target, &candidates, roles),
        allowed_for_label: allowed_features(GROWTH_LABEL, &candidates, roles),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{Reference, bundled, close};

    #[test]
    fn label_inputs_cannot_predict_the_label() {
        let roles = Roles::default();
        let all: Vec<String> = roles
            .numeric_columns()
            .into_iter()
            .chain([roles.category.clone()])
            .collect();
        let ok = allowed_features(GROWTH_LABEL, &all, &roles);
        assert_eq!(ok, vec!["age", "annual_income", "region"]);
        let err =
            check_no_leakage(GROWTH_LABEL, &["loyalty_score".to_string()], &roles).unwrap_err();
        assert_eq!(err.shared, vec!["loyalty_score"]);
        assert!(
            check_no_leakage("purchase_amount", &["purchase_amount".to_string()], &roles).is_err()
        );
    }

    #[test]
    fn spend_features_never_predict_spend() {
        let roles = Roles::default();
        let mut all: Vec<String> = lineage(&roles).into_iter().map(|l| l.name).collect();
        all.push(one_hot_name("region_grouped", "North"));
        all.push(one_hot_name(INCOME_BRACKET, ">=60000"));
        let ok = allowed_features("purchase_amount", &all, &roles);
        assert!(!ok.contains(&SPEND_PER_PURCHASE.to_string()), "{ok:?}");
        assert!(!ok.contains(&SPEND_TO_INCOME.to_string()), "{ok:?}");
        assert!(!ok.contains(&"purchase_amount".to_string()));
        assert!(
            !ok.contains(&GROWTH_LABEL.to_string()),
            "the label is made from spend"
        );
        for f in [
            "age",
            "annual_income",
            "loyalty_score",
            "purchase_frequency",
            "region",
            LOG_INCOME,
            INCOME_PERCENTILE,
            AGE_GROUP,
            INCOME_BRACKET,
            "region_grouped",
            "region_grouped=North",
            "income_bracket=>=60000",
        ] {
            assert!(ok.contains(&f.to_string()), "{f} missing from {ok:?}");
        }
        let err = check_no_leakage("purchase_amount", &[SPEND_TO_INCOME.to_string()], &roles)
            .unwrap_err();
        assert_eq!(err.shared, vec!["purchase_amount"]);
        // The growth label may not use the spend features either (spend is one of its inputs).
        let ok = allowed_features(GROWTH_LABEL, &all, &roles);
        assert!(
            !ok.contains(&SPEND_PER_PURCHASE.to_string())
                && !ok.contains(&SPEND_TO_INCOME.to_string())
        );
    }

    #[test]
    fn renamed_target_still_guards_spend_features() {
        let roles = Roles {
            target: "spend".into(),
            numeric: vec![
                "years".into(),
                "income".into(),
                "loyalty".into(),
                "visits".into(),
            ],
            label_inputs: vec!["loyalty".into(), "visits".into(), "spend".into()],
            ..Roles::default()
        };
        let all = vec![
            SPEND_PER_PURCHASE.to_string(),
            SPEND_TO_INCOME.to_string(),
            "income".to_string(),
        ];
        assert_eq!(allowed_features("spend", &all, &roles), vec!["income"]);
    }

    #[test]
    fn composite_and_label_on_a_hand_computed_example() {
        let mut numeric = std::collections::BTreeMap::new();
        // Ranks: loyalty 1,2,3; frequency 1,2,3; spend 1,3,2 → composites (1+1+1)/9, (2+2+3)/9, (3+3+2)/9.
        numeric.insert("loyalty_score".to_string(), vec![1.0, 2.0, 3.0]);
        numeric.insert("purchase_frequency".to_string(), vec![5.0, 6.0, 7.0]);
        numeric.insert("purchase_amount".to_string(), vec![10.0, 30.0, 20.0]);
        numeric.insert("age".to_string(), vec![20.0, 30.0, 40.0]);
        numeric.insert("annual_income".to_string(), vec![1.0, 2.0, 3.0]);
        let ds = Dataset::from_columns(
            Roles::default(),
            vec!["a".into(), "b".into(), "c".into()],
            numeric,
            vec!["North".into(); 3],
            vec![],
            vec![2, 3, 4],
            crate::data::Provenance {
                source: "t".into(),
                rows: 3,
                sha256: String::new(),
            },
        );
        let comp = engagement_composite(&ds);
        let want = [3.0 / 9.0, 7.0 / 9.0, 8.0 / 9.0];
        for (c, w) in comp.iter().zip(want) {
            assert!((c - w).abs() < 1e-12);
        }
        let (label, cutoff) = growth_label(&ds, &FeatureSettings::default());
        // Type-7 quantile at 1/3 of [3/9, 7/9, 8/9]: h = 2/3 → 3/9 + (2/3)(4/9) = 17/27.
        assert!((cutoff - 17.0 / 27.0).abs() < 1e-12);
        assert_eq!(label, vec![true, false, false]);
    }

    #[test]
    fn bins_are_left_closed_and_labelled() {
        let cuts = [30.0, 40.0, 50.0];
        assert_eq!(
            [29.9, 30.0, 39.0, 40.0, 50.0, 80.0].map(|x| bin_index(x, &cuts)),
            [0, 1, 1, 2, 3, 3]
        );
        assert_eq!(bin_labels(&cuts), vec!["<30", "30-40", "40-50", ">=50"]);
        assert_eq!(bin_labels(&[0.5]), vec!["<0.5", ">=0.5"]);
        let v: Vec<String> = ["a", "b", "a"].map(String::from).to_vec();
        let levels: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let oh = one_hot("f", &v, &levels, false);
        assert_eq!(
            oh.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["f=a", "f=b", "f=c"]
        );
        assert_eq!(oh[0].1, vec![1.0, 0.0, 1.0]);
        assert_eq!(oh[2].1, vec![0.0, 0.0, 0.0]);
        assert_eq!(one_hot("f", &v, &levels, true).len(), 2);
    }

    #[test]
    fn settings_check_rejects_bad_cuts() {
        assert!(FeatureSettings::default().check().is_ok());
        let fs = FeatureSettings {
            age_cuts: vec![40.0, 30.0],
            ..FeatureSettings::default()
        };
        assert!(fs.check().unwrap_err().to_string().contains("age_cuts"));
        let fs = FeatureSettings {
            growth_quantile: 1.0,
            ..FeatureSettings::default()
        };
        assert!(fs.check().is_err());
    }

    #[test]
    fn engineered_values_match_pandas_on_bundled_data() {
        // Reference: tests/reference/features.py (pandas on data/customer_purchasing_behaviors.csv):
        // Series.rank(pct=True), numpy.log1p, (purchase_amount / purchase_frequency).mean(),
        // (purchase_amount / annual_income).std(), pd.cut(..., right=False).value_counts(sort=False).
        let r = Reference::load("features");
        let ds = bundled();
        let t = engineer(&ds, &Settings::default());
        let pct = t.numeric(INCOME_PERCENTILE).unwrap();
        for (row, want) in r
            .usizes("/income_percentile/rows")
            .into_iter()
            .zip(r.f64s("/income_percentile/value"))
        {
            assert!(close(pct[row], want, 1e-12), "row {row}");
        }
        assert!(close(
            t.numeric(LOG_INCOME).unwrap()[0],
            r.f64("/log_income_row0"),
            1e-12
        ));
        assert!(close(
            t.numeric(SPEND_TO_INCOME).unwrap()[1],
            r.f64("/spend_to_income_row1"),
            1e-12
        ));
        assert!(close(
            stats::mean(t.numeric(SPEND_PER_PURCHASE).unwrap()),
            r.f64("/spend_per_purchase_mean"),
            1e-12
        ));
        assert!(close(
            stats::sd(t.numeric(SPEND_TO_INCOME).unwrap()),
            r.f64("/spend_to_income_sd"),
            1e-9
        ));
        let f = run(&ds, &Settings::default());
        let counts = |name: &str| {
            f.categorical
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .levels
                .iter()
                .map(|l| l.1)
                .collect::<Vec<_>>()
        };
        assert_eq!(counts(AGE_GROUP), r.usizes("/age_group_counts"));
        assert_eq!(counts(INCOME_BRACKET), r.usizes("/income_bracket_counts"));
        assert!(f.skipped.is_empty());
        assert!(
            !f.allowed_for_target
                .contains(&SPEND_PER_PURCHASE.to_string())
        );
    }

    #[test]
    fn east_is_merged_into_north_by_the_stated_rule() {
        // Reference: tests/reference/features.py — pandas
        // ((df.groupby('region')[['age','annual_income']].mean() - means) / sds), Euclidean
        // distance from East's row to each other region's row (std with ddof=1).
        let r = Reference::load("features");
        let ds = bundled();
        let f = run(&ds, &Settings::default());
        assert_eq!(f.merges.len(), 1);
        let m = &f.merges[0];
        assert_eq!(
            (m.level.as_str(), m.rows, m.merged_into.as_deref()),
            (
                r.str("/merge/level"),
                r.usize("/merge/rows"),
                Some(r.str("/merge/merged_into"))
            )
        );
        let want = r.get("/merge/distances").as_array().unwrap();
        assert_eq!(m.distances.len(), want.len());
        for ((l, d), w) in m.distances.iter().zip(want) {
            let (wl, wd) = (w[0].as_str().unwrap(), w[1].as_f64().unwrap());
            assert_eq!(l, wl);
            assert!(close(*d, wd, 1e-9), "{l}: {d} vs {wd}");
        }
        let grouped = f
            .categorical
            .iter()
            .find(|c| c.name == "region_grouped")
            .unwrap();
        assert_eq!(grouped.levels, r.named_counts("/grouped_rows"));
        assert_eq!(f.one_hot.len(), 4 + 3 + 3);
        assert!(f.one_hot.contains(&"region_grouped=North".to_string()));
    }

    #[test]
    fn missing_columns_skip_features_instead_of_failing() {
        let ds = bundled();
        let mut s = Settings::default();
        s.features.frequency_column = Some("visits".into());
        let t = engineer(&ds, &s);
        assert!(t.numeric(SPEND_PER_PURCHASE).is_none());
        assert_eq!(t.skipped.len(), 1);
        assert!(t.skipped[0].reason.contains("visits"));
    }
}
