//! `report`: the command-line face of customer-intel. It parses arguments, calls one library
//! function, and prints results or the full cause chain of an error. Exit codes: 0 success,
//! 1 stale outputs (`check`), 2 bad input or usage, 3 outputs written but recording the run failed,
//! 4 PDFs could not be printed (no Chromium, or it failed).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use customer_intel::bench;
use customer_intel::data::{self, DataError, SynthSpec};
use customer_intel::pipeline::{self, BuildOptions, PipelineError};
use customer_intel::score::ScoreError;
use customer_intel::settings::Settings;
use customer_intel::tracking::Tracking;

#[derive(Parser)]
#[command(
    name = "report",
    version,
    about = "Analyse a customer table and render README sections, an HTML report and slides."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    build: BuildArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Load, validate and analyse the data; write findings, figures, report, slides and README sections (the default).
    Build(BuildArgs),
    /// Render everything in memory and exit 1 naming each committed output that is stale.
    Check(BuildArgs),
    /// Load and validate a table without analysing it; print its profile (rows, duplicates, categories).
    Validate(BuildArgs),
    /// Write a synthetic customer table with the bundled schema.
    Synth(SynthArgs),
    /// Time every stage on the bundled data and on synthetic tables, with peak memory (use a release build).
    Bench(BenchArgs),
    /// Score new customers with the models `report build` saved: predicted spend with an interval,
    /// growth-potential probability and flag, persona and action, one CSV row per customer.
    Score(ScoreArgs),
    /// Serve the saved models over HTTP: a dashboard at / and a JSON API under /v1 (stop with Ctrl-C).
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
    /// Compare a current table with a reference table (PSI and KS per feature, the category mix,
    /// the alarm rule); write drift.json and drift.html.
    Drift(DriftArgs),
    /// Print report.pdf, slides.pdf (one slide per page) and slides-notes.pdf from a built report
    /// with headless Chromium (not committed: PDFs are build outputs).
    Pdf(PdfArgs),
}

#[cfg(feature = "serve")]
#[derive(Args)]
struct ServeArgs {
    /// Folder of the saved models.
    #[arg(long, default_value = "report/models")]
    models: PathBuf,
    /// Address to listen on (loopback by default; port 0 picks a free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// Largest request body in MiB; larger bodies get HTTP 413.
    #[arg(long, default_value_t = 16)]
    max_body_mb: usize,
    /// Settings file (TOML) whose column roles describe the inputs (default: the bundled schema).
    #[arg(long)]
    settings: Option<PathBuf>,
}

#[derive(Args)]
struct DriftArgs {
    /// The reference table (usually the training data).
    #[arg(long)]
    reference: PathBuf,
    /// The table to check (the spend column may be absent).
    #[arg(long)]
    current: PathBuf,
    /// Output folder for drift.json and drift.html.
    #[arg(long, default_value = "drift")]
    out: PathBuf,
    /// Settings file (TOML): column roles, drift.psi_bins and drift.psi_alarm.
    #[arg(long)]
    settings: Option<PathBuf>,
}

#[derive(Args)]
struct PdfArgs {
    /// Folder holding the built index.html and slides.html; the PDFs are written there.
    #[arg(long, default_value = pipeline::DEFAULT_OUT)]
    out: PathBuf,
}

#[derive(Args)]
struct ScoreArgs {
    /// Customer table to score (same columns as the training table; the spend column may be absent).
    #[arg(long)]
    input: PathBuf,
    /// Folder of the saved models.
    #[arg(long, default_value = "report/models")]
    models: PathBuf,
    /// Output CSV (default: INPUT.scores.csv beside the input).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Settings file (TOML) whose column roles describe the input (default: the bundled schema).
    #[arg(long)]
    settings: Option<PathBuf>,
}

