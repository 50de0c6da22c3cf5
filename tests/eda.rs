//! Tests of the exploratory analysis against independently computed reference values.
//!
//! Every reference value comes from tests/reference/eda.json, written by tests/reference/eda.py
//! (pandas, numpy, scipy and statsmodels at the versions pinned in
//! tests/reference/requirements.txt) from data/customer_purchasing_behaviors.csv:
//! `Series.mean/std/quantile/skew/kurt/nunique`, `DataFrame.corr()` and `corr(method="spearman")`,
//! `statsmodels.stats.outliers_influence.variance_inflation_factor` on `sm.add_constant(X)`,
//! `numpy.linalg.eigvalsh(numpy.corrcoef(X.T))`, `DataFrame.duplicated()`, `groupby(...).size()`,
//! `scipy.stats.gaussian_kde`, `numpy.histogram`. Regenerate with
//! `bash tests/reference/regenerate.sh eda`.
mod common;

use common::{Reference, assert_close, bundled};
use customer_intel::analysis::eda::{self, AlertKind, Severity};
use customer_intel::data::{self, Dataset, SynthSpec};
use customer_intel::settings::Settings;

fn reference() -> Reference {
    Reference::load("eda")
}

#[test]
fn column_profiles_match_pandas() {
    let r = reference();
    let f = eda::run(&bundled(), &Settings::default());
    assert_eq!(
        f.numeric.len(),
        r.get("/profiles").as_array().unwrap().len()
    );
    for (i, p) in f.numeric.iter().enumerate() {
        let at = |k: &str| format!("/profiles/{i}/{k}");
        let name = r.str(&at("column"));
        assert_eq!(p.column, name);
        assert_eq!(
            (p.count, p.missing, p.distinct),
            (
                r.usize(&at("count")),
                r.usize(&at("missing")),
                r.usize(&at("distinct"))
            ),
            "{name}"
        );
        let got = [
            p.mean, p.sd, p.min, p.q1, p.median, p.q3, p.max, p.skewness, p.kurtosis,
        ];
        let keys = [
            "mean", "sd", "min", "q1", "median", "q3", "max", "skew", "kurt",
        ];
        for (g, k) in got.iter().zip(keys) {
            assert_close(*g, r.f64(&at(k)), 1e-9);
        }
        // Values beyond the 1.5 IQR fences (pandas quantiles).
        assert_eq!(
            p.outliers_low + p.outliers_high,
            r.usize(&at("outliers")),
            "{name}"
        );
    }
    assert_eq!(f.numeric[0].unit, "years");
    let levels: Vec<(String, usize)> = f
        .category
        .levels
        .iter()
        .map(|l| (l.level.clone(), l.rows))
        .collect();
    assert_eq!(levels, r.named_counts("/region_rows"));
}

#[test]
fn correlation_matrices_match_pandas() {
    let r = reference();
    let f = eda::run(&bundled(), &Settings::default());
    let c = &f.correlation;
    assert_eq!(c.columns, r.strings("/columns"));
    let (pearson, spearman) = (r.f64ss("/pearson"), r.f64ss("/spearman"));
    assert_eq!((pearson.len(), spearman.len()), (5, 5));
    for i in 0..5 {
        for j in 0..5 {
            assert_close(c.pearson[i][j], pearson[i][j], 1e-12);
            assert_close(c.spearman[i][j], spearman[i][j], 1e-12);
        }
    }
    assert_eq!(
        (
            c.max_predictor_pair.a.as_str(),
            c.max_predictor_pair.b.as_str()
        ),
        (
            r.str("/max_predictor_pair/a"),
            r.str("/max_predictor_pair/b")
        )
    );
    assert_close(
        c.max_predictor_pair.pearson,
        r.f64("/max_predictor_pair/pearson"),
        1e-12,
    );
}

