//! Segmentation: k-means customer segments whose number is chosen by one stated rule, checked for
//! stability across seeds and bootstrap resamples, compared with a Gaussian mixture, and explained
//! as personas with a rule-derived marketing action.
//!
//! Steps (all seeded from `settings.seed`, each with its own [`crate::rng::stream`]):
//! 1. z-score the segmentation features (default: every numeric role column, target included).
//! 2. For k in `k_min..=k_max`, fit k-means (greedy k-means++ seeding, plain Lloyd iterations, `n_init` runs) on all rows
//!    and score it: inertia, silhouette on all rows and on distinct rows only (copies of a row sit
//!    at distance 0 from each other and inflate the silhouette), Davies–Bouldin, Calinski–Harabasz.
//! 3. Choose k: the best distinct-row silhouette among solutions whose smallest cluster holds at
//!    least `min_cluster_share` of customers; report the inertia knee beside it.
//! 4. Stability of the chosen k: adjusted Rand index between refits with other seeds, and between
//!    the reference labels and the labels bootstrap refits give every original row.
//! 5. Second opinion: full-covariance Gaussian mixtures with BIC over the same k.
//! 6. A 2-D PCA projection, personas of the chosen solution ([`personas`]: names from each
//!    cluster's distinctive traits, actions from value × engagement, stability over the bootstrap
//!    refits of step 4) and silhouette values for the figures.

pub mod contract;
pub mod figures;

mod fit;
pub mod null;
pub mod personas;

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::Dataset;
use crate::ml::cluster_metrics as cm;
use crate::rng;
use crate::settings::Settings;
use crate::stats;
pub use personas::{
    ActionRule, CentroidValue, LevelShare, Persona, PersonaCutoffs, Trait, TraitWords,
};

/// Settings of the segmentation analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentationSettings {
    /// Columns to cluster on; empty (the default) means every numeric role column, the target
    /// included (`roles.numeric` then `roles.target`).
    pub features: Vec<String>,
    /// Smallest number of clusters tried (default 2).
    pub k_min: usize,
    /// Largest number of clusters tried (default 10).
    pub k_max: usize,
    /// k-means initialisations per fit; the lowest-inertia run is kept (default 10).
    pub n_init: usize,
    /// k-means convergence tolerance on centroid movement, standardised units (default 1e-4).
    pub tolerance: f64,
    /// k-means iteration cap per initialisation (default 300).
    pub max_iterations: u64,
    /// A solution is eligible only if its smallest cluster holds at least this share of
    /// customers (default 0.05).
    pub min_cluster_share: f64,
    /// The silhouette the segmentation should exceed to count as well separated (default 0.55).
    pub silhouette_target: f64,
    /// Refits with other seeds for the seed-stability ARI (default 10).
    pub stability_seeds: usize,
    /// Bootstrap resamples for the resample-stability ARI (default 20).
    pub bootstrap_resamples: usize,
    /// Seeded Gaussian-mixture fits per k; the highest likelihood is kept (default 3).
    pub gmm_inits: usize,
    /// Variance added to each mixture covariance's diagonal, in standardised units (default 0.01).
    /// With copies in the table a smaller floor lets a component collapse onto one group of
    /// identical rows and the likelihood (and BIC) run away with k.
    pub gmm_reg_covar: f64,
    /// EM convergence tolerance on the mean log-likelihood (default 1e-3, linfa's default).
    pub gmm_tolerance: f64,
    /// EM iteration cap (default 200).
    pub gmm_max_iterations: u64,
    /// Smallest |standardised difference| (cluster mean − table mean, in table sds) that makes a
    /// feature one of a persona's traits (default 0.5).
    pub persona_trait_threshold: f64,
    /// Traits named in a persona's name at most, largest first (default 3).
    pub persona_max_traits: usize,
    /// Share of variance on PC1, and of every centroid's squared distance from the mean on PC1,
    /// at or above which personas are called positions on one axis (default 0.95).
    pub persona_one_axis_share: f64,
    /// Value columns of the action rule; empty (the default) means the target and the
    /// demographic columns after the first (spend and income on the bundled table).
    pub persona_value_columns: Vec<String>,
    /// Engagement columns of the action rule; empty (the default) means the growth label's inputs
    /// other than the target (loyalty and frequency on the bundled table).
    pub persona_engagement_columns: Vec<String>,
    /// A value score (mean standardised difference of the value columns) above `+cut` is high,
    /// below `−cut` low, else average (default 0.25).
    pub persona_value_cut: f64,
    /// The same cut for the engagement score (default 0.25).
    pub persona_engagement_cut: f64,
    /// Words for a column's low and high ends in persona names, by column; columns not listed
    /// use the built-in words ([`personas::default_trait_words`]) or "low/high <column>".
    pub persona_words: std::collections::BTreeMap<String, TraitWords>,
    /// Seeded null tables (no clusters, the data's principal-axis spread) of the null reference
    /// and the gap statistic (default 20, at least 20).
    pub null_tables: usize,
}

impl Default for SegmentationSettings {
    fn default() -> Self {
        SegmentationSettings {
            features: Vec::new(),
            k_min: 2,
            k_max: 10,
            n_init: 10,
            tolerance: 1e-4,
            max_iterations: 300,
            min_cluster_share: 0.05,
            silhouette_target: 0.55,
            stability_seeds: 10,
            bootstrap_resamples: 20,
            gmm_inits: 3,
            gmm_reg_covar: 1e-2,
            gmm_tolerance: 1e-3,
            gmm_max_iterations: 200,
            persona_trait_threshold: 0.5,
            persona_max_traits: 3,
            persona_one_axis_share: 0.95,
            persona_value_columns: Vec::new(),
            persona_engagement_columns: Vec::new(),
            persona_value_cut: 0.25,
            persona_engagement_cut: 0.25,
            persona_words: std::collections::BTreeMap::new(),
            null_tables: 20,
        }
    }
}

