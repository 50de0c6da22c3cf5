//! The renderer end to end on the bundled data: README splicing (bytes outside markers kept,
//! CRLF included; missing markers rejected; interrupted writes leave the old file), determinism,
//! template overrides and template error messages, `--out` without a README, and `check`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use customer_intel::data;
use customer_intel::findings::Findings;
use customer_intel::pipeline::{self, BuildOptions, PipelineError};
use customer_intel::render::{RenderError, sections};
use customer_intel::settings::Settings;

use common::bundled_csv;

/// A README holding every section's markers around hand-written text, with the given line ending.
fn readme_text(eol: &str) -> String {
    let mut s = format!("# My hand-in{eol}{eol}Hand-written intro, kept as is.  {eol}");
    for (name, _) in sections() {
        s.push_str(&format!("{eol}Before {name}.{eol}<!-- report:{name}:start -->{eol}stale text{eol}<!-- report:{name}:end -->{eol}After {name}.{eol}"));
    }
    s.push_str("No final newline");
    s
}

fn opts(dir: &Path, readme: Option<PathBuf>) -> BuildOptions {
    BuildOptions {
        data: bundled_csv(),
        out_dir: dir.join("out"),
        readme,
        ..BuildOptions::default()
    }
}

/// Every byte outside the generated sections of `new` equals the corresponding byte of `old`.
fn outside_markers(doc: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = doc;
    for (name, _) in sections() {
        let start = format!("<!-- report:{name}:start -->");
        let end = format!("<!-- report:{name}:end -->");
        let a = rest.find(&start).expect("start marker") + start.len();
        parts.push(rest[..a].to_string());
        let b = rest.find(&end).expect("end marker");
        rest = &rest[b..];
    }
    parts.push(rest.to_string());
    parts
}

/// The findings of the bundled data, analysed once for the whole test binary (the analyses
/// are the expensive part; rendering is what these tests exercise).
fn findings() -> &'static Findings {
    static F: OnceLock<Findings> = OnceLock::new();
    F.get_or_init(|| {
        let settings = Settings::default();
        let ds =
            data::load_with_roles(&bundled_csv(), &settings.roles).expect("bundled data loads");
        pipeline::analyze(&ds, &settings)
    })
}

/// A build from the shared findings: render everything in memory, then write atomically.
fn build(o: &BuildOptions) -> Result<Vec<PathBuf>, PipelineError> {
    let out = pipeline::outputs(findings(), o)?;
    out.write().map_err(|source| PipelineError::Write {
        path: o.out_dir.clone(),
        source,
    })?;
    Ok(out.files.keys().cloned().collect())
}

/// Files that differ from what the shared findings render (what `report check` reports).
fn stale(o: &BuildOptions) -> Vec<PathBuf> {
    pipeline::outputs(findings(), o).unwrap().stale()
}

#[test]
fn splicing_keeps_every_byte_outside_markers_lf_and_crlf() {
    for eol in ["\n", "\r\n"] {
        let dir = tempfile::tempdir().unwrap();
        let readme = dir.path().join("README.md");
        let old = readme_text(eol);
        std::fs::write(&readme, &old).unwrap();
        build(&opts(dir.path(), Some(readme.clone()))).unwrap();
        let new = std::fs::read_to_string(&readme).unwrap();
        assert_ne!(new, old);
        assert_eq!(outside_markers(&new), outside_markers(&old), "eol {eol:?}");
        assert!(!new.contains("stale text"));
        assert!(new.contains("## Exploratory Data Analysis"));
        assert!(new.ends_with("No final newline"));
        if eol == "\r\n" {
            // The generated text follows the file's line endings: no bare LF anywhere.
            let bare_lf = new
                .as_bytes()
                .windows(2)
                .filter(|w| w[1] == b'\n' && w[0] != b'\r')
                .count();
            assert_eq!(bare_lf, 0, "a CRLF README must stay CRLF");
        } else {
            assert!(!new.contains('\r'));
        }
        // A second build changes nothing.
        build(&opts(dir.path(), Some(readme.clone()))).unwrap();
        assert_eq!(std::fs::read_to_string(&readme).unwrap(), new);
    }
}

