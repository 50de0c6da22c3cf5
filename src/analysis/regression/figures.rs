//! Figures of the spend regression, drawn from [`RegressionFindings`] only: predicted against
//! actual and residuals of the best model (out-of-fold, group-aware), naive against group-aware
//! R² per model, bootstrap coefficient intervals (OLS beside Ridge), and permutation importance.

use plotters::prelude::*;

use crate::analysis::regression::RegressionFindings;
use crate::ml::cv::Scheme;
use crate::ml::regressors::ModelKind;
use crate::plot::Figure;
use crate::plot::frame::{self, Area, CONTRAST, PRIMARY, PlotError, REFERENCE, STANDARD, font, px};

type Res = Result<(), PlotError>;

/// Tick label of a horizontal bar chart whose rows sit at y = n − 0.5, n − 1.5, …: the name of
/// the row centred at `y`, first row on top; empty between rows.
fn row_label(labels: &[String], y: f64) -> String {
    let k = (y - 0.5).round();
    if (y - 0.5 - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < labels.len() {
        labels[labels.len() - 1 - k as usize].clone()
    } else {
        String::new()
    }
}

/// Every regression figure the findings support (none when the analysis was skipped).
pub fn figures(f: &RegressionFindings) -> Vec<Figure> {
    if f.skipped.is_some() || f.scores.is_empty() {
        return Vec::new();
    }
    let best = best_label(f);
    let unit = if f.target_unit.is_empty() {
        String::new()
    } else {
        format!(" ({})", f.target_unit)
    };
    vec![
        figure(
            "regression_predicted_vs_actual.svg",
            format!(
                "Out-of-fold predicted against actual {} for the best model ({best}), group-aware CV.",
                f.target
            ),
            |root| predicted_vs_actual(root, f, &unit),
        ),
        figure(
            "regression_residuals.svg",
            format!(
                "Out-of-fold residuals of the best model ({best}) against its predictions, group-aware CV."
            ),
            |root| residuals(root, f, &unit),
        ),
        figure("regression_cv_gap.svg", cv_gap_caption(f), |root| {
            cv_gap(root, f)
        }),
        figure(
            "regression_bootstrap_coefficients.svg",
            format!(
                "95% bootstrap intervals ({} resamples of duplicate groups) of standardised coefficients: OLS against Ridge.",
                f.bootstrap.resamples
            ),
            |root| bootstrap(root, f, &unit),
        ),
        figure(
            "regression_permutation_importance.svg",
            format!(
                "Permutation importance of the best model ({best}) on held-out group folds: mean R² drop ± sd over {} shuffles.{}",
                f.importance.repeats,
                f.importance
                    .correlated
                    .iter()
                    .map(|c| format!(" Shuffled jointly: {}.", c.features.join(", ")))
                    .collect::<String>()
            ),
            |root| importance(root, f),
        ),
    ]
}

fn best_label(f: &RegressionFindings) -> String {
    match (f.best.model, f.best.feature_set) {
        (Some(m), Some(s)) => format!("{}, {} features", m.label(), s.label()),
        _ => "none".into(),
    }
}

/// Draws one standard-size SVG with `draw` and wraps it as a [`Figure`].
fn figure(name: &str, caption: String, draw: impl FnOnce(&Area) -> Res) -> Figure {
    Figure {
        name: name.into(),
        caption,
        svg: frame::render(STANDARD, draw),
    }
}

/// A padded range covering every value.
fn span(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.06).max(1e-9);
    (lo - pad, hi + pad)
}

/// A scatter chart with labelled axes; returns it for further series.
fn scatter<'a, 'b>(
    root: &'a Area<'b>,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    x: (f64, f64),
    y: (f64, f64),
) -> Result<
    ChartContext<
        'a,
        SVGBackend<'b>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    PlotError,
> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(px::TITLE))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(font(px::AXIS))
        .light_line_style(WHITE)
        .draw()?;
    Ok(chart)
}

