//! Tests of the segmentation analysis: metrics on bundled and synthetic data, the k rule, stability, determinism.
use super::*;
use crate::data::{self, SynthSpec};
use crate::test_fixtures::bundled;

fn blobs(clusters: usize, rows: usize, seed: u64) -> Dataset {
    data::synth(
        rows,
        seed,
        &SynthSpec {
            clusters,
            ..SynthSpec::default()
        },
    )
}

/// Cheaper settings for tests that only need the k rule.
fn quick(k_max: usize) -> Settings {
    let mut s = Settings::default();
    s.segmentation.k_max = k_max;
    s.segmentation.stability_seeds = 3;
    s.segmentation.bootstrap_resamples = 3;
    s.segmentation.gmm_inits = 1;
    s
}

#[test]
fn k_rule_recovers_the_number_of_blobs() {
    for (clusters, seed) in [(2, 11), (3, 12), (4, 13), (5, 14)] {
        let f = run(&blobs(clusters, 400, seed), &quick(8));
        assert_eq!(f.skipped, None);
        assert_eq!(
            f.chosen_k,
            clusters,
            "blobs = {clusters}: {:?}",
            f.per_k
                .iter()
                .map(|c| c.silhouette_distinct)
                .collect::<Vec<_>>()
        );
        assert!(!f.rule_fallback);
        assert!(
            f.chosen_silhouette_distinct > 0.6,
            "{}",
            f.chosen_silhouette_distinct
        );
        // Well separated: the seeded refits all find the same partition.
        let st = f.stability.unwrap();
        assert!(
            (st.seed_ari_mean - 1.0).abs() < 1e-12,
            "{}",
            st.seed_ari_mean
        );
        assert!(st.bootstrap_ari_min > 0.95, "{}", st.bootstrap_ari_min);
    }
}

#[test]
fn mixture_bic_agrees_on_well_separated_blobs() {
    let mut s = quick(6);
    s.segmentation.gmm_inits = 2;
    let f = run(&blobs(3, 400, 5), &s);
    let m = f.mixture.unwrap();
    assert_eq!(
        m.bic_best_k,
        Some(3),
        "{:?}",
        m.per_k.iter().map(|p| p.bic).collect::<Vec<_>>()
    );
    assert!(m.agrees_on_k);
    assert!(m.ari_at_chosen_k.unwrap() > 0.99);
}

#[test]
fn same_seed_same_findings_other_seed_runs_too() {
    let ds = blobs(3, 250, 2);
    let s = quick(5);
    let a = run(&ds, &s);
    let b = run(&ds, &s);
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    let mut other = s.clone();
    other.seed = 7;
    assert_eq!(run(&ds, &other).chosen_k, 3);
}

#[test]
fn bundled_data_matches_sklearn_and_states_the_target() {
    let r = crate::test_fixtures::Reference::load("analysis_segmentation_tests");
    let f = run(&bundled(), &Settings::default());
    assert_eq!(
        (f.rows, f.distinct_rows),
        (r.usize("/rows"), r.usize("/distinct_rows"))
    );
    // tests/reference/analysis_segmentation_tests.py: scikit-learn KMeans(n_clusters=k,
    // n_init=10, random_state=0) on StandardScaler features [age, annual_income, loyalty_score,
    // purchase_frequency, purchase_amount]; silhouette_score on all rows and on the first row of
    // each duplicate group, plus davies_bouldin_score and calinski_harabasz_score. It finds the
    // same partitions (sizes in the reference), so the scores must agree.
    let per_k = r.get("/per_k").as_array().unwrap().len();
    assert!(per_k >= 2);
    for i in 0..per_k {
        let at = |k: &str| format!("/per_k/{i}/{k}");
        let k = r.usize(&at("k"));
        let c = f.per_k.iter().find(|c| c.k == k).unwrap();
        assert!(
            (c.silhouette_all - r.f64(&at("silhouette_all"))).abs() < 1e-8,
            "k {k}"
        );
        assert!(
            (c.silhouette_distinct - r.f64(&at("silhouette_distinct"))).abs() < 1e-8,
            "k {k}"
        );
        assert!(
            (c.davies_bouldin - r.f64(&at("davies_bouldin"))).abs() < 1e-8,
            "k {k}"
        );
        assert!(
            (c.calinski_harabasz - r.f64(&at("calinski_harabasz"))).abs() < 1e-6,
            "k {k}"
        );
    }
    // The statement of the target is consistent with the numbers.
    assert_eq!(f.target_met_all_rows, f.chosen_silhouette_all > 0.55);
    assert_eq!(
        f.target_met_distinct_rows,
        f.chosen_silhouette_distinct > 0.55
    );
    let chosen = &f.per_k[f.chosen_k - 2];
    assert!(chosen.eligible);
    assert!(
        f.per_k
            .iter()
            .filter(|c| c.eligible)
            .all(|c| c.silhouette_distinct <= chosen.silhouette_distinct)
    );
    // Copies inflate the silhouette: on this table the distinct-row value is never higher.
    assert!(
        f.per_k
            .iter()
            .all(|c| c.silhouette_distinct <= c.silhouette_all + 1e-12)
    );
    assert_eq!(f.personas.iter().map(|p| p.size).sum::<usize>(), 238);
    assert_eq!(f.pca.as_ref().unwrap().points.len(), 238);
}

