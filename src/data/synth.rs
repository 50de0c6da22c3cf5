//! A seeded generator of synthetic customers with the bundled schema (or any roles with the same
//! shape): tunable correlation, noise, region mix, duplicate rate and population shifts. It feeds
//! tests with known structure, scale benchmarks, robustness sweeps and the drift simulation.

use std::collections::BTreeMap;
use std::path::Path;

use rand::Rng as _;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::schema::Roles;
use super::{Dataset, Provenance, sha256_hex};
use crate::rng;

/// How synthetic customers are drawn. Defaults resemble the bundled table's marginals
/// (means and spreads of age, income, spend, loyalty and frequency) without its duplicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthSpec {
    /// Weight of the shared latent "engagement" factor in every numeric column, 0..=1. Pairwise
    /// correlations of the columns are close to its square (before rounding and clamping).
    pub correlation: f64,
    /// Extra independent noise on spend, in units of spend's standard deviation.
    pub noise: f64,
    /// Region weights, in the roles' level order (normalised; need not sum to 1).
    pub region_mix: Vec<f64>,
    /// Share of rows that copy an earlier row on every column except the id, 0..1.
    pub duplicate_rate: f64,
    /// Multiplier on the income level (drift: income mix).
    pub income_scale: f64,
    /// Spend per 1,000 of income above the mean, added on top of the latent link (drift: the
    /// spend-income relation).
    pub spend_income_slope: f64,
    /// Share of customers drawn from a young, low-income, low-spend segment (drift: a new segment).
    pub young_share: f64,
    /// Means of the numeric columns in roles order (features, then target).
    pub means: Vec<f64>,
    /// Standard deviations of the numeric columns in the same order.
    pub sds: Vec<f64>,
    /// Number of well-separated blobs (0 = off, the default). When > 0 each customer's latent
    /// factor is drawn around one of this many centres, 2 latent sds apart, with sd 0.25 around
    /// its centre, instead of from one standard normal: a known number of segments for tests.
    pub clusters: usize,
}

impl Default for SynthSpec {
    fn default() -> Self {
        SynthSpec {
            correlation: 0.97,
            noise: 0.0,
            region_mix: vec![1.0, 1.0, 1.0, 1.0],
            duplicate_rate: 0.0,
            income_scale: 1.0,
            spend_income_slope: 0.0,
            young_share: 0.0,
            // age, annual_income, loyalty_score, purchase_frequency, purchase_amount
            means: vec![38.7, 57_400.0, 6.8, 19.8, 425.6],
            sds: vec![9.4, 11_400.0, 1.9, 4.6, 140.0],
            clusters: 0,
        }
    }
}

/// A generated value as a table would hold it: whole if the column is integer, else to one
/// decimal, then clamped into the column's range (`+ 0.0` turns -0 into 0).
pub(crate) fn snap(v: f64, range: &super::schema::ColumnRange) -> f64 {
    let mut v = if range.integer {
        v.round()
    } else {
        (v * 10.0).round() / 10.0
    };
    if let Some(m) = range.min {
        v = v.max(m);
    }
    if let Some(m) = range.max {
        v = v.min(m);
    }
    v + 0.0
}

/// Generates `rows` synthetic customers for the default roles.
///
/// ```
/// use customer_intel::data::{synth, SynthSpec};
/// let a = synth(500, 7, &SynthSpec::default());
/// let b = synth(500, 7, &SynthSpec::default());
/// assert_eq!(a.n_rows(), 500);
/// assert_eq!(a.provenance.sha256, b.provenance.sha256);
/// assert_eq!(synth(0, 7, &SynthSpec::default()).n_rows(), 0); // an empty table, no panic
/// ```
pub fn synth(rows: usize, seed: u64, spec: &SynthSpec) -> Dataset {
    synth_with_roles(rows, seed, spec, &Roles::default())
}

