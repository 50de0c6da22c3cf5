//! Robustness: how the headline scores degrade when the data get noisier.
//!
//! Gaussian noise with a standard deviation of 0, 5, 10, 20 and 40 % of each column's own
//! standard deviation is added, separately, to every numeric feature and to the target, in
//! several seeded repeats per level. Noise is drawn once per duplicate group, so copies of a row
//! stay copies and group-aware cross-validation keeps them in one fold. Each noisy table is
//! scored by the other analyses' public scoring functions, so the curves measure the same thing
//! as the headline scores, with fewer cross-validation repeats to keep the sweep cheap (recorded
//! in [`RobustnessSetup`]).

pub mod contract;
pub mod figures;

use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::analysis::classification::{self, ClassificationFindings, ClassifierKind};
use crate::analysis::regression::{self, FeatureSet, RegressionFindings};
use crate::analysis::segmentation::{self, SegmentationFindings};
use crate::data::Dataset;
use crate::ml::cv::Scheme;
use crate::ml::regressors::ModelKind;
use crate::rng;
use crate::settings::Settings;
use crate::stats;

/// Settings of the robustness analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RobustnessSettings {
    /// Noise levels as fractions of each column's standard deviation. Default 0, .05, .1, .2, .4.
    pub levels: Vec<f64>,
    /// Seeded noise draws per level. Default 3.
    pub repeats: usize,
    /// Cross-validation folds used inside the sweep. Default 5.
    pub cv_folds: usize,
    /// Cross-validation repeats used inside the sweep (the headline scores use `settings.repeats`).
    /// Default 1: the spread over noise draws already covers fold-assignment noise.
    pub cv_repeats: usize,
}

impl Default for RobustnessSettings {
    fn default() -> Self {
        RobustnessSettings {
            levels: vec![0.0, 0.05, 0.1, 0.2, 0.4],
            repeats: 3,
            cv_folds: 5,
            cv_repeats: 1,
        }
    }
}

impl RobustnessSettings {
    /// Checks every value; the error names the `robustness.` key, its value and the range.
    pub fn check(&self) -> Result<(), crate::settings::SettingsError> {
        use crate::bounds;
        bounds::count("robustness.levels (entries)", self.levels.len(), 1, 20)?;
        for (i, l) in self.levels.iter().enumerate() {
            bounds::closed(&format!("robustness.levels[{i}]"), *l, 0.0, 10.0)?;
        }
        bounds::count("robustness.repeats", self.repeats, 1, 100)?;
        bounds::count("robustness.cv_folds", self.cv_folds, 2, 20)?;
        bounds::count("robustness.cv_repeats", self.cv_repeats, 1, 20)?;
        Ok(())
    }
}

/// What the noise is added to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseOn {
    /// Every numeric feature (not the target).
    Features,
    /// The target only.
    Target,
}

impl NoiseOn {
    /// Both, in report order.
    pub const ALL: [NoiseOn; 2] = [NoiseOn::Features, NoiseOn::Target];

    /// Stable short name (`features`, `target`).
    pub fn name(self) -> &'static str {
        match self {
            NoiseOn::Features => "features",
            NoiseOn::Target => "target",
        }
    }
}

/// One noise level of a curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoisePoint {
    /// Noise sd as a fraction of the column's sd.
    pub level: f64,
    /// Mean score over the repeats.
    pub mean: f64,
    /// Standard deviation of the score over the repeats (n − 1; 0 for one value).
    pub sd: f64,
    /// Smallest score.
    pub min: f64,
    /// Largest score.
    pub max: f64,
    /// Number of scores (noise draws that produced a finite score; level 0 has one draw).
    pub n: usize,
}

/// A degradation curve: one score against the noise level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoiseCurve {
    /// Score name (`ols_r2`, `best_regressor_r2`, `best_classifier_f1`, `silhouette`).
    pub score: String,
    /// The model or method scored.
    pub model: String,
    /// How the score is measured.
    pub measured_by: String,
    /// Where the noise goes.
    pub noise_on: NoiseOn,
    /// One point per level.
    pub points: Vec<NoisePoint>,
}

