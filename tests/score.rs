//! `report score` end to end: the binary scores with the model files `report build` saved, and
//! its scores equal the predictions of the production models fitted in memory (on the bundled
//! data and on a synthetic table, with and without the spend column); the interval covers about
//! its nominal share; mismatched, wrong-version, corrupted and truncated model files and bad
//! input fail with exit code 2, a message naming the file, and the output left untouched.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use customer_intel::analysis::classification::{self, FeatureSet as ClassFeatures};
use customer_intel::analysis::{regression, segmentation};
use customer_intel::data::{self, Dataset, SynthSpec};
use customer_intel::findings::Findings;
use customer_intel::models;
use customer_intel::pipeline::{self, BuildOptions};
use customer_intel::settings::Settings;
use customer_intel::tracking::Tracking;

use common::{Reference, bundled_csv};

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("score-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One build of the bundled data (models under `models_dir()`), with its dataset and findings.
struct Bundled {
    ds: Dataset,
    findings: Findings,
    models: PathBuf,
}

fn bundled() -> &'static Bundled {
    static B: OnceLock<Bundled> = OnceLock::new();
    B.get_or_init(|| {
        let dir = scratch("bundled-build");
        let opts = BuildOptions {
            data: bundled_csv(),
            out_dir: dir.join("out"),
            readme: None,
            tracking: Tracking::Off,
            ..BuildOptions::default()
        };
        let run = pipeline::build(&opts, &mut |_| {}).unwrap();
        let ds = common::bundled();
        Bundled {
            ds,
            findings: run.findings,
            models: dir.join("out").join(models::MODELS_DIR),
        }
    })
}

struct Run {
    code: i32,
    stderr: String,
}

