//! Production models: the models the analyses recommend, refitted for use and saved by
//! `report build` under `report/models/` as versioned, human-readable JSON files that
//! `report score` ([`crate::score`]) reads back.
//!
//! Three files, each self-describing ([`ModelHeader`]: format version, crate version, roles,
//! features, settings, training-data SHA-256, how the model was fitted, and the SHA-256 of the
//! file's own content, so a changed or damaged file is refused):
//! - [`SPEND_FILE`]: the best spend regressor of the regression analysis (whatever
//!   `RegressionFindings.best` names), refitted on every row with its penalty chosen by the same
//!   group-aware inner CV the analysis uses ([`regression::fit_production`]), and a prediction
//!   interval from the analysis' group-aware out-of-fold residuals ([`SpendInterval`]).
//! - [`GROWTH_FILE`]: the best honest growth-potential classifier, refitted on every row, with
//!   its threshold chosen on group-aware out-of-fold probabilities
//!   ([`classification::fit_production`]).
//! - [`SEGMENTS_FILE`]: the segmentation's scaler, centroids, persona names and actions
//!   ([`segmentation::fit_production`]).
//!
//! The models are fitted from the data and the findings; findings stay plain data and never hold
//! a model. Bytes are deterministic: same data and settings, same files.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analysis::classification::{self, ProductionClassifier};
use crate::analysis::regression::{self, FeatureSet};
use crate::analysis::segmentation::{self, ProductionSegments};
use crate::data::Dataset;
use crate::findings::Findings;
use crate::ml::regressors::{Fitted, Matrix, ModelKind};
use crate::settings::{Roles, Settings};
use crate::stats;

/// Version of the model file format. A reader refuses files of any other version.
/// Version 2: each file carries a checksum of its content; the segmentation carries each persona's
/// action rule and the one-axis statement; a saved tree sends a row left when its value is at most
/// the split (`<=`, the rule linfa-trees trains with). Version 3 added the spend file's
/// [`SpendModel::training_profile`] (training ranges and binned reference distributions for the
/// dashboard and the drift checks). Files of older versions are refused, not misread.
pub const FORMAT_VERSION: u32 = 3;
/// The spend regressor's file name.
pub const SPEND_FILE: &str = "spend.json";
/// The growth-potential classifier's file name.
pub const GROWTH_FILE: &str = "growth.json";
/// The segmentation's file name.
pub const SEGMENTS_FILE: &str = "segments.json";
/// Written instead of the model files when they could not be fitted; says why.
pub const NOT_SAVED_FILE: &str = "NOT_SAVED.txt";
/// The models' folder inside the output folder.
pub const MODELS_DIR: &str = "models";
/// Quantiles of the out-of-fold residuals that bound the spend interval: a central 90% interval.
pub const INTERVAL_QUANTILES: (f64, f64) = (0.05, 0.95);

/// Errors of fitting, reading or checking model files.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A production model could not be fitted.
    #[error("cannot fit the production {what}: {message}")]
    Fit {
        /// Which model.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// The last build could not fit the models and said why.
    #[error("'{dir}' holds no models: {reason}")]
    NotSaved {
        /// The folder.
        dir: PathBuf,
        /// The build's note.
        reason: String,
    },
    /// The file could not be read.
    #[error("cannot read model file '{path}'; run `report build` to write the models")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error(
        "model file '{path}' is corrupted or truncated (not valid JSON: {message}); rebuild it with `report build`"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The file has another format version.
    #[error(
        "model file '{path}' has format version {found}, but this report reads version {expected}; rebuild the models with this version's `report build`"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version found (or what stood in its place).
        found: String,
        /// The version this build reads.
        expected: u32,
    },
    /// The JSON does not have the model format's fields, or they contradict each other.
    #[error("model file '{path}' is not a valid {what} model: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Which model the file should hold.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The file's content does not match the checksum it carries: it was changed or damaged
    /// after `report build` wrote it.
    #[error(
        "model file '{path}' was changed or damaged after `report build` wrote it ({message}); rebuild it with `report build`"
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// The files of one folder come from different builds.
    #[error(
        "the model files in '{dir}' come from different builds: {message}; rebuild them together with `report build`"
    )]
    Mixed {
        /// The folder.
        dir: PathBuf,
        /// What differs.
        message: String,
    },
}