/// Why segmentation could not run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SegmentationError {
    /// The feature list resolved to no columns.
    #[error("segmentation has no features: set segmentation.features or roles.numeric")]
    NoFeatures,
    /// A listed feature is not a numeric column of the table.
    #[error(
        "segmentation feature '{0}' is not a numeric column of the table; check segmentation.features"
    )]
    UnknownFeature(String),
    /// A feature has zero spread and cannot be standardised.
    #[error(
        "segmentation feature '{0}' is constant and cannot be standardised; drop it from segmentation.features"
    )]
    ConstantFeature(String),
    /// A persona setting names a column that is not a numeric column of the table.
    #[error("segmentation.{setting} names '{column}', which is not a numeric column of the table")]
    UnknownPersonaColumn {
        /// The setting.
        setting: &'static str,
        /// The column.
        column: String,
    },
    /// The k range is empty or starts below 2.
    #[error("segmentation needs 2 <= k_min <= k_max, got k_min = {k_min}, k_max = {k_max}")]
    BadRange {
        /// Smallest k asked for.
        k_min: usize,
        /// Largest k asked for.
        k_max: usize,
    },
    /// Too few distinct rows for the largest k.
    #[error(
        "segmentation with k_max = {k_max} needs more than {k_max} distinct rows, the table has {distinct}"
    )]
    TooFewRows {
        /// Largest k asked for.
        k_max: usize,
        /// Distinct rows in the table.
        distinct: usize,
    },
    /// A count setting is zero.
    #[error("segmentation.{0} must be at least 1")]
    ZeroCount(&'static str),
    /// A library fit failed.
    #[error("segmentation fit failed: {0}")]
    Fit(String),
}

impl SegmentationSettings {
    /// Checks the settings against a table.
    pub fn check(&self, ds: &Dataset) -> Result<(), SegmentationError> {
        if self.k_min < 2 || self.k_max < self.k_min {
            return Err(SegmentationError::BadRange {
                k_min: self.k_min,
                k_max: self.k_max,
            });
        }
        if ds.n_groups <= self.k_max {
            return Err(SegmentationError::TooFewRows {
                k_max: self.k_max,
                distinct: ds.n_groups,
            });
        }
        for (name, v) in [
            ("n_init", self.n_init),
            ("stability_seeds", self.stability_seeds),
            ("bootstrap_resamples", self.bootstrap_resamples),
            ("gmm_inits", self.gmm_inits),
        ] {
            if v == 0 {
                return Err(SegmentationError::ZeroCount(name));
            }
        }
        for (setting, cols) in [
            ("persona_value_columns", &self.persona_value_columns),
            (
                "persona_engagement_columns",
                &self.persona_engagement_columns,
            ),
        ] {
            if let Some(c) = cols.iter().find(|c| !ds.numeric.contains_key(*c)) {
                return Err(SegmentationError::UnknownPersonaColumn {
                    setting,
                    column: c.clone(),
                });
            }
        }
        if let Some(c) = self
            .persona_words
            .keys()
            .find(|c| !ds.numeric.contains_key(*c))
        {
            return Err(SegmentationError::UnknownPersonaColumn {
                setting: "persona_words",
                column: c.clone(),
            });
        }
        Ok(())
    }
}

/// Scores of the k-means solution for one k.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KScore {
    /// Number of clusters.
    pub k: usize,
    /// Within-cluster sum of squared distances, standardised units (all rows).
    pub inertia: f64,
    /// Mean silhouette over all rows (or the seeded sample; see `silhouette_rows`).
    pub silhouette_all: f64,
    /// Mean silhouette over distinct rows only (one row per duplicate group).
    pub silhouette_distinct: f64,
    /// Davies–Bouldin index, all rows (lower is better).
    pub davies_bouldin: f64,
    /// Calinski–Harabasz index, all rows (higher is better).
    pub calinski_harabasz: f64,
    /// Customers per cluster, by label.
    pub cluster_sizes: Vec<usize>,
    /// The smallest cluster's share of customers.
    pub smallest_share: f64,
    /// Whether the solution passes the minimum-cluster-share condition of the k rule.
    pub eligible: bool,
}

/// How stable the chosen solution is, by adjusted Rand index (ARI).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stability {
    /// Number of clusters the stability was measured at.
    pub k: usize,
    /// Refits with distinct seeds.
    pub seeds: usize,
    /// How the seed ARI is computed.
    pub seed_method: String,
    /// Mean ARI over all pairs of seeded refits.
    pub seed_ari_mean: f64,
    /// Smallest pairwise ARI among seeded refits.
    pub seed_ari_min: f64,
    /// Bootstrap resamples.
    pub bootstrap_resamples: usize,
    /// How a resample is drawn and how its ARI is computed.
    pub bootstrap_method: String,
    /// Mean bootstrap ARI against the reference labels, all original rows.
    pub bootstrap_ari_mean: f64,
    /// Smallest bootstrap ARI, all original rows.
    pub bootstrap_ari_min: f64,
    /// 5% quantile (type 7) of the bootstrap ARIs, all original rows.
    pub bootstrap_ari_p05: f64,
    /// Mean bootstrap ARI on distinct rows only.
    pub bootstrap_ari_mean_distinct: f64,
}

