//! Figures drawn with plotters from [`Findings`] (never from a refit), as deterministic SVG.
//! Every figure is drawn in the one [`frame`]: its sizes, fonts, palette, legend and failure path.

pub mod classification;
pub mod eda;
pub mod frame;
pub mod mlops;
pub mod regression;
pub mod segmentation;

use crate::findings::Findings;

pub use frame::{PlotError, TABLEAU10};

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

/// Every figure the findings support, in a stable order.
pub fn all(findings: &Findings) -> Vec<Figure> {
    let mut figures = Vec::new();
    figures.extend(eda::figures(findings));
    figures.extend(regression::figures(&findings.regression));
    figures.extend(classification::figures(&findings.classification));
    figures.extend(segmentation::figures(&findings.segmentation));
    figures.extend(mlops::figures(findings));
    figures
}
