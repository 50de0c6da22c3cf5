//! Feature sets and the design matrix: numeric role columns as they are, the category one-hot
//! encoded against its first level present in the data (the reference level, absorbed by the
//! intercept). Every feature list is checked for target leakage before a matrix is built.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::features::{self, LeakageError};
use crate::ml::regressors::Matrix;
use crate::settings::Roles;

/// Which predictors a model sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureSet {
    /// Every numeric feature (`roles.numeric`) and the category: what is known about a customer.
    Behavioural,
    /// `roles.demographic` and the category: what is known about a prospect before they buy.
    Demographic,
}

impl FeatureSet {
    /// Both sets, richest first.
    pub const ALL: [FeatureSet; 2] = [FeatureSet::Behavioural, FeatureSet::Demographic];

    /// The raw columns of the set (numeric ones, then the category).
    pub fn columns(self, roles: &Roles) -> Vec<String> {
        let numeric = match self {
            FeatureSet::Behavioural => &roles.numeric,
            FeatureSet::Demographic => &roles.demographic,
        };
        numeric
            .iter()
            .cloned()
            .chain(std::iter::once(roles.category.clone()))
            .collect()
    }

    /// Short display name.
    pub fn label(self) -> &'static str {
        match self {
            FeatureSet::Behavioural => "behavioural",
            FeatureSet::Demographic => "demographic",
        }
    }
}

/// A predictor matrix with the names of its columns and which raw feature each came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// One row per dataset row.
    pub x: Matrix,
    /// Name of each matrix column (`region=South` for a one-hot column).
    pub columns: Vec<String>,
    /// Raw feature name and the matrix columns it spans, in feature order.
    pub blocks: Vec<(String, Vec<usize>)>,
}

impl Design {
    /// The matrix columns of a raw feature (empty if unknown).
    pub fn block(&self, feature: &str) -> &[usize] {
        self.blocks
            .iter()
            .find(|(f, _)| f == feature)
            .map(|(_, c)| c.as_slice())
            .unwrap_or(&[])
    }
}

/// Builds the design of a feature set, refusing leaking features.
pub fn design(ds: &Dataset, set: FeatureSet) -> Result<Design, LeakageError> {
    design_for(ds, &set.columns(&ds.roles))
}

/// Builds the design of any list of raw features (numeric role columns or the category), after
/// checking with [`features::check_no_leakage`] that none is derived from the target.
pub fn design_for(ds: &Dataset, names: &[String]) -> Result<Design, LeakageError> {
    // Every row, no level merged: the levels are those the table has.
    let all: Vec<usize> = (0..ds.n_rows()).collect();
    let unmerged = crate::sparse::LevelMap {
        column: ds.roles.category.clone(),
        merges: Vec::new(),
    };
    design_rows(ds, names, &unmerged, &all, &all)
}

/// The design of `names` for `rows`, with the category encoded through `map` (see
/// [`crate::sparse`]): its levels are those of `roles.category_levels` that some row of
/// `fit_rows` has after the merge, the first of them the reference; so the columns depend on the
/// fitting rows alone, and `rows` (fitting or scored) are encoded the same way.
pub fn design_rows(
    ds: &Dataset,
    names: &[String],
    map: &crate::sparse::LevelMap,
    fit_rows: &[usize],
    rows: &[usize],
) -> Result<Design, LeakageError> {
    features::check_no_leakage(&ds.roles.target, names, &ds.roles)?;
    Ok(design_rows_checked(ds, names, map, fit_rows, rows))
}

/// [`design_rows`] for a feature list already checked for leakage (the cross-validation builds
/// one design per fold from the same list).
pub(crate) fn design_rows_checked(
    ds: &Dataset,
    names: &[String],
    map: &crate::sparse::LevelMap,
    fit_rows: &[usize],
    rows: &[usize],
) -> Design {
    let roles = &ds.roles;
    let level = |i: usize| map.apply(&ds.category[i]);
    // Each row's (merged) level once, and the levels the fitting rows have.
    let mut fit_levels: Vec<&str> = Vec::new();
    for &i in fit_rows {
        let l = level(i);
        if !fit_levels.contains(&l) {
            fit_levels.push(l);
        }
    }
    let row_levels: Vec<&str> = rows.iter().map(|&i| level(i)).collect();
    let mut cols: Vec<Vec<f64>> = Vec::new();
    let mut columns = Vec::new();
    let mut blocks = Vec::new();
    for name in names {
        if *name == roles.category {
            let present: Vec<&String> = roles
                .category_levels
                .iter()
                .filter(|l| fit_levels.contains(&l.as_str()))
                .collect();
            let mut block = Vec::new();
            for l in present.iter().skip(1) {
                block.push(cols.len());
                columns.push(format!("{name}={l}"));
                cols.push(
                    row_levels
                        .iter()
                        .map(|&r| f64::from(u8::from(r == l.as_str())))
                        .collect(),
                );
            }
            blocks.push((name.clone(), block));
        } else {
            blocks.push((name.clone(), vec![cols.len()]));
            columns.push(name.clone());
            let c = ds.col(name);
            cols.push(rows.iter().map(|&i| c[i]).collect());
        }
    }
    let (n, p) = (rows.len(), cols.len());
    let mut data = Vec::with_capacity(n * p);
    for i in 0..n {
        data.extend(cols.iter().map(|c| c[i]));
    }
    Design {
        x: Matrix::new(n, p, data),
        columns,
        blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{SynthSpec, synth};

    #[test]
    fn one_hot_drops_the_reference_level() {
        let ds = synth(40, 1, &SynthSpec::default());
        let d = design(&ds, FeatureSet::Demographic).unwrap();
        assert_eq!(
            d.columns,
            vec![
                "age",
                "annual_income",
                "region=South",
                "region=East",
                "region=West"
            ]
        );
        assert_eq!(d.block("region"), &[2, 3, 4]);
        for i in 0..ds.n_rows() {
            let hot: f64 = (2..5).map(|j| d.x.get(i, j)).sum();
            assert_eq!(hot, f64::from(u8::from(ds.category[i] != "North")));
            assert_eq!(d.x.get(i, 0), ds.col("age")[i]);
        }
    }

    #[test]
    fn leaking_features_are_refused() {
        let ds = synth(20, 1, &SynthSpec::default());
        // The target itself, and the growth label (derived from the target), are refused.
        let err = design_for(&ds, &["age".into(), ds.roles.target.clone()]).unwrap_err();
        assert_eq!(err.feature, "purchase_amount");
        let err = design_for(&ds, &[features::GROWTH_LABEL.to_string()]).unwrap_err();
        assert_eq!(err.shared, vec!["purchase_amount"]);
        // Roles that list the target among the numeric features make the behavioural set leak.
        let mut leaky = ds.clone();
        leaky.roles.numeric.push(leaky.roles.target.clone());
        assert!(matches!(
            design(&leaky, FeatureSet::Behavioural),
            Err(LeakageError { .. })
        ));
        assert!(design(&leaky, FeatureSet::Demographic).is_ok());
    }
}
