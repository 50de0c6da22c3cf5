//! Figures drawn with plotters from [`Findings`] (never from a refit), as deterministic SVG.

pub mod classification;
pub mod eda;
pub mod mlops;
pub mod regression;
pub mod segmentation;

use plotters::chart::{ChartContext, SeriesLabelPosition};
use plotters::coord::CoordTranslate;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::{BLACK, DrawingBackend, WHITE};
use plotters::style::{Color, RGBColor};

use crate::findings::Findings;

/// The Tableau 10 palette, distinguishable in print and by most colour-blind readers; shared by
/// the figures that colour series or clusters by index.
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

/// Draws the legend of a chart's labelled series in one house style (translucent white box,
/// thin grey border, 12 px labels) at `position`.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 12))
        .draw()
}

/// One rendered figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name under `figures/`, for example `eda_correlation.svg`.
    pub name: String,
    /// Short caption for reports.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// Every figure the findings support, in registry order ([`crate::analysis::figures`]).
pub fn all(findings: &Findings) -> Vec<Figure> {
    crate::analysis::figures(findings)
}