fn predicted_vs_actual(root: &Area, f: &RegressionFindings, unit: &str) -> Res {
    let o = &f.out_of_fold;
    let r = span(o.actual.iter().chain(&o.predicted).copied());
    let mut chart = scatter(
        root,
        "Predicted against actual (out-of-fold)",
        (
            &format!("actual {}{unit}", f.target),
            &format!("predicted {}{unit}", f.target),
        ),
        r,
        r,
    )?;
    chart.draw_series(LineSeries::new(
        [(r.0, r.0), (r.1, r.1)],
        REFERENCE.stroke_width(1),
    ))?;
    chart.draw_series(
        o.actual
            .iter()
            .zip(&o.predicted)
            .map(|(&a, &p)| Circle::new((a, p), 3, PRIMARY.mix(0.55).filled())),
    )?;
    Ok(())
}

fn residuals(root: &Area, f: &RegressionFindings, unit: &str) -> Res {
    let o = &f.out_of_fold;
    let x = span(o.predicted.iter().copied());
    let m = o
        .residual
        .iter()
        .fold(0.0f64, |a, r| a.max(r.abs()))
        .max(1e-9)
        * 1.1;
    let mut chart = scatter(
        root,
        "Residuals (out-of-fold)",
        (
            &format!("predicted {}{unit}", f.target),
            &format!("actual − predicted{unit}"),
        ),
        x,
        (-m, m),
    )?;
    chart.draw_series(LineSeries::new(
        [(x.0, 0.0), (x.1, 0.0)],
        REFERENCE.stroke_width(1),
    ))?;
    chart.draw_series(
        o.predicted
            .iter()
            .zip(&o.residual)
            .map(|(&p, &r)| Circle::new((p, r), 3, PRIMARY.mix(0.55).filled())),
    )?;
    Ok(())
}

/// Horizontal bars with optional error bars, one panel; `rows` are (label, [(value, err, colour)]).
fn bar_panel(
    area: &Area,
    title: &str,
    x_desc: &str,
    rows: &[(String, Vec<(f64, f64, RGBColor)>)],
    legend: &[(&str, RGBColor)],
) -> Res {
    let (lo, hi) = span(
        rows.iter()
            .flat_map(|(_, b)| b.iter().flat_map(|&(v, e, _)| [v - e, v + e, 0.0])),
    );
    let n = rows.len().max(1);
    // A legend gets an empty row of headroom at the top, so it never covers a bar.
    let top = n + usize::from(!legend.is_empty());
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(px::SUBTITLE))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(150)
        .build_cartesian_2d(lo..hi, 0.0..top as f64)?;
    let labels: Vec<String> = rows.iter().map(|(l, _)| l.clone()).collect();
    // Decimals from the span (one more than its order of magnitude), and no "-0.0" tick.
    let decimals = (1.0 - (hi - lo).log10().floor()).max(0.0) as usize;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc(x_desc)
        .x_label_formatter(&|x: &f64| {
            let x = if x.abs() < 1e-12 { 0.0 } else { *x };
            format!("{x:.decimals$}")
        })
        .y_labels(top * 2 + 1)
        .y_label_formatter(&|y: &f64| row_label(&labels, *y))
        .label_style(font(px::TICK))
        .disable_y_mesh()
        .draw()?;
    for (i, (_, bars)) in rows.iter().enumerate() {
        let top = (n - i) as f64 - 0.12;
        let h = 0.76 / bars.len().max(1) as f64;
        for (j, &(v, e, c)) in bars.iter().enumerate() {
            let (y0, y1) = (top - (j + 1) as f64 * h, top - j as f64 * h);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y0 + 0.1 * h), (v, y1 - 0.1 * h)],
                c.filled(),
            )))?;
            if e > 0.0 {
                let ym = (y0 + y1) / 2.0;
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(v - e, ym), (v + e, ym)],
                    BLACK.stroke_width(1),
                )))?;
            }
        }
    }
    chart.draw_series(LineSeries::new(
        [(0.0, 0.0), (0.0, n as f64)],
        BLACK.stroke_width(1),
    ))?;
    for (k, (name, c)) in legend.iter().enumerate() {
        let c = *c;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(hi, 0.0), (hi, 0.0)],
                c.filled(),
            )))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        let _ = k;
    }
    if !legend.is_empty() {
        // Upper right, in the empty headroom row above the bars.
        frame::legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    Ok(())
}

