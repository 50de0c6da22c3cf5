//! Small and degenerate tables (issue 20): valid tables with one row, two rows, identical rows,
//! one region, no East rows, a constant column or one class of the growth label must build
//! (exit 0 for the binary) with every analysis that can run, and each analysis that cannot
//! says why in words in its README section, the report and the slides. Settings at the edge
//! (folds = the number of distinct rows) must not panic either.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use customer_intel::findings::Findings;
use customer_intel::pipeline::{self, BuildOptions};
use customer_intel::settings::Settings;
use customer_intel::tracking::Tracking;

use common::{assert_close, bundled_csv};

/// The bundled table as rows of fields (header first).
fn bundled_rows() -> Vec<Vec<String>> {
    std::fs::read_to_string(bundled_csv())
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Writes `rows` (header first) as a CSV file in `dir`.
fn write(dir: &Path, name: &str, rows: &[Vec<String>]) -> PathBuf {
    let p = dir.join(name);
    let text: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
    std::fs::write(&p, text.join("\n") + "\n").unwrap();
    p
}

/// The bundled table with `edit` applied to every data row.
fn edited(edit: impl Fn(&mut Vec<String>)) -> Vec<Vec<String>> {
    let mut rows = bundled_rows();
    for r in rows.iter_mut().skip(1) {
        edit(r);
    }
    rows
}

/// What a build of one table produced.
struct Built {
    findings: Findings,
    readme: String,
    report: String,
    slides: String,
}

/// Builds `data` into a fresh folder with a copy of the README; panics (failing the test) on
/// any error, printing its cause chain.
fn build(dir: &Path, data: &Path, settings: Settings) -> Built {
    let readme = dir.join("README.md");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"),
        &readme,
    )
    .unwrap();
    let out = dir.join("out");
    let opts = BuildOptions {
        data: data.to_path_buf(),
        out_dir: out.clone(),
        readme: Some(readme.clone()),
        settings,
        tracking: Tracking::Off,
        ..BuildOptions::default()
    };
    let summary = match pipeline::build(&opts, &mut |_| {}) {
        Ok(s) => s,
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!("\n  caused by: {s}"));
                src = s.source();
            }
            panic!("build of {} failed: {msg}", data.display());
        }
    };
    Built {
        findings: summary.findings,
        readme: std::fs::read_to_string(&readme).unwrap(),
        report: std::fs::read_to_string(out.join("index.html")).unwrap(),
        slides: std::fs::read_to_string(out.join("slides.html")).unwrap(),
    }
}

fn quick() -> Settings {
    let mut s = Settings::default();
    s.repeats = 1;
    s
}

/// Every analysis that did not run is named with a reason in the README, report and slides.
fn assert_reasons_shown(b: &Built) {
    let not_run = customer_intel::analysis::not_run(&b.findings);
    for n in &not_run {
        assert!(!n.reason.trim().is_empty(), "{}: empty reason", n.name);
        // The reason as HTML-escaped text (apostrophes and quotes change in HTML).
        let head: String = n.reason.chars().take(30).collect();
        assert!(b.readme.contains(&head), "README lacks reason {head:?}");
        let html_head = head.replace('&', "&amp;").replace('<', "&lt;");
        if !html_head.contains(['\'', '"']) {
            assert!(b.report.contains(&html_head), "report lacks {html_head:?}");
            assert!(b.slides.contains(&html_head), "slides lack {html_head:?}");
        }
    }
    if !not_run.is_empty() {
        assert!(b.slides.contains("What this table could not answer"));
    }
}

#[test]
fn one_two_and_identical_rows_build_and_say_what_could_not_run() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = bundled_rows();
    let same: Vec<Vec<String>> = std::iter::once(rows[0].clone())
        .chain((1..=10).map(|i| {
            let mut r = rows[1].clone();
            r[0] = i.to_string();
            r
        }))
        .collect();
    for (name, table, expect_rows) in [
        ("one.csv", rows[..2].to_vec(), 1),
        ("two.csv", rows[..3].to_vec(), 2),
        ("same.csv", same, 10),
    ] {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let data = write(&dir, name, &table);
        let b = build(&dir, &data, quick());
        let f = &b.findings;
        assert_eq!(f.dataset.rows, expect_rows, "{name}");
        // Below every supervised and clustering minimum: each says so.
        assert!(f.regression.skipped.is_some(), "{name}");
        // One class of the growth label (too few rows, or every row the same): it says so.
        let e = f.classification.error.as_deref().unwrap_or_default();
        assert!(e.contains("needs both classes"), "{name}: {e}");
        assert!(f.segmentation.skipped.is_some(), "{name}");
        let rob = f.robustness.skipped.as_deref().unwrap_or_default();
        assert!(rob.contains("distinct rows"), "{name}: {rob}");
        if f.dataset.distinct_rows < 2 {
            let d = f.drift.skipped.as_deref().unwrap_or_default();
            assert!(d.contains("at least 2 distinct rows"), "{name}: {d}");
        }
        assert!(f.drift.skipped.is_some() || f.drift.policies.len() == 3);
        assert_reasons_shown(&b);
        assert!(b.readme.contains("could not run"), "{name}");
        // The saved models could not be fitted: a note says why, no model file is written.
        let models = dir.join("out").join("models");
        assert!(models.join("NOT_SAVED.txt").exists(), "{name}");
        assert!(!models.join("spend.json").exists(), "{name}");
    }
}

