//! Personas: a profile of each cluster of the chosen solution in the table's own units, a name
//! built from what sets the cluster apart, and a marketing action from its value and engagement,
//! each by a fixed, stated rule. No cluster's name or action is typed by hand.
//!
//! **Traits.** A cluster's standardised difference on a feature is its mean minus the whole
//! table's mean, in the table's standard deviations (n − 1): the centroid in the units k-means
//! saw. Features whose difference reaches `segmentation.persona_trait_threshold` in absolute
//! value are the cluster's traits; the largest `persona_max_traits` of them (ties: feature order)
//! name it, with direction words and the cluster mean in the column's units ("high income (88k)").
//! A cluster without traits is "average on every feature".
//!
//! **One axis.** When the first principal component carries at least `persona_one_axis_share` of
//! the standardised features' variance *and* every centroid lies along it (at least that share of
//! its squared distance from the mean falls on PC1), the clusters are positions on one axis, not
//! types; each name then starts with its position ("Low end of one axis: …").
//!
//! **Actions** ([`ACTION_RULES`]): a cluster's value score is the mean standardised difference of
//! the value columns (default: the target and the demographic columns after the first — spend and
//! income on the bundled table), its engagement score that of the engagement columns (default:
//! the growth label's inputs other than the target — loyalty and frequency). Above
//! `+persona_value_cut` is `high`, below `−persona_value_cut` is `low`, between is `average`
//! (likewise for engagement); the first matching row of the rule table gives the action.
//!
//! **Stability.** A persona's stability is the share of the segmentation's bootstrap refits in
//! which some refitted cluster has exactly the same traits: the same set of features beyond the
//! threshold, each in the same direction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SegmentationSettings;
use super::fit::Features;
use crate::data::Dataset;
use crate::features;
use crate::settings::Settings;
use crate::stats;

/// One row of the action rule: which action a value level and an engagement level lead to, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRule {
    /// Value level: `high`, `low` or `any`.
    pub value: String,
    /// Engagement level: `high`, `low` or `any`.
    pub engagement: String,
    /// The recommended marketing action.
    pub action: String,
    /// Why this action fits.
    pub rationale: String,
}

/// The action rule table `(value, engagement, action, rationale)`, checked in order (first match
/// wins); `any` matches every level, so the last row catches every cluster with an `average` level.
pub const ACTION_RULES: [(&str, &str, &str, &str); 5] = [
    (
        "high",
        "high",
        "reward and retain",
        "valuable and engaged: keep them with recognition and loyalty benefits",
    ),
    (
        "high",
        "low",
        "win loyalty",
        "valuable but weakly engaged: the revenue most at risk; build the relationship",
    ),
    (
        "low",
        "high",
        "upsell",
        "engaged but of low value: they come back, so grow the basket",
    ),
    (
        "low",
        "low",
        "low-cost nurture",
        "neither valuable nor engaged: automated, low-cost contact only",
    ),
    (
        "any",
        "any",
        "standard programme",
        "value or engagement within the cut of the table's mean: no segment-specific action is justified",
    ),
];

/// The rule table as serialisable rows.
pub fn action_rules() -> Vec<ActionRule> {
    ACTION_RULES
        .iter()
        .map(|(value, engagement, action, why)| ActionRule {
            value: value.to_string(),
            engagement: engagement.to_string(),
            action: action.to_string(),
            rationale: why.to_string(),
        })
        .collect()
}

/// The index into [`ACTION_RULES`] of the first row matching a value and an engagement level.
pub fn rule_for(value: &str, engagement: &str) -> usize {
    ACTION_RULES
        .iter()
        .position(|(v, e, _, _)| (*v == "any" || *v == value) && (*e == "any" || *e == engagement))
        .unwrap_or(ACTION_RULES.len() - 1)
}

/// How a column's low and high ends are called in persona names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraitWords {
    /// Words for a cluster below the table's mean ("younger", "low income").
    pub low: String,
    /// Words for a cluster above it ("older", "high income").
    pub high: String,
    /// Text after the value inside the brackets (" a year" gives "(9 a year)"); may be empty.
    #[serde(default)]
    pub suffix: String,
}

