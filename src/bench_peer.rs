//! `report bench --peer`: times a whole `report build` process against the Python peer script
//! (`benches/peer/peer.py`: pandas, scikit-learn, imbalanced-learn and matplotlib doing the same
//! analyses on the same table), paired run by run on the same machine, and reports both medians
//! and their ratio. When no Python with those packages is found it says so and measures nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Where the peer script lives, relative to the repository root.
pub const PEER_SCRIPT: &str = "benches/peer/peer.py";

/// The virtual environment `benches/peer/README.md` creates (used when present).
pub const PEER_VENV_PYTHON: &str = "target/peer-venv/bin/python";

/// The Python packages the peer imports.
const PEER_IMPORTS: &str = "import pandas, sklearn, imblearn, matplotlib";

/// How to run the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerOptions {
    /// The `report` executable to time (normally the running one).
    pub report: PathBuf,
    /// The table both sides analyse.
    pub data: PathBuf,
    /// The peer script.
    pub script: PathBuf,
    /// The Python interpreter; `None`: `PEER_PYTHON`, else [`PEER_VENV_PYTHON`] if it exists,
    /// else `python3` on the `PATH`.
    pub python: Option<PathBuf>,
    /// Paired runs (each runs both processes once).
    pub runs: usize,
    /// Scratch folder for both sides' outputs (and `report build`'s local run log).
    pub scratch: PathBuf,
}

/// Wall-clock seconds of both processes, run by run.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerTimes {
    /// The interpreter used.
    pub python: PathBuf,
    /// `report build`, one entry per paired run.
    pub ours: Vec<f64>,
    /// The peer script, one entry per paired run.
    pub peer: Vec<f64>,
    /// `/proc/loadavg`'s first three fields before the first and after the last run.
    pub load: (String, String),
}

impl PeerTimes {
    /// Median seconds of `report build`.
    pub fn ours_median(&self) -> f64 {
        crate::stats::median(&self.ours)
    }

    /// Median seconds of the peer.
    pub fn peer_median(&self) -> f64 {
        crate::stats::median(&self.peer)
    }

    /// How many times faster `report build` is: the peer's median over ours.
    pub fn ratio(&self) -> f64 {
        self.peer_median() / self.ours_median()
    }
}

/// The outcome: measured, or skipped with the reason.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerOutcome {
    /// Both sides ran every time.
    Measured(PeerTimes),
    /// Nothing was timed, and why (no Python, missing packages).
    Skipped(String),
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unavailable".into())
}

/// The interpreter to use and whether it can import the peer's packages; `Err` says why not.
fn find_python(opts: &PeerOptions) -> Result<PathBuf, String> {
    let candidate = opts
        .python
        .clone()
        .or_else(|| std::env::var_os("PEER_PYTHON").map(PathBuf::from))
        .or_else(|| {
            let venv = PathBuf::from(PEER_VENV_PYTHON);
            venv.exists().then_some(venv)
        })
        .unwrap_or_else(|| PathBuf::from("python3"));
    let probe = Command::new(&candidate)
        .args(["-c", PEER_IMPORTS])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match probe {
        Err(e) => Err(format!(
            "no Python interpreter at {} ({e}); see benches/peer/README.md",
            candidate.display()
        )),
        Ok(o) if !o.status.success() => Err(format!(
            "{} cannot import the peer's packages ({}); see benches/peer/README.md",
            candidate.display(),
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("import failed")
        )),
        // The runs start in a scratch folder: a relative path must not be resolved from there.
        Ok(_) if candidate.components().count() > 1 => absolute(&candidate),
        Ok(_) => Ok(candidate),
    }
}

