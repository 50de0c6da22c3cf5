//! Figures of the exploratory analysis, drawn from [`EdaFindings`] only: histograms with a
//! density outline, the correlation heatmap, target-against-predictor scatter plots coloured by
//! category, box plots of the target by category, duplicate-group sizes and the VIF bars.
//!
//! Every figure is drawn in the shared [`frame`](super::frame) (fixed sizes, no system fonts), so
//! the same findings give the same bytes. The small helpers at the top are shared by all of them.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::analysis::eda::EdaFindings;
use crate::findings::Findings;
use crate::plot::Figure;
use crate::plot::frame::{
    Area, CONTRAST, DIVERGING_NEGATIVE, DIVERGING_POSITIVE, GRID, HEADER_STRIP, MATRIX, MUTED,
    PRIMARY, PlotError, STANDARD, WIDE, WIDER, font, panel, px, render, series, small_multiples,
};

/// Continuous x and y axes.
type Plane = Cartesian2d<RangedCoordf64, RangedCoordf64>;

/// A text style of the given size and colour, anchored at the given point of the text.
fn anchored(size: u32, ink: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle {
        font: font(size),
        color: ink.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

fn figure(name: &str, caption: &str, svg: String) -> Figure {
    Figure {
        name: name.into(),
        caption: caption.into(),
        svg,
    }
}

/// An axis description: `column (unit)`, or the column alone when it has no unit.
fn axis_label(column: &str, unit: &str) -> String {
    if unit.is_empty() {
        column.to_string()
    } else {
        format!("{column} ({unit})")
    }
}

/// Compact tick label: thousands as `57k`, otherwise up to two decimals without trailing zeros.
fn tick(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        let k = v / 1000.0;
        if (k - k.round()).abs() < 1e-9 {
            format!("{}k", k.round() as i64)
        } else {
            format!("{k:.1}k")
        }
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Label of the category at integer position `v` on a categorical axis (empty between categories).
fn category_tick(names: &[String], v: f64) -> String {
    let i = v.round();
    if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
        names[i as usize].clone()
    } else {
        String::new()
    }
}

/// A padded range around `lo..hi`.
fn padded(lo: f64, hi: f64, frac: f64) -> std::ops::Range<f64> {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
    (lo - frac * span)..(hi + frac * span)
}

/// Every EDA figure, in a stable order.
pub fn figures(findings: &Findings) -> Vec<Figure> {
    figures_of(&findings.eda, findings.provenance.settings.eda.high_vif)
}

/// [`figures`] drawn from the EDA findings alone (as [`crate::pipeline::eda_and_features`]
/// returns them); `high_vif` is the settings' VIF alarm level, drawn as a line on the VIF chart.
pub fn figures_of(f: &EdaFindings, high_vif: f64) -> Vec<Figure> {
    if f.rows == 0 {
        return Vec::new();
    }
    vec![
        figure(
            "eda_histograms.svg",
            "Distribution of each numeric column: histogram with a Gaussian kernel density outline",
            histograms(f),
        ),
        figure(
            "eda_correlation.svg",
            "Pearson correlations of the numeric columns",
            correlation_heatmap(f),
        ),
        figure(
            "eda_scatter.svg",
            "Target against each predictor, coloured by category level (exact duplicate rows overlap as one point)",
            scatter(f),
        ),
        figure(
            "eda_target_by_category.svg",
            "Target by category level (Tukey box plots)",
            boxes(f),
        ),
        figure(
            "eda_duplicate_groups.svg",
            "Rows by duplicate-group size (rows identical except the id)",
            duplicate_groups(f),
        ),
        figure(
            "eda_vif.svg",
            "Variance inflation factor of each predictor, with the alert threshold",
            vif_bars(f, high_vif),
        ),
    ]
}

fn histograms(f: &EdaFindings) -> String {
    let n = f.distributions.len();
    let cols = if n > 4 { 3 } else { 2.min(n.max(1)) };
    let rows = n.div_ceil(cols).max(1);
    render(small_multiples(WIDE, panel::SHORT, rows, 0), |root| {
        let panels = root.split_evenly((rows, cols));
        for (d, area) in f.distributions.iter().zip(panels.iter()) {
            let (lo, hi) = (d.edges[0], d.edges[d.edges.len() - 1]);
            let top = d.counts.iter().copied().max().unwrap_or(1) as f64;
            let top = top.max(d.density_y.iter().copied().fold(0.0, f64::max)) * 1.1;
            let mut chart = ChartBuilder::on(area)
                .margin(8)
                .x_label_area_size(36)
                .y_label_area_size(44)
                .build_cartesian_2d(lo..hi, 0.0..top.max(1.0))?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(GRID)
                .x_labels(5)
                .y_labels(5)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .x_desc(axis_label(&d.column, &d.unit))
                .y_desc("rows")
                .label_style(font(px::TICK))
                .axis_desc_style(font(px::AXIS))
                .draw()?;
            chart.draw_series(d.counts.iter().enumerate().map(|(i, &c)| {
                Rectangle::new(
                    [(d.edges[i], 0.0), (d.edges[i + 1], c as f64)],
                    PRIMARY.mix(0.45).filled(),
                )
            }))?;
            chart.draw_series(d.counts.iter().enumerate().map(|(i, &c)| {
                Rectangle::new(
                    [(d.edges[i], 0.0), (d.edges[i + 1], c as f64)],
                    PRIMARY.stroke_width(1),
                )
            }))?;
            chart.draw_series(LineSeries::new(
                d.density_x.iter().copied().zip(d.density_y.iter().copied()),
                CONTRAST.stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

/// Fill colour of a correlation: white at 0, deep red at +1, deep blue at −1.
fn correlation_colour(r: f64) -> RGBColor {
    let t = if r.is_finite() { r.abs().min(1.0) } else { 0.0 };
    let RGBColor(end_r, end_g, end_b) = if r >= 0.0 {
        DIVERGING_POSITIVE
    } else {
        DIVERGING_NEGATIVE
    };
    let mix = |a: u8| (255.0 + (f64::from(a) - 255.0) * t).round() as u8;
    RGBColor(mix(end_r), mix(end_g), mix(end_b))
}

fn correlation_heatmap(f: &EdaFindings) -> String {
    let c = &f.correlation;
    let k = c.columns.len();
    render(MATRIX, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .caption("Pearson r (values in cells)", font(px::SUBTITLE))
            .x_label_area_size(60)
            .y_label_area_size(140)
            .build_cartesian_2d(-0.5..k as f64 - 0.5, -0.5..k as f64 - 0.5)?;
        let names = &c.columns;
        let reversed: Vec<String> = names.iter().rev().cloned().collect();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(k)
            .y_labels(k)
            .x_label_formatter(&|v| category_tick(names, *v))
            .y_label_formatter(&|v| category_tick(&reversed, *v))
            .label_style(font(px::TICK))
            .draw()?;
        for i in 0..k {
            for j in 0..k {
                let r = c.pearson[i][j];
                let (x, y) = (j as f64, (k - 1 - i) as f64);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    correlation_colour(r).filled(),
                )))?;
                let ink = if r.abs() > 0.6 { WHITE } else { BLACK };
                let label = if r.is_finite() {
                    format!("{r:.3}")
                } else {
                    "n/a".into()
                };
                chart.draw_series(std::iter::once(Text::new(
                    label,
                    (x, y),
                    anchored(px::EMPHASIS, ink, HPos::Center, VPos::Center),
                )))?;
            }
        }
        Ok(())
    })
}

fn scatter(f: &EdaFindings) -> String {
    let s = &f.scatter;
    let n = s.x.len();
    let cols = 2.min(n.max(1));
    let rows = n.div_ceil(cols).max(1);
    render(
        small_multiples(WIDER, panel::TALL, rows, HEADER_STRIP),
        |root| {
            let (legend, body) = root.split_vertically(HEADER_STRIP);
            for (i, level) in s.levels.iter().enumerate() {
                let x = 20 + 150 * i as i32;
                legend.draw(&Circle::new((x, 20), 5, series(i).filled()))?;
                legend.draw(&Text::new(level.clone(), (x + 10, 13), font(px::EMPHASIS)))?;
            }
            let ys: Vec<f64> = s.points.iter().map(|p| p.1).collect();
            let (ylo, yhi) = (
                ys.iter().copied().fold(f64::INFINITY, f64::min),
                ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            );
            let panels = body.split_evenly((rows, cols));
            for (k, ((xname, xunit), area)) in s.x.iter().zip(panels.iter()).enumerate() {
                let xs: Vec<f64> = s.points.iter().map(|p| p.0[k]).collect();
                let (xlo, xhi) = (
                    xs.iter().copied().fold(f64::INFINITY, f64::min),
                    xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                );
                let mut chart = ChartBuilder::on(area)
                    .margin(8)
                    .x_label_area_size(36)
                    .y_label_area_size(48)
                    .build_cartesian_2d(padded(xlo, xhi, 0.04), padded(ylo, yhi, 0.05))?;
                chart
                    .configure_mesh()
                    .light_line_style(TRANSPARENT)
                    .bold_line_style(GRID)
                    .x_labels(5)
                    .y_labels(5)
                    .x_label_formatter(&|v| tick(*v))
                    .y_label_formatter(&|v| tick(*v))
                    .x_desc(axis_label(xname, xunit))
                    .y_desc(axis_label(&s.y.0, &s.y.1))
                    .label_style(font(px::TICK))
                    .axis_desc_style(font(px::AXIS))
                    .draw()?;
                chart.draw_series(
                    s.points
                        .iter()
                        .map(|p| Circle::new((p.0[k], p.1), 3, series(p.2).mix(0.7).filled())),
                )?;
            }
            Ok(())
        },
    )
}

fn boxes(f: &EdaFindings) -> String {
    let b = &f.target_by_category;
    let names: Vec<String> = b
        .iter()
        .map(|x| format!("{} (n={})", x.level, x.rows))
        .collect();
    let lo = b
        .iter()
        .flat_map(|x| std::iter::once(x.whisker_low).chain(x.outliers.iter().copied()))
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let hi = b
        .iter()
        .flat_map(|x| std::iter::once(x.whisker_high).chain(x.outliers.iter().copied()))
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let (yname, yunit) = &f.scatter.y;
    let xname = &f.groups.category;
    render(STANDARD, |root| {
        let k = b.len();
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5..k as f64 - 0.5, padded(lo, hi, 0.06))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_labels(k)
            .x_label_formatter(&|v| category_tick(&names, *v))
            .y_label_formatter(&|v| tick(*v))
            .x_desc(xname.as_str())
            .y_desc(axis_label(yname, yunit))
            .label_style(font(px::TICK))
            .axis_desc_style(font(px::AXIS))
            .draw()?;
        for (i, x) in b.iter().enumerate() {
            if x.rows == 0 {
                continue;
            }
            let c = i as f64;
            let colour = series(i);
            let w = 0.3;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(c - w, x.q1), (c + w, x.q3)],
                colour.mix(0.35).filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(c - w, x.q1), (c + w, x.q3)],
                colour.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(c - w, x.median), (c + w, x.median)],
                BLACK.stroke_width(3),
            )))?;
            for (from, to) in [(x.q3, x.whisker_high), (x.q1, x.whisker_low)] {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(c, from), (c, to)],
                    colour.stroke_width(2),
                )))?;
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(c - w / 2.0, to), (c + w / 2.0, to)],
                    colour.stroke_width(2),
                )))?;
            }
            chart.draw_series(
                x.outliers
                    .iter()
                    .map(|&o| Circle::new((c, o), 3, colour.stroke_width(1))),
            )?;
        }
        Ok(())
    })
}