fn report(args: &[&str]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn score(input: &Path, models: &Path, out: &Path, settings: Option<&Path>) -> Run {
    let mut args = vec![
        "score".to_string(),
        "--input".into(),
        input.display().to_string(),
        "--models".into(),
        models.display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    if let Some(s) = settings {
        args.extend(["--settings".into(), s.display().to_string()]);
    }
    report(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Splits one CSV record (quotes honoured; no embedded newlines in these files).
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// The output: header and rows of fields.
fn read_scores(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = fields(lines.next().unwrap());
    (header, lines.map(fields).collect())
}

fn num(rows: &[Vec<String>], j: usize) -> Vec<f64> {
    rows.iter().map(|r| r[j].parse::<f64>().unwrap()).collect()
}

/// The table with each category value replaced by the level a model's merge maps it to.
fn remap(ds: &Dataset, merges: &customer_intel::sparse::LevelMap) -> Dataset {
    let mut out = ds.clone();
    for c in out.category.iter_mut() {
        *c = merges.apply(c).to_string();
    }
    out
}

/// Type-7 quantile, written here independently of `stats::quantile`.
fn quantile7(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let h = (s.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    s[lo] + (h - lo as f64) * (s[hi] - s[lo])
}

/// Nearest centroid on z-scores, written here independently of `ProductionSegments::assign`.
fn nearest(seg: &segmentation::ProductionSegments, raw: &[f64]) -> usize {
    let z: Vec<f64> = raw
        .iter()
        .zip(seg.means.iter().zip(&seg.sds))
        .map(|(v, (m, s))| (v - m) / s)
        .collect();
    let d = |c: &Vec<f64>| z.iter().zip(c).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
    (0..seg.centroids.len())
        .min_by(|&a, &b| d(&seg.centroids[a]).total_cmp(&d(&seg.centroids[b])))
        .unwrap()
}

/// Checks the scores of `scored` (a table shaped like the training data) against the in-memory
/// production models fitted on the bundled data.
fn assert_matches_in_memory(scored: &Dataset, out: &Path, spend_known: bool) {
    let b = bundled();
    let settings = Settings::default();
    let (header, rows) = read_scores(out);
    assert_eq!(
        header,
        [
            "user_id",
            "predicted_purchase_amount",
            "purchase_amount_lower_90",
            "purchase_amount_upper_90",
            "growth_potential_probability",
            "growth_potential",
            "segment",
            "persona",
            "action"
        ]
    );
    assert_eq!(rows.len(), scored.n_rows());
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        ids,
        scored.ids.iter().map(String::as_str).collect::<Vec<_>>()
    );

    // Spend: the production regressor fitted in memory, on this table's design.
    let reg = regression::fit_production(&b.ds, &settings, &b.findings.regression).unwrap();
    // The bundled East rows are sparse: the saved models encode them as North (the merge).
    assert_eq!(
        reg.merges.merges,
        vec![("East".to_string(), "North".to_string())]
    );
    let remapped = remap(scored, &reg.merges);
    let design = regression::design::design(&remapped, reg.feature_set).unwrap();
    assert_eq!(design.columns, reg.design.columns);
    let want = reg.fitted.predict(&design.x);
    let got = num(&rows, 1);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "spend {g} vs {w}");
    }
    // Interval: type-7 quantiles 0.05 / 0.95 of the out-of-fold residuals, both ends clipped at
    // the spend range's minimum, 0 (a linear model can predict negative spend far out).
    let res = &b.findings.regression.out_of_fold.residual;
    let (lo, hi) = (quantile7(res, 0.05), quantile7(res, 0.95));
    for ((l, u), p) in num(&rows, 2).iter().zip(num(&rows, 3)).zip(&got) {
        assert!(
            (l - (p + lo).max(0.0)).abs() < 1e-9 && (u - (p + hi).max(0.0)).abs() < 1e-9,
            "interval [{l}, {u}] around {p} (offsets {lo}, {hi})"
        );
    }

    // Growth potential: the analysis' own (linfa) models refitted on all rows.
    let best = b.findings.classification.best.as_ref().unwrap();
    let honest = classification::honest_features(&scored.roles);
    let (prod, _) = classification::fit_production(&b.ds, &settings, best).unwrap();
    let dm = classification::design_matrix(scored, &honest, ClassFeatures::Honest)
        .unwrap()
        .merged_by(&prod.merges);
    assert!(!dm.columns.contains(&"region=East".to_string()));
    let xs: Vec<&[f64]> = dm.x.iter().map(Vec::as_slice).collect();
    let want_p = classification::production_reference_scores(&b.ds, &settings, best, &xs).unwrap();
    let got_p = num(&rows, 4);
    for ((g, w), r) in got_p.iter().zip(&want_p).zip(&rows) {
        assert!((g - w).abs() <= 1e-12, "probability {g} vs {w}");
        assert_eq!(r[5], (w >= &prod.threshold).to_string());
    }

    // Segments: nearest centroid of the in-memory production segmentation (spend observed when
    // known, else predicted), and the persona of that cluster.
    let seg = segmentation::fit_production(&b.ds, &settings, &b.findings.segmentation).unwrap();
    for (i, r) in rows.iter().enumerate() {
        let raw: Vec<f64> = seg
            .features
            .iter()
            .map(|f| {
                if *f == scored.roles.target && !spend_known {
                    want[i]
                } else {
                    scored.col(f)[i]
                }
            })
            .collect();
        let k = nearest(&seg, &raw);
        assert_eq!(r[6], k.to_string(), "row {i}");
        assert_eq!(r[7], b.findings.segmentation.personas[k].name);
        assert_eq!(r[8], b.findings.segmentation.personas[k].action);
    }
}

#[test]
fn scores_equal_the_in_memory_models_on_the_bundled_data() {
    let b = bundled();
    let dir = scratch("bundled-scores");
    let out = dir.join("scores.csv");
    let run = score(&bundled_csv(), &b.models, &out, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_matches_in_memory(&b.ds, &out, true);
    // On the training rows, the segment is the analysis' own k-means label of each row.
    let (_, rows) = read_scores(&out);
    let labels = &b.findings.segmentation.pca.as_ref().unwrap().labels;
    assert_eq!(labels.len(), rows.len());
    for (r, l) in rows.iter().zip(labels) {
        assert_eq!(r[6], l.to_string());
    }
}

#[test]
fn scores_equal_the_in_memory_models_on_a_synthetic_table_with_and_without_spend() {
    let b = bundled();
    let dir = scratch("synthetic-scores");
    let syn = data::synth(400, 11, &SynthSpec::default());
    let with = dir.join("synthetic.csv");
    data::write_csv(&syn, &with).unwrap();
    let out = dir.join("with.csv");
    let run = score(&with, &b.models, &out, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_matches_in_memory(&syn, &out, true);

    // The same customers without the spend column: new customers have no spend yet.
    let text = std::fs::read_to_string(&with).unwrap();
    let header = fields(text.lines().next().unwrap());
    let drop = header.iter().position(|h| h == "purchase_amount").unwrap();
    let stripped: String = text
        .lines()
        .map(|l| {
            let mut f = fields(l);
            f.remove(drop);
            f.join(",") + "\n"
        })
        .collect();
    let without = dir.join("new_customers.csv");
    std::fs::write(&without, stripped).unwrap();
    let out2 = dir.join("without.csv");
    let run = score(&without, &b.models, &out2, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_matches_in_memory(&syn, &out2, false);
    // Spend, interval and growth scores do not read spend: identical to the run with it.
    let (_, a) = read_scores(&out);
    let (_, c) = read_scores(&out2);
    for (x, y) in a.iter().zip(&c) {
        assert_eq!(x[..6], y[..6]);
    }
}

/// The central 90% interval from out-of-fold residuals, around the production model's
/// predictions of the training rows: coverage near 0.90. The production model was fitted on
/// these rows, so its residuals are at most as spread as the out-of-fold ones and coverage should
/// be at or a little above nominal; with 60 distinct rows behind the 238, one binomial sd of a
/// 90% share is about 0.04. Accepted: 0.85 to 0.99 (below nominal by more than one sd, or every
/// row covered, would mean the offsets or their use are wrong). Measured: 221 of 238 = 0.929.
#[test]
fn interval_covers_about_its_nominal_share_on_the_bundled_data() {
    let b = bundled();
    let dir = scratch("coverage");
    let out = dir.join("scores.csv");
    assert_eq!(score(&bundled_csv(), &b.models, &out, None).code, 0);
    let (_, rows) = read_scores(&out);
    let actual = b.ds.target();
    let inside = rows
        .iter()
        .zip(actual)
        .filter(|(r, a)| r[2].parse::<f64>().unwrap() <= **a && **a <= r[3].parse::<f64>().unwrap())
        .count();
    let share = inside as f64 / actual.len() as f64;
    assert!((0.85..=0.99).contains(&share), "coverage {share}");

    // The offsets themselves: numpy type-7 quantiles of the regression's out-of-fold residuals
    // (tests/reference/score.py, reading report/findings.json). The reference stores the
    // residuals it used; this build's residuals must be exactly those, or the reference is stale.
    let r = Reference::load("score");
    assert_eq!(
        b.findings.regression.out_of_fold.residual,
        r.f64s("/residuals"),
        "the out-of-fold residuals moved: run `cargo run --release --bin report`, then \
         `bash tests/reference/regenerate.sh score`"
    );
    let spend: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.models.join(models::SPEND_FILE)).unwrap()).unwrap();
    let iv = &spend["interval"];
    let (offsets, quantiles) = (r.f64s("/offsets"), r.f64s("/quantiles"));
    assert!((iv["lower_offset"].as_f64().unwrap() - offsets[0]).abs() < 1e-9);
    assert!((iv["upper_offset"].as_f64().unwrap() - offsets[1]).abs() < 1e-9);
    assert_eq!(iv["lower_quantile"].as_f64(), Some(quantiles[0]));
    assert_eq!(iv["upper_quantile"].as_f64(), Some(quantiles[1]));
}

/// A copy of the bundled model folder with one file changed by `edit`.
fn tampered(name: &str, file: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let dir = scratch(name).join("models");
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        models::SPEND_FILE,
        models::GROWTH_FILE,
        models::SEGMENTS_FILE,
    ] {
        std::fs::copy(bundled().models.join(f), dir.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    std::fs::write(dir.join(file), edit(text)).unwrap();
    dir
}

/// Runs a scoring that must fail: exit 2, every `needles` in the message, and an existing
/// output file left as it was.
fn assert_refused(models: &Path, settings: Option<&Path>, input: &Path, needles: &[&str]) {
    let out = models.parent().unwrap().join("scores.csv");
    std::fs::write(&out, "previous output\n").unwrap();
    let run = score(input, models, &out, settings);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for n in needles {
        assert!(run.stderr.contains(n), "missing {n:?} in: {}", run.stderr);
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous output\n");
    let leftovers: Vec<_> = std::fs::read_dir(models.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn wrong_format_version_is_refused_naming_the_file() {
    let dir = tampered("version", models::GROWTH_FILE, |t| {
        t.replacen(
            &format!("\"format_version\": {},", models::FORMAT_VERSION),
            "\"format_version\": 7,",
            1,
        )
    });
    let reads = format!("reads version {}", models::FORMAT_VERSION);
    assert_refused(
        &dir,
        None,
        &bundled_csv(),
        &["growth.json", "format version 7", &reads],
    );
}

#[test]
fn corrupted_and_truncated_model_files_are_refused_naming_the_file() {
    let truncated = tampered("truncated", models::SPEND_FILE, |t| {
        t[..t.len() / 2].to_string()
    });
    assert_refused(
        &truncated,
        None,
        &bundled_csv(),
        &["spend.json", "corrupted or truncated", "line"],
    );
    let garbage = tampered("garbage", models::SEGMENTS_FILE, |_| {
        "\u{0}\u{1}binary".into()
    });
    assert_refused(
        &garbage,
        None,
        &bundled_csv(),
        &["segments.json", "corrupted"],
    );
    // Valid JSON of the right version whose fields are wrong.
    let wrong = tampered("fields", models::GROWTH_FILE, |t| {
        t.replacen("\"threshold\":", "\"threshold_renamed\":", 1)
    });
    assert_refused(
        &wrong,
        None,
        &bundled_csv(),
        &[
            "growth.json",
            "not a valid growth-potential classifier model",
            "threshold",
        ],
    );
    // A centroid with a missing coordinate.
    let short = tampered("short-centroid", models::SEGMENTS_FILE, |t| {
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        let mut v = v;
        v["segments"]["centroids"][0].as_array_mut().unwrap().pop();
        serde_json::to_string_pretty(&v).unwrap()
    });
    assert_refused(
        &short,
        None,
        &bundled_csv(),
        &["segments.json", "centroids"],
    );
    let missing = scratch("missing").join("models");
    std::fs::create_dir_all(&missing).unwrap();
    assert_refused(
        &missing,
        None,
        &bundled_csv(),
        &["spend.json", "report build"],
    );
}

#[test]
fn models_trained_with_other_roles_are_refused_saying_what_differs() {
    let dir = scratch("roles");
    let mut s = Settings::default();
    s.roles.demographic = vec!["age".into()];
    let toml = dir.join("other.toml");
    std::fs::write(&toml, s.to_toml()).unwrap();
    let models = tampered("roles-models", models::SPEND_FILE, |t| t);
    assert_refused(
        &models,
        Some(&toml),
        &bundled_csv(),
        &[
            "spend.json",
            "roles.demographic is [\"age\", \"annual_income\"] in the model but [\"age\"] in the input's settings",
        ],
    );
}

#[test]
fn bad_input_fails_like_report_build_and_leaves_the_output() {
    let dir = scratch("bad-input");
    let text = std::fs::read_to_string(bundled_csv()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut f: Vec<&str> = lines[3].split(',').collect();
    f[1] = "abc"; // the age column of line 4
    lines[3] = f.join(",");
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let models = tampered("bad-input-models", models::SPEND_FILE, |t| t);
    assert_refused(
        &models,
        None,
        &bad,
        &["bad.csv:line 4, column 'age', value 'abc': age is a number"],
    );
    // A missing input is named, with score's own flag (not build's --data) as the way out.
    let nope = dir.join("nope.csv");
    assert_refused(
        &models,
        None,
        &nope,
        &[
            "nope.csv' does not exist",
            "pass an existing CSV file with --input",
        ],
    );
    let run = score(&nope, &models, &dir.join("s.csv"), None);
    assert!(!run.stderr.contains("--data"), "{}", run.stderr);
}

#[test]
fn model_files_are_outputs_that_check_reports_stale() {
    let b = bundled();
    let dir = scratch("stale");
    let opts = BuildOptions {
        data: bundled_csv(),
        out_dir: b.models.parent().unwrap().to_path_buf(),
        readme: None,
        tracking: Tracking::Off,
        ..BuildOptions::default()
    };
    // Copy the build elsewhere so this test can damage it without disturbing the others.
    let out = dir.join("out");
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for f in [
            models::SPEND_FILE,
            models::GROWTH_FILE,
            models::SEGMENTS_FILE,
        ] {
            std::fs::copy(from.join(f), to.join(f)).unwrap();
        }
    };
    copy(&b.models, &out.join(models::MODELS_DIR));
    let opts = BuildOptions {
        out_dir: out.clone(),
        ..opts
    };
    let stale = pipeline::check(&opts, &mut |_| {}).unwrap();
    for f in [
        models::SPEND_FILE,
        models::GROWTH_FILE,
        models::SEGMENTS_FILE,
    ] {
        assert!(
            !stale.contains(&out.join(models::MODELS_DIR).join(f)),
            "{f} is reported stale right after a build: model bytes are not deterministic"
        );
    }
    let p = out.join(models::MODELS_DIR).join(models::GROWTH_FILE);
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, t.replacen("\"threshold\": ", "\"threshold\":  ", 1)).unwrap();
    let stale = pipeline::check(&opts, &mut |_| {}).unwrap();
    assert!(stale.contains(&p), "{stale:?}");
}

/// Every regressor kind and every classifier configuration survives the trip through its saved
/// form: the model read back from JSON predicts exactly what the in-memory model predicts (the
/// smartcore forest through smartcore's serde support, the linfa classifiers through their plain
/// form), on rows it was not fitted on.
#[test]
fn every_model_kind_round_trips_through_json() {
    use customer_intel::ml::regressors::{Fitted, ModelKind};
    let b = bundled();
    let settings = Settings::default();
    let syn = data::synth(150, 5, &SynthSpec::default());
    for kind in ModelKind::ALL {
        let mut rf = b.findings.regression.clone();
        rf.best.model = Some(kind);
        let reg = regression::fit_production(&b.ds, &settings, &rf).unwrap();
        assert_eq!(reg.penalty.is_some(), kind.is_penalised());
        let x = regression::design::design(&remap(&syn, &reg.merges), reg.feature_set)
            .unwrap()
            .x;
        let json = serde_json::to_string_pretty(&reg.fitted).unwrap();
        let back: Fitted = serde_json::from_str(&json).unwrap();
        assert_eq!(back.predict(&x), reg.fitted.predict(&x), "{kind:?}");
        assert_eq!(
            serde_json::to_string_pretty(&back).unwrap(),
            json,
            "{kind:?}"
        );
    }
    let honest = classification::honest_features(&syn.roles);
    let (_, map) = classification::production_design(&b.ds, &settings).unwrap();
    let dm = classification::design_matrix(&syn, &honest, ClassFeatures::Honest)
        .unwrap()
        .merged_by(&map);
    let xs: Vec<&[f64]> = dm.x.iter().map(Vec::as_slice).collect();
    for model in classification::ClassifierKind::ALL {
        for smote in [false, true] {
            let mut best = b.findings.classification.best.clone().unwrap();
            best.model = model;
            best.smote = smote;
            let (prod, _) = classification::fit_production(&b.ds, &settings, &best).unwrap();
            let json = serde_json::to_string(&prod).unwrap();
            let back: classification::ProductionClassifier = serde_json::from_str(&json).unwrap();
            let want =
                classification::production_reference_scores(&b.ds, &settings, &best, &xs).unwrap();
            for (row, w) in xs.iter().zip(&want) {
                let g = back.fitted.probability(row);
                assert!(
                    (g - w).abs() <= 1e-12,
                    "{model:?} smote={smote}: {g} vs {w}"
                );
            }
            assert!(
                want.iter().any(|&p| p > 0.0 && p < 1.0)
                    || model == classification::ClassifierKind::DecisionTree,
                "{model:?}: scores are all 0 or 1, the comparison says little"
            );
        }
    }
}

/// A table too small for the analyses to name models: the build writes a note instead of model
/// files and removes model files an earlier build left, and scoring says why there are none.
#[test]
fn a_build_without_models_leaves_a_note_and_no_stale_models() {
    let dir = scratch("not-saved");
    let tiny = dir.join("tiny.csv");
    data::write_csv(&data::synth(12, 3, &SynthSpec::default()), &tiny).unwrap();
    let models_dir = dir.join("out").join(models::MODELS_DIR);
    std::fs::create_dir_all(&models_dir).unwrap();
    std::fs::write(models_dir.join(models::SPEND_FILE), "{}").unwrap();
    let opts = BuildOptions {
        data: tiny.clone(),
        out_dir: dir.join("out"),
        readme: None,
        tracking: Tracking::Off,
        ..BuildOptions::default()
    };
    pipeline::build(&opts, &mut |_| {}).unwrap();
    assert!(!models_dir.join(models::SPEND_FILE).exists());
    let note = std::fs::read_to_string(models_dir.join(models::NOT_SAVED_FILE)).unwrap();
    assert!(note.contains("were not saved"), "{note}");
    assert_refused(
        &models_dir,
        None,
        &tiny,
        &["holds no models", "were not saved"],
    );
}

/// A table longer than one chunk ([`customer_intel::score::CHUNK_ROWS`] rows) streams through
/// chunk by chunk: the scores equal the in-memory models' on every row, and a bad cell in a later
/// chunk is reported with its line number in the whole file while the old output stays.
#[test]
fn a_table_longer_than_one_chunk_streams_and_reports_absolute_lines() {
    let b = bundled();
    let dir = scratch("multi-chunk");
    let rows = customer_intel::score::CHUNK_ROWS + 3_000;
    let syn = data::synth(rows, 5, &SynthSpec::default());
    let input = dir.join("many.csv");
    data::write_csv(&syn, &input).unwrap();
    let out = dir.join("many.scores.csv");
    let run = score(&input, &b.models, &out, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_matches_in_memory(&syn, &out, true);

    // Break the age of the second-to-last customer (well inside the second chunk).
    let text = std::fs::read_to_string(&input).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let line_no = lines.len() - 1; // 1-based number of the second-to-last line
    let header = fields(&lines[0]);
    let age = header.iter().position(|h| h == "age").unwrap();
    let mut f = fields(&lines[line_no - 1]);
    f[age] = "old".into();
    lines[line_no - 1] = f.join(",");
    let bad = dir.join("many_bad.csv");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let before = std::fs::read(&out).unwrap();
    let run = score(&bad, &b.models, &out, None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "many_bad.csv:line {line_no}, column 'age', value 'old'"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the old output is untouched"
    );
}

/// Issue 20: edits that keep a model file's structure valid (so no structural check can see
/// them) changed the scores silently; the content checksum now refuses each, naming the file,
/// with exit 2 and no panic message.
#[test]
fn content_edits_that_keep_the_structure_are_refused_by_the_checksum() {
    // A scaler mean of the spend model.
    let spend = tampered("checksum-spend", models::SPEND_FILE, |t| {
        t.replacen("38.6764705882353", "39.6764705882353", 1)
    });
    // A persona's action of the segments file (text only).
    let segments = tampered("checksum-segments", models::SEGMENTS_FILE, |t| {
        let at = t.find("\"actions\": [").unwrap();
        let q = at + t[at..].find("\n      \"").unwrap() + 8;
        format!("{}X{}", &t[..q], &t[q + 1..])
    });
    // A text of the growth classifier's header.
    let growth = tampered("checksum-growth", models::GROWTH_FILE, |t| {
        t.replacen("\"hyperparameters\": \"", "\"hyperparameters\": \"X", 1)
    });
    for (dir, file) in [
        (&spend, "spend.json"),
        (&segments, "segments.json"),
        (&growth, "growth.json"),
    ] {
        let before = std::fs::read_to_string(bundled().models.join(file)).unwrap();
        let after = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_ne!(before, after, "{file}: the edit must change the file");
        assert_refused(dir, None, &bundled_csv(), &[file, "changed or damaged"]);
        let run = score(&bundled_csv(), dir, &dir.join("x.csv"), None);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}
