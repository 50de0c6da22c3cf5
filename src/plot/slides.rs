//! Figures drawn for the deck, not scaled-down report figures: the same findings at 16:9
//! ([`frame::SLIDE`]), one message per figure stated in its title, few rows, and type no smaller
//! than [`frame::px::SLIDE_MIN`] so that every label stays at least 18 px tall on a 1280 × 720
//! projector (see the style guide in [`frame`]). They are written to `figures/slides/` and only
//! the deck shows them; the report keeps its own figures.
//!
//! Every figure is a horizontal bar chart ([`bars`]): one bar per model, feature set, k or policy,
//! the value printed at the bar's end, and at most one labelled reference line (the success target).
//! Titles are built from the findings by the rules written beside each function.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::findings::Findings;
use crate::plot::Figure;
use crate::plot::frame::{self, ALERT, Area, CONTRAST, GRID, MUTED, PRIMARY, PlotError, font, px};
use crate::targets::{serde_name, words};

type Res = Result<(), PlotError>;

/// One bar of a slide chart.
#[derive(Debug, Clone)]
struct Bar {
    label: String,
    value: f64,
    colour: RGBColor,
    text: String,
}

/// A labelled vertical reference line (a target).
struct Line {
    at: f64,
    label: String,
}

/// Every slide figure the findings support, in deck order.
pub fn all(f: &Findings) -> Vec<Figure> {
    [
        duplicates(f),
        cv_inflation(f),
        spend(f),
        growth(f),
        segments(f),
        drift(f),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn figure(name: &str, caption: String, draw: impl FnOnce(&Area) -> Res) -> Figure {
    Figure {
        name: name.into(),
        caption,
        svg: frame::render(frame::SLIDE, draw),
    }
}

/// Label of row `k` counted from the top, at the tick y = n − k − 0.5 (empty between rows).
fn row_label(labels: &[String], y: f64) -> String {
    let k = (y - 0.5).round();
    if (y - 0.5 - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < labels.len() {
        labels[labels.len() - 1 - k as usize].clone()
    } else {
        String::new()
    }
}

/// Draws `rows` as horizontal bars from 0 on an x axis `lo..hi` with ticks at `step`, the value
/// text just right of each bar's end (or of 0 for a negative bar), and an optional target line.
/// No legend (colours are explained by the row labels and the title), grid only at the x ticks.
fn bars(
    root: &Area,
    title: &str,
    x_desc: &str,
    rows: &[Bar],
    (lo, hi): (f64, f64),
    decimals: usize,
    line: Option<Line>,
) -> Res {
    let n = rows.len().max(1);
    // A target line gets a strip of headroom above the bars for its label: it then covers
    // neither a bar nor the title.
    // (A whole row, so the row-label ticks stay at the row centres n − k − 0.5.)
    let rows_total = n + usize::from(line.is_some());
    let top = rows_total as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(px::SLIDE_TITLE))
        .margin(16)
        .margin_right(40)
        .x_label_area_size(84)
        .y_label_area_size(380)
        .build_cartesian_2d(lo..hi, 0.0..top)?;
    let labels: Vec<String> = rows.iter().map(|b| b.label.clone()).collect();
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .x_labels(6)
        .x_label_formatter(&|x: &f64| {
            let x = if x.abs() < 1e-12 { 0.0 } else { *x };
            format!("{x:.decimals$}")
        })
        .y_labels(rows_total * 2 + 1)
        .y_label_formatter(&|y: &f64| row_label(&labels, *y))
        .label_style(font(px::SLIDE_MIN))
        .axis_desc_style(font(px::SLIDE_MIN))
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .disable_y_mesh()
        .draw()?;
    let base = 0.0_f64.clamp(lo, hi);
    for (i, b) in rows.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        let v = b.value.clamp(lo, hi);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(base, y + 0.18), (v, y + 0.82)],
            b.colour.filled(),
        )))?;
        let style = font(px::SLIDE_VALUE)
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart.draw_series(std::iter::once(
            EmptyElement::at((v.max(base), y + 0.5)) + Text::new(b.text.clone(), (10, 0), style),
        ))?;
    }
    chart.draw_series(LineSeries::new(
        [(base, 0.0), (base, n as f64)],
        BLACK.stroke_width(1),
    ))?;
    if let Some(l) = line {
        chart.draw_series(LineSeries::new(
            [(l.at, 0.0), (l.at, top)],
            ALERT.stroke_width(3),
        ))?;
        let style = font(px::SLIDE_MIN)
            .color(&ALERT)
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart.draw_series(std::iter::once(
            EmptyElement::at((l.at, (n as f64 + top) / 2.0)) + Text::new(l.label, (8, 0), style),
        ))?;
    }
    Ok(())
}

