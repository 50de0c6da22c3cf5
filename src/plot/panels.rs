//! A small multi-panel line chart shared by the robustness and drift figures: each panel has
//! lines (optionally dashed, with error bars or highlighted points), horizontal reference rules
//! and its own legend placement, drawn on the shared frame.

use plotters::prelude::*;

use super::frame::{self, Area, PlotError, WIDTH, font, px};

pub(crate) struct Line {
    pub(crate) label: String,
    pub(crate) color: RGBColor,
    pub(crate) dashed: bool,
    pub(crate) points: Vec<(f64, f64)>,
    /// Vertical error bars (x, low, high).
    pub(crate) errors: Vec<(f64, f64, f64)>,
    /// Points highlighted with a large hollow square (e.g. a retrained model's first batch).
    pub(crate) markers: Vec<(f64, f64)>,
}

impl Line {
    /// A solid line without error bars or markers.
    pub(crate) fn new(label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Line {
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
pub(crate) struct Rule {
    pub(crate) label: String,
    pub(crate) y: f64,
}

/// One panel of a multi-panel line chart.
pub(crate) struct Panel<'a> {
    pub(crate) title: &'a str,
    pub(crate) x_desc: &'a str,
    pub(crate) y_desc: &'a str,
    pub(crate) lines: Vec<Line>,
    pub(crate) rules: Vec<Rule>,
    /// Lower bound of the y axis if it should not follow the data (e.g. 0).
    pub(crate) y_floor: Option<f64>,
    /// Where the legend goes (where the lines are not).
    pub(crate) legend: SeriesLabelPosition,
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
/// Draws the panels in a grid of `cols` columns, each `panel_height` px tall, as one SVG.
pub(crate) fn render(panels: &[Panel], cols: usize, panel_height: u32) -> String {
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
