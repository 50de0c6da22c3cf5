//! Scoring new customers with the saved production models ([`crate::models`]): `report score`.
//!
//! The input is validated by the same loader, rules and errors as `report build`
//! ([`crate::data::load_with_roles`]), with one difference: the spend target column may be absent
//! (new customers have no spend yet; [`Roles::target_optional`]). When present it is validated as
//! usual and used where spend is a segmentation feature; when absent the predicted spend is used
//! there instead. The input may be CSV or Parquet. Gaps are accepted only when the models were
//! built with `data.missing = "impute"`: they are then filled with the models' saved imputation
//! ([`crate::models::Imputation`]); otherwise every gap is refused, naming its line and column.
//!
//! Before scoring, every model file's roles are compared with the roles of the input's settings
//! (id, target, numeric, demographic, category, category levels, label inputs; validation ranges,
//! units and id aliases only affect validation and display and are not compared), and each
//! model's input columns must be columns of the table. Any difference is refused with a message
//! naming the file and what differs.
//!
//! The output is a CSV with one row per customer, in input order: the id, the predicted spend and
//! its interval ([`crate::models::SpendInterval`]), the growth-potential probability and flag (at
//! the saved threshold), the segment, persona and action. It is written to a temporary file and
//! renamed into place, so a failed run leaves an existing output untouched.
//!
//! The scoring core ([`score_dataset`]) scores any [`Dataset`], so a caller can score a large
//! table chunk by chunk and append each chunk with [`ScoreWriter::write`].

use std::ops::Range;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, CsvWriter, DataFrame, IntoColumn, NamedFrom, SerWriter, Series};
use thiserror::Error;

use crate::data::{self, DataError, Dataset};
use crate::ml::regressors::Matrix;
use crate::models::{InputColumn, ModelError, ModelHeader, ProductionModels};
use crate::output::AtomicFile;
use crate::settings::{Roles, Settings, SettingsError};

/// Errors of `report score`.
#[derive(Debug, Error)]
pub enum ScoreError {
    /// The settings were invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The input table was invalid or unreadable.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A model file was missing, corrupted or of another version.
    #[error(transparent)]
    Models(#[from] ModelError),
    /// A model was trained with other column roles than the input's settings describe.
    #[error("model file '{path}' does not match the input: {}", differences.join("; "))]
    Mismatch {
        /// The model file.
        path: PathBuf,
        /// Each difference, in words.
        differences: Vec<String>,
    },
    /// The output would overwrite the input.
    #[error("the output '{0}' is the input file; choose another --out")]
    OutputIsInput(PathBuf),
    /// Writing the output failed.
    #[error("cannot write scores to '{path}': {message}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// What to score, with which models, and where to write.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// The customer table to score.
    pub input: PathBuf,
    /// The folder of model files (`report/models` by default).
    pub models: PathBuf,
    /// The output CSV.
    pub out: PathBuf,
    /// The settings whose roles describe the input.
    pub settings: Settings,
}

/// The default output path for an input: `NAME.scores.csv` beside `NAME.csv`.
pub fn default_output(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    input.with_file_name(format!("{stem}.scores.csv"))
}

/// What a scoring run did.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSummary {
    /// Customers scored.
    pub rows: usize,
    /// Customers flagged with growth potential.
    pub flagged: usize,
    /// Whether the input had the spend column.
    pub had_target: bool,
    /// The output file.
    pub out: PathBuf,
    /// The input's drift against the training data ([`crate::drift`]).
    pub drift: crate::drift::DriftReport,
}

/// The scores of a table, column by column, in row order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// Customer ids.
    pub ids: Vec<String>,
    /// Predicted spend.
    pub predicted: Vec<f64>,
    /// Lower bound of the spend interval.
    pub lower: Vec<f64>,
    /// Upper bound of the spend interval.
    pub upper: Vec<f64>,
    /// Growth-potential probability.
    pub probability: Vec<f64>,
    /// Growth-potential flag (`probability >= threshold`).
    pub flag: Vec<bool>,
    /// Segment (cluster label).
    pub segment: Vec<usize>,
}

/// The role fields a model depends on, compared between a model file and the input's settings.
fn role_differences(model: &Roles, input: &Roles) -> Vec<String> {
    let fields = |r: &Roles| {
        [
            ("id", format!("{:?}", r.id)),
            ("target", format!("{:?}", r.target)),
            ("numeric", format!("{:?}", r.numeric)),
            ("demographic", format!("{:?}", r.demographic)),
            ("category", format!("{:?}", r.category)),
            ("category_levels", format!("{:?}", r.category_levels)),
            ("label_inputs", format!("{:?}", r.label_inputs)),
        ]
    };
    fields(model)
        .into_iter()
        .zip(fields(input))
        .filter(|((_, a), (_, b))| a != b)
        .map(|((name, a), (_, b))| {
            format!("roles.{name} is {a} in the model but {b} in the input's settings")
        })
        .collect()
}

