//! The Results scorecard: every registered analysis' success targets (see
//! [`crate::analysis::Analysis::targets`]), honest and naive, met or not, counted. The targets
//! and their thresholds are the analyses' own — stated once, in their settings — so this module
//! only collects and counts.

use serde::Serialize;

use crate::findings::Findings;
pub use crate::targets::{Measure, Target};

/// All targets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// The targets, in registry (section) order.
    pub targets: Vec<Target>,
    /// How many targets have an honest measurement.
    pub measured: usize,
    /// How many targets are met by the honest measurement.
    pub met: usize,
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
    Scorecard {
        targets,
        measured,
        met,
    }
}
