//! Settings: the one seeded configuration that flows through every analysis, including the
//! column roles that let the platform run on any customer table, not only the bundled one (the
//! roles are the table's schema and live in [`crate::data::schema`]; they are re-exported here).
//!
//! Settings load from TOML (`--settings FILE`). Every struct is `#[serde(default, deny_unknown_fields)]`,
//! so an omitted key takes its documented default and a misspelt key is an error.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analysis::{
    classification::ClassificationSettings, drift::DriftSettings, eda::EdaSettings,
    regression::RegressionSettings, robustness::RobustnessSettings,
    segmentation::SegmentationSettings,
};
use crate::features::FeatureSettings;

pub use crate::data::missing::{MissingPolicy, MissingSettings};
pub use crate::data::schema::{ColumnRange, Roles, SchemaError};

/// Errors raised while reading or checking a settings file.
#[derive(Debug, Error)]
pub enum SettingsError {
    /// The file could not be read.
    #[error("cannot read settings file '{path}': {source}")]
    Io {
        /// The settings file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The TOML was malformed or had an unknown key.
    #[error("settings file '{path}' is invalid: {message}")]
    Parse {
        /// The settings file.
        path: PathBuf,
        /// What the TOML parser said (it names the line, column and key).
        message: String,
    },
    /// The settings parsed but contradict each other.
    #[error("settings are inconsistent: {0}")]
    Invalid(String),
    /// A value lies outside its allowed range (see [`crate::bounds`]).
    #[error("settings key `{key}` = {value} is out of range: expected {allowed}")]
    OutOfRange {
        /// The dotted settings key, e.g. `regression.inner_folds`.
        key: String,
        /// The value given, as written back.
        value: String,
        /// The allowed range in words.
        allowed: String,
    },
    /// The column roles contradict each other.
    #[error("settings are inconsistent: {0}")]
    Schema(#[from] SchemaError),
}

/// Everything that parameterises a run. Same data + same settings = same bytes out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Master seed; every random step derives its own stream from it (see [`crate::rng`]).
    pub seed: u64,
    /// Number of cross-validation folds.
    pub folds: usize,
    /// Number of repeats of a repeated cross-validation.
    pub repeats: usize,
    /// Above this many rows, work that is quadratic or worse in rows runs on a seeded sample of
    /// this size, and the findings say so.
    pub sample_cap: usize,
    /// Column roles.
    pub roles: Roles,
    /// Missing values: what counts as a gap and what a run does with gaps (`[data]`).
    pub data: MissingSettings,
    /// EDA thresholds.
    pub eda: EdaSettings,
    /// Feature engineering.
    pub features: FeatureSettings,
    /// Spend regression.
    pub regression: RegressionSettings,
    /// Growth-potential classification.
    pub classification: ClassificationSettings,
    /// Segmentation.
    pub segmentation: SegmentationSettings,
    /// Noise sweeps.
    pub robustness: RobustnessSettings,
    /// Drift and retraining simulation.
    pub drift: DriftSettings,
    /// Title and authorship of the report and the deck's title slide.
    pub report: ReportSettings,
}

/// `[report]`: who the report and the slides are by. Free text, shown as written (HTML-escaped);
/// an empty field is left off the title slide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// Title of the deck's title slide.
    pub title: String,
    /// Line under the title; empty: "Honest answers from N customer rows".
    pub subtitle: String,
    /// Authors, in order (at most [`ReportSettings::MAX_AUTHORS`]).
    pub authors: Vec<String>,
    /// Course, if the report is a hand-in.
    pub course: String,
    /// Organisation or institution.
    pub organisation: String,
}

