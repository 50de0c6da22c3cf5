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

/// Every figure the findings support, in registry order ([`crate::analysis::figures`]).
pub fn all(findings: &Findings) -> Vec<Figure> {
    crate::analysis::figures(findings)
}