#[derive(Args)]
struct BenchArgs {
    /// Synthetic table sizes (rows), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    sizes: Vec<usize>,
    /// Seed for the synthetic tables.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Processes per size: each stage's time is their median (the sizes take turns).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Bundled data file.
    #[arg(long, default_value = pipeline::DEFAULT_DATA)]
    data: PathBuf,
    /// Settings file (TOML).
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Instead of the table: time the streamed EDA aggregates of this CSV file (read in chunks)
    /// and print rows, seconds and peak memory.
    #[arg(long, value_name = "FILE")]
    stream_eda: Option<PathBuf>,
    /// Instead of the table: time whole streamed builds (two chunked reads, analyses on the
    /// shared sample) of these files, each in its own process, stage by stage with peak memory
    /// and the growth between the last two.
    #[arg(long, value_name = "FILES", value_delimiter = ',')]
    stream_build: Vec<PathBuf>,
    /// With --stream-build: rows per chunk.
    #[arg(long, default_value_t = customer_intel::stream::DEFAULT_CHUNK_ROWS)]
    stream_chunk_rows: usize,
    /// Internal: measure one streamed build in this process and print JSON.
    #[arg(long, hide = true)]
    stream_child: Option<PathBuf>,
    /// Instead of the table: the service's load benchmark (in-process server on a loopback port,
    /// fixed request counts and concurrency); prints a Markdown table.
    #[cfg(feature = "serve")]
    #[arg(long)]
    serve: bool,
    /// With --serve: single-customer requests.
    #[cfg(feature = "serve")]
    #[arg(long, default_value_t = 20000)]
    requests: usize,
    /// With --serve: 1,000-customer requests.
    #[cfg(feature = "serve")]
    #[arg(long, default_value_t = 200)]
    batch_requests: usize,
    /// With --serve: client connections.
    #[cfg(feature = "serve")]
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// With --serve: folder of the saved models.
    #[cfg(feature = "serve")]
    #[arg(long, default_value = "report/models")]
    models: PathBuf,
    /// Instead of the table: time whole `report build` processes against the Python peer
    /// script (benches/peer/peer.py) on --data, paired run by run, and print both medians and the
    /// ratio; skipped, with the reason, when no Python with its packages is found.
    #[arg(long)]
    peer: bool,
    /// With --peer: paired runs.
    #[arg(long, default_value_t = 5)]
    peer_runs: usize,
    /// With --peer: the Python interpreter (default: PEER_PYTHON, else target/peer-venv/bin/python
    /// if present, else python3).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Internal: measure one size (0 = the bundled data) and print JSON.
    #[arg(long, hide = true)]
    child: Option<usize>,
}

#[derive(Args, Clone)]
struct BuildArgs {
    /// Input table: CSV, or Parquet (by its .parquet name or PAR1 magic bytes).
    #[arg(long, default_value = pipeline::DEFAULT_DATA)]
    data: PathBuf,
    /// Output folder for findings.json, figures/, index.html and slides.html.
    #[arg(long)]
    out: Option<PathBuf>,
    /// README whose generated sections are refreshed (default: README.md, unless --out is given).
    #[arg(long)]
    readme: Option<PathBuf>,
    /// Folder of templates that override the built-in ones, file by file.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Settings file (TOML): seed, folds, column roles, thresholds.
    #[arg(long)]
    settings: Option<PathBuf>,
    /// MLflow tracking server (http://HOST:PORT) to record the build as a run; default: the
    /// MLFLOW_TRACKING_URI environment variable, else a local run log under .tracking/.
    #[arg(long, value_name = "URI")]
    tracking_uri: Option<String>,
    /// After building, print report.pdf and slides.pdf with headless Chromium (`report pdf`).
    #[arg(long)]
    pdf: bool,
    /// Stream the build in chunks (two reads, the table never held whole) when the input holds
    /// more rows than this (a Parquet footer's count, or a CSV's size over its mean line length).
    #[arg(long, default_value_t = customer_intel::stream::DEFAULT_STREAM_ABOVE_ROWS)]
    stream_above_rows: usize,
    /// Rows per chunk of a streamed build.
    #[arg(long, default_value_t = customer_intel::stream::DEFAULT_CHUNK_ROWS)]
    stream_chunk_rows: usize,
}

#[derive(Args)]
struct SynthArgs {
    /// Number of customers (at least 1).
    #[arg(long, default_value_t = 1000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    rows: usize,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Share of rows that duplicate another row except for the id (0..1).
    #[arg(long, default_value_t = 0.0)]
    duplicate_rate: f64,
    /// Output file.
    #[arg(long)]
    out: PathBuf,
    /// Output format: csv or parquet.
    #[arg(long, default_value = "csv", value_parser = ["csv", "parquet"])]
    format: String,
}

