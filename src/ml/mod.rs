//! Machine-learning plumbing shared by the supervised analyses: cross-validation splitters that
//! respect duplicate groups, metrics, and resampling.

pub mod class_metrics;
pub mod cv;
pub mod smote;