fn duplicate_groups(f: &EdaFindings) -> String {
    let d = &f.duplicates;
    let names: Vec<String> = d
        .group_size_counts
        .iter()
        .map(|(s, _)| {
            if *s == 1 {
                "1 (no copy)".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    let rows: Vec<f64> = d
        .group_size_counts
        .iter()
        .map(|(s, g)| (s * g) as f64)
        .collect();
    let top = rows.iter().copied().fold(1.0, f64::max) * 1.15;
    let caption = format!(
        "{} rows, {} distinct; {:.0}% of random {:.0}% test rows have a twin in training",
        crate::render::format::grouped(d.rows as f64, 0),
        crate::render::format::grouped(d.distinct_rows as f64, 0),
        100.0 * d.split.mean,
        100.0 * d.split.test_share
    );
    let axes = (
        "duplicate-group size (copies of one row, rows)",
        "rows in groups of that size",
    );
    render(STANDARD, |root| {
        let mut chart = category_chart(root, &caption, &names, top, axes)?;
        for (i, ((size, groups), r)) in d.group_size_counts.iter().zip(&rows).enumerate() {
            let colour = if *size == 1 { MUTED } else { CONTRAST };
            let label = if *groups == 1 {
                "1 group".to_string()
            } else {
                format!(
                    "{} groups",
                    crate::render::format::grouped(*groups as f64, 0)
                )
            };
            labelled_bar(&mut chart, i, *r, colour, label)?;
        }
        Ok(())
    })
}

/// A vertical bar chart with one named category per integer position on x, light horizontal
/// grid lines and the given caption and axis descriptions (x, y); bars are drawn by the caller
/// with [`labelled_bar`].
fn category_chart<'a, 'b>(
    root: &'a Area<'b>,
    caption: &str,
    names: &'a [String],
    top: f64,
    (x_desc, y_desc): (&str, &str),
) -> Result<ChartContext<'a, SVGBackend<'b>, Plane>, PlotError> {
    let k = names.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .caption(caption, font(px::PANEL_TITLE))
        .x_label_area_size(44)
        .y_label_area_size(52)
        .build_cartesian_2d(-0.5..k as f64 - 0.5, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .x_labels(k)
        .x_label_formatter(&|v| category_tick(names, *v))
        .y_label_formatter(&|v| tick(*v))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(font(px::TICK))
        .axis_desc_style(font(px::AXIS))
        .draw()?;
    Ok(chart)
}

/// One bar of a [`category_chart`] at category `i`, `height` tall, with `label` on top.
fn labelled_bar(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Plane>,
    i: usize,
    height: f64,
    colour: RGBColor,
    label: String,
) -> Result<(), PlotError> {
    let c = i as f64;
    chart.draw_series(std::iter::once(Rectangle::new(
        [(c - 0.35, 0.0), (c + 0.35, height)],
        colour.filled(),
    )))?;
    chart.draw_series(std::iter::once(Text::new(
        label,
        (c, height),
        anchored(px::TICK, BLACK, HPos::Center, VPos::Bottom),
    )))?;
    Ok(())
}

fn vif_bars(f: &EdaFindings, threshold: f64) -> String {
    let v = &f.collinearity.vif;
    let names: Vec<String> = v.iter().map(|x| x.column.clone()).collect();
    let top = v
        .iter()
        .map(|x| x.vif)
        .filter(|x| x.is_finite())
        .fold(threshold, f64::max)
        * 1.15;
    let caption = format!(
        "line: alert threshold {}; condition number of the standardised predictors {:.1}",
        tick(threshold),
        f.collinearity.condition_number
    );
    let axes = ("predictor", "variance inflation factor (1 / (1 - R²))");
    render(STANDARD, |root| {
        let k = names.len().max(1);
        let mut chart = category_chart(root, &caption, &names, top, axes)?;
        for (i, x) in v.iter().enumerate() {
            let colour = if x.vif >= threshold {
                CONTRAST
            } else {
                PRIMARY
            };
            let h = if x.vif.is_finite() { x.vif } else { top };
            labelled_bar(&mut chart, i, h, colour, format!("{:.1}", x.vif))?;
        }
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, threshold), (k as f64 - 0.5, threshold)],
            BLACK.stroke_width(2),
        )))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::bundled;
    use crate::{pipeline, settings::Settings};

    fn bundled_findings() -> Findings {
        pipeline::analyze(&bundled(), &Settings::default())
    }

    #[test]
    fn figures_are_deterministic_svg_with_labels() {
        let f = bundled_findings();
        let a = figures(&f);
        let b = figures(&f);
        assert_eq!(a, b);
        let names: Vec<&str> = a.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "eda_histograms.svg",
                "eda_correlation.svg",
                "eda_scatter.svg",
                "eda_target_by_category.svg",
                "eda_duplicate_groups.svg",
                "eda_vif.svg"
            ]
        );
        for fig in &a {
            assert!(
                fig.svg.starts_with("<svg") && fig.svg.trim_end().ends_with("</svg>"),
                "{}",
                fig.name
            );
            assert!(!fig.svg.contains("could not be drawn"), "{}", fig.name);
        }
        let svg = |n: &str| &a.iter().find(|x| x.name == n).unwrap().svg;
        assert!(svg("eda_histograms.svg").contains("annual_income (USD per year)"));
        assert!(
            svg("eda_correlation.svg").contains("0.987"),
            "cell values are printed"
        );
        assert!(
            svg("eda_scatter.svg").contains("purchase_amount (USD)")
                && svg("eda_scatter.svg").contains("East")
        );
        assert!(svg("eda_target_by_category.svg").contains("East (n=6)"));
        assert!(svg("eda_duplicate_groups.svg").contains("15 groups"));
        assert!(
            svg("eda_vif.svg").contains("57.7")
                && svg("eda_vif.svg").contains("alert threshold 10")
        );
    }

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(tick(57_000.0), "57k");
        assert_eq!(tick(62_500.0), "62.5k");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(20.0), "20");
        assert_eq!(category_tick(&["a".into(), "b".into()], 1.0), "b");
        assert_eq!(category_tick(&["a".into(), "b".into()], 0.5), "");
    }
}
