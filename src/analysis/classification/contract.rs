//! The growth-potential classification's entry in the analysis registry, with its success
//! target: F1 above `classification.target_f1` with precision above
//! `classification.target_precision`, at the threshold chosen on training folds.

use crate::analysis::classification::ClassificationSettings;
use crate::analysis::{Analysis, json_of};
use crate::bounds;
use crate::findings::Findings;
use crate::plot::Figure;
use crate::settings::{Settings, SettingsError};
use crate::targets::{Baseline, BaselineKind, Measure, Target, Verdict, serde_name, words};

/// Growth-potential classification on the honest features, SMOTE inside training folds.
pub struct Classification;

impl Analysis for Classification {
    fn name(&self) -> &'static str {
        "classification"
    }
    fn title(&self) -> &'static str {
        "Growth-potential classification"
    }
    fn template_source(&self) -> &'static str {
        include_str!("../../../templates/classification.md")
    }
    fn check_settings(&self, settings: &Settings) -> Result<(), SettingsError> {
        validate(&settings.classification)
    }
    fn figures(&self, findings: &Findings) -> Vec<Figure> {
        super::figures::figures(&findings.classification)
    }
    fn targets(&self, findings: &Findings) -> Vec<Target> {
        vec![target(findings)]
    }
    fn findings_json(&self, findings: &Findings) -> serde_json::Value {
        json_of(&findings.classification)
    }
    fn not_run(&self, findings: &Findings) -> Option<String> {
        findings.classification.error.clone()
    }
}

/// Checks every value of `[classification]`; the error names the key, value and range.
pub fn validate(s: &ClassificationSettings) -> Result<(), SettingsError> {
    if let Some(r) = s.repeats {
        bounds::count("classification.repeats", r, 1, 100)?;
    }
    bounds::open(
        "classification.default_threshold",
        s.default_threshold,
        0.0,
        1.0,
    )?;
    bounds::closed("classification.min_precision", s.min_precision, 0.0, 1.0)?;
    bounds::closed("classification.target_f1", s.target_f1, 0.0, 1.0)?;
    bounds::closed(
        "classification.target_precision",
        s.target_precision,
        0.0,
        1.0,
    )?;
    bounds::open_closed("classification.logistic_alpha", s.logistic_alpha, 0.0, 1e6)?;
    bounds::count(
        "classification.logistic_max_iterations",
        s.logistic_max_iterations as usize,
        1,
        100_000,
    )?;
    bounds::count("classification.tree_max_depth", s.tree_max_depth, 0, 64)?;
    bounds::count("classification.forest_trees", s.forest_trees, 1, 1_000)?;
    bounds::count("classification.forest_max_depth", s.forest_max_depth, 0, 64)?;
    bounds::open_closed(
        "classification.forest_bootstrap_proportion",
        s.forest_bootstrap_proportion,
        0.0,
        1.0,
    )?;
    bounds::open_closed(
        "classification.forest_feature_proportion",
        s.forest_feature_proportion,
        0.0,
        1.0,
    )?;
    bounds::count("classification.smote.k", s.smote.k, 1, 50)?;
    bounds::open_closed("classification.smote.ratio", s.smote.ratio, 0.0, 10.0)?;
    Ok(())
}

/// Whether an F1 and a precision meet the target (both strictly above their thresholds).
pub fn meets(s: &ClassificationSettings, f1: f64, precision: f64) -> bool {
    f1 > s.target_f1 && precision > s.target_precision
}

/// The growth-potential target, measured on the best honest model (honest) and on the same
/// configuration under the naive scheme.
fn target(findings: &Findings) -> Target {
    let s = &findings.provenance.settings.classification;
    let f = &findings.classification;
    let mut t = Target {
        area: "classification",
        question: "Which customers have growth potential?",
        goal: format!(
            "F1 > {:.2} with precision > {:.2}",
            s.target_f1, s.target_precision
        ),
        metric: "F1",
        second_metric: Some("precision"),
        honest: None,
        naive: None,
        baseline: None,
        verdict: Verdict::NotMeasured,
        verdict_text: "",
    };
    let Some(best) = &f.best else { return t };
    let subject = format!(
        "{}{} on {}",
        words(&serde_name(&best.model)),
        if best.smote { " + SMOTE" } else { "" },
        f.honest_features.join(", ")
    );
    let best_result = f.results.get(best.result_index);
    if let Some(check) = &f.targets {
        t.honest = Some(Measure {
            subject: subject.clone(),
            scheme: f.protocol.default_scheme_description.clone(),
            value: check.f1,
            spread: best_result.map(|b| b.at_chosen.f1.sd),
            second: Some(check.precision),
            met: meets(s, check.f1, check.precision),
        });
    }
    t.baseline = f
        .baselines
        .best
        .and_then(|i| f.baselines.rules.get(i))
        .map(|r| Baseline {
            kind: BaselineKind::OneSplit,
            subject: format!(
                "one split: {} {} {}",
                r.column,
                if r.whole_table.positive_below {
                    "≤"
                } else {
                    ">"
                },
                crate::render::format::num(r.whole_table.below_max, None)
            ),
            scheme: format!("{}, n = {} repeats", f.baselines.scheme, r.f1.n),
            value: r.f1.mean,
            spread: Some(r.f1.sd),
            n: r.f1.n,
            second: Some(r.precision.mean),
            meets: r.meets,
        });
    let naive = f.results.iter().find(|r| {
        r.model == best.model
            && r.smote == best.smote
            && best_result.is_some_and(|b| r.features == b.features && r.scheme != b.scheme)
    });
    t.naive = naive.map(|r| Measure {
        subject,
        scheme: r.scheme_description.clone(),
        value: r.at_chosen.f1.mean,
        spread: Some(r.at_chosen.f1.sd),
        second: Some(r.at_chosen.precision.mean),
        met: meets(s, r.at_chosen.f1.mean, r.at_chosen.precision.mean),
    });
    t
}