/// Generates `rows` synthetic customers whose columns are named by `roles`.
///
/// Columns are drawn as `mean + sd · (c·z + √(1−c²)·e)` with a shared latent `z` and independent `e`,
/// rounded to the resolution of the bundled data (whole numbers; loyalty to one decimal) and
/// clamped to the roles' ranges. Duplicates copy an earlier distinct row under a new id.
pub fn synth_with_roles(rows: usize, seed: u64, spec: &SynthSpec, roles: &Roles) -> Dataset {
    let mut ds = synth_with_roles_unhashed(rows, seed, spec, roles);
    ds.provenance.sha256 = sha256_hex(csv_text(&ds).as_bytes());
    ds
}

/// [`synth_with_roles`] with the provenance hash left empty: for tables generated, used and
/// dropped inside one analysis, where hashing their CSV text would cost more than drawing them.
/// Same rows, byte for byte.
pub(crate) fn synth_with_roles_unhashed(
    rows: usize,
    seed: u64,
    spec: &SynthSpec,
    roles: &Roles,
) -> Dataset {
    let cols = roles.numeric_columns();
    let drawn = synth_columns(rows, seed, spec, roles);
    let levels = &roles.category_levels;
    let numeric: BTreeMap<String, Vec<f64>> = cols.into_iter().zip(drawn.numeric).collect();
    let category: Vec<String> = drawn.level.iter().map(|&l| levels[l].clone()).collect();
    let ids: Vec<String> = (1..=rows).map(|i| i.to_string()).collect();
    let lines = (2..rows + 2).collect();
    let provenance = Provenance {
        source: format!("synthetic(rows={rows}, seed={seed})"),
        rows,
        sha256: String::new(),
    };
    Dataset::from_columns(
        roles.clone(),
        ids,
        numeric,
        category,
        vec![],
        lines,
        provenance,
    )
}

/// The columns of a synthetic table without the table around them: what the drift simulation
/// reads from the over a thousand batches it draws and drops (no ids, category strings, line
/// numbers or duplicate groups).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SynthColumns {
    /// One column per numeric role column, in [`Roles::numeric_columns`] order.
    pub numeric: Vec<Vec<f64>>,
    /// Each row's category as an index into [`Roles::category_levels`].
    pub level: Vec<usize>,
}