/// A Gaussian-mixture fit for one k.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixtureScore {
    /// Number of components.
    pub k: usize,
    /// Seeded fits attempted.
    pub inits: usize,
    /// Fits that converged without error (the best of these is reported).
    pub converged: usize,
    /// The error of each failed fit, as linfa reported it (empty when all converged).
    pub failures: Vec<String>,
    /// Log-likelihood of the best converged fit (`None` if no fit converged).
    pub log_likelihood: Option<f64>,
    /// Free parameters of the mixture.
    pub n_parameters: usize,
    /// BIC of the best converged fit (lower is better).
    pub bic: Option<f64>,
    /// ARI between the mixture's hard labels and the k-means labels at the same k.
    pub ari_with_kmeans: Option<f64>,
}

/// The Gaussian-mixture second opinion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixtureComparison {
    /// What was fitted and how.
    pub method: String,
    /// One entry per k.
    pub per_k: Vec<MixtureScore>,
    /// The k with the lowest BIC among converged fits.
    pub bic_best_k: Option<usize>,
    /// Whether the BIC minimum lies at the end of the k range (the range may be too narrow, or
    /// the likelihood keeps growing with k).
    pub bic_best_at_range_edge: bool,
    /// ARI between mixture and k-means labels at the chosen k.
    pub ari_at_chosen_k: Option<f64>,
    /// Whether BIC and the k-means rule pick the same k.
    pub agrees_on_k: bool,
}

/// A 2-D PCA view of the standardised features, for the scatter figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcaView {
    /// Share of the standardised features' total variance on PC1 and PC2.
    pub variance_share: [f64; 2],
    /// Loadings of PC1 and PC2, one per feature (feature order of the findings).
    pub loadings: [Vec<f64>; 2],
    /// Rows shown (all rows, or the seeded sample when the table exceeds `sample_cap`).
    pub rows_shown: usize,
    /// PC1/PC2 coordinates of the rows shown.
    pub points: Vec<[f64; 2]>,
    /// Cluster of each point shown.
    pub labels: Vec<usize>,
    /// Cluster centroids projected to PC1/PC2, by label.
    pub centroids: Vec<[f64; 2]>,
}

/// The chosen solution's silhouette values, for the per-cluster silhouette figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SilhouetteProfile {
    /// Rows the values were computed on.
    pub measured_on: String,
    /// Per cluster (by label), the silhouette values of its rows, sorted descending.
    pub values: Vec<Vec<f64>>,
    /// Mean silhouette per cluster.
    pub cluster_means: Vec<f64>,
}

/// Results of the segmentation analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SegmentationFindings {
    /// Why segmentation did not run (`None` when it ran).
    pub skipped: Option<String>,
    /// Features clustered on, in order.
    pub features: Vec<String>,
    /// How features were scaled.
    pub scaling: String,
    /// Rows in the table.
    pub rows: usize,
    /// Distinct rows (duplicate groups).
    pub distinct_rows: usize,
    /// How k-means was fitted.
    pub kmeans_method: String,
    /// Rows the models are fitted on (all, or a seeded sample above `sample_cap`, after which
    /// every row is assigned to its nearest centroid); inertia, Davies–Bouldin,
    /// Calinski–Harabasz and personas always use every row.
    pub fit_rows: String,
    /// Rows the all-rows silhouette is computed on (all, or a seeded sample above `sample_cap`).
    pub silhouette_rows: String,
    /// Rows the distinct-row silhouette is computed on.
    pub silhouette_distinct_rows: String,
    /// Scores for every k tried.
    pub per_k: Vec<KScore>,
    /// The rule that chose k, in words.
    pub k_rule: String,
    /// The chosen number of clusters.
    pub chosen_k: usize,
    /// True when no k met the minimum-cluster-share condition and the best distinct-row
    /// silhouette overall was taken instead.
    pub rule_fallback: bool,
    /// The knee of inertia against k.
    pub knee_k: Option<usize>,
    /// How the knee was found.
    pub knee_method: String,
    /// The silhouette target.
    pub silhouette_target: f64,
    /// Silhouette of the chosen solution on all rows.
    pub chosen_silhouette_all: f64,
    /// Silhouette of the chosen solution on distinct rows.
    pub chosen_silhouette_distinct: f64,
    /// Whether the all-rows silhouette exceeds the target.
    pub target_met_all_rows: bool,
    /// Whether the distinct-row silhouette exceeds the target.
    pub target_met_distinct_rows: bool,
    /// Stability of the chosen solution.
    pub stability: Option<Stability>,
    /// Gaussian-mixture comparison.
    pub mixture: Option<MixtureComparison>,
    /// The rule table that picks a persona's action from its value and engagement levels.
    pub persona_rules: Vec<ActionRule>,
    /// The persona rule's settings as applied and the one-axis finding.
    pub persona_cutoffs: Option<PersonaCutoffs>,
    /// One persona per cluster of the chosen solution, by label (ascending mean spend).
    pub personas: Vec<Persona>,
    /// PCA view for the scatter figure.
    pub pca: Option<PcaView>,
    /// Silhouette values of the chosen solution for the silhouette figure.
    pub silhouette_profile: Option<SilhouetteProfile>,
    /// The null reference: silhouettes and k on structureless tables with the same spread,
    /// the gap statistic and the effective dimensionality (absent if it could not be computed).
    pub null: Option<null::NullReference>,
}