/// How the sweep was run.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RobustnessSetup {
    /// Noise levels (fractions of each column's sd).
    pub levels: Vec<f64>,
    /// Noise draws per level above 0.
    pub repeats: usize,
    /// Cross-validation folds inside the sweep.
    pub cv_folds: usize,
    /// Cross-validation repeats inside the sweep.
    pub cv_repeats: usize,
    /// The headline analyses' folds and repeats, for comparison.
    pub headline_folds: usize,
    /// The global `repeats` setting. A scorer's own headline budget can differ (an analysis may
    /// override it); each curve's `measured_by` states its sweep and headline budgets.
    pub headline_repeats: usize,
    /// Columns that receive feature noise.
    pub noisy_features: Vec<String>,
    /// How the noise is drawn.
    pub noise: String,
}

/// How much the growth-potential label itself moves at one noise level: the classifier's F1 is
/// scored against the label recomputed from the noisy columns, so it can only change as much
/// as the features and that label do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelShift {
    /// Where the noise goes.
    pub noise_on: NoiseOn,
    /// Noise sd as a fraction of the column's sd (levels above 0).
    pub level: f64,
    /// Mean share of rows whose label differs from the clean table's, over the draws.
    pub mean_changed_share: f64,
    /// Largest share over the draws.
    pub max_changed_share: f64,
    /// Noise draws (the same draws the curves use).
    pub draws: usize,
}

/// Results of the robustness analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RobustnessFindings {
    /// Why the sweep could not run on this table, in words (`None`: it ran); everything else
    /// is then empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Present when the table exceeded `sample_cap` and the sweep ran on the shared seeded
    /// sample of whole duplicate groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<crate::data::SampleInfo>,
    /// How the sweep was run.
    pub setup: RobustnessSetup,
    /// The curves, by score then noise target.
    pub curves: Vec<NoiseCurve>,
    /// How much the growth-potential label changes under each noise level and target.
    pub label_shift: Vec<LabelShift>,
    /// Scores that could not be swept, with the reason.
    pub missing: Vec<String>,
}

/// The noise draw of target `on`, `level` and repeat `rep`: the stream label shared by the
/// sweep and [`label_shift`], so both see the same noisy tables.
fn draw_label(on: NoiseOn, level: f64, rep: usize) -> String {
    format!("robustness/{}/{level}/{rep}", on.name())
}

/// The columns that receive noise of target `on`: the numeric features or the target.
fn noisy_columns(ds: &Dataset, on: NoiseOn) -> Vec<String> {
    match on {
        NoiseOn::Features => ds
            .roles
            .numeric
            .iter()
            .filter(|c| **c != ds.roles.target)
            .cloned()
            .collect(),
        NoiseOn::Target => vec![ds.roles.target.clone()],
    }
}

/// The share of rows whose growth-potential label changes under each noise target and level
/// above 0, over the sweep's draws.
pub fn label_shift(ds: &Dataset, settings: &Settings) -> Vec<LabelShift> {
    let cfg = &settings.robustness;
    let (clean, _) = crate::features::growth_label(ds, &settings.features);
    let n = clean.len().max(1) as f64;
    let mut out = Vec::new();
    for on in NoiseOn::ALL {
        let cols = noisy_columns(ds, on);
        for &level in cfg.levels.iter().filter(|&&l| l != 0.0) {
            let shares: Vec<f64> = (0..cfg.repeats)
                .map(|rep| {
                    let noisy =
                        with_noise(ds, &cols, level, settings.seed, &draw_label(on, level, rep));
                    let (l, _) = crate::features::growth_label(&noisy, &settings.features);
                    l.iter().zip(&clean).filter(|(a, b)| a != b).count() as f64 / n
                })
                .collect();
            out.push(LabelShift {
                noise_on: on,
                level,
                mean_changed_share: stats::mean(&shares),
                max_changed_share: shares.iter().copied().fold(0.0, f64::max),
                draws: shares.len(),
            });
        }
    }
    out
}

/// The dataset with Gaussian noise of sd `level × sd(column)` added to `columns`, drawn once per
/// duplicate group (copies stay copies, so the groups are unchanged), from the stream `label`.
pub fn with_noise(ds: &Dataset, columns: &[String], level: f64, seed: u64, label: &str) -> Dataset {
    if level == 0.0 || columns.is_empty() {
        return ds.clone();
    }
    let mut r = rng::stream(seed, label);
    let mut numeric = ds.numeric.clone();
    for c in columns {
        let scale = level * stats::sd(ds.col(c));
        let per_group: Vec<f64> = (0..ds.n_groups)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut r);
                scale * z
            })
            .collect();
        let col = numeric
            .get_mut(c)
            .expect("noise columns are numeric role columns");
        for (v, &g) in col.iter_mut().zip(&ds.groups) {
            *v += per_group[g];
        }
    }
    let mut noisy = Dataset::from_columns(
        ds.roles.clone(),
        ds.ids.clone(),
        numeric,
        ds.category.clone(),
        Vec::new(),
        ds.lines.clone(),
        ds.provenance.clone(),
    );
    noisy.provenance.source = format!(
        "{} + noise {level} sd on {}",
        ds.provenance.source,
        columns.join(",")
    );
    noisy
}

