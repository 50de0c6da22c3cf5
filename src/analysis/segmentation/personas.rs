//! Personas: a profile of each cluster of the chosen solution in the table's own units, and a
//! persona name and marketing action derived from the profile by a fixed, documented rule.
//!
//! The rule (see [`ACTION_RULES`]): a cluster's **spend tier** is the tercile of all customers'
//! spend (the target column) that its mean spend falls in (low ≤ first tercile < mid ≤ second
//! tercile < high); its **band** is whether its mean of the band column (default: the first
//! demographic column, age on the bundled data) is at or below (`lower`) or above (`higher`) the
//! customers' median. Tier × band picks the action from the table; the name is
//! "`Tier`-spend, `band` `column`". No cluster's name or action is typed by hand.

use serde::Serialize;

use super::fit::Features;
use crate::data::Dataset;
use crate::features;
use crate::settings::Settings;
use crate::stats;

/// One row of the persona rule: which action a spend tier and band lead to, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRule {
    /// Spend tier: `low`, `mid` or `high`.
    pub tier: String,
    /// Band of the band column: `lower`, `higher` or `any`.
    pub band: String,
    /// The recommended marketing action.
    pub action: String,
    /// Why this action fits.
    pub rationale: String,
}

/// The persona rule table, in the order it is checked (first match wins).
pub const ACTION_RULES: [(&str, &str, &str, &str); 5] = [
    (
        "high",
        "any",
        "VIP care",
        "top-tercile spenders: protect the revenue with service and recognition",
    ),
    (
        "mid",
        "lower",
        "upsell",
        "mid spend early in the band: room to grow the basket",
    ),
    (
        "mid",
        "higher",
        "retain",
        "mid spend, established: keep them with loyalty benefits",
    ),
    (
        "low",
        "lower",
        "nurture",
        "low spend early in the band: develop with entry offers",
    ),
    (
        "low",
        "higher",
        "reactivate",
        "low spend, established: win back with targeted incentives",
    ),
];

/// The rule table as serialisable rows.
pub fn action_rules() -> Vec<ActionRule> {
    ACTION_RULES
        .iter()
        .map(|(tier, band, action, why)| ActionRule {
            tier: tier.to_string(),
            band: band.to_string(),
            action: action.to_string(),
            rationale: why.to_string(),
        })
        .collect()
}

/// A feature's value at a cluster centroid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CentroidValue {
    /// Feature (column) name.
    pub feature: String,
    /// Cluster mean in the column's own units.
    pub value: f64,
    /// The column's unit (from the roles; may be empty).
    pub unit: String,
    /// The same mean in standard deviations from the overall mean (what k-means saw).
    pub z: f64,
}

/// Count and share of one category level inside a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelShare {
    /// Category level.
    pub level: String,
    /// Customers of the cluster at this level.
    pub count: usize,
    /// Share of the cluster's customers at this level.
    pub share: f64,
}

/// One cluster of the chosen solution, described for marketing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Persona {
    /// Cluster label (clusters are numbered by ascending mean spend).
    pub cluster: usize,
    /// Persona name derived by the rule.
    pub name: String,
    /// Spend tier by the rule: `low`, `mid` or `high`.
    pub spend_tier: String,
    /// Band by the rule: `lower` or `higher`.
    pub band: String,
    /// Recommended action by the rule.
    pub action: String,
    /// Customers in the cluster.
    pub size: usize,
    /// Distinct rows (duplicate groups) in the cluster.
    pub distinct_rows: usize,
    /// Share of all customers.
    pub share: f64,
    /// Centroid (cluster mean) of each segmentation feature, in original units.
    pub centroid: Vec<CentroidValue>,
    /// Cluster mean spend (the target column), original units.
    pub mean_spend: f64,
    /// Cluster mean of the band column, original units.
    pub mean_band_value: f64,
    /// Category mix, in the roles' level order.
    pub category_mix: Vec<LevelShare>,
    /// Share of the cluster's customers labelled with growth potential.
    pub growth_share: f64,
}