/// Three bars: rows, distinct customers, copied rows. Title rule: "Only D of R rows are distinct
/// customers" when copies exist, else "All R rows are distinct customers".
fn duplicates(f: &Findings) -> Option<Figure> {
    let d = &f.dataset;
    if d.rows == 0 {
        return None;
    }
    let title = if d.duplicate_rows > 0 {
        format!(
            "Only {} of {} rows are distinct customers",
            d.distinct_rows, d.rows
        )
    } else {
        format!("All {} rows are distinct customers", d.rows)
    };
    let rows = vec![
        Bar {
            label: "rows in the table".into(),
            value: d.rows as f64,
            colour: MUTED,
            text: d.rows.to_string(),
        },
        Bar {
            label: "distinct customers".into(),
            value: d.distinct_rows as f64,
            colour: PRIMARY,
            text: d.distinct_rows.to_string(),
        },
        Bar {
            label: "rows copying another".into(),
            value: d.duplicate_rows as f64,
            colour: CONTRAST,
            text: d.duplicate_rows.to_string(),
        },
    ];
    let hi = d.rows as f64 * 1.18;
    Some(figure(
        "slide_duplicates.svg",
        format!("{title}: rows, distinct rows ignoring the id, and rows that copy another row."),
        |root| bars(root, &title, "rows", &rows, (0.0, hi), 0, None),
    ))
}

/// The inflation itself, naive (shuffled k-fold) minus honest (group k-fold) R² per model and
/// feature set, on an axis from 0 to just past the largest gap (zoomed, and the axis says so).
/// The mean baseline is left out: its R² is not a fit, and its gap would set the scale.
/// Title rule: "Naive CV inflates R² by up to +G" with G the largest gap.
fn cv_inflation(f: &Findings) -> Option<Figure> {
    let r = &f.regression;
    if r.skipped.is_some() {
        return None;
    }
    let gaps: Vec<_> = r
        .gaps
        .iter()
        .filter(|g| g.model != crate::ml::regressors::ModelKind::Mean && g.r2_inflation.is_finite())
        .collect();
    if gaps.is_empty() {
        return None;
    }
    let max = gaps
        .iter()
        .map(|g| g.r2_inflation)
        .fold(f64::NEG_INFINITY, f64::max);
    let min = gaps
        .iter()
        .map(|g| g.r2_inflation)
        .fold(f64::INFINITY, f64::min);
    let title = if max > 0.0 {
        format!("Copied rows inflate naive R² by up to {max:+.3}")
    } else {
        "Naive and honest R² agree: no inflation".to_string()
    };
    let rows: Vec<Bar> = gaps
        .iter()
        .map(|g| Bar {
            label: format!(
                "{} · {}",
                g.model.label(),
                words(&serde_name(&g.feature_set))
            ),
            value: g.r2_inflation,
            colour: if g.r2_inflation == max {
                CONTRAST
            } else {
                PRIMARY
            },
            text: format!("{:+.3}", g.r2_inflation),
        })
        .collect();
    let hi = (max.max(0.0) * 1.3).max(0.01);
    let lo = min.min(0.0) * 1.3;
    let decimals = if hi < 0.1 { 2 } else { 1 };
    let desc = format!("naive − honest R² (axis zoomed to {lo:.2} … {hi:.2})");
    Some(figure(
        "slide_cv_inflation.svg",
        format!(
            "{title}: shuffled k-fold R² minus group k-fold R² per model and feature set; the mean baseline is left out."
        ),
        |root| bars(root, &title, &desc, &rows, (lo, hi), decimals, None),
    ))
}

