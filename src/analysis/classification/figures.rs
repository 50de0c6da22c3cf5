//! Figures of the growth-potential classification, drawn from [`ClassificationFindings`] only:
//! out-of-fold ROC and precision-recall curves, the best model's confusion matrix, naive against
//! group-aware F1, and honest against leaky F1. Three small helpers (curves, grouped bars,
//! 2×2 matrix) carry the plotters boilerplate.

use plotters::prelude::*;

use crate::analysis::classification::{ClassificationFindings, ClassifierKind};
use crate::plot::Figure;
use crate::plot::frame::{self, ALERT, MUTED, PRIMARY, STANDARD, font, px, series};

/// A model's colour: the palette in the order the models are listed.
fn model_colour(m: ClassifierKind) -> RGBColor {
    series(match m {
        ClassifierKind::Logistic => 0,
        ClassifierKind::DecisionTree => 1,
        ClassifierKind::RandomForest => 2,
    })
}

fn config_name(m: ClassifierKind, smote: bool) -> String {
    format!("{}{}", m.name(), if smote { " + SMOTE" } else { "" })
}

/// One line of a curve chart.
struct Curve {
    name: String,
    points: Vec<(f64, f64)>,
    colour: RGBColor,
    dashed: bool,
}

/// A unit-square line chart (rates on both axes), with an optional reference line.
fn curve_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[Curve],
    reference: Option<((f64, f64), (f64, f64), &str)>,
) -> String {
    frame::render(STANDARD, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(px::TITLE))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d(0.0..1.0f64, 0.0..1.02f64)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(6)
            .y_labels(6)
            .light_line_style(WHITE.mix(0.0))
            .label_style(font(px::TICK))
            .draw()?;
        if let Some((a, b, name)) = reference {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![a, b],
                    4,
                    4,
                    BLACK.mix(0.4).stroke_width(1),
                ))?
                .label(name)
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.4)));
        }
        for c in curves {
            let style = c.colour.stroke_width(2);
            let colour = c.colour;
            let anno = if c.dashed {
                chart.draw_series(DashedLineSeries::new(c.points.clone(), 6, 4, style))?
            } else {
                chart.draw_series(LineSeries::new(c.points.clone(), style))?
            };
            let dashed = c.dashed;
            anno.label(c.name.clone()).legend(move |(x, y)| {
                if dashed {
                    PathElement::new(vec![(x, y), (x + 6, y)], colour.stroke_width(2))
                } else {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                }
            });
        }
        frame::legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        Ok(())
    })
}

/// Grouped vertical bars: one group per category, one bar per series, value printed on top.
fn grouped_bars(
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[(&str, Vec<f64>, RGBColor)],
    target: Option<(f64, &str)>,
) -> String {
    frame::render(STANDARD, |root| {
        let n = categories.len().max(1);
        let cats = categories.to_vec();
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(px::TITLE))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d(0.0..n as f64, 0.0..1.3f64)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_labels(n * 2 + 1)
            .x_label_formatter(&move |x| {
                let i = (*x - 0.5).round();
                if (*x - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < cats.len() {
                    cats[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_desc(y_label)
            .label_style(font(px::NOTE))
            .draw()?;
        let width = 0.8 / series.len().max(1) as f64;
        for (s, (name, values, colour)) in series.iter().enumerate() {
            let colour = *colour;
            chart
                .draw_series(values.iter().enumerate().map(|(i, &v)| {
                    let x0 = i as f64 + 0.1 + s as f64 * width;
                    Rectangle::new(
                        [(x0, 0.0), (x0 + width * 0.92, v.max(0.0))],
                        colour.filled(),
                    )
                }))?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
            chart.draw_series(values.iter().enumerate().map(|(i, &v)| {
                let x = i as f64 + 0.1 + (s as f64 + 0.15) * width;
                Text::new(format!("{v:.2}"), (x, v.max(0.0) + 0.045), font(px::NOTE))
            }))?;
        }
        if let Some((t, name)) = target {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, t), (n as f64, t)],
                    5,
                    4,
                    ALERT.mix(0.7).stroke_width(1),
                ))?
                .label(name)
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], ALERT.mix(0.7)));
        }
        frame::legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

