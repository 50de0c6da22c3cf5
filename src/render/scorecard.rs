//! The Results scorecard: every registered analysis' success targets (see
//! [`crate::analysis::Analysis::targets`]), honest and naive, met or not, counted. The targets
//! and their thresholds are the analyses' own — stated once, in their settings — so this module
//! only collects and counts: how many are met, and how many of those are *informative* (their
//! baseline — one column, one split, structureless data — misses the target) or not.

use serde::Serialize;

use crate::findings::Findings;
pub use crate::targets::{Baseline, BaselineKind, Measure, Target, Verdict};

/// All targets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// The targets, in registry (section) order.
    pub targets: Vec<Target>,
    /// How many targets have an honest measurement.
    pub measured: usize,
    /// How many targets are met by the honest measurement.
    pub met: usize,
    /// Met, and the baseline misses: the target tells the model from the trivial rule.
    pub informative: usize,
    /// Met, but the baseline meets it too.
    pub uninformative: usize,
    /// Met, with no baseline measured.
    pub unjudged: usize,
    /// Measured and missed.
    pub missed: usize,
}

/// Builds the scorecard from the typed findings: a target whose analysis produced no value
/// shows as not measured.
pub fn build(f: &Findings) -> Scorecard {
    let targets = crate::analysis::targets(f);
    let measured = targets.iter().filter(|t| t.honest.is_some()).count();
    let met = targets
        .iter()
        .filter(|t| t.honest.as_ref().is_some_and(|m| m.met))
        .count();
    let count = |v: Verdict| targets.iter().filter(|t| t.verdict == v).count();
    Scorecard {
        measured,
        met,
        informative: count(Verdict::MetInformative),
        uninformative: count(Verdict::MetUninformative),
        unjudged: count(Verdict::MetUnjudged),
        missed: count(Verdict::Missed),
        targets,
    }
}
