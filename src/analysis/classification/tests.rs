//! Tests of the classification analysis: the leakage check of the design, the threshold chosen
//! without the test fold, and complete, deterministic findings on the bundled data.

use super::*;
use crate::data;
use crate::ml::cv;
use crate::rng;

fn bundled() -> Dataset {
    data::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/customer_purchasing_behaviors.csv"
    )))
    .expect("bundled data loads")
}

#[test]
fn honest_features_refuse_the_label_inputs() {
    let ds = bundled();
    let honest = honest_features(&ds.roles);
    assert_eq!(honest, vec!["age", "annual_income", "region"]);
    let d = design_matrix(&ds, &honest, FeatureSet::Honest).unwrap();
    assert_eq!(
        d.columns,
        vec![
            "age",
            "annual_income",
            "region=North",
            "region=South",
            "region=East",
            "region=West"
        ]
    );
    for bad in &ds.roles.label_inputs {
        let mut f = honest.clone();
        f.push(bad.clone());
        match design_matrix(&ds, &f, FeatureSet::Honest) {
            Err(ClassificationError::Leakage(e)) => assert_eq!(&e.feature, bad),
            other => panic!("{bad} was not refused: {other:?}"),
        }
    }
    // The ablation is allowed only when flagged as such.
    let leaky = leaky_features(&ds.roles);
    assert!(leaky.contains(&"loyalty_score".to_string()));
    assert!(design_matrix(&ds, &leaky, FeatureSet::LeakyAblation).is_ok());
}

/// A one-feature design where the feature predicts the label with some noise.
fn toy(n: usize) -> (Design, Vec<bool>, Vec<usize>) {
    let x: Vec<Vec<f64>> = (0..n)
        .map(|i| vec![((i * 37) % n) as f64 / n as f64])
        .collect();
    let labels: Vec<bool> = (0..n)
        .map(|i| x[i][0] + 0.25 * ((i * 13 % 7) as f64 / 7.0 - 0.5) > 0.6)
        .collect();
    (
        Design {
            x,
            columns: vec!["f".into()],
            merge: None,
        },
        labels,
        (0..n).collect(),
    )
}

#[test]
fn threshold_is_chosen_without_the_test_fold() {
    let (design, labels, groups) = toy(90);
    let mut settings = Settings::default();
    settings.classification.repeats = Some(1);
    for (model, smote) in [
        (ClassifierKind::Logistic, true),
        (ClassifierKind::DecisionTree, false),
    ] {
        // Naive k-fold: the split does not look at labels, so changing test-fold labels
        // leaves the folds alone and isolates what the threshold depends on.
        let config = Config {
            model,
            smote,
            features: FeatureSet::Honest,
            scheme: Scheme::KFold,
        };
        let folds = cv::kfold(
            labels.len(),
            settings.folds,
            rng::child_seed(settings.seed, 0),
        )
        .unwrap();
        let test0 = &folds[0].test;
        let run = &cross_validate(&design, &labels, &groups, &settings, config).unwrap()[0];
        let applied = run.choices[0].threshold;
        assert!(test0.iter().all(|&i| run.threshold[i] == applied));
        // It is exactly what the training rows alone give.
        let alone = choose_fold_threshold(
            &design,
            &labels,
            &folds,
            0,
            &settings,
            config,
            rng::child_seed(settings.seed, 0),
        )
        .unwrap();
        assert_eq!(alone, run.choices[0]);

        // Scramble the test fold: invert its labels and move its features.
        let mut labels2 = labels.clone();
        let mut design2 = design.clone();
        for &i in test0 {
            labels2[i] = !labels2[i];
            design2.x[i][0] = 1.0 - design2.x[i][0];
        }
        let run2 = &cross_validate(&design2, &labels2, &groups, &settings, config).unwrap()[0];
        assert_eq!(
            run2.choices[0], run.choices[0],
            "{model:?}: fold 0's threshold moved with its test rows"
        );
        // ...although choosing on the test fold would have given a different threshold.
        let test_labels: Vec<bool> = test0.iter().map(|&i| labels2[i]).collect();
        let test_scores: Vec<f64> = test0.iter().map(|&i| run2.oof[i]).collect();
        let peeking = class_metrics::choose_threshold(
            &test_labels,
            &test_scores,
            settings.classification.min_precision,
        );
        assert!(
            (peeking.threshold - applied).abs() > 1e-9,
            "{model:?}: construction does not discriminate"
        );
    }
}

#[test]
fn bundled_data_findings_are_complete_and_deterministic() {
    let ds = bundled();
    let mut settings = Settings::default();
    settings.classification.repeats = Some(1);
    let f = run(&ds, &settings);
    assert_eq!(f.error, None);
    // Rows labelled: pandas average ranks and numpy's type-7 quantile of the composite
    // (tests/reference/analysis_classification_tests.py on the bundled CSV).
    let r = crate::test_fixtures::Reference::load("analysis_classification_tests");
    assert_eq!(
        (f.label.positives, f.label.rows),
        (r.usize("/positives"), r.usize("/rows"))
    );
    assert_eq!(f.results.len(), 15);
    assert_eq!(f.curves.len(), 6);
    for r in &f.results {
        assert_eq!(r.at_chosen.confusion.total(), 238);
        assert!(r.roc_auc.mean > 0.5 && r.roc_auc.mean <= 1.0, "{r:?}");
    }
    for g in &f.scheme_gaps {
        assert!(
            g.naive_f1 >= g.group_f1 - 0.05,
            "naive scoring should not trail group scoring by much: {g:?}"
        );
    }
    assert!(f.best.is_some() && f.targets.is_some());
    assert_eq!(
        f,
        run(&ds, &settings),
        "same data and settings must give the same findings"
    );
}