/// Default trait words for the bundled table's columns (entries for columns a table lacks are
/// unused; a column without words is called "low/high <column>" with its unit).
pub fn default_trait_words() -> BTreeMap<String, TraitWords> {
    let w = |low: &str, high: &str, suffix: &str| TraitWords {
        low: low.into(),
        high: high.into(),
        suffix: suffix.into(),
    };
    BTreeMap::from([
        ("age".to_string(), w("younger", "older", "")),
        (
            "annual_income".to_string(),
            w("low income", "high income", ""),
        ),
        (
            "loyalty_score".to_string(),
            w("low loyalty", "high loyalty", ""),
        ),
        (
            "purchase_frequency".to_string(),
            w("infrequent", "frequent", " a year"),
        ),
        (
            "purchase_amount".to_string(),
            w("low spend", "high spend", ""),
        ),
    ])
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

/// A feature on which a cluster differs from the whole table by at least the trait threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trait {
    /// Feature (column) name.
    pub feature: String,
    /// `high` or `low`: the side of the table's mean the cluster lies on.
    pub direction: String,
    /// Standardised difference (cluster mean − table mean) / table sd.
    pub z: f64,
    /// Cluster mean in the column's units.
    pub value: f64,
    /// The trait in words with its value, as it appears in the name ("high income (88k)").
    pub text: String,
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
    /// Persona name derived by the rule: position on the axis (when the clusters lie on one),
    /// then the naming traits.
    pub name: String,
    /// Every trait (features beyond the threshold), largest difference first; the first
    /// `persona_max_traits` are in the name.
    pub traits: Vec<Trait>,
    /// Position on the single axis (`low end`, `middle`, `high end`) when the clusters lie on one.
    pub axis_position: Option<String>,
    /// Mean standardised difference of the value columns.
    pub value_score: f64,
    /// `high`, `average` or `low` by the value cut.
    pub value_level: String,
    /// Mean standardised difference of the engagement columns.
    pub engagement_score: f64,
    /// `high`, `average` or `low` by the engagement cut.
    pub engagement_level: String,
    /// Index into the rule table of the rule that fired.
    pub rule_index: usize,
    /// The rule that fired, with the scores that made it fire.
    pub rule: String,
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
    /// Category mix, in the roles' level order.
    pub category_mix: Vec<LevelShare>,
    /// Share of the cluster's customers labelled with growth potential.
    pub growth_share: f64,
    /// Bootstrap refits in which a cluster with exactly these traits reappears.
    pub stable_refits: usize,
    /// `stable_refits` over the number of bootstrap refits (`None` when there were none).
    pub stability: Option<f64>,
}

/// The persona rule's settings as applied, and what the one-axis check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonaCutoffs {
    /// Smallest |standardised difference| that makes a trait.
    pub trait_threshold: f64,
    /// Traits named at most.
    pub max_traits: usize,
    /// Value columns.
    pub value_columns: Vec<String>,
    /// Engagement columns.
    pub engagement_columns: Vec<String>,
    /// A value score above `+value_cut` is high, below `−value_cut` low.
    pub value_cut: f64,
    /// An engagement score above `+engagement_cut` is high, below `−engagement_cut` low.
    pub engagement_cut: f64,
    /// Share of variance on PC1 (and of each centroid's squared length on PC1) for one axis.
    pub one_axis_share: f64,
    /// Share of the standardised features' variance on PC1.
    pub pc1_share: f64,
    /// Smallest share of a centroid's squared distance from the mean lying on PC1.
    pub min_centroid_share_on_pc1: f64,
    /// Whether the clusters are positions along one axis.
    pub one_axis: bool,
    /// The one-axis finding in words, derived from the numbers above.
    pub axis_statement: String,
    /// How stability is measured.
    pub stability_method: String,
}

/// The rule's columns for value and engagement: the settings' lists, or the defaults from roles.
pub(crate) fn role_columns(ds: &Dataset, s: &SegmentationSettings) -> (Vec<String>, Vec<String>) {
    let roles = &ds.roles;
    let value = if s.persona_value_columns.is_empty() {
        let mut v = vec![roles.target.clone()];
        v.extend(roles.demographic.iter().skip(1).cloned());
        v.dedup();
        v
    } else {
        s.persona_value_columns.clone()
    };
    let engagement = if s.persona_engagement_columns.is_empty() {
        roles
            .label_inputs
            .iter()
            .filter(|c| **c != roles.target)
            .cloned()
            .collect()
    } else {
        s.persona_engagement_columns.clone()
    };
    let present = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .filter(|c| ds.numeric.contains_key(c))
            .collect()
    };
    (present(value), present(engagement))
}

