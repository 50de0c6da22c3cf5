//! Tests of the exploratory analysis against independently computed reference values.
//!
//! Unless said otherwise, reference values were computed with /work/refenv/bin/python (pandas 3.1.1,
//! numpy 2.4.6, scipy 1.17.1, statsmodels 0.15.0) on data/customer_purchasing_behaviors.csv:
//! `Series.mean/std/quantile/skew/kurt/nunique`, `DataFrame.corr()` and `corr(method="spearman")`,
//! `statsmodels.stats.outliers_influence.variance_inflation_factor` on `sm.add_constant(X)`,
//! `numpy.linalg.eigvalsh(numpy.corrcoef(X.T))`, `DataFrame.duplicated()`, `groupby(...).size()`,
//! `scipy.stats.gaussian_kde`, `numpy.histogram`.
mod common;

use common::{assert_close, bundled};
use customer_intel::analysis::eda::{self, AlertKind, Severity};
use customer_intel::data::{self, Dataset, SynthSpec};
use customer_intel::settings::Settings;

/// (column, [mean, sd, min, q1, median, q3, max, skew, kurt], distinct) from pandas.
const PROFILES: [(&str, [f64; 9], usize); 5] = [
    (
        "age",
        [
            38.6764705882353,
            9.351118129694578,
            22.0,
            31.0,
            39.0,
            46.75,
            55.0,
            0.06678439802203255,
            -1.1923319996288997,
        ],
        34,
    ),
    (
        "annual_income",
        [
            57407.56302521008,
            11403.875717398343,
            30000.0,
            50000.0,
            59000.0,
            66750.0,
            75000.0,
            -0.49413228117967356,
            -0.373471202010752,
        ],
        36,
    ),
    (
        "loyalty_score",
        [
            6.794117647058823,
            1.8990468014330923,
            3.0,
            5.5,
            7.0,
            8.275,
            9.5,
            -0.34526968110082196,
            -1.0818931520315311,
        ],
        35,
    ),
    (
        "purchase_frequency",
        [
            19.798319327731093,
            4.562884260556768,
            10.0,
            17.0,
            20.0,
            23.0,
            28.0,
            -0.23706390886460685,
            -0.7652198992090423,
        ],
        19,
    ),
    (
        "purchase_amount",
        [
            425.6302521008403,
            140.05206178139213,
            150.0,
            320.0,
            440.0,
            527.5,
            640.0,
            -0.24257430388869777,
            -1.0017347124551672,
        ],
        36,
    ),
];

const PEARSON: [[f64; 5]; 5] = [
    [
        1.0,
        0.9748329462400546,
        0.9818354801573245,
        0.9805324896238987,
        0.9861399758870343,
    ],
    [
        0.9748329462400546,
        1.0,
        0.9843512855327895,
        0.9829204016501971,
        0.9842084473825993,
    ],
    [
        0.9818354801573245,
        0.9843512855327895,
        1.0,
        0.9869897375851856,
        0.9941472328960415,
    ],
    [
        0.9805324896238987,
        0.9829204016501971,
        0.9869897375851856,
        1.0,
        0.9935785441834417,
    ],
    [
        0.9861399758870343,
        0.9842084473825993,
        0.9941472328960415,
        0.9935785441834417,
        1.0,
    ],
];

const SPEARMAN: [[f64; 5]; 5] = [
    [
        1.0,
        0.9976455209204361,
        0.9935784589424299,
        0.9901541976447701,
        0.993959420397847,
    ],
    [
        0.9976455209204361,
        1.0,
        0.9938546540650167,
        0.9865716215094321,
        0.9921227801017214,
    ],
    [
        0.9935784589424299,
        0.9938546540650167,
        1.0,
        0.991364902011628,
        0.9952284722482186,
    ],
    [
        0.9901541976447701,
        0.9865716215094321,
        0.991364902011628,
        1.0,
        0.995301879166626,
    ],
    [
        0.993959420397847,
        0.9921227801017214,
        0.9952284722482186,
        0.995301879166626,
        1.0,
    ],
];

