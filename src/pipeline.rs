//! The whole job in library form: load → analyse → plot → render, producing an in-memory set of
//! [`Outputs`] that `build` writes atomically and `check` compares with what is committed.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::analysis;
use crate::data::{self, DataError, Dataset};
use crate::features;
use crate::findings::{FINDINGS_VERSION, Findings, RunProvenance};
use crate::models;
use crate::output::Outputs;
use crate::plot;
use crate::render::{self, RenderError, RenderOptions, Stamp};
use crate::settings::{Settings, SettingsError};
use crate::tracking::{self, RunRecord, TrackedRun, Tracking, TrackingError};

/// The bundled data file, relative to the project root.
pub const DEFAULT_DATA: &str = "data/customer_purchasing_behaviors.csv";
/// The default output folder.
pub const DEFAULT_OUT: &str = "report";

/// Errors of a build or check.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The input table was invalid or unreadable.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The settings were invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Rendering the README sections, report or slides failed.
    #[error("rendering failed")]
    Render(#[from] RenderError),
    /// A streamed build could not run (its temporary files, a table with gaps, a file that
    /// changed between its two reads).
    #[error("streamed build of '{path}' failed: {detail}")]
    Stream {
        /// The input table.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Writing an output failed.
    #[error("cannot write outputs under '{path}': {source}")]
    Write {
        /// The output folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What to build and where.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The input table (CSV, or Parquet by its `.parquet` name or `PAR1` magic bytes).
    pub data: PathBuf,
    /// Output folder for findings, figures, report and slides.
    pub out_dir: PathBuf,
    /// README whose generated sections are refreshed (`None`: leave every README alone).
    pub readme: Option<PathBuf>,
    /// A folder of templates overriding the built-in ones.
    pub templates: Option<PathBuf>,
    /// The settings.
    pub settings: Settings,
    /// Where the run is recorded after the outputs are written (default: the local run log).
    pub tracking: Tracking,
    /// Build date and git commit for the provenance footer; `None` (the default) keeps outputs
    /// independent of the commit so committed outputs never go stale (see [`Stamp::from_env`]).
    pub stamp: Option<Stamp>,
    /// Above this many rows (judged by [`crate::stream::estimate_rows`] without loading the
    /// table) the build is streamed in chunks instead of loading the table whole
    /// ([`crate::stream`]); default [`crate::stream::DEFAULT_STREAM_ABOVE_ROWS`].
    pub stream_above_rows: usize,
    /// Rows per chunk of a streamed build.
    pub stream_chunk_rows: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            data: PathBuf::from(DEFAULT_DATA),
            out_dir: PathBuf::from(DEFAULT_OUT),
            readme: Some(PathBuf::from("README.md")),
            templates: None,
            settings: Settings::default(),
            tracking: Tracking::Local(PathBuf::from(tracking::DEFAULT_LOCAL_DIR)),
            stamp: None,
            stream_above_rows: crate::stream::DEFAULT_STREAM_ABOVE_ROWS,
            stream_chunk_rows: crate::stream::DEFAULT_CHUNK_ROWS,
        }
    }
}

/// The EDA and the feature step alone, on the rows [`analyze`] gives them (a table with gaps:
/// its rows without gaps), so their findings equal `analyze`'s `eda` and `features` field for
/// field. For a notebook that shows the EDA figures and alerts without waiting for the models.
///
/// ```
/// use customer_intel::{data, pipeline, settings::Settings};
/// let ds = data::synth(200, 3, &data::SynthSpec::default());
/// let s = Settings::default();
/// let (eda, features) = pipeline::eda_and_features(&ds, &s);
/// let all = pipeline::analyze(&ds, &s);
/// assert_eq!(eda, all.eda);
/// assert_eq!(features, all.features);
/// ```
pub fn eda_and_features(
    ds: &Dataset,
    settings: &Settings,
) -> (analysis::eda::EdaFindings, features::FeatureFindings) {
    let views = data::Views::new(ds, &settings.data);
    let ds: &Dataset = &views.complete;
    (
        analysis::eda::run(ds, settings),
        features::run(ds, settings),
    )
}

