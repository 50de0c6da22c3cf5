//! Machine-learning plumbing shared by the analyses: cross-validation splitters that respect
//! duplicate groups, metrics, resampling, and the regression and classification model wrappers.
//! Nothing here knows about settings, analyses or rendering: callers pass plain parameters.

pub mod class_metrics;
pub mod classifiers;
pub mod cluster_metrics;
pub mod cv;
pub mod drift_metrics;
pub mod gmm;
pub mod logistic;
pub mod metrics;
pub(crate) mod nearest;
pub mod penalised;
pub mod regressors;
pub mod smote;
pub mod tree;
