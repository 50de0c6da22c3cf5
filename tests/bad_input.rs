//! The malformed-file corpus: every file under `tests/corpus/bad/` must make `report build` exit 2
//! with a message naming the line, column and rule listed in `expected.txt`, and must leave
//! existing outputs exactly as they were.

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/bad")
}

struct Case {
    file: String,
    lines: Vec<String>,
    columns: Vec<String>,
    fragment: String,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus().join("expected.txt")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, '|').collect();
            let list = |s: &str| {
                if s == "-" {
                    vec![]
                } else {
                    s.split(',').map(str::to_string).collect()
                }
            };
            Case {
                file: f[0].into(),
                lines: list(f[1]),
                columns: list(f[2]),
                fragment: f[3].into(),
            }
        })
        .collect()
}

/// Runs `report build` on `data` with outputs under `out` (README untouched: --out implies no README).
fn run_build(data: &Path, out: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["build", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn corpus_is_large_enough_and_fully_listed() {
    let listed: Vec<String> = cases().into_iter().map(|c| c.file).collect();
    assert!(listed.len() >= 25, "only {} cases", listed.len());
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name != "expected.txt" {
            assert!(
                listed.contains(&name),
                "{name} has no expectation in expected.txt"
            );
        }
    }
}

#[test]
fn every_malformed_file_is_rejected_with_line_column_and_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("figures")).unwrap();
    std::fs::write(out.join("findings.json"), "previous findings").unwrap();
    std::fs::write(out.join("figures/x.svg"), "<svg/>").unwrap();
    let mut problems = Vec::new();
    for c in cases() {
        let path = corpus().join(&c.file);
        let (code, stderr) = run_build(&path, &out);
        let mut why = Vec::new();
        if code != 2 {
            why.push(format!("exit code {code}"));
        }
        if !stderr.contains(&c.file) {
            why.push("file not named".into());
        }
        for l in &c.lines {
            if l != "1" && !stderr.contains(&format!("line {l},")) {
                why.push(format!("line {l} not named"));
            }
        }
        for col in &c.columns {
            if !stderr.contains(col.as_str()) {
                why.push(format!("column {col} not named"));
            }
        }
        if !stderr.contains(&c.fragment) {
            why.push(format!("rule fragment '{}' missing", c.fragment));
        }
        if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
            why.push("panic".into());
        }
        if !why.is_empty() {
            problems.push(format!("{}: {}\n{stderr}", c.file, why.join("; ")));
        }
    }
    // Existing outputs untouched, nothing new created.
    assert_eq!(
        std::fs::read_to_string(out.join("findings.json")).unwrap(),
        "previous findings"
    );
    let mut names: Vec<_> = walk(&out);
    names.sort();
    assert_eq!(
        names,
        vec![out.join("figures/x.svg"), out.join("findings.json")]
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p))
        } else {
            v.push(p)
        }
    }
    v
}

#[test]
fn missing_file_and_directory_have_their_own_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, stderr) = run_build(&tmp.path().join("nope.csv"), &out);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("does not exist") && stderr.contains("nope.csv"),
        "{stderr}"
    );
    // The library names the path; the binary adds the flag that gave it.
    assert!(
        stderr.contains("pass an existing CSV file with --data"),
        "{stderr}"
    );
    let library = customer_intel::data::load(&tmp.path().join("nope.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        library.ends_with("nope.csv' does not exist") && !library.contains("--"),
        "{library}"
    );
    let (code, stderr) = run_build(tmp.path(), &out);
    assert_eq!(code, 2);
    assert!(stderr.contains("is a directory"), "{stderr}");
    assert!(!out.exists(), "no output may be created on bad input");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let bin = env!("CARGO_BIN_EXE_report");
    let o = Command::new(bin).arg("--no-such-flag").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    for args in [
        vec!["--help"],
        vec!["build", "--help"],
        vec!["check", "--help"],
        vec!["synth", "--help"],
    ] {
        let o = Command::new(bin).args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn synth_writes_a_file_that_build_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("s.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args([
            "synth",
            "--rows",
            "2000",
            "--seed",
            "5",
            "--duplicate-rate",
            "0.3",
            "--out",
        ])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ds = customer_intel::data::load(&csv).unwrap();
    assert_eq!(ds.n_rows(), 2000);
    assert_eq!(ds.n_groups, 1400);
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["validate", "--data"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("2000 rows, 1400 distinct"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn validate_rejects_bad_files_like_build() {
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["validate", "--data"])
        .arg(corpus().join("loyalty_11.csv"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("line 5, column 'loyalty_score', value '11'")
    );
}

/// `report synth --rows 0` is refused with exit code 2 and a message naming the option and the
/// rule (it used to panic), and writes nothing.
#[test]
fn synth_of_no_rows_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("zero.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["synth", "--rows", "0", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--rows") && err.contains("'0'") && err.contains("1.."),
        "{err}"
    );
    assert!(!out.exists());
}
