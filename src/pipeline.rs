//! The whole job in library form: load → analyse → plot → render, producing an in-memory set of
//! [`Outputs`] that `build` writes atomically and `check` compares with what is committed.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::analysis;
use crate::data::{self, DataError, Dataset};
use crate::features;
use crate::findings::{FINDINGS_VERSION, Findings, RunProvenance};
use crate::output::Outputs;
use crate::plot;
use crate::settings::{Settings, SettingsError};

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
    /// Rendering a report file failed.
    #[error("rendering failed: {0}")]
    Render(String),
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
    /// The input CSV.
    pub data: PathBuf,
    /// Output folder for findings, figures, report and slides.
    pub out_dir: PathBuf,
    /// README whose generated sections are refreshed (`None`: leave every README alone).
    pub readme: Option<PathBuf>,
    /// A folder of templates overriding the built-in ones.
    pub templates: Option<PathBuf>,
    /// The settings.
    pub settings: Settings,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            data: PathBuf::from(DEFAULT_DATA),
            out_dir: PathBuf::from(DEFAULT_OUT),
            readme: Some(PathBuf::from("README.md")),
            templates: None,
            settings: Settings::default(),
        }
    }
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
    Findings {
        findings_version: FINDINGS_VERSION,
        provenance: RunProvenance {
            data: ds.provenance.clone(),
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            seed: settings.seed,
            settings: settings.clone(),
        },
        dataset: ds.profile(),
        eda: analysis::eda::run(ds, settings),
        features: features::run(ds, settings),
        regression: analysis::regression::run(ds, settings),
        classification: analysis::classification::run(ds, settings),
        segmentation: analysis::segmentation::run(ds, settings),
        robustness: analysis::robustness::run(ds, settings),
        drift: analysis::drift::run(ds, settings),
    }
}

/// Renders every output file of a build into memory.
pub fn outputs(findings: &Findings, opts: &BuildOptions) -> Result<Outputs, PipelineError> {
    let mut out = Outputs::default();
    out.insert(opts.out_dir.join("findings.json"), findings.to_json());
    for fig in plot::all(findings) {
        out.insert(opts.out_dir.join("figures").join(&fig.name), fig.svg);
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
}

/// Loads, analyses, renders and writes. Nothing is written unless every step succeeded.
pub fn build(
    opts: &BuildOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<BuildSummary, PipelineError> {
    let (findings, out) = render_all(opts, progress)?;
    progress("writing outputs");
    out.write().map_err(|source| PipelineError::Write {
        path: opts.out_dir.clone(),
        source,
    })?;
    Ok(BuildSummary {
        findings,
        files: out.files.keys().cloned().collect(),
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
    progress("loading and validating data");
    let ds = data::load_with_roles(&opts.data, &opts.settings.roles)?;
    progress("running analyses");
    let findings = analyze(&ds, &opts.settings);
    progress("rendering figures and reports");
    let out = outputs(&findings, opts)?;
    Ok((findings, out))
}

/// Resolves a path against a base folder unless it is absolute.
pub fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