/// A 2×2 confusion matrix (rows: actual, columns: predicted), cells shaded by their share of
/// their actual class, showing the mean count per repeat.
fn confusion_chart(title: &str, cells: [[f64; 2]; 2], note: &str) -> String {
    frame::render(STANDARD, |root| {
        let (top, rest) = root.split_vertically(frame::HEADER_STRIP);
        top.draw(&Text::new(title.to_string(), (14, 12), font(px::TITLE)))?;
        let names = ["no growth potential", "growth potential"];
        let (x0, y0, cell) = (220i32, 20i32, 150i32);
        for a in 0..2 {
            let row_total = cells[a][0] + cells[a][1];
            #[allow(clippy::needless_range_loop)] // p is also the cell's column position
            for p in 0..2 {
                let share = if row_total > 0.0 {
                    cells[a][p] / row_total
                } else {
                    0.0
                };
                let shade = PRIMARY.mix(0.1 + 0.8 * share);
                let (cx, cy) = (x0 + p as i32 * cell, y0 + a as i32 * cell);
                rest.draw(&Rectangle::new(
                    [(cx, cy), (cx + cell, cy + cell)],
                    shade.filled(),
                ))?;
                rest.draw(&Rectangle::new(
                    [(cx, cy), (cx + cell, cy + cell)],
                    BLACK.stroke_width(1),
                ))?;
                let colour = if share > 0.5 { WHITE } else { BLACK };
                rest.draw(&Text::new(
                    format!("{:.1}", cells[a][p]),
                    (cx + 50, cy + 60),
                    font(px::DISPLAY).color(&colour),
                ))?;
                rest.draw(&Text::new(
                    format!("{:.0}% of row", 100.0 * share),
                    (cx + 40, cy + 90),
                    font(px::TICK).color(&colour),
                ))?;
            }
            rest.draw(&Text::new(
                names[a].to_string(),
                (x0 - 170, y0 + a as i32 * cell + 70),
                font(px::AXIS),
            ))?;
            rest.draw(&Text::new(
                names[a].to_string(),
                (x0 + a as i32 * cell + 20, y0 + 2 * cell + 10),
                font(px::AXIS),
            ))?;
        }
        rest.draw(&Text::new(
            "actual (rows)".to_string(),
            (x0 - 170, y0 + 10),
            font(px::TICK),
        ))?;
        rest.draw(&Text::new(
            "predicted (columns)".to_string(),
            (x0 + 90, y0 + 2 * cell + 30),
            font(px::TICK),
        ))?;
        rest.draw(&Text::new(
            note.to_string(),
            (14, y0 + 2 * cell + 55),
            font(px::NOTE),
        ))?;
        Ok(())
    })
}