/// Refuses models trained with other roles than `roles` (the input's settings).
pub fn check_roles(models: &ProductionModels, dir: &Path, roles: &Roles) -> Result<(), ScoreError> {
    for (file, h) in headers(models) {
        let differences = role_differences(&h.roles, roles);
        if !differences.is_empty() {
            return Err(ScoreError::Mismatch {
                path: dir.join(file),
                differences,
            });
        }
    }
    Ok(())
}

fn headers(models: &ProductionModels) -> [(&'static str, &ModelHeader); 3] {
    [
        (crate::models::SPEND_FILE, &models.spend.header),
        (crate::models::GROWTH_FILE, &models.growth.header),
        (crate::models::SEGMENTS_FILE, &models.segments.header),
    ]
}

/// Checks that every model input is a column of the table (the target may stand in for itself
/// by its prediction when the table lacks it).
fn check_columns(models: &ProductionModels, dir: &Path, ds: &Dataset) -> Result<(), ScoreError> {
    for (file, h) in headers(models) {
        let mut differences = Vec::new();
        for input in &h.inputs {
            match input {
                InputColumn::Value(c) => {
                    if !ds.numeric.contains_key(c) && *c != ds.roles.target {
                        differences.push(format!(
                            "the model reads numeric column '{c}', which the input's roles do not have"
                        ));
                    }
                }
                InputColumn::Indicator { column, level } => {
                    if *column != ds.roles.category || !ds.roles.category_levels.contains(level) {
                        differences.push(format!(
                            "the model reads level '{level}' of category column '{column}', which the input's roles do not have"
                        ));
                    }
                }
            }
        }
        if !differences.is_empty() {
            return Err(ScoreError::Mismatch {
                path: dir.join(file),
                differences,
            });
        }
    }
    Ok(())
}

/// Rows scored at a time: bounds the memory scoring adds to the table's own.
pub const CHUNK_ROWS: usize = 1 << 16;

/// A numeric column of the table over `rows`, or the predicted spend of those rows when the
/// column is the absent target; `None` when neither is available.
fn column<'a>(
    ds: &'a Dataset,
    name: &str,
    rows: &Range<usize>,
    predicted: Option<&'a [f64]>,
) -> Option<&'a [f64]> {
    match ds.numeric.get(name) {
        Some(c) => c.get(rows.clone()),
        None => predicted,
    }
}

/// The encoded matrix of a model's inputs for `rows` of the table (a category value is first
/// mapped through the model's level merges, so a merged level is encoded as the level it joined).
/// A column the table lacks (a model file that reads the absent spend where no prediction can
/// stand in) is refused naming the model file.
fn encode(
    header: &ModelHeader,
    ds: &Dataset,
    rows: &Range<usize>,
    predicted: Option<&[f64]>,
    model_file: &Path,
) -> Result<Matrix, ScoreError> {
    let inputs = &header.inputs;
    let merges = &header.level_merges;
    let n = rows.len();
    let p = inputs.len();
    let mut data = vec![0.0; n * p];
    for (j, input) in inputs.iter().enumerate() {
        match input {
            InputColumn::Value(name) => {
                let values =
                    column(ds, name, rows, predicted).ok_or_else(|| ScoreError::Mismatch {
                        path: model_file.to_path_buf(),
                        differences: vec![format!(
                            "the model reads column '{name}', which the input does not have"
                        )],
                    })?;
                for (i, v) in values.iter().enumerate() {
                    // A gap left in the target (the only one imputation leaves) is placed
                    // with the predicted spend, as an absent target column is.
                    data[i * p + j] = match predicted {
                        Some(pr) if v.is_nan() => pr[i],
                        _ => *v,
                    };
                }
            }
            InputColumn::Indicator { level, .. } => {
                for (i, c) in ds.category[rows.clone()].iter().enumerate() {
                    data[i * p + j] = f64::from(u8::from(merges.apply(c) == level.as_str()));
                }
            }
        }
    }
    Ok(Matrix::new(n, p, data))
}

/// Scores every row of a dataset (whose roles the caller has checked against the models with
/// [`check_roles`]). Scores are row-independent and deterministic, so a table scored in chunks
/// (see [`score_rows`]) gives the same rows as scored whole.
pub fn score_dataset(
    models: &ProductionModels,
    dir: &Path,
    ds: &Dataset,
) -> Result<Scores, ScoreError> {
    score_rows(models, dir, ds, 0..ds.n_rows())
}

