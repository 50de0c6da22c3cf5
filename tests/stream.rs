//! The streamed build (`customer_intel::stream`): its exact aggregates against pandas, numpy and
//! statsmodels (tests/reference/stream.py), its equality with a whole-table build on every exact
//! field and on the analyses that share the sample, and its errors on bad input.

mod common;

use std::path::{Path, PathBuf};

use common::{Reference, assert_close, bundled_csv};
use customer_intel::data::{self, ANALYSIS_SAMPLE};
use customer_intel::findings::Findings;
use customer_intel::pipeline::{self, BuildOptions, PipelineError};
use customer_intel::settings::Settings;
use customer_intel::stream;
use customer_intel::tracking::Tracking;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ci-stream-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn build(
    data: &Path,
    out: &Path,
    settings: &Settings,
    stream_above: usize,
) -> Result<Findings, PipelineError> {
    let opts = BuildOptions {
        data: data.to_path_buf(),
        out_dir: out.to_path_buf(),
        readme: None,
        tracking: Tracking::Off,
        settings: settings.clone(),
        stream_above_rows: stream_above,
        stream_chunk_rows: 64,
        ..BuildOptions::default()
    };
    pipeline::build(&opts, &mut |_| {}).map(|s| s.findings)
}

/// The reference script's 1,200-row table (900 distinct rows) as CSV lines.
fn generated_lines(r: &Reference) -> Vec<String> {
    let t = r.get("/generated_table");
    let header: Vec<&str> = t["header"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut lines = vec![header.join(",")];
    for row in t["rows"].as_array().unwrap() {
        let cells: Vec<&str> = row
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        lines.push(cells.join(","));
    }
    lines
}

fn write_lines(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

fn small_cap() -> Settings {
    Settings {
        sample_cap: 150,
        ..Settings::default()
    }
}

/// The streamed build's exact figures equal pandas/numpy/statsmodels on the whole table.
fn check_exact(f: &Findings, r: &Reference, key: &str) {
    let at = |k: &str| format!("/{key}/{k}");
    let columns = r.strings("/columns");
    assert!(f.dataset.streamed.is_some(), "the build was streamed");
    assert_eq!(f.dataset.rows, r.usize(&at("rows")));
    assert_eq!(f.dataset.distinct_rows, r.usize(&at("distinct_rows")));
    assert_eq!(f.dataset.largest_group, r.usize(&at("largest_group")));
    let sizes = r.usize_pairs(&at("group_size_counts"));
    assert_eq!(f.eda.duplicates.group_size_counts, sizes);
    let levels: Vec<usize> = f.dataset.category_counts.iter().map(|(_, n)| *n).collect();
    assert_eq!(levels, r.usizes(&at("level_rows")));
    for (j, c) in columns.iter().enumerate() {
        let p = f.eda.numeric.iter().find(|p| &p.column == c).unwrap();
        assert_eq!(p.count, f.dataset.rows);
        assert_close(p.mean, r.f64s(&at("mean"))[j], 1e-12);
        assert_close(p.sd, r.f64s(&at("sd"))[j], 1e-10);
        assert_eq!(p.min, r.f64s(&at("min"))[j]);
        assert_eq!(p.max, r.f64s(&at("max"))[j]);
        assert_close(p.skewness, r.f64s(&at("skewness"))[j], 1e-8);
        assert_close(p.kurtosis, r.f64s(&at("kurtosis"))[j], 1e-8);
    }
    let pearson = r.f64ss(&at("pearson"));
    let pos = |c: &str| {
        f.eda
            .correlation
            .columns
            .iter()
            .position(|x| x == c)
            .unwrap()
    };
    for (a, ca) in columns.iter().enumerate() {
        for (b, cb) in columns.iter().enumerate() {
            assert_close(
                f.eda.correlation.pearson[pos(ca)][pos(cb)],
                pearson[a][b],
                1e-10,
            );
        }
    }
    for (v, want) in f.eda.collinearity.vif.iter().zip(r.f64s(&at("vif"))) {
        assert_close(v.vif, want, 1e-8);
    }
    let means = r.f64ss(&at("level_means"));
    for (level, want) in f.eda.groups.levels.iter().zip(means) {
        for (got, want) in level.mean.iter().zip(want) {
            assert_close(*got, want, 1e-12);
        }
    }
}

#[test]
fn streamed_aggregates_match_pandas_on_the_bundled_and_a_generated_table() {
    let r = Reference::load("stream");
    let dir = scratch("pandas");
    let f = build(
        &bundled_csv(),
        &dir.join("bundled"),
        &Settings::default(),
        0,
    )
    .unwrap();
    check_exact(&f, &r, "bundled");
    let csv = write_lines(&dir, "generated.csv", &generated_lines(&r));
    let f = build(&csv, &dir.join("generated"), &small_cap(), 0).unwrap();
    check_exact(&f, &r, "generated");
    // Every row was assigned a segment in the second pass.
    let scored = f.dataset.streamed.as_ref().unwrap().scored.clone().unwrap();
    assert_eq!(scored.rows, 1200);
    assert_eq!(
        scored.segment_rows.iter().map(|(_, n)| n).sum::<usize>(),
        1200
    );
    assert_eq!(
        f.segmentation
            .personas
            .iter()
            .map(|p| p.size)
            .sum::<usize>(),
        1200
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn streamed_build_equals_the_whole_table_build_and_draws_the_same_sample() {
    let r = Reference::load("stream");
    let dir = scratch("equal");
    let csv = write_lines(&dir, "generated.csv", &generated_lines(&r));
    let settings = small_cap();
    // The sample drawn in bounded memory is the whole-table sample, row for row.
    let whole = data::load(&csv).unwrap();
    let rows = whole
        .sample_rows(150, settings.seed, ANALYSIS_SAMPLE)
        .unwrap();
    let expect = whole.subset(&rows);
    let got = stream::read_sample(&csv, &settings, 64).unwrap();
    assert!(
        got.n_rows() > 140 && got.n_rows() <= 150,
        "{}",
        got.n_rows()
    );
    assert_eq!(got.ids, expect.ids);
    assert_eq!(got.lines, expect.lines);
    assert_eq!(got.numeric, expect.numeric);
    assert_eq!(got.category, expect.category);
    assert_eq!(got.groups, expect.groups);

    let m = build(&csv, &dir.join("memory"), &settings, usize::MAX).unwrap();
    let s = build(&csv, &dir.join("streamed"), &settings, 0).unwrap();
    assert!(m.dataset.streamed.is_none() && s.dataset.streamed.is_some());
    let json = |v: &dyn erased::Ser| v.value();
    // The analyses that share the sample give identical findings.
    assert_eq!(json(&s.regression), json(&m.regression));
    assert_eq!(json(&s.classification), json(&m.classification));
    assert_eq!(json(&s.robustness.sample), json(&m.robustness.sample));
    assert_eq!(s.regression.sample.as_ref().unwrap().table_groups, 900);
    // Every exact field.
    assert_eq!(json(&s.provenance.data), json(&m.provenance.data));
    for (a, b) in [
        (s.dataset.rows, m.dataset.rows),
        (s.dataset.distinct_rows, m.dataset.distinct_rows),
        (s.dataset.duplicate_rows, m.dataset.duplicate_rows),
        (s.dataset.largest_group, m.dataset.largest_group),
        (
            s.eda.duplicates.groups_with_copies,
            m.eda.duplicates.groups_with_copies,
        ),
        (
            s.eda.duplicates.split.test_rows,
            m.eda.duplicates.split.test_rows,
        ),
    ] {
        assert_eq!(a, b);
    }
    assert_eq!(s.dataset.category_counts, m.dataset.category_counts);
    assert_eq!(json(&s.eda.category), json(&m.eda.category));
    assert_eq!(
        s.eda.duplicates.group_size_counts,
        m.eda.duplicates.group_size_counts
    );
    // The twin simulation ran on the same sample in both builds.
    let (ts, tm) = (&s.eda.duplicates.split, &m.eda.duplicates.split);
    assert_eq!(
        (ts.first_split, ts.mean, ts.min, ts.max),
        (tm.first_split, tm.mean, tm.min, tm.max)
    );
    assert_close(ts.expected, tm.expected, 1e-12);
    for (a, b) in s.eda.numeric.iter().zip(&m.eda.numeric) {
        assert_eq!((a.count, a.min, a.max), (b.count, b.min, b.max));
        for (x, y) in [
            (a.mean, b.mean),
            (a.sd, b.sd),
            (a.skewness, b.skewness),
            (a.kurtosis, b.kurtosis),
        ] {
            assert!(
                (x - y).abs() <= 1e-10 * y.abs().max(1e-3),
                "{}: {x} vs {y}",
                a.column
            );
        }
    }
    for (ra, rb) in s
        .eda
        .correlation
        .pearson
        .iter()
        .zip(&m.eda.correlation.pearson)
    {
        for (x, y) in ra.iter().zip(rb) {
            assert!((x - y).abs() <= 1e-12, "{x} vs {y}");
        }
    }
    for (a, b) in s.eda.collinearity.vif.iter().zip(&m.eda.collinearity.vif) {
        assert_close(a.vif, b.vif, 1e-9);
    }
    assert_close(
        s.eda.collinearity.condition_number,
        m.eda.collinearity.condition_number,
        1e-9,
    );
    for (a, b) in s.eda.groups.levels.iter().zip(&m.eda.groups.levels) {
        assert_eq!((a.rows, a.share), (b.rows, b.share));
        for (x, y) in a.mean.iter().zip(&b.mean) {
            assert_close(*x, *y, 1e-12);
        }
    }

    // The same table as Parquet streams to the same findings (data rows instead of lines).
    let pq = dir.join("generated.parquet");
    data::write_parquet(&whole, &pq).unwrap();
    let p = build(&pq, &dir.join("parquet"), &settings, 0).unwrap();
    assert_eq!(json(&p.regression), json(&s.regression));
    assert_eq!(json(&p.classification), json(&s.classification));
    assert_eq!(json(&p.eda.numeric), json(&s.eda.numeric));
    assert_eq!(json(&p.eda.correlation), json(&s.eda.correlation));
    assert_eq!(p.dataset.distinct_rows, 900);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Serialises any findings part to a JSON value for comparison.
mod erased {
    pub trait Ser {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

/// An output folder holding one file from an earlier build.
fn earlier_outputs(dir: &Path) -> PathBuf {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("findings.json"), "earlier build\n").unwrap();
    out
}

#[test]
fn bad_input_gives_the_whole_table_error_and_leaves_outputs_untouched() {
    let r = Reference::load("stream");
    let dir = scratch("bad");
    let mut lines = generated_lines(&r);
    let header: Vec<String> = lines[0].split(',').map(str::to_string).collect();
    let age = header.iter().position(|h| h == "age").unwrap();
    for l in [700usize, 1100] {
        let mut cells: Vec<String> = lines[l - 1].split(',').map(str::to_string).collect();
        cells[age] = "-3".into();
        lines[l - 1] = cells.join(",");
    }
    let csv = write_lines(&dir, "bad.csv", &lines);
    let out = earlier_outputs(&dir);
    let whole = build(&csv, &out, &small_cap(), usize::MAX)
        .unwrap_err()
        .to_string();
    let streamed = build(&csv, &out, &small_cap(), 0).unwrap_err();
    assert!(matches!(streamed, PipelineError::Data(_)));
    assert_eq!(streamed.to_string(), whole);
    assert!(
        whole.contains("line 700") && whole.contains("line 1100") && whole.contains("age"),
        "{whole}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("findings.json")).unwrap(),
        "earlier build\n"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_id_repeated_in_another_chunk_names_both_lines() {
    let r = Reference::load("stream");
    let dir = scratch("ids");
    let mut lines = generated_lines(&r);
    // Line 1000 takes the id of line 5 (chunks of 64 rows: far apart).
    let id5 = lines[4].split(',').next().unwrap().to_string();
    let rest: String = lines[999].split_once(',').unwrap().1.to_string();
    lines[999] = format!("{id5},{rest}");
    let csv = write_lines(&dir, "ids.csv", &lines);
    let out = earlier_outputs(&dir);
    let whole = build(&csv, &out, &small_cap(), usize::MAX).unwrap_err();
    let streamed = build(&csv, &out, &small_cap(), 0).unwrap_err();
    let PipelineError::Data(e) = &streamed else {
        panic!("{streamed}")
    };
    assert_eq!(e.violations().len(), 1);
    assert_eq!(e.violations()[0].line, 1000);
    assert!(
        e.violations()[0]
            .rule
            .contains(&format!("'{id5}' already appears on line 5"))
    );
    assert_eq!(streamed.to_string(), whole.to_string());
    assert_eq!(
        std::fs::read_to_string(out.join("findings.json")).unwrap(),
        "earlier build\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_build_streams_only_above_the_threshold() {
    let (rows, how) = stream::estimate_rows(&bundled_csv()).unwrap();
    assert_eq!((rows, how), (238, "counted"));
    let opts = |n| BuildOptions {
        data: bundled_csv(),
        stream_above_rows: n,
        ..BuildOptions::default()
    };
    assert!(stream::stream_reason(&opts(238)).is_none());
    assert!(
        stream::stream_reason(&opts(237))
            .unwrap()
            .contains("about 238 rows")
    );
}

/// `report validate` on a file above the threshold runs pass 1 alone (chunks of 64 rows here)
/// and reports the profile a whole load gives, with the counts pandas finds
/// (tests/reference/stream.py); bad cells and a repeated id give the whole load's messages.
#[test]
fn streamed_validate_reports_the_whole_load_profile_and_errors() {
    let r = Reference::load("stream");
    let dir = scratch("validate");
    let generated = write_lines(&dir, "generated.csv", &generated_lines(&r));
    let opts = |data: &Path, above: usize| BuildOptions {
        data: data.to_path_buf(),
        stream_above_rows: above,
        stream_chunk_rows: 64,
        ..BuildOptions::default()
    };
    for (path, key) in [(bundled_csv(), "bundled"), (generated, "generated")] {
        assert!(stream::stream_reason(&opts(&path, 10)).is_some());
        let streamed = pipeline::validate(&opts(&path, 10)).unwrap();
        let whole = pipeline::validate(&opts(&path, usize::MAX)).unwrap();
        assert_eq!(streamed, whole, "{key}");
        let count = |k: &str| r.f64(&format!("/{key}/{k}")) as usize;
        assert_eq!(streamed.rows, count("rows"), "{key}");
        assert_eq!(streamed.distinct_rows, count("distinct_rows"), "{key}");
        assert_eq!(streamed.largest_group, count("largest_group"), "{key}");
    }
    // A negative age on line 700 and an id repeated on line 1000.
    let mut lines = generated_lines(&r);
    let header: Vec<String> = lines[0].split(',').map(str::to_string).collect();
    let age = header.iter().position(|h| h == "age").unwrap();
    let mut cells: Vec<String> = lines[699].split(',').map(str::to_string).collect();
    cells[age] = "-3".into();
    lines[699] = cells.join(",");
    let bad = write_lines(&dir, "bad.csv", &lines);
    let mut lines = generated_lines(&r);
    let id5 = lines[4].split(',').next().unwrap().to_string();
    let rest: String = lines[999].split_once(',').unwrap().1.to_string();
    lines[999] = format!("{id5},{rest}");
    let ids = write_lines(&dir, "ids.csv", &lines);
    for (path, want) in [
        (bad, "line 700".to_string()),
        (ids, format!("'{id5}' already appears on line 5")),
    ] {
        let whole = pipeline::validate(&opts(&path, usize::MAX))
            .unwrap_err()
            .to_string();
        let streamed = pipeline::validate(&opts(&path, 10)).unwrap_err();
        assert!(matches!(streamed, PipelineError::Data(_)), "{streamed}");
        assert_eq!(streamed.to_string(), whole);
        assert!(whole.contains(&want), "{whole}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