/// The caption states the finding: the largest naive − group-aware R² gap of a fitted model
/// (the mean baseline is not a fit), or that there is none.
fn cv_gap_caption(f: &RegressionFindings) -> String {
    let max = f
        .gaps
        .iter()
        .filter(|g| g.model != ModelKind::Mean && g.r2_inflation.is_finite())
        .max_by(|a, b| a.r2_inflation.total_cmp(&b.r2_inflation));
    let lead = match max {
        Some(g) if g.r2_inflation > 0.0 => format!(
            "Naive shuffled k-fold overstates R² by up to {:+.3} ({}, {} features) against group k-fold",
            g.r2_inflation,
            g.model.label(),
            crate::targets::words(&crate::targets::serde_name(&g.feature_set))
        ),
        Some(_) => "Naive shuffled k-fold does not overstate R² against group k-fold".to_string(),
        None => "Naive shuffled k-fold against group k-fold".to_string(),
    };
    format!("{lead}: mean cross-validated R² per model and feature set.")
}

fn cv_gap(root: &Area, f: &RegressionFindings) -> Res {
    let sets: Vec<_> = f.feature_sets.iter().map(|(s, _)| *s).collect();
    let panels = root.split_evenly((1, sets.len().max(1)));
    for (area, set) in panels.iter().zip(&sets) {
        let rows: Vec<(String, Vec<(f64, f64, RGBColor)>)> = ModelKind::ALL
            .iter()
            .filter_map(|&m| {
                let get = |sc: Scheme| {
                    f.scores
                        .iter()
                        .find(|c| c.model == m && c.feature_set == *set && c.scheme == sc)
                };
                let (g, n) = (get(Scheme::GroupKFold)?, get(Scheme::KFold)?);
                Some((
                    m.label().to_string(),
                    vec![
                        (n.r2.mean, n.r2.sd, CONTRAST),
                        (g.r2.mean, g.r2.sd, PRIMARY),
                    ],
                ))
            })
            .collect();
        bar_panel(
            area,
            &format!("{} features", set.label()),
            "mean R² ± sd over folds",
            &rows,
            &[("naive k-fold", CONTRAST), ("group k-fold", PRIMARY)],
        )?;
    }
    Ok(())
}

fn bootstrap(root: &Area, f: &RegressionFindings, unit: &str) -> Res {
    let b = &f.bootstrap;
    let n = b.coefficients.len().max(1);
    let (lo, hi) = span(
        b.coefficients
            .iter()
            .flat_map(|c| [c.ols.lo, c.ols.hi, c.ridge.lo, c.ridge.hi, 0.0]),
    );
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Bootstrap coefficient intervals: OLS against Ridge",
            font(px::TITLE),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(150)
        .build_cartesian_2d(lo..hi, 0.0..n as f64)?;
    let labels: Vec<String> = b.coefficients.iter().map(|c| c.column.clone()).collect();
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc(format!("coefficient per sd of predictor{unit}"))
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y: &f64| row_label(&labels, *y))
        .label_style(font(px::TICK))
        .disable_y_mesh()
        .draw()?;
    chart.draw_series(LineSeries::new(
        [(0.0, 0.0), (0.0, n as f64)],
        REFERENCE.stroke_width(1),
    ))?;
    for (model, colour, offset) in [("OLS", CONTRAST, 0.62), ("Ridge", PRIMARY, 0.38)] {
        let pick = |c: &crate::analysis::regression::CoefComparison| {
            if model == "OLS" {
                c.ols.clone()
            } else {
                c.ridge.clone()
            }
        };
        let pos = |i: usize| (n - 1 - i) as f64 + offset;
        chart
            .draw_series(b.coefficients.iter().enumerate().map(|(i, c)| {
                let iv = pick(c);
                PathElement::new(
                    vec![(iv.lo, pos(i)), (iv.hi, pos(i))],
                    colour.stroke_width(3),
                )
            }))?
            .label(format!("{model} 95% interval"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(3))
            });
        chart.draw_series(
            b.coefficients
                .iter()
                .enumerate()
                .map(|(i, c)| Circle::new((pick(c).estimate, pos(i)), 4, BLACK.filled())),
        )?;
    }
    // Lower right: the region dummies' intervals sit near 0, far from the right edge.
    frame::legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

