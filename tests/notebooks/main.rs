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

// ---------------------------------------------------------------------------------------------
// Numbers quoted in the prose
// ---------------------------------------------------------------------------------------------

/// A number written in prose: its text (digits, at most one decimal point) and whether a `%`
/// follows it.
#[derive(Debug, Clone, PartialEq)]
struct Quoted {
    text: String,
    percent: bool,
}

/// Markdown without code (fenced blocks and `inline spans`) and link targets, whose numbers are
/// not claims about results.
fn prose_only(markdown: &str) -> String {
    let mut out = String::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let mut in_code = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '`' {
                in_code = !in_code;
                continue;
            }
            if in_code {
                continue;
            }
            if c == ']' && chars.peek() == Some(&'(') {
                // a link target: skip to its closing parenthesis
                for d in chars.by_ref() {
                    if d == ')' {
                        break;
                    }
                }
                out.push(']');
                continue;
            }
            out.push(c);
        }
        out.push('\n');
    }
    out
}

/// Every number in `text` that stands alone: not part of a word (`F1`, `PC1`, `40th`, `46k`), of
/// an identifier or of a version. Signs are dropped (values are compared by magnitude).
fn quoted_numbers(text: &str) -> Vec<Quoted> {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts =
            chars[i].is_ascii_digit() && (i == 0 || !(word(chars[i - 1]) || chars[i - 1] == '.'));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        if j + 1 < chars.len() && chars[j] == '.' && chars[j + 1].is_ascii_digit() {
            j += 1;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
        }
        let glued = j < chars.len()
            && (word(chars[j])
                || (chars[j] == '.' && chars.get(j + 1).is_some_and(|c| c.is_ascii_digit())));
        if !glued {
            let mut k = j;
            if k < chars.len() && chars[k] == ' ' {
                k += 1;
            }
            out.push(Quoted {
                text: chars[i..j].iter().collect(),
                percent: chars.get(k) == Some(&'%'),
            });
        }
        i = j.max(i + 1);
    }
    out
}

/// A number the reader can see, with the decimals it is shown with (`usize::MAX` for one written
/// with an exponent).
type Shown = (f64, usize);

/// Whether a quoted number is one of `known`, written to the quoted precision and no more
/// precisely than it is shown (a `%` number may also be a share × 100). Integers must be exact
/// unless they are percentages.
fn is_known(q: &Quoted, known: &[Shown]) -> bool {
    let decimals = q.text.split_once('.').map_or(0, |(_, d)| d.len());
    let fmt = |v: f64| format!("{:.decimals$}", v.abs());
    known.iter().any(|&(v, shown)| {
        if !v.is_finite() {
            return false;
        }
        let exact = decimals <= shown
            && if decimals == 0 {
                v.abs() == q.text.parse::<f64>().unwrap_or(f64::NAN)
            } else {
                fmt(v) == q.text
            };
        exact || (q.percent && decimals + 2 <= shown && fmt(100.0 * v) == q.text)
    })
}

/// Every number in a JSON value.
fn json_numbers(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Number(n) => out.extend(n.as_f64()),
        Value::Array(a) => a.iter().for_each(|x| json_numbers(x, out)),
        Value::Object(o) => o.values().for_each(|x| json_numbers(x, out)),
        _ => {}
    }
}

/// Every number a reader sees in one cell's outputs (text and HTML, tags removed). A hidden
/// CHECK cell shows nothing.
fn output_numbers(cell: &Value) -> Vec<Shown> {
    let tags = cell["metadata"]["tags"].as_array();
    if tags.is_some_and(|t| t.iter().any(|x| x == "check")) {
        return Vec::new();
    }
    let mut text = String::new();
    for out in cell["outputs"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        text.push_str(&joined(&out["text"]));
        text.push('\n');
        if let Some(data) = out["data"].as_object() {
            for v in data.values() {
                let mut in_tag = false;
                for c in joined(v).chars() {
                    match c {
                        '<' => in_tag = true,
                        '>' => {
                            in_tag = false;
                            text.push(' ');
                        }
                        _ if !in_tag => text.push(c),
                        _ => {}
                    }
                }
                text.push('\n');
            }
        }
    }
    // Outputs are read leniently: numbers glued to units ("300px") count too.
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_digit()
                    || (chars[j] == '.' && chars.get(j + 1).is_some_and(|c| c.is_ascii_digit())))
            {
                j += 1;
            }
            let s: String = chars[i..j].iter().collect();
            let exp = j < chars.len()
                && chars[j] == 'e'
                && chars
                    .get(j + 1)
                    .is_some_and(|c| *c == '-' || c.is_ascii_digit());
            if exp {
                let mut k = j + 2;
                while k < chars.len() && chars[k].is_ascii_digit() {
                    k += 1;
                }
                let e: String = chars[j..k].iter().collect();
                out.extend(
                    format!("{s}{e}")
                        .parse::<f64>()
                        .ok()
                        .map(|v| (v, usize::MAX)),
                );
                i = k;
                continue;
            }
            let decimals = s.split_once('.').map_or(0, |(_, d)| d.len());
            out.extend(s.parse::<f64>().ok().map(|v| (v, decimals)));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The heading level of a markdown cell (1 for `# …`, 2 for `## …`), if it opens with one.
