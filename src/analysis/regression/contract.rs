//! The spend regression's entry in the analysis registry, with its success target: mean
//! group-aware R² above `regression.success_r2` and RMSE / sd(spend) below
//! `regression.success_rmse_over_sd` (R² > 0.80 alone would allow an RMSE of 0.45 sd; the
//! ratio makes "well below the spend's sd" explicit).

use crate::analysis::{Analysis, json_of};
use crate::findings::Findings;
use crate::ml::cv::Scheme;
use crate::plot::Figure;
use crate::settings::{Settings, SettingsError};
use crate::targets::{Baseline, BaselineKind, Measure, Target, Verdict, serde_name, words};

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

/// The spend target, measured on the headline model (the best of the headline feature set, see
/// [`super::baselines::HEADLINE_RULE`]; honest) and on the same model and feature set under
/// shuffled k-fold (naive); its baseline is the best single column of the headline set.
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
        baseline: None,
        verdict: Verdict::NotMeasured,
        verdict_text: "",
    };
    let Some(h) = &f.baselines.headline else {
        return t;
    };
    let (model, set) = (h.model, h.feature_set);
    let subject = format!(
        "{} on {} features",
        words(&serde_name(&model)),
        words(&serde_name(&set))
    );
    t.honest = Some(Measure {
        subject: subject.clone(),
        scheme: format!("{}, n = {} folds", h.scheme, h.r2.n),
        value: h.r2.mean,
        spread: Some(h.r2.sd),
        second: Some(h.rmse_over_sd.mean),
        met: s.meets(h.r2.mean, h.rmse_over_sd.mean),
    });
    t.baseline = f
        .baselines
        .best_single
        .and_then(|i| f.baselines.single_column.get(i))
        .map(|c| Baseline {
            kind: BaselineKind::OneColumn,
            subject: format!("OLS on {} alone", c.column),
            scheme: format!("{}, n = {} folds", f.baselines.scheme, c.r2.n),
            value: c.r2.mean,
            spread: Some(c.r2.sd),
            n: c.r2.n,
            second: Some(c.rmse_over_sd.mean),
            meets: c.meets,
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