#[test]
fn column_profiles_match_pandas() {
    let f = eda::run(&bundled(), &Settings::default());
    assert_eq!(f.numeric.len(), 5);
    for (p, (name, v, distinct)) in f.numeric.iter().zip(PROFILES) {
        assert_eq!(p.column, name);
        assert_eq!(
            (p.count, p.missing, p.distinct),
            (238, 0, distinct),
            "{name}"
        );
        let got = [
            p.mean, p.sd, p.min, p.q1, p.median, p.q3, p.max, p.skewness, p.kurtosis,
        ];
        for (g, w) in got.iter().zip(v) {
            assert_close(*g, w, 1e-9);
        }
        // No value of the bundled data lies beyond the 1.5 IQR fences (pandas: 0 per column).
        assert_eq!(p.outliers_low + p.outliers_high, 0, "{name}");
    }
    assert_eq!(f.numeric[0].unit, "years");
    let levels: Vec<(&str, usize)> = f
        .category
        .levels
        .iter()
        .map(|l| (l.level.as_str(), l.rows))
        .collect();
    assert_eq!(
        levels,
        [("North", 78), ("South", 77), ("East", 6), ("West", 77)]
    );
}

#[test]
fn correlation_matrices_match_pandas() {
    let f = eda::run(&bundled(), &Settings::default());
    let c = &f.correlation;
    assert_eq!(
        c.columns,
        [
            "age",
            "annual_income",
            "loyalty_score",
            "purchase_frequency",
            "purchase_amount"
        ]
    );
    for i in 0..5 {
        for j in 0..5 {
            assert_close(c.pearson[i][j], PEARSON[i][j], 1e-12);
            assert_close(c.spearman[i][j], SPEARMAN[i][j], 1e-12);
        }
    }
    assert_eq!(
        (
            c.max_predictor_pair.a.as_str(),
            c.max_predictor_pair.b.as_str()
        ),
        ("loyalty_score", "purchase_frequency")
    );
    assert_close(c.max_predictor_pair.pearson, 0.9869897375851856, 1e-12);
}

#[test]
fn vif_and_condition_number_match_statsmodels_and_numpy() {
    let f = eda::run(&bundled(), &Settings::default());
    let c = &f.collinearity;
    // statsmodels variance_inflation_factor(add_constant(X), i), i = 1..4.
    let want = [
        32.80042726583579,
        38.92367503577457,
        57.66400917554722,
        51.048484050179184,
    ];
    for (v, w) in c.vif.iter().zip(want) {
        assert_close(v.vif, w, 1e-9);
        assert_close(v.r_squared, 1.0 - 1.0 / w, 1e-12);
    }
    // numpy.linalg.eigvalsh(numpy.corrcoef(X.T)), descending; sqrt(max/min).
    let eig = [
        3.9457415783649505,
        0.025485993012815185,
        0.01606701367581825,
        0.012705414946416601,
    ];
    for (e, w) in c.eigenvalues.iter().zip(eig) {
        assert_close(*e, w, 1e-9);
    }
    assert_close(c.condition_number, 17.62259630072566, 1e-9);
}

#[test]
fn vif_on_a_small_fixed_matrix() {
    // statsmodels variance_inflation_factor on add_constant of this 8×3 matrix; numpy eigvalsh of its corrcoef.
    let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let b = [2.0, 1.0, 5.0, 3.0, 7.0, 4.0, 8.0, 9.0];
    let c = [3.0, 5.0, 4.0, 8.0, 6.0, 11.0, 9.0, 13.0];
    let got = eda::vif(&[&a, &b, &c]);
    for ((_, v), w) in got
        .iter()
        .zip([42.164896073902916, 11.539318706697467, 17.624538106235548])
    {
        assert_close(*v, w, 1e-9);
    }
    let (corr, _) = eda::correlation_matrices(&[&a, &b, &c]);
    let eig = eda::symmetric_eigenvalues(&corr);
    for (e, w) in eig
        .iter()
        .zip([2.5793861929406745, 0.40601059256827976, 0.01460321449104607])
    {
        assert_close(*e, w, 1e-9);
    }
    assert_close((eig[0] / eig[2]).sqrt(), 13.290274569900673, 1e-9);
}

#[test]
fn duplicate_counts_and_twin_share() {
    let ds = bundled();
    let f = eda::run(&ds, &Settings::default());
    let d = &f.duplicates;
    // pandas: duplicated().sum() = 178, 60 groups, largest 14, group-size counts.
    assert_eq!(
        (d.rows, d.duplicate_rows, d.distinct_rows, d.largest_group),
        (238, 178, 60, 14)
    );
    assert_eq!(
        d.group_size_counts,
        vec![(1, 32), (6, 7), (7, 15), (8, 4), (13, 1), (14, 1)]
    );
    assert_eq!(d.groups_with_copies, 28);
    // Fixed split (test = rows whose 0-based index is a multiple of 5): pandas finds 21 of 48
    // test rows with an identical row (ignoring the id) among the training rows.
    let test: Vec<usize> = (0..238).filter(|i| i % 5 == 0).collect();
    let train: Vec<usize> = (0..238).filter(|i| i % 5 != 0).collect();
    assert_eq!(eda::twinned_test_rows(&ds.groups, &train, &test), 21);
    // Exact expectation for 48 random test rows, from scipy.special.comb over each row's group size.
    assert_eq!(d.split.test_rows, 48);
    assert_close(d.split.expected, 0.8654792666575489, 1e-12);
    // The seeded simulation agrees with the exact expectation within sampling error (20 splits).
    assert!(
        (d.split.mean - d.split.expected).abs() < 0.05,
        "{} vs {}",
        d.split.mean,
        d.split.expected
    );
    assert!(d.split.min <= d.split.first_split && d.split.first_split <= d.split.max);
    // Seeded: same settings, same numbers; another seed, another draw.
    assert_eq!(eda::run(&ds, &Settings::default()).duplicates, *d);
}