/// Runs the segmentation analysis; on invalid settings the findings say why in `skipped`.
///
/// ```
/// use customer_intel::{analysis::segmentation, data, settings::Settings};
/// let spec = data::SynthSpec { clusters: 3, ..data::SynthSpec::default() };
/// let ds = data::synth(300, 1, &spec);
/// let mut settings = Settings::default();
/// settings.segmentation.k_max = 6;
/// let f = segmentation::run(&ds, &settings);
/// assert_eq!(f.chosen_k, 3);
/// assert_eq!(f.personas.len(), 3);
/// ```
pub fn run(ds: &Dataset, settings: &Settings) -> SegmentationFindings {
    try_run(ds, settings).unwrap_or_else(|e| SegmentationFindings {
        skipped: Some(e.to_string()),
        ..Default::default()
    })
}

/// Rows for costly work: all of `rows` when there are at most `cap`, else a seeded sample of
/// `cap` of them (ascending), and a description of which.
fn capped(
    rows: Vec<usize>,
    cap: usize,
    seed: u64,
    label: &str,
    what: &str,
    why: &str,
) -> (Vec<usize>, String) {
    if rows.len() <= cap {
        let text = format!("all {} {what}", rows.len());
        return (rows, text);
    }
    let mut r = rng::stream(seed, label);
    let mut pick: Vec<usize> = rand::seq::index::sample(&mut r, rows.len(), cap)
        .into_iter()
        .map(|i| rows[i])
        .collect();
    pick.sort_unstable();
    let text = format!(
        "seeded sample of {cap} of {} {what} ({why}; sample_cap = {cap})",
        rows.len()
    );
    (pick, text)
}

fn pick<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i].clone()).collect()
}

fn kmeans_label(k: usize) -> String {
    format!("segmentation/kmeans/k={k}")
}

/// Which rows each step works on. On tables up to `sample_cap` rows every set is the whole table.
struct Plan {
    /// Rows the models (k-means, stability refits, mixtures, PCA) are fitted on.
    fit: Vec<usize>,
    fit_text: String,
    /// Rows the all-rows silhouette is measured on (and the figures show).
    sil: Vec<usize>,
    sil_text: String,
    /// Distinct rows the distinct-row silhouette is measured on.
    distinct: Vec<usize>,
    distinct_text: String,
}

fn plan(ds: &Dataset, settings: &Settings) -> Plan {
    let (cap, seed, n) = (settings.sample_cap, settings.seed, ds.n_rows());
    let (fit, fit_text) = capped(
        (0..n).collect(),
        cap,
        seed,
        "segmentation/fit-sample",
        "rows",
        "models are fitted on the sample and every row is then assigned to its nearest centroid",
    );
    let (sil, sil_text) = capped(
        (0..n).collect(),
        cap,
        seed,
        "segmentation/silhouette-sample",
        "rows",
        "silhouette is quadratic",
    );
    let (distinct, distinct_text) = capped(
        ds.distinct_row_indices(),
        cap,
        seed,
        "segmentation/silhouette-distinct-sample",
        "distinct rows",
        "silhouette is quadratic",
    );
    Plan {
        fit,
        fit_text,
        sil,
        sil_text,
        distinct,
        distinct_text,
    }
}

/// Fits k-means on the plan's fit rows and labels every row of the table by nearest centroid.
fn kmeans_all(
    f: &fit::Features,
    xf: &ndarray::Array2<f64>,
    plan: &Plan,
    k: usize,
    settings: &Settings,
    r: rng::Rng,
    order_by: usize,
) -> Result<fit::Partition, SegmentationError> {
    let p = fit::kmeans(xf, k, &settings.segmentation, r, order_by)?;
    if plan.fit.len() == f.rows.len() {
        return Ok(p);
    }
    let labels = fit::nearest_rows(&f.rows, &p.centroids);
    Ok(fit::Partition {
        labels,
        centroids: p.centroids,
    })
}

/// The analysis' k-means solution with `k` clusters fitted again: the same fit rows (the sample
/// above `sample_cap`), seed stream and label order as [`run`], every row labelled.
fn refit(
    ds: &Dataset,
    settings: &Settings,
    f: &fit::Features,
    k: usize,
) -> Result<(Plan, fit::Partition), SegmentationError> {
    let plan = plan(ds, settings);
    let xf = fit::to_matrix(&pick(&f.rows, &plan.fit));
    let p = kmeans_all(
        f,
        &xf,
        &plan,
        k,
        settings,
        rng::stream(settings.seed, &kmeans_label(k)),
        order_feature(ds, &f.names),
    )?;
    Ok((plan, p))
}

/// Silhouette of the k-means solution with `k` clusters, exactly as [`run`] scores it on all
/// rows (same features, seed stream and sampling above `sample_cap`). Returns NaN when the
/// settings do not fit the table (for example an unknown feature). For the robustness sweeps.
///
/// ```
/// use customer_intel::{analysis::segmentation, data, settings::Settings};
/// let spec = data::SynthSpec { clusters: 2, ..data::SynthSpec::default() };
/// let ds = data::synth(200, 4, &spec);
/// let s = segmentation::silhouette_at(&ds, &Settings::default(), 2);
/// assert!(s > 0.7, "{s}");
/// ```
pub fn silhouette_at(ds: &Dataset, settings: &Settings, k: usize) -> f64 {
    let s = &settings.segmentation;
    let Ok(f) = fit::features(ds, s) else {
        return f64::NAN;
    };
    if k < 2 || ds.n_groups <= k {
        return f64::NAN;
    }
    let Ok((plan, p)) = refit(ds, settings, &f, k) else {
        return f64::NAN;
    };
    let labels = pick(&p.labels, &plan.sil);
    cm::mean_silhouette(&cm::silhouette_samples_many(&pick(&f.rows, &plan.sil), &[&labels])[0])
}