fn mean_of(col: &[f64], rows: &[usize]) -> f64 {
    rows.iter().map(|&i| col[i]).sum::<f64>() / rows.len().max(1) as f64
}

/// A value as a marketer would quote it: thousands as `88k`, whole-number columns without
/// decimals, other values below 100 with one decimal.
pub fn short_value(v: f64, integer: bool) -> String {
    let s = if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if integer || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    if s.starts_with("-0") && s.trim_start_matches(['-', '0', '.']).is_empty() {
        s[1..].to_string()
    } else {
        s
    }
}

/// The trait in words: direction words and the value with its suffix.
fn trait_text(ds: &Dataset, s: &SegmentationSettings, feature: &str, high: bool, v: f64) -> String {
    let value = short_value(v, ds.roles.range(feature).integer);
    let words = s
        .persona_words
        .get(feature)
        .cloned()
        .or_else(|| default_trait_words().get(feature).cloned());
    match words {
        Some(w) => format!(
            "{} ({value}{})",
            if high { &w.high } else { &w.low },
            w.suffix
        ),
        None => {
            let unit = ds.roles.unit(feature);
            let unit = if unit.is_empty() {
                String::new()
            } else {
                format!(" {unit}")
            };
            format!(
                "{} {} ({value}{unit})",
                if high { "high" } else { "low" },
                feature.replace('_', " ")
            )
        }
    }
}

/// The traits of a standardised centroid: every feature with |z| ≥ threshold, largest first
/// (ties: feature order). Only feature indices and directions: the signature bootstrap refits
/// are compared by.
pub(crate) fn signature(z: &[f64], threshold: f64) -> Vec<(usize, bool)> {
    let mut idx: Vec<usize> = (0..z.len()).filter(|&j| z[j].abs() >= threshold).collect();
    idx.sort_by(|&a, &b| z[b].abs().total_cmp(&z[a].abs()).then(a.cmp(&b)));
    idx.into_iter().map(|j| (j, z[j] > 0.0)).collect()
}

fn sorted_signature(z: &[f64], threshold: f64) -> Vec<(usize, bool)> {
    let mut s = signature(z, threshold);
    s.sort_unstable();
    s
}

/// What the persona step needs from the rest of the analysis.
pub(crate) struct PersonaInputs<'a> {
    /// Segmentation features (names, scaler).
    pub features: &'a Features,
    /// Cluster of every row.
    pub labels: &'a [usize],
    /// Number of clusters.
    pub k: usize,
    /// PC1 variance share and loadings (oriented so the spend loading is non-negative).
    pub pc1: Option<(f64, &'a [f64])>,
    /// Centroids of each bootstrap refit, standardised units.
    pub refits: &'a [Vec<Vec<f64>>],
}