#[test]
fn group_stats_and_boxes_match_pandas() {
    let f = eda::run(&bundled(), &Settings::default());
    let g = &f.groups;
    assert_eq!(
        g.columns,
        [
            "purchase_amount",
            "age",
            "annual_income",
            "loyalty_score",
            "purchase_frequency"
        ]
    );
    // pandas groupby('region')[cols].mean() / .median()
    let want: [(&str, usize, [f64; 5], [f64; 5]); 4] = [
        (
            "North",
            78,
            [
                358.5897435897436,
                34.35897435897436,
                53038.46153846154,
                5.865384615384615,
                17.653846153846153,
            ],
            [340.0, 31.0, 51000.0, 5.6, 17.0],
        ),
        (
            "South",
            77,
            [
                416.8831168831169,
                38.0,
                55766.23376623377,
                6.7259740259740255,
                19.467532467532468,
            ],
            [440.0, 39.0, 57000.0, 7.0, 21.0],
        ),
        (
            "East",
            6,
            [
                320.0,
                31.666666666666668,
                49000.0,
                5.3999999999999995,
                16.666666666666668,
            ],
            [330.0, 32.0, 51000.0, 5.55, 17.0],
        ),
        (
            "West",
            77,
            [
                510.5194805194805,
                44.27272727272727,
                64129.87012987013,
                7.911688311688312,
                22.545454545454547,
            ],
            [550.0, 48.0, 68000.0, 8.5, 24.0],
        ),
    ];
    for (l, (name, rows, mean, median)) in g.levels.iter().zip(want) {
        assert_eq!((l.level.as_str(), l.rows), (name, rows));
        for k in 0..5 {
            assert_close(l.mean[k], mean[k], 1e-12);
            assert_close(l.median[k], median[k], 1e-12);
        }
    }
    // West spend: pandas quantiles 420 / 550 / 600, min 170, max 640, no value beyond the fences.
    let w = &f.target_by_category[3];
    assert_eq!(
        (
            w.level.as_str(),
            w.q1,
            w.median,
            w.q3,
            w.whisker_low,
            w.whisker_high
        ),
        ("West", 420.0, 550.0, 600.0, 170.0, 640.0)
    );
    assert!(w.outliers.is_empty());
}

#[test]
fn histogram_and_density_match_numpy_and_scipy() {
    let f = eda::run(&bundled(), &Settings::default());
    let age = &f.distributions[0];
    // numpy.histogram(age, bins=16)
    assert_eq!(
        age.counts,
        vec![16, 10, 16, 17, 17, 16, 9, 16, 16, 21, 8, 16, 8, 22, 15, 15]
    );
    assert_eq!((age.edges[0], age.edges[16]), (22.0, 55.0));
    // scipy.stats.gaussian_kde(annual_income): bandwidth sqrt(covariance) and density at two points.
    let inc = &f.distributions[1];
    assert_close(inc.bandwidth, 3817.1311709203555, 1e-12);
    let x = bundled().col("annual_income").to_vec();
    assert_close(
        eda::kde(&x, inc.bandwidth, 57000.0),
        2.953051942196511e-05,
        1e-9,
    );
    assert_close(
        eda::kde(&x, inc.bandwidth, 40000.0),
        8.049123019598979e-06,
        1e-9,
    );
}

