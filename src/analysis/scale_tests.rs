//! Tests of the sample cap across analyses: above `sample_cap` the costly analyses run on the
//! shared seeded sample of whole duplicate groups, record it in their findings, and say so in
//! the rendered report; below it nothing changes.

use super::{classification, regression, robustness};
use crate::data::{ANALYSIS_SAMPLE, SynthSpec, synth};
use crate::settings::Settings;

fn quick() -> Settings {
    let mut s = Settings::default();
    s.sample_cap = 150;
    s.repeats = 1;
    s.regression.forest.trees = 8;
    s.classification.forest_trees = 8;
    s.robustness.levels = vec![0.0, 0.5];
    s.robustness.repeats = 1;
    s
}

fn table() -> crate::data::Dataset {
    synth(
        400,
        11,
        &SynthSpec {
            duplicate_rate: 0.25,
            ..SynthSpec::default()
        },
    )
}

#[test]
fn capped_analyses_record_the_sample_and_equal_a_run_on_it() {
    let (ds, s) = (table(), quick());
    let rows = ds.sample_rows(150, s.seed, ANALYSIS_SAMPLE).unwrap();
    let sample = ds.subset(&rows);

    let r = regression::run(&ds, &s);
    let info = r.sample.clone().expect("400 rows > cap 150: a sample");
    assert_eq!(
        (info.rows, info.table_rows, info.cap),
        (rows.len(), 400, 150)
    );
    assert!(info.rows <= 150 && info.rows > 140, "{}", info.rows);
    assert_eq!(info.groups, sample.n_groups);
    assert_eq!(r.rows, rows.len());
    assert_eq!(r.out_of_fold.actual.len(), rows.len());
    // The capped run is exactly the uncapped analysis of the sample, and deterministic.
    let mut direct = regression::try_run(&sample, &s).unwrap();
    direct.sample = r.sample.clone();
    assert_eq!(r, direct);
    assert_eq!(r, regression::run(&ds, &s));

    let c = classification::run(&ds, &s);
    assert_eq!(c.sample, r.sample);
    assert_eq!(c.label.rows, rows.len());
    let mut uncapped = s.clone();
    uncapped.sample_cap = 10_000;
    let mut direct = classification::run(&sample, &uncapped);
    assert!(direct.sample.is_none());
    direct.sample = c.sample.clone();
    // Settings only differ in the cap, which classification does not otherwise read.
    assert_eq!(c, direct);

    let up = robustness::Upstream::default();
    let rb = robustness::run(&ds, &s, &up);
    assert_eq!(rb.sample, r.sample);
    let mut direct = robustness::run(&sample, &uncapped, &up);
    direct.sample = rb.sample.clone();
    assert_eq!(rb, direct);
}

#[test]
fn below_the_cap_there_is_no_sample_and_the_json_has_no_sample_key() {
    let (ds, mut s) = (table(), quick());
    s.sample_cap = 400;
    let r = regression::run(&ds, &s);
    assert!(r.sample.is_none());
    assert_eq!(r.rows, 400);
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("\"sample\""));
    s.sample_cap = 399;
    let json = serde_json::to_string(&regression::run(&ds, &s)).unwrap();
    assert!(json.contains("\"sample\":{\"rows\":"), "{}", &json[..200]);
}

#[test]
fn the_report_states_where_a_sample_was_used() {
    let (ds, mut s) = (table(), quick());
    s.segmentation.k_max = 4;
    let f = crate::pipeline::analyze(&ds, &s);
    let opts = crate::pipeline::BuildOptions {
        readme: None,
        out_dir: std::path::PathBuf::from("out"),
        tracking: crate::tracking::Tracking::Off,
        settings: s.clone(),
        ..Default::default()
    };
    let out = crate::pipeline::outputs(&f, &opts).unwrap();
    let html = String::from_utf8_lossy(&out.files[&std::path::PathBuf::from("out/index.html")]);
    let n = f.regression.sample.as_ref().unwrap().rows;
    let line = format!("computed on a seeded sample of {n} of 400 rows");
    // Regression, classification and noise-sweep sections, and the results list (regression,
    // classification, noise sweep): six mentions.
    assert_eq!(html.matches(&line).count(), 6, "{line}");
    assert!(html.contains("segmentation: models fitted on a seeded sample of 150 of 400 rows"));
    let slides = String::from_utf8_lossy(&out.files[&std::path::PathBuf::from("out/slides.html")]);
    let short = format!("on a seeded sample of {n} of 400 rows");
    // The spend and growth slides.
    assert_eq!(slides.matches(&short).count(), 2, "{short}");
}

#[test]
fn eda_twin_split_is_sampled_above_the_cap_and_its_expectation_is_not() {
    let (ds, mut s) = (table(), quick());
    let capped = super::eda::run(&ds, &s).duplicates;
    s.sample_cap = 400;
    let full = super::eda::run(&ds, &s).duplicates;
    assert!(!full.split.method.contains("sample"));
    assert!(
        capped.split.method.contains("seeded sample of"),
        "{}",
        capped.split.method
    );
    // The exact expectation and the headline counts use every row either way.
    assert_eq!(capped.split.expected, full.split.expected);
    assert_eq!(capped.split.test_rows, full.split.test_rows);
    assert_eq!(capped.duplicate_rows, full.duplicate_rows);
    // The simulated share stays close to the exact expectation on the sample.
    assert!((capped.split.mean - capped.split.expected).abs() < 0.1);
}

#[test]
fn streamed_eda_profiles_equal_the_loaded_table_profiles() {
    let ds = table();
    let dir = std::env::temp_dir().join(format!("ci-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.csv");
    crate::data::write_csv(&ds, &path).unwrap();
    let s = Settings::default();
    let loaded = crate::data::load(&path).unwrap();
    let streamed = super::eda::profiles_streamed(&path, &s, 37).unwrap();
    assert_eq!(streamed.rows, 400);
    assert_eq!(streamed.numeric, super::eda::run(&loaded, &s).numeric);
    assert_eq!(streamed.category_counts, loaded.category_counts());
    assert_eq!(streamed.sha256, loaded.provenance.sha256);
}

#[test]
fn production_models_above_the_cap_are_fitted_on_the_analyses_sample() {
    let (ds, s) = (table(), quick());
    let rows = ds.sample_rows(150, s.seed, ANALYSIS_SAMPLE).unwrap();
    let sample = ds.subset(&rows);
    let findings = crate::pipeline::analyze(&ds, &s);
    let m = crate::models::fit(&ds, &s, &findings).unwrap();
    // The header says so, and still names the whole training table.
    assert!(
        m.spend
            .header
            .fitted_on
            .contains(&format!("sample of {} of the 400 rows", rows.len())),
        "{}",
        m.spend.header.fitted_on
    );
    assert!(m.growth.header.fitted_on.contains("sample of"));
    assert_eq!(m.spend.header.training_data.rows, 400);
    // The spend model is the one fitted on the sample directly: same penalty, same predictions.
    let direct = regression::fit_production(&sample, &s, &findings.regression).unwrap();
    assert_eq!(m.spend.penalty, direct.penalty);
    let x = direct.design.x.clone();
    assert_eq!(m.spend.fitted.predict(&x), direct.fitted.predict(&x));
}