#[test]
fn missing_markers_are_rejected_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("README.md");
    let old = readme_text("\n").replace("<!-- report:architecture:end -->", "");
    std::fs::write(&readme, &old).unwrap();
    let err = build(&opts(dir.path(), Some(readme.clone()))).unwrap_err();
    let chain = error_chain(&err);
    assert!(
        chain.contains("README.md")
            && chain.contains("report:architecture:end")
            && chain.contains("no matching"),
        "{chain}"
    );
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), old);
    assert!(
        !dir.path().join("out").exists(),
        "a failed build must write nothing"
    );

    let no_markers = "# Title\n\nNo markers at all.\n";
    std::fs::write(&readme, no_markers).unwrap();
    let chain = error_chain(&build(&opts(dir.path(), Some(readme.clone()))).unwrap_err());
    assert!(chain.contains("no markers for section 'eda'"), "{chain}");
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), no_markers);
}

#[test]
fn an_interrupted_write_leaves_the_old_readme() {
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("README.md");
    let old = readme_text("\n");
    std::fs::write(&readme, &old).unwrap();
    // Interrupt the write: the temporary file write_atomic would create cannot be created
    // (a directory of that name is in the way), so the write fails half-way.
    let blocker = dir
        .path()
        .join(format!(".README.md.tmp-{}", std::process::id()));
    std::fs::create_dir(&blocker).unwrap();
    std::fs::write(blocker.join("x"), "x").unwrap();
    let err = build(&opts(dir.path(), Some(readme.clone()))).unwrap_err();
    assert!(matches!(err, PipelineError::Write { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(&readme).unwrap(),
        old,
        "README must be the complete old file"
    );
    std::fs::remove_dir_all(&blocker).unwrap();

    // The README is replaced by a rename, never rewritten in place: a reader that opened the
    // old file keeps reading the complete old bytes while the new file appears at the path.
    use std::io::Read;
    let mut held = std::fs::File::open(&readme).unwrap();
    build(&opts(dir.path(), Some(readme.clone()))).unwrap();
    let mut seen = String::new();
    held.read_to_string(&mut seen).unwrap();
    assert_eq!(seen, old);
    assert_ne!(std::fs::read_to_string(&readme).unwrap(), old);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn two_builds_give_identical_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    // Two complete runs, analyses included.
    for d in [&a, &b] {
        std::fs::write(d.path().join("README.md"), readme_text("\n")).unwrap();
        pipeline::build(
            &opts(d.path(), Some(d.path().join("README.md"))),
            &mut |_| {},
        )
        .unwrap();
    }
    let files = |root: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push((
                        path.strip_prefix(root).unwrap().to_path_buf(),
                        std::fs::read(&path).unwrap(),
                    ));
                }
            }
        }
        out.sort();
        out
    };
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert!(
        fa.len() >= 4,
        "{:?}",
        fa.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(
        fa.iter().map(|f| &f.0).collect::<Vec<_>>(),
        fb.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    // The saved production models are outputs too, covered by the same byte comparison.
    for f in ["spend.json", "growth.json", "segments.json"] {
        let want = Path::new("out/models").join(f);
        assert!(
            fa.iter().any(|(p, _)| *p == want),
            "{} missing",
            want.display()
        );
    }
    for ((p, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{} differs between two builds", p.display());
    }
}

#[test]
fn out_dir_without_readme_leaves_readmes_alone_and_check_sees_staleness() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path(), None);
    let files = build(&o).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"index.html".to_string()) && names.contains(&"slides.html".to_string()),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.ends_with(".md")), "{names:?}");
    assert!(stale(&o).is_empty());

    // Hand edits outside markers are not staleness; edits inside are.
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, readme_text("\n")).unwrap();
    let o = opts(dir.path(), Some(readme.clone()));
    build(&o).unwrap();
    let text = std::fs::read_to_string(&readme).unwrap();
    std::fs::write(
        &readme,
        text.replace("Hand-written intro", "Rewritten intro"),
    )
    .unwrap();
    assert!(stale(&o).is_empty());
    std::fs::write(&readme, text.replacen("| Rows |", "| Rowz |", 1)).unwrap();
    assert_eq!(stale(&o), vec![readme.clone()]);
    std::fs::write(o.out_dir.join("slides.html"), "tampered").unwrap();
    assert_eq!(stale(&o).len(), 2);
}

