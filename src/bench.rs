//! The benchmark behind `report bench`: times every pipeline stage on the bundled data and on
//! synthetic tables of growing size, with peak memory, and checks that time grows no faster than
//! linearly in rows. Each size runs in its own child process so peak memory is per size.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::data::{self, SynthSpec};
use crate::pipeline::{self, BuildOptions};
use crate::settings::Settings;
use crate::stats;

/// The median wall-clock time of `runs` calls of `f`, in milliseconds (used by `benches/`).
///
/// ```
/// let ms = customer_intel::bench::median_ms(3, || std::thread::sleep(std::time::Duration::from_millis(2)));
/// assert!(ms >= 2.0);
/// ```
pub fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Timings of one table size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeResult {
    /// Label: "bundled" or the row count.
    pub label: String,
    /// Rows in the table.
    pub rows: usize,
    /// (stage, seconds), in pipeline order.
    pub stages: Vec<(String, f64)>,
    /// Seconds for everything, end to end.
    pub total: f64,
    /// Peak resident memory of the process, in MiB (Linux VmHWM; 0 where unavailable).
    pub peak_mib: f64,
    /// Processes measured: with more than one, each time is their median and the peak memory
    /// their largest ([`median_of`]).
    #[serde(default = "one_run")]
    pub runs: usize,
}

fn one_run() -> usize {
    1
}

/// One size measured in several processes, summarised: each stage's and the total's median time
/// and the largest peak memory. A stage time measured once moves by tens of percent between
/// runs on a shared machine (the growth check compares two of them); medians of a few
/// processes, interleaved with the other sizes, move much less. Errors when the runs are of
/// different tables or stages.
pub fn median_of(runs: &[SizeResult]) -> Result<SizeResult, String> {
    let first = runs.first().ok_or("no runs to summarise")?;
    for r in runs {
        let names = |x: &SizeResult| x.stages.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        if r.label != first.label || r.rows != first.rows || names(r) != names(first) {
            return Err(format!(
                "runs of '{}' and '{}' measured different tables or stages",
                first.label, r.label
            ));
        }
    }
    let stages = first
        .stages
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let times: Vec<f64> = runs.iter().map(|r| r.stages[i].1).collect();
            (name.clone(), stats::median(&times))
        })
        .collect();
    Ok(SizeResult {
        label: first.label.clone(),
        rows: first.rows,
        stages,
        total: stats::median(&runs.iter().map(|r| r.total).collect::<Vec<_>>()),
        peak_mib: runs.iter().map(|r| r.peak_mib).fold(0.0, f64::max),
        runs: runs.iter().map(|r| r.runs).sum(),
    })
}