#[test]
fn vif_and_condition_number_match_statsmodels_and_numpy() {
    let r = reference();
    let f = eda::run(&bundled(), &Settings::default());
    let c = &f.collinearity;
    assert_eq!(c.predictors, r.strings("/predictors"));
    // statsmodels variance_inflation_factor(add_constant(X), i), i = 1..4.
    let want = r.f64s("/vif");
    assert_eq!(c.vif.len(), want.len());
    for (v, w) in c.vif.iter().zip(want) {
        assert_close(v.vif, w, 1e-9);
        assert_close(v.r_squared, 1.0 - 1.0 / w, 1e-12);
    }
    // numpy.linalg.eigvalsh(numpy.corrcoef(X.T)), descending; sqrt(max/min).
    let eig = r.f64s("/eigenvalues");
    assert_eq!(c.eigenvalues.len(), eig.len());
    for (e, w) in c.eigenvalues.iter().zip(eig) {
        assert_close(*e, w, 1e-9);
    }
    assert_close(c.condition_number, r.f64("/condition_number"), 1e-9);
}

#[test]
fn vif_on_a_small_fixed_matrix() {
    // statsmodels variance_inflation_factor on add_constant of this 8×3 matrix; numpy eigvalsh of its corrcoef.
    let r = reference();
    let a = r.f64s("/small_matrix/columns/a");
    let b = r.f64s("/small_matrix/columns/b");
    let c = r.f64s("/small_matrix/columns/c");
    let got = eda::vif(&[&a, &b, &c]);
    let want = r.f64s("/small_matrix/vif");
    assert_eq!(got.len(), want.len());
    for ((_, v), w) in got.iter().zip(want) {
        assert_close(*v, w, 1e-9);
    }
    let (corr, _) = eda::correlation_matrices(&[&a, &b, &c]);
    let eig = eda::symmetric_eigenvalues(&corr);
    let want = r.f64s("/small_matrix/eigenvalues");
    assert_eq!(eig.len(), want.len());
    for (e, w) in eig.iter().zip(want) {
        assert_close(*e, w, 1e-9);
    }
    assert_close(
        (eig[0] / eig[2]).sqrt(),
        r.f64("/small_matrix/condition_number"),
        1e-9,
    );
}

#[test]
fn duplicate_counts_and_twin_share() {
    let r = reference();
    let ds = bundled();
    let f = eda::run(&ds, &Settings::default());
    let d = &f.duplicates;
    // pandas: duplicated().sum(), number of groups, largest group, group-size counts.
    assert_eq!(
        (d.rows, d.duplicate_rows, d.distinct_rows, d.largest_group),
        (
            r.usize("/duplicates/rows"),
            r.usize("/duplicates/duplicate_rows"),
            r.usize("/duplicates/distinct_rows"),
            r.usize("/duplicates/largest_group")
        )
    );
    let counts = r.usize_pairs("/duplicates/group_size_counts");
    assert_eq!(d.group_size_counts, counts);
    assert_eq!(
        d.groups_with_copies,
        r.usize("/duplicates/groups_with_copies")
    );
    // Fixed split (test = rows whose 0-based index is a multiple of 5): test rows with an
    // identical row (ignoring the id) among the training rows, counted with pandas.
    let test: Vec<usize> = (0..ds.n_rows()).filter(|i| i % 5 == 0).collect();
    let train: Vec<usize> = (0..ds.n_rows()).filter(|i| i % 5 != 0).collect();
    assert_eq!(
        eda::twinned_test_rows(&ds.groups, &train, &test),
        r.usize("/duplicates/fixed_split_twinned_test_rows")
    );
    // Exact expectation for a random test set of that size, from binomial coefficients over
    // each row's group size (exact rational arithmetic, cross-checked with scipy.special.comb).
    assert_eq!(d.split.test_rows, r.usize("/duplicates/test_rows"));
    assert_close(
        d.split.expected,
        r.f64("/duplicates/expected_twin_share"),
        1e-12,
    );
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
    let r = reference();
    let f = eda::run(&bundled(), &Settings::default());
    let g = &f.groups;
    assert_eq!(g.columns, r.strings("/group_columns"));
    // pandas groupby('region')[cols].mean() / .median()
    let n = r.get("/groups").as_array().unwrap().len();
    assert_eq!(g.levels.len(), n);
    for (i, l) in g.levels.iter().enumerate() {
        let at = |k: &str| format!("/groups/{i}/{k}");
        assert_eq!(
            (l.level.as_str(), l.rows),
            (r.str(&at("level")), r.usize(&at("rows")))
        );
        let (mean, median) = (r.f64s(&at("mean")), r.f64s(&at("median")));
        for k in 0..5 {
            assert_close(l.mean[k], mean[k], 1e-12);
            assert_close(l.median[k], median[k], 1e-12);
        }
    }
    // West spend: pandas quantiles, whiskers at the extreme values inside the 1.5 IQR fences.
    let w = &f.target_by_category[3];
    assert_eq!(w.level, "West");
    let b = |k: &str| r.f64(&format!("/west_target_box/{k}"));
    assert_eq!(
        (w.q1, w.median, w.q3, w.whisker_low, w.whisker_high),
        (
            b("q1"),
            b("median"),
            b("q3"),
            b("whisker_low"),
            b("whisker_high")
        )
    );
    assert_eq!(w.outliers.len(), r.usize("/west_target_box/outliers"));
}

