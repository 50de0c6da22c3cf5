//! The one frame every figure is drawn in: sizes, fonts, the palette, the legend, and the single
//! way a figure that cannot be drawn turns into a figure that says so.
//!
//! # Style guide for figures
//!
//! - **Size.** A figure is [`STANDARD`] (720 × 450 px, readable at README width) unless it is a
//!   grid of small multiples: then it is [`WIDTH`] wide ([`WIDER`] or [`WIDE`] when two or
//!   three panels side by side each need their own y axis) and grows by a fixed [`panel`]
//!   height per row ([`small_multiples`]). Sizes are fixed so the same findings give the same
//!   bytes; nothing depends on system fonts.
//! - **Fonts.** One family, [`FONT`], and sizes only from [`px`]: titles [`px::TITLE`], panel
//!   titles [`px::PANEL_TITLE`], tick labels [`px::TICK`], axis descriptions [`px::AXIS`], notes
//!   and bar values [`px::NOTE`]. The scale still has in-between steps that older figures use;
//!   a new figure picks the named role, not a number.
//! - **Palette.** Every hue comes from [`TABLEAU10`]: series, models, clusters and category
//!   levels take [`series`]`(i)` in their natural order, and the roles [`PRIMARY`],
//!   [`CONTRAST`] and [`ALERT`] are its first, second and fourth colour. Greys and black are
//!   ink, not data: [`GRID`], [`REFERENCE`] (reference lines such as y = x or zero), [`MUTED`]
//!   (the bar that is not the point). The one continuous scale is [`DIVERGING_POSITIVE`] /
//!   [`DIVERGING_NEGATIVE`] through white, for signed values such as correlations.
//! - **Legend never over data.** Draw the legend with [`legend`] in the corner the data leave
//!   empty, and say at the call why that corner is free; when no corner is free, make headroom
//!   (extend the axis) rather than cover points.
//! - **Grid no denser than ticks.** Grid lines sit at the labelled ticks only (light lines
//!   [`TRANSPARENT`](plotters::style::TRANSPARENT), bold lines [`GRID`]); a categorical axis has
//!   no grid.
//! - **Titles state the finding.** A title or caption says what the reader should see ("copied
//!   rows inflate naive cross-validated F1"), not only what is plotted ("F1 by scheme"); axis
//!   descriptions name the column and its unit.
//! - **Slides get their own figures.** A report figure scaled onto a slide shrinks its text to
//!   7–8 px. Slide figures ([`crate::plot::slides`]) are drawn at [`SLIDE`] with text no smaller
//!   than [`px::SLIDE_MIN`] (≥ 18 px on a 1280 × 720 slide, checked by a unit test on the SVG and
//!   by the browser test on the rendered page), one message per figure, few rows, no legend: the
//!   row labels and colours say it (highlight = the answer, grey = the baseline, red line = the
//!   target). When the message is a small difference between large numbers, plot the
//!   difference itself (naive − honest R²) on an axis that says it is zoomed.
//! - **Review checklist** (report and slides): does the title state the finding? Is any legend
//!   over data? Is the grid denser than the labelled ticks (plotters' default light mesh draws
//!   ten lines per tick: switch it off with `light_line_style(TRANSPARENT)`)? Is every number on
//!   the figure also in findings.json?
//! - **One failure path.** A drawing function returns `Result<String, PlotError>` (usually via
//!   [`draw`]); [`svg_or_fallback`] turns an error into a small SVG that says the figure could not
//!   be drawn and why. No figure panics and none is silently dropped.

use plotters::chart::{ChartContext, SeriesLabelPosition};
use plotters::coord::CoordTranslate;
use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::{BLACK, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend, WHITE};
use plotters::style::{Color, FontDesc, RGBColor};
use thiserror::Error;