/// The noise sweep alone, equal to `analyze(ds, settings).robustness`: the regression,
/// classification and segmentation run beside each other (on the rows [`analyze`] gives them)
/// only to name the winners the sweep re-scores, and the EDA, the features and the drift
/// simulation are skipped. For a notebook that shows the sweep without waiting for the rest.
///
/// ```
/// use customer_intel::{data, pipeline, settings::Settings};
/// let ds = data::synth(200, 3, &data::SynthSpec::default());
/// let s = Settings::default();
/// assert_eq!(pipeline::robustness(&ds, &s), pipeline::analyze(&ds, &s).robustness);
/// ```
pub fn robustness(ds: &Dataset, settings: &Settings) -> analysis::robustness::RobustnessFindings {
    let views = data::Views::new(ds, &settings.data);
    let (reg_ds, ds): (&Dataset, &Dataset) = (&views.regression, &views.complete);
    let (regression, (classification, segmentation)) = crate::par::join(
        || analysis::regression::run(reg_ds, settings),
        || {
            crate::par::join(
                || analysis::classification::run(ds, settings),
                || analysis::segmentation::run(ds, settings),
            )
        },
    );
    let upstream =
        analysis::robustness::Upstream::from_findings(&regression, &classification, &segmentation);
    analysis::robustness::run(ds, settings, &upstream)
}

/// Runs every analysis on a dataset.
///
/// ```
/// use customer_intel::{data, pipeline, settings::Settings};
/// let ds = data::synth(300, 1, &data::SynthSpec::default());
/// let f = pipeline::analyze(&ds, &Settings::default());
/// assert_eq!(f.dataset.rows, 300);
/// ```
pub fn analyze(ds: &Dataset, settings: &Settings) -> Findings {
    analyze_timed(ds, settings, &mut |_, _| {})
}

/// [`analyze`], reporting each stage's name and duration to `timed` (used by `report bench`).
pub fn analyze_timed(
    ds: &Dataset,
    settings: &Settings,
    timed: &mut dyn FnMut(&str, std::time::Duration),
) -> Findings {
    // Each analysis is seeded on its own, so the findings do not depend on the threads.
    // Stage times are each analysis' own elapsed time (they overlap).
    fn clock<R>(f: impl FnOnce() -> R) -> (R, std::time::Duration) {
        let t = std::time::Instant::now();
        let r = f();
        (r, t.elapsed())
    }
    // The missing-value policy decides each analysis' rows (see `data::Views`); a table without
    // gaps is analysed whole by every analysis.
    let views = data::Views::new(ds, &settings.data);
    let full = ds;
    let (reg_ds, ds): (&Dataset, &Dataset) = (&views.regression, &views.complete);
    // Phase 1: every analysis that needs only the table runs beside the others (classification
    // and segmentation also spread their own fits over the cores), so the single-threaded passes
    // over every row (EDA, features) overlap the capped analyses' work instead of waiting for it.
    // Phase 2: the noise sweep, which needs their winners, beside the drift simulation.
    let ((regression, t_reg), (eda_features, (classification, segmentation))) = crate::par::join(
        || clock(|| analysis::regression::run(reg_ds, settings)),
        || {
            crate::par::join(
                || {
                    clock(|| {
                        (
                            analysis::eda::run(ds, settings),
                            features::run(ds, settings),
                        )
                    })
                },
                || {
                    crate::par::join(
                        || clock(|| analysis::classification::run(ds, settings)),
                        || clock(|| analysis::segmentation::run(ds, settings)),
                    )
                },
            )
        },
    );
    let (((eda, features), t_eda), (classification, t_cls), (segmentation, t_seg)) =
        (eda_features, classification, segmentation);
    timed("eda and features", t_eda);
    timed("regression", t_reg);
    timed("classification", t_cls);
    timed("segmentation", t_seg);
    let upstream =
        analysis::robustness::Upstream::from_findings(&regression, &classification, &segmentation);
    let ((robustness, t_rob), (drift, t_drift)) = crate::par::join(
        || clock(|| analysis::robustness::run(ds, settings, &upstream)),
        || clock(|| analysis::drift::run(ds, settings)),
    );
    timed("robustness", t_rob);
    timed("drift", t_drift);
    Findings {
        findings_version: FINDINGS_VERSION,
        provenance: RunProvenance {
            data: full.provenance.clone(),
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            seed: settings.seed,
            settings: settings.clone(),
        },
        dataset: {
            let mut profile = full.profile();
            profile.missing = views.profile;
            profile
        },
        eda,
        features,
        regression,
        classification,
        segmentation,
        robustness,
        drift,
    }
}

