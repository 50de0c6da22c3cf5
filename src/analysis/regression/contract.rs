//! The spend regression's entry in the analysis registry, with its success target: mean
//! group-aware R² above `regression.success_r2` and RMSE / sd(spend) below
//! `regression.success_rmse_over_sd` (R² > 0.80 alone would allow an RMSE of 0.45 sd; the
//! ratio makes "well below the spend's sd" explicit).

use crate::analysis::{Analysis, json_of};
use crate::findings::Findings;
use crate::ml::cv::Scheme;
use crate::plot::Figure;
use crate::settings::{Settings, SettingsError};
use crate::targets::{Measure, Target, serde_name, words};

/// Spend (CLV) regression: linear models with L1/L2 penalties and a random forest.
pub struct Regression;

impl Analysis for Regression {
    fn name(&self) -> &'static str {
        "regression"
    }
    fn title(&self) -> &'static str {
        "Spend regression"
    }
    fn template_source(&self) -> &'static str {
        include_str!("../../../templates/regression.md")
    }
    fn check_settings(&self, settings: &Settings) -> Result<(), SettingsError> {
        settings.regression.validate()
    }
    fn figures(&self, findings: &Findings) -> Vec<Figure> {
        super::figures::figures(&findings.regression)
    }
    fn targets(&self, findings: &Findings) -> Vec<Target> {
        vec![target(findings)]
    }
    fn findings_json(&self, findings: &Findings) -> serde_json::Value {
        json_of(&findings.regression)
    }
    fn not_run(&self, findings: &Findings) -> Option<String> {
        findings.regression.skipped.clone()
    }
}

/// The spend target, measured on the best model (honest) and on the same model and feature
/// set under shuffled k-fold (naive).
fn target(findings: &Findings) -> Target {
    let s = &findings.provenance.settings.regression;
    let f = &findings.regression;
    let mut t = Target {
        area: "regression",
        question: "How much will a customer spend?",
        goal: format!(
            "R² > {:.2} and RMSE < {} × sd(spend)",
            s.success_r2, s.success_rmse_over_sd
        ),
        metric: "R²",
        second_metric: Some("RMSE / sd"),
        honest: None,
        naive: None,
    };
    let (Some(model), Some(set)) = (f.best.model, f.best.feature_set) else {
        return t;
    };
    let subject = format!(
        "{} on {} features",
        words(&serde_name(&model)),
        words(&serde_name(&set))
    );
    t.honest = Some(Measure {
        subject: subject.clone(),
        scheme: f.best.scheme.clone(),
        value: f.best.r2.mean,
        spread: Some(f.best.r2.sd),
        second: Some(f.best.rmse_over_sd.mean),
        met: s.meets(f.best.r2.mean, f.best.rmse_over_sd.mean),
    });
    t.naive = f
        .scores
        .iter()
        .find(|c| c.model == model && c.feature_set == set && c.scheme == Scheme::KFold)
        .map(|c| Measure {
            subject,
            scheme: c.scheme_description.clone(),
            value: c.r2.mean,
            spread: Some(c.r2.sd),
            second: Some(c.rmse_over_sd.mean),
            met: s.meets(c.r2.mean, c.rmse_over_sd.mean),
        });
    t
}