/// Runs every stage once on `csv` (already on disk) and returns the timings.
pub fn measure(
    csv: &Path,
    label: &str,
    settings: &Settings,
    out_dir: &Path,
) -> Result<SizeResult, pipeline::PipelineError> {
    let mut stages = Vec::new();
    let t_all = Instant::now();

    let t = Instant::now();
    let ds = data::load_with_roles(csv, &settings.roles)?;
    stages.push(("load and validate".to_string(), t.elapsed().as_secs_f64()));
    let rows = ds.n_rows();
    let findings = pipeline::analyze_timed(&ds, settings, &mut |name, d| {
        stages.push((name.to_string(), d.as_secs_f64()))
    });
    // Full-table fits on every row (no sample cap): the issue's "linear models" and "k-means for
    // one k" (with the analysis' k-means++ restarts, and with a single one).
    let t = Instant::now();
    linear_models(&ds);
    stages.push((
        "linear models (all rows)".to_string(),
        t.elapsed().as_secs_f64(),
    ));
    let k = findings.segmentation.chosen_k.max(2);
    let t = Instant::now();
    let _ = crate::analysis::segmentation::kmeans_all_rows(&ds, settings, k);
    stages.push((
        format!("k-means one k, {} inits", settings.segmentation.n_init),
        t.elapsed().as_secs_f64(),
    ));
    let mut one_init = settings.clone();
    one_init.segmentation.n_init = 1;
    let t = Instant::now();
    let _ = crate::analysis::segmentation::kmeans_all_rows(&ds, &one_init, k);
    stages.push((
        "k-means one k, 1 init".to_string(),
        t.elapsed().as_secs_f64(),
    ));
    let t = Instant::now();
    let figures = crate::plot::all(&findings);
    stages.push(("plots".to_string(), t.elapsed().as_secs_f64()));
    drop(figures);
    let t = Instant::now();
    let opts = BuildOptions {
        data: csv.to_path_buf(),
        out_dir: out_dir.to_path_buf(),
        readme: None,
        templates: None,
        settings: settings.clone(),
        tracking: crate::tracking::Tracking::Off,
        ..BuildOptions::default()
    };
    let outputs = pipeline::outputs(&findings, &opts)?;
    stages.push(("render (with plots)".to_string(), t.elapsed().as_secs_f64()));
    drop(outputs);
    let t = Instant::now();
    let models = crate::models::fit(&ds, settings, &findings);
    stages.push(("production models".to_string(), t.elapsed().as_secs_f64()));
    // Scoring the same table with the saved models, end to end (read models, load and validate,
    // score, write the CSV), as `report score` does.
    let models_dir = out_dir.join(crate::models::MODELS_DIR);
    let mut files = crate::output::Outputs::default();
    pipeline::insert_models(&mut files, &models, out_dir);
    files
        .write()
        .map_err(|source| pipeline::PipelineError::Write {
            path: out_dir.to_path_buf(),
            source,
        })?;
    drop(models);
    drop(ds);
    let t = Instant::now();
    let scored = crate::score::score(&crate::score::ScoreOptions {
        input: csv.to_path_buf(),
        models: models_dir,
        out: out_dir.join("scores.csv"),
        settings: settings.clone(),
    });
    stages.push(("score".to_string(), t.elapsed().as_secs_f64()));
    if let Err(e) = scored {
        eprintln!("warning: scoring failed in the benchmark: {e}");
    }
    Ok(SizeResult {
        label: label.to_string(),
        rows,
        stages,
        total: t_all.elapsed().as_secs_f64(),
        peak_mib: peak_mib(),
        runs: 1,
    })
}

/// Fits OLS and Ridge (penalty 0.1) on the behavioural features of every row and predicts every
/// row: what fitting the linear spend models costs without a sample cap.
fn linear_models(ds: &crate::data::Dataset) {
    use crate::analysis::regression::{FeatureSet, design};
    use crate::ml::regressors::{FitOptions, ModelKind, fit};
    let Ok(d) = design::design(ds, FeatureSet::Behavioural) else {
        return;
    };
    let opts = FitOptions {
        penalty: 0.1,
        forest: Default::default(),
        max_iterations: 300,
        seed: 0,
    };
    for kind in [ModelKind::Ols, ModelKind::Ridge] {
        if let Ok(m) = fit(kind, &d.x, ds.target(), &opts) {
            std::hint::black_box(m.predict(&d.x));
        }
    }
}

/// Writes a synthetic table of `rows` customers (25% duplicates, like a real export) to `path`.
pub fn write_synthetic(rows: usize, seed: u64, path: &Path) -> std::io::Result<()> {
    let spec = SynthSpec {
        duplicate_rate: 0.25,
        ..SynthSpec::default()
    };
    data::write_csv(&data::synth(rows, seed, &spec), path)
}