/// An error that maps to an exit code.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        None => build(cli.build),
        Some(Command::Build(a)) => build(a),
        Some(Command::Check(a)) => check(a),
        Some(Command::Validate(a)) => validate(a),
        Some(Command::Synth(a)) => synth(a),
        Some(Command::Bench(a)) => bench(a),
        Some(Command::Score(a)) => score(a),
        #[cfg(feature = "serve")]
        Some(Command::Serve(a)) => serve(a),
        Some(Command::Drift(a)) => drift(a),
        Some(Command::Pdf(a)) => pdf(&a.out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.error);
            for cause in f.error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(f.code)
        }
    }
}

fn bad_input(error: anyhow::Error) -> Failure {
    Failure { code: 2, error }
}

/// The context of a failed `report COMMAND` on `path`; when the library said that `path` does
/// not exist, it tells the user which option names it: the library does not know the flags.
fn failed(command: &str, path: &Path, missing: Option<&Path>, flag: &str) -> String {
    let mut s = format!("report {command} on '{}' failed", path.display());
    if missing == Some(path) {
        s.push_str(&format!("; pass an existing CSV file with {flag}"));
    }
    s
}

/// The path a pipeline error says does not exist, if that is what it says.
fn pipeline_missing(e: &PipelineError) -> Option<&Path> {
    match e {
        PipelineError::Data(DataError::NotFound { path }) => Some(path),
        _ => None,
    }
}

fn options(a: &BuildArgs) -> Result<BuildOptions, Failure> {
    let settings = match &a.settings {
        Some(p) => Settings::load(p).map_err(|e| bad_input(e.into()))?,
        None => Settings::default(),
    };
    let readme = match (&a.readme, &a.out) {
        (Some(r), _) => Some(r.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(PathBuf::from("README.md")),
    };
    Ok(BuildOptions {
        data: a.data.clone(),
        out_dir: a
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from(pipeline::DEFAULT_OUT)),
        readme,
        templates: a.templates.clone(),
        settings,
        tracking: Tracking::from_uri(a.tracking_uri.clone()),
        stamp: customer_intel::render::Stamp::from_env(),
        stream_above_rows: a.stream_above_rows,
        stream_chunk_rows: a.stream_chunk_rows,
    })
}

/// A spinner on stderr when it is a terminal; silent otherwise.
fn progress() -> impl FnMut(&str) {
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new_spinner();
        b.enable_steady_tick(Duration::from_millis(120));
        Some(b)
    } else {
        None
    };
    move |msg: &str| {
        if let Some(b) = &bar {
            b.set_message(msg.to_string());
        }
    }
}

fn build(a: BuildArgs) -> Result<(), Failure> {
    let opts = options(&a)?;
    let want_pdf = a.pdf;
    let summary = pipeline::build(&opts, &mut progress()).map_err(|e| {
        let context = failed("build", &opts.data, pipeline_missing(&e), "--data");
        bad_input(anyhow::Error::new(e).context(context))
    })?;
    println!(
        "analysed {} rows ({} distinct) from {}",
        summary.findings.dataset.rows,
        summary.findings.dataset.distinct_rows,
        opts.data.display()
    );
    println!(
        "wrote {} files under {}",
        summary.files.len(),
        opts.out_dir.display()
    );
    println!("findings: {}", opts.out_dir.join("findings.json").display());
    match summary.tracking {
        Ok(Some(run)) => println!("{run}"),
        Ok(None) => {}
        Err(e) => {
            return Err(Failure {
                code: 3,
                error: anyhow::Error::new(e)
                    .context("the report was written, but recording the run failed"),
            });
        }
    }
    if want_pdf {
        pdf(&opts.out_dir)?;
    }
    Ok(())
}

/// Exit code when the PDFs cannot be printed (the HTML outputs are unaffected).
const PDF_FAILED: u8 = 4;

fn pdf(out: &Path) -> Result<(), Failure> {
    let fail = |e: customer_intel::pdf::PdfError| Failure {
        code: match e {
            customer_intel::pdf::PdfError::MissingPage { .. } => 2,
            _ => PDF_FAILED,
        },
        error: anyhow::Error::new(e).context("cannot print the PDFs"),
    };
    let browser = customer_intel::pdf::find_browser().map_err(fail)?;
    for p in customer_intel::pdf::print_all(&browser, out).map_err(fail)? {
        println!("wrote {}", p.display());
    }
    Ok(())
}