/// Draws the rows of [`synth_with_roles`] (same seed, spec and roles: the same random numbers in
/// the same order, so the same values bit for bit) and returns only their columns.
pub(crate) fn synth_columns(
    rows: usize,
    seed: u64,
    spec: &SynthSpec,
    roles: &Roles,
) -> SynthColumns {
    let mut r = rng::stream(seed, "synth");
    let cols = roles.numeric_columns();
    assert_eq!(
        spec.means.len(),
        cols.len(),
        "SynthSpec.means needs one value per numeric column"
    );
    assert_eq!(
        spec.sds.len(),
        cols.len(),
        "SynthSpec.sds needs one value per numeric column"
    );
    let c = spec.correlation.clamp(0.0, 1.0);
    let idio = (1.0 - c * c).sqrt();
    let levels = &roles.category_levels;
    let weights: Vec<f64> = (0..levels.len())
        .map(|i| spec.region_mix.get(i).copied().unwrap_or(0.0).max(0.0))
        .collect();
    let wsum: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let ranges: Vec<super::schema::ColumnRange> = cols.iter().map(|c| roles.range(c)).collect();

    let n_distinct = if rows == 0 {
        0
    } else {
        ((rows as f64) * (1.0 - spec.duplicate_rate.clamp(0.0, 0.99)))
            .ceil()
            .max(1.0) as usize
    };
    let income_idx = cols
        .iter()
        .position(|c| c == "annual_income" || Some(c) == roles.demographic.get(1));
    let target_idx = cols.iter().position(|c| c == &roles.target);
    let age_idx = cols
        .iter()
        .position(|c| Some(c) == roles.demographic.first());

    let mut numeric: Vec<Vec<f64>> = vec![Vec::with_capacity(rows); cols.len()];
    let mut category = Vec::with_capacity(rows);
    let mut row = vec![0.0; cols.len()];
    for _ in 0..n_distinct {
        let young = r.r#gen::<f64>() < spec.young_share;
        let z: f64 = StandardNormal.sample(&mut r);
        let z = if spec.clusters > 0 {
            let centre = r.gen_range(0..spec.clusters) as f64 - (spec.clusters - 1) as f64 / 2.0;
            2.0 * centre + 0.25 * z
        } else {
            z
        };
        let z = if young { z.min(0.0) - 1.5 } else { z };
        for (k, v) in row.iter_mut().enumerate() {
            let e: f64 = StandardNormal.sample(&mut r);
            *v = spec.means[k] + spec.sds[k] * (c * z + idio * e);
        }
        if let Some(i) = income_idx {
            row[i] *= spec.income_scale;
        }
        if let (Some(i), Some(t)) = (income_idx, target_idx) {
            row[t] += spec.spend_income_slope * (row[i] - spec.means[i]) / 1000.0;
        }
        if let Some(t) = target_idx {
            let e: f64 = StandardNormal.sample(&mut r);
            row[t] += spec.noise * spec.sds[t] * e;
        }
        if let (true, Some(a)) = (young, age_idx) {
            row[a] = 19.0 + 3.0 * r.r#gen::<f64>();
        }
        for (k, range) in ranges.iter().enumerate() {
            numeric[k].push(snap(row[k], range));
        }
        let mut u = r.r#gen::<f64>() * wsum;
        let mut level = levels.len() - 1;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                level = i;
                break;
            }
            u -= w;
        }
        category.push(level);
    }
    // Duplicates: copies of randomly chosen distinct rows, then shuffled into place.
    let mut order: Vec<usize> = (0..n_distinct).collect();
    for _ in n_distinct..rows {
        order.push(r.gen_range(0..n_distinct));
    }
    // No rows, no shuffle (a one-row shuffle draws nothing either, so the stream is the same).
    if !order.is_empty() {
        order[1..].shuffle(&mut r);
    }
    SynthColumns {
        numeric: numeric
            .iter()
            .map(|col| order.iter().map(|&i| col[i]).collect())
            .collect(),
        level: order.iter().map(|&i| category[i]).collect(),
    }
}

/// The dataset as CSV text in the bundled file's column order (id, numeric features with the
/// target placed as in the bundled file, category, …): header, LF line ends, a final newline.
pub fn csv_text(ds: &Dataset) -> String {
    let roles = &ds.roles;
    let numeric_cols = roles.numeric_columns();
    let mut cols: Vec<&str> = vec![roles.id.as_str()];
    cols.extend(numeric_cols.iter().map(String::as_str));
    let mut out = String::with_capacity(ds.n_rows() * 40);
    out.push_str(&cols.join(","));
    out.push(',');
    out.push_str(&roles.category);
    out.push('\n');
    let numeric: Vec<&[f64]> = cols[1..].iter().map(|c| ds.col(c)).collect();
    for i in 0..ds.n_rows() {
        out.push_str(&ds.ids[i]);
        for col in &numeric {
            out.push(',');
            let v = col[i];
            if v.fract() == 0.0 && v.abs() < 1e15 {
                out.push_str(&format!("{}", v as i64));
            } else {
                out.push_str(&format!("{v}"));
            }
        }
        out.push(',');
        out.push_str(&ds.category[i]);
        out.push('\n');
    }
    out
}

