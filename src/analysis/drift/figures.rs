//! The drift simulation's figure: PSI per feature and the spend model's RMSE per batch under
//! each retraining policy, with retrain markers, drawn from [`DriftFindings`].

use plotters::prelude::*;

use super::DriftFindings;
use crate::plot::Figure;
use crate::plot::frame::{panel, series};
use crate::plot::panels::{Line, Panel, Rule, render};

/// The drift timeline: PSI per feature (top) and each policy's RMSE (bottom) per batch, with
/// thresholds and a square on each batch first served by a retrained model.
pub fn drift_timeline(d: &DriftFindings, target_unit: &str) -> Option<Figure> {
    if d.batches.is_empty() {
        return None;
    }
    let features = &d.setup.monitored_features;
    let psi_lines = features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let pts = d
                .batches
                .iter()
                .map(|b| (b.batch as f64, b.psi.get(f).copied().unwrap_or(f64::NAN)))
                .collect();
            Line::new(f.clone(), series(i), pts)
        })
        .collect();
    let rmse_lines = d
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let pts: Vec<(f64, f64)> = p
                .rmse
                .iter()
                .enumerate()
                .map(|(t, &r)| ((t + 1) as f64, r))
                .collect();
            let markers = (1..pts.len())
                .filter(|&t| p.model_version[t] != p.model_version[t - 1])
                .map(|t| pts[t])
                .collect();
            let mut l = Line::new(
                format!(
                    "{} ({} retrains, pooled RMSE {:.1})",
                    p.policy.name().replace('_', " "),
                    p.retrains,
                    p.pooled_rmse
                ),
                series(i),
                pts,
            );
            l.markers = markers;
            l.dashed = i == 1;
            l
        })
        .collect();
    let unit = if target_unit.is_empty() {
        String::new()
    } else {
        format!(" ({target_unit})")
    };
    let y_rmse = format!("RMSE of spend{unit}");
    let s = &d.setup.settings;
    let panels = [
        Panel {
            title: "Population stability index against the reference period",
            x_desc: "monthly batch",
            y_desc: "PSI",
            lines: psi_lines,
            rules: vec![Rule {
                label: format!("alarm threshold {}", s.psi_alarm),
                y: s.psi_alarm,
            }],
            y_floor: Some(0.0),
            legend: SeriesLabelPosition::UpperLeft,
        },
        Panel {
            title: "Model error per batch by retraining policy (square: retrained model's first batch)",
            x_desc: "monthly batch",
            y_desc: &y_rmse,
            lines: rmse_lines,
            rules: vec![Rule {
                label: format!("alarm threshold {}× reference RMSE", s.rmse_alarm),
                y: d.setup.rmse_threshold,
            }],
            y_floor: Some(0.0),
            legend: SeriesLabelPosition::UpperLeft,
        },
    ];
    let svg = render(&panels, 1, panel::TALL);
    Some(Figure {
        name: "drift_timeline.svg".into(),
        caption: format!(
            "Drift simulation over {} monthly batches of {} synthetic customers: PSI per feature against the \
             reference period, and the spend model's RMSE per batch under each retraining policy (labels arrive one \
             batch late).",
            s.batches, s.batch_rows
        ),
        svg,
    })
}

/// Noise degradation curves: one panel per score, mean ± sd over the repeats against the noise
/// level, noise on the features (solid) and on the target (dashed).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{SynthSpec, synth};
    use crate::settings::Settings;

    #[test]
    fn drift_timeline_is_deterministic_and_labelled() {
        let ds = synth(200, 2, &SynthSpec::default());
        let f = crate::pipeline::analyze(&ds, &Settings::default());
        let unit = f
            .provenance
            .settings
            .roles
            .unit(&f.provenance.settings.roles.target)
            .to_string();
        let a: Vec<Figure> = drift_timeline(&f.drift, &unit).into_iter().collect();
        let b: Vec<Figure> = drift_timeline(&f.drift, &unit).into_iter().collect();
        assert_eq!(a, b);
        let fig = a
            .iter()
            .find(|x| x.name == "drift_timeline.svg")
            .expect("drift figure");
        assert!(fig.svg.starts_with("<svg") && fig.svg.contains("monthly batch"));
        assert!(
            fig.svg.contains("RMSE of spend (USD)"),
            "axis label with the target's unit"
        );
        assert!(
            fig.svg.contains("every batch (10 retrains"),
            "legend names retrains"
        );
    }
}
