//! Settings: the one seeded configuration that flows through every analysis, and the column
//! roles that let the platform run on any customer table, not only the bundled one.
//!
//! Settings load from TOML (`--settings FILE`). Every struct is `#[serde(default, deny_unknown_fields)]`,
//! so an omitted key takes its documented default and a misspelt key is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analysis::{
    classification::ClassificationSettings, drift::DriftSettings, eda::EdaSettings,
    regression::RegressionSettings, robustness::RobustnessSettings,
    segmentation::SegmentationSettings,
};
use crate::features::FeatureSettings;

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
}

/// An allowed range for a numeric column; `None` leaves that side open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnRange {
    /// Smallest allowed value (inclusive).
    pub min: Option<f64>,
    /// Largest allowed value (inclusive).
    pub max: Option<f64>,
    /// Whether values must be whole numbers (`45` and `45.0` both pass, `45.5` does not).
    pub integer: bool,
}

impl Default for ColumnRange {
    fn default() -> Self {
        ColumnRange {
            min: Some(0.0),
            max: None,
            integer: false,
        }
    }
}

/// Which column plays which part in the analysis. Analyses ask for roles, never for literal
/// column names, so a table with other names runs with a different settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Roles {
    /// The customer identifier column; must be unique.
    pub id: String,
    /// Other accepted header names for the id column (the bundled schema accepts `customer_id`).
    pub id_aliases: Vec<String>,
    /// The spend target (the regression target, also an input of the growth-potential label).
    pub target: String,
    /// Numeric feature columns other than the target, in display order.
    pub numeric: Vec<String>,
    /// Numeric features known about a prospect before they buy (the "demographic" feature set
    /// and the only honest inputs of the growth-potential classifier, with the category).
    pub demographic: Vec<String>,
    /// The categorical grouping column (the region-like column).
    pub category: String,
    /// Allowed levels of the category, in display order; matched trimmed and case-insensitively.
    pub category_levels: Vec<String>,
    /// The inputs of the growth-potential label's engagement composite.
    pub label_inputs: Vec<String>,
    /// Validation range per numeric column (target included). Columns not listed must be >= 0.
    pub ranges: BTreeMap<String, ColumnRange>,
    /// Human-readable unit per column, used in axis labels and tables (for example "USD").
    pub units: BTreeMap<String, String>,
    /// Whether a table may lack the target column (scoring new customers, who have no spend
    /// yet). Not a settings-file key: `report score` sets it. When the column is present it is
    /// validated as usual; when absent the dataset has no target ([`crate::data::Dataset::has_target`]).
    #[serde(skip)]
    pub target_optional: bool,
}

impl Default for Roles {
    fn default() -> Self {
        let s = |v: &str| v.to_string();
        let mut ranges = BTreeMap::new();
        ranges.insert(
            s("age"),
            ColumnRange {
                min: Some(0.0),
                max: Some(120.0),
                integer: true,
            },
        );
        ranges.insert(
            s("annual_income"),
            ColumnRange {
                min: Some(0.0),
                max: None,
                integer: true,
            },
        );
        ranges.insert(
            s("purchase_amount"),
            ColumnRange {
                min: Some(0.0),
                max: None,
                integer: true,
            },
        );
        ranges.insert(
            s("loyalty_score"),
            ColumnRange {
                min: Some(0.0),
                max: Some(10.0),
                integer: false,
            },
        );
        ranges.insert(
            s("purchase_frequency"),
            ColumnRange {
                min: Some(0.0),
                max: None,
                integer: true,
            },
        );
        let mut units = BTreeMap::new();
        units.insert(s("age"), s("years"));
        units.insert(s("annual_income"), s("USD per year"));
        units.insert(s("purchase_amount"), s("USD"));
        units.insert(s("loyalty_score"), s("score 0-10"));
        units.insert(s("purchase_frequency"), s("purchases per year"));
        Roles {
            id: s("user_id"),
            id_aliases: vec![s("customer_id")],
            target: s("purchase_amount"),
            numeric: vec![
                s("age"),
                s("annual_income"),
                s("loyalty_score"),
                s("purchase_frequency"),
            ],
            demographic: vec![s("age"), s("annual_income")],
            category: s("region"),
            category_levels: vec![s("North"), s("South"), s("East"), s("West")],
            label_inputs: vec![
                s("loyalty_score"),
                s("purchase_frequency"),
                s("purchase_amount"),
            ],
            ranges,
            units,
            target_optional: false,
        }
    }
}

impl Roles {
    /// All numeric columns the table must have: the numeric features, then the target.
    pub fn numeric_columns(&self) -> Vec<String> {
        let mut cols = self.numeric.clone();
        if !cols.contains(&self.target) {
            cols.push(self.target.clone());
        }
        cols
    }

    /// Every required column: id, numeric features, target and category.
    pub fn required_columns(&self) -> Vec<String> {
        let mut cols = vec![self.id.clone()];
        cols.extend(self.numeric_columns());
        cols.push(self.category.clone());
        cols
    }

    /// The validation range of a numeric column (default: non-negative).
    pub fn range(&self, column: &str) -> ColumnRange {
        self.ranges.get(column).cloned().unwrap_or_default()
    }

    /// The unit of a column, or an empty string.
    pub fn unit(&self, column: &str) -> &str {
        self.units.get(column).map(String::as_str).unwrap_or("")
    }

    /// Checks that the roles are self-consistent.
    pub fn check(&self) -> Result<(), SettingsError> {
        let numeric = self.numeric_columns();
        for (what, list) in [
            ("demographic", &self.demographic),
            ("label_inputs", &self.label_inputs),
        ] {
            for c in list {
                if !numeric.contains(c) {
                    return Err(SettingsError::Invalid(format!(
                        "roles.{what} names '{c}', which is not in roles.numeric or roles.target"
                    )));
                }
            }
        }
        for c in self.ranges.keys().chain(self.units.keys()) {
            if !numeric.contains(c) && c != &self.category && c != &self.id {
                return Err(SettingsError::Invalid(format!(
                    "roles.ranges/units name '{c}', which is not a column of the roles"
                )));
            }
        }
        if self.category_levels.is_empty() {
            return Err(SettingsError::Invalid(
                "roles.category_levels is empty".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in self.required_columns() {
            if !seen.insert(c.clone()) {
                return Err(SettingsError::Invalid(format!(
                    "column '{c}' has two roles"
                )));
            }
        }
        if self.numeric.is_empty() {
            return Err(SettingsError::Invalid("roles.numeric is empty".into()));
        }
        Ok(())
    }
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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            seed: 42,
            folds: 5,
            repeats: 3,
            sample_cap: 5_000,
            roles: Roles::default(),
            eda: EdaSettings::default(),
            features: FeatureSettings::default(),
            regression: RegressionSettings::default(),
            classification: ClassificationSettings::default(),
            segmentation: SegmentationSettings::default(),
            robustness: RobustnessSettings::default(),
            drift: DriftSettings::default(),
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
        crate::analysis::check_settings(self)?;
        self.roles.check()
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
