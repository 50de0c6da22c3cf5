//! Real-world tables (issue 20): gaps handled by the `data.missing` policy, and Parquet input.
//!
//! References: tests/reference/tables.py (pandas counts of the planted gaps, the medians the
//! saved models must carry, a scikit-learn `SimpleImputer(median) + LinearRegression` pipeline on
//! a fixed split and under group 5-fold x 3 cross-validation, and pandas' column sums of the
//! bundled table).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use customer_intel::analysis::regression::{FeatureSet, design};
use customer_intel::data::{self, DataError, MissingPolicy, MissingSettings, schema::Roles};
use customer_intel::findings::Findings;
use customer_intel::ml::cv::Scheme;
use customer_intel::ml::regressors::{self, FitOptions, ForestParams, ModelKind};
use customer_intel::models::{self, ProductionModels};
use customer_intel::pipeline::{self, BuildOptions};
use customer_intel::settings::Settings;
use customer_intel::tracking::Tracking;
use polars::prelude::{CsvReadOptions, DataFrame, NamedFrom, ParquetWriter, SerReader, Series};

use common::{Reference, assert_close, bundled_csv};

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("tables-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn reference() -> Reference {
    Reference::load("tables")
}

/// The bundled CSV with the reference's planted gaps written in, as text.
fn gappy_csv(r: &Reference) -> String {
    let text = std::fs::read_to_string(bundled_csv()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<String> = lines[0].split(',').map(str::to_string).collect();
    for cell in r.get("/planted").as_array().unwrap() {
        let row = cell["row"].as_u64().unwrap() as usize;
        let col = cell["column"].as_str().unwrap();
        let k = header.iter().position(|h| h == col).unwrap();
        let mut f: Vec<String> = lines[row + 1].split(',').map(str::to_string).collect();
        f[k] = cell["text"].as_str().unwrap().to_string();
        lines[row + 1] = f.join(",");
    }
    lines.join("\n") + "\n"
}

fn settings(policy: MissingPolicy) -> Settings {
    let mut s = Settings::default();
    s.data.missing = policy;
    s
}

fn build(data: &Path, out: &Path, settings: Settings) -> Result<Findings, pipeline::PipelineError> {
    let opts = BuildOptions {
        data: data.to_path_buf(),
        out_dir: out.to_path_buf(),
        readme: None,
        tracking: Tracking::Off,
        settings,
        ..BuildOptions::default()
    };
    pipeline::build(&opts, &mut |_| {}).map(|s| s.findings)
}

fn gappy_file(dir: &Path, r: &Reference) -> PathBuf {
    let p = dir.join("gappy.csv");
    std::fs::write(&p, gappy_csv(r)).unwrap();
    p
}

#[test]
fn reject_names_every_gap_with_line_column_and_rule() {
    let r = reference();
    let dir = scratch("reject");
    let path = gappy_file(&dir, &r);
    let err = data::load_with(&path, &Roles::default(), &MissingSettings::default()).unwrap_err();
    let DataError::Invalid { total, .. } = &err else {
        panic!("{err}")
    };
    // Under "reject" an empty cell breaks the missing-value rule, "NA" and "null" the number
    // rule, "NaN" the finite rule: one violation per planted cell.
    assert_eq!(*total, r.usize("/cells"));
    let first = &err.violations()[0];
    let planted = r.get("/planted").as_array().unwrap();
    let min_row = planted
        .iter()
        .map(|c| c["row"].as_u64().unwrap())
        .min()
        .unwrap() as usize;
    assert_eq!(first.line, min_row + 2, "line = data row + header");
    // And `report build` exits 2, leaving nothing behind.
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["build", "--data"])
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("missing values") && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert!(!out.join("findings.json").exists());
}

