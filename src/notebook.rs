//! The inputs of the notebooks in `notebooks/`: which table and which settings they analyse.
//!
//! Every notebook's first step calls [`inputs`], so the same notebook runs on the bundled table
//! or on any other file with the same schema, with the default settings or a settings file,
//! without editing a cell: set [`DATA_VAR`] and/or [`SETTINGS_VAR`] before starting Jupyter (or
//! before `jupyter nbconvert --execute`). The test suite uses this to execute a notebook on a
//! synthetic table.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::data::{self, DataError, Dataset};
use crate::pipeline::DEFAULT_DATA;
use crate::settings::{Settings, SettingsError};

/// Environment variable naming the CSV file to analyse (default: the bundled table).
pub const DATA_VAR: &str = "CUSTOMER_INTEL_DATA";
/// Environment variable naming a settings file (TOML, the `report --settings` format; default:
/// the built-in settings).
pub const SETTINGS_VAR: &str = "CUSTOMER_INTEL_SETTINGS";

/// The notebook's inputs could not be read.
#[derive(Debug, Error)]
pub enum NotebookError {
    /// The settings file is unreadable or invalid.
    #[error("the settings file named by CUSTOMER_INTEL_SETTINGS: {0}")]
    Settings(#[from] SettingsError),
    /// The data file is unreadable or invalid.
    #[error("the data file (CUSTOMER_INTEL_DATA or the bundled table): {0}")]
    Data(#[from] DataError),
}

/// What a notebook analyses.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The data file read.
    pub data_path: PathBuf,
    /// Whether the data file came from [`DATA_VAR`] (else it is the bundled table).
    pub data_from_env: bool,
    /// The settings file read, if [`SETTINGS_VAR`] named one.
    pub settings_path: Option<PathBuf>,
    /// The settings (defaults unless a file was given).
    pub settings: Settings,
    /// The validated table.
    pub dataset: Dataset,
}

/// A path from the environment: absolute as given, relative to the project root otherwise.
fn from_env(var: &str, project_root: &Path) -> Option<PathBuf> {
    let raw = std::env::var_os(var).filter(|v| !v.is_empty())?;
    let p = PathBuf::from(raw);
    Some(if p.is_absolute() {
        p
    } else {
        project_root.join(p)
    })
}

/// Reads the settings ([`SETTINGS_VAR`], else the defaults) and the table ([`DATA_VAR`], else
/// the bundled table under `project_root`), validated with the settings' column roles. Relative
/// paths in the variables are taken from `project_root` (`..` for a notebook in `notebooks/`).
///
/// ```
/// use customer_intel::notebook;
/// let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
/// // Without the variables: the bundled table and the default settings.
/// if std::env::var_os(notebook::DATA_VAR).is_none() && std::env::var_os(notebook::SETTINGS_VAR).is_none() {
///     let inputs = notebook::inputs(root).unwrap();
///     assert_eq!(inputs.dataset.n_rows(), 238);
///     assert!(!inputs.data_from_env && inputs.settings_path.is_none());
/// }
/// ```
pub fn inputs(project_root: &Path) -> Result<Inputs, NotebookError> {
    let settings_path = from_env(SETTINGS_VAR, project_root);
    let settings = match &settings_path {
        Some(p) => Settings::load(p)?,
        None => Settings::default(),
    };
    let env_data = from_env(DATA_VAR, project_root);
    let data_from_env = env_data.is_some();
    let data_path = env_data.unwrap_or_else(|| project_root.join(DEFAULT_DATA));
    let dataset = data::load_with_roles(&data_path, &settings.roles)?;
    Ok(Inputs {
        data_path,
        data_from_env,
        settings_path,
        settings,
        dataset,
    })
}

impl Inputs {
    /// One line per input, for the notebook to show what it analyses.
    pub fn summary(&self) -> Vec<(String, String)> {
        let d = &self.dataset;
        vec![
            (
                "data".into(),
                format!(
                    "{}{}",
                    self.data_path.display(),
                    if self.data_from_env {
                        format!(" (from ${DATA_VAR})")
                    } else {
                        " (the bundled table)".into()
                    }
                ),
            ),
            (
                "rows".into(),
                format!(
                    "{} ({} distinct once the id is ignored)",
                    d.n_rows(),
                    d.n_groups
                ),
            ),
            (
                "sha256".into(),
                d.provenance.sha256.chars().take(16).collect(),
            ),
            (
                "settings".into(),
                match &self.settings_path {
                    Some(p) => format!("{} (from ${SETTINGS_VAR})", p.display()),
                    None => "built-in defaults".into(),
                },
            ),
            (
                "seed, folds, repeats".into(),
                format!(
                    "{}, {}, {}",
                    self.settings.seed, self.settings.folds, self.settings.repeats
                ),
            ),
        ]
    }
}
