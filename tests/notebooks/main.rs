//! Notebook cross-check. Every notebook in `notebooks/` prints `CHECK <path>=<json>` lines for
//! its key numbers (see `customer_intel::display::check`); this test reads them from the
//! notebooks' saved outputs and compares each with the value at that path in the findings the
//! report computes now (the same `pipeline::analyze` that writes `report/findings.json`; the
//! freshness stage separately proves the committed `report/findings.json` equals it).
//!
//! By default it reads the committed notebooks. `tests/notebooks/run.sh` executes them first and
//! points `NOTEBOOKS_EXECUTED` at the executed copies: then the executed copies are checked and the
//! committed ones must carry exactly the outputs the execution produced.

use std::path::{Path, PathBuf};

use customer_intel::data;
use customer_intel::display::{agree, lookup, parse_check_line};
use customer_intel::pipeline::{self, DEFAULT_DATA};
use customer_intel::settings::Settings;
use serde_json::Value;

/// Relative tolerance for numbers: the notebooks compile the crate at another optimisation level.
const TOL: f64 = 1e-9;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn notebooks_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ipynb"))
        .collect();
    v.sort();
    v
}

fn read_json(p: &Path) -> Value {
    let text =
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", p.display()))
}

/// A notebook string field: nbformat stores multi-line text as a string or a list of lines.
fn joined(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

fn cells(nb: &Value) -> &[Value] {
    nb["cells"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The notebooks to check: the executed copies when run.sh provides them, else the committed ones.
fn checked_notebooks() -> Vec<PathBuf> {
    let committed = notebooks_in(&root().join("notebooks"));
    assert!(!committed.is_empty(), "no notebooks in notebooks/");
    match std::env::var_os("NOTEBOOKS_EXECUTED") {
        Some(dir) => {
            let executed = notebooks_in(Path::new(&dir));
            let names = |v: &[PathBuf]| {
                v.iter()
                    .map(|p| p.file_name().unwrap().to_owned())
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                names(&executed),
                names(&committed),
                "every committed notebook must have been executed"
            );
            executed
        }
        None => committed,
    }
}

#[test]
fn notebook_numbers_match_the_report() {
    let settings = Settings::default();
    let ds = data::load_with_roles(&root().join(DEFAULT_DATA), &settings.roles)
        .expect("bundled data loads");
    let findings =
        serde_json::to_value(pipeline::analyze(&ds, &settings)).expect("findings serialise");
    let mut problems = Vec::new();
    for path in checked_notebooks() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let nb = read_json(&path);
        let mut checks = 0;
        for (i, cell) in cells(&nb).iter().enumerate() {
            for out in cell["outputs"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                if out["output_type"] == "error" {
                    problems.push(format!(
                        "{name} cell {i}: saved an error: {}",
                        joined(&out["evalue"])
                    ));
                }
                if out["output_type"] != "stream" {
                    continue;
                }
                for line in joined(&out["text"])
                    .lines()
                    .filter(|l| l.starts_with("CHECK "))
                {
                    checks += 1;
                    let Some((key, got)) = parse_check_line(line) else {
                        problems.push(format!("{name} cell {i}: malformed line `{line}`"));
                        continue;
                    };
                    match lookup(&findings, &key) {
                        None => {
                            problems.push(format!("{name}: `{key}` is not a path in findings.json"))
                        }
                        Some(want) if !agree(&got, want, TOL) => problems.push(format!(
                            "{name}: {key} is {got} in the notebook but {want} in the report"
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
        if checks == 0 {
            problems.push(format!("{name}: printed no CHECK lines (was it executed?)"));
        }
    }
    assert!(
        problems.is_empty(),
        "notebooks disagree with the report:\n  {}",
        problems.join("\n  ")
    );
}

/// A cell reduced to what a reader sees: kind, source and outputs (no timing metadata).
fn visible(cell: &Value) -> Value {
    let outputs: Vec<Value> = cell["outputs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|o| {
            let data: serde_json::Map<String, Value> = o["data"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), Value::String(joined(v)))).collect())
                .unwrap_or_default();
            serde_json::json!({"type": o["output_type"], "name": o["name"], "text": joined(&o["text"]), "data": data})
        })
        .collect();
    serde_json::json!({"kind": cell["cell_type"], "source": joined(&cell["source"]), "outputs": outputs})
}

#[test]
fn committed_outputs_are_what_execution_produces() {
    let Some(dir) = std::env::var_os("NOTEBOOKS_EXECUTED") else {
        return; // only meaningful right after tests/notebooks/run.sh executed the notebooks
    };
    let mut stale = Vec::new();
    for executed in notebooks_in(Path::new(&dir)) {
        let name = executed.file_name().unwrap().to_owned();
        let committed = root().join("notebooks").join(&name);
        let (a, b) = (read_json(&executed), read_json(&committed));
        let (ca, cb) = (cells(&a), cells(&b));
        let first_diff =
            (0..ca.len().max(cb.len())).find(|&i| ca.get(i).map(visible) != cb.get(i).map(visible));
        if let Some(i) = first_diff {
            stale.push(format!(
                "{} (first difference in cell {i})",
                name.to_string_lossy()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "committed notebook outputs are stale; run `bash tests/notebooks/run.sh --update` and commit:\n  {}",
        stale.join("\n  ")
    );
}