/// The classification figures, or none when the analysis did not run.
pub fn figures(f: &ClassificationFindings) -> Vec<Figure> {
    if f.error.is_some() || f.results.is_empty() {
        return Vec::new();
    }
    let p = &f.protocol;
    let scheme = format!("{} × {} repeats", p.default_scheme_description, p.repeats);
    let mut out = Vec::new();

    let curves = |pick: fn(&crate::analysis::classification::CurveSet) -> Vec<(f64, f64)>,
                  auc: fn(&crate::analysis::classification::CurveSet) -> f64,
                  what: &str|
     -> Vec<Curve> {
        f.curves
            .iter()
            .map(|c| Curve {
                name: format!("{} ({what} {:.3})", config_name(c.model, c.smote), auc(c)),
                points: pick(c),
                colour: model_colour(c.model),
                dashed: c.smote,
            })
            .collect()
    };
    out.push(Figure {
        name: "classification_roc.svg".into(),
        caption: format!(
            "ROC curves of the growth-potential classifiers from out-of-fold probabilities (first repeat of {scheme}); honest features only, dashed = SMOTE in training folds."
        ),
        svg: curve_chart(
            "Growth potential: out-of-fold ROC (group-aware CV)",
            "false-positive rate (share of negatives flagged)",
            "true-positive rate (recall)",
            &curves(|c| c.roc.clone(), |c| c.roc_auc, "AUC"),
            Some(((0.0, 0.0), (1.0, 1.0), "chance")),
        ),
    });
    let share = f.label.share;
    out.push(Figure {
        name: "classification_pr.svg".into(),
        caption: format!(
            "Precision-recall curves from out-of-fold probabilities (first repeat of {scheme}); AP = average precision; the dashed line is the positive share {share:.2}."
        ),
        svg: curve_chart(
            "Growth potential: out-of-fold precision-recall (group-aware CV)",
            "recall (share of growth-potential customers found)",
            "precision (share of flagged who are positive)",
            &curves(|c| c.pr.clone(), |c| c.average_precision, "AP"),
            Some(((0.0, share), (1.0, share), "positive share")),
        ),
    });

    if let Some(best) = &f.best {
        let r = &f.results[best.result_index];
        let c = r.at_chosen.confusion;
        let k = r.repeats.max(1) as f64;
        let cells = [
            [c.tn as f64 / k, c.fp as f64 / k],
            [c.fn_ as f64 / k, c.tp as f64 / k],
        ];
        out.push(Figure {
            name: "classification_confusion.svg".into(),
            caption: format!(
                "Confusion matrix of the best honest model ({}) at the training-fold-chosen threshold (mean {:.2}), mean count per repeat of {scheme}.",
                config_name(best.model, best.smote),
                best.threshold
            ),
            svg: confusion_chart(
                &format!("Best model: {} (out-of-fold, chosen threshold)", config_name(best.model, best.smote)),
                cells,
                &format!(
                    "F1 {:.3}, precision {:.3}, recall {:.3}; counts are means over {} repeats of {} rows",
                    best.f1, best.precision, best.recall, r.repeats, r.rows
                ),
            ),
        });
    }

    let cats: Vec<String> = f
        .scheme_gaps
        .iter()
        .map(|g| config_name(g.model, g.smote))
        .collect();
    out.push(Figure {
        name: "classification_cv_gap.svg".into(),
        caption: format!(
            "F1 at the training-fold-chosen threshold under naive shuffled k-fold against stratified group k-fold ({} folds × {} repeats): the difference is what duplicate rows straddling folds add.",
            p.folds, p.repeats
        ),
        svg: grouped_bars(
            "Growth potential: naive vs group-aware cross-validated F1",
            "F1 (out-of-fold, chosen threshold)",
            &cats,
            &[
                ("naive k-fold", f.scheme_gaps.iter().map(|g| g.naive_f1).collect(), ALERT),
                ("group-aware k-fold", f.scheme_gaps.iter().map(|g| g.group_f1).collect(), PRIMARY),
            ],
            Some((f.protocol.settings.target_f1, "F1 target")),
        ),
    });
    let cats: Vec<String> = f
        .leak_inflation
        .iter()
        .map(|g| config_name(g.model, g.smote))
        .collect();
    out.push(Figure {
        name: "classification_leakage.svg".into(),
        caption: format!(
            "Ablation: F1 with honest features ({}) against the leaky set that adds the label's own inputs ({}), both under {scheme}. The leaky scores are not achievable on prospects.",
            f.honest_features.join(", "),
            f.label.inputs.join(", ")
        ),
        svg: grouped_bars(
            "Growth potential: honest vs leaky features (ablation)",
            "F1 (out-of-fold, chosen threshold)",
            &cats,
            &[
                ("honest", f.leak_inflation.iter().map(|g| g.honest_f1).collect(), PRIMARY),
                ("leaky (label inputs added)", f.leak_inflation.iter().map(|g| g.leaky_f1).collect(), MUTED),
            ],
            Some((f.protocol.settings.target_f1, "F1 target")),
        ),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{data, settings::Settings};

    #[test]
    fn five_deterministic_svg_figures_from_findings() {
        let ds = data::synth(120, 4, &data::SynthSpec::default());
        let mut s = Settings::default();
        s.classification.repeats = Some(1);
        let f = crate::analysis::classification::run(&ds, &s);
        assert_eq!(f.error, None);
        let figs = figures(&f);
        let names: Vec<&str> = figs.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "classification_roc.svg",
                "classification_pr.svg",
                "classification_confusion.svg",
                "classification_cv_gap.svg",
                "classification_leakage.svg"
            ]
        );
        for g in &figs {
            assert!(
                g.svg.starts_with("<svg") && g.svg.contains("</svg>"),
                "{}",
                g.name
            );
            assert!(!g.caption.is_empty());
        }
        assert!(figs[0].svg.contains("false-positive rate"));
        assert_eq!(
            figs,
            figures(&f),
            "figures are a pure function of the findings"
        );
        if let Ok(dir) = std::env::var("CLASSIFICATION_FIGURE_DIR") {
            for g in &figs {
                std::fs::write(std::path::Path::new(&dir).join(&g.name), &g.svg).unwrap();
            }
        }
        // No findings, no figures.
        assert!(figures(&ClassificationFindings::default()).is_empty());
    }
}
