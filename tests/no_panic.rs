//! Property tests (issue 20): mutated CSV tables, settings files and saved model files never
//! make the library panic. A build either succeeds or fails with a bad-input error (the
//! binary's exit 2) with a message, and a failed build leaves the existing outputs untouched;
//! scoring with a damaged (or damaged and re-sealed) model folder succeeds or is refused with a
//! message.
//!
//! The test command runs a bounded number of cases per property (12); the fuzz command runs
//! more: `PROPTEST_CASES=500 cargo test --release --test no_panic`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use customer_intel::models;
use customer_intel::pipeline::{self, BuildOptions, PipelineError};
use customer_intel::score::{self, ScoreOptions};
use customer_intel::settings::Settings;
use customer_intel::tracking::Tracking;
use proptest::prelude::*;

use common::bundled_csv;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Cell values that have broken (or could break) a reader or an analysis.
const NASTY: &[&str] = &[
    "",
    " ",
    "NA",
    "null",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e300",
    "-1e300",
    "1e15",
    "1e16",
    "0",
    "-0",
    "-1",
    "0.5",
    "120",
    "121",
    "10.5",
    "999999999999",
    "\"",
    "\"\"",
    "\"300 \"",
    "\"300\" ",
    "abc",
    "North",
    "east",
    " West ",
    "Pluto",
    "\u{00e9}",
    "1,5",
    "1;5",
    "\t",
];

#[derive(Debug, Clone)]
enum CsvEdit {
    /// Replace cell (row, column) with a nasty value.
    Cell(usize, usize, usize),
    /// Delete a data row.
    DeleteRow(usize),
    /// Copy a data row over another (keeps the id unique: only the other fields).
    CopyRow(usize, usize),
    /// Keep only the first n data rows.
    Truncate(usize),
    /// Set a whole column to one nasty value.
    Column(usize, usize),
}

fn csv_edit() -> impl Strategy<Value = CsvEdit> {
    prop_oneof![
        4 => (0..238usize, 0..7usize, 0..NASTY.len()).prop_map(|(r, c, v)| CsvEdit::Cell(r, c, v)),
        1 => (0..238usize).prop_map(CsvEdit::DeleteRow),
        1 => (0..238usize, 0..238usize).prop_map(|(a, b)| CsvEdit::CopyRow(a, b)),
        1 => (1..12usize).prop_map(CsvEdit::Truncate),
        1 => (1..7usize, 0..NASTY.len()).prop_map(|(c, v)| CsvEdit::Column(c, v)),
    ]
}

fn apply(rows: &mut Vec<Vec<String>>, e: &CsvEdit) {
    let n = rows.len() - 1;
    if n == 0 {
        return;
    }
    match *e {
        CsvEdit::Cell(r, c, v) => rows[1 + r % n][c] = NASTY[v].to_string(),
        CsvEdit::DeleteRow(r) if n > 1 => {
            rows.remove(1 + r % n);
        }
        CsvEdit::DeleteRow(_) => {}
        CsvEdit::CopyRow(a, b) => {
            let src = rows[1 + a % n].clone();
            let dst = &mut rows[1 + b % n];
            dst[1..].clone_from_slice(&src[1..]);
        }
        CsvEdit::Truncate(k) => rows.truncate(1 + k.min(n)),
        CsvEdit::Column(c, v) => {
            for r in rows.iter_mut().skip(1) {
                r[c] = NASTY[v].to_string();
            }
        }
    }
}

fn bundled_rows() -> Vec<Vec<String>> {
    std::fs::read_to_string(bundled_csv())
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Settings that keep a build under a second on the bundled table.
fn quick() -> Settings {
    let mut s = Settings::default();
    s.repeats = 1;
    s
}

const SENTINEL: &str = "{\"previous\": \"build\"}\n";

/// Builds `data` with `settings` into a folder holding an earlier `findings.json`; returns the
/// outcome. A failure must be a bad-input error with a message and leave that file as it was.
fn build_checked(dir: &Path, data: &Path, settings: Settings) -> Result<(), String> {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("findings.json"), SENTINEL).unwrap();
    let opts = BuildOptions {
        data: data.to_path_buf(),
        out_dir: out.clone(),
        readme: None,
        settings,
        tracking: Tracking::Off,
        ..BuildOptions::default()
    };
    match pipeline::build(&opts, &mut |_| {}) {
        Ok(_) => {
            let f = std::fs::read_to_string(out.join("findings.json")).unwrap();
            assert_ne!(f, SENTINEL, "a successful build writes its findings");
            Ok(())
        }
        Err(e) => {
            assert!(
                matches!(e, PipelineError::Data(_) | PipelineError::Settings(_)),
                "not a bad-input error: {e:?}"
            );
            let msg = e.to_string();
            assert!(!msg.trim().is_empty());
            assert_eq!(
                std::fs::read_to_string(out.join("findings.json")).unwrap(),
                SENTINEL,
                "a failed build changed the outputs"
            );
            let leftovers: Vec<_> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != "findings.json")
                .collect();
            assert!(leftovers.is_empty(), "partial output: {leftovers:?}");
            Err(msg)
        }
    }
}

/// A one-key settings file (with one repeat, so a build is quick): `key = value` at the top
/// level when `table` is empty, else under `[table]`.
fn settings_toml(table: &str, key: &str, value: &str) -> String {
    if table.is_empty() {
        format!("repeats = 1\n{key} = {value}\n")
    } else {
        format!("repeats = 1\n[{table}]\n{key} = {value}\n")
    }
}