/// Where a model's training data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    /// The data file as given to `report build`.
    pub source: String,
    /// Rows.
    pub rows: usize,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// One encoded input column of a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputColumn {
    /// A numeric column's value.
    Value(String),
    /// 1 when the category column equals the level, else 0.
    Indicator {
        /// The category column.
        column: String,
        /// The level.
        level: String,
    },
}

/// What every model file records besides the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// What the file holds: `spend regressor`, `growth-potential classifier` or `segmentation`.
    pub model: String,
    /// Version of customer-intel that wrote the file.
    pub crate_version: String,
    /// The column roles of the training table; the input to score must have the same.
    pub roles: Roles,
    /// The user columns the model reads, in order.
    pub features: Vec<String>,
    /// The encoded input columns, in the model's order.
    pub inputs: Vec<InputColumn>,
    /// The settings of the build (seed, folds, every analysis' settings).
    pub settings: Settings,
    /// The training data.
    pub training_data: TrainingData,
    /// Which rows the model was fitted on.
    pub fitted_on: String,
    /// How the hyper-parameters (penalty, threshold) were chosen.
    pub hyperparameters: String,
    /// How gaps in a scored row are filled, when the models were built with
    /// `data.missing = "impute"` (absent otherwise: then `report score` refuses gaps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imputation: Option<Imputation>,
    /// SHA-256 (hex) of the file's bytes with these 64 digits written as zeros: a reader
    /// refuses a file whose content changed after `report build` wrote it (format version 2).
    /// In memory, before the file is written, it holds the zeros.
    pub content_sha256: String,
    /// Sparse category levels merged before encoding (decided on the training rows,
    /// [`crate::sparse`]): `report score` encodes a customer of a merged level as the level it
    /// joined. Empty for models that merge nothing.
    #[serde(default)]
    pub level_merges: crate::sparse::LevelMap,
}

/// The fill values of gaps in a scored row, learned on the spend model's training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imputation {
    /// How the values were learned, in words.
    pub rule: String,
    /// Median of each numeric feature's observed values.
    pub numeric: Vec<(String, f64)>,
    /// The most frequent category level (ties to the first in the roles' level order).
    pub category: Option<String>,
}

impl Imputation {
    /// Learns the fill values from a table's observed values.
    pub fn learn(ds: &Dataset) -> Imputation {
        let numeric = ds
            .roles
            .numeric
            .iter()
            .filter_map(|c| {
                let seen: Vec<f64> = ds
                    .numeric
                    .get(c)?
                    .iter()
                    .copied()
                    .filter(|v| !v.is_nan())
                    .collect();
                let m = if seen.is_empty() {
                    0.0
                } else {
                    stats::median(&seen)
                };
                Some((c.clone(), m))
            })
            .collect();
        let mut best: Option<(String, usize)> = None;
        for (level, n) in ds.category_counts() {
            if n > 0 && best.as_ref().is_none_or(|(_, b)| n > *b) {
                best = Some((level, n));
            }
        }
        Imputation {
            rule: format!(
                "a gap in a numeric feature is filled with the median of that feature's observed values in the {} training rows of the spend model (the same values its fit used); a gap in '{}' with its most frequent level there; a gap in '{}' is placed with the predicted spend",
                ds.n_rows(),
                ds.roles.category,
                ds.roles.target
            ),
            numeric,
            category: best.map(|(l, _)| l),
        }
    }
}