fn heading_level(cell: &Value) -> Option<usize> {
    let source = joined(&cell["source"]);
    let first = source.lines().next()?.trim_start();
    let level = first.chars().take_while(|&c| c == '#').count();
    (level > 0 && first[level..].starts_with(' ')).then_some(level)
}

/// Whether a markdown cell is the closing summary, which may quote any result above it.
fn is_summary(cell: &Value) -> bool {
    heading_level(cell).is_some()
        && joined(&cell["source"])
            .lines()
            .next()
            .is_some_and(|l| l.contains("Findings for the presentation"))
}

/// A heading's enumeration (`# 01 ·`, `## 2.`) is not a claim about a result.
fn without_heading_number(markdown: &str) -> String {
    markdown
        .lines()
        .map(|line| {
            let hashes = line.chars().take_while(|&c| c == '#').count();
            if hashes == 0 {
                return line.to_string();
            }
            let rest = line[hashes..].trim_start();
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            let after = &rest[digits..];
            if digits > 0 && (after.starts_with('.') || after.starts_with(" ·")) {
                after.trim_start_matches(['.', ' ', '·']).to_string()
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Numbers quoted in a notebook's markdown that the cells before it do not show. A number must
/// appear, at the quoted precision, in the visible outputs of the code cells above it in its own
/// section (since the last `#`/`##` heading); the closing "Findings for the presentation" cell
/// may quote any visible output above it. Numbers of the settings (targets, alarms, folds) may be
/// quoted anywhere, as written. Hidden CHECK cells and the findings do not count: a number the reader cannot
/// see above the sentence is a number the sentence cannot be checked against.
fn unmatched_prose_numbers(nb: &Value, settings: &Value) -> Vec<(usize, String)> {
    let mut from_settings = Vec::new();
    json_numbers(settings, &mut from_settings);
    // A setting counts at the precision it is written with (0.55 as 0.55, not as 0.5500).
    let from_settings: Vec<Shown> = from_settings
        .into_iter()
        .map(|v| {
            (
                v,
                format!("{v}").split_once('.').map_or(0, |(_, d)| d.len()),
            )
        })
        .collect();
    let cells = cells(nb);
    let mut bad = Vec::new();
    let mut section_start = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell["cell_type"] != "markdown" {
            continue;
        }
        if heading_level(cell).is_some_and(|l| l <= 2) {
            section_start = i;
        }
        let first = if is_summary(cell) { 0 } else { section_start };
        let mut known: Vec<Shown> = cells[first..i].iter().flat_map(output_numbers).collect();
        known.extend_from_slice(&from_settings);
        let prose = without_heading_number(&prose_only(&joined(&cell["source"])));
        for q in quoted_numbers(&prose) {
            if !is_known(&q, &known) {
                bad.push((
                    i,
                    format!("{}{}", q.text, if q.percent { " %" } else { "" }),
                ));
            }
        }
    }
    bad
}

fn bundled_findings() -> Value {
    let settings = Settings::default();
    let ds = data::load_with_roles(&root().join(DEFAULT_DATA), &settings.roles)
        .expect("bundled data loads");
    serde_json::to_value(pipeline::analyze(&ds, &settings)).expect("findings serialise")
}

fn settings_json() -> Value {
    serde_json::to_value(Settings::default()).expect("settings serialise")
}

#[test]
fn numbers_in_the_prose_are_computed_numbers() {
    let settings = settings_json();
    let mut problems = Vec::new();
    for path in checked_notebooks() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let nb = read_json(&path);
        for (cell, number) in unmatched_prose_numbers(&nb, &settings) {
            problems.push(format!(
                "{name} cell {cell}: {number} is not shown by the cells above it in its section"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "numbers quoted in the notebooks' prose do not match what they compute:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_prose_check_catches_a_wrong_number() {
    let shown = |html: &str| {
        serde_json::json!({"cell_type": "code", "source": "", "outputs": [
        {"output_type": "display_data", "data": {"text/html": html}}]})
    };
    let md = |text: &str| serde_json::json!({"cell_type": "markdown", "source": text});
    let hidden_check = serde_json::json!({"cell_type": "code", "source": "",
        "metadata": {"tags": ["check", "remove-cell"]},
        "outputs": [{"output_type": "stream", "name": "stdout", "text": "CHECK a.b=0.4321\n"}]});
    let settings = serde_json::json!({"targets": {"r2": 0.8}});
    let nb = serde_json::json!({"cells": [
        md("# 01 · Title\n\n## 1. Fit"),
        shown("<td>0.98988</td><td style=\"w:15px\">15</td><td>0.8655</td>"),
        md("R² is 0.9899 (n = 15) against a target of 0.8, `code 0.1234`, F1, 40th, [a](x/1.5), 87 %"),
        md("## 2. Next"),
        shown("<td>7</td>"),
        hidden_check.clone(),
        md("7 rows"),
        md("## Findings for the presentation\n\nR² 0.9899 on 15 rows; 7 rows"),
    ]});
    assert!(
        unmatched_prose_numbers(&nb, &settings).is_empty(),
        "{:?}",
        unmatched_prose_numbers(&nb, &settings)
    );
    let bad = |cell: usize, text: &str| {
        let mut wrong = nb.clone();
        wrong["cells"][cell]["source"] = Value::String(text.into());
        unmatched_prose_numbers(&wrong, &settings)
            .into_iter()
            .map(|(_, n)| n)
            .collect::<Vec<_>>()
    };
    // wrong digits, a wrong percentage and a wrong count
    assert_eq!(
        bad(2, "R² is 0.9898, 88 % and 16 rows"),
        ["0.9898", "88 %", "16"]
    );
    // a number shown only in another section, only later, or only in the hidden CHECK cell
    assert_eq!(bad(6, "R² is 0.9899"), ["0.9899"]);
    assert_eq!(bad(2, "7 rows"), ["7"]);
    assert_eq!(bad(6, "a is 0.4321"), ["0.4321"]);
    // a setting quoted more precisely than it is written
    assert_eq!(bad(2, "target 0.80"), ["0.80"]);
    // quoted more precisely than shown (0.8655 could be 0.86548 rounded)
    assert_eq!(bad(2, "R² is 0.98988 or 0.86550"), ["0.86550"]);
    // a share shown with four decimals may be quoted as a percentage with two
    assert_eq!(bad(2, "86.55 % and 86.550 %"), ["86.550 %"]);
}

#[test]
fn check_lines_are_out_of_the_readers_view() {
    for path in checked_notebooks() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let nb = read_json(&path);
        for (i, cell) in cells(&nb).iter().enumerate() {
            let prints_checks = cell["outputs"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .any(|o| joined(&o["text"]).lines().any(|l| l.starts_with("CHECK ")));
            if !prints_checks {
                continue;
            }
            let tags: Vec<&str> = cell["metadata"]["tags"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert!(
                tags.contains(&"remove-cell") && tags.contains(&"check"),
                "{name} cell {i} prints CHECK lines but is not tagged `check` and `remove-cell`"
            );
            assert_eq!(
                cell["metadata"]["jupyter"]["outputs_hidden"], true,
                "{name} cell {i}: CHECK output must be collapsed"
            );
        }
    }
}

/// `tests/notebooks/run.sh` also executes a notebook on a synthetic table through the
/// `CUSTOMER_INTEL_DATA` parameter: its CHECK lines must agree with the findings of that table,
/// which differ from the bundled table's.
#[test]
fn a_notebook_runs_on_a_second_table() {
    let (Some(dir), Some(csv)) = (
        std::env::var_os("NOTEBOOKS_SYNTHETIC"),
        std::env::var_os("NOTEBOOKS_SYNTHETIC_DATA"),
    ) else {
        return; // only meaningful right after tests/notebooks/run.sh
    };
    let settings = Settings::default();
    let ds =
        data::load_with_roles(Path::new(&csv), &settings.roles).expect("the synthetic table loads");
    let findings =
        serde_json::to_value(pipeline::analyze(&ds, &settings)).expect("findings serialise");
    let bundled = bundled_findings();
    let executed = notebooks_in(Path::new(&dir));
    assert!(
        !executed.is_empty(),
        "no notebook was executed on the synthetic table"
    );
    for path in executed {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let nb = read_json(&path);
        let mut checks = 0;
        let mut differ = 0;
        for cell in cells(&nb) {
            for out in cell["outputs"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                assert_ne!(
                    out["output_type"],
                    "error",
                    "{name} failed on the synthetic table: {}",
                    joined(&out["evalue"])
                );
                for line in joined(&out["text"])
                    .lines()
                    .filter(|l| l.starts_with("CHECK "))
                {
                    let (key, got) = parse_check_line(line).expect("well-formed CHECK line");
                    let want = lookup(&findings, &key)
                        .unwrap_or_else(|| panic!("{name}: {key} not in findings"));
                    assert!(
                        agree(&got, want, TOL),
                        "{name} on the synthetic table: {key} is {got}, its findings say {want}"
                    );
                    checks += 1;
                    if lookup(&bundled, &key).is_none_or(|b| !agree(&got, b, TOL)) {
                        differ += 1;
                    }
                }
            }
        }
        assert!(checks > 0, "{name}: no CHECK lines on the synthetic table");
        assert!(
            differ > 0,
            "{name}: every number equals the bundled table's; was the synthetic table used?"
        );
    }
}