fn level(score: f64, cut: f64) -> &'static str {
    if score > cut {
        "high"
    } else if score < -cut {
        "low"
    } else {
        "average"
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Profiles every cluster, names it by its traits and picks its action by the rule table.
pub(crate) fn personas(
    ds: &Dataset,
    settings: &Settings,
    inp: &PersonaInputs,
) -> (Vec<Persona>, PersonaCutoffs) {
    let s = &settings.segmentation;
    let f = inp.features;
    let k = inp.k;
    let spend = ds.target();
    let (value_cols, engagement_cols) = role_columns(ds, s);
    let (growth, _) = features::growth_label(ds, &settings.features);
    let n = ds.n_rows();
    let members: Vec<Vec<usize>> = (0..k)
        .map(|c| (0..n).filter(|&i| inp.labels[i] == c).collect())
        .collect();
    let z_of = |col: &str, rows: &[usize]| -> f64 {
        let x = ds.col(col);
        let sd = stats::sd(x);
        if sd > 0.0 {
            (mean_of(x, rows) - stats::mean(x)) / sd
        } else {
            0.0
        }
    };
    let score = |cols: &[String], rows: &[usize]| -> f64 {
        if cols.is_empty() {
            0.0
        } else {
            cols.iter().map(|c| z_of(c, rows)).sum::<f64>() / cols.len() as f64
        }
    };
    let centroids: Vec<Vec<CentroidValue>> = members
        .iter()
        .map(|rows| {
            f.names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    let value = mean_of(ds.col(name), rows);
                    CentroidValue {
                        feature: name.clone(),
                        value,
                        unit: ds.roles.unit(name).to_string(),
                        z: (value - f.means[j]) / f.sds[j],
                    }
                })
                .collect()
        })
        .collect();

    // One axis: PC1's variance share and each centroid's share of squared length on PC1.
    let (pc1_share, min_on_pc1, positions) = match inp.pc1 {
        Some((share, load)) => {
            let norm: f64 = load.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
            let mut min_on = 1.0f64;
            let coords: Vec<f64> = centroids
                .iter()
                .map(|c| {
                    let dot: f64 = c.iter().zip(load).map(|(v, l)| v.z * l).sum::<f64>() / norm;
                    let len2: f64 = c.iter().map(|v| v.z * v.z).sum();
                    if len2 > 1e-24 {
                        min_on = min_on.min(dot * dot / len2);
                    }
                    dot
                })
                .collect();
            (share, min_on, coords)
        }
        None => (0.0, 0.0, vec![0.0; k]),
    };
    let one_axis = inp.pc1.is_some()
        && k >= 2
        && pc1_share >= s.persona_one_axis_share
        && min_on_pc1 >= s.persona_one_axis_share;
    let axis_statement = axis_statement(f, inp.pc1, pc1_share, min_on_pc1, one_axis, s);
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| positions[a].total_cmp(&positions[b]).then(a.cmp(&b)));
    let position_of = |c: usize| -> String {
        let rank = order.iter().position(|&o| o == c).unwrap_or(0);
        if rank == 0 {
            "low end".into()
        } else if rank + 1 == k {
            "high end".into()
        } else {
            "middle".into()
        }
    };

    let refits = inp.refits.len();
    let mut out: Vec<Persona> = (0..k)
        .map(|c| {
            let rows = &members[c];
            let mut groups: Vec<usize> = rows.iter().map(|&i| ds.groups[i]).collect();
            groups.sort_unstable();
            groups.dedup();
            let centroid = centroids[c].clone();
            let z: Vec<f64> = centroid.iter().map(|v| v.z).collect();
            let traits: Vec<Trait> = signature(&z, s.persona_trait_threshold)
                .into_iter()
                .map(|(j, high)| Trait {
                    feature: f.names[j].clone(),
                    direction: if high { "high" } else { "low" }.into(),
                    z: z[j],
                    value: centroid[j].value,
                    text: trait_text(ds, s, &f.names[j], high, centroid[j].value),
                })
                .collect();
            let named: Vec<&str> = traits
                .iter()
                .take(s.persona_max_traits)
                .map(|t| t.text.as_str())
                .collect();
            let described = if named.is_empty() {
                "average on every feature".to_string()
            } else {
                named.join(", ")
            };
            let axis_position = one_axis.then(|| position_of(c));
            let name = match &axis_position {
                Some(p) => format!("{} of one axis: {described}", capitalise(p)),
                None => capitalise(&described),
            };
            let value_score = score(&value_cols, rows);
            let engagement_score = score(&engagement_cols, rows);
            let vl = level(value_score, s.persona_value_cut);
            let el = level(engagement_score, s.persona_engagement_cut);
            let ri = rule_for(vl, el);
            let rule_row = &ACTION_RULES[ri];
            let rule = format!(
                "value {vl} ({value_score:+.2} sd; cut ±{}), engagement {el} ({engagement_score:+.2} sd; cut ±{}) → rule {}: {} × {} → {}",
                s.persona_value_cut,
                s.persona_engagement_cut,
                ri + 1,
                rule_row.0,
                rule_row.1,
                rule_row.2
            );
            let reference = sorted_signature(&z, s.persona_trait_threshold);
            let stable_refits = inp
                .refits
                .iter()
                .filter(|cents| {
                    cents
                        .iter()
                        .any(|cz| sorted_signature(cz, s.persona_trait_threshold) == reference)
                })
                .count();
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
            Persona {
                cluster: c,
                name,
                traits,
                axis_position,
                value_score,
                value_level: vl.into(),
                engagement_score,
                engagement_level: el.into(),
                rule_index: ri,
                rule,
                action: rule_row.2.into(),
                size: rows.len(),
                distinct_rows: groups.len(),
                share: rows.len() as f64 / n.max(1) as f64,
                centroid,
                mean_spend: mean_of(spend, rows),
                category_mix,
                growth_share: rows.iter().filter(|&&i| growth[i]).count() as f64
                    / rows.len().max(1) as f64,
                stable_refits,
                stability: (refits > 0).then(|| stable_refits as f64 / refits as f64),
            }
        })
        .collect();
    // Two clusters can get the same words: add the cluster label so names stay unique.
    let names: Vec<String> = out.iter().map(|p| p.name.clone()).collect();
    for p in &mut out {
        if names.iter().filter(|n| **n == p.name).count() > 1 {
            p.name = format!("{} (cluster {})", p.name, p.cluster);
        }
    }
    let cut = PersonaCutoffs {
        trait_threshold: s.persona_trait_threshold,
        max_traits: s.persona_max_traits,
        value_columns: value_cols,
        engagement_columns: engagement_cols,
        value_cut: s.persona_value_cut,
        engagement_cut: s.persona_engagement_cut,
        one_axis_share: s.persona_one_axis_share,
        pc1_share,
        min_centroid_share_on_pc1: min_on_pc1,
        one_axis,
        axis_statement,
        stability_method: format!(
            "share of the {refits} bootstrap refits of the stability check in which some refitted cluster has exactly the same traits (the same features at |standardised difference| ≥ {}, each in the same direction)",
            s.persona_trait_threshold
        ),
    };
    (out, cut)
}

