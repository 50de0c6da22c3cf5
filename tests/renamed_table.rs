//! Reuse on another table: the bundled data with every column renamed and reordered, plus a
//! settings file mapping the new names to roles, must run end to end and give the same numbers,
//! reported under the new names.

mod common;

use std::path::Path;

use customer_intel::pipeline::{self, BuildOptions};
use customer_intel::settings::Settings;
use customer_intel::tracking::Tracking;

use common::bundled_csv;

const RENAME: [(&str, &str); 7] = [
    ("user_id", "cust_id"),
    ("age", "years"),
    ("annual_income", "income_usd"),
    ("purchase_amount", "spend_usd"),
    ("loyalty_score", "loyalty"),
    ("region", "area"),
    ("purchase_frequency", "visits"),
];

fn renamed(name: &str) -> String {
    RENAME
        .iter()
        .find(|(a, _)| *a == name)
        .map(|(_, b)| b.to_string())
        .unwrap_or_else(|| name.to_string())
}

/// Writes the bundled table with renamed columns in the order `visits, area, spend_usd, cust_id,
/// loyalty, income_usd, years`, and the settings file for it.
fn write_fixture(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let text = std::fs::read_to_string(bundled_csv()).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let order = [
        "purchase_frequency",
        "region",
        "purchase_amount",
        "user_id",
        "loyalty_score",
        "annual_income",
        "age",
    ];
    let idx: Vec<usize> = order
        .iter()
        .map(|c| header.iter().position(|h| h == c).unwrap())
        .collect();
    let mut out = order
        .iter()
        .map(|c| renamed(c))
        .collect::<Vec<_>>()
        .join(",");
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        out.push('\n');
        out.push_str(&idx.iter().map(|&i| f[i]).collect::<Vec<_>>().join(","));
    }
    let csv = dir.join("renamed.csv");
    std::fs::write(&csv, out).unwrap();

    // Settings: the bundled roles with every column name mapped.
    let mut s = Settings::default();
    let r = &mut s.roles;
    r.id = renamed(&r.id);
    r.id_aliases.clear();
    r.target = renamed(&r.target);
    r.category = renamed(&r.category);
    for list in [&mut r.numeric, &mut r.demographic, &mut r.label_inputs] {
        for c in list.iter_mut() {
            *c = renamed(c);
        }
    }
    r.ranges = std::mem::take(&mut r.ranges)
        .into_iter()
        .map(|(k, v)| (renamed(&k), v))
        .collect();
    r.units = std::mem::take(&mut r.units)
        .into_iter()
        .map(|(k, v)| (renamed(&k), v))
        .collect();
    let toml = dir.join("renamed.toml");
    std::fs::write(&toml, s.to_toml()).unwrap();
    (csv, toml)
}

