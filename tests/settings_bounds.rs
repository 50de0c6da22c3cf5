//! Every settings value is checked when settings load: for every numeric key of the default
//! settings, a value far out of range, and for every table a misspelt key, make `report validate`
//! exit 2 with a message naming the key, before any output is written.

use std::path::Path;
use std::process::Command;

use customer_intel::settings::Settings;

/// Dotted paths of every numeric leaf (integers, floats, and numbers inside arrays by index).
fn numeric_leaves(prefix: &str, v: &toml::Value, out: &mut Vec<(String, bool)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                numeric_leaves(&p, x, out);
            }
        }
        toml::Value::Integer(_) => out.push((prefix.to_string(), true)),
        toml::Value::Float(_) => out.push((prefix.to_string(), false)),
        toml::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                if x.is_float() || x.is_integer() {
                    out.push((format!("{prefix}[{i}]"), x.is_integer()));
                }
            }
        }
        _ => {}
    }
}

/// Sets the leaf at `path` (dots and one optional `[i]`) to `value`.
fn set(root: &mut toml::Value, path: &str, value: toml::Value) {
    let (path, index) = match path.split_once('[') {
        Some((p, i)) => (p, Some(i.trim_end_matches(']').parse::<usize>().unwrap())),
        None => (path, None),
    };
    let mut cur = root;
    for k in path.split('.') {
        cur = cur.get_mut(k).unwrap();
    }
    match index {
        Some(i) => cur.as_array_mut().unwrap()[i] = value,
        None => *cur = value,
    }
}

fn validate(dir: &Path, text: &str) -> (i32, String) {
    let file = dir.join("settings.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--settings"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let (code, msg) = (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(
        code == 0 || !out.exists(),
        "a rejected settings file must write nothing: {msg}"
    );
    (code, msg)
}

#[test]
fn every_numeric_setting_out_of_range_exits_2_naming_its_key() {
    let defaults = toml::Value::try_from(Settings::default()).unwrap();
    let mut leaves = Vec::new();
    numeric_leaves("", &defaults, &mut leaves);
    // The seed takes any value and the roles describe the table (a range's maximum may be
    // anything); every other value has a bound below 1e12.
    leaves.retain(|(k, _)| k != "seed" && !k.starts_with("roles."));
    assert!(leaves.len() >= 60, "only {} numeric keys", leaves.len());
    let dir = tempfile::tempdir().unwrap();
    for (key, integer) in &leaves {
        let mut v = defaults.clone();
        let huge = if *integer {
            toml::Value::Integer(1_000_000_000_000)
        } else {
            toml::Value::Float(1e15)
        };
        set(&mut v, key, huge);
        let (code, msg) = validate(dir.path(), &toml::to_string(&v).unwrap());
        assert_eq!(code, 2, "{key}: {msg}");
        // Range checks name the dotted key; a value too large for the field's integer type is
        // refused by the TOML reader, which names the line and shows `key = value`.
        let bare = key.split('[').next().unwrap();
        let last = bare.rsplit('.').next().unwrap();
        assert!(
            msg.contains(bare) || (msg.contains("line ") && msg.contains(&format!("{last} = "))),
            "{key}: message does not name the key: {msg}"
        );
    }
}

#[test]
fn a_misspelt_key_in_any_table_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for table in [
        "eda",
        "features",
        "regression",
        "classification",
        "segmentation",
        "robustness",
        "drift",
    ] {
        let (code, msg) = validate(dir.path(), &format!("[{table}]\nfoldz = 3\n"));
        assert_eq!(code, 2, "{table}: {msg}");
        assert!(msg.contains("foldz"), "{table}: {msg}");
    }
}

#[test]
fn ordinary_values_at_the_bounds_pass() {
    let mut s = Settings::default();
    s.regression.inner_folds = 2;
    s.robustness.cv_repeats = 1;
    s.segmentation.k_max = 50;
    assert!(s.check().is_ok());
    s.regression.inner_folds = 1;
    let e = s.check().unwrap_err().to_string();
    assert!(
        e.contains("regression.inner_folds") && e.contains("= 1") && e.contains("2 to 20"),
        "{e}"
    );
}

#[test]
fn a_bound_set_by_another_key_names_that_key_too() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key, other) in [
        (
            "[drift]\nbatches = 3\ntrain_window = 4\n",
            "drift.train_window",
            "drift.batches",
        ),
        (
            "[segmentation]\nk_min = 6\nk_max = 5\n",
            "segmentation.k_max",
            "segmentation.k_min",
        ),
        (
            "folds = 20\n[drift]\nreference_rows = 150\n",
            "drift.reference_rows",
            "folds",
        ),
    ] {
        let (code, msg) = validate(dir.path(), text);
        assert_eq!(code, 2, "{text}: {msg}");
        assert!(
            msg.contains(&format!("`{key}`")) && msg.contains(&format!("`{other}`")),
            "{text}: {msg}"
        );
    }
}

/// A year shorter than every default onset is allowed (the onsets are not tied to the year's
/// length), and the report then says that nothing drifts instead of naming onsets that never come.
#[test]
fn a_year_shorter_than_the_onsets_builds_and_says_nothing_drifts() {
    let dir = tempfile::tempdir().unwrap();
    let (code, msg) = validate(dir.path(), "[drift]\nbatches = 2\n");
    assert_eq!(code, 0, "{msg}");
    let html = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    assert!(
        html.contains("No shift starts within the 2 batches"),
        "drift text missing"
    );
    assert!(
        !html.contains("From batch 4"),
        "an onset after the year is described"
    );
    assert!(html.contains("A simulated production period: 2 monthly batches"));
    let (code, _) = validate(dir.path(), "[drift]\nbatches = 12\n");
    assert_eq!(code, 0);
    let html = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    assert!(html.contains("From batch 4 incomes scale up") && !html.contains("No shift starts"));
    assert!(html.contains("A simulated production year: 12 monthly batches"));
}