#[test]
fn gap_texts_are_recognised_but_a_typo_is_still_an_error() {
    let header =
        "user_id,age,annual_income,purchase_amount,loyalty_score,region,purchase_frequency";
    let imp = MissingSettings {
        missing: MissingPolicy::Impute,
        ..MissingSettings::default()
    };
    let dir = scratch("tokens");
    let load = |text: &str| {
        let f = dir.join("t.csv");
        std::fs::write(&f, text).unwrap();
        data::load_with(&f, &Roles::default(), &imp).map_err(|e| e.to_string())
    };
    let ok = load(&format!(
        "{header}\n1,,45000,200,4.5,North,12\n2,NA,null,300,nan,south,14\n3,30, NULL ,300,5,,14\n4,31,50000,,5,West,15\n"
    ))
    .unwrap();
    assert!(ok.col("age")[0].is_nan() && ok.col("age")[1].is_nan());
    assert!(ok.col("annual_income")[1].is_nan() && ok.col("annual_income")[2].is_nan());
    assert!(ok.col("loyalty_score")[1].is_nan());
    assert!(ok.col("purchase_amount")[3].is_nan());
    assert_eq!(ok.category, vec!["North", "South", "", "West"]);
    assert_eq!(ok.complete_rows(), Vec::<usize>::new());
    let typo = load(&format!("{header}\n1,3O,45000,200,4.5,North,12\n")).unwrap_err();
    assert!(
        typo.contains("line 2, column 'age', value '3O': age is a number"),
        "{typo}"
    );
    let no_id = load(&format!("{header}\n,30,45000,200,4.5,North,12\n")).unwrap_err();
    assert!(no_id.contains("user_id is never missing"), "{no_id}");
}