/// Peak resident set size of this process in MiB (Linux), or 0.
pub fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The benchmark table as aligned text, with the growth ratio between the two largest sizes.
pub fn format_table(results: &[SizeResult]) -> String {
    const W: usize = 26;
    let mut s = String::new();
    let stages: Vec<String> = results
        .first()
        .map(|r| r.stages.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    if let Some(r) = results.first().filter(|r| r.runs > 1) {
        s.push_str(&format!(
            "median of {} processes per size (peak memory: the largest)\n",
            r.runs
        ));
    }
    s.push_str(&format!("{:<W$}", "stage (seconds)"));
    for r in results {
        s.push_str(&format!("{:>14}", r.label));
    }
    s.push('\n');
    for (i, name) in stages.iter().enumerate() {
        s.push_str(&format!("{name:<W$}"));
        for r in results {
            s.push_str(&format!(
                "{:>14.4}",
                r.stages.get(i).map_or(f64::NAN, |x| x.1)
            ));
        }
        s.push('\n');
    }
    s.push_str(&format!("{:<W$}", "total"));
    for r in results {
        s.push_str(&format!("{:>14.4}", r.total));
    }
    s.push('\n');
    s.push_str(&format!("{:<W$}", "peak memory (MiB)"));
    for r in results {
        s.push_str(&format!("{:>14.0}", r.peak_mib));
    }
    s.push('\n');
    let synth: Vec<&SizeResult> = results.iter().filter(|r| r.label != "bundled").collect();
    if synth.len() >= 2 {
        let (a, b) = (synth[synth.len() - 2], synth[synth.len() - 1]);
        let rows_ratio = b.rows as f64 / a.rows as f64;
        s.push_str(&format!(
            "growth {} → {} rows (linear would be ×{:.1}):\n",
            a.rows, b.rows, rows_ratio
        ));
        for (i, name) in stages.iter().enumerate() {
            let ratio = b.stages[i].1 / a.stages[i].1.max(1e-9);
            let verdict = if ratio <= rows_ratio * 1.5 {
                "ok"
            } else {
                "SUPERLINEAR"
            };
            s.push_str(&format!("  {name:<W$} ×{ratio:>7.1}  {verdict}\n"));
        }
    }
    s
}

/// Where the benchmark keeps its synthetic files.
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("customer-intel-bench-{}", std::process::id()))
}

/// Measures one size in this process and returns it as JSON (what a child process prints).
/// `size` 0 means the bundled data file `bundled`.
pub fn child(
    size: usize,
    seed: u64,
    bundled: &Path,
    settings: &Settings,
) -> Result<String, String> {
    let dir = scratch_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let (csv, label) = if size == 0 {
        (bundled.to_path_buf(), "bundled".to_string())
    } else {
        let p = dir.join(format!("synthetic-{size}.csv"));
        write_synthetic(size, seed, &p)
            .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        (p, size.to_string())
    };
    let result = measure(&csv, &label, settings, &dir.join("out"));
    let _ = std::fs::remove_dir_all(&dir);
    let r = result.map_err(|e| e.to_string())?;
    Ok(serde_json::to_string(&r).expect("serialisable"))
}

/// Runs the bundled data and each synthetic size in a child process of `exe` (the `report`
/// binary, called as `exe bench --child SIZE`), `repeats` times, and collects each size's
/// [`median_of`] its runs. The repeats go round all sizes in turn (bundled, small, ..., large,
/// then again), so a slow spell of the machine falls on every size rather than on one.
pub fn run(
    exe: &Path,
    sizes: &[usize],
    seed: u64,
    repeats: usize,
    extra_args: &[String],
) -> Result<Vec<SizeResult>, String> {
    let all: Vec<usize> = std::iter::once(0).chain(sizes.iter().copied()).collect();
    let mut measured: Vec<Vec<SizeResult>> = vec![Vec::new(); all.len()];
    for _ in 0..repeats.max(1) {
        for (slot, &size) in measured.iter_mut().zip(&all) {
            let what = if size == 0 {
                "benchmark of size bundled".to_string()
            } else {
                format!("benchmark of size {size}")
            };
            let args = [
                "--child".to_string(),
                size.to_string(),
                "--seed".into(),
                seed.to_string(),
            ];
            slot.push(child_json(
                exe,
                args.iter().map(std::ffi::OsStr::new),
                extra_args,
                &what,
            )?);
        }
    }
    measured.iter().map(|runs| median_of(runs)).collect()
}

