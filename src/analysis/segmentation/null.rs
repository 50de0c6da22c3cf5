//! The segmentation's null reference: what the silhouette, the chosen k and the inertia look like
//! on tables with **no cluster structure** but the same spread along the principal axes.
//!
//! Each null table has as many rows as the distinct rows the honest silhouette is measured on,
//! drawn uniformly on the bounding box of those rows after rotating them onto their principal axes,
//! then rotated back (the reference distribution of Tibshirani, Walther & Hastie's gap statistic,
//! 2001, their method (b)). Every null table is clustered with the analysis' own k-means at every k.
//! From the draws come: the null silhouette at each k, the observed silhouette's percentile in
//! it, the k the analysis' rule picks on structureless data, and the gap statistic
//! `Gap(k) = mean_b log W*_kb − log W_k` with its 1-SE rule (the smallest k with
//! `Gap(k) ≥ Gap(k+1) − s(k+1)`, `s = sd_b · √(1 + 1/B)`). The share of variance on the first
//! principal axis says how many dimensions the data really use.

use linfa_linalg::eigh::Eigh;
use ndarray::{Array1, Array2, Axis};
use rand::Rng as _;
use serde::Serialize;

use super::{SegmentationError, SegmentationSettings, fit};
use crate::ml::cluster_metrics as cm;
use crate::rng;
use crate::stats;

/// A null table's silhouette counts as reaching the target when it exceeds it; the target is
/// called reachable by structureless data when at least this share of null tables do.
pub const NULL_REACH_SHARE: f64 = 0.05;

/// The observed silhouette beats the null when it lies above this upper tail's quantile of the
/// null draws (at least 95% of them below it).
pub const NULL_PERCENTILE_TAIL: f64 = 0.05;

/// The null distribution at one k.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NullAtK {
    /// Number of clusters.
    pub k: usize,
    /// The observed silhouette on the distinct rows.
    pub observed_silhouette: f64,
    /// Mean null silhouette.
    pub null_mean: f64,
    /// 5th percentile of the null silhouettes.
    pub null_p05: f64,
    /// 95th percentile of the null silhouettes.
    pub null_p95: f64,
    /// Share of null silhouettes below the observed one (the observed value's percentile / 100).
    pub observed_percentile: f64,
    /// Share of null tables whose silhouette exceeds the target.
    pub null_share_meeting_target: f64,
    /// Gap statistic at k.
    pub gap: f64,
    /// Its standard error `s_k`.
    pub gap_se: f64,
}

/// The null reference of the segmentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NullReference {
    /// How the null tables were drawn.
    pub method: String,
    /// Number of null tables (B).
    pub tables: usize,
    /// Rows per null table (the distinct rows).
    pub rows: usize,
    /// Share of the variance of the standardised distinct rows on the first principal axis.
    pub pc1_share: f64,
    /// Variance shares of every principal axis, largest first.
    pub variance_shares: Vec<f64>,
    /// Per k.
    pub per_k: Vec<NullAtK>,
    /// Gap at k = 1 (`log W_1` against the null's), the start of the 1-SE rule.
    pub gap_k1: (f64, f64),
    /// The gap statistic's k (1-SE rule over k = 1 and the analysis' k range); `None` when no k
    /// in the range satisfies the rule.
    pub gap_k: Option<usize>,
    /// The rule in words.
    pub gap_rule: String,
    /// How often the analysis' own k rule picks each k on null tables: `(k, tables)`.
    pub null_chosen_k: Vec<(usize, usize)>,
    /// The chosen k's entry of `per_k`, copied for the scorecard.
    pub at_chosen: Option<NullAtK>,
    /// Whether structureless data explains the target at the chosen k: at least
    /// [`NULL_REACH_SHARE`] of the null tables exceed it, and the observed silhouette is not
    /// above the null's upper [`NULL_PERCENTILE_TAIL`] (a silhouette well beyond every null
    /// table is evidence of clusters even where the target itself is easy to reach).
    pub null_reaches_target: bool,
}

/// Total within-cluster sum of squares around the overall mean (W at k = 1).
fn total_ss(rows: &[Vec<f64>]) -> f64 {
    cm::inertia(rows, &vec![0; rows.len()])
}