/// Every key × value pair of the property test below, loaded and checked without a build (the
/// build is what makes the property test sample): a refusal names the file or the key. This is
/// where a bound tied to another key's default (`drift.batches = 2` against the default region
/// onset) once named only the other key.
#[test]
fn every_settings_mutation_loads_or_names_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.toml");
    for (table, k) in SETTINGS_KEYS {
        for value in SETTINGS_VALUES {
            std::fs::write(&path, settings_toml(table, k, value)).unwrap();
            if let Err(e) = Settings::load(&path) {
                let msg = e.to_string();
                assert!(
                    msg.contains("s.toml") || msg.contains(k),
                    "{table}.{k} = {value}: {msg}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_tables_build_or_fail_with_a_message(edits in prop::collection::vec(csv_edit(), 1..4)) {
        let tmp = tempfile::tempdir().unwrap();
        let mut rows = bundled_rows();
        for e in &edits {
            apply(&mut rows, e);
        }
        let text: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
        let data = tmp.path().join("t.csv");
        std::fs::write(&data, text.join("\n")).unwrap();
        let _ = build_checked(tmp.path(), &data, quick());
    }

    #[test]
    fn mutated_settings_load_check_and_build_or_fail_with_a_message(
        key in 0..SETTINGS_KEYS.len(),
        value in 0..SETTINGS_VALUES.len(),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let (table, k) = SETTINGS_KEYS[key];
        let path = tmp.path().join("s.toml");
        std::fs::write(&path, settings_toml(table, k, SETTINGS_VALUES[value])).unwrap();
        match Settings::load(&path) {
            // A type error names the file; a value out of bounds names the key, value and range.
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("s.toml") || msg.contains(k), "{msg}");
            }
            Ok(s) => {
                let _ = build_checked(tmp.path(), &bundled_csv(), s);
            }
        }
    }

    #[test]
    fn damaged_model_files_score_or_are_refused(
        file in 0..3usize,
        at in any::<prop::sample::Index>(),
        kind in 0..REPLACEMENTS.len(),
        reseal in any::<bool>(),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("models");
        std::fs::create_dir_all(&dir).unwrap();
        let names = [models::SPEND_FILE, models::GROWTH_FILE, models::SEGMENTS_FILE];
        for n in names {
            std::fs::copy(model_dir().join(n), dir.join(n)).unwrap();
        }
        let target = dir.join(names[file]);
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
        let mut leaves = Vec::new();
        pointers(&v, String::new(), &mut leaves);
        // Leave the checksum itself alone: the point is the content.
        leaves.retain(|p| !p.ends_with("/content_sha256"));
        let p = at.get(&leaves).clone();
        if let Some(slot) = v.pointer_mut(&p) {
            *slot = serde_json::from_str(REPLACEMENTS[kind]).unwrap();
        }
        let mut bytes = serde_json::to_vec_pretty(&v).unwrap();
        bytes.push(b'\n');
        if reseal {
            bytes = models::seal(bytes);
        }
        std::fs::write(&target, bytes).unwrap();
        let out = tmp.path().join("scores.csv");
        let r = score::score(&ScoreOptions {
            input: bundled_csv(),
            models: dir.clone(),
            out: out.clone(),
            settings: Settings::default(),
        });
        match r {
            Ok(_) => prop_assert!(out.exists()),
            Err(e) => {
                prop_assert!(!e.to_string().trim().is_empty());
                prop_assert!(!out.exists(), "a refused scoring wrote {}", out.display());
                if !reseal {
                    // Unless the edit changed nothing, the checksum or the structure refuses it.
                    let msg = e.to_string();
                    prop_assert!(msg.contains(names[file]) || msg.contains("models"), "{msg}");
                }
            }
        }
    }
}

/// Settings keys (table, key) across every table.
const SETTINGS_KEYS: &[(&str, &str)] = &[
    ("", "folds"),
    ("", "seed"),
    ("", "sample_cap"),
    ("regression", "inner_folds"),
    ("regression", "permutation_repeats"),
    ("regression", "bootstrap_resamples"),
    ("regression", "penalty_grid"),
    ("classification", "repeats"),
    ("segmentation", "k_min"),
    ("segmentation", "k_max"),
    ("segmentation", "n_init"),
    ("robustness", "levels"),
    ("robustness", "cv_folds"),
    ("drift", "batches"),
    ("drift", "psi_bins"),
    ("drift", "reference_rows"),
    ("drift.scenario.spend_income_slope", "end"),
    ("drift.scenario.income_scale", "onset"),
    ("eda", "outlier_iqr"),
    ("features", "growth_quantile"),
];

/// TOML values of every kind, ordinary and extreme.
const SETTINGS_VALUES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "60",
    "61",
    "-1",
    "1000000000",
    "0.5",
    "-0.5",
    "1e300",
    "inf",
    "-inf",
    "nan",
    "\"text\"",
    "[]",
    "[0.0]",
    "[0.1, 1.0]",
    "true",
];

/// JSON values to put in place of a model file's leaf.
const REPLACEMENTS: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1000000000",
    "0.5",
    "\"\"",
    "\"x\"",
    "null",
    "[]",
    "{}",
    "true",
];

/// JSON pointers of every leaf (and every array) of `v`.
fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        serde_json::Value::Array(a) => {
            out.push(at.clone());
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

/// The models of one build of the bundled table, shared by the cases.
fn model_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ci-no-panic-models-{}", std::process::id()));
        let opts = BuildOptions {
            out_dir: dir.clone(),
            data: bundled_csv(),
            readme: None,
            settings: quick(),
            tracking: Tracking::Off,
            ..BuildOptions::default()
        };
        pipeline::build(&opts, &mut |_| {}).expect("the bundled table builds");
        dir.join(models::MODELS_DIR)
    })
}