fn check(a: BuildArgs) -> Result<(), Failure> {
    let opts = options(&a)?;
    let stale = pipeline::check(&opts, &mut progress()).map_err(|e| {
        let context = failed("check", &opts.data, pipeline_missing(&e), "--data");
        bad_input(anyhow::Error::new(e).context(context))
    })?;
    if stale.is_empty() {
        println!("all generated outputs are up to date");
        return Ok(());
    }
    let list: Vec<String> = stale.iter().map(|p| format!("  {}", p.display())).collect();
    Err(Failure {
        code: 1,
        error: anyhow::anyhow!(
            "{} generated file(s) are stale; run `report build` and commit:\n{}",
            stale.len(),
            list.join("\n")
        ),
    })
}

fn synth(a: SynthArgs) -> Result<(), Failure> {
    if !(0.0..1.0).contains(&a.duplicate_rate) {
        return Err(bad_input(anyhow::anyhow!(
            "--duplicate-rate must be in [0, 1), got {}",
            a.duplicate_rate
        )));
    }
    let spec = SynthSpec {
        duplicate_rate: a.duplicate_rate,
        ..SynthSpec::default()
    };
    // Drawn and written a block of rows at a time: ten or a hundred million rows never sit in
    // memory (up to one block the table is data::synth's).
    let written = data::write_synth_streamed(
        a.rows,
        a.seed,
        &spec,
        &customer_intel::settings::Roles::default(),
        &a.out,
        a.format == "parquet",
    );
    written
        .with_context(|| format!("cannot write '{}'", a.out.display()))
        .map_err(bad_input)?;
    println!(
        "wrote {} synthetic customers to {}",
        a.rows,
        a.out.display()
    );
    Ok(())
}

fn bench(a: BenchArgs) -> Result<(), Failure> {
    let settings = match &a.settings {
        Some(p) => Settings::load(p).map_err(|e| bad_input(e.into()))?,
        None => Settings::default(),
    };
    #[cfg(feature = "serve")]
    if a.serve {
        let r = customer_intel::serve::bench::run(
            &a.models,
            &a.data,
            &settings,
            a.requests,
            a.batch_requests,
            a.concurrency,
        )
        .map_err(|e| bad_input(anyhow::anyhow!(e)))?;
        print!("{}", customer_intel::serve::bench::format_markdown(&r));
        return Ok(());
    }
    if a.peer {
        let exe = std::env::current_exe().map_err(|e| bad_input(e.into()))?;
        let opts = customer_intel::bench_peer::PeerOptions {
            report: exe,
            data: a.data.clone(),
            script: PathBuf::from(customer_intel::bench_peer::PEER_SCRIPT),
            python: a.python.clone(),
            runs: a.peer_runs,
            scratch: bench::scratch_dir().join("peer"),
        };
        let outcome =
            customer_intel::bench_peer::run(&opts).map_err(|e| bad_input(anyhow::anyhow!(e)))?;
        print!("{}", customer_intel::bench_peer::format(&outcome));
        return Ok(());
    }
    if let Some(file) = &a.stream_child {
        let r = customer_intel::bench_stream::measure(file, &settings, a.stream_chunk_rows)
            .map_err(|e| bad_input(anyhow::anyhow!(e)))?;
        println!(
            "{}",
            serde_json::to_string(&r).map_err(|e| bad_input(e.into()))?
        );
        return Ok(());
    }
    if !a.stream_build.is_empty() {
        let exe = std::env::current_exe().map_err(|e| bad_input(e.into()))?;
        let mut extra = vec![
            "--stream-chunk-rows".to_string(),
            a.stream_chunk_rows.to_string(),
        ];
        if let Some(p) = &a.settings {
            extra.extend(["--settings".to_string(), p.display().to_string()]);
        }
        let results = customer_intel::bench_stream::run(&exe, &a.stream_build, &extra)
            .map_err(|e| bad_input(anyhow::anyhow!(e)))?;
        print!("{}", bench::format_table(&results));
        return Ok(());
    }
    if let Some(file) = &a.stream_eda {
        let line = bench::stream_eda(file, &settings).map_err(|e| bad_input(anyhow::anyhow!(e)))?;
        println!("{line}");
        return Ok(());
    }
    if let Some(size) = a.child {
        let json = bench::child(size, a.seed, &a.data, &settings)
            .map_err(|e| bad_input(anyhow::anyhow!(e)))?;
        println!("{json}");
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| bad_input(e.into()))?;
    let mut extra = vec!["--data".to_string(), a.data.display().to_string()];
    if let Some(p) = &a.settings {
        extra.extend(["--settings".to_string(), p.display().to_string()]);
    }
    let results = bench::run(&exe, &a.sizes, a.seed, a.repeats, &extra)
        .map_err(|e| bad_input(anyhow::anyhow!(e)))?;
    print!("{}", bench::format_table(&results));
    Ok(())
}

