//! Tests of the regression analysis on synthetic data with known structure.

use super::*;
use crate::data::{SynthSpec, synth};
use crate::ml::cv::Fold;

/// Cheap settings for debug-mode tests: one repeat, a short grid, a small forest.
fn quick() -> Settings {
    let mut s = Settings::default();
    s.repeats = 1;
    s.regression.penalty_grid = vec![0.1, 1.0];
    s.regression.max_iterations = 100;
    s.regression.forest.trees = 12;
    s
}

fn duplicated(rows: usize, seed: u64, noise: f64) -> Dataset {
    synth(
        rows,
        seed,
        &SynthSpec {
            duplicate_rate: 0.6,
            noise,
            ..SynthSpec::default()
        },
    )
}

#[test]
fn group_cv_never_scores_a_row_whose_copy_was_in_training() {
    let ds = duplicated(150, 4, 0.3);
    assert!(ds.n_groups < 100, "the data must hold many copies");
    let d = design::design(&ds, FeatureSet::Behavioural).unwrap();
    let mut s = quick();
    s.repeats = 2;
    // A spy "model": for each test row, look for a training row with identical predictors
    // (a copy) and predict its target; count how often one is found.
    let copies_seen = |scheme: Scheme| -> usize {
        let mut found = 0;
        let mut spy =
            |fold: &Fold, _seed: u64| -> Result<(Vec<f64>, Option<f64>), RegressionError> {
                let pred = fold
                    .test
                    .iter()
                    .map(
                        |&i| match fold.train.iter().find(|&&j| d.x.row(j) == d.x.row(i)) {
                            Some(&j) => {
                                found += 1;
                                ds.target()[j]
                            }
                            None => 0.0,
                        },
                    )
                    .collect();
                Ok((pred, None))
            };
        validate::run_folds(ds.target(), &ds.groups, scheme, &s, &mut spy).unwrap();
        found
    };
    assert_eq!(
        copies_seen(Scheme::GroupKFold),
        0,
        "a copy of a test row was in training"
    );
    assert!(
        copies_seen(Scheme::KFold) > 50,
        "the naive scheme should leak copies (test sanity)"
    );
}

#[test]
fn naive_r2_is_at_least_group_r2_when_rows_are_duplicated() {
    // A forest memorises training rows, so copies straddling folds flatter the naive scheme.
    let s = quick();
    for seed in [1, 2, 3] {
        let ds = duplicated(140, seed, 1.0);
        let r2 = |scheme| {
            cv_r2(
                &ds,
                &s,
                ModelKind::RandomForest,
                FeatureSet::Behavioural,
                scheme,
            )
            .unwrap()
        };
        let (naive, group) = (r2(Scheme::KFold), r2(Scheme::GroupKFold));
        assert!(
            naive.mean >= group.mean,
            "seed {seed}: naive {} < group {}",
            naive.mean,
            group.mean
        );
        assert_eq!((naive.n, group.n), (5, 5));
    }
}

#[test]
fn leaking_roles_are_refused_with_a_typed_error() {
    let mut ds = synth(60, 1, &SynthSpec::default());
    ds.roles.numeric.push(ds.roles.target.clone());
    let err = try_run(&ds, &quick()).unwrap_err();
    assert!(
        matches!(&err, RegressionError::Leakage(l) if l.feature == "purchase_amount"),
        "{err:?}"
    );
    let f = run(&ds, &quick());
    assert!(
        f.skipped
            .as_deref()
            .is_some_and(|m| m.contains("purchase_amount"))
    );
    assert!(f.scores.is_empty());
    let err = cv_r2(
        &ds,
        &quick(),
        ModelKind::Ols,
        FeatureSet::Behavioural,
        Scheme::GroupKFold,
    )
    .unwrap_err();
    assert!(matches!(err, RegressionError::Leakage(_)));
}

#[test]
fn invalid_settings_name_the_key() {
    let mut s = quick();
    s.regression.penalty_grid = vec![1.0, 0.1];
    assert!(
        RegressionSettings::check(&s.regression)
            .unwrap_err()
            .to_string()
            .contains("penalty_grid")
    );
    s.regression.penalty_grid = vec![0.1];
    s.regression.bootstrap_resamples = 50;
    assert!(
        s.regression
            .check()
            .unwrap_err()
            .to_string()
            .contains("bootstrap_resamples")
    );
}