/// Fits k-means with `k` clusters on every row of `ds` — no sample cap — with the analysis'
/// features, scaling, settings and seed stream, and returns each row's cluster (labels ordered as
/// in [`run`]). The full-table fit whose cost `report bench` reports as "k-means one k".
///
/// ```
/// use customer_intel::{analysis::segmentation, data, settings::Settings};
/// let spec = data::SynthSpec { clusters: 3, ..data::SynthSpec::default() };
/// let ds = data::synth(600, 4, &spec);
/// let labels = segmentation::kmeans_all_rows(&ds, &Settings::default(), 3).unwrap();
/// assert_eq!(labels.len(), 600);
/// assert_eq!(labels.iter().max(), Some(&2));
/// ```
pub fn kmeans_all_rows(
    ds: &Dataset,
    settings: &Settings,
    k: usize,
) -> Result<Vec<usize>, SegmentationError> {
    let s = &settings.segmentation;
    let z = fit::standardised_columns(ds, s)?;
    let order_by = order_feature(ds, &z.names);
    let r = rng::stream(settings.seed, &kmeans_label(k));
    Ok(fit::kmeans_flat(&z.rows, k, s, r, order_by)?.labels)
}

/// The feature clusters are ordered by: the target if clustered on, else the first feature.
fn order_feature(ds: &Dataset, names: &[String]) -> usize {
    names
        .iter()
        .position(|n| n == &ds.roles.target)
        .unwrap_or(0)
}

/// Runs the segmentation analysis, or says why it cannot.
pub fn try_run(
    ds: &Dataset,
    settings: &Settings,
) -> Result<SegmentationFindings, SegmentationError> {
    let s = &settings.segmentation;
    s.check(ds)?;
    let f = fit::features(ds, s)?;
    let n = ds.n_rows();
    let seed = settings.seed;
    let order_by = order_feature(ds, &f.names);
    let plan = plan(ds, settings);
    let xf = fit::to_matrix(&pick(&f.rows, &plan.fit));

    // 2. k-means per k, then every score; silhouettes of all k share one pass over the pairs.
    // Each k has its own random stream: the fits run in parallel, in k order.
    let k_range: Vec<usize> = (s.k_min..=s.k_max).collect();
    let partitions = crate::par::map(&k_range, |&k| {
        kmeans_all(
            &f,
            &xf,
            &plan,
            k,
            settings,
            rng::stream(seed, &kmeans_label(k)),
            order_by,
        )
    })
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let silhouettes = |rows: &[usize]| {
        let labels: Vec<Vec<usize>> = partitions.iter().map(|p| pick(&p.labels, rows)).collect();
        let refs: Vec<&[usize]> = labels.iter().map(Vec::as_slice).collect();
        cm::silhouette_samples_many(&pick(&f.rows, rows), &refs)
    };
    let sil_all = silhouettes(&plan.sil);
    let sil_distinct = silhouettes(&plan.distinct);
    let per_k: Vec<KScore> = partitions
        .iter()
        .zip(s.k_min..=s.k_max)
        .enumerate()
        .map(|(i, (p, k))| {
            let sizes = cm::cluster_sizes(&p.labels);
            let smallest_share = sizes.iter().copied().min().unwrap_or(0) as f64 / n as f64;
            KScore {
                k,
                inertia: cm::inertia(&f.rows, &p.labels),
                silhouette_all: cm::mean_silhouette(&sil_all[i]),
                silhouette_distinct: cm::mean_silhouette(&sil_distinct[i]),
                davies_bouldin: cm::davies_bouldin(&f.rows, &p.labels),
                calinski_harabasz: cm::calinski_harabasz(&f.rows, &p.labels),
                eligible: sizes.len() == k && smallest_share >= s.min_cluster_share,
                cluster_sizes: sizes,
                smallest_share,
            }
        })
        .collect();

    // 3. The k rule and the knee.
    let best = |pool: &mut dyn Iterator<Item = &KScore>| {
        pool.fold(None::<&KScore>, |b, c| match b {
            Some(b) if b.silhouette_distinct >= c.silhouette_distinct => Some(b),
            _ => Some(c),
        })
        .map(|c| c.k)
    };
    let eligible_best = best(&mut per_k.iter().filter(|c| c.eligible));
    let rule_fallback = eligible_best.is_none();
    let chosen_k = eligible_best
        .or_else(|| best(&mut per_k.iter()))
        .expect("k range is not empty");
    let ci = chosen_k - s.k_min;
    let chosen = &per_k[ci];
    let ks: Vec<f64> = per_k.iter().map(|c| c.k as f64).collect();
    let inertias: Vec<f64> = per_k.iter().map(|c| c.inertia).collect();
    let knee_k = cm::knee(&ks, &inertias).map(|i| per_k[i].k);
    let reference = &partitions[ci];
    let null = null::reference(
        &pick(&f.rows, &plan.distinct),
        &partitions
            .iter()
            .map(|p| pick(&p.labels, &plan.distinct))
            .collect::<Vec<_>>(),
        s,
        s.null_tables,
        chosen_k,
        seed,
    )
    .ok();

    // 4. Stability, 5. Gaussian mixtures (both on the fit rows).
    let (stability, refit_centroids) =
        stability(ds, settings, &xf, &plan, reference, chosen_k, order_by)?;
    let mixture = mixtures(settings, &xf, &plan, &partitions, chosen_k);

    // 6. PCA view, personas (named with the PCA's one-axis check and the bootstrap refits) and
    // silhouette profile.
    let proj = fit::pca(
        &xf,
        &fit::to_matrix(&pick(&f.rows, &plan.sil)),
        &reference.centroids,
        order_by,
    )?;
    let (personas, cutoffs) = personas::personas(
        ds,
        settings,
        &personas::PersonaInputs {
            features: &f,
            labels: &reference.labels,
            k: chosen_k,
            pc1: Some((proj.variance_share[0], &proj.loadings[0])),
            refits: &refit_centroids,
        },
    );
    let pca = PcaView {
        variance_share: proj.variance_share,
        loadings: proj.loadings.clone(),
        rows_shown: plan.sil.len(),
        points: proj.scores,
        labels: pick(&reference.labels, &plan.sil),
        centroids: proj.centroids,
    };
    let mut values = vec![Vec::new(); chosen_k];
    for (v, &i) in sil_all[ci].iter().zip(&plan.sil) {
        values[reference.labels[i]].push(*v);
    }
    for v in &mut values {
        v.sort_by(|a, b| b.total_cmp(a));
    }
    let cluster_means = values.iter().map(|v| cm::mean_silhouette(v)).collect();

    Ok(SegmentationFindings {
        skipped: None,
        features: f.names.clone(),
        scaling: "z-scores: each feature centred on its mean and divided by its standard deviation (n − 1), over all rows".into(),
        rows: n,
        distinct_rows: ds.n_groups,
        kmeans_method: format!(
            "k-means (greedy k-means++ seeding with 2 + ln k candidates per centre, plain Lloyd iterations; best of {} runs by inertia, tolerance {}, at most {} iterations); labels by nearest final centroid, numbered by ascending mean {}",
            s.n_init, s.tolerance, s.max_iterations, f.names[order_by]
        ),
        fit_rows: plan.fit_text.clone(),
        silhouette_rows: plan.sil_text.clone(),
        silhouette_distinct_rows: plan.distinct_text.clone(),
        k_rule: format!(
            "k in {}..={} with the highest distinct-row silhouette among solutions whose smallest cluster holds at least {:.0}% of customers (ties: smaller k)",
            s.k_min,
            s.k_max,
            100.0 * s.min_cluster_share
        ),
        chosen_k,
        rule_fallback,
        knee_k,
        knee_method: "inertia against k: the point farthest below the chord joining the first and last points, both axes scaled to [0, 1] (Kneedle difference maximum)".into(),
        silhouette_target: s.silhouette_target,
        chosen_silhouette_all: chosen.silhouette_all,
        chosen_silhouette_distinct: chosen.silhouette_distinct,
        target_met_all_rows: chosen.silhouette_all > s.silhouette_target,
        target_met_distinct_rows: chosen.silhouette_distinct > s.silhouette_target,
        per_k,
        stability: Some(stability),
        mixture: Some(mixture),
        persona_rules: personas::action_rules(),
        persona_cutoffs: Some(cutoffs),
        personas,
        pca: Some(pca),
        silhouette_profile: Some(SilhouetteProfile {
            measured_on: format!("chosen k = {chosen_k}, {}", plan.sil_text),
            values,
            cluster_means,
        }),
        null,
    })
}