/// The cut-offs the persona rule used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonaCutoffs {
    /// The spend (target) column.
    pub spend_column: String,
    /// First and second terciles (type-7 quantiles 1/3 and 2/3) of all customers' spend.
    pub spend_terciles: [f64; 2],
    /// The band column.
    pub band_column: String,
    /// Median of the band column over all customers.
    pub band_median: f64,
}

/// The band column the settings name (default: first demographic column, else first numeric).
pub(crate) fn band_column(ds: &Dataset, settings: &Settings) -> String {
    let s = &settings.segmentation.persona_band_column;
    if !s.is_empty() {
        return s.clone();
    }
    ds.roles
        .demographic
        .first()
        .or_else(|| ds.roles.numeric.first())
        .cloned()
        .unwrap_or_default()
}

fn mean_of(col: &[f64], rows: &[usize]) -> f64 {
    rows.iter().map(|&i| col[i]).sum::<f64>() / rows.len().max(1) as f64
}

/// Profiles every cluster of `labels` and names it by the rule.
pub(crate) fn personas(
    ds: &Dataset,
    settings: &Settings,
    f: &Features,
    labels: &[usize],
    k: usize,
) -> (Vec<Persona>, PersonaCutoffs) {
    let spend = ds.target();
    let band_col = band_column(ds, settings);
    let band = ds.col(&band_col);
    let cut = PersonaCutoffs {
        spend_column: ds.roles.target.clone(),
        spend_terciles: [
            stats::quantile(spend, 1.0 / 3.0),
            stats::quantile(spend, 2.0 / 3.0),
        ],
        band_column: band_col.clone(),
        band_median: stats::median(band),
    };
    let (growth, _) = features::growth_label(ds, &settings.features);
    let n = ds.n_rows();
    let mut out: Vec<Persona> = (0..k)
        .map(|c| {
            let rows: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
            let mut groups: Vec<usize> = rows.iter().map(|&i| ds.groups[i]).collect();
            groups.sort_unstable();
            groups.dedup();
            let centroid = f
                .names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    let value = mean_of(ds.col(name), &rows);
                    CentroidValue {
                        feature: name.clone(),
                        value,
                        unit: ds.roles.unit(name).to_string(),
                        z: (value - f.means[j]) / f.sds[j],
                    }
                })
                .collect();
            let category_mix = ds
                .roles
                .category_levels
                .iter()
                .map(|level| {
                    let count = rows.iter().filter(|&&i| &ds.category[i] == level).count();
                    LevelShare {
                        level: level.clone(),
                        count,
                        share: count as f64 / rows.len().max(1) as f64,
                    }
                })
                .collect();
            let mean_spend = mean_of(spend, &rows);
            let mean_band_value = mean_of(band, &rows);
            let spend_tier = if mean_spend <= cut.spend_terciles[0] {
                "low"
            } else if mean_spend <= cut.spend_terciles[1] {
                "mid"
            } else {
                "high"
            };
            let band_name = if mean_band_value <= cut.band_median {
                "lower"
            } else {
                "higher"
            };
            let action = ACTION_RULES
                .iter()
                .find(|(t, b, _, _)| *t == spend_tier && (*b == "any" || *b == band_name))
                .map(|r| r.2)
                .expect("the rule table covers every tier and band");
            let mut tier_word = spend_tier.to_string();
            tier_word[..1].make_ascii_uppercase();
            Persona {
                cluster: c,
                name: format!(
                    "{tier_word}-spend, {band_name} {}",
                    band_col.replace('_', " ")
                ),
                spend_tier: spend_tier.into(),
                band: band_name.into(),
                action: action.into(),
                size: rows.len(),
                distinct_rows: groups.len(),
                share: rows.len() as f64 / n.max(1) as f64,
                centroid,
                mean_spend,
                mean_band_value,
                category_mix,
                growth_share: rows.iter().filter(|&&i| growth[i]).count() as f64
                    / rows.len().max(1) as f64,
            }
        })
        .collect();
    // Two clusters can land in the same tier and band: number the repeats so names stay unique.
    for i in 0..out.len() {
        let same = out[..i]
            .iter()
            .filter(|p| p.spend_tier == out[i].spend_tier && p.band == out[i].band)
            .count();
        if same > 0 {
            out[i].name = format!("{} ({})", out[i].name, same + 1);
        }
    }
    (out, cut)
}