#[test]
fn histogram_and_density_match_numpy_and_scipy() {
    let r = reference();
    let f = eda::run(&bundled(), &Settings::default());
    let age = &f.distributions[0];
    // numpy.histogram(age, bins=16)
    assert_eq!(age.counts, r.usizes("/age_histogram/counts"));
    assert_eq!(
        (age.edges[0], age.edges[16]),
        (
            r.f64("/age_histogram/first_edge"),
            r.f64("/age_histogram/last_edge")
        )
    );
    // scipy.stats.gaussian_kde(annual_income): bandwidth sqrt(covariance) and density at two points.
    let inc = &f.distributions[1];
    assert_close(inc.bandwidth, r.f64("/income_kde/bandwidth"), 1e-12);
    let x = bundled().col("annual_income").to_vec();
    let (at, density) = (r.f64s("/income_kde/at"), r.f64s("/income_kde/density"));
    assert_eq!(at.len(), density.len());
    for (a, d) in at.iter().zip(density) {
        assert_close(eda::kde(&x, inc.bandwidth, *a), d, 1e-9);
    }
}

#[test]
fn alerts_on_the_bundled_data() {
    let r = reference();
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
    // Levels below the default 5% share (pandas value_counts).
    let want: Vec<Vec<String>> = r
        .strings("/sparse_levels")
        .into_iter()
        .map(|l| vec!["region".to_string(), l])
        .collect();
    assert_eq!(sparse, want.iter().collect::<Vec<_>>());
    assert_eq!(f.alerts[0].kind, AlertKind::DuplicateRows);
    assert_eq!(f.alerts[0].severity, Severity::Critical);
    // Predictor pairs with |r| >= 0.9 (pandas) and predictors with VIF >= 10 (statsmodels).
    assert_eq!(
        f.alerts
            .iter()
            .filter(|a| a.kind == AlertKind::HighCorrelation)
            .count(),
        r.usize("/high_correlation_pairs")
    );
    assert_eq!(
        f.alerts
            .iter()
            .filter(|a| a.kind == AlertKind::HighVif)
            .count(),
        r.usize("/high_vif_columns")
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
    let r = reference();
    let income = r.f64s("/trigger_income/values");
    assert_eq!(income.len(), n);
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
    // pandas quantile fences and Series.skew() of the same income column.
    assert_eq!(
        (income.outliers_low, income.outliers_high),
        (
            r.usize("/trigger_income/outliers_low"),
            r.usize("/trigger_income/outliers_high")
        )
    );
    assert_close(income.skewness, r.f64("/trigger_income/skew"), 1e-9);
    assert_eq!((f.numeric[2].count, f.numeric[2].missing), (19, 1));
}