#[test]
fn personas_follow_the_rule() {
    let ds = blobs(3, 300, 9);
    let f = run(&ds, &quick(5));
    assert_eq!(f.chosen_k, 3);
    let cut = f.persona_cutoffs.as_ref().unwrap();
    assert_eq!(cut.value_columns, ["purchase_amount", "annual_income"]);
    assert_eq!(
        cut.engagement_columns,
        ["loyalty_score", "purchase_frequency"]
    );
    for p in &f.personas {
        // Traits: every feature at or beyond the threshold, largest first.
        let z: Vec<f64> = p.centroid.iter().map(|c| c.z).collect();
        let beyond = z.iter().filter(|v| v.abs() >= cut.trait_threshold).count();
        assert_eq!(p.traits.len(), beyond);
        assert!(p.traits.windows(2).all(|w| w[0].z.abs() >= w[1].z.abs()));
        for t in p.traits.iter().take(cut.max_traits) {
            assert!(
                p.name.to_lowercase().contains(&t.text.to_lowercase()),
                "{} lacks {}",
                p.name,
                t.text
            );
            assert_eq!(t.direction == "high", t.z > 0.0);
        }
        // Value and engagement scores are the mean standardised differences of their columns.
        let zc = |c: &str| {
            let x = ds.col(c);
            (p.centroid.iter().find(|q| q.feature == c).unwrap().value - crate::stats::mean(x))
                / crate::stats::sd(x)
        };
        let value = (zc("purchase_amount") + zc("annual_income")) / 2.0;
        assert!((p.value_score - value).abs() < 1e-9);
        let eng = (zc("loyalty_score") + zc("purchase_frequency")) / 2.0;
        assert!((p.engagement_score - eng).abs() < 1e-9);
        assert_eq!(
            p.action,
            personas::ACTION_RULES[personas::rule_for(&p.value_level, &p.engagement_level)].2
        );
        assert_eq!(
            p.category_mix.iter().map(|l| l.count).sum::<usize>(),
            p.size
        );
        let spend = p
            .centroid
            .iter()
            .find(|c| c.feature == "purchase_amount")
            .unwrap();
        assert!((spend.value - p.mean_spend).abs() < 1e-9);
        assert_eq!(spend.unit, "USD");
    }
    // Blobs along the shared factor: low value and engagement at the bottom, high at the top.
    assert_eq!(f.personas[0].action, "low-cost nurture");
    assert_eq!(f.personas[2].action, "reward and retain");
    assert!(
        f.personas[0].growth_share > 0.8,
        "{}",
        f.personas[0].growth_share
    );
    assert!(f.personas[2].growth_share < 0.05);
}

