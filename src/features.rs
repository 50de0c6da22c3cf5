//! Feature engineering and feature lineage. Every feature declares the source columns it is
//! derived from, so a model can refuse features derived from its own target (leakage as a
//! type-level concern). Also home of the growth-potential label, whose sources are loyalty,
//! frequency and spend.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::Dataset;
use crate::settings::{Roles, Settings};
use crate::stats;

/// Name of the engineered growth-potential label.
pub const GROWTH_LABEL: &str = "growth_potential";

/// Settings of feature engineering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureSettings {
    /// A customer has growth potential when their engagement composite is at or below this
    /// quantile of all customers' composites (default 1/3: the bottom third).
    pub growth_quantile: f64,
}

impl Default for FeatureSettings {
    fn default() -> Self {
        FeatureSettings {
            growth_quantile: 1.0 / 3.0,
        }
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

/// The lineage of every known feature: raw role columns, the category, and the label.
pub fn lineage(roles: &Roles) -> Vec<Lineage> {
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
    out
}

/// The source columns of a feature (itself, if unknown: treated as raw).
pub fn sources_of(name: &str, roles: &Roles) -> Vec<String> {
    lineage(roles)
        .into_iter()
        .find(|l| l.name == name)
        .map(|l| l.sources)
        .unwrap_or_else(|| vec![name.to_string()])
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

/// Runs feature engineering.
pub fn run(ds: &Dataset, settings: &Settings) -> FeatureFindings {
    let (label, cutoff) = growth_label(ds, &settings.features);
    let positive = label.iter().filter(|&&l| l).count();
    FeatureFindings {
        lineage: lineage(&ds.roles),
        growth_cutoff: cutoff,
        growth_positive: positive,
        growth_share: positive as f64 / ds.n_rows().max(1) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
