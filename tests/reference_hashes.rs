//! The committed reference values are what their scripts produce: each `tests/reference/<stem>.json`
//! stores the SHA-256 of its script and inputs (`_meta.sha256`, definition in
//! tests/reference/README.md), recomputed here without Python, so changing a script, the bundled
//! data or the pinned requirements without running `bash tests/reference/regenerate.sh` fails.
//! Also checked: every script has its JSON and the reverse, each JSON names a test file that
//! loads it, and no test or reference script names a path on a developer's machine.
mod common;

use std::path::Path;

use common::{input_hash, reference_dir, repo_root};

/// Stems of the files in tests/reference with extension `ext`, helper modules (`_*`) excluded.
fn stems(ext: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(reference_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|s| !s.starts_with('_'))
        .collect();
    out.sort();
    out
}

fn meta(stem: &str) -> serde_json::Value {
    let path = reference_dir().join(format!("{stem}.json"));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| {
            panic!("{}: {e}", path.display());
        });
    v.get("_meta")
        .unwrap_or_else(|| panic!("{stem}.json has no _meta"))
        .clone()
}

#[test]
fn every_script_has_its_reference_file_and_back() {
    let (py, json) = (stems("py"), stems("json"));
    assert!(!py.is_empty());
    assert_eq!(
        py, json,
        "one <stem>.py per <stem>.json in tests/reference (run bash tests/reference/regenerate.sh)"
    );
}

#[test]
fn reference_files_match_their_scripts_and_inputs() {
    let root = repo_root();
    let mut stale = Vec::new();
    for stem in stems("json") {
        let m = meta(&stem);
        let inputs: Vec<String> = m["inputs"]
            .as_array()
            .unwrap_or_else(|| panic!("{stem}.json: _meta.inputs is not an array"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let script = format!("tests/reference/{stem}.py");
        assert_eq!(inputs.first(), Some(&script), "{stem}.json: first input");
        for always in [
            "tests/reference/_common.py",
            "tests/reference/requirements.txt",
        ] {
            assert!(
                inputs.iter().any(|i| i == always),
                "{stem}.json: {always} missing"
            );
        }
        let want = m["sha256"].as_str().unwrap_or_default();
        let got = input_hash(&root, &inputs)
            .unwrap_or_else(|e| panic!("{stem}.json: an input cannot be read: {e}"));
        if got != want {
            stale.push(format!("{stem} (inputs: {})", inputs.join(", ")));
        }
    }
    assert!(
        stale.is_empty(),
        "reference files out of date with their script or inputs: {}; run \
         `bash tests/reference/regenerate.sh`, review the diff and commit it",
        stale.join("; ")
    );
}

#[test]
fn each_reference_file_is_read_by_the_test_it_names() {
    for stem in stems("json") {
        let m = meta(&stem);
        let test = m["test"]
            .as_str()
            .unwrap_or_else(|| panic!("{stem}.json: _meta.test missing"));
        let text = std::fs::read_to_string(repo_root().join(test))
            .unwrap_or_else(|e| panic!("{stem}.json names {test}: {e}"));
        assert!(
            text.contains(&format!("Reference::load(\"{stem}\")")),
            "{test} does not load the reference file {stem}.json"
        );
    }
}

/// Every file below `dir` (recursively) whose extension is one of `exts`.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, exts, out);
        } else if p.extension().is_some_and(|x| exts.iter().any(|e| x == *e)) {
            out.push(p);
        }
    }
}

#[test]
fn no_test_names_a_path_on_a_developers_machine() {
    // Built by concatenation so that this file does not match itself.
    let needles = [
        ["/ho", "me/"].concat(),
        ["/Us", "ers/"].concat(),
        ["/wo", "rk/"].concat(),
        ["/tmp/", "venv"].concat(),
        ["ref", "env"].concat(),
        ["site-", "packages"].concat(),
    ];
    let root = repo_root();
    let mut found = Vec::new();
    let mut all = Vec::new();
    files(
        &root.join("tests"),
        &["rs", "py", "sh", "md", "txt"],
        &mut all,
    );
    files(&root.join("src"), &["rs"], &mut all);
    for p in all {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if let Some(n) = needles.iter().find(|n| line.contains(n.as_str())) {
                found.push(format!(
                    "{}:{}: {n}",
                    p.strip_prefix(&root).unwrap().display(),
                    i + 1
                ));
            }
        }
    }
    assert!(found.is_empty(), "local paths named: {found:#?}");
}