/// Writes the dataset as CSV (see [`csv_text`]) atomically.
pub fn write_csv(ds: &Dataset, path: &Path) -> std::io::Result<()> {
    crate::output::write_atomic(path, csv_text(ds).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_csv_bytes;
    use crate::stats::pearson;

    /// The generator as it was before [`synth_columns`] was split out of it (commit 26cdad9),
    /// kept verbatim: the old code path the lean generator and the table built from it are
    /// compared with.
    fn synth_before_split(rows: usize, seed: u64, spec: &SynthSpec, roles: &Roles) -> Dataset {
        let mut r = rng::stream(seed, "synth");
        let cols = roles.numeric_columns();
        assert_eq!(
            spec.means.len(),
            cols.len(),
            "SynthSpec.means needs one value per numeric column"
        );
        assert_eq!(
            spec.sds.len(),
            cols.len(),
            "SynthSpec.sds needs one value per numeric column"
        );
        let c = spec.correlation.clamp(0.0, 1.0);
        let idio = (1.0 - c * c).sqrt();
        let levels = &roles.category_levels;
        let weights: Vec<f64> = (0..levels.len())
            .map(|i| spec.region_mix.get(i).copied().unwrap_or(0.0).max(0.0))
            .collect();
        let wsum: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);

        let n_distinct = if rows == 0 {
            0
        } else {
            ((rows as f64) * (1.0 - spec.duplicate_rate.clamp(0.0, 0.99)))
                .ceil()
                .max(1.0) as usize
        };
        let income_idx = cols
            .iter()
            .position(|c| c == "annual_income" || Some(c) == roles.demographic.get(1));
        let target_idx = cols.iter().position(|c| c == &roles.target);
        let age_idx = cols
            .iter()
            .position(|c| Some(c) == roles.demographic.first());

        let mut numeric: Vec<Vec<f64>> = vec![Vec::with_capacity(rows); cols.len()];
        let mut category = Vec::with_capacity(rows);
        for _ in 0..n_distinct {
            let young = r.r#gen::<f64>() < spec.young_share;
            let z: f64 = StandardNormal.sample(&mut r);
            let z = if spec.clusters > 0 {
                let centre =
                    r.gen_range(0..spec.clusters) as f64 - (spec.clusters - 1) as f64 / 2.0;
                2.0 * centre + 0.25 * z
            } else {
                z
            };
            let z = if young { z.min(0.0) - 1.5 } else { z };
            let mut row: Vec<f64> = (0..cols.len())
                .map(|k| {
                    let e: f64 = StandardNormal.sample(&mut r);
                    spec.means[k] + spec.sds[k] * (c * z + idio * e)
                })
                .collect();
            if let Some(i) = income_idx {
                row[i] *= spec.income_scale;
            }
            if let (Some(i), Some(t)) = (income_idx, target_idx) {
                row[t] += spec.spend_income_slope * (row[i] - spec.means[i]) / 1000.0;
            }
            if let Some(t) = target_idx {
                let e: f64 = StandardNormal.sample(&mut r);
                row[t] += spec.noise * spec.sds[t] * e;
            }
            if let (true, Some(a)) = (young, age_idx) {
                row[a] = 19.0 + 3.0 * r.r#gen::<f64>();
            }
            for (k, col) in cols.iter().enumerate() {
                numeric[k].push(snap(row[k], &roles.range(col)));
            }
            let mut u = r.r#gen::<f64>() * wsum;
            let mut level = levels.len() - 1;
            for (i, w) in weights.iter().enumerate() {
                if u < *w {
                    level = i;
                    break;
                }
                u -= w;
            }
            category.push(levels[level].clone());
        }
        // Duplicates: copies of randomly chosen distinct rows, then shuffled into place.
        let mut order: Vec<usize> = (0..n_distinct).collect();
        for _ in n_distinct..rows {
            order.push(r.gen_range(0..n_distinct));
        }
        order[1..].shuffle(&mut r);
        let numeric: BTreeMap<String, Vec<f64>> = cols
            .iter()
            .enumerate()
            .map(|(k, c)| (c.clone(), order.iter().map(|&i| numeric[k][i]).collect()))
            .collect();
        let category: Vec<String> = order.iter().map(|&i| category[i].clone()).collect();
        let ids: Vec<String> = (1..=rows).map(|i| i.to_string()).collect();
        let lines = (2..rows + 2).collect();
        let provenance = Provenance {
            source: format!("synthetic(rows={rows}, seed={seed})"),
            rows,
            sha256: String::new(),
        };
        Dataset::from_columns(
            roles.clone(),
            ids,
            numeric,
            category,
            vec![],
            lines,
            provenance,
        )
    }

    #[test]
    fn lean_columns_and_table_equal_the_generator_before_the_split() {
        let roles = Roles::default();
        let levels = &roles.category_levels;
        let mut specs = vec![SynthSpec::default()];
        specs.push(SynthSpec {
            duplicate_rate: 0.4,
            young_share: 0.3,
            income_scale: 1.35,
            spend_income_slope: 8.0,
            region_mix: vec![0.1, 0.5, 3.0, 0.0],
            ..SynthSpec::default()
        });
        specs.push(SynthSpec {
            correlation: 0.3,
            noise: 0.7,
            clusters: 3,
            means: vec![40.0, 60_000.0, 5.0, 20.0, 400.0],
            sds: vec![30.0, 90_000.0, 6.0, 25.0, 900.0],
            ..SynthSpec::default()
        });
        let mut compared = 0;
        for (si, spec) in specs.iter().enumerate() {
            for seed in 0..40u64 {
                for rows in [1, 2, 7, 200, 601] {
                    let seed = seed * 7919 + si as u64;
                    let old = synth_before_split(rows, seed, spec, &roles);
                    let lean = synth_columns(rows, seed, spec, &roles);
                    let new = synth_with_roles_unhashed(rows, seed, spec, &roles);
                    for (k, c) in roles.numeric_columns().iter().enumerate() {
                        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&lean.numeric[k]), bits(old.col(c)), "{c} seed {seed}");
                    }
                    let cats: Vec<String> = lean.level.iter().map(|&l| levels[l].clone()).collect();
                    assert_eq!(cats, old.category);
                    assert_eq!(new.numeric, old.numeric);
                    assert_eq!(new.category, old.category);
                    assert_eq!(new.ids, old.ids);
                    assert_eq!(new.lines, old.lines);
                    assert_eq!(new.groups, old.groups);
                    assert_eq!(new.provenance, old.provenance);
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 3 * 40 * 5);
    }

    #[test]
    fn deterministic_and_reloadable() {
        let spec = SynthSpec {
            duplicate_rate: 0.5,
            ..SynthSpec::default()
        };
        let a = synth(400, 3, &spec);
        let text = csv_text(&a);
        let back = parse_csv_bytes(text.as_bytes(), Path::new("s.csv"), &Roles::default()).unwrap();
        assert_eq!(back.n_rows(), 400);
        assert_eq!(back.numeric, a.numeric);
        assert_eq!(back.provenance.sha256, a.provenance.sha256);
        // Half the rows are copies: about 200 distinct rows remain.
        assert_eq!(a.n_groups, 200);
    }

    #[test]
    fn correlation_and_region_mix_follow_the_spec() {
        let strong = synth(5000, 1, &SynthSpec::default());
        let r = pearson(strong.col("annual_income"), strong.col("purchase_amount"));
        assert!(r > 0.9, "r = {r}");
        let weak = synth(
            5000,
            1,
            &SynthSpec {
                correlation: 0.0,
                ..SynthSpec::default()
            },
        );
        let r = pearson(weak.col("annual_income"), weak.col("purchase_amount"));
        assert!(r.abs() < 0.05, "r = {r}");
        let east = synth(
            4000,
            2,
            &SynthSpec {
                region_mix: vec![1.0, 1.0, 0.0, 1.0],
                ..SynthSpec::default()
            },
        );
        assert_eq!(east.category_counts()[2], ("East".to_string(), 0));
    }
}
