//! Planted segments: a seeded table of customers drawn from segments with given trait profiles
//! (each numeric column shifted by a stated number of standard deviations per segment), so tests
//! can check that the segmentation recovers each segment's traits and intended action.

use std::collections::BTreeMap;

use rand::Rng as _;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};

use super::schema::Roles;
use super::synth::{SynthSpec, csv_text};
use super::{Dataset, Provenance, sha256_hex};
use crate::rng;

/// One planted segment.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedSegment {
    /// Customers drawn from it.
    pub rows: usize,
    /// Shift of each numeric column (roles order: features, then the target) from the base mean,
    /// in the base standard deviations.
    pub offsets: Vec<f64>,
}

/// Draws the segments' customers: column `j` of a customer of segment `s` is
/// `mean_j + sd_j · (offset_sj + noise · e)` with independent standard-normal `e`, rounded and
/// clamped like [`super::synth`] (means and sds from `base`, region levels drawn uniformly),
/// rows shuffled. No duplicates.
///
/// ```
/// use customer_intel::data::{planted, PlantedSegment, SynthSpec};
/// let segs = [
///     PlantedSegment { rows: 50, offsets: vec![0.0, 2.0, -2.0, 0.0, 0.0] },
///     PlantedSegment { rows: 50, offsets: vec![0.0, -2.0, 2.0, 0.0, 0.0] },
/// ];
/// let ds = planted(&segs, 0.3, 1, &SynthSpec::default());
/// assert_eq!(ds.n_rows(), 100);
/// ```
pub fn planted(segments: &[PlantedSegment], noise: f64, seed: u64, base: &SynthSpec) -> Dataset {
    let roles = Roles::default();
    let cols = roles.numeric_columns();
    let mut r = rng::stream(seed, "planted");
    let mut rows: Vec<(Vec<f64>, String)> = Vec::new();
    for seg in segments {
        for _ in 0..seg.rows {
            let row = cols
                .iter()
                .enumerate()
                .map(|(j, col)| {
                    let e: f64 = StandardNormal.sample(&mut r);
                    let shift = seg.offsets.get(j).copied().unwrap_or(0.0);
                    let v = base.means[j] + base.sds[j] * (shift + noise * e);
                    super::synth::snap(v, &roles.range(col))
                })
                .collect();
            let level = roles.category_levels[r.gen_range(0..roles.category_levels.len())].clone();
            rows.push((row, level));
        }
    }
    rows.shuffle(&mut r);
    let n = rows.len();
    let numeric: BTreeMap<String, Vec<f64>> = cols
        .iter()
        .enumerate()
        .map(|(j, c)| (c.clone(), rows.iter().map(|(v, _)| v[j]).collect()))
        .collect();
    let category = rows.into_iter().map(|(_, l)| l).collect();
    let mut ds = Dataset::from_columns(
        roles,
        (1..=n).map(|i| i.to_string()).collect(),
        numeric,
        category,
        vec![],
        (2..n + 2).collect(),
        Provenance {
            source: format!("planted(segments={}, seed={seed})", segments.len()),
            rows: n,
            sha256: String::new(),
        },
    );
    ds.provenance.sha256 = sha256_hex(csv_text(&ds).as_bytes());
    ds
}