impl ReportSettings {
    /// More authors than this do not fit a title slide.
    pub const MAX_AUTHORS: usize = 12;
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            title: "Customer intelligence".into(),
            subtitle: String::new(),
            authors: Vec::new(),
            course: String::new(),
            organisation: String::new(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            seed: 42,
            folds: 5,
            repeats: 3,
            sample_cap: 5_000,
            roles: Roles::default(),
            data: MissingSettings::default(),
            eda: EdaSettings::default(),
            features: FeatureSettings::default(),
            regression: RegressionSettings::default(),
            classification: ClassificationSettings::default(),
            segmentation: SegmentationSettings::default(),
            robustness: RobustnessSettings::default(),
            drift: DriftSettings::default(),
            report: ReportSettings::default(),
        }
    }
}

impl Settings {
    /// Parses settings from TOML text; `origin` names the source in error messages.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Settings, SettingsError> {
        let settings: Settings = toml::from_str(text).map_err(|e| SettingsError::Parse {
            path: origin.to_path_buf(),
            message: e.to_string().trim().to_string(),
        })?;
        settings.check()?;
        Ok(settings)
    }

    /// Reads and checks a TOML settings file.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Settings::from_toml(&text, path)
    }

    /// Checks every value (global keys here, each analysis' table through the registry, then
    /// the roles); a value out of range is named with its key, the value and the allowed range.
    pub fn check(&self) -> Result<(), SettingsError> {
        crate::bounds::count("folds", self.folds, 2, 50)?;
        crate::bounds::count("repeats", self.repeats, 1, 100)?;
        crate::bounds::count("sample_cap", self.sample_cap, 100, 10_000_000)?;
        self.data.check()?;
        crate::bounds::count(
            "report.authors (number of authors)",
            self.report.authors.len(),
            0,
            ReportSettings::MAX_AUTHORS,
        )?;
        crate::analysis::check_settings(self)?;
        Ok(self.roles.check()?)
    }

    /// The settings as TOML text (what `data/settings.toml` holds for the bundled data).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("settings always serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml() {
        let s = Settings::default();
        let back = Settings::from_toml(&s.to_toml(), Path::new("x.toml")).unwrap();
        assert_eq!(s, back);
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let err = Settings::from_toml("seed = 1\nfoldz = 3\n", Path::new("s.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("s.toml") && msg.contains("foldz"), "{msg}");
    }

    #[test]
    fn omitted_keys_take_defaults() {
        let s = Settings::from_toml("seed = 7\n", Path::new("s.toml")).unwrap();
        assert_eq!(s.seed, 7);
        assert_eq!(s.folds, 5);
        assert_eq!(s.roles, Roles::default());
    }

    #[test]
    fn report_table_sets_authorship_and_limits_authors() {
        let s = Settings::from_toml(
            "[report]\ntitle = \"Spend study\"\nauthors = [\"A. Author\", \"B. Author\"]\ncourse = \"ML 101\"\n",
            Path::new("s.toml"),
        )
        .unwrap();
        assert_eq!(s.report.title, "Spend study");
        assert_eq!(s.report.authors, ["A. Author", "B. Author"]);
        assert_eq!(s.report.organisation, "");
        let many = format!("[report]\nauthors = [{}]\n", vec!["\"x\""; 13].join(", "));
        let e = Settings::from_toml(&many, Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("report.authors") && e.contains("13") && e.contains("0 to 12"),
            "{e}"
        );
        let e = Settings::from_toml("[report]\nauthor = \"x\"\n", Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("author"), "{e}");
    }

    #[test]
    fn inconsistent_roles_are_rejected() {
        let mut s = Settings::default();
        s.roles.demographic.push("shoe_size".into());
        assert!(s.check().unwrap_err().to_string().contains("shoe_size"));
        let mut s = Settings::default();
        s.folds = 1;
        assert!(s.check().is_err());
    }
}

#[cfg(test)]
mod bundled_file_tests {
    use super::*;

    /// The committed settings file describes the bundled data: it must equal the defaults.
    #[test]
    fn committed_settings_file_equals_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/settings.toml");
        let s = Settings::load(&path).unwrap();
        assert_eq!(s, Settings::default());
    }
}