/// Renders every output file of a build into memory: `findings.json`, `figures/*.svg`, `figures/slides/*.svg`,
/// `index.html` and `slides.html` under the output folder, and the README (when
/// [`BuildOptions::readme`] names one) with its generated sections refreshed.
pub fn outputs(findings: &Findings, opts: &BuildOptions) -> Result<Outputs, PipelineError> {
    outputs_parsed(
        findings,
        opts,
        render::parse_templates(&render_options(opts)),
    )
}

/// How `opts` asks for rendering: its templates, the figure links seen from its README, its stamp.
fn render_options(opts: &BuildOptions) -> RenderOptions {
    let figures_dir = opts.out_dir.join("figures");
    let figure_base = match &opts.readme {
        Some(readme) => render::relative_link(readme, &figures_dir),
        None => "figures".to_string(),
    };
    RenderOptions {
        templates: opts.templates.clone(),
        figure_base,
        stamp: opts.stamp.clone(),
    }
}

/// [`outputs`] with the templates already parsed (or their parse error, reported where
/// [`outputs`] would report it) by [`render::parse_templates`] for [`render_options`]`(opts)`.
fn outputs_parsed(
    findings: &Findings,
    opts: &BuildOptions,
    engine: Result<render::templates::Engine, render::RenderError>,
) -> Result<Outputs, PipelineError> {
    let mut out = Outputs::default();
    out.insert(opts.out_dir.join("findings.json"), findings.to_json());
    let figures = plot::all(findings);
    for fig in &figures {
        out.insert(
            opts.out_dir.join("figures").join(&fig.name),
            fig.svg.clone(),
        );
    }
    let slide_figures = plot::slides::all(findings);
    for fig in &slide_figures {
        out.insert(
            opts.out_dir.join("figures").join("slides").join(&fig.name),
            fig.svg.clone(),
        );
    }
    let ropts = render_options(opts);
    let rendered = render::render_parsed(engine?, findings, &figures, &slide_figures, &ropts)?;
    out.insert(opts.out_dir.join("index.html"), rendered.report_html);
    out.insert(opts.out_dir.join("slides.html"), rendered.slides_html);
    if let Some(readme) = &opts.readme {
        out.insert(
            readme.clone(),
            render::splice_readme(readme, &rendered.sections)?,
        );
    }
    Ok(out)
}

/// What a build did.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    /// The findings computed.
    pub findings: Findings,
    /// Every file the build is responsible for.
    pub files: Vec<PathBuf>,
    /// How recording the run went: `Ok(None)` with tracking off. A tracking failure does not
    /// fail the build (the outputs are written); callers report it.
    pub tracking: Result<Option<TrackedRun>, TrackingError>,
}