/// Mean and minimum of the pairwise ARIs of a list of labellings.
fn pairwise_ari(labels: &[Vec<usize>]) -> (f64, f64) {
    let mut all = Vec::new();
    for i in 0..labels.len() {
        for j in (i + 1)..labels.len() {
            all.push(cm::adjusted_rand_index(&labels[i], &labels[j]));
        }
    }
    if all.is_empty() {
        return (1.0, 1.0);
    }
    (
        stats::mean(&all),
        all.iter().copied().fold(f64::INFINITY, f64::min),
    )
}

fn stability(
    ds: &Dataset,
    settings: &Settings,
    xf: &ndarray::Array2<f64>,
    plan: &Plan,
    reference: &fit::Partition,
    k: usize,
    order_by: usize,
) -> Result<(Stability, Vec<Vec<Vec<f64>>>), SegmentationError> {
    let s = &settings.segmentation;
    let ref_fit = pick(&reference.labels, &plan.fit);
    // Every refit has its own random stream, so they run in parallel (results in seed order).
    let seed_ids: Vec<usize> = (0..s.stability_seeds).collect();
    let seeded = crate::par::map(&seed_ids, |&i| {
        let r = rng::stream(
            rng::child_seed(settings.seed, i as u64),
            "segmentation/stability-seed",
        );
        fit::kmeans(xf, k, s, r, order_by).map(|p| p.labels)
    })
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let (seed_ari_mean, seed_ari_min) = pairwise_ari(&seeded);

    // Bootstrap over duplicate groups: copies of a customer are drawn together, so a resample
    // never holds more "independent" customers than the table does.
    let mut group_index = std::collections::BTreeMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (local, &row) in plan.fit.iter().enumerate() {
        let g = *group_index.entry(ds.groups[row]).or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[g].push(local);
    }
    let distinct: Vec<usize> = members.iter().map(|m| m[0]).collect();
    let n_groups = members.len();
    // The resamples are drawn one after another from one stream (as before), then refitted in
    // parallel, each with its own stream; results are kept in resample order.
    let mut draw = rng::stream(settings.seed, "segmentation/bootstrap");
    let resamples: Vec<(usize, Vec<usize>)> = (0..s.bootstrap_resamples)
        .map(|b| {
            let rows: Vec<usize> = (0..n_groups)
                .flat_map(|_| members[draw.gen_range(0..n_groups)].iter().copied())
                .collect();
            (b, rows)
        })
        .collect();
    let refits = crate::par::map(&resamples, |(b, rows)| {
        let xb = xf.select(ndarray::Axis(0), rows);
        let r = rng::stream(
            rng::child_seed(settings.seed, *b as u64),
            "segmentation/bootstrap-fit",
        );
        let p = fit::kmeans(&xb, k, s, r, order_by)?;
        let labels = fit::nearest(xf, &p.centroids);
        Ok::<_, SegmentationError>((p.centroids, labels))
    });
    let (mut aris, mut aris_distinct) = (Vec::new(), Vec::new());
    let mut refit_centroids = Vec::with_capacity(s.bootstrap_resamples);
    for refit in refits {
        let (centroids, labels) = refit?;
        refit_centroids.push(centroids);
        aris.push(cm::adjusted_rand_index(&ref_fit, &labels));
        aris_distinct.push(cm::adjusted_rand_index(
            &pick(&ref_fit, &distinct),
            &pick(&labels, &distinct),
        ));
    }
    let st = Stability {
        k,
        seeds: s.stability_seeds,
        seed_method: format!(
            "k-means refitted on {} with {} seeds derived from the master seed ({} initialisations each); ARI over every pair of refits",
            plan.fit_text, s.stability_seeds, s.n_init
        ),
        seed_ari_mean,
        seed_ari_min,
        bootstrap_resamples: s.bootstrap_resamples,
        bootstrap_method: format!(
            "{} resamples drawing the {n_groups} duplicate groups of {} with replacement (all copies of a drawn group enter together); k-means refitted on each resample (same scaling), every one of those rows assigned to its nearest resample centroid, ARI against the reference labels on all of them (and on one row per duplicate group)",
            s.bootstrap_resamples, plan.fit_text
        ),
        bootstrap_ari_mean: stats::mean(&aris),
        bootstrap_ari_min: aris.iter().copied().fold(f64::INFINITY, f64::min),
        bootstrap_ari_p05: stats::quantile(&aris, 0.05),
        bootstrap_ari_mean_distinct: stats::mean(&aris_distinct),
    };
    Ok((st, refit_centroids))
}

