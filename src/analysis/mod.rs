//! The analyses. Each is a pure, seeded function of a [`crate::data::Dataset`] and
//! [`crate::settings::Settings`] returning a serialisable findings struct.

pub mod classification;
pub mod drift;
pub mod eda;
pub mod regression;
pub mod robustness;
pub mod segmentation;

#[cfg(test)]
mod scale_tests;