#[test]
fn templates_override_file_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("tpl");
    std::fs::create_dir(&tpl).unwrap();
    std::fs::write(tpl.join("eda.md"), "## My own EDA\n\n{{ dataset.rows | int }} rows, {{ dataset.duplicate_rows / dataset.rows | pct(d=0) }} copies.\n").unwrap();
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, readme_text("\n")).unwrap();
    let o = BuildOptions {
        templates: Some(tpl.clone()),
        ..opts(dir.path(), Some(readme.clone()))
    };
    build(&o).unwrap();
    let text = std::fs::read_to_string(&readme).unwrap();
    // 178 of 238 rows repeat another: 74.8 % (data/README.md; 238 − 60 distinct).
    assert!(
        text.contains("## My own EDA\n\n238 rows, 75% copies."),
        "{text}"
    );
    // Other sections still use the built-in templates.
    assert!(text.contains("## Results"));
    let html = std::fs::read_to_string(o.out_dir.join("index.html")).unwrap();
    assert!(html.contains("My own EDA"));

    // A misspelt override file is an error, not silently ignored.
    std::fs::write(tpl.join("edaa.md"), "x").unwrap();
    let chain = error_chain(&build(&o).unwrap_err());
    assert!(
        chain.contains("edaa.md") && chain.contains("does not override any template"),
        "{chain}"
    );
}

#[test]
fn template_errors_name_template_line_and_variable() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("tpl");
    std::fs::create_dir(&tpl).unwrap();
    std::fs::write(
        tpl.join("results.md"),
        "## Results\n\nfine: {{ dataset.rows }}\n\nbroken: {{ scorecard.no_such_field | num }}\n",
    )
    .unwrap();
    let o = BuildOptions {
        templates: Some(tpl.clone()),
        ..opts(dir.path(), None)
    };
    let err = build(&o).unwrap_err();
    let PipelineError::Render(RenderError::Template {
        template,
        line,
        variable,
        ..
    }) = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(template, "results.md");
    assert_eq!(*line, Some(5));
    assert_eq!(variable.as_deref(), Some("scorecard.no_such_field"));
    let chain = error_chain(&err);
    assert!(
        chain.contains("tpl/results.md") && chain.contains("line 5"),
        "{chain}"
    );

    std::fs::write(tpl.join("results.md"), "## Results\n{% if %}\n").unwrap();
    let chain = error_chain(&build(&o).unwrap_err());
    assert!(
        chain.contains("results.md") && chain.contains("line 2"),
        "{chain}"
    );
}

#[test]
fn report_and_slides_are_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path(), None);
    build(&o).unwrap();
    for page in ["index.html", "slides.html"] {
        let html = std::fs::read_to_string(o.out_dir.join(page)).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        // Nothing that a browser would fetch (text may mention a URL, e.g. a tracking server).
        for needle in [
            "src=\"http",
            "href=\"http",
            "href=\"//",
            "<link ",
            " src=",
            "url(http",
            "@import",
        ] {
            assert!(!html.contains(needle), "{page} contains {needle:?}");
        }
    }
    let html = std::fs::read_to_string(o.out_dir.join("index.html")).unwrap();
    // Every figure of the build is inlined exactly once.
    let figures = std::fs::read_dir(o.out_dir.join("figures"))
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "svg"))
            })
            .count()
        })
        .unwrap_or(0);
    assert_eq!(html.matches("<figure class=\"fig\"").count(), figures);
    assert!(html.contains("id=\"provenance\"") && html.contains(&sha_of_data()));
    assert!(
        !html.contains("Build date"),
        "unstamped builds carry no date"
    );
}

#[test]
fn a_stamp_adds_date_and_commit_to_the_footer_only() {
    let dir = tempfile::tempdir().unwrap();
    let stamp = customer_intel::render::Stamp {
        date: "2026-01-02 03:04:05 UTC".into(),
        commit: Some("abc123def456".into()),
    };
    let o = BuildOptions {
        stamp: Some(stamp),
        ..opts(dir.path(), None)
    };
    build(&o).unwrap();
    let html = std::fs::read_to_string(o.out_dir.join("index.html")).unwrap();
    assert!(html.contains("2026-01-02 03:04:05 UTC") && html.contains("abc123def456"));
}