/// Computes the null reference. `rows` are the standardised distinct rows, `labels[i]` the
/// analysis' partition at `k_min + i` restricted to them, `chosen_k` the analysis' k.
pub(crate) fn reference(
    rows: &[Vec<f64>],
    labels: &[Vec<usize>],
    s: &SegmentationSettings,
    tables: usize,
    chosen_k: usize,
    seed: u64,
) -> Result<NullReference, SegmentationError> {
    let n = rows.len();
    let d = rows.first().map_or(0, Vec::len);
    let x = fit::to_matrix(rows);
    let mean: Array1<f64> = x.mean_axis(Axis(0)).ok_or_else(|| {
        SegmentationError::Fit("the null reference needs at least one distinct row".into())
    })?;
    let xc = &x - &mean;
    let cov = xc.t().dot(&xc) / (n as f64 - 1.0).max(1.0);
    let (values, vectors): (Array1<f64>, Array2<f64>) = cov
        .eigh()
        .map_err(|e| SegmentationError::Fit(format!("principal axes: {e}")))?;
    let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
    let mut shares: Vec<f64> = values.iter().map(|v| v.max(0.0) / total).collect();
    shares.sort_by(|a, b| b.total_cmp(a));
    let rotated = xc.dot(&vectors);
    let lo: Vec<f64> = (0..d)
        .map(|j| rotated.column(j).fold(f64::INFINITY, |a, &b| a.min(b)))
        .collect();
    let hi: Vec<f64> = (0..d)
        .map(|j| rotated.column(j).fold(f64::NEG_INFINITY, |a, &b| a.max(b)))
        .collect();

    let ks: Vec<usize> = (s.k_min..=s.k_max).collect();
    let mut null_sil = vec![Vec::with_capacity(tables); ks.len()];
    let mut null_logw = vec![Vec::with_capacity(tables); ks.len()];
    let mut null_logw1 = Vec::with_capacity(tables);
    let mut chosen_counts = vec![0usize; ks.len()];
    // Each table has its own random streams, so the tables run in parallel and are combined in
    // table order: the same numbers as one after another.
    let table_ids: Vec<usize> = (0..tables).collect();
    let drawn = crate::par::map(&table_ids, |&b| {
        null_table(b, n, d, &lo, &hi, &vectors, &mean, &ks, s, seed)
    });
    for table in drawn {
        let table = table?;
        null_logw1.push(table.logw1);
        for (i, (sil, logw)) in table.per_k.into_iter().enumerate() {
            null_sil[i].push(sil);
            null_logw[i].push(logw);
        }
        if let Some(i) = table.chosen {
            chosen_counts[i] += 1;
        }
    }

    let se_factor = (1.0 + 1.0 / tables as f64).sqrt();
    let gap_of = |null: &[f64], observed_w: f64| {
        let m = stats::mean(null);
        let sd = if null.len() > 1 {
            stats::sd(null) * ((null.len() - 1) as f64 / null.len() as f64).sqrt()
        } else {
            0.0
        };
        (m - observed_w.ln(), sd * se_factor)
    };
    let gap_k1 = gap_of(&null_logw1, total_ss(rows));
    let mut per_k = Vec::with_capacity(ks.len());
    let label_refs: Vec<&[usize]> = labels.iter().map(Vec::as_slice).collect();
    let observed_all = cm::silhouette_samples_many(rows, &label_refs);
    for (i, &k) in ks.iter().enumerate() {
        let observed = cm::mean_silhouette(&observed_all[i]);
        let null = &null_sil[i];
        let (gap, gap_se) = gap_of(&null_logw[i], cm::inertia(rows, &labels[i]));
        per_k.push(NullAtK {
            k,
            observed_silhouette: observed,
            null_mean: stats::mean(null),
            null_p05: stats::quantile(null, 0.05),
            null_p95: stats::quantile(null, 0.95),
            observed_percentile: null.iter().filter(|&&v| v < observed).count() as f64
                / null.len().max(1) as f64,
            null_share_meeting_target: null.iter().filter(|&&v| v > s.silhouette_target).count()
                as f64
                / null.len().max(1) as f64,
            gap,
            gap_se,
        });
    }
    // 1-SE rule over (k = 1 when the range starts at 2) and the range.
    let mut seq: Vec<(usize, f64, f64)> = Vec::new();
    if s.k_min == 2 {
        seq.push((1, gap_k1.0, gap_k1.1));
    }
    seq.extend(per_k.iter().map(|p| (p.k, p.gap, p.gap_se)));
    let gap_k = seq
        .windows(2)
        .find(|w| w[0].1 >= w[1].1 - w[1].2)
        .map(|w| w[0].0);
    let at_chosen = per_k.iter().find(|p| p.k == chosen_k).cloned();
    let null_reaches_target = at_chosen.as_ref().is_some_and(|p| {
        p.null_share_meeting_target >= NULL_REACH_SHARE
            && p.observed_percentile < 1.0 - NULL_PERCENTILE_TAIL
    });
    Ok(NullReference {
        method: format!(
            "{tables} seeded tables of {n} rows drawn uniformly on the bounding box of the standardised distinct rows \
             in their principal-axis coordinates, rotated back (Tibshirani, Walther & Hastie 2001, reference (b)); \
             each clustered by the analysis' k-means at every k"
        ),
        tables,
        rows: n,
        pc1_share: shares.first().copied().unwrap_or(f64::NAN),
        variance_shares: shares,
        per_k,
        gap_k1,
        gap_k,
        gap_rule: "smallest k with Gap(k) ≥ Gap(k+1) − s(k+1), over k = 1 and the k range (Tibshirani et al.'s 1-SE rule; W_k = within-cluster sum of squares of the distinct rows, log W compared with its mean over the null tables)".into(),
        null_chosen_k: ks
            .iter()
            .zip(&chosen_counts)
            .filter(|(_, c)| **c > 0)
            .map(|(k, c)| (*k, *c))
            .collect(),
        at_chosen,
        null_reaches_target,
    })
}