/// A score to sweep: name, model, how it is measured, and the scoring function.
pub struct Scorer<'a> {
    /// Score name.
    pub score: String,
    /// Model or method.
    pub model: String,
    /// How it is measured.
    pub measured_by: String,
    /// Scores one (noisy) dataset; NaN when it cannot.
    pub eval: Box<dyn Fn(&Dataset) -> f64 + Sync + 'a>,
}

fn point(level: f64, scores: &[f64]) -> NoisePoint {
    let v: Vec<f64> = scores.iter().copied().filter(|x| x.is_finite()).collect();
    let (min, max) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    NoisePoint {
        level,
        mean: if v.is_empty() {
            f64::NAN
        } else {
            stats::mean(&v)
        },
        sd: if v.len() < 2 { 0.0 } else { stats::sd(&v) },
        min: if v.is_empty() { f64::NAN } else { min },
        max: if v.is_empty() { f64::NAN } else { max },
        n: v.len(),
    }
}

/// Sweeps every scorer over the noise levels, on features and on the target. Level 0 is scored
/// once and shared by both curves; every other level is scored on `repeats` noise draws, the same
/// draws for every scorer.
pub fn sweep(
    ds: &Dataset,
    cfg: &RobustnessSettings,
    seed: u64,
    scorers: &[Scorer],
) -> Vec<NoiseCurve> {
    let features = noisy_columns(ds, NoiseOn::Features);
    let target = noisy_columns(ds, NoiseOn::Target);
    // Every noisy table (noise target × level above 0 × draw) is an independent, seeded task;
    // the tasks run in parallel and come back in order.
    // The first task (None) scores the clean table.
    let tasks: Vec<Option<(NoiseOn, f64, usize)>> = std::iter::once(None)
        .chain(NoiseOn::ALL.iter().flat_map(|&on| {
            cfg.levels
                .iter()
                .filter(|&&l| l != 0.0)
                .flat_map(move |&level| (0..cfg.repeats).map(move |rep| Some((on, level, rep))))
        }))
        .collect();
    let mut scored = crate::par::map(&tasks, |task| {
        let noisy;
        let table = match *task {
            None => ds,
            Some((on, level, rep)) => {
                let cols = if on == NoiseOn::Features {
                    &features
                } else {
                    &target
                };
                noisy = with_noise(ds, cols, level, seed, &draw_label(on, level, rep));
                &noisy
            }
        };
        scorers
            .iter()
            .map(|s| (s.eval)(table))
            .collect::<Vec<f64>>()
    })
    .into_iter();
    let clean: Vec<f64> = scored.next().expect("the clean table was scored");
    let mut curves: Vec<NoiseCurve> = Vec::new();
    for on in NoiseOn::ALL {
        // scores[level][scorer] = values over repeats
        let mut per_level: Vec<Vec<Vec<f64>>> = Vec::new();
        for &level in &cfg.levels {
            if level == 0.0 {
                per_level.push(clean.iter().map(|&c| vec![c]).collect());
                continue;
            }
            let mut vals = vec![Vec::with_capacity(cfg.repeats); scorers.len()];
            for _ in 0..cfg.repeats {
                let draw = scored.next().expect("one result per task");
                for (k, v) in draw.into_iter().enumerate() {
                    vals[k].push(v);
                }
            }
            per_level.push(vals);
        }
        for (k, s) in scorers.iter().enumerate() {
            curves.push(NoiseCurve {
                score: s.score.clone(),
                model: s.model.clone(),
                measured_by: s.measured_by.clone(),
                noise_on: on,
                points: cfg
                    .levels
                    .iter()
                    .zip(&per_level)
                    .map(|(&l, v)| point(l, &v[k]))
                    .collect(),
            });
        }
    }
    curves.sort_by(|a, b| {
        let ka = scorers.iter().position(|s| s.score == a.score);
        let kb = scorers.iter().position(|s| s.score == b.score);
        (ka, a.noise_on).cmp(&(kb, b.noise_on))
    });
    curves
}