/// Scores the rows `rows` of a dataset.
pub fn score_rows(
    models: &ProductionModels,
    dir: &Path,
    ds: &Dataset,
    rows: Range<usize>,
) -> Result<Scores, ScoreError> {
    check_columns(models, dir, ds)?;
    let filled;
    let ds = match &models.spend.header.imputation {
        Some(imp) if ds.has_gaps() => {
            filled = fill_gaps(ds, imp);
            &filled
        }
        _ => ds,
    };
    let spend = &models.spend;
    let file = |name: &str| dir.join(name);
    let x = encode(
        &spend.header,
        ds,
        &rows,
        None,
        &file(crate::models::SPEND_FILE),
    )?;
    let predicted = spend
        .fitted
        .try_predict(&x)
        .map_err(|message| ModelError::Invalid {
            path: dir.join(crate::models::SPEND_FILE),
            what: "spend regressor",
            message,
        })?;
    let (lower, upper): (Vec<f64>, Vec<f64>) =
        predicted.iter().map(|&p| spend.interval.bounds(p)).unzip();

    let growth = &models.growth.classifier;
    let xg = encode(
        &models.growth.header,
        ds,
        &rows,
        None,
        &file(crate::models::GROWTH_FILE),
    )?;
    let probability: Vec<f64> = (0..rows.len())
        .map(|i| growth.fitted.probability(xg.row(i)))
        .collect();
    let flag = probability.iter().map(|&p| p >= growth.threshold).collect();

    let seg = &models.segments.segments;
    let xs = encode(
        &models.segments.header,
        ds,
        &rows,
        Some(&predicted),
        &file(crate::models::SEGMENTS_FILE),
    )?;
    let mut z = Vec::with_capacity(seg.features.len());
    let segment = (0..rows.len())
        .map(|i| seg.assign(xs.row(i), &mut z))
        .collect();
    Ok(Scores {
        ids: ds.ids[rows].to_vec(),
        predicted,
        lower,
        upper,
        probability,
        flag,
        segment,
    })
}

/// A copy of `ds` with its feature gaps filled by the models' imputation (the target's gaps are
/// left for the predicted spend).
fn fill_gaps(ds: &Dataset, imp: &crate::models::Imputation) -> Dataset {
    let mut out = ds.clone();
    for (c, m) in &imp.numeric {
        if let Some(v) = out.numeric.get_mut(c) {
            v.iter_mut().filter(|x| x.is_nan()).for_each(|x| *x = *m);
        }
    }
    if let Some(level) = &imp.category {
        out.category
            .iter_mut()
            .filter(|c| c.is_empty())
            .for_each(|c| *c = level.clone());
    }
    out
}

/// Names of the output columns, from the models' roles.
pub fn output_columns(models: &ProductionModels, id_column: &str) -> Vec<String> {
    let target = &models.spend.header.roles.target;
    let level = format!("{:.0}", 100.0 * models.spend.interval.level);
    let label = &models.growth.label;
    vec![
        id_column.to_string(),
        format!("predicted_{target}"),
        format!("{target}_lower_{level}"),
        format!("{target}_upper_{level}"),
        format!("{label}_probability"),
        label.clone(),
        "segment".into(),
        "persona".into(),
        "action".into(),
    ]
}

/// The scores as a frame with the given column names ([`output_columns`]).
fn scores_frame(
    models: &ProductionModels,
    c: &[String],
    scores: &Scores,
) -> Result<DataFrame, String> {
    let seg = &models.segments.segments;
    let col = |i: usize, s: Series| -> Column { s.with_name(c[i].as_str().into()).into_column() };
    let personas: Vec<&str> = scores
        .segment
        .iter()
        .map(|&k| seg.personas[k].as_str())
        .collect();
    let actions: Vec<&str> = scores
        .segment
        .iter()
        .map(|&k| seg.actions[k].as_str())
        .collect();
    let segments: Vec<u32> = scores.segment.iter().map(|&k| k as u32).collect();
    DataFrame::new(
        scores.ids.len(),
        vec![
            col(0, Series::new("".into(), &scores.ids)),
            col(1, Series::new("".into(), &scores.predicted)),
            col(2, Series::new("".into(), &scores.lower)),
            col(3, Series::new("".into(), &scores.upper)),
            col(4, Series::new("".into(), &scores.probability)),
            col(5, Series::new("".into(), &scores.flag)),
            col(6, Series::new("".into(), &segments)),
            col(7, Series::new("".into(), &personas)),
            col(8, Series::new("".into(), &actions)),
        ],
    )
    .map_err(|e| e.to_string())
}