/// Runs one process to completion in `dir`, returning its wall-clock seconds, or the error with
/// the end of its standard error.
fn timed(mut cmd: Command, dir: &Path, what: &str) -> Result<f64, String> {
    let start = Instant::now();
    let out = cmd
        .current_dir(dir)
        .env_remove("MLFLOW_TRACKING_URI")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{what} could not start: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(format!(
            "{what} failed ({}): {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ));
    }
    Ok(secs)
}

fn absolute(p: &Path) -> Result<PathBuf, String> {
    std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// Times `report build` and the peer script, `opts.runs` paired runs (ours first in each pair),
/// each a whole process with its outputs in `opts.scratch`.
pub fn run(opts: &PeerOptions) -> Result<PeerOutcome, String> {
    let python = match find_python(opts) {
        Ok(p) => p,
        Err(why) => return Ok(PeerOutcome::Skipped(why)),
    };
    if !opts.script.exists() {
        return Ok(PeerOutcome::Skipped(format!(
            "the peer script {} is missing (run from the repository root)",
            opts.script.display()
        )));
    }
    let (data, script, report) = (
        absolute(&opts.data)?,
        absolute(&opts.script)?,
        absolute(&opts.report)?,
    );
    let scratch = absolute(&opts.scratch)?;
    let (ours_dir, peer_dir) = (scratch.join("ours"), scratch.join("peer"));
    for d in [&ours_dir, &peer_dir] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let load_before = loadavg();
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..opts.runs.max(1) {
        let mut c = Command::new(&report);
        c.arg("build")
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(ours_dir.join("report"));
        ours.push(timed(c, &ours_dir, "report build")?);
        let mut c = Command::new(&python);
        c.arg(&script)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(peer_dir.join("out"))
            .env("PYTHONDONTWRITEBYTECODE", "1");
        peer.push(timed(c, &peer_dir, "the peer script")?);
    }
    let load_after = loadavg();
    // The outputs were only there to be written: remove the scratch folder.
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(PeerOutcome::Measured(PeerTimes {
        python,
        ours,
        peer,
        load: (load_before, load_after),
    }))
}

/// The comparison as text: one row per side with every run and the median, then the ratio.
pub fn format(outcome: &PeerOutcome) -> String {
    match outcome {
        PeerOutcome::Skipped(why) => format!("peer comparison skipped: {why}\n"),
        PeerOutcome::Measured(t) => {
            let runs = |v: &[f64]| {
                v.iter()
                    .map(|s| format!("{s:.3}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            format!(
                "whole process, wall clock, {} paired runs (load average {} before, {} after)\n\
                 {:<28}{:>10}   runs (s)\n\
                 {:<28}{:>10.3}   {}\n\
                 {:<28}{:>10.3}   {}\n\
                 {:<28}{:>10.1}\n",
                t.ours.len(),
                t.load.0,
                t.load.1,
                "process",
                "median (s)",
                "report build",
                t.ours_median(),
                runs(&t.ours),
                format!("peer ({})", PEER_SCRIPT),
                t.peer_median(),
                runs(&t.peer),
                "peer / report build",
                t.ratio(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ratio() {
        let t = PeerTimes {
            python: "python3".into(),
            ours: vec![0.3, 0.1, 0.2],
            peer: vec![10.0, 30.0, 20.0, 40.0],
            load: ("0.1 0.2 0.3".into(), "0.1 0.2 0.3".into()),
        };
        assert_eq!(t.ours_median(), 0.2);
        assert_eq!(t.peer_median(), 25.0);
        assert!((t.ratio() - 125.0).abs() < 1e-9);
        let text = format(&PeerOutcome::Measured(t));
        assert!(text.contains("125.0"), "{text}");
    }

    #[test]
    fn a_missing_interpreter_is_a_skip_not_a_failure() {
        let opts = PeerOptions {
            report: "report".into(),
            data: "data.csv".into(),
            script: PEER_SCRIPT.into(),
            python: Some("/nonexistent/python-for-the-peer".into()),
            runs: 1,
            scratch: std::env::temp_dir(),
        };
        match run(&opts).unwrap() {
            PeerOutcome::Skipped(why) => assert!(why.contains("no Python interpreter"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