/// One planted segment: its profile (column offsets in sds, roles order age, income, loyalty,
/// frequency, spend), the traits it was planted with, the columns left flat, and the action the
/// rule table should give it.
struct Plant {
    offsets: [f64; 5],
    defining: &'static [(&'static str, &'static str)],
    flat: &'static [&'static str],
    action: &'static str,
}

fn recovers(plants: &[Plant], seed: u64) {
    let segs: Vec<data::PlantedSegment> = plants
        .iter()
        .map(|p| data::PlantedSegment {
            rows: 150,
            offsets: p.offsets.to_vec(),
        })
        .collect();
    let ds = data::planted(&segs, 0.3, seed, &SynthSpec::default());
    let f = run(&ds, &quick(6));
    assert_eq!(f.chosen_k, plants.len());
    let cut = f.persona_cutoffs.as_ref().unwrap();
    assert!(!cut.one_axis, "{}", cut.axis_statement);
    let mut used = vec![false; f.personas.len()];
    for plant in plants {
        // The persona whose named traits hold every planted trait.
        let found: Vec<&Persona> = f
            .personas
            .iter()
            .filter(|p| {
                plant.defining.iter().all(|(feat, dir)| {
                    p.traits
                        .iter()
                        .take(cut.max_traits)
                        .any(|t| t.feature == *feat && t.direction == *dir)
                })
            })
            .collect();
        let names: Vec<&str> = f.personas.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(found.len(), 1, "planted {:?}: {names:?}", plant.defining);
        let p = found[0];
        assert!(!used[p.cluster]);
        used[p.cluster] = true;
        for t in p.traits.iter().take(cut.max_traits) {
            assert!(p.name.to_lowercase().contains(&t.text.to_lowercase()));
        }
        for flat in plant.flat {
            assert!(
                p.traits.iter().all(|t| t.feature != *flat),
                "{flat} is flat in {}",
                p.name
            );
        }
        assert_eq!(p.action, plant.action, "{}: {}", p.name, p.rule);
        assert_eq!(p.stability, Some(1.0), "{}", p.name);
    }
    let mut names: Vec<&str> = f.personas.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), plants.len());
}

#[test]
fn planted_segments_are_named_by_their_traits_and_get_the_intended_action() {
    // The case: one segment of high income, low loyalty and rare purchases at the
    // table's mean age. Each column's offsets sum to zero, so a flat column stays at the mean.
    recovers(
        &[
            Plant {
                offsets: [0.0, 2.0, -2.0, -2.0, 0.5],
                defining: &[
                    ("annual_income", "high"),
                    ("loyalty_score", "low"),
                    ("purchase_frequency", "low"),
                ],
                flat: &["age"],
                action: "win loyalty",
            },
            Plant {
                offsets: [-2.0, -1.0, 2.0, 2.0, -0.5],
                defining: &[
                    ("age", "low"),
                    ("loyalty_score", "high"),
                    ("purchase_frequency", "high"),
                ],
                flat: &[],
                action: "upsell",
            },
            Plant {
                offsets: [2.0, -1.0, 0.0, 0.0, 0.0],
                defining: &[("age", "high")],
                flat: &["loyalty_score", "purchase_frequency", "purchase_amount"],
                action: "standard programme",
            },
        ],
        31,
    );
    // Every quadrant of value × engagement, age flat everywhere.
    recovers(
        &[
            Plant {
                offsets: [0.0, 2.0, 2.0, 0.0, 2.0],
                defining: &[
                    ("annual_income", "high"),
                    ("loyalty_score", "high"),
                    ("purchase_amount", "high"),
                ],
                flat: &["age", "purchase_frequency"],
                action: "reward and retain",
            },
            Plant {
                offsets: [0.0, 2.0, -2.0, -2.0, 0.0],
                defining: &[
                    ("annual_income", "high"),
                    ("loyalty_score", "low"),
                    ("purchase_frequency", "low"),
                ],
                flat: &["age", "purchase_amount"],
                action: "win loyalty",
            },
            Plant {
                offsets: [0.0, -2.0, 2.0, 2.0, 0.0],
                defining: &[
                    ("annual_income", "low"),
                    ("loyalty_score", "high"),
                    ("purchase_frequency", "high"),
                ],
                flat: &["age", "purchase_amount"],
                action: "upsell",
            },
            Plant {
                offsets: [0.0, -2.0, -2.0, 0.0, -2.0],
                defining: &[
                    ("annual_income", "low"),
                    ("loyalty_score", "low"),
                    ("purchase_amount", "low"),
                ],
                flat: &["age", "purchase_frequency"],
                action: "low-cost nurture",
            },
        ],
        32,
    );
}