#[test]
fn alerts_on_the_bundled_data() {
    let f = eda::run(&bundled(), &Settings::default());
    let has = |k: AlertKind| f.alerts.iter().any(|a| a.kind == k);
    assert!(
        has(AlertKind::DuplicateRows) && has(AlertKind::HighCorrelation) && has(AlertKind::HighVif)
    );
    let sparse: Vec<&Vec<String>> = f
        .alerts
        .iter()
        .filter(|a| a.kind == AlertKind::SparseCategory)
        .map(|a| &a.subject)
        .collect();
    assert_eq!(
        sparse,
        vec![&vec!["region".to_string(), "East".to_string()]]
    );
    assert_eq!(f.alerts[0].kind, AlertKind::DuplicateRows);
    assert_eq!(f.alerts[0].severity, Severity::Critical);
    // All six predictor pairs have |r| >= 0.9 and all four predictors VIF >= 10.
    assert_eq!(
        f.alerts
            .iter()
            .filter(|a| a.kind == AlertKind::HighCorrelation)
            .count(),
        6
    );
    assert_eq!(
        f.alerts
            .iter()
            .filter(|a| a.kind == AlertKind::HighVif)
            .count(),
        4
    );
    // Features derived from spend are flagged as leakage.
    let leak: Vec<&str> = f
        .alerts
        .iter()
        .filter(|a| a.kind == AlertKind::TargetLeakage)
        .map(|a| a.subject[0].as_str())
        .collect();
    assert!(
        leak.contains(&"spend_per_purchase") && leak.contains(&"spend_to_income_ratio"),
        "{leak:?}"
    );
    for a in &f.alerts {
        assert!(!a.recommendation.is_empty() && !a.recommendation.contains('\n'));
    }
    // Severities are ordered: critical, warning, info.
    assert!(f.alerts.windows(2).all(|w| w[0].severity <= w[1].severity));
}

#[test]
fn a_clean_table_raises_none_of_the_structural_alerts() {
    let spec = SynthSpec {
        correlation: 0.2,
        duplicate_rate: 0.0,
        region_mix: vec![1.0; 4],
        ..SynthSpec::default()
    };
    let ds = data::synth(400, 11, &spec);
    let f = eda::run(&ds, &Settings::default());
    let kinds: Vec<AlertKind> = f.alerts.iter().map(|a| a.kind).collect();
    for k in [
        AlertKind::DuplicateRows,
        AlertKind::HighCorrelation,
        AlertKind::HighVif,
        AlertKind::SparseCategory,
    ] {
        assert!(
            !kinds.contains(&k),
            "{k:?} raised on a clean table: {kinds:?}"
        );
    }
    assert_eq!(f.duplicates.duplicate_rows, 0);
    assert_eq!(f.duplicates.split.mean, 0.0);
    assert!(
        f.collinearity.vif.iter().all(|v| v.vif < 2.0),
        "{:?}",
        f.collinearity.vif
    );
}

#[test]
fn thresholds_come_from_settings() {
    let ds = bundled();
    let mut s = Settings::default();
    s.eda.high_vif = 100.0;
    s.eda.high_correlation = 0.99;
    s.eda.sparse_share = 0.02;
    let f = eda::run(&ds, &s);
    let kinds: Vec<AlertKind> = f.alerts.iter().map(|a| a.kind).collect();
    assert!(
        !kinds.contains(&AlertKind::HighVif)
            && !kinds.contains(&AlertKind::HighCorrelation)
            && !kinds.contains(&AlertKind::SparseCategory)
    );
    s.eda.split_test_share = 0.0;
    assert!(
        s.check()
            .unwrap_err()
            .to_string()
            .contains("split_test_share")
    );
}

#[test]
fn a_renamed_table_runs() {
    use customer_intel::settings::Roles;
    let base = Roles::default();
    let rename = |c: &str| {
        match c {
            "age" => "years",
            "annual_income" => "income_usd",
            "loyalty_score" => "loyalty",
            "purchase_frequency" => "visits",
            "purchase_amount" => "spend_usd",
            other => other,
        }
        .to_string()
    };
    let roles = Roles {
        id: "cid".into(),
        target: rename(&base.target),
        numeric: base.numeric.iter().map(|c| rename(c)).collect(),
        demographic: base.demographic.iter().map(|c| rename(c)).collect(),
        category: "area".into(),
        label_inputs: base.label_inputs.iter().map(|c| rename(c)).collect(),
        ranges: base
            .ranges
            .iter()
            .map(|(k, v)| (rename(k), v.clone()))
            .collect(),
        units: base
            .units
            .iter()
            .map(|(k, v)| (rename(k), v.clone()))
            .collect(),
        ..base.clone()
    };
    let b = bundled();
    let numeric = b
        .numeric
        .iter()
        .map(|(k, v)| (rename(k), v.clone()))
        .collect();
    let ds = Dataset::from_columns(
        roles.clone(),
        b.ids.clone(),
        numeric,
        b.category.clone(),
        vec![],
        b.lines.clone(),
        b.provenance.clone(),
    );
    let s = Settings {
        roles,
        ..Settings::default()
    };
    let f = eda::run(&ds, &s);
    let same = eda::run(&b, &Settings::default());
    assert_eq!(
        f.collinearity.condition_number,
        same.collinearity.condition_number
    );
    assert_eq!(f.alerts.len(), same.alerts.len());
    assert_eq!(f.collinearity.predictors[0], "years");
    assert_eq!(f.groups.category, "area");
    // Feature engineering infers its columns from the roles: nothing is skipped, no old name leaks.
    let feats = customer_intel::features::run(&ds, &s);
    assert!(feats.skipped.is_empty(), "{:?}", feats.skipped);
    assert_eq!(feats.merges[0].merged_into.as_deref(), Some("North"));
    let json = serde_json::to_string(&(&f, &feats)).unwrap();
    for old in [
        "annual_income",
        "purchase_amount",
        "loyalty_score",
        "purchase_frequency",
        "user_id",
    ] {
        assert!(!json.contains(old), "findings still name '{old}'");
    }
}