/// The drawing area of one SVG figure (or of one panel of it).
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Width of a standard figure, in pixels.
pub const WIDTH: u32 = 720;
/// Height of a standard figure, in pixels.
pub const HEIGHT: u32 = 450;
/// The standard figure: one chart, or two side by side.
pub const STANDARD: (u32, u32) = (WIDTH, HEIGHT);
/// Width of a two-column grid of small multiples where every panel has its own y axis.
pub const WIDER: u32 = WIDTH + 80;
/// Width of a three-column grid of small multiples (the histograms).
pub const WIDE: u32 = WIDTH + 240;
/// A matrix figure (the correlation heatmap), taller than standard so long row labels fit.
pub const MATRIX: (u32, u32) = (WIDTH, 560);

/// A slide figure ([`crate::plot::slides`]): 16:9 slides leave a strip this shape under the
/// slide's heading, so the figure fills it without being scaled below [`SLIDE_MIN_SCALE`].
pub const SLIDE: (u32, u32) = (1160, 500);
/// The smallest scale the deck's layout shows a [`SLIDE`] figure at, on a 1280 × 720 slide
/// (figure area at least 390 px tall); the browser test measures the real one.
pub const SLIDE_MIN_SCALE: f64 = 0.78;
/// The smallest text a slide may show, in CSS pixels at 1280 × 720.
pub const SLIDE_MIN_RENDERED_PX: f64 = 18.0;

/// Heights of one row of panels in a grid of small multiples, in pixels.
pub mod panel {
    /// A compact panel (histograms, three to a row).
    pub const SHORT: u32 = 260;
    /// A panel of a stacked multi-panel line figure (noise curves).
    pub const MEDIUM: u32 = 280;
    /// A panel with room for a long title or a busy legend (scatter plots, drift timeline).
    pub const TALL: u32 = 300;
}

/// Height of a strip above a chart or a grid of panels that holds a title or a shared legend.
pub const HEADER_STRIP: u32 = 40;

/// Size of a grid of small multiples: `rows` rows of panels `panel_height` high under a `header`
/// strip (for a shared legend; 0 for none), `width` wide.
pub fn small_multiples(width: u32, panel_height: u32, rows: usize, header: u32) -> (u32, u32) {
    (width, panel_height * rows as u32 + header)
}

/// The one font family. plotters' SVG backend writes it as a name and never measures glyphs, so
/// output does not depend on the fonts installed.
pub const FONT: &str = "sans-serif";

/// The type scale, in pixels. Figures name a role; the in-between steps exist because older
/// figures use them, and removing them would move those figures' bytes.
pub mod px {
    /// Notes under a chart, values printed on bars, tick labels of dense panels.
    pub const NOTE: u32 = 11;
    /// Tick labels, legend entries, in-chart labels.
    pub const TICK: u32 = 12;
    /// Axis descriptions (column and unit).
    pub const AXIS: u32 = 13;
    /// Emphasised in-chart text: values in heatmap cells, a shared legend strip.
    pub const EMPHASIS: u32 = 14;
    /// Title of one panel in a grid of panels.
    pub const PANEL_TITLE: u32 = 15;
    /// Title of a chart whose title is a long sentence.
    pub const SUBTITLE: u32 = 16;
    /// Title of a chart in a figure of one or two charts (segmentation).
    pub const CHART_TITLE: u32 = 17;
    /// Title of a figure.
    pub const TITLE: u32 = 18;
    /// A single large number (a confusion-matrix count).
    pub const DISPLAY: u32 = 20;
    /// The smallest text of a slide figure: tick labels, row labels, axis descriptions. plotters
    /// writes sizes divided by 1.24, so this is 24.2 SVG px: at least 18 px on screen at the
    /// deck's smallest figure scale ([`super::SLIDE_MIN_SCALE`]).
    pub const SLIDE_MIN: u32 = 30;
    /// Values printed at the end of a slide figure's bars.
    pub const SLIDE_VALUE: u32 = 32;
    /// The title of a slide figure (its one message).
    pub const SLIDE_TITLE: u32 = 38;
}