/// Runs `exe bench ARGS EXTRA_ARGS` in a child process and reads the JSON it prints; `what`
/// names the run in the error when the child cannot start, fails, or prints something else.
pub(crate) fn child_json<'a, T: serde::de::DeserializeOwned>(
    exe: &Path,
    args: impl IntoIterator<Item = &'a std::ffi::OsStr>,
    extra_args: &[String],
    what: &str,
) -> Result<T, String> {
    let o = std::process::Command::new(exe)
        .arg("bench")
        .args(args)
        .args(extra_args)
        .output()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if !o.status.success() {
        return Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    serde_json::from_slice(&o.stdout).map_err(|e| format!("bad child output: {e}"))
}

/// Times the streamed EDA aggregates ([`crate::analysis::eda::profiles_streamed`], chunks of
/// 100,000 rows) on an existing CSV file and reports rows, seconds and this process' peak memory
/// (run it in a fresh process, as `report bench --stream-eda FILE` does).
pub fn stream_eda(path: &Path, settings: &Settings) -> Result<String, String> {
    let t = Instant::now();
    let p = crate::analysis::eda::profiles_streamed(path, settings, 100_000)
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "streamed EDA aggregates of {}: {} rows, {} numeric profiles, {:.2} s, peak memory {:.0} MiB",
        path.display(),
        p.rows,
        p.numeric.len(),
        t.elapsed().as_secs_f64(),
        peak_mib()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(stages: &[f64], total: f64, peak: f64) -> SizeResult {
        SizeResult {
            label: "1000".into(),
            rows: 1000,
            stages: ["load", "fit"]
                .iter()
                .zip(stages)
                .map(|(n, &t)| (n.to_string(), t))
                .collect(),
            total,
            peak_mib: peak,
            runs: 1,
        }
    }

    /// Medians as numpy.median gives them (odd count: the middle value; even: the mean of the
    /// middle two), the largest peak, the runs counted; mismatched runs refused.
    #[test]
    fn median_of_runs_matches_numpy_and_refuses_mismatched_runs() {
        // numpy.median([0.3, 0.1, 0.2]) = 0.2, numpy.median([0.5, 0.9, 0.7]) = 0.7
        let three = [
            size(&[0.3, 0.5], 1.5, 10.0),
            size(&[0.1, 0.9], 1.0, 30.0),
            size(&[0.2, 0.7], 1.25, 20.0),
        ];
        let m = median_of(&three).unwrap();
        assert_eq!(m.stages, vec![("load".into(), 0.2), ("fit".into(), 0.7)]);
        assert_eq!((m.total, m.peak_mib, m.runs), (1.25, 30.0, 3));
        // numpy.median([1, 3, 2, 4]) = 2.5; numpy.median([1.5, 1.0, 1.25, 2.0]) = 1.375
        let mut four = three.to_vec();
        four.push(size(&[4.0, 2.0], 2.0, 5.0));
        four[0].stages[0].1 = 1.0;
        four[1].stages[0].1 = 3.0;
        four[2].stages[0].1 = 2.0;
        let m = median_of(&four).unwrap();
        assert_eq!(m.stages[0].1, 2.5);
        assert_eq!(m.total, 1.375);
        let mut other = size(&[0.1, 0.2], 1.0, 1.0);
        other.stages[1].0 = "predict".into();
        let err = median_of(&[three[0].clone(), other]).unwrap_err();
        assert!(err.contains("different tables or stages"), "{err}");
        assert!(median_of(&[]).is_err());
        assert!(format_table(&[m]).starts_with("median of 4 processes per size"));
    }
}