fn mixtures(
    settings: &Settings,
    xf: &ndarray::Array2<f64>,
    plan: &Plan,
    partitions: &[fit::Partition],
    chosen_k: usize,
) -> MixtureComparison {
    let s = &settings.segmentation;
    // Every (k, initialisation) fit has its own random stream: all run in parallel, and are
    // combined in (k, initialisation) order.
    let tasks: Vec<(usize, usize)> = (s.k_min..=s.k_max)
        .flat_map(|k| (0..s.gmm_inits).map(move |i| (k, i)))
        .collect();
    let mut fits = crate::par::map(&tasks, |&(k, i)| {
        let r = rng::stream(
            rng::child_seed(settings.seed, i as u64),
            &format!("segmentation/gmm/k={k}"),
        );
        fit::mixture(xf, k, s, r)
    })
    .into_iter();
    let mut per_k = Vec::new();
    for (p, k) in partitions.iter().zip(s.k_min..=s.k_max) {
        let mut best: Option<fit::MixtureFit> = None;
        let mut failures = Vec::new();
        for _ in 0..s.gmm_inits {
            match fits.next().expect("one fit per (k, initialisation)") {
                Ok(m) => {
                    if best
                        .as_ref()
                        .is_none_or(|b| m.log_likelihood > b.log_likelihood)
                    {
                        best = Some(m);
                    }
                }
                Err(e) => failures.push(e),
            }
        }
        let kmeans_fit = pick(&p.labels, &plan.fit);
        per_k.push(MixtureScore {
            k,
            inits: s.gmm_inits,
            converged: s.gmm_inits - failures.len(),
            failures,
            log_likelihood: best.as_ref().map(|b| b.log_likelihood),
            n_parameters: fit::mixture_parameters(k, xf.ncols()),
            bic: best.as_ref().map(|b| b.bic),
            ari_with_kmeans: best
                .as_ref()
                .map(|b| cm::adjusted_rand_index(&b.labels, &kmeans_fit)),
        });
    }
    let bic_best_k = per_k
        .iter()
        .filter_map(|m| m.bic.map(|b| (m.k, b)))
        .fold(None::<(usize, f64)>, |acc, (k, b)| match acc {
            Some((_, ab)) if ab <= b => acc,
            _ => Some((k, b)),
        })
        .map(|(k, _)| k);
    MixtureComparison {
        method: format!(
            "linfa-clustering Gaussian mixture, full covariances plus {} on the diagonal, EM tolerance {} on the mean log-likelihood, at most {} iterations, best of {} seeded k-means initialisations by log-likelihood, on the same standardised features of {}; BIC = −2 log L + p ln n",
            s.gmm_reg_covar, s.gmm_tolerance, s.gmm_max_iterations, s.gmm_inits, plan.fit_text
        ),
        bic_best_at_range_edge: bic_best_k.is_some_and(|k| k == s.k_min || k == s.k_max),
        ari_at_chosen_k: per_k
            .iter()
            .find(|m| m.k == chosen_k)
            .and_then(|m| m.ari_with_kmeans),
        agrees_on_k: bic_best_k == Some(chosen_k),
        bic_best_k,
        per_k,
    }
}

#[cfg(test)]
mod tests;

