//! The noise sweep's figure: each headline score against the noise level, one panel per score
//! and noise target, drawn from [`RobustnessFindings`].

use plotters::prelude::*;

use super::{NoiseOn, RobustnessFindings};
use crate::plot::Figure;
use crate::plot::frame::{panel, series};
use crate::plot::panels::{Line, Panel, render};

/// The noise-degradation figure: every swept score against the noise level (mean ± sd over the
/// draws), one panel per score, features and target noise as two lines; `None` without curves.
pub fn noise_curves(r: &RobustnessFindings) -> Option<Figure> {
    let mut scores: Vec<&str> = Vec::new();
    for c in &r.curves {
        if !scores.contains(&c.score.as_str()) {
            scores.push(&c.score);
        }
    }
    if scores.is_empty() {
        return None;
    }
    let titles: Vec<String> = scores
        .iter()
        .map(|s| {
            let model = r
                .curves
                .iter()
                .find(|c| c.score == *s)
                .map(|c| c.model.as_str())
                .unwrap_or("");
            score_label(s, model)
        })
        .collect();
    let panels: Vec<Panel> = scores
        .iter()
        .zip(&titles)
        .map(|(s, title)| {
            let lines = r
                .curves
                .iter()
                .filter(|c| c.score == *s)
                .map(|c| {
                    let i = usize::from(c.noise_on == NoiseOn::Target);
                    let pts = c.points.iter().map(|p| (p.level * 100.0, p.mean)).collect();
                    let mut l =
                        Line::new(format!("noise on {}", c.noise_on.name()), series(i), pts);
                    l.errors = c
                        .points
                        .iter()
                        .map(|p| (p.level * 100.0, p.mean - p.sd, p.mean + p.sd))
                        .collect();
                    l.dashed = c.noise_on == NoiseOn::Target;
                    l
                })
                .collect();
            Panel {
                title: title.as_str(),
                x_desc: "noise sd (% of the column's sd)",
                y_desc: "score (mean ± sd)",
                lines,
                rules: Vec::new(),
                y_floor: None,
                legend: SeriesLabelPosition::LowerLeft,
            }
        })
        .collect();
    let cols = if panels.len() > 1 { 2 } else { 1 };
    let svg = render(&panels, cols, panel::MEDIUM);
    Some(Figure {
        name: "robustness_noise.svg".into(),
        caption: "How the headline scores degrade as Gaussian noise is added to the features or to the target \
                  (mean ± sd over seeded repeats)."
            .into(),
        svg,
    })
}

/// A noise curve's name for people: its metric (from the score key: `…_r2` is R², `…_f1` is F1)
/// and the model, e.g. "R²: OLS, behavioural features".
pub fn score_label(score: &str, model: &str) -> String {
    let metric = if score.ends_with("_r2") {
        "R²"
    } else if score.ends_with("_f1") {
        "F1"
    } else {
        score
    };
    format!("{metric}: {model}")
}
