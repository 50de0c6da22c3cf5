//! Figures drawn with plotters from [`Findings`] (never from a refit), as deterministic SVG.

pub mod classification;
pub mod regression;
pub mod segmentation;

use crate::findings::Findings;

pub mod eda;

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
    figures
}