#[test]
fn the_bundled_table_without_east_rows_builds_every_analysis() {
    let reference = common::Reference::load("degenerate").get("").clone();
    let r = &reference["no_east"];
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = bundled_rows();
    rows.retain(|r| r[5] != "East");
    let data = write(tmp.path(), "no_east.csv", &rows);
    let b = build(tmp.path(), &data, quick());
    let f = &b.findings;
    assert_eq!(f.dataset.rows as u64, r["rows"].as_u64().unwrap());
    assert_eq!(
        f.dataset.distinct_rows as u64,
        r["distinct_rows"].as_u64().unwrap()
    );
    for p in &f.eda.numeric {
        assert_close(p.mean, r["mean"][&p.column].as_f64().unwrap(), 1e-12);
        assert_close(p.sd, r["sd"][&p.column].as_f64().unwrap(), 1e-10);
    }
    let east = f.dataset.category_counts.iter().find(|(l, _)| l == "East");
    assert!(east.is_none_or(|(_, c)| *c == 0), "{east:?}");
    // It was a panic in the drift simulation ("the reference model fits"); now every analysis runs.
    assert!(
        customer_intel::analysis::not_run(f).is_empty(),
        "{:?}",
        customer_intel::analysis::not_run(f)
    );
    assert_eq!(f.drift.policies.len(), 3);
    assert!(f.drift.setup.reference_rmse.is_finite() && f.drift.setup.reference_rmse > 0.0);
}

#[test]
fn one_region_and_a_constant_column_build() {
    let tmp = tempfile::tempdir().unwrap();
    let one_region = edited(|r| r[5] = "North".into());
    let constant = edited(|r| r[4] = "5.0".into());
    for (name, table) in [("one_region.csv", one_region), ("constant.csv", constant)] {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let data = write(&dir, name, &table);
        let b = build(&dir, &data, quick());
        let f = &b.findings;
        assert_eq!(f.dataset.rows, 238, "{name}");
        assert_reasons_shown(&b);
        let loyalty = f
            .eda
            .numeric
            .iter()
            .find(|p| p.column == "loyalty_score")
            .unwrap();
        match name {
            "one_region.csv" => {
                assert_eq!(
                    f.dataset
                        .category_counts
                        .iter()
                        .filter(|(_, c)| *c > 0)
                        .count(),
                    1
                );
                // The drift model drops the region columns no training row has.
                assert!(f.drift.skipped.is_none(), "{:?}", f.drift.skipped);
                assert_eq!(f.drift.policies.len(), 3);
            }
            _ => assert_eq!(loyalty.sd, 0.0),
        }
    }
}

#[test]
fn as_many_folds_as_distinct_rows_does_not_panic() {
    // folds = the number of distinct rows was an ndarray panic (an empty test fold).
    let tmp = tempfile::tempdir().unwrap();
    let rows = bundled_rows();
    let data = write(tmp.path(), "first40.csv", &rows[..41]);
    let distinct = customer_intel::data::load(&data).unwrap().n_groups;
    assert!((2..=50).contains(&distinct), "{distinct}");
    let mut s = quick();
    s.folds = distinct;
    s.classification.repeats = Some(1);
    let b = build(tmp.path(), &data, s);
    assert_eq!(b.findings.dataset.distinct_rows, distinct);
    assert_reasons_shown(&b);
}

#[test]
fn the_binary_exits_0_on_a_one_row_table_without_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = bundled_rows();
    let data = write(tmp.path(), "one.csv", &rows[..2]);
    let out = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["build", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let findings = std::fs::read_to_string(tmp.path().join("out/findings.json")).unwrap();
    assert!(findings.contains("\"skipped\""));
}

#[test]
fn an_income_of_1e300_is_refused_at_load_naming_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = bundled_rows();
    rows[3][2] = "1e300".into();
    let data = write(tmp.path(), "huge.csv", &rows);
    let err = customer_intel::data::load(&data).unwrap_err().to_string();
    assert!(err.contains("line 4"), "{err}");
    assert!(
        err.contains("annual_income") && err.contains("1e300"),
        "{err}"
    );
    assert!(err.contains("at most 1e15"), "{err}");
}

#[test]
fn a_ramp_with_one_key_keeps_the_other_default_and_huge_repeats_are_refused() {
    let s = Settings::from_toml(
        "[drift.scenario.spend_income_slope]\nend = 4.0\n",
        Path::new("s.toml"),
    )
    .unwrap();
    assert_eq!(s.drift.scenario.spend_income_slope.end, 4.0);
    assert_eq!(
        s.drift.scenario.spend_income_slope.onset,
        Settings::default().drift.scenario.spend_income_slope.onset
    );
    assert_eq!(
        s.drift.scenario.income_scale,
        Settings::default().drift.scenario.income_scale
    );
    let unknown = Settings::from_toml(
        "[drift.scenario.young_share]\nonsett = 3\n",
        Path::new("s.toml"),
    );
    assert!(unknown.unwrap_err().to_string().contains("onsett"));
    let e = match Settings::from_toml("repeats = 1000000000\n", Path::new("s.toml")) {
        Err(e) => e.to_string(),
        Ok(s) => s.check().unwrap_err().to_string(),
    };
    assert!(e.contains("repeats") && e.contains("1000000000"), "{e}");
}

#[test]
fn a_header_name_with_a_stray_space_is_the_column_it_names() {
    // Was `not found: "purchase_amount" not found` (polars kept the untrimmed name).
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = bundled_rows();
    rows[0][3] = "purchase_amount ".into();
    let data = write(tmp.path(), "space.csv", &rows);
    let ds = customer_intel::data::load(&data).unwrap();
    let bundled = common::bundled();
    assert_eq!(ds.n_rows(), 238);
    assert_eq!(ds.target(), bundled.target());
}