fn importance(root: &Area, f: &RegressionFindings) -> Res {
    let rows: Vec<(String, Vec<(f64, f64, RGBColor)>)> = f
        .importance
        .features
        .iter()
        .map(|fi| {
            (
                fi.feature.clone(),
                vec![(fi.r2_drop.mean, fi.r2_drop.sd, PRIMARY)],
            )
        })
        .chain(f.importance.correlated.iter().map(|c| {
            (
                // The names of a large cluster do not fit the label column.
                if c.features.len() <= 2 {
                    format!("{} (jointly)", c.features.join(" + "))
                } else {
                    format!("{} correlated, jointly", c.features.len())
                },
                vec![(c.joint_r2_drop.mean, c.joint_r2_drop.sd, CONTRAST)],
            )
        }))
        .collect();
    bar_panel(
        root,
        "Permutation importance (held-out group folds)",
        "drop in out-of-fold R² (mean ± sd)",
        &rows,
        &[],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::regression::*;
    use crate::ml::metrics::FoldSummary;

    fn findings() -> RegressionFindings {
        let score = |model, feature_set, scheme, r2: f64| CvScore {
            model,
            feature_set,
            scheme,
            scheme_description: Scheme::describe(scheme, 5),
            folds: 5,
            repeats: 1,
            r2: FoldSummary {
                mean: r2,
                sd: 0.05,
                n: 5,
            },
            rmse: FoldSummary::default(),
            mae: FoldSummary::default(),
            rmse_over_sd: FoldSummary::default(),
            chosen_penalties: vec![],
        };
        let mut scores = vec![];
        for m in ModelKind::ALL {
            scores.push(score(m, FeatureSet::Behavioural, Scheme::GroupKFold, 0.8));
            scores.push(score(m, FeatureSet::Behavioural, Scheme::KFold, 0.9));
        }
        let iv = |e: f64| CoefInterval {
            estimate: e,
            lo: e - 1.0,
            hi: e + 1.0,
            width: 2.0,
            sign_flip_share: 0.0,
            resamples_used: 200,
        };
        RegressionFindings {
            target: "spend".into(),
            target_unit: "EUR".into(),
            feature_sets: vec![(FeatureSet::Behavioural, vec!["a".into(), "b".into()])],
            scores,
            best: BestModel {
                model: Some(ModelKind::Ols),
                feature_set: Some(FeatureSet::Behavioural),
                ..Default::default()
            },
            out_of_fold: OutOfFold {
                scheme: "x".into(),
                actual: vec![1.0, 2.0, 3.0],
                predicted: vec![1.5, 2.0, 2.5],
                residual: vec![-0.5, 0.0, 0.5],
            },
            bootstrap: BootstrapFindings {
                resamples: 200,
                coefficients: vec![CoefComparison {
                    column: "alpha_col".into(),
                    ols: iv(3.0),
                    ridge: iv(2.0),
                    ridge_to_ols_width: 1.0,
                }],
                ..Default::default()
            },
            importance: ImportanceFindings {
                repeats: 10,
                features: vec![FeatureImportance {
                    feature: "beta_feat".into(),
                    r2_drop: FoldSummary {
                        mean: 0.4,
                        sd: 0.1,
                        n: 10,
                    },
                }],
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn five_figures_with_labels_and_units_from_findings() {
        let figs = figures(&findings());
        let names: Vec<_> = figs.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "regression_predicted_vs_actual.svg",
                "regression_residuals.svg",
                "regression_cv_gap.svg",
                "regression_bootstrap_coefficients.svg",
                "regression_permutation_importance.svg"
            ]
        );
        assert!(figs[0].svg.contains("actual spend (EUR)"));
        assert!(figs[2].svg.contains("group k-fold") && figs[2].svg.contains("random forest"));
        assert!(figs[3].svg.contains("alpha_col"));
        assert!(figs[4].svg.contains("beta_feat"));
        assert_eq!(figs, figures(&findings()), "deterministic");
        assert!(
            figures(&RegressionFindings {
                skipped: Some("x".into()),
                ..findings()
            })
            .is_empty()
        );
    }
}