#[test]
fn bundled_personas_say_they_lie_along_one_axis() {
    let f = run(&bundled(), &Settings::default());
    let cut = f.persona_cutoffs.as_ref().unwrap();
    assert!(cut.one_axis, "{}", cut.axis_statement);
    assert!(cut.axis_statement.contains("one axis"));
    assert!(cut.pc1_share >= 0.95 && cut.min_centroid_share_on_pc1 >= 0.95);
    for p in &f.personas {
        assert!(p.name.contains("of one axis"), "{}", p.name);
        assert!(p.axis_position.is_some());
    }
    assert!(f.personas[0].name.starts_with("Low end of one axis"));
    assert!(
        f.personas[f.chosen_k - 1]
            .name
            .starts_with("High end of one axis")
    );
    // Without the one-axis check (share 1.0 cannot be reached) the same traits name them plainly.
    let mut s = Settings::default();
    s.segmentation.persona_one_axis_share = 1.0;
    let g = run(&bundled(), &s);
    assert!(!g.persona_cutoffs.unwrap().one_axis);
    for (p, q) in f.personas.iter().zip(&g.personas) {
        assert!(p.name.ends_with(&q.name[1..]), "{} / {}", p.name, q.name);
    }
}

#[test]
fn silhouette_at_matches_the_run() {
    let ds = bundled();
    let s = Settings::default();
    let f = run(&ds, &s);
    for k in [2, 5] {
        assert_eq!(silhouette_at(&ds, &s, k), f.per_k[k - 2].silhouette_all);
    }
    assert!(silhouette_at(&ds, &s, 1).is_nan());
}

#[test]
fn silhouette_is_sampled_above_the_cap() {
    let ds = data::synth(
        400,
        3,
        &SynthSpec {
            clusters: 2,
            duplicate_rate: 0.2,
            ..SynthSpec::default()
        },
    );
    let mut s = quick(4);
    s.sample_cap = 150;
    let f = run(&ds, &s);
    assert!(
        f.silhouette_rows
            .starts_with("seeded sample of 150 of 400 rows"),
        "{}",
        f.silhouette_rows
    );
    assert!(
        f.fit_rows.starts_with("seeded sample of 150 of 400 rows"),
        "{}",
        f.fit_rows
    );
    // Models fit on the sample, yet every row is labelled and profiled.
    assert_eq!(f.personas.iter().map(|p| p.size).sum::<usize>(), 400);
    assert_eq!(f.per_k[0].cluster_sizes.iter().sum::<usize>(), 400);
    assert!(
        f.stability
            .as_ref()
            .unwrap()
            .seed_method
            .contains("seeded sample of 150")
    );
    assert_eq!(silhouette_at(&ds, &s, 3), f.per_k[1].silhouette_all);
    assert!(
        f.silhouette_distinct_rows.contains("of 320 distinct rows"),
        "{}",
        f.silhouette_distinct_rows
    );
    assert_eq!(f.pca.unwrap().rows_shown, 150);
    assert_eq!(
        f.silhouette_profile
            .unwrap()
            .values
            .iter()
            .map(Vec::len)
            .sum::<usize>(),
        150
    );
    assert_eq!(f.chosen_k, 2);
}

#[test]
fn features_follow_roles_and_settings() {
    let ds = bundled();
    let f = run(&ds, &quick(3));
    assert_eq!(f.features, ds.roles.numeric_columns());
    let mut s = quick(3);
    s.segmentation.features = vec!["annual_income".into(), "purchase_amount".into()];
    let f = run(&ds, &s);
    assert_eq!(f.features, ["annual_income", "purchase_amount"]);
    assert_eq!(f.personas[0].centroid.len(), 2);
}