fn sha_of_data() -> String {
    customer_intel::data::sha256_hex(&std::fs::read(bundled_csv()).unwrap())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str("\n  caused by: ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// The deck tells the story in 12–16 slides, every slide has speaker notes with the three parts
/// of the stated rules, answer slides show their slide figure and verdict, the title slide
/// carries the authorship from `[report]`, and the slide figures are written beside the report's.
#[test]
fn the_deck_has_a_story_notes_authors_and_its_own_figures() {
    let mut settings = Settings::default();
    settings.report.title = "Spend <study>".into();
    settings.report.authors = vec!["Ada Lovelace".into(), "Alan Turing".into()];
    settings.report.course = "Applied ML".into();
    let f = findings();
    let mut f2 = f.clone();
    f2.provenance.settings = settings;
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path(), None);
    let out = pipeline::outputs(&f2, &o).unwrap();
    let html = String::from_utf8_lossy(&out.files[&o.out_dir.join("slides.html")]).into_owned();
    let slides = html.matches("<section class=\"slide").count();
    assert!((12..=16).contains(&slides), "{slides} slides");
    assert_eq!(html.matches("<aside class=\"notes\"").count(), slides);
    for part in [
        "<strong>Say:</strong>",
        "<strong>Numbers:</strong>",
        "<strong>Caveat:</strong>",
    ] {
        assert_eq!(html.matches(part).count(), slides, "{part}");
    }
    assert!(
        html.contains("<h1 id=\"spend-study\">Spend &lt;study&gt;</h1>"),
        "title escaped"
    );
    assert!(html.contains("Ada Lovelace · Alan Turing") && html.contains("Applied ML"));
    // Story order: question, data trap, answers (in scorecard order), what to do, limits.
    let pos = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("no {needle}"));
    let order = [
        ">The question</h2>",
        ">The data and its trap",
        ">How much will a customer spend?</h2>",
        ">What to do</h2>",
        ">Limits</h2>",
    ];
    assert!(order.windows(2).all(|w| pos(w[0]) < pos(w[1])), "{order:?}");
    // Answer slides: verdict matches the scorecard.
    let card = customer_intel::render::scorecard::build(f);
    for t in card.targets.iter().filter(|t| t.honest.is_some()) {
        let start = pos(&format!(">{}</h2>", t.question));
        let verdict = if t.honest.as_ref().unwrap().met {
            "Yes — target met"
        } else {
            "No — target missed"
        };
        assert!(html[start..].contains(verdict), "{}", t.question);
    }
    // Slide figures: files under figures/slides/, inlined in the deck, not in the report.
    let slide_figs: Vec<_> = out
        .files
        .keys()
        .filter(|p| p.starts_with(o.out_dir.join("figures/slides")))
        .collect();
    assert_eq!(slide_figs.len(), 6, "{slide_figs:?}");
    assert!(
        html.contains("id=\"fig-slide_spend\"") && html.contains("id=\"fig-slide_cv_inflation\"")
    );
    assert!(
        !html.contains("id=\"fig-regression_cv_gap\""),
        "report figures stay in the report"
    );
    let report = String::from_utf8_lossy(&out.files[&o.out_dir.join("index.html")]);
    assert!(
        !report.contains("slide_"),
        "slide figures stay out of the report"
    );
}

/// The analyses spread seeded tasks over the cores (`par::map`, `par::join`); their results are
/// read back in a fixed order, so a build confined to one core (where every task runs in turn on
/// the calling thread) writes the same bytes as one on every core.
#[test]
fn one_core_and_all_cores_give_identical_findings() {
    let run = |dir: &Path, one_core: bool| {
        let mut cmd = if one_core {
            let mut c = std::process::Command::new("taskset");
            c.args(["-c", "0", env!("CARGO_BIN_EXE_report")]);
            c
        } else {
            std::process::Command::new(env!("CARGO_BIN_EXE_report"))
        };
        let o = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("MLFLOW_TRACKING_URI")
            .args(["build", "--out"])
            .arg(dir)
            .output()
            .expect("taskset (util-linux) runs the build");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(a.path(), false);
    run(b.path(), true);
    for f in ["findings.json", "index.html", "slides.html"] {
        let (x, y) = (
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs between one core and all cores");
    }
}