/// The scores as CSV bytes, byte for byte what `report score` writes for the same rows.
pub fn csv_bytes(
    models: &ProductionModels,
    id_column: &str,
    scores: &Scores,
) -> Result<Vec<u8>, String> {
    let mut frame = scores_frame(models, &output_columns(models, id_column), scores)?;
    let mut out = Vec::new();
    CsvWriter::new(&mut out)
        .include_header(true)
        .finish(&mut frame)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Writes scores as CSV (polars' CSV writer; the header once, then each chunk as it comes) into
/// a temporary file that replaces the output on [`ScoreWriter::finish`].
pub struct ScoreWriter {
    file: AtomicFile,
    columns: Vec<String>,
    path: PathBuf,
    header_written: bool,
}

impl ScoreWriter {
    /// Starts an output file with the given column names ([`output_columns`]).
    pub fn create(path: &Path, columns: Vec<String>) -> Result<ScoreWriter, ScoreError> {
        let file = AtomicFile::create(path).map_err(|e| ScoreError::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(ScoreWriter {
            file,
            columns,
            path: path.to_path_buf(),
            header_written: false,
        })
    }

    /// Appends the scores of one table or chunk.
    pub fn write(&mut self, models: &ProductionModels, scores: &Scores) -> Result<(), ScoreError> {
        let mut frame = scores_frame(models, &self.columns, scores).map_err(|e| self.error(e))?;
        let header = !self.header_written;
        CsvWriter::new(&mut self.file)
            .include_header(header)
            .finish(&mut frame)
            .map_err(|e| self.error(e.to_string()))?;
        self.header_written = true;
        Ok(())
    }

    fn error(&self, message: String) -> ScoreError {
        ScoreError::Write {
            path: self.path.clone(),
            message,
        }
    }

    /// Renames the finished CSV into place.
    pub fn finish(self) -> Result<(), ScoreError> {
        let path = self.path.clone();
        self.file.commit().map_err(|e| ScoreError::Write {
            path,
            message: e.to_string(),
        })
    }
}

/// Loads the models and the input, checks that they match, scores every customer and writes
/// the output atomically.
pub fn score(opts: &ScoreOptions) -> Result<ScoreSummary, ScoreError> {
    opts.settings.check()?;
    if opts.out.exists()
        && opts.input.exists()
        && std::fs::canonicalize(&opts.out).ok() == std::fs::canonicalize(&opts.input).ok()
    {
        return Err(ScoreError::OutputIsInput(opts.out.clone()));
    }
    if !opts.input.exists() {
        return Err(DataError::NotFound {
            path: opts.input.clone(),
        }
        .into());
    }
    let models = ProductionModels::load(&opts.models)?;
    check_roles(&models, &opts.models, &opts.settings.roles)?;
    let mut roles = opts.settings.roles.clone();
    roles.target_optional = true;
    // Gaps are accepted only when the models carry their imputation (built with
    // `data.missing = "impute"`); what counts as a gap is the input's settings' choice.
    let missing = crate::settings::MissingSettings {
        missing: if models.spend.header.imputation.is_some() {
            crate::settings::MissingPolicy::Impute
        } else {
            crate::settings::MissingPolicy::Reject
        },
        ..opts.settings.data.clone()
    };
    // The input streams through in chunks of CHUNK_ROWS rows (data::chunks: the same rules and
    // messages as a whole-file load, absolute line numbers, ids unique across the file), so
    // memory stays bounded whatever the file's size. A rule broken in a later chunk stops the
    // run before anything is renamed into place; that chunk's violations are reported.
    let mut writer: Option<ScoreWriter> = None;
    let (mut flagged, mut n, mut had_target) = (0, 0, false);
    // The drift check needs every value of the numeric columns (8 bytes per value, kept beside
    // the chunks) and the count of each training level of the category.
    let profile = &models.spend.training_profile;
    let mut numeric: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let mut level_counts = vec![0; profile.category.levels.len()];
    for chunk in data::chunks_with(&opts.input, &roles, &missing, CHUNK_ROWS)? {
        let ds = chunk?;
        if writer.is_none() {
            had_target = ds.has_target();
            writer = Some(ScoreWriter::create(
                &opts.out,
                output_columns(&models, &ds.roles.id),
            )?);
        }
        let scores = score_rows(&models, &opts.models, &ds, 0..ds.n_rows())?;
        flagged += scores.flag.iter().filter(|&&f| f).count();
        for (c, v) in &ds.numeric {
            numeric.entry(c.clone()).or_default().extend_from_slice(v);
        }
        crate::drift::count_levels(
            ds.category.iter().map(String::as_str),
            &profile.category.levels,
            &mut level_counts,
        );
        n += ds.n_rows();
        writer
            .as_mut()
            .expect("created with the first chunk")
            .write(&models, &scores)?;
    }
    let Some(writer) = writer else {
        // No chunk at all: the whole-file loader names the problem (no rows, header only, ...).
        data::load_with(&opts.input, &roles, &missing)?;
        unreachable!("a table without rows does not load");
    };
    writer.finish()?;
    Ok(ScoreSummary {
        rows: n,
        flagged,
        had_target,
        out: opts.out.clone(),
        drift: crate::drift::compare_counted(profile, &numeric, &level_counts, n),
    })
}