#[test]
fn expected_twin_share_equals_exhaustive_enumeration() {
    // Independent check of the hypergeometric formula: average the twinned share over every
    // possible test set of size m (C(8, 3) = 56 sets).
    let groups = [0usize, 0, 0, 1, 1, 2, 3, 3];
    let (n, m) = (groups.len(), 3);
    let (mut total, mut sets) = (0.0, 0);
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize != m {
            continue;
        }
        let test: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
        let train: Vec<usize> = (0..n).filter(|i| mask & (1 << i) == 0).collect();
        total += eda::twinned_test_rows(&groups, &train, &test) as f64 / m as f64;
        sets += 1;
    }
    assert_eq!(sets, 56);
    assert_close(
        eda::expected_twin_share(&groups, m),
        total / sets as f64,
        1e-12,
    );
}

#[test]
fn the_other_alert_rules_fire_on_a_table_built_to_trigger_them() {
    use customer_intel::settings::Roles;
    use std::collections::BTreeMap;
    let n = 20;
    let levels: Vec<String> = (0..n).map(|i| format!("L{i}")).collect();
    let roles = Roles {
        category_levels: levels.clone(),
        ..Roles::default()
    };
    let mut numeric = BTreeMap::new();
    // age constant; income skewed with one far outlier; loyalty with a missing value.
    numeric.insert("age".to_string(), vec![30.0; n]);
    let mut income: Vec<f64> = (0..n).map(|i| 40_000.0 + 100.0 * i as f64).collect();
    income[7] = 400_000.0;
    numeric.insert("annual_income".to_string(), income);
    let mut loyalty: Vec<f64> = (0..n).map(|i| (i % 10) as f64).collect();
    loyalty[3] = f64::NAN;
    numeric.insert("loyalty_score".to_string(), loyalty);
    numeric.insert(
        "purchase_frequency".to_string(),
        (0..n).map(|i| (i * 7 % 13) as f64).collect(),
    );
    numeric.insert(
        "purchase_amount".to_string(),
        (0..n).map(|i| (i * 11 % 17) as f64 * 10.0).collect(),
    );
    let ds = Dataset::from_columns(
        roles.clone(),
        (0..n).map(|i| i.to_string()).collect(),
        numeric,
        levels,
        vec![],
        (2..n + 2).collect(),
        data::Provenance {
            source: "built".into(),
            rows: n,
            sha256: String::new(),
        },
    );
    let f = eda::run(
        &ds,
        &Settings {
            roles,
            ..Settings::default()
        },
    );
    let subjects = |k: AlertKind| -> Vec<String> {
        f.alerts
            .iter()
            .filter(|a| a.kind == k)
            .map(|a| a.subject[0].clone())
            .collect()
    };
    assert_eq!(subjects(AlertKind::Constant), ["age"]);
    assert_eq!(subjects(AlertKind::Outliers), ["annual_income"]);
    assert_eq!(subjects(AlertKind::Skewed), ["annual_income"]);
    assert_eq!(subjects(AlertKind::MissingValues), ["loyalty_score"]);
    assert_eq!(subjects(AlertKind::NearUnique), ["region"]);
    // Every level holds 1 row of 20 (5%): not below the 5% sparse threshold.
    assert!(subjects(AlertKind::SparseCategory).is_empty());
    let income = &f.numeric[1];
    assert_eq!((income.outliers_low, income.outliers_high), (0, 1));
    // pandas Series.skew() of the same income column.
    assert_close(income.skewness, 4.471735211974937, 1e-9);
    assert_eq!((f.numeric[2].count, f.numeric[2].missing), (19, 1));
}