/// Every number in a JSON value except the provenance block, sorted, rounded to 12 significant digits.
fn numbers(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Number(n) => out.push(format!("{:.11e}", n.as_f64().unwrap())),
        serde_json::Value::Array(a) => a.iter().for_each(|x| numbers(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                if k != "provenance" {
                    numbers(x, out);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn renamed_reordered_table_runs_end_to_end_with_the_same_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, toml) = write_fixture(tmp.path());
    let settings = Settings::load(&toml).unwrap();
    let opts = BuildOptions {
        data: csv,
        out_dir: tmp.path().join("out"),
        readme: None,
        templates: None,
        settings,
        tracking: Tracking::Off,
        ..BuildOptions::default()
    };
    let renamed_run = pipeline::build(&opts, &mut |_| {}).unwrap();
    let original_opts = BuildOptions {
        data: bundled_csv(),
        out_dir: tmp.path().join("orig"),
        readme: None,
        tracking: Tracking::Off,
        ..BuildOptions::default()
    };
    let original_run = pipeline::build(&original_opts, &mut |_| {}).unwrap();

    let a = serde_json::to_value(&renamed_run.findings).unwrap();
    let b = serde_json::to_value(&original_run.findings).unwrap();
    let (mut na, mut nb) = (Vec::new(), Vec::new());
    numbers(&a, &mut na);
    numbers(&b, &mut nb);
    na.sort();
    nb.sort();
    assert_eq!(
        na.len(),
        nb.len(),
        "the renamed run has a different shape of findings"
    );
    assert!(na == nb, "the renamed run computed different numbers");

    // The report speaks the user's names: no bundled column name survives anywhere in the outputs.
    let json = renamed_run.findings.to_json();
    for (old, new) in RENAME {
        if old == "age" || old == "region" {
            // Short words that also occur in prose ("average", "regional"): check quoted names only.
            assert!(
                !json.contains(&format!("\"{old}\"")),
                "findings still name '{old}'"
            );
        } else {
            assert!(!json.contains(old), "findings still name '{old}'");
        }
        assert!(
            json.contains(new) || old == "user_id",
            "findings never name '{new}'"
        );
    }
    for f in &renamed_run.files {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ["svg", "html", "md"].contains(&ext) {
            let text = std::fs::read_to_string(f).unwrap();
            for old in [
                "annual_income",
                "purchase_amount",
                "loyalty_score",
                "purchase_frequency",
            ] {
                assert!(!text.contains(old), "{} still names '{old}'", f.display());
            }
        }
    }
}

/// The renamed table's own build saves models under its names; `report score` with its
/// settings scores it with the same numbers as the bundled models score the bundled table, and
/// the bundled models refuse it.
#[test]
fn renamed_table_scores_with_its_own_models() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, toml) = write_fixture(tmp.path());
    let build = |data: std::path::PathBuf, settings: Settings, out: &str| {
        let opts = BuildOptions {
            data,
            out_dir: tmp.path().join(out),
            readme: None,
            templates: None,
            settings,
            tracking: Tracking::Off,
            ..BuildOptions::default()
        };
        pipeline::build(&opts, &mut |_| {}).unwrap();
        tmp.path().join(out).join("models")
    };
    let renamed_models = build(csv.clone(), Settings::load(&toml).unwrap(), "renamed");
    let bundled = bundled_csv();
    let bundled_models = build(bundled.clone(), Settings::default(), "orig");
    for f in ["spend.json", "growth.json", "segments.json"] {
        let text = std::fs::read_to_string(renamed_models.join(f)).unwrap();
        for old in [
            "annual_income",
            "purchase_amount",
            "loyalty_score",
            "purchase_frequency",
        ] {
            assert!(!text.contains(old), "{f} still names '{old}'");
        }
    }
    let run = |input: &Path, models: &Path, out: &Path, settings: Option<&Path>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_report"));
        c.arg("score")
            .arg("--input")
            .arg(input)
            .arg("--models")
            .arg(models)
            .arg("--out")
            .arg(out);
        if let Some(s) = settings {
            c.arg("--settings").arg(s);
        }
        c.output().unwrap()
    };
    let out_r = tmp.path().join("renamed-scores.csv");
    let o = run(&csv, &renamed_models, &out_r, Some(&toml));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out_b = tmp.path().join("bundled-scores.csv");
    let o = run(&bundled, &bundled_models, &out_b, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (r, b) = (
        std::fs::read_to_string(&out_r).unwrap(),
        std::fs::read_to_string(&out_b).unwrap(),
    );
    let (rh, rb) = r.split_once('\n').unwrap();
    let (bh, bb) = b.split_once('\n').unwrap();
    assert_eq!(
        rh,
        "cust_id,predicted_spend_usd,spend_usd_lower_90,spend_usd_upper_90,growth_potential_probability,growth_potential,segment,persona,action"
    );
    assert!(bh.starts_with("user_id,predicted_purchase_amount,"));
    // Persona names speak the band column's name ("years" against "age"): compare up to them.
    let upto_persona = |body: &str| -> Vec<String> {
        body.lines()
            .map(|l| l.splitn(8, ',').take(7).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(upto_persona(rb), upto_persona(bb));

    // The bundled models refuse the renamed table (its settings name other columns).
    let out_x = tmp.path().join("refused.csv");
    let o = run(&csv, &bundled_models, &out_x, Some(&toml));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("spend.json")
            && err.contains("roles.id is \"user_id\" in the model but \"cust_id\""),
        "{err}"
    );
    assert!(!out_x.exists());
}