/// Loads, analyses, renders and writes, then records the run at `opts.tracking`. Nothing is
/// written unless every step succeeded; a tracking failure leaves the written outputs in place
/// and is returned in [`BuildSummary::tracking`].
pub fn build(
    opts: &BuildOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<BuildSummary, PipelineError> {
    let (findings, out) = render_all(opts, progress)?;
    let write_error = |source| PipelineError::Write {
        path: opts.out_dir.clone(),
        source,
    };
    // One build at a time per output folder: concurrent builds take turns, so the folder never
    // mixes their files. Under the lock, temporary files an interrupted build left are stale.
    let lock = crate::output::OutputLock::acquire(&opts.out_dir, progress).map_err(write_error)?;
    out.remove_stale_temporaries().map_err(write_error)?;
    progress("writing outputs");
    out.write().map_err(write_error)?;
    remove_superseded_models(&out, &opts.out_dir).map_err(write_error)?;
    drop(lock);
    let files: Vec<PathBuf> = out.files.keys().cloned().collect();
    if opts.tracking != Tracking::Off {
        progress("recording the run");
    }
    let record = RunRecord::new(&findings, &files, &opts.out_dir);
    let tracking = tracking::track(&opts.tracking, &record);
    Ok(BuildSummary {
        findings,
        files,
        tracking,
    })
}

/// Renders everything in memory and lists the files on disk that differ (stale or missing).
pub fn check(
    opts: &BuildOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<PathBuf>, PipelineError> {
    let (_, out) = render_all(opts, progress)?;
    Ok(out.stale())
}

fn render_all(
    opts: &BuildOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<(Findings, Outputs), PipelineError> {
    opts.settings.check()?;
    if let Some(reason) = crate::stream::stream_reason(opts) {
        return crate::stream::render_all(opts, reason, progress);
    }
    progress("loading and validating data");
    let ds = data::load_with(&opts.data, &opts.settings.roles, &opts.settings.data)?;
    progress("running analyses");
    // The templates need no findings: they are parsed while the analyses run.
    let (engine, findings) = crate::par::join(
        || render::parse_templates(&render_options(opts)),
        || analyze(&ds, &opts.settings),
    );
    progress("fitting the production models, rendering figures and reports");
    // Independent: the models read the data and findings, rendering reads the findings.
    let (models, out) = crate::par::join(
        || models::fit(&ds, &opts.settings, &findings),
        || outputs_parsed(&findings, opts, engine),
    );
    let mut out = out?;
    insert_models(&mut out, &models, &opts.out_dir);
    Ok((findings, out))
}

/// Removes what an earlier build left in the models folder that this build replaced: the model
/// files when this build could not fit models (so no stale model is ever scored with), or the
/// note saying why when it could.
fn remove_superseded_models(out: &Outputs, out_dir: &Path) -> std::io::Result<()> {
    let dir = out_dir.join(models::MODELS_DIR);
    let note = dir.join(models::NOT_SAVED_FILE);
    let stale: Vec<PathBuf> = if out.files.contains_key(&note) {
        [
            models::SPEND_FILE,
            models::GROWTH_FILE,
            models::SEGMENTS_FILE,
        ]
        .iter()
        .map(|f| dir.join(f))
        .collect()
    } else {
        vec![note]
    };
    for p in stale {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Adds the model files (or, when they could not be fitted, a note saying why) under
/// `out_dir/models/`.
pub fn insert_models(
    out: &mut Outputs,
    models: &Result<models::ProductionModels, models::ModelError>,
    out_dir: &Path,
) {
    let dir = out_dir.join(models::MODELS_DIR);
    match models {
        Ok(m) => {
            for (path, bytes) in m.files(&dir) {
                out.insert(path, bytes);
            }
        }
        Err(e) => out.insert(
            dir.join(models::NOT_SAVED_FILE),
            format!("The production models were not saved: {e}\n"),
        ),
    }
}

/// Loads and validates the input table only (no analysis), returning its profile. A file above
/// [`BuildOptions::stream_above_rows`] is read in chunks instead of whole ([`crate::stream::validate`]).
pub fn validate(opts: &BuildOptions) -> Result<crate::data::DatasetProfile, PipelineError> {
    opts.settings.check()?;
    if crate::stream::stream_reason(opts).is_some() {
        return crate::stream::validate(opts);
    }
    Ok(data::load_with(&opts.data, &opts.settings.roles, &opts.settings.data)?.profile())
}

/// Resolves a path against a base folder unless it is absolute.
pub fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