/// The production segmentation: what is needed to give a new customer the persona of the
/// analysis' chosen k-means solution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductionSegments {
    /// Features clustered on (user column names), in order.
    pub features: Vec<String>,
    /// Mean of each feature over the analysis' rows (the z-score centre).
    pub means: Vec<f64>,
    /// Standard deviation (n − 1) of each feature over the analysis' rows (the z-score scale).
    pub sds: Vec<f64>,
    /// Centroids of the chosen solution in z-score units, by cluster label.
    pub centroids: Vec<Vec<f64>>,
    /// Persona name of each cluster, by label.
    pub personas: Vec<String>,
    /// Recommended action of each cluster, by label.
    pub actions: Vec<String>,
    /// The action rule that fired for each cluster, with its value and engagement scores.
    pub rules: Vec<String>,
    /// The one-axis finding of the analysis, in words.
    pub axis_statement: String,
    /// The rows the centroids were fitted on (all rows, or the seeded sample above `sample_cap`).
    pub fit_rows: String,
}

impl ProductionSegments {
    /// The cluster of one customer given its raw feature values (in [`Self::features`] order):
    /// nearest centroid by squared Euclidean distance on z-scores, first on ties (the rule the
    /// analysis labels rows by).
    pub fn assign(&self, raw: &[f64], z: &mut Vec<f64>) -> usize {
        z.clear();
        // The arithmetic of `stats::standardize_with`, one value at a time.
        z.extend(
            raw.iter()
                .zip(self.means.iter().zip(&self.sds))
                .map(|(v, (m, s))| {
                    let s = if *s > 0.0 && s.is_finite() { *s } else { 1.0 };
                    (v - m) / s
                }),
        );
        let mut best = (0, f64::INFINITY);
        for (j, c) in self.centroids.iter().enumerate() {
            let d = cm::sq_dist(z, c);
            if d < best.1 {
                best = (j, d);
            }
        }
        best.0
    }

    /// Checks that the arrays agree in length.
    pub fn check(&self) -> Result<(), String> {
        let d = self.features.len();
        let k = self.centroids.len();
        if d == 0 || k == 0 {
            return Err("no features or no centroids".into());
        }
        if self.means.len() != d
            || self.sds.len() != d
            || self.centroids.iter().any(|c| c.len() != d)
        {
            return Err(format!(
                "means, sds and centroids must each have {d} values"
            ));
        }
        if self.personas.len() != k || self.actions.len() != k || self.rules.len() != k {
            return Err(format!(
                "{k} centroids need {k} persona names, actions and rules"
            ));
        }
        Ok(())
    }
}

/// Refits the analysis' chosen k-means solution (same features, scaling, rows and seed stream as
/// [`run`], so the same centroids) and attaches each cluster's persona name and action from
/// `findings`.
pub fn fit_production(
    ds: &Dataset,
    settings: &Settings,
    findings: &SegmentationFindings,
) -> Result<ProductionSegments, SegmentationError> {
    let s = &settings.segmentation;
    let k = findings.chosen_k;
    let f = fit::features(ds, s)?;
    let (plan, p) = refit(ds, settings, &f, k)?;
    let sizes = cm::cluster_sizes(&p.labels);
    let expected: Vec<usize> = findings.personas.iter().map(|q| q.size).collect();
    if sizes != expected || p.centroids.len() != findings.personas.len() {
        return Err(SegmentationError::Fit(format!(
            "the refitted solution (cluster sizes {sizes:?}) differs from the analysed one ({expected:?})"
        )));
    }
    Ok(ProductionSegments {
        features: f.names,
        means: f.means,
        sds: f.sds,
        centroids: p.centroids,
        personas: findings.personas.iter().map(|q| q.name.clone()).collect(),
        actions: findings.personas.iter().map(|q| q.action.clone()).collect(),
        rules: findings.personas.iter().map(|q| q.rule.clone()).collect(),
        axis_statement: findings
            .persona_cutoffs
            .as_ref()
            .map(|c| c.axis_statement.clone())
            .unwrap_or_default(),
        fit_rows: plan.fit_text,
    })
}

/// The standardised feature matrix the segmentation clusters: one row per customer, one z-score
/// per feature ((value − mean) / sd, both over all rows, sd with n − 1), with the feature names,
/// means and standard deviations used. The first step of [`run`], exposed for notebooks.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardised {
    /// Feature names, in column order.
    pub names: Vec<String>,
    /// Each feature's mean over all rows.
    pub means: Vec<f64>,
    /// Each feature's standard deviation over all rows.
    pub sds: Vec<f64>,
    /// One row of z-scores per customer.
    pub rows: Vec<Vec<f64>>,
}

/// Standardises the segmentation features of `ds` exactly as [`run`] does.
///
/// ```
/// use customer_intel::{analysis::segmentation, data, settings::Settings, stats};
/// let ds = data::synth(100, 2, &data::SynthSpec::default());
/// let z = segmentation::standardised(&ds, &Settings::default()).unwrap();
/// assert_eq!(z.names.len(), 5);
/// let first: Vec<f64> = z.rows.iter().map(|r| r[0]).collect();
/// assert!(stats::mean(&first).abs() < 1e-12 && (stats::sd(&first) - 1.0).abs() < 1e-12);
/// ```
pub fn standardised(ds: &Dataset, settings: &Settings) -> Result<Standardised, SegmentationError> {
    let f = fit::features(ds, &settings.segmentation)?;
    Ok(Standardised {
        names: f.names,
        means: f.means,
        sds: f.sds,
        rows: f.rows,
    })
}