/// [`FONT`] at `size` pixels.
pub fn font(size: u32) -> FontDesc<'static> {
    (FONT, size).into()
}

/// The Tableau 10 palette, distinguishable in print and by most colour-blind readers: the only
/// source of hues in the figures.
pub const TABLEAU10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of series, model, cluster or category level `i` (wrapping after ten).
pub fn series(i: usize) -> RGBColor {
    TABLEAU10[i % TABLEAU10.len()]
}

/// The main series, or the one bar colour of a single-series chart (Tableau blue).
pub const PRIMARY: RGBColor = TABLEAU10[0];
/// The series compared with [`PRIMARY`], or a highlighted bar (Tableau orange).
pub const CONTRAST: RGBColor = TABLEAU10[1];
/// A target or alarm the reader should check a value against (Tableau red).
pub const ALERT: RGBColor = TABLEAU10[3];

/// Grid lines at the ticks: light enough to read values without competing with data.
pub const GRID: RGBColor = RGBColor(225, 225, 225);
/// Reference lines that are not data (y = x, zero).
pub const REFERENCE: RGBColor = RGBColor(110, 110, 110);
/// A bar shown for comparison but not the point (single rows, the unachievable leaky score).
pub const MUTED: RGBColor = RGBColor(150, 150, 150);
/// End of the diverging scale for +1 (deep red); 0 is white.
pub const DIVERGING_POSITIVE: RGBColor = RGBColor(178, 24, 43);
/// End of the diverging scale for −1 (deep blue); 0 is white.
pub const DIVERGING_NEGATIVE: RGBColor = RGBColor(33, 102, 172);

/// Draws the legend of a chart's labelled series in one house style (translucent white box,
/// thin grey border, [`px::TICK`] labels) at `position`, which the caller chooses where the data
/// are not.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(font(px::TICK))
        .draw()
}

/// Why a figure could not be drawn.
#[derive(Debug, Error)]
pub enum PlotError {
    /// plotters refused an element or a layout (for example a range it cannot map).
    #[error("plotters could not draw it: {0}")]
    Draw(#[from] DrawingAreaErrorKind<std::io::Error>),
}

/// Draws one SVG of `size` on a white background with `body`.
pub fn draw(
    size: (u32, u32),
    body: impl FnOnce(&Area) -> Result<(), PlotError>,
) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        body(&root)?;
        root.present()?;
    }
    Ok(svg)
}

/// The SVG of a drawn figure, or, when drawing failed, a figure of the same `size` that says it
/// could not be drawn and why: the report still renders, and the reason is visible where the
/// figure would be.
pub fn svg_or_fallback(size: (u32, u32), drawn: Result<String, PlotError>) -> String {
    match drawn {
        Ok(svg) => svg,
        Err(e) => format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\"><text x=\"10\" y=\"20\">figure could not be drawn: {}</text></svg>\n",
            size.0,
            size.1,
            crate::html::escape(&e.to_string())
        ),
    }
}

/// [`draw`] followed by [`svg_or_fallback`]: the SVG text of a figure, always.
pub fn render(size: (u32, u32), body: impl FnOnce(&Area) -> Result<(), PlotError>) -> String {
    svg_or_fallback(size, draw(size, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_that_cannot_be_drawn_says_why_in_a_small_svg() {
        let svg = render((300, 200), |_| {
            Err(PlotError::Draw(DrawingAreaErrorKind::LayoutError))
        });
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("width=\"300\" height=\"200\""));
        assert!(svg.contains("figure could not be drawn: plotters could not draw it: Bad layout"));
    }

    #[test]
    fn a_drawn_figure_is_a_white_svg_of_the_given_size() {
        let svg = render(STANDARD, |_| Ok(()));
        assert!(svg.contains("width=\"720\" height=\"450\""));
        assert!(!svg.contains("could not be drawn"));
    }
}
