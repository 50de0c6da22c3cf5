//! customer-intel turns a customer table into an honest, reproducible analysis: validated data,
//! EDA, spend regression, growth-potential classification, segmentation, robustness and drift,
//! and a renderer that fills README sections, an HTML report and slides from the findings.
//!
//! Data flows one way: [`data`] → [`analysis`] → [`findings::Findings`] → [`plot`] / rendering.
#![warn(missing_docs)]

pub mod analysis;
pub mod bench;
pub mod bench_peer;
pub mod bench_stream;
pub mod bounds;
pub mod data;
pub mod display;
pub mod drift;
pub mod features;
pub mod findings;
pub mod html;
pub mod ml;
pub mod models;
pub mod notebook;
pub mod output;
pub mod par;
pub mod pdf;
pub mod pipeline;
pub mod plot;
pub mod provenance;
pub mod render;
pub mod rng;
pub mod score;
#[cfg(feature = "serve")]
pub mod serve;
pub mod settings;
pub mod sparse;
pub mod stats;
pub mod stream;
pub mod targets;
pub mod tracking;

#[cfg(test)]
pub(crate) mod test_fixtures;