#[test]
fn bad_settings_are_reported_not_hidden() {
    let ds = bundled();
    let mut s = quick(3);
    s.segmentation.features = vec!["shoe_size".into()];
    let f = run(&ds, &s);
    assert!(f.skipped.as_deref().unwrap().contains("shoe_size"));
    assert!(f.per_k.is_empty());
    let mut s = quick(3);
    s.segmentation.k_min = 1;
    assert_eq!(
        try_run(&ds, &s).unwrap_err(),
        SegmentationError::BadRange { k_min: 1, k_max: 3 }
    );
    let mut s = quick(3);
    s.segmentation.k_max = 60;
    assert_eq!(
        try_run(&ds, &s).unwrap_err(),
        SegmentationError::TooFewRows {
            k_max: 60,
            distinct: 60
        }
    );
    let mut s = quick(3);
    s.segmentation.n_init = 0;
    assert_eq!(
        try_run(&ds, &s).unwrap_err(),
        SegmentationError::ZeroCount("n_init")
    );
    let mut s = quick(3);
    s.segmentation.persona_value_columns = vec!["nope".into()];
    assert_eq!(
        try_run(&ds, &s).unwrap_err().to_string(),
        "segmentation.persona_value_columns names 'nope', which is not a numeric column of the table"
    );
    let mut s = quick(3);
    s.segmentation.persona_words.insert(
        "shoe_size".into(),
        TraitWords {
            low: "small".into(),
            high: "big".into(),
            suffix: String::new(),
        },
    );
    assert!(matches!(
        try_run(&ds, &s),
        Err(SegmentationError::UnknownPersonaColumn {
            setting: "persona_words",
            ..
        })
    ));
}

#[test]
fn settings_round_trip_and_reject_typos() {
    let s = Settings::default();
    let back = Settings::from_toml(&s.to_toml(), std::path::Path::new("s.toml")).unwrap();
    assert_eq!(back.segmentation, s.segmentation);
    let err = Settings::from_toml(
        "[segmentation]\nk_maxx = 4\n",
        std::path::Path::new("s.toml"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("k_maxx"));
}

#[test]
fn mixture_failures_are_recorded_not_hidden() {
    // One EM iteration cannot meet linfa's convergence test, so every fit reports failure.
    let mut s = quick(4);
    s.segmentation.gmm_max_iterations = 1;
    s.segmentation.gmm_inits = 2;
    let f = run(&blobs(3, 200, 8), &s);
    let m = f.mixture.unwrap();
    for p in &m.per_k {
        assert_eq!((p.inits, p.converged, p.failures.len()), (2, 0, 2));
        assert!(
            p.failures[0].contains("did not converge"),
            "{}",
            p.failures[0]
        );
        assert_eq!(
            (p.bic, p.log_likelihood, p.ari_with_kmeans),
            (None, None, None)
        );
    }
    assert_eq!(m.bic_best_k, None);
    assert!(!m.agrees_on_k);
    // k-means findings are unaffected.
    assert_eq!(f.chosen_k, 3);
}

/// `kmeans_all_rows` builds its rows from the standardised columns directly; the labels are those
/// of the route through one row vector per customer and a matrix, which the analysis takes.
#[test]
fn kmeans_all_rows_equals_the_route_through_rows() {
    let ds = blobs(4, 900, 12);
    let settings = quick(6);
    for k in [2, 4, 5] {
        let f = fit::features(&ds, &settings.segmentation).unwrap();
        let r = rng::stream(settings.seed, &kmeans_label(k));
        let want = fit::kmeans(
            &fit::to_matrix(&f.rows),
            k,
            &settings.segmentation,
            r,
            order_feature(&ds, &f.names),
        )
        .unwrap()
        .labels;
        let got = kmeans_all_rows(&ds, &settings, k).unwrap();
        assert_eq!(got, want, "k = {k}");
        assert_eq!(got.iter().max(), Some(&(k - 1)));
    }
}