#[test]
fn findings_are_complete_seeded_and_consistent() {
    let ds = synth(
        120,
        9,
        &SynthSpec {
            duplicate_rate: 0.3,
            noise: 0.3,
            ..SynthSpec::default()
        },
    );
    let s = quick();
    let f = try_run(&ds, &s).unwrap();
    assert_eq!(
        f,
        try_run(&ds, &s).unwrap(),
        "same data and settings, same findings"
    );
    // 5 models × 2 feature sets × 2 schemes, each naming its scheme.
    assert_eq!(f.scores.len(), 20);
    for c in &f.scores {
        assert_eq!(c.scheme_description, c.scheme.describe(5));
        assert_eq!(c.r2.n, 5);
        assert!((c.rmse_over_sd.mean - c.rmse.mean / f.target_sd).abs() < 1e-9);
        assert_eq!(
            c.chosen_penalties.len(),
            if c.model.is_penalised() { 5 } else { 0 }
        );
        assert!(
            c.chosen_penalties
                .iter()
                .all(|p| s.regression.penalty_grid.contains(p))
        );
    }
    // The mean baseline scores about zero; the best model is the top group-aware R².
    let base = f
        .scores
        .iter()
        .find(|c| c.model == ModelKind::Mean && c.scheme == Scheme::GroupKFold)
        .unwrap();
    assert!(base.r2.mean < 0.05);
    let top = f
        .scores
        .iter()
        .filter(|c| c.scheme == Scheme::GroupKFold)
        .map(|c| c.r2.mean)
        .fold(f64::MIN, f64::max);
    assert_eq!(f.best.r2.mean, top);
    // Out-of-fold predictions reproduce the fold R² scale, and residuals are actual − predicted.
    let o = &f.out_of_fold;
    assert_eq!(o.predicted.len(), 120);
    assert!(
        o.residual
            .iter()
            .zip(&o.actual)
            .zip(&o.predicted)
            .all(|((r, a), p)| (r - (a - p)).abs() < 1e-9)
    );
    assert!((crate::ml::metrics::r2(&o.actual, &o.predicted) - f.best.r2.mean).abs() < 0.15);
    // Bootstrap: 200 resamples of duplicate groups, intervals ordered, flips a share.
    let b = &f.bootstrap;
    assert_eq!(
        (b.resamples, b.groups_used, b.unit),
        (200, ds.n_groups, ResampleUnit::DuplicateGroup)
    );
    assert_eq!(b.coefficients.len(), 7);
    for c in &b.coefficients {
        for iv in [&c.ols, &c.ridge] {
            assert!(iv.lo <= iv.hi && (0.0..=1.0).contains(&iv.sign_flip_share));
        }
    }
    // Importance: one entry per raw feature, repeats as asked; correlated numeric features
    // (synthetic correlation 0.97) form one cluster.
    let imp = &f.importance;
    assert_eq!(imp.features.len(), 5);
    assert!(imp.features.iter().all(|x| x.r2_drop.n == 10));
    assert_eq!(imp.correlated.len(), 1, "{:?}", imp.correlated);
    assert_eq!(imp.correlated[0].features.len(), 4);
}

#[test]
fn ridge_bootstrap_intervals_are_narrower_on_collinear_predictors() {
    let ds = synth(
        150,
        2,
        &SynthSpec {
            correlation: 0.98,
            noise: 0.5,
            ..SynthSpec::default()
        },
    );
    let d = design::design(&ds, FeatureSet::Behavioural).unwrap();
    let b = bootstrap::run(
        &d.x,
        ds.target(),
        &ds.groups,
        &d.columns,
        0.3,
        200,
        100,
        5,
        "USD",
    )
    .unwrap();
    let numeric = &b.coefficients[..4];
    let mean_ratio: f64 = numeric.iter().map(|c| c.ridge_to_ols_width).sum::<f64>() / 4.0;
    assert!(mean_ratio < 1.0, "{mean_ratio}");
    // The full-data estimate of a coefficient lies in its own interval for OLS.
    assert!(
        numeric
            .iter()
            .all(|c| c.ols.lo <= c.ols.estimate && c.ols.estimate <= c.ols.hi)
    );
}