/// The spend prediction interval: `predicted + lower_offset` to `predicted + upper_offset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendInterval {
    /// Nominal coverage (upper − lower quantile).
    pub level: f64,
    /// Quantile of the residuals giving the lower offset.
    pub lower_quantile: f64,
    /// Quantile of the residuals giving the upper offset.
    pub upper_quantile: f64,
    /// The lower quantile of the residuals (actual − predicted), target units.
    pub lower_offset: f64,
    /// The upper quantile of the residuals, target units.
    pub upper_offset: f64,
    /// Where the residuals come from.
    pub residuals: String,
    /// The bounds are clipped to the target's validation range (when it has one).
    pub clip: (Option<f64>, Option<f64>),
}

impl SpendInterval {
    /// The interval around one prediction.
    pub fn bounds(&self, predicted: f64) -> (f64, f64) {
        let clip = |v: f64| {
            let v = self.clip.0.map_or(v, |m| v.max(m));
            self.clip.1.map_or(v, |m| v.min(m))
        };
        (
            clip(predicted + self.lower_offset),
            clip(predicted + self.upper_offset),
        )
    }
}

/// The saved spend regressor.
#[derive(Debug, Serialize, Deserialize)]
pub struct SpendModel {
    /// Roles, features, provenance.
    pub header: ModelHeader,
    /// The model kind.
    pub kind: ModelKind,
    /// The regression feature set it uses.
    pub feature_set: FeatureSet,
    /// The penalty chosen (Ridge and Lasso).
    pub penalty: Option<f64>,
    /// Mean group-aware cross-validated R² of this configuration, as the analysis measured it.
    pub cv_r2: f64,
    /// The prediction interval.
    pub interval: SpendInterval,
    /// For reading only (scoring uses `fitted`): a linear model in raw units,
    /// `predicted = intercept + Σ coefficient × input`.
    pub equation: Option<LinearEquation>,
    /// The fitted model (standardisation included), as the regression code holds it.
    pub fitted: Fitted,
    /// The whole training table's ranges, medians and binned distributions (every numeric role
    /// column and the category), for input forms and drift checks ([`crate::drift`]).
    pub training_profile: crate::drift::TrainingProfile,
}

/// A linear model written in the input's own units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearEquation {
    /// Intercept, target units.
    pub intercept: f64,
    /// Target units per unit of each encoded input (`None` for a column dropped as constant).
    pub coefficients: Vec<(String, Option<f64>)>,
}

/// The saved growth-potential classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthModel {
    /// Roles, features, provenance.
    pub header: ModelHeader,
    /// The label's name.
    pub label: String,
    /// The classifier and its threshold.
    pub classifier: ProductionClassifier,
}

/// The saved segmentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentsModel {
    /// Roles, features, provenance.
    pub header: ModelHeader,
    /// Which spend a customer is placed with when spend is a segmentation feature.
    pub spend_rule: String,
    /// Scaler, centroids and personas.
    pub segments: ProductionSegments,
}

/// The three production models.
#[derive(Debug)]
pub struct ProductionModels {
    /// The spend regressor.
    pub spend: SpendModel,
    /// The growth-potential classifier.
    pub growth: GrowthModel,
    /// The segmentation.
    pub segments: SegmentsModel,
}

fn header(
    ds: &Dataset,
    settings: &Settings,
    model: &str,
    features: Vec<String>,
    inputs: Vec<InputColumn>,
    fitted_on: String,
    hyperparameters: String,
) -> ModelHeader {
    ModelHeader {
        format_version: FORMAT_VERSION,
        model: model.to_string(),
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        roles: settings.roles.clone(),
        features,
        inputs,
        settings: settings.clone(),
        training_data: TrainingData {
            source: ds.provenance.source.clone(),
            rows: ds.n_rows(),
            sha256: ds.provenance.sha256.clone(),
        },
        fitted_on,
        hyperparameters,
        imputation: None,
        content_sha256: UNSEALED.to_string(),
        level_merges: crate::sparse::LevelMap::default(),
    }
}

