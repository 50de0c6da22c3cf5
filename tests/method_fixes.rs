//! Method fixes of issue 15 checked against an independent computation (numpy and scikit-learn,
//! `tests/reference/method_fixes.py`, values in `tests/reference/method_fixes.json`): the
//! decision tree's rule at a split boundary, SMOTE's neighbours among distinct points, and
//! k-means inertia at every k on the bundled table.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use customer_intel::analysis::classification::{FeatureSet, design_matrix, honest_features};
use customer_intel::analysis::segmentation;
use customer_intel::ml::class_metrics::{self, Confusion};
use customer_intel::ml::classifiers::{self, ClassifierKind, ClassifierParams};
use customer_intel::ml::cluster_metrics;
use customer_intel::ml::smote;
use customer_intel::settings::Settings;
use customer_intel::{data, features};
use serde_json::Value;

fn bundled() -> data::Dataset {
    data::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("data/customer_purchasing_behaviors.csv"),
    )
    .expect("bundled data loads")
}

fn reference() -> Value {
    common::Reference::load("method_fixes").get("").clone()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn indices(v: &Value) -> BTreeSet<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// Leave-one-duplicate-group-out with the depth-4 tree. The group at age 33 / income 53,000
/// (14 copies) sits exactly on the midpoint split of its neighbours once held out; linfa-trees'
/// own `predict` (`x < split`) sends it right (negative), its training rule and scikit-learn's
/// (`x <= split`) left (positive, as its label says).
#[test]
fn tree_follows_the_training_rule_at_a_split_boundary_like_sklearn() {
    let r = reference();
    let t = &r["tree"];
    let ds = bundled();
    let settings = Settings::default();
    let (labels, _) = features::growth_label(&ds, &settings.features);
    let want_labels: Vec<bool> = t["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_bool().unwrap())
        .collect();
    assert_eq!(labels, want_labels, "the label is age <= 33 on this table");
    let design = design_matrix(&ds, &honest_features(&ds.roles), FeatureSet::Honest).unwrap();
    let params = ClassifierParams::default();
    assert_eq!(params.tree_max_depth, 4);
    let mut oof = vec![f64::NAN; labels.len()];
    for g in 0..ds.n_groups {
        let (test, train): (Vec<usize>, Vec<usize>) =
            (0..labels.len()).partition(|&i| ds.groups[i] == g);
        let xt: Vec<&[f64]> = train.iter().map(|&i| design.x[i].as_slice()).collect();
        let yt: Vec<bool> = train.iter().map(|&i| labels[i]).collect();
        let xs: Vec<&[f64]> = test.iter().map(|&i| design.x[i].as_slice()).collect();
        let p = classifiers::fit_predict(ClassifierKind::DecisionTree, &params, &xt, &yt, &xs, 0)
            .unwrap();
        // The saved form scores the same rows identically.
        let saved = classifiers::fit(ClassifierKind::DecisionTree, &params, &xt, &yt, 0).unwrap();
        for (&i, v) in test.iter().zip(&p) {
            assert_eq!(saved.probability(&design.x[i]), *v, "row {i}");
            oof[i] = *v;
        }
    }
    let boundary = indices(&t["boundary_rows"]);
    assert_eq!(boundary.len(), 14);
    for (&i, want) in boundary.iter().zip(floats(&t["boundary_probability"])) {
        assert!(labels[i] && want == 1.0);
        assert_eq!(oof[i], 1.0, "boundary row {i}: sklearn gives {want}");
    }
    let predicted: Vec<bool> = oof.iter().map(|&p| p >= 0.5).collect();
    let want_predicted: Vec<bool> = floats(&t["oof_probability"])
        .iter()
        .map(|&p| p >= 0.5)
        .collect();
    assert_eq!(predicted, want_predicted, "class at 0.5, row by row");
    let f1 = Confusion::from_predictions(&labels, &predicted).f1();
    let auc = class_metrics::roc_auc(&labels, &oof);
    assert!(
        (f1 - t["f1_at_half"].as_f64().unwrap()).abs() < 1e-12,
        "F1 {f1}"
    );
    assert!(
        (auc - t["roc_auc"].as_f64().unwrap()).abs() < 0.01,
        "AUC {auc}"
    );
}

/// SMOTE's neighbour sets on the bundled design (five nearest distinct minority points),
/// against numpy's brute-force kNN over the deduplicated points; and no synthetic row is built
/// on a zero-length segment while the minority has two distinct points.
#[test]
fn smote_neighbours_are_distinct_points_like_numpy_knn() {
    let r = reference();
    let s = &r["smote"];
    let ds = bundled();
    let settings = Settings::default();
    let (labels, _) = features::growth_label(&ds, &settings.features);
    let design = design_matrix(&ds, &honest_features(&ds.roles), FeatureSet::Honest).unwrap();
    let rows: Vec<usize> = (0..labels.len()).collect();
    let k = s["k"].as_u64().unwrap() as usize;
    let got = smote::minority_neighbours(&design.x, &labels, &rows, k);
    let want = s["neighbours"].as_array().unwrap();
    assert_eq!(got.len(), s["distinct_points"].as_u64().unwrap() as usize);
    assert_eq!(got.len(), want.len());
    for ((point, near), w) in got.iter().zip(want) {
        assert_eq!(*point as u64, w["point"].as_u64().unwrap());
        let near: BTreeSet<usize> = near.iter().copied().collect();
        let (sure, tied) = (indices(&w["sure"]), indices(&w["tied"]));
        assert_eq!(near.len(), k, "point {point}");
        assert!(
            sure.is_subset(&near),
            "point {point}: {near:?} misses {sure:?}"
        );
        assert!(
            near.difference(&sure).all(|b| tied.contains(b)),
            "point {point}: {near:?} vs {sure:?} + {tied:?}"
        );
    }
    let out = smote::oversample(
        &design.x,
        &labels,
        &rows,
        &settings.classification.smote,
        &mut customer_intel::rng::stream(1, "test"),
    )
    .unwrap();
    assert_eq!(
        out.minority_before,
        s["minority_rows"].as_u64().unwrap() as usize
    );
    assert!(!out.synthetic.is_empty());
    let copies = out
        .synthetic
        .iter()
        .filter(|p| design.x[p.base] == design.x[p.neighbour])
        .count();
    assert_eq!(copies, 0, "base–neighbour pairs that are copies");
}

/// k-means inertia at every k against scikit-learn at the same budget (n_init = 10).
///
/// One seed is not a fair comparison: scikit-learn's own best-of-10 inertia varies with
/// `random_state` (on this table by about 4% at k = 10, heavy-tailed), so the medians are
/// compared, ours over seeds 0..10 and scikit-learn's over random states 0..20, within 0.5%; and
/// no partition may beat the best optimum known (scikit-learn, n_init = 500), which checks that the
/// inertia is computed on the same standardised rows.
#[test]
fn kmeans_inertia_matches_sklearn_at_every_k() {
    let r = reference();
    let km = &r["kmeans"];
    let ds = bundled();
    let ks: Vec<usize> = km["k"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let median_sk = floats(&km["n_init_10_median_of_20_seeds"]);
    let best_known = floats(&km["n_init_500"]);
    // The segmentation features standardised with mean and n-1 sd, as the analysis does.
    let cols = [
        "age",
        "annual_income",
        "loyalty_score",
        "purchase_frequency",
        "purchase_amount",
    ];
    let columns: Vec<Vec<f64>> = cols
        .iter()
        .map(|c| {
            let v = ds.col(c).to_vec();
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
            v.iter().map(|x| (x - m) / sd).collect()
        })
        .collect();
    let rows: Vec<Vec<f64>> = (0..ds.n_rows())
        .map(|i| columns.iter().map(|c| c[i]).collect())
        .collect();
    for ((&k, &sk), &best) in ks.iter().zip(&median_sk).zip(&best_known) {
        let mut ours: Vec<f64> = (0..10u64)
            .map(|seed| {
                let mut settings = Settings::default();
                settings.seed = seed;
                let labels = segmentation::kmeans_all_rows(&ds, &settings, k).unwrap();
                cluster_metrics::inertia(&rows, &labels)
            })
            .collect();
        ours.sort_by(f64::total_cmp);
        let median = (ours[4] + ours[5]) / 2.0;
        assert!(
            median <= sk * 1.005,
            "k = {k}: our median inertia {median} over 10 seeds vs scikit-learn's {sk} ({ours:?})"
        );
        assert!(
            ours[0] >= best * (1.0 - 1e-9),
            "k = {k}: {} below {best}",
            ours[0]
        );
    }
}
