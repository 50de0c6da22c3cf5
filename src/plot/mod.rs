//! The shared drawing layer: the [`Figure`] type, the one [`frame`] every figure is drawn in
//! (sizes, fonts, palette, legend, failure path) and shared chart helpers ([`panels`]). Each
//! analysis draws its own figures from its findings in `src/analysis/NAME/figures.rs`, never
//! from a refit; [`all`] collects them through the analysis registry.

pub mod frame;
pub mod panels;
pub mod slides;

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