fn axis_statement(
    f: &Features,
    pc1: Option<(f64, &[f64])>,
    pc1_share: f64,
    min_on_pc1: f64,
    one_axis: bool,
    s: &SegmentationSettings,
) -> String {
    let Some((_, load)) = pc1 else {
        return "no principal-component view: the one-axis check was not made".into();
    };
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let pct2 = |x: f64| format!("{:.2}%", 100.0 * x);
    let need = pct(s.persona_one_axis_share);
    if one_axis {
        let names = |pos: bool| -> Vec<String> {
            f.names
                .iter()
                .zip(load)
                .filter(|(_, l)| (**l >= 0.0) == pos)
                .map(|(n, _)| n.replace('_', " "))
                .collect()
        };
        let (up, down) = (names(true), names(false));
        let along = if down.is_empty() {
            format!("{} all rise together", up.join(", "))
        } else {
            format!("{} rise while {} fall", up.join(", "), down.join(", "))
        };
        format!(
            "The segments lie along one axis: PC1 carries {} of the standardised features' variance and every centroid lies along it (at least {} of its squared distance from the mean is on PC1; both ≥ {need}). Along it {along}, so the personas are positions on one scale, not distinct types.",
            pct(pc1_share),
            pct2(min_on_pc1)
        )
    } else {
        format!(
            "The segments are not positions on one axis: PC1 carries {} of the variance and the least aligned centroid has {} of its squared distance on PC1 (one axis needs both ≥ {need}).",
            pct(pc1_share),
            pct2(min_on_pc1)
        )
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn values_read_as_a_marketer_would_write_them() {
        assert_eq!(short_value(88_400.0, true), "88k");
        assert_eq!(short_value(4.04, false), "4.0");
        assert_eq!(short_value(9.3, true), "9");
        assert_eq!(short_value(287.6, true), "288");
        assert_eq!(short_value(-0.01, false), "0.0");
    }

    #[test]
    fn every_level_pair_has_exactly_the_stated_action() {
        let want = [
            ("high", "high", "reward and retain"),
            ("high", "low", "win loyalty"),
            ("low", "high", "upsell"),
            ("low", "low", "low-cost nurture"),
            ("average", "high", "standard programme"),
            ("high", "average", "standard programme"),
            ("average", "average", "standard programme"),
        ];
        for (v, e, a) in want {
            assert_eq!(ACTION_RULES[rule_for(v, e)].2, a, "{v} × {e}");
        }
    }

    #[test]
    fn signature_orders_by_size_then_feature() {
        let z = [0.2, -1.0, 1.0, 0.6, -0.49];
        assert_eq!(signature(&z, 0.5), vec![(1, false), (2, true), (3, true)]);
        assert!(signature(&z, 1.5).is_empty());
    }
}