#[test]
fn drop_rows_profiles_the_gaps_and_analyses_the_complete_rows() {
    let r = reference();
    let dir = scratch("drop");
    let path = gappy_file(&dir, &r);
    let f = build(&path, &dir.join("out"), settings(MissingPolicy::DropRows)).unwrap();
    let m = &f.dataset.missing;
    assert_eq!(m.policy, "drop_rows");
    for c in &m.columns {
        assert_eq!(
            c.missing,
            r.usize(&format!("/missing/{}", c.column)),
            "{}",
            c.column
        );
    }
    assert_eq!(m.cells, r.usize("/cells"));
    assert_eq!(m.rows_with_gaps, r.usize("/rows_with_gaps"));
    assert_eq!(m.rows_left_out, r.usize("/rows_with_gaps"));
    assert_eq!(m.regression_rows_left_out, m.rows_left_out);
    assert_eq!(m.values_imputed, 0);
    let together: Vec<(String, String, usize)> = m
        .together
        .iter()
        .map(|p| (p.a.clone(), p.b.clone(), p.both))
        .collect();
    let mut want: Vec<(String, String, usize)> = r
        .get("/together")
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["a"].as_str().unwrap().to_string(),
                p["b"].as_str().unwrap().to_string(),
                p["both"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let mut got = together.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    // Every column's share is 5% or less; the 12-of-238 feature columns are at 5.04%: alerts.
    assert_eq!(m.alerts.len(), 4, "{:?}", m.alerts);
    let complete = 238 - r.usize("/rows_with_gaps");
    assert_eq!(f.regression.rows, complete);
    assert_eq!(f.eda.rows, complete);
    assert_eq!(f.dataset.rows, 238);
}

#[test]
fn imputation_inside_a_fold_equals_a_scikit_learn_pipeline() {
    let r = reference();
    let dir = scratch("split");
    let path = gappy_file(&dir, &r);
    let imp = MissingSettings {
        missing: MissingPolicy::Impute,
        ..MissingSettings::default()
    };
    let ds = data::load_with(&path, &Roles::default(), &imp).unwrap();
    let views = data::Views::new(&ds, &imp);
    let kept = &*views.regression;
    assert_eq!(kept.n_rows(), r.usize("/impute/kept_rows"));
    assert_eq!(
        views.profile.values_imputed,
        r.usize("/impute/values_imputed")
    );
    let d = design::design(kept, FeatureSet::Demographic).unwrap();
    let test = r.usizes("/split/test_rows");
    let train: Vec<usize> = (0..kept.n_rows()).filter(|i| !test.contains(i)).collect();
    let y: Vec<f64> = train.iter().map(|&i| kept.target()[i]).collect();
    let opts = FitOptions {
        penalty: 0.0,
        forest: ForestParams::default(),
        max_iterations: 100,
        seed: 1,
    };
    let fitted = regressors::fit(ModelKind::Ols, &d.x.select_rows(&train), &y, &opts).unwrap();
    assert!(matches!(fitted, regressors::Fitted::Imputed { .. }));
    let pred = fitted.predict(&d.x.select_rows(&test));
    for (a, b) in pred.iter().zip(r.f64s("/split/predictions")) {
        assert_close(*a, b, 1e-7);
    }
}

#[test]
fn impute_builds_scores_within_fold_noise_of_scikit_learn_and_scores_gaps() {
    let r = reference();
    let dir = scratch("impute");
    let path = gappy_file(&dir, &r);
    let out = dir.join("out");
    let f = build(&path, &out, settings(MissingPolicy::Impute)).unwrap();
    let m = &f.dataset.missing;
    assert_eq!(m.policy, "impute");
    assert_eq!(m.values_imputed, r.usize("/impute/values_imputed"));
    assert_eq!(
        m.regression_rows_left_out,
        238 - r.usize("/impute/kept_rows")
    );
    assert_eq!(f.regression.rows, r.usize("/impute/kept_rows"));
    let ols = f
        .regression
        .scores
        .iter()
        .find(|s| {
            s.model == ModelKind::Ols
                && s.feature_set == FeatureSet::Demographic
                && s.scheme == Scheme::GroupKFold
        })
        .unwrap();
    let (mean, sd) = (r.f64("/group_cv_r2/mean"), r.f64("/group_cv_r2/sd"));
    assert_eq!(ols.r2.n, r.usize("/group_cv_r2/n"));
    // Different fold assignments: the means must agree within one fold-to-fold sd.
    let noise = sd.max(ols.r2.sd);
    assert!(
        (ols.r2.mean - mean).abs() <= noise,
        "OLS demographic group CV R² {} ± {} vs scikit-learn {} ± {}",
        ols.r2.mean,
        ols.r2.sd,
        mean,
        sd
    );

    // The saved models carry the imputation: medians of the kept rows.
    let models = ProductionModels::load(&out.join(models::MODELS_DIR)).unwrap();
    let imp = models.spend.header.imputation.as_ref().unwrap();
    for (c, v) in &imp.numeric {
        assert_close(*v, r.f64(&format!("/impute/medians/{c}")), 1e-12);
    }
    assert_eq!(
        imp.category.as_deref(),
        Some(r.str("/impute/category_mode"))
    );
    assert_eq!(models.growth.header.imputation.as_ref(), Some(imp));

    // `report score` on the file with gaps works, and a row with gaps scores as the same row
    // with the saved medians written in.
    let scored = dir.join("scores.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["score", "--input"])
        .arg(&path)
        .arg("--models")
        .arg(out.join(models::MODELS_DIR))
        .arg("--out")
        .arg(&scored)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut filled = gappy_csv(&r);
    let mut lines: Vec<String> = filled.lines().map(str::to_string).collect();
    let header: Vec<String> = lines[0].split(',').map(str::to_string).collect();
    for cell in r.get("/planted").as_array().unwrap() {
        let row = cell["row"].as_u64().unwrap() as usize;
        let col = cell["column"].as_str().unwrap();
        let fill = if col == "region" {
            imp.category.clone().unwrap()
        } else if let Some((_, v)) = imp.numeric.iter().find(|(c, _)| c == col) {
            format!("{v}")
        } else {
            continue; // a gap in the target is placed with the predicted spend
        };
        let k = header.iter().position(|h| h == col).unwrap();
        let mut f: Vec<String> = lines[row + 1].split(',').map(str::to_string).collect();
        f[k] = fill;
        lines[row + 1] = f.join(",");
    }
    filled = lines.join("\n") + "\n";
    let filled_path = dir.join("filled.csv");
    std::fs::write(&filled_path, filled).unwrap();
    let mut s = Settings::default();
    // The medians of whole-number columns may be halves: score the filled copy without the
    // whole-number rule, which only validation reads.
    for range in s.roles.ranges.values_mut() {
        range.integer = false;
    }
    let settings_path = dir.join("relaxed.toml");
    std::fs::write(&settings_path, s.to_toml()).unwrap();
    let scored_filled = dir.join("scores_filled.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["score", "--input"])
        .arg(&filled_path)
        .arg("--models")
        .arg(out.join(models::MODELS_DIR))
        .arg("--out")
        .arg(&scored_filled)
        .arg("--settings")
        .arg(&settings_path)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let a = std::fs::read_to_string(&scored).unwrap();
    let b = std::fs::read_to_string(&scored_filled).unwrap();
    assert_eq!(a.lines().count(), 239);
    assert_eq!(a, b);

    // Models built with "reject" (the default) refuse gaps at scoring, naming line and column.
    let strict = dir.join("strict");
    build(&bundled_csv(), &strict, Settings::default()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["score", "--input"])
        .arg(&path)
        .arg("--models")
        .arg(strict.join(models::MODELS_DIR))
        .arg("--out")
        .arg(dir.join("strict.csv"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("line ") && stderr.contains("column '"),
        "{stderr}"
    );
}

/// The bundled CSV as pandas would write it to Parquet: columns typed by inference (integers as
/// int64, loyalty as float64), written by polars' Parquet writer.
fn bundled_parquet(dir: &Path) -> PathBuf {
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(bundled_csv()))
        .unwrap()
        .finish()
        .unwrap();
    let p = dir.join("bundled.parquet");
    let mut file = std::fs::File::create(&p).unwrap();
    ParquetWriter::new(&mut file).finish(&mut frame).unwrap();
    p
}

/// Findings JSON without what depends on the file (its path and hash).
fn without_provenance(f: &Findings) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(&f.to_json()).unwrap();
    v["provenance"]["data"] = serde_json::Value::Null;
    v["dataset"]["provenance"] = serde_json::Value::Null;
    v
}

#[test]
fn parquet_copy_of_the_bundled_table_builds_the_same_findings() {
    let r = reference();
    let dir = scratch("parquet");
    let pq = bundled_parquet(&dir);
    let ds = data::load(&pq).unwrap();
    assert_eq!(ds.n_rows(), r.usize("/bundled_rows"));
    for c in Roles::default().numeric_columns() {
        assert_close(
            ds.col(&c).iter().sum::<f64>(),
            r.f64(&format!("/bundled_sums/{c}")),
            1e-12,
        );
    }
    assert_eq!(ds.n_groups, common::bundled().n_groups);
    // The same table under another name, recognised by its magic bytes.
    let renamed = dir.join("bundled.data");
    std::fs::copy(&pq, &renamed).unwrap();
    assert_eq!(data::load(&renamed).unwrap().numeric, ds.numeric);

    let from_csv = build(&bundled_csv(), &dir.join("csv"), Settings::default()).unwrap();
    let from_pq = build(&pq, &dir.join("pq"), Settings::default()).unwrap();
    assert!(from_pq.provenance.data.source.ends_with("bundled.parquet"));
    assert_eq!(
        serde_json::to_string(&without_provenance(&from_pq)).unwrap(),
        serde_json::to_string(&without_provenance(&from_csv)).unwrap()
    );
    // `report score` reads Parquet too, with the same scores as the CSV.
    let models_dir = dir.join("csv").join(models::MODELS_DIR);
    let mut outs = Vec::new();
    for (input, name) in [(pq.clone(), "pq.csv"), (bundled_csv(), "csv.csv")] {
        let out = dir.join(name);
        let o = Command::new(env!("CARGO_BIN_EXE_report"))
            .args(["score", "--input"])
            .arg(&input)
            .arg("--models")
            .arg(&models_dir)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        outs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(outs[0], outs[1]);
}

#[test]
fn parquet_errors_name_row_column_value_and_rule() {
    let dir = scratch("parquet-bad");
    let n = 30;
    let ids: Vec<i64> = (1..=n).collect();
    let mut age: Vec<Option<i64>> = (0..n).map(|i| Some(20 + i % 40)).collect();
    age[4] = Some(-3);
    age[20] = None;
    let income: Vec<f64> = (0..n).map(|i| 40_000.0 + 100.0 * i as f64).collect();
    let amount: Vec<i64> = (0..n).map(|i| 300 + i).collect();
    let mut loyalty: Vec<f64> = (0..n).map(|i| 5.0 + 0.1 * i as f64).collect();
    loyalty[26] = 11.0;
    let mut region: Vec<&str> = (0..n)
        .map(|i| ["North", "South", "East", "West"][i as usize % 4])
        .collect();
    region[9] = "Mars";
    let freq: Vec<i64> = (0..n).map(|i| 10 + i % 5).collect();
    let mut frame = DataFrame::new(
        n as usize,
        vec![
            Series::new("user_id".into(), ids).into(),
            Series::new("age".into(), age).into(),
            Series::new("annual_income".into(), income).into(),
            Series::new("purchase_amount".into(), amount).into(),
            Series::new("loyalty_score".into(), loyalty).into(),
            Series::new("region".into(), region).into(),
            Series::new("purchase_frequency".into(), freq).into(),
        ],
    )
    .unwrap();
    let p = dir.join("bad.parquet");
    let mut file = std::fs::File::create(&p).unwrap();
    ParquetWriter::new(&mut file).finish(&mut frame).unwrap();
    drop(file);
    let err = data::load(&p).unwrap_err();
    let got: Vec<(usize, String)> = err
        .violations()
        .iter()
        .map(|v| (v.line, v.column.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (5, "age".into()),
            (10, "region".into()),
            (21, "age".into()),
            (27, "loyalty_score".into())
        ]
    );
    let msg = err.to_string();
    assert!(
        msg.contains("row 5, column 'age', value '-3': age is between 0 and 120"),
        "{msg}"
    );
    assert!(
        msg.contains(
            "row 27, column 'loyalty_score', value '11.0': loyalty_score is between 0 and 10"
        ),
        "{msg}"
    );
    // The chunked reader lists the same violations across its slices.
    let chunked = data::chunks(&p, &Roles::default(), 7)
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    assert_eq!(chunked.to_string(), msg);
    // Under "impute" the null age is a gap; the other three stay errors.
    let imp = MissingSettings {
        missing: MissingPolicy::Impute,
        ..MissingSettings::default()
    };
    let err = data::load_with(&p, &Roles::default(), &imp).unwrap_err();
    assert_eq!(err.violations().len(), 3);
    // A damaged file is an error (exit 2 from the binary), never a crash.
    let bytes = std::fs::read(&p).unwrap();
    let broken = dir.join("broken.parquet");
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        data::load(&broken),
        Err(DataError::NotParquet { .. })
    ));
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["build", "--data"])
        .arg(&broken)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

#[test]
fn chunked_parquet_equals_a_whole_load() {
    let dir = scratch("parquet-chunks");
    let ds = data::synth(1000, 5, &data::SynthSpec::default());
    let p = dir.join("synth.parquet");
    data::write_parquet(&ds, &p).unwrap();
    let whole = data::load(&p).unwrap();
    assert_eq!(whole.numeric, ds.numeric);
    assert_eq!(whole.ids, ds.ids);
    let mut ids = Vec::new();
    let mut ages = Vec::new();
    let summary = data::for_each_chunk(&p, &Roles::default(), 300, |c| {
        ids.extend(c.ids.clone());
        ages.extend(c.col("age").to_vec());
    })
    .unwrap();
    assert_eq!((summary.rows, summary.chunks), (1000, 4));
    assert_eq!(summary.sha256, whole.provenance.sha256);
    assert_eq!(ids, whole.ids);
    assert_eq!(ages, whole.col("age"));
}