fn validate(a: BuildArgs) -> Result<(), Failure> {
    let opts = options(&a)?;
    let p = pipeline::validate(&opts).map_err(|e| {
        let context = failed("validate", &opts.data, pipeline_missing(&e), "--data");
        bad_input(anyhow::Error::new(e).context(context))
    })?;
    println!(
        "{} is valid: {} rows, {} distinct ignoring the id, largest duplicate group {}",
        opts.data.display(),
        p.rows,
        p.distinct_rows,
        p.largest_group
    );
    for (level, n) in &p.category_counts {
        println!("  {level}: {n} rows");
    }
    if let Some(reason) = customer_intel::stream::stream_reason(&opts) {
        println!(
            "read in chunks of {} rows: {reason}",
            opts.stream_chunk_rows
        );
    }
    Ok(())
}

fn score(a: ScoreArgs) -> Result<(), Failure> {
    let settings = match &a.settings {
        Some(p) => Settings::load(p).map_err(|e| bad_input(e.into()))?,
        None => Settings::default(),
    };
    let opts = customer_intel::score::ScoreOptions {
        out: a
            .out
            .clone()
            .unwrap_or_else(|| customer_intel::score::default_output(&a.input)),
        input: a.input,
        models: a.models,
        settings,
    };
    let s = customer_intel::score::score(&opts).map_err(|e| {
        let missing = match &e {
            ScoreError::Data(DataError::NotFound { path }) => Some(path.as_path()),
            _ => None,
        };
        let context = failed("score", &opts.input, missing, "--input");
        bad_input(anyhow::Error::new(e).context(context))
    })?;
    println!(
        "scored {} customers from {} ({} flagged with growth potential{})",
        s.rows,
        opts.input.display(),
        s.flagged,
        if s.had_target {
            ""
        } else {
            "; no spend column, so personas use the predicted spend"
        }
    );
    println!("wrote {}", s.out.display());
    for line in s.drift.summary_lines() {
        println!("{line}");
    }
    for w in &s.drift.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

fn load_settings(path: &Option<PathBuf>) -> Result<Settings, Failure> {
    match path {
        Some(p) => Settings::load(p).map_err(|e| bad_input(e.into())),
        None => Ok(Settings::default()),
    }
}

#[cfg(feature = "serve")]
fn serve(a: ServeArgs) -> Result<(), Failure> {
    use std::io::Write;
    let opts = customer_intel::serve::ServeOptions {
        models: a.models,
        addr: a.addr,
        body_limit: a.max_body_mb.saturating_mul(1 << 20),
        settings: load_settings(&a.settings)?,
    };
    customer_intel::serve::run(&opts, |addr| {
        println!("serving the models of {} on http://{addr}/ (dashboard at /, API under /v1; Ctrl-C to stop)", opts.models.display());
        let _ = std::io::stdout().flush();
    })
    .map_err(|e| bad_input(anyhow::Error::new(e).context("report serve failed")))?;
    println!("stopped");
    Ok(())
}

fn drift(a: DriftArgs) -> Result<(), Failure> {
    let settings = load_settings(&a.settings)?;
    let (report, files) =
        customer_intel::drift::between_files(&a.reference, &a.current, &settings, &a.out).map_err(
            |e| {
                bad_input(anyhow::Error::new(e).context(format!(
                    "report drift of '{}' against '{}' failed",
                    a.current.display(),
                    a.reference.display()
                )))
            },
        )?;
    for line in report.summary_lines() {
        println!("{line}");
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}