/// Honest (group-aware) R² of every model on the best model's feature set, the mean baseline
/// grey, the best model highlighted, the success target as a line. Title rule: "M predicts
/// spend: R² V, target T" when met, "No model reaches the R² target T (best V)" otherwise.
fn spend(f: &Findings) -> Option<Figure> {
    use crate::ml::cv::Scheme;
    use crate::ml::regressors::ModelKind;
    let r = &f.regression;
    let (Some(best), Some(set)) = (r.best.model, r.best.feature_set) else {
        return None;
    };
    if r.skipped.is_some() {
        return None;
    }
    let s = &f.provenance.settings.regression;
    let rows: Vec<Bar> = ModelKind::ALL
        .iter()
        .filter_map(|&m| {
            let c = r
                .scores
                .iter()
                .find(|c| c.model == m && c.feature_set == set && c.scheme == Scheme::GroupKFold)?;
            Some(Bar {
                label: if m == ModelKind::Mean {
                    "mean (baseline)".to_string()
                } else {
                    m.label().to_string()
                },
                value: c.r2.mean,
                colour: if m == best {
                    PRIMARY
                } else if m == ModelKind::Mean {
                    MUTED
                } else {
                    frame::series(7)
                },
                text: format!("{:.3}", c.r2.mean),
            })
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let v = r.best.r2.mean;
    let met = s.meets(v, r.best.rmse_over_sd.mean);
    let title = if met {
        format!(
            "{} predicts spend: R² {v:.3}, target {:.2}",
            capital(best.label()),
            s.success_r2
        )
    } else {
        format!(
            "No model reaches the R² target {:.2} (best {v:.3})",
            s.success_r2
        )
    };
    let lo = rows.iter().map(|b| b.value).fold(0.0, f64::min).max(-1.0) - 0.05;
    let desc = format!(
        "honest R² ({}, {} features)",
        "group k-fold",
        words(&serde_name(&set))
    );
    Some(figure(
        "slide_spend.svg",
        format!(
            "{title}: group-aware cross-validated R² per model, mean baseline in grey, target as a red line."
        ),
        |root| {
            bars(
                root,
                &title,
                &desc,
                &rows,
                (lo, 1.15),
                1,
                Some(Line {
                    at: s.success_r2,
                    label: format!("target {:.2}", s.success_r2),
                }),
            )
        },
    ))
}

/// Honest F1 (stratified group k-fold, honest inputs) of every model with and without SMOTE, the
/// always-"yes" baseline (F1 = 2p / (1 + p) for a positive share p: precision p, recall 1) grey,
/// the best highlighted, the F1 target as a line. Title rule as for [`spend`].
fn growth(f: &Findings) -> Option<Figure> {
    let c = &f.classification;
    if c.error.is_some() || c.scheme_gaps.is_empty() {
        return None;
    }
    let target = f.provenance.settings.classification.target_f1;
    let best = c
        .scheme_gaps
        .iter()
        .map(|g| g.group_f1)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut rows: Vec<Bar> = c
        .scheme_gaps
        .iter()
        .map(|g| Bar {
            label: format!(
                "{}{}",
                words(&serde_name(&g.model)),
                if g.smote { " + SMOTE" } else { "" }
            ),
            value: g.group_f1,
            colour: if g.group_f1 == best {
                PRIMARY
            } else {
                frame::series(7)
            },
            text: format!("{:.3}", g.group_f1),
        })
        .collect();
    let p = c.label.share;
    if p > 0.0 {
        let b = 2.0 * p / (1.0 + p);
        rows.push(Bar {
            label: "always \"yes\" (baseline)".into(),
            value: b,
            colour: MUTED,
            text: format!("{b:.3}"),
        });
    }
    let title = if best > target {
        format!("Growth potential is predictable: F1 {best:.3}, target {target:.2}")
    } else {
        format!("No model reaches the F1 target {target:.2} (best {best:.3})")
    };
    Some(figure(
        "slide_growth.svg",
        format!(
            "{title}: F1 under stratified group k-fold on honest inputs, always-yes baseline in grey, target as a red line."
        ),
        |root| {
            bars(
                root,
                &title,
                "honest F1 (stratified group k-fold)",
                &rows,
                (0.0, 1.15),
                1,
                Some(Line {
                    at: target,
                    label: format!("target {target:.2}"),
                }),
            )
        },
    ))
}

/// Silhouette on distinct rows for every k, the chosen k highlighted, the target as a line.
/// Title rule: "k = K segments: silhouette S clears the target T" or "… misses the target T".
fn segments(f: &Findings) -> Option<Figure> {
    let s = &f.segmentation;
    if s.skipped.is_some() || s.per_k.is_empty() {
        return None;
    }
    let rows: Vec<Bar> = s
        .per_k
        .iter()
        .map(|k| Bar {
            label: format!("k = {}", k.k),
            value: k.silhouette_distinct,
            colour: if k.k == s.chosen_k {
                PRIMARY
            } else {
                frame::series(7)
            },
            text: format!("{:.3}", k.silhouette_distinct),
        })
        .collect();
    let v = s.chosen_silhouette_distinct;
    let verb = if v > s.silhouette_target {
        "clears"
    } else {
        "misses"
    };
    let title = format!(
        "k = {} segments: silhouette {v:.3} {verb} the {:.2} target",
        s.chosen_k, s.silhouette_target
    );
    let lo = rows.iter().map(|b| b.value).fold(0.0, f64::min);
    Some(figure(
        "slide_segments.svg",
        format!(
            "{title}: silhouette on distinct rows per number of segments k, chosen k highlighted, target as a red line."
        ),
        |root| {
            bars(
                root,
                &title,
                "silhouette on distinct rows",
                &rows,
                (lo, 1.0),
                1,
                Some(Line {
                    at: s.silhouette_target,
                    label: format!("target {:.2}", s.silhouette_target),
                }),
            )
        },
    ))
}

/// Pooled RMSE of every retraining policy with its number of retrains. Title rule: "P keeps the
/// error lowest: RMSE V with N retrains" for the policy of lowest pooled RMSE.
fn drift(f: &Findings) -> Option<Figure> {
    let d = &f.drift;
    let best = d
        .policies
        .iter()
        .filter(|p| p.pooled_rmse.is_finite())
        .min_by(|a, b| a.pooled_rmse.total_cmp(&b.pooled_rmse))?;
    let rows: Vec<Bar> = d
        .policies
        .iter()
        .map(|p| Bar {
            label: format!(
                "{} ({} retrain{})",
                words(&serde_name(&p.policy)),
                p.retrains,
                if p.retrains == 1 { "" } else { "s" }
            ),
            value: p.pooled_rmse,
            colour: if p.policy == best.policy {
                PRIMARY
            } else {
                frame::series(7)
            },
            text: format!("{:.1}", p.pooled_rmse),
        })
        .collect();
    let hi = rows.iter().map(|b| b.value).fold(0.0, f64::max) * 1.2;
    let title = format!(
        "Retraining {}: RMSE {:.1} with {} retrains",
        words(&serde_name(&best.policy)),
        best.pooled_rmse,
        best.retrains
    );
    let unit = &f.regression.target_unit;
    let desc = if unit.is_empty() {
        "pooled RMSE over all batches (lower is better)".to_string()
    } else {
        format!("pooled RMSE over all batches, {unit} (lower is better)")
    };
    Some(figure(
        "slide_drift.svg",
        format!("{title}: pooled RMSE of each retraining policy over the simulated drift batches."),
        |root| bars(root, &title, &desc, &rows, (0.0, hi.max(1.0)), 0, None),
    ))
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Every `font-size` in an SVG document, in SVG user units (the rule test reads these).
pub fn font_sizes(svg: &str) -> Vec<f64> {
    svg.match_indices("font-size=\"")
        .filter_map(|(i, m)| {
            let rest = &svg[i + m.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built() -> Findings {
        let ds = crate::data::synth(160, 3, &crate::data::SynthSpec::default());
        let mut s = crate::settings::Settings::default();
        s.repeats = 1;
        crate::pipeline::analyze(&ds, &s)
    }

    /// The rule of the deck: no text in any slide figure is smaller than the minimum, measured in
    /// the SVG as written, scaled to the smallest size a slide shows it at.
    #[test]
    fn no_slide_figure_text_is_below_the_minimum() {
        let f = built();
        let figs = all(&f);
        assert_eq!(
            figs.len(),
            6,
            "{:?}",
            figs.iter().map(|f| &f.name).collect::<Vec<_>>()
        );
        for fig in &figs {
            assert!(fig.name.starts_with("slide_"), "{}", fig.name);
            assert!(!fig.svg.contains("could not be drawn"), "{}", fig.name);
            let sizes = font_sizes(&fig.svg);
            assert!(!sizes.is_empty(), "{} has no text", fig.name);
            let min = sizes.iter().copied().fold(f64::INFINITY, f64::min);
            assert!(
                min * frame::SLIDE_MIN_SCALE >= frame::SLIDE_MIN_RENDERED_PX,
                "{}: text of {min} SVG px renders at {:.1} px < {} px",
                fig.name,
                min * frame::SLIDE_MIN_SCALE,
                frame::SLIDE_MIN_RENDERED_PX
            );
        }
        // The report figures do not meet that rule: that is why the deck has its own.
        let report_min = crate::plot::all(&f)
            .iter()
            .flat_map(|g| font_sizes(&g.svg))
            .fold(f64::INFINITY, f64::min);
        assert!(report_min * frame::SLIDE_MIN_SCALE < frame::SLIDE_MIN_RENDERED_PX);
        // Every row is labelled (the labels ride on ticks at the row centres).
        let svg = |name: &str| &figs.iter().find(|g| g.name == name).unwrap().svg;
        assert!(svg("slide_spend.svg").contains("mean (baseline)"));
        assert!(svg("slide_spend.svg").contains("random forest"));
        assert!(svg("slide_growth.svg").contains("always &quot;yes&quot; (baseline)"));
        assert!(svg("slide_growth.svg").contains("logistic + SMOTE"));
        assert!(svg("slide_segments.svg").contains(&format!("k = {}", f.segmentation.chosen_k)));
        assert!(svg("slide_duplicates.svg").contains("distinct customers"));
    }

    #[test]
    fn font_sizes_are_read_from_the_svg() {
        assert_eq!(
            font_sizes("<text font-size=\"24.5\">a</text><text font-size=\"30\">b</text>"),
            vec![24.5, 30.0]
        );
    }

    /// The inflation figure shows naive − honest per model, from the findings, and its title
    /// names the largest gap (computed here independently from the same findings).
    #[test]
    fn inflation_figure_states_the_largest_gap() {
        let f = built();
        let max = f
            .regression
            .gaps
            .iter()
            .filter(|g| g.model != crate::ml::regressors::ModelKind::Mean)
            .map(|g| g.naive_r2 - g.group_r2)
            .fold(f64::NEG_INFINITY, f64::max);
        let fig = all(&f)
            .into_iter()
            .find(|g| g.name == "slide_cv_inflation.svg")
            .unwrap();
        if max > 0.0 {
            assert!(fig.svg.contains(&format!("up to {max:+.3}")), "{max}");
        }
        assert!(!fig.svg.contains("mean ·"), "the baseline is left out");
        assert_eq!(all(&f), all(&f), "deterministic");
    }
}
