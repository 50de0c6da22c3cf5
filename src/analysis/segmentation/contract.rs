//! Segmentation's entry in the analysis registry, with its success target: the chosen k-means
//! solution's silhouette above `segmentation.silhouette_target`, judged on distinct rows
//! (copies of a row sit at distance 0 from each other and inflate the all-rows silhouette,
//! which is shown as the naive figure).

use crate::analysis::{Analysis, json_of};
use crate::bounds;
use crate::findings::Findings;
use crate::plot::Figure;
use crate::settings::{Settings, SettingsError};
use crate::targets::{Baseline, BaselineKind, Measure, Target, Verdict};

/// k-means personas with k chosen by evidence and stability checked.
pub struct Segmentation;

impl Analysis for Segmentation {
    fn name(&self) -> &'static str {
        "segmentation"
    }
    fn title(&self) -> &'static str {
        "Segmentation"
    }
    fn template_source(&self) -> &'static str {
        include_str!("../../../templates/segmentation.md")
    }
    fn check_settings(&self, settings: &Settings) -> Result<(), SettingsError> {
        let s = &settings.segmentation;
        bounds::count("segmentation.k_min", s.k_min, 2, 50)?;
        bounds::count_tied(
            "segmentation.k_max",
            s.k_max,
            s.k_min,
            50,
            "segmentation.k_min",
        )?;
        bounds::count("segmentation.n_init", s.n_init, 1, 1_000)?;
        bounds::open_closed("segmentation.tolerance", s.tolerance, 0.0, 1.0)?;
        bounds::count(
            "segmentation.max_iterations",
            s.max_iterations as usize,
            1,
            100_000,
        )?;
        bounds::closed(
            "segmentation.min_cluster_share",
            s.min_cluster_share,
            0.0,
            0.5,
        )?;
        bounds::closed(
            "segmentation.silhouette_target",
            s.silhouette_target,
            -1.0,
            1.0,
        )?;
        bounds::count("segmentation.stability_seeds", s.stability_seeds, 1, 1_000)?;
        bounds::count(
            "segmentation.bootstrap_resamples",
            s.bootstrap_resamples,
            1,
            10_000,
        )?;
        bounds::count("segmentation.gmm_inits", s.gmm_inits, 1, 100)?;
        bounds::count("segmentation.null_tables", s.null_tables, 20, 1_000)?;
        bounds::open_closed("segmentation.gmm_reg_covar", s.gmm_reg_covar, 0.0, 10.0)?;
        bounds::open_closed("segmentation.gmm_tolerance", s.gmm_tolerance, 0.0, 1.0)?;
        bounds::count(
            "segmentation.gmm_max_iterations",
            s.gmm_max_iterations as usize,
            1,
            100_000,
        )?;
        bounds::open_closed(
            "segmentation.persona_trait_threshold",
            s.persona_trait_threshold,
            0.0,
            5.0,
        )?;
        bounds::count(
            "segmentation.persona_max_traits",
            s.persona_max_traits,
            1,
            10,
        )?;
        bounds::closed(
            "segmentation.persona_one_axis_share",
            s.persona_one_axis_share,
            0.5,
            1.0,
        )?;
        bounds::closed(
            "segmentation.persona_value_cut",
            s.persona_value_cut,
            0.0,
            3.0,
        )?;
        bounds::closed(
            "segmentation.persona_engagement_cut",
            s.persona_engagement_cut,
            0.0,
            3.0,
        )?;
        Ok(())
    }
    fn figures(&self, findings: &Findings) -> Vec<Figure> {
        super::figures::figures(&findings.segmentation)
    }
    fn targets(&self, findings: &Findings) -> Vec<Target> {
        vec![target(findings)]
    }
    fn findings_json(&self, findings: &Findings) -> serde_json::Value {
        json_of(&findings.segmentation)
    }
    fn not_run(&self, findings: &Findings) -> Option<String> {
        findings.segmentation.skipped.clone()
    }
}

/// The silhouette target on distinct rows (honest) and on all rows (naive); "met" is the
/// analysis' own verdict.
fn target(findings: &Findings) -> Target {
    let f = &findings.segmentation;
    let threshold = findings.provenance.settings.segmentation.silhouette_target;
    let mut t = Target {
        area: "segmentation",
        question: "Which customers behave alike?",
        goal: format!("silhouette > {threshold:.2}"),
        metric: "silhouette",
        second_metric: None,
        honest: None,
        naive: None,
        baseline: None,
        verdict: Verdict::NotMeasured,
        verdict_text: "",
    };
    if f.chosen_k < 2 {
        return t;
    }
    let subject = format!("k-means, k = {}", f.chosen_k);
    t.honest = Some(Measure {
        subject: subject.clone(),
        scheme: f.silhouette_distinct_rows.clone(),
        value: f.chosen_silhouette_distinct,
        spread: None,
        second: None,
        met: f.target_met_distinct_rows,
    });
    t.baseline = f.null.as_ref().and_then(|nr| {
        let at = nr.at_chosen.as_ref()?;
        Some(Baseline {
            kind: BaselineKind::NullTables,
            subject: format!(
                "structureless tables with the same principal-axis spread, k-means k = {}",
                f.chosen_k
            ),
            scheme: format!(
                "{} null tables of {} rows; mean silhouette, 90% range {:.3}–{:.3}; {:.0}% of tables exceed the target; the observed value lies above {:.0}% of them (it counts as beyond the null above 95%)",
                nr.tables,
                nr.rows,
                at.null_p05,
                at.null_p95,
                100.0 * at.null_share_meeting_target,
                100.0 * at.observed_percentile
            ),
            value: at.null_mean,
            spread: None,
            n: nr.tables,
            second: None,
            meets: nr.null_reaches_target,
        })
    });
    t.naive = Some(Measure {
        subject,
        scheme: f.silhouette_rows.clone(),
        value: f.chosen_silhouette_all,
        spread: None,
        second: None,
        met: f.target_met_all_rows,
    });
    t
}