/// The checksum field as it is written in a model file (the header's first string of that name).
const CHECKSUM_KEY: &str = "\"content_sha256\": \"";
/// The checksum's placeholder while the digest is computed.
const UNSEALED: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where the checksum's digits sit in a model file's bytes.
fn checksum_span(bytes: &[u8]) -> Option<std::ops::Range<usize>> {
    let key = CHECKSUM_KEY.as_bytes();
    let start = bytes.windows(key.len()).position(|w| w == key)? + key.len();
    let len = bytes[start..].iter().position(|&b| b == b'"')?;
    Some(start..start + len)
}

/// SHA-256 (hex) of `bytes` with the checksum's digits replaced by [`UNSEALED`].
fn content_digest(bytes: &[u8], span: std::ops::Range<usize>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(&bytes[..span.start]);
    h.update(UNSEALED.as_bytes());
    h.update(&bytes[span.end..]);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the content checksum into a serialised model file (whose header has a
/// `content_sha256` field). Public for tools and tests that edit a model file on purpose and
/// must re-seal it; `report build` seals every file it writes.
pub fn seal(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(span) = checksum_span(&bytes) {
        let digest = content_digest(&bytes, span.clone());
        bytes.splice(span, digest.into_bytes());
    }
    bytes
}

/// Checks a model file's content checksum.
fn verify_checksum(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let span = checksum_span(bytes).ok_or_else(|| ModelError::Checksum {
        path: path.to_path_buf(),
        message: "it carries no content_sha256".into(),
    })?;
    let found = String::from_utf8_lossy(&bytes[span.clone()]).into_owned();
    let computed = content_digest(bytes, span);
    if found != computed {
        return Err(ModelError::Checksum {
            path: path.to_path_buf(),
            message: format!("its content hashes to {computed} but it carries {found}"),
        });
    }
    Ok(())
}

/// The encoded input columns of a design, from its column names: a numeric role column's
/// value, or `category=level` as the level's indicator.
fn encoded_inputs(columns: &[String], roles: &Roles) -> Vec<InputColumn> {
    let numeric = roles.numeric_columns();
    columns
        .iter()
        .map(|c| match c.strip_prefix(&format!("{}=", roles.category)) {
            Some(level) if !numeric.contains(c) => InputColumn::Indicator {
                column: roles.category.clone(),
                level: level.to_string(),
            },
            _ => InputColumn::Value(c.clone()),
        })
        .collect()
}

/// Fits the three production models from a dataset, the settings and the findings the
/// analyses produced on them.
///
/// ```
/// use customer_intel::{data, models, pipeline, settings::Settings};
/// let ds = data::synth(300, 1, &data::SynthSpec::default());
/// let settings = Settings::default();
/// let findings = pipeline::analyze(&ds, &settings);
/// let m = models::fit(&ds, &settings, &findings).unwrap();
/// assert_eq!(m.spend.header.format_version, models::FORMAT_VERSION);
/// assert_eq!(m.spend.kind, findings.regression.best.model.unwrap());
/// assert_eq!(m.segments.segments.personas.len(), findings.segmentation.chosen_k);
/// ```
pub fn fit(
    ds: &Dataset,
    settings: &Settings,
    findings: &Findings,
) -> Result<ProductionModels, ModelError> {
    let err = |what: &'static str| {
        move |e: &dyn std::fmt::Display| ModelError::Fit {
            what,
            message: e.to_string(),
        }
    };
    // The spend and growth models are fitted on the rows their analyses used: every row, or above
    // `sample_cap` the analyses' shared seeded sample of whole duplicate groups (the rows their
    // model choice, threshold and out-of-fold residuals come from; forests and SMOTE on every row
    // of a large table would cost minutes and gigabytes). Segmentation applies its own caps.
    // Under a missing-value policy other than `reject`, the spend model is fitted on the
    // regression's rows (gaps in numeric features imputed by the fit itself) and the other two on
    // the rows without gaps, as their analyses were (see `data::Views`).
    let full = ds;
    let views = crate::data::Views::new(ds, &settings.data);
    let (reg_table, table): (&Dataset, &Dataset) = (&views.regression, &views.complete);
    fn describe(capped: &crate::data::Capped<'_>, t: &Dataset, full: usize, which: &str) -> String {
        match (&capped.sample, t.n_rows() == full) {
            (None, true) => format!("all {full} rows of the training data"),
            (None, false) => format!(
                "the {} of the {full} rows of the training data {which}",
                t.n_rows()
            ),
            (Some(s), true) => format!(
                "the analyses' sample of {} of the {} rows of the training data ({})",
                s.rows, s.table_rows, s.method
            ),
            (Some(s), false) => format!(
                "the analyses' sample of {} of the {} rows of the training data {which} ({} rows in all; {})",
                s.rows, s.table_rows, full, s.method
            ),
        }
    }
    let capped = table.capped(
        settings.sample_cap,
        settings.seed,
        crate::data::ANALYSIS_SAMPLE,
    );
    // Without gaps both views are the loaded table itself: one sample serves both.
    let reg_capped_own;
    let reg_capped = if std::ptr::eq(reg_table, table) {
        &capped
    } else {
        reg_capped_own = reg_table.capped(
            settings.sample_cap,
            settings.seed,
            crate::data::ANALYSIS_SAMPLE,
        );
        &reg_capped_own
    };
    let all_rows = describe(&capped, table, full.n_rows(), "without gaps");
    let reg_rows = describe(
        reg_capped,
        reg_table,
        full.n_rows(),
        if settings.data.missing == crate::data::MissingPolicy::Impute {
            "with their spend and category (feature gaps imputed by the fit)"
        } else {
            "without gaps"
        },
    );
    let ds = &*capped.data;
    let reg_ds = &*reg_capped.data;
    let imputation = (settings.data.missing == crate::data::MissingPolicy::Impute)
        .then(|| Imputation::learn(reg_ds));

    // The three fits (and the spend model's training profile) are independent: they run in
    // parallel, and their errors are reported in the order spend, growth, segments.
    let (rf, cf, sf) = (
        &findings.regression,
        &findings.classification,
        &findings.segmentation,
    );
    let fit_spend = || {
        if let Some(reason) = &rf.skipped {
            return Err(err("spend regressor")(&format!(
                "the regression was skipped: {reason}"
            )));
        }
        let reg = regression::fit_production(reg_ds, settings, rf)
            .map_err(|e| err("spend regressor")(&e))?;
        let profile =
            crate::drift::profile(table, settings.drift.psi_bins, settings.drift.psi_alarm);
        Ok((reg, profile))
    };
    let fit_growth = || {
        let best = cf.best.as_ref().ok_or_else(|| {
            err("growth-potential classifier")(&format!(
                "the classification has no best model{}",
                cf.error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ))
        })?;
        classification::fit_production(ds, settings, best)
            .map_err(|e| err("growth-potential classifier")(&e))
    };
    let fit_segments = || {
        if let Some(reason) = &sf.skipped {
            return Err(err("segmentation")(&format!(
                "the segmentation was skipped: {reason}"
            )));
        }
        segmentation::fit_production(table, settings, sf).map_err(|e| err("segmentation")(&e))
    };
    let (spend_fit, (growth_fit, segments_fit)) =
        crate::par::join(fit_spend, || crate::par::join(fit_growth, fit_segments));

    // Spend.
    let (reg, training_profile) = spend_fit?;
    let residuals = &rf.out_of_fold.residual;
    if residuals.is_empty() || residuals.iter().any(|r| !r.is_finite()) {
        return Err(err("spend regressor")(
            &"the out-of-fold residuals are missing",
        ));
    }
    let (ql, qu) = INTERVAL_QUANTILES;
    let range = settings.roles.range(&settings.roles.target);
    let interval = SpendInterval {
        level: ((qu - ql) * 1e9).round() / 1e9,
        lower_quantile: ql,
        upper_quantile: qu,
        lower_offset: stats::quantile(residuals, ql),
        upper_offset: stats::quantile(residuals, qu),
        residuals: format!(
            "type-7 quantiles of the {} out-of-fold residuals (actual − predicted) of this model and feature set under {}: each row predicted once by a model that never saw it or its copies",
            residuals.len(),
            rf.out_of_fold.scheme
        ),
        clip: (range.min, range.max),
    };
    let spend_features = reg.feature_set.columns(&ds.roles);
    let penalty_rule = match reg.penalty {
        Some(p) => format!(
            "penalty {p} chosen on all rows by the analysis' rule: the grid value ({:?}) with the smallest pooled squared error over a {}-fold group-aware inner CV (duplicate rows kept together), ties to the larger penalty",
            settings.regression.penalty_grid, settings.regression.inner_folds
        ),
        None if reg.model == ModelKind::RandomForest => format!(
            "the settings' forest hyper-parameters ({} trees, max depth {}, min {} rows per leaf), not tuned",
            settings.regression.forest.trees,
            settings.regression.forest.max_depth,
            settings.regression.forest.min_samples_leaf
        ),
        None => "none to choose".to_string(),
    };
    let with_imputation = |mut h: ModelHeader| {
        h.imputation = imputation.clone();
        h
    };
    let mut spend_header = with_imputation(header(
        full,
        settings,
        "spend regressor",
        spend_features,
        encoded_inputs(&reg.design.columns, &ds.roles),
        format!("{reg_rows}, seed {}", reg.seed),
        penalty_rule,
    ));
    spend_header.level_merges = reg.merges.clone();
    let spend = SpendModel {
        header: spend_header,
        kind: reg.model,
        feature_set: reg.feature_set,
        penalty: reg.penalty,
        cv_r2: rf.best.r2.mean,
        interval,
        equation: reg.fitted.linear().map(|l| LinearEquation {
            intercept: l.intercept_raw(),
            coefficients: reg
                .design
                .columns
                .iter()
                .cloned()
                .zip(l.coef_raw().into_iter().map(|c| c.is_finite().then_some(c)))
                .collect(),
        }),
        fitted: reg.fitted,
        training_profile,
    };

    // Growth potential.
    let (classifier, design) = growth_fit?;
    let mut growth_header = with_imputation(header(
        full,
        settings,
        "growth-potential classifier",
        classification::honest_features(&ds.roles),
        encoded_inputs(&design.columns, &ds.roles),
        format!(
            "{all_rows}{}, seed {}",
            if classifier.smote {
                ", with SMOTE's synthetic minority rows made from them"
            } else {
                ""
            },
            classifier.seed
        ),
        format!(
            // Three decimals in this text (a chosen threshold is a midpoint of two probabilities,
            // so its shortest form can read 0.6499999999999999); the exact value is `threshold`.
            "threshold {:.3}: {}; model settings as in settings.classification",
            classifier.threshold, classifier.threshold_rule
        ),
    ));
    growth_header.level_merges = classifier.merges.clone();
    let growth = GrowthModel {
        header: growth_header,
        label: cf.label.name.clone(),
        classifier,
    };

    // Segments.
    let seg = segments_fit?;
    let segments = SegmentsModel {
        header: with_imputation(header(
            full,
            settings,
            "segmentation",
            seg.features.clone(),
            seg.features
                .iter()
                .cloned()
                .map(InputColumn::Value)
                .collect(),
            seg.fit_rows.clone(),
            format!("k = {} by the analysis' rule: {}", sf.chosen_k, sf.k_rule),
        )),
        spend_rule: format!(
            "when '{}' is a segmentation feature, a scored customer is placed with their observed value if the input has the column, else with the predicted one",
            ds.roles.target
        ),
        segments: seg,
    };
    Ok(ProductionModels {
        spend,
        growth,
        segments,
    })
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(value).expect("models serialise");
    s.push('\n');
    seal(s.into_bytes())
}

impl ProductionModels {
    /// The three files (path under `dir`, bytes), pretty JSON.
    pub fn files(&self, dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        vec![
            (dir.join(SPEND_FILE), to_json(&self.spend)),
            (dir.join(GROWTH_FILE), to_json(&self.growth)),
            (dir.join(SEGMENTS_FILE), to_json(&self.segments)),
        ]
    }

    /// Reads and checks the three files of a folder.
    pub fn load(dir: &Path) -> Result<ProductionModels, ModelError> {
        if let Ok(reason) = std::fs::read_to_string(dir.join(NOT_SAVED_FILE)) {
            return Err(ModelError::NotSaved {
                dir: dir.to_path_buf(),
                reason: reason.trim().to_string(),
            });
        }
        let spend: SpendModel = read(&dir.join(SPEND_FILE), "spend regressor")?;
        let growth: GrowthModel = read(&dir.join(GROWTH_FILE), "growth-potential classifier")?;
        let segments: SegmentsModel = read(&dir.join(SEGMENTS_FILE), "segmentation")?;
        let invalid = |file: &str, what: &'static str, message: String| ModelError::Invalid {
            path: dir.join(file),
            what,
            message,
        };
        let width = |h: &ModelHeader| h.inputs.len();
        growth
            .classifier
            .fitted
            .check(width(&growth.header))
            .map_err(|m| invalid(GROWTH_FILE, "growth-potential classifier", m))?;
        segments
            .segments
            .check()
            .map_err(|m| invalid(SEGMENTS_FILE, "segmentation", m))?;
        spend
            .training_profile
            .check()
            .map_err(|m| invalid(SPEND_FILE, "spend regressor", m))?;
        if segments.segments.features != segments.header.features {
            return Err(invalid(
                SEGMENTS_FILE,
                "segmentation",
                "the header's features differ from the segmentation's".into(),
            ));
        }
        let probe = Matrix::new(1, width(&spend.header), vec![0.0; width(&spend.header)]);
        spend
            .fitted
            .try_predict(&probe)
            .map_err(|m| invalid(SPEND_FILE, "spend regressor", m))?;
        for (file, h) in [
            (GROWTH_FILE, &growth.header),
            (SEGMENTS_FILE, &segments.header),
        ] {
            let s = &spend.header;
            if h.training_data != s.training_data || h.roles != s.roles || h.settings != s.settings
            {
                return Err(ModelError::Mixed {
                    dir: dir.to_path_buf(),
                    message: format!(
                        "{file} and {SPEND_FILE} differ in training data, roles or settings (training data SHA-256 {} against {})",
                        h.training_data.sha256, s.training_data.sha256
                    ),
                });
            }
        }
        // Last, so a file whose structure is wrong is named for that: the content checksums.
        for file in [SPEND_FILE, GROWTH_FILE, SEGMENTS_FILE] {
            let path = dir.join(file);
            let bytes = std::fs::read(&path).map_err(|source| ModelError::Io {
                path: path.clone(),
                source,
            })?;
            verify_checksum(&path, &bytes)?;
        }
        Ok(ProductionModels {
            spend,
            growth,
            segments,
        })
    }
}

/// Reads one model file: JSON first (a syntax error names line and column), then the format
/// version (so a file of another version is named as such, whatever its fields), then the fields.
fn read<T: DeserializeOwned>(path: &Path, what: &'static str) -> Result<T, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| ModelError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let version = value.get("header").and_then(|h| h.get("format_version"));
    if version.and_then(serde_json::Value::as_u64) != Some(u64::from(FORMAT_VERSION)) {
        return Err(ModelError::Version {
            path: path.to_path_buf(),
            found: version.map_or_else(|| "(none)".to_string(), |v| v.to_string()),
            expected: FORMAT_VERSION,
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| ModelError::Invalid {
        path: path.to_path_buf(),
        what,
        message: e.to_string(),
    })
}