/// Which models and which k won the headline analyses: the sweep re-scores exactly those.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Upstream {
    /// The best spend regressor and its feature set.
    pub regressor: Option<(ModelKind, FeatureSet)>,
    /// The best growth-potential classifier and whether it uses SMOTE.
    pub classifier: Option<(ClassifierKind, bool)>,
    /// The chosen number of segments.
    pub k: Option<usize>,
}

impl Upstream {
    /// Reads the winners from the headline findings.
    pub fn from_findings(
        regression: &RegressionFindings,
        classification: &ClassificationFindings,
        segmentation: &SegmentationFindings,
    ) -> Upstream {
        Upstream {
            regressor: regression.best.model.zip(regression.best.feature_set),
            classifier: classification.best.as_ref().map(|b| (b.model, b.smote)),
            k: (segmentation.skipped.is_none() && segmentation.chosen_k >= 2)
                .then_some(segmentation.chosen_k),
        }
    }
}

/// The smallest table the sweep can score, in words when `ds` is below it: as many distinct
/// rows as the sweep's cross-validation folds (each fold must hold out at least one group).
pub fn below_minimum(ds: &Dataset, settings: &Settings) -> Option<String> {
    let folds = settings.robustness.cv_folds;
    (ds.n_groups < folds).then(|| {
        format!(
            "the noise sweep needs at least {folds} distinct rows for its {folds}-fold group cross-validation (robustness.cv_folds); the table has {}",
            ds.n_groups
        )
    })
}

