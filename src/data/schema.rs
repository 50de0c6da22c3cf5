//! The table's schema: which column plays which part ([`Roles`]) and the range each numeric
//! column must lie in ([`ColumnRange`]). Analyses ask for roles, never for literal column names,
//! so a table with other names runs with a different settings file (whose `[roles]` section
//! deserialises into [`Roles`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Roles that contradict each other; [`Roles::check`] names the first one found.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchemaError {
    /// A demographic or label-input column is neither a numeric feature nor the target.
    #[error("roles.{role} names '{column}', which is not in roles.numeric or roles.target")]
    NotNumeric {
        /// The role list naming it (`demographic` or `label_inputs`).
        role: &'static str,
        /// The column.
        column: String,
    },
    /// A range or unit is given for a column that has no role.
    #[error("roles.ranges/units name '{0}', which is not a column of the roles")]
    UnknownColumn(String),
    /// The category has no allowed levels.
    #[error("roles.category_levels is empty")]
    NoCategoryLevels,
    /// One column is named by two roles (for example both id and a numeric feature).
    #[error("column '{0}' has two roles")]
    TwoRoles(String),
    /// No numeric feature columns.
    #[error("roles.numeric is empty")]
    NoNumeric,
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

    /// Checks that the roles are self-consistent: the demographic and label-input columns are
    /// numeric role columns, ranges and units name role columns, the category has levels, no
    /// column has two roles, and there is at least one numeric feature.
    pub fn check(&self) -> Result<(), SchemaError> {
        let numeric = self.numeric_columns();
        for (role, list) in [
            ("demographic", &self.demographic),
            ("label_inputs", &self.label_inputs),
        ] {
            for c in list {
                if !numeric.contains(c) {
                    return Err(SchemaError::NotNumeric {
                        role,
                        column: c.clone(),
                    });
                }
            }
        }
        for c in self.ranges.keys().chain(self.units.keys()) {
            if !numeric.contains(c) && c != &self.category && c != &self.id {
                return Err(SchemaError::UnknownColumn(c.clone()));
            }
        }
        if self.category_levels.is_empty() {
            return Err(SchemaError::NoCategoryLevels);
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in self.required_columns() {
            if !seen.insert(c.clone()) {
                return Err(SchemaError::TwoRoles(c));
            }
        }
        if self.numeric.is_empty() {
            return Err(SchemaError::NoNumeric);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_roles_pass() {
        assert_eq!(Roles::default().check(), Ok(()));
    }

    #[test]
    fn each_inconsistency_has_its_error_and_message() {
        let with = |f: &dyn Fn(&mut Roles)| {
            let mut r = Roles::default();
            f(&mut r);
            r.check().unwrap_err()
        };
        let cases: Vec<(SchemaError, &str)> = vec![
            (
                with(&|r| r.demographic.push("shoe_size".into())),
                "roles.demographic names 'shoe_size', which is not in roles.numeric or roles.target",
            ),
            (
                with(&|r| r.label_inputs.push("region".into())),
                "roles.label_inputs names 'region', which is not in roles.numeric or roles.target",
            ),
            (
                with(&|r| {
                    r.units.insert("colour".into(), "hue".into());
                }),
                "roles.ranges/units name 'colour', which is not a column of the roles",
            ),
            (
                with(&|r| r.category_levels.clear()),
                "roles.category_levels is empty",
            ),
            (
                with(&|r| r.category = "age".into()),
                "column 'age' has two roles",
            ),
            (
                with(&|r| {
                    r.numeric.clear();
                    r.demographic.clear();
                    r.label_inputs = vec![r.target.clone()];
                    r.ranges.retain(|c, _| c == "purchase_amount");
                    r.units.retain(|c, _| c == "purchase_amount");
                }),
                "roles.numeric is empty",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }
}
