//! Machine-learning plumbing shared by the supervised analyses: cross-validation splitters that
//! respect duplicate groups, metrics, and resampling.

pub mod class_metrics;
pub mod cluster_metrics;
pub mod cv;
pub mod metrics;
pub mod regressors;
pub mod smote;