/// Runs the robustness analysis.
///
/// ```
/// use customer_intel::{analysis::robustness, data, settings::Settings};
/// let ds = data::synth(150, 1, &data::SynthSpec::default());
/// let f = robustness::run(&ds, &Settings::default(), &robustness::Upstream::default());
/// let ols = f.curves.iter().find(|c| c.score == "ols_r2").unwrap();
/// assert_eq!(ols.points.len(), 5);
/// assert!(ols.points[0].mean > ols.points[4].mean);
/// ```
pub fn run(ds: &Dataset, settings: &Settings, upstream: &Upstream) -> RobustnessFindings {
    let capped = ds.capped(
        settings.sample_cap,
        settings.seed,
        crate::data::ANALYSIS_SAMPLE,
    );
    let ds: &Dataset = &capped.data;
    let cfg = &settings.robustness;
    if let Some(reason) = below_minimum(ds, settings) {
        return RobustnessFindings {
            skipped: Some(reason),
            sample: capped.sample.clone(),
            ..Default::default()
        };
    }
    let features = noisy_columns(ds, NoiseOn::Features);
    // The sweep's own CV budget (smaller than the headline one; recorded in `setup`).
    let mut sweep_settings = settings.clone();
    sweep_settings.folds = cfg.cv_folds;
    sweep_settings.repeats = cfg.cv_repeats;
    // Every scorer gets the sweep's budget: the classifier's own repeat override is cleared
    // (it would otherwise keep the headline's repeats inside the sweep).
    sweep_settings.classification.repeats = None;
    let sweep_settings = &sweep_settings;
    let (folds, repeats) = (cfg.cv_folds, cfg.cv_repeats);
    let group = Scheme::GroupKFold.describe(folds);
    let budget = |headline_repeats: usize| {
        format!(
            "{folds} folds × {repeats} repeat(s) (headline: {} × {headline_repeats})",
            settings.folds
        )
    };
    let regression_budget = budget(settings.repeats);
    let classifier_budget = budget(
        settings
            .classification
            .repeats
            .unwrap_or(settings.repeats)
            .max(1),
    );
    let r2 = move |model: ModelKind, set: FeatureSet| {
        move |d: &Dataset| {
            regression::cv_r2(d, sweep_settings, model, set, Scheme::GroupKFold)
                .map_or(f64::NAN, |s| s.mean)
        }
    };
    let mut scorers: Vec<Scorer> = vec![Scorer {
        score: "ols_r2".into(),
        model: "OLS, behavioural features".into(),
        measured_by: format!("mean test-fold R², {group}, {regression_budget}"),
        eval: Box::new(r2(ModelKind::Ols, FeatureSet::Behavioural)),
    }];
    let mut missing = Vec::new();
    match upstream.regressor {
        Some((model, set)) => scorers.push(Scorer {
            score: "best_regressor_r2".into(),
            model: format!("{}, {} (best spend model)", model.label(), set.label()),
            measured_by: format!("mean test-fold R², {group}, {regression_budget}"),
            eval: Box::new(r2(model, set)),
        }),
        None => missing
            .push("best_regressor_r2: the regression analysis named no best model".to_string()),
    }
    match upstream.classifier {
        Some((model, smote)) => scorers.push(Scorer {
            score: "best_classifier_f1".into(),
            model: format!("{}{} (best growth model)", model.name(), if smote { " + SMOTE" } else { "" }),
            measured_by: format!(
                "mean test-fold F1 at the training-fold threshold, {}, {classifier_budget}; the label is recomputed from the noisy columns",
                Scheme::StratifiedGroupKFold.describe(folds)
            ),
            eval: Box::new(move |d: &Dataset| {
                classification::cv_f1(d, sweep_settings, model, smote).map_or(f64::NAN, |s| s.mean)
            }),
        }),
        None => missing.push("best_classifier_f1: the classification analysis named no best model".to_string()),
    }
    match upstream.k {
        Some(k) => scorers.push(Scorer {
            score: "silhouette".into(),
            model: format!("k-means, chosen k = {k}"),
            measured_by: format!(
                "silhouette on all rows of the refitted segmentation (seeded; no cross-validation, {} k-means runs as in the headline)",
                settings.segmentation.n_init
            ),
            eval: Box::new(move |d: &Dataset| segmentation::silhouette_at(d, sweep_settings, k)),
        }),
        None => missing.push("silhouette: the segmentation analysis chose no k".to_string()),
    }
    RobustnessFindings {
        skipped: None,
        sample: capped.sample.clone(),
        setup: RobustnessSetup {
            levels: cfg.levels.clone(),
            repeats: cfg.repeats,
            cv_folds: cfg.cv_folds,
            cv_repeats: cfg.cv_repeats,
            headline_folds: settings.folds,
            headline_repeats: settings.repeats,
            noisy_features: features,
            noise: "Gaussian, sd = level × the column's sd, one draw per duplicate group".into(),
        },
        curves: sweep(ds, cfg, settings.seed, &scorers),
        label_shift: label_shift(ds, settings),
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{SynthSpec, synth};

    #[test]
    fn label_shift_grows_with_feature_noise_and_ignores_columns_outside_the_label() {
        let ds = synth(300, 4, &SynthSpec::default());
        let mut st = Settings::default();
        st.robustness.levels = vec![0.0, 0.05, 3.0];
        let shifts = label_shift(&ds, &st);
        assert_eq!(shifts.len(), 4, "two noise targets × two levels above 0");
        let at = |on, level| {
            shifts
                .iter()
                .find(|s| s.noise_on == on && s.level == level)
                .unwrap()
        };
        let (small, large) = (at(NoiseOn::Features, 0.05), at(NoiseOn::Features, 3.0));
        assert_eq!(small.draws, st.robustness.repeats);
        // Noise of 3 sd scrambles the ranks of two of the label's three inputs (spend is kept).
        assert!(large.mean_changed_share > 0.1, "{large:?}");
        assert!(small.mean_changed_share < large.mean_changed_share);
        assert!(large.max_changed_share >= large.mean_changed_share);
        // A label built only from the non-target inputs cannot move when only the target is noisy.
        let target = ds.roles.target.clone();
        let mut ds2 = ds.clone();
        ds2.roles.label_inputs.retain(|c| *c != target);
        assert!(!ds2.roles.label_inputs.is_empty());
        for s in label_shift(&ds2, &st)
            .iter()
            .filter(|s| s.noise_on == NoiseOn::Target)
        {
            assert_eq!(s.max_changed_share, 0.0, "{s:?}");
        }
    }

    #[test]
    fn ols_r2_is_one_on_an_exact_linear_target_and_near_zero_on_noise() {
        let mut ds = synth(
            300,
            8,
            &SynthSpec {
                correlation: 0.3,
                ..SynthSpec::default()
            },
        );
        // Exact linear target: 3·age − 0.01·income + 20 + 50·[second level].
        let second = ds.roles.category_levels[1].clone();
        let y: Vec<f64> = (0..ds.n_rows())
            .map(|i| {
                3.0 * ds.col("age")[i] - 0.01 * ds.col("annual_income")[i]
                    + 20.0
                    + if ds.category[i] == second { 50.0 } else { 0.0 }
            })
            .collect();
        let target = ds.roles.target.clone();
        ds.numeric.insert(target.clone(), y);
        let ols_r2 = |d: &Dataset| {
            let mut st = Settings::default();
            st.repeats = 2;
            regression::cv_r2(
                d,
                &st,
                ModelKind::Ols,
                FeatureSet::Behavioural,
                Scheme::GroupKFold,
            )
            .unwrap()
            .mean
        };
        assert!((ols_r2(&ds) - 1.0).abs() < 1e-9);
        // A target unrelated to the features: out-of-fold R² at or below zero.
        let noise = synth(300, 99, &SynthSpec::default());
        ds.numeric
            .insert(target, noise.col("loyalty_score").to_vec());
        let r2 = ols_r2(&ds);
        assert!(r2 < 0.05 && r2 > -0.3, "{r2}");
    }

    #[test]
    fn noise_has_the_asked_spread_keeps_groups_and_spares_other_columns() {
        let ds = synth(
            3000,
            4,
            &SynthSpec {
                duplicate_rate: 0.3,
                ..SynthSpec::default()
            },
        );
        let cols = vec!["annual_income".to_string()];
        let noisy = with_noise(&ds, &cols, 0.2, 9, "t");
        assert_eq!(noisy.groups, ds.groups, "copies stay copies");
        assert_eq!(noisy.target(), ds.target());
        assert_eq!(noisy.col("age"), ds.col("age"));
        // Noise per distinct row: sd ≈ 0.2 × sd(income), mean ≈ 0.
        let first = ds.distinct_row_indices();
        let d: Vec<f64> = first
            .iter()
            .map(|&i| noisy.col("annual_income")[i] - ds.col("annual_income")[i])
            .collect();
        let want = 0.2 * stats::sd(ds.col("annual_income"));
        assert!(
            (stats::sd(&d) / want - 1.0).abs() < 0.05,
            "{} vs {want}",
            stats::sd(&d)
        );
        assert!(stats::mean(&d).abs() < 0.1 * want);
        // Seeded: same label, same noise; another label, other noise.
        assert_eq!(with_noise(&ds, &cols, 0.2, 9, "t").numeric, noisy.numeric);
        assert_ne!(with_noise(&ds, &cols, 0.2, 9, "u").numeric, noisy.numeric);
        assert_eq!(with_noise(&ds, &cols, 0.0, 9, "t").numeric, ds.numeric);
    }

    #[test]
    fn sweep_shares_level_zero_and_summarises_repeats() {
        let ds = synth(200, 1, &SynthSpec::default());
        let cfg = RobustnessSettings {
            levels: vec![0.0, 0.5],
            repeats: 4,
            ..RobustnessSettings::default()
        };
        // A score that measures the noise itself: correlation of income with its clean value.
        let clean = ds.col("annual_income").to_vec();
        let t = ds.target().to_vec();
        let scorers = vec![Scorer {
            score: "r".into(),
            model: "identity".into(),
            measured_by: "pearson".into(),
            eval: Box::new(move |d: &Dataset| {
                stats::pearson(d.col("annual_income"), &clean) + stats::pearson(d.target(), &t)
            }),
        }];
        let curves = sweep(&ds, &cfg, 3, &scorers);
        assert_eq!(curves.len(), 2);
        let (f, tg) = (&curves[0], &curves[1]);
        assert_eq!(
            (f.noise_on, tg.noise_on),
            (NoiseOn::Features, NoiseOn::Target)
        );
        assert_eq!(f.points[0], tg.points[0]);
        assert_eq!(
            (f.points[0].mean, f.points[0].n, f.points[0].sd),
            (2.0, 1, 0.0)
        );
        // r with sd-ratio 0.5 noise: 1/sqrt(1.25) ≈ 0.894 on the noisy column, 1 on the other.
        for c in &curves {
            let p = &c.points[1];
            assert_eq!(p.n, 4);
            assert!((p.mean - (1.0 + 0.894)).abs() < 0.03, "{:?}", p);
            assert!(p.sd > 0.0 && p.min <= p.mean && p.mean <= p.max);
        }
    }
}
