//! Figures of the MLOps analyses: noise degradation curves ([`crate::analysis::robustness`]) and
//! the drift timeline of PSI and RMSE with retrain markers ([`crate::analysis::drift`]).
//! One small line-panel helper draws every panel, so both figures share axes, colours and legends.

use plotters::prelude::*;

use super::Figure;
use super::frame::{self, Area, PlotError, WIDTH, font, panel, px, series};
use crate::analysis::drift::DriftFindings;
use crate::analysis::robustness::{NoiseOn, RobustnessFindings};
use crate::findings::Findings;

/// One line of a panel.
struct Line {
    label: String,
    color: RGBColor,
    dashed: bool,
    points: Vec<(f64, f64)>,
    /// Vertical error bars (x, low, high).
    errors: Vec<(f64, f64, f64)>,
    /// Points highlighted with a large hollow square (e.g. a retrained model's first batch).
    markers: Vec<(f64, f64)>,
}

impl Line {
    fn new(label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Line {
        Line {
            label: label.into(),
            color,
            dashed: false,
            points,
            errors: Vec::new(),
            markers: Vec::new(),
        }
    }
}

/// A horizontal reference line with a label (thresholds).
struct Rule {
    label: String,
    y: f64,
}

struct Panel<'a> {
    title: &'a str,
    x_desc: &'a str,
    y_desc: &'a str,
    lines: Vec<Line>,
    rules: Vec<Rule>,
    /// Lower bound of the y axis if it should not follow the data (e.g. 0).
    y_floor: Option<f64>,
    /// Where the legend goes (where the lines are not).
    legend: SeriesLabelPosition,
}

fn bounds(p: &Panel) -> ((f64, f64), (f64, f64)) {
    let xs = p.lines.iter().flat_map(|l| l.points.iter().map(|q| q.0));
    let ys = p
        .lines
        .iter()
        .flat_map(|l| {
            l.points
                .iter()
                .map(|q| q.1)
                .chain(l.errors.iter().flat_map(|e| [e.1, e.2]))
        })
        .chain(p.rules.iter().map(|r| r.y));
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let (mut y0, mut y1) = ys
        .filter(|y| y.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
    if let Some(f) = p.y_floor {
        y0 = y0.min(f);
    }
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.08).max(1e-3);
    let (x0, x1) = if x0.is_finite() && x1 > x0 {
        (x0, x1)
    } else {
        (0.0, 1.0)
    };
    (
        (x0, x1),
        (if p.y_floor == Some(y0) { y0 } else { y0 - pad }, y1 + pad),
    )
}

fn draw_panel(area: &Area, p: &Panel) -> Result<(), PlotError> {
    let ((x0, x1), (y0, y1)) = bounds(p);
    let xpad = (x1 - x0) * 0.03;
    let mut chart = ChartBuilder::on(area)
        .caption(p.title, font(px::PANEL_TITLE))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(58)
        .build_cartesian_2d(x0 - xpad..x1 + xpad, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(p.x_desc)
        .y_desc(p.y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style(font(px::NOTE))
        .axis_desc_style(font(px::TICK))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for r in &p.rules {
        let style = BLACK.mix(0.6).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x0 - xpad, r.y), (x1 + xpad, r.y)],
                4,
                4,
                style,
            ))?
            .label(r.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.mix(0.6)));
    }
    for l in &p.lines {
        let color = l.color;
        let style = color.stroke_width(2);
        let series = if l.dashed {
            chart.draw_series(DashedLineSeries::new(l.points.clone(), 6, 4, style))
        } else {
            chart.draw_series(LineSeries::new(l.points.clone(), style))
        };
        series?.label(l.label.clone()).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
        });
        chart.draw_series(
            l.points
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 2, color.filled())),
        )?;
        chart.draw_series(
            l.errors.iter().map(|&(x, lo, hi)| {
                PathElement::new(vec![(x, lo), (x, hi)], color.stroke_width(1))
            }),
        )?;
        chart.draw_series(l.markers.iter().map(|&(x, y)| {
            EmptyElement::at((x, y)) + Rectangle::new([(-5, -5), (5, 5)], color.stroke_width(2))
        }))?;
    }
    frame::legend(&mut chart, p.legend.clone())?;
    Ok(())
}

/// Draws panels stacked in a grid of `cols` columns into one SVG of width [`WIDTH`].
fn render(panels: &[Panel], cols: usize, panel_height: u32) -> String {
    let rows = panels.len().div_ceil(cols).max(1);
    let size = frame::small_multiples(WIDTH, panel_height, rows, 0);
    frame::render(size, |root| {
        let areas = root.split_evenly((rows, cols));
        for (area, p) in areas.iter().zip(panels) {
            draw_panel(area, p)?;
        }
        Ok(())
    })
}

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
            let metric = if s.ends_with("_r2") {
                "R²"
            } else if s.ends_with("_f1") {
                "F1"
            } else {
                s
            };
            format!("{metric}: {model}")
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

/// The MLOps figures the findings support, in a stable order.
pub fn figures(f: &Findings) -> Vec<Figure> {
    let roles = &f.provenance.settings.roles;
    [
        noise_curves(&f.robustness),
        drift_timeline(&f.drift, roles.unit(&roles.target)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{SynthSpec, synth};
    use crate::settings::Settings;

    #[test]
    fn drift_timeline_is_deterministic_and_labelled() {
        let ds = synth(200, 2, &SynthSpec::default());
        let f = crate::pipeline::analyze(&ds, &Settings::default());
        let a = figures(&f);
        let b = figures(&f);
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