/// One null table's results: `log W₁`, per k the mean silhouette and `log W_k`, and which k the
/// analysis' rule picks (index into the k range).
struct NullTable {
    logw1: f64,
    per_k: Vec<(f64, f64)>,
    chosen: Option<usize>,
}

/// Draws null table `b` and clusters it at every k.
#[allow(clippy::too_many_arguments)]
fn null_table(
    b: usize,
    n: usize,
    d: usize,
    lo: &[f64],
    hi: &[f64],
    vectors: &Array2<f64>,
    mean: &Array1<f64>,
    ks: &[usize],
    s: &SegmentationSettings,
    seed: u64,
) -> Result<NullTable, SegmentationError> {
    let mut r = rng::stream(seed, &format!("segmentation/null/{b}"));
    let u = Array2::from_shape_fn((n, d), |(_, j)| {
        if hi[j] > lo[j] {
            r.gen_range(lo[j]..hi[j])
        } else {
            lo[j]
        }
    });
    let z = u.dot(&vectors.t()) + mean;
    let zrows: Vec<Vec<f64>> = z.outer_iter().map(|row| row.to_vec()).collect();
    let logw1 = total_ss(&zrows).ln();
    let mut parts = Vec::with_capacity(ks.len());
    for &k in ks {
        let p = fit::kmeans(
            &z,
            k,
            s,
            rng::stream(seed, &format!("segmentation/null/{b}/k={k}")),
            0,
        )?;
        parts.push(p.labels);
    }
    let refs: Vec<&[usize]> = parts.iter().map(Vec::as_slice).collect();
    let sils = cm::silhouette_samples_many_serial(&zrows, &refs);
    let mut pick: Option<(usize, f64)> = None;
    let mut per_k = Vec::with_capacity(ks.len());
    for (i, p) in parts.iter().enumerate() {
        let sil = cm::mean_silhouette(&sils[i]);
        per_k.push((sil, cm::inertia(&zrows, p).ln()));
        // The analysis' own k rule: highest silhouette among solutions whose smallest
        // cluster holds at least min_cluster_share of the rows (ties: smaller k).
        let sizes = cm::cluster_sizes(p);
        let smallest = sizes.iter().copied().min().unwrap_or(0) as f64 / n as f64;
        let eligible = sizes.len() == ks[i] && smallest >= s.min_cluster_share;
        if eligible && pick.is_none_or(|(_, best)| sil > best) {
            pick = Some((i, sil));
        }
    }
    Ok(NullTable {
        logw1,
        per_k,
        chosen: pick.map(|(i, _)| i),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four tight blobs on the corners of a square: the observed silhouette at k = 4 is far
    /// above every null table, the gap statistic picks 4, and structureless data does not reach a
    /// 0.55 target there.
    #[test]
    fn clustered_points_beat_the_null() {
        let mut rows = Vec::new();
        for i in 0..15 {
            let e = (i as f64 * 0.37).sin() * 0.15;
            let f = (i as f64 * 1.3).cos() * 0.15;
            for (cx, cy) in [(-2.0, -2.0), (-2.0, 2.0), (2.0, -2.0), (2.0, 2.0)] {
                rows.push(vec![cx + e, cy + f]);
            }
        }
        let s = SegmentationSettings {
            k_min: 2,
            k_max: 5,
            ..SegmentationSettings::default()
        };
        let x = fit::to_matrix(&rows);
        let labels: Vec<Vec<usize>> = (2..=5)
            .map(|k| {
                fit::kmeans(&x, k, &s, rng::stream(1, "t"), 0)
                    .unwrap()
                    .labels
            })
            .collect();
        let r = reference(&rows, &labels, &s, 20, 4, 7).unwrap();
        assert_eq!(r.gap_k, Some(4), "{r:?}");
        let at = r.at_chosen.clone().unwrap();
        assert!(at.observed_silhouette > 0.9, "{at:?}");
        assert_eq!(at.observed_percentile, 1.0);
        assert!(!r.null_reaches_target, "{at:?}");
        assert!((r.pc1_share - 0.5).abs() < 0.05, "{}", r.pc1_share);
    }
}
